#include "auth/jwks.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <sstream>

namespace norreg::auth {
namespace {

namespace json = boost::json;

using KeyMap = std::map<std::string, std::shared_ptr<const RsaKey>, std::less<>>;

Error BadJwks(std::string detail) {
  return MakeError(ErrorCode::kInvalidInput, "Ugyldig JWKS.", std::move(detail));
}

std::string_view StringMember(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return {};
  return std::string_view(v->get_string());
}

}  // namespace

Result<std::vector<std::pair<std::string, RsaKey>>> ParseJwks(std::string_view text) {
  try {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 16;
    json::value doc = json::parse(text, ec, {}, opts);
    if (ec) return BadJwks("JWKS is not JSON: " + ec.message());
    if (!doc.is_object()) return BadJwks("JWKS is not a JSON object");
    const json::value* keys = doc.get_object().if_contains("keys");
    if (keys == nullptr || !keys->is_array()) return BadJwks("JWKS has no \"keys\" array");
    std::vector<std::pair<std::string, RsaKey>> out;
    out.reserve(keys->get_array().size());
    for (const json::value& k : keys->get_array()) {
      if (!k.is_object()) continue;
      const json::object& jwk = k.get_object();
      if (StringMember(jwk, "kty") != "RSA") continue;
      if (const json::value* use = jwk.if_contains("use");
          use != nullptr && !(use->is_string() && use->get_string() == "sig")) {
        continue;
      }
      // A key pinned to another algorithm (e.g. RSA-OAEP, PS256) is not ours to verify with.
      if (const json::value* alg = jwk.if_contains("alg");
          alg != nullptr && !(alg->is_string() && ParseAlg(std::string_view(alg->get_string())))) {
        continue;
      }
      const json::value* kid = jwk.if_contains("kid");
      if (kid != nullptr && !kid->is_string()) continue;
      auto key = RsaKey::FromJwk(StringMember(jwk, "n"), StringMember(jwk, "e"));
      if (!key) continue;
      out.emplace_back(kid != nullptr ? std::string(kid->get_string()) : std::string(),
                       std::move(key.value()));
    }
    return out;
  } catch (const std::exception& e) {
    return BadJwks(std::string("JWKS parse failed: ") + e.what());
  }
}

struct JwksCache::Impl {
  JwksFetcher fetch;
  std::chrono::milliseconds min_refresh_interval;
  std::chrono::milliseconds max_age;

  // Readers copy the snapshot pointer under a short lock (a refcount increment); the map itself
  // is immutable once published.
  mutable std::mutex snapshot_mu;
  std::shared_ptr<const KeyMap> snapshot = std::make_shared<const KeyMap>();

  // One refresher at a time; also guards the rate-limit state.
  std::mutex refresh_mu;
  bool attempted = false;
  std::chrono::steady_clock::time_point last_attempt;
  // When the published keys were fetched (a failed refresh keeps both).
  std::atomic<std::chrono::steady_clock::rep> loaded_at{0};

  bool Stale() const {
    const auto loaded = std::chrono::steady_clock::time_point(
        std::chrono::steady_clock::duration(loaded_at.load()));
    return std::chrono::steady_clock::now() - loaded > max_age;
  }
  // Requires refresh_mu.
  bool MayAttempt() const {
    return !attempted || std::chrono::steady_clock::now() - last_attempt >= min_refresh_interval;
  }

  std::shared_ptr<const KeyMap> Load() const {
    std::lock_guard lock(snapshot_mu);
    return snapshot;
  }

  // Requires refresh_mu.
  Status RefreshLocked() {
    attempted = true;
    last_attempt = std::chrono::steady_clock::now();
    Result<std::string> text = fetch
                                   ? fetch()
                                   : Result<std::string>(MakeError(
                                         ErrorCode::kInternal, "Intern feil.", "no JWKS fetcher"));
    if (!text) return text.error();
    auto keys = ParseJwks(*text);
    if (!keys) return keys.error();
    auto map = std::make_shared<KeyMap>();
    for (auto& [kid, key] : *keys) {
      // The first key with a kid wins; a later duplicate is ignored.
      map->try_emplace(kid, std::make_shared<const RsaKey>(std::move(key)));
    }
    std::shared_ptr<const KeyMap> published = std::move(map);
    std::lock_guard lock(snapshot_mu);
    snapshot.swap(published);
    loaded_at = last_attempt.time_since_epoch().count();
    return Status::Ok();
  }
};

JwksCache::JwksCache(JwksFetcher fetch, std::chrono::milliseconds min_refresh_interval,
                     std::chrono::milliseconds max_age)
    : impl_(std::make_shared<Impl>()) {
  impl_->fetch = std::move(fetch);
  impl_->min_refresh_interval = min_refresh_interval;
  impl_->max_age = max_age;
}

JwksFetcher JwksCache::FileFetcher(std::string path) {
  return [path = std::move(path)]() -> Result<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return MakeError(ErrorCode::kInternal, "Intern feil.",
                       "cannot open JWKS file " + path + ": " + std::strerror(errno));
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
      return MakeError(ErrorCode::kInternal, "Intern feil.", "cannot read JWKS file " + path);
    }
    return std::move(ss).str();
  };
}

std::shared_ptr<const RsaKey> JwksCache::Find(std::string_view kid) {
  {
    auto snap = impl_->Load();
    if (auto it = snap->find(kid); it != snap->end()) {
      if (!impl_->Stale()) return it->second;
      // Known but old: one caller refreshes, the others go on with what they have. A failed
      // refresh keeps the keys (and is tried again after the interval).
      std::unique_lock lock(impl_->refresh_mu, std::try_to_lock);
      if (!lock.owns_lock()) return it->second;
      if (impl_->Stale() && impl_->MayAttempt()) (void)impl_->RefreshLocked();
      snap = impl_->Load();
      it = snap->find(kid);
      return it == snap->end() ? nullptr : it->second;  // withdrawn by the issuer: unknown now
    }
  }
  std::lock_guard lock(impl_->refresh_mu);
  // Another thread may have refreshed while this one waited.
  {
    auto snap = impl_->Load();
    if (auto it = snap->find(kid); it != snap->end()) return it->second;
  }
  if (!impl_->MayAttempt()) return nullptr;
  // A failed refresh keeps the previous keys; the lookup below then simply misses.
  (void)impl_->RefreshLocked();
  auto snap = impl_->Load();
  if (auto it = snap->find(kid); it != snap->end()) return it->second;
  return nullptr;
}

Status JwksCache::Refresh() {
  std::lock_guard lock(impl_->refresh_mu);
  return impl_->RefreshLocked();
}

std::size_t JwksCache::key_count() const { return impl_->Load()->size(); }

}  // namespace norreg::auth
