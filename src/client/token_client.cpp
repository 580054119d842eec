#include "client/token_client.hpp"

#include "common/files.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "auth/client_registry.hpp"
#include "common/ids.hpp"

namespace norreg::client {
namespace json = boost::json;

namespace {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

// The file cache: {"<key>":{"token":"..","exp":123},...}. A missing or unreadable file is an
// empty cache (it is only a cache); malformed entries are skipped.
json::object ReadCacheFile(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text.ok()) return {};
  json::error_code ec;
  json::value value = json::parse(*text, ec);
  if (ec || !value.is_object()) return {};
  return std::move(value.as_object());
}

std::optional<std::pair<std::string, int64_t>> CacheEntry(const json::object& cache,
                                                          std::string_view key) {
  auto it = cache.find(key);
  if (it == cache.end() || !it->value().is_object()) return std::nullopt;
  const json::object& entry = it->value().as_object();
  const json::value* token = entry.if_contains("token");
  const json::value* exp = entry.if_contains("exp");
  if (token == nullptr || !token->is_string() || exp == nullptr || !exp->is_int64()) {
    return std::nullopt;
  }
  return std::make_pair(std::string(token->as_string()), exp->as_int64());
}

// Drops expired and malformed entries.
void PruneCache(json::object& cache, int64_t now) {
  for (auto it = cache.begin(); it != cache.end();) {
    if (!CacheEntry(cache, it->key()) || CacheEntry(cache, it->key())->second <= now) {
      it = cache.erase(it);
    } else {
      ++it;
    }
  }
}

std::string ErrorTextOf(const json::object& answer) {
  std::string text;
  if (const json::value* e = answer.if_contains("error"); e != nullptr && e->is_string()) {
    text = std::string(e->as_string());
  }
  if (const json::value* d = answer.if_contains("error_description");
      d != nullptr && d->is_string() && !d->as_string().empty()) {
    if (!text.empty()) text += ": ";
    text += std::string(d->as_string());
  }
  return text;
}

}  // namespace

std::optional<std::string> NormalizeOrg(std::string_view org) {
  if (org.starts_with("0192:")) org.remove_prefix(5);
  if (!ids::ValidOrgnr(org)) return std::nullopt;
  return std::string(org);
}

TokenClient::TokenClient(TokenClientOptions options) : options_(std::move(options)) {
  if (options_.token_endpoint.empty() && !options_.issuer.empty()) {
    options_.token_endpoint = options_.issuer + "token";
  }
  if (options_.key) {
    key_thumbprint_ = options_.key->Thumbprint();
    if (options_.kid.empty()) options_.kid = key_thumbprint_;
  }
}

TokenClient::~TokenClient() = default;

uint64_t TokenClient::requests_made() const {
  std::lock_guard lock(cache_mutex_);
  return requests_made_;
}

std::string TokenClient::CacheKey(std::string_view scope, std::string_view consumer_org) const {
  std::string material;
  material.reserve(options_.token_endpoint.size() + options_.client_id.size() + 128);
  material.append(options_.token_endpoint).append("|").append(options_.client_id).append("|");
  material.append(key_thumbprint_).append("|").append(scope).append("|").append(consumer_org);
  return Sha256Hex(material);
}

std::optional<TokenClient::Cached> TokenClient::FromMemory(const std::string& key,
                                                           int64_t now) const {
  std::lock_guard lock(cache_mutex_);
  auto it = memory_.find(key);
  if (it == memory_.end() || it->second.exp - now <= options_.refresh_margin.count()) {
    return std::nullopt;
  }
  return it->second;
}

Result<std::string> TokenClient::Token(std::string_view scope, std::string_view consumer_org) {
  if (scope.empty()) return MakeError(ErrorCode::kInvalidInput, "token request needs a scope");
  if (options_.issuer.empty() || options_.client_id.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "token client needs an issuer and a client_id");
  }
  if (!options_.key || !options_.key->has_private()) {
    return MakeError(ErrorCode::kInvalidInput, "token client needs the client's private key");
  }
  if (consumer_org.empty()) consumer_org = options_.consumer_org;
  std::string org;
  if (!consumer_org.empty()) {
    auto normalized = NormalizeOrg(consumer_org);
    if (!normalized) {
      return MakeError(ErrorCode::kInvalidInput,
                       "invalid consumer_org '" + std::string(consumer_org) +
                           "' (expected 0192:<orgnr> or a 9-digit orgnr)");
    }
    org = std::move(*normalized);
  }

  const std::string key = CacheKey(scope, org);
  if (auto cached = FromMemory(key, NowSeconds())) return std::move(cached->token);

  std::lock_guard fetch_lock(fetch_mutex_);
  // Another thread may have fetched it while this one waited.
  int64_t now = NowSeconds();
  if (auto cached = FromMemory(key, now)) return std::move(cached->token);
  if (!options_.cache_file.empty()) {
    json::object file = ReadCacheFile(options_.cache_file);
    if (auto entry = CacheEntry(file, key);
        entry && entry->second - now > options_.refresh_margin.count()) {
      std::lock_guard lock(cache_mutex_);
      memory_[key] = Cached{entry->first, entry->second};
      return std::move(entry->first);
    }
  }

  auto fetched = Fetch(scope, org);
  if (!fetched.ok()) return fetched.error();
  {
    std::lock_guard lock(cache_mutex_);
    memory_[key] = *fetched;
  }
  if (!options_.cache_file.empty()) {
    json::object file = ReadCacheFile(options_.cache_file);
    PruneCache(file, NowSeconds());
    file[key] = json::object{{"token", fetched->token}, {"exp", fetched->exp}};
    if (Status s = WriteFileAtomically(options_.cache_file, json::serialize(file), 0600); !s.ok()) {
      // Only a cache: the token is still good.
      spdlog::warn("token cache not written: {}", s.error().detail);
    }
  }
  return std::move(fetched->token);
}

void TokenClient::Invalidate(std::string_view scope, std::string_view consumer_org) {
  if (consumer_org.empty()) consumer_org = options_.consumer_org;
  std::string org(consumer_org);
  if (auto normalized = NormalizeOrg(consumer_org)) org = std::move(*normalized);
  const std::string key = CacheKey(scope, org);
  std::lock_guard fetch_lock(fetch_mutex_);
  {
    std::lock_guard lock(cache_mutex_);
    memory_.erase(key);
  }
  if (options_.cache_file.empty()) return;
  json::object file = ReadCacheFile(options_.cache_file);
  if (file.erase(key) == 0) return;
  PruneCache(file, NowSeconds());
  if (Status s = WriteFileAtomically(options_.cache_file, json::serialize(file), 0600); !s.ok()) {
    spdlog::warn("token cache not written: {}", s.error().detail);
  }
}

Result<std::string> MakeGrantForm(const TokenClientOptions& options, std::string_view scope,
                                  std::string_view consumer_org, int64_t iat) {
  if (!options.key) return MakeError(ErrorCode::kInvalidInput, "no client key");
  json::object claims;
  claims["aud"] = options.issuer;
  claims["iss"] = options.client_id;
  claims["scope"] = scope;
  claims["iat"] = iat;
  claims["exp"] = iat + options.assertion_lifetime.count();
  claims["jti"] = ids::NewUuid();
  if (!consumer_org.empty()) claims["consumer_org"] = consumer_org;
  auto assertion =
      auth::SignJwt(*options.key, auth::JwsAlg::kRs256, options.kid, json::serialize(claims));
  if (!assertion.ok()) return assertion.error();
  std::string form = "grant_type=";
  form += FormUrlEncode(kJwtBearerGrantType);
  form += "&assertion=";
  form += FormUrlEncode(*assertion);
  return form;
}

// Called with fetch_mutex_ held.
Result<TokenClient::Cached> TokenClient::Fetch(std::string_view scope,
                                               std::string_view consumer_org) {
  const int64_t iat = NowSeconds();
  auto form = MakeGrantForm(options_, scope, consumer_org, iat);
  if (!form.ok()) return form.error();

  if (!http_) http_ = std::make_unique<HttpClient>(options_.http);
  {
    std::lock_guard lock(cache_mutex_);
    ++requests_made_;
  }
  auto response = http_->Post(options_.token_endpoint, *form, "application/x-www-form-urlencoded",
                              {{"Accept", "application/json"}});
  if (!response.ok()) return response.error();

  json::error_code ec;
  json::value parsed = json::parse(response->body, ec);
  const json::object* answer = (!ec && parsed.is_object()) ? &parsed.as_object() : nullptr;
  const std::string where = "token endpoint " + options_.token_endpoint;
  if (response->status != 200) {
    std::string text = answer != nullptr ? ErrorTextOf(*answer) : std::string();
    if (text.empty()) text = "HTTP " + std::to_string(response->status);
    if (response->status == 400 || response->status == 401) {
      return MakeError(ErrorCode::kUnauthenticated, where + " refused the grant: " + text);
    }
    if (response->status == 429) {
      return MakeError(ErrorCode::kRateLimited, where + " is rate limiting: " + text);
    }
    return MakeError(ErrorCode::kInternal,
                     where + " answered HTTP " + std::to_string(response->status) + ": " + text);
  }
  if (answer == nullptr) {
    return MakeError(ErrorCode::kInternal, where + " answered 200 without a JSON object");
  }
  const json::value* token = answer->if_contains("access_token");
  const json::value* expires_in = answer->if_contains("expires_in");
  if (token == nullptr || !token->is_string() || token->as_string().empty()) {
    return MakeError(ErrorCode::kInternal, where + " answered without access_token");
  }
  int64_t lifetime = 0;
  if (expires_in != nullptr && expires_in->is_int64()) {
    lifetime = expires_in->as_int64();
  } else if (expires_in != nullptr && expires_in->is_uint64()) {
    lifetime = static_cast<int64_t>(std::min<uint64_t>(expires_in->as_uint64(), 1u << 30));
  } else {
    return MakeError(ErrorCode::kInternal, where + " answered without a numeric expires_in");
  }
  if (lifetime <= 0) return MakeError(ErrorCode::kInternal, where + " answered expires_in <= 0");
  // The token's lifetime counts from when it was asked for: never later than the server's view.
  return Cached{std::string(token->as_string()), iat + lifetime};
}

Result<TokenClientOptions> DemoTokenClientOptions(const std::string& data_dir,
                                                  std::string_view scope, std::string_view org,
                                                  std::string_view url) {
  if (scope.empty()) return MakeError(ErrorCode::kInvalidInput, "a scope is required");
  std::optional<std::string> orgnr;
  if (!org.empty()) {
    orgnr = NormalizeOrg(org);
    if (!orgnr) {
      return MakeError(
          ErrorCode::kInvalidInput,
          "invalid org '" + std::string(org) + "' (expected 0192:<orgnr> or a 9-digit orgnr)");
    }
  }
  const std::string auth_dir = data_dir + "/auth";
  TokenClientOptions options;
  if (!url.empty()) {
    options.issuer = std::string(url);
    if (!options.issuer.ends_with('/')) options.issuer += '/';
    options.token_endpoint = options.issuer + "token";
  } else {
    const std::string path = auth_dir + "/server.json";
    auto text = ReadWholeFile(path);
    if (!text.ok()) {
      return MakeError(ErrorCode::kNotFound,
                       path +
                           " not found: start `norreg serve` with this data folder or give the "
                           "server URL (--url)");
    }
    json::error_code ec;
    json::value value = json::parse(*text, ec);
    const json::object* object = (!ec && value.is_object()) ? &value.as_object() : nullptr;
    const json::value* issuer = object ? object->if_contains("issuer") : nullptr;
    const json::value* endpoint = object ? object->if_contains("token_endpoint") : nullptr;
    if (issuer == nullptr || !issuer->is_string() || issuer->as_string().empty()) {
      return MakeError(ErrorCode::kInvalidInput, path + " has no \"issuer\"");
    }
    options.issuer = std::string(issuer->as_string());
    if (endpoint != nullptr && endpoint->is_string() && !endpoint->as_string().empty()) {
      options.token_endpoint = std::string(endpoint->as_string());
    } else {
      options.token_endpoint = options.issuer + "token";
    }
  }

  auto registry = auth::ClientRegistry::Load(auth_dir);
  if (!registry.ok()) {
    Error error = registry.error();
    if (error.code == ErrorCode::kNotFound) {
      error.message = "no demo clients in " + auth_dir + " (" + error.message + ")";
    }
    return error;
  }
  const auth::RegisteredClient* chosen = nullptr;
  for (const auto& client : registry->clients()) {
    if (!client.AllowsScope(scope)) continue;
    if (!orgnr || client.orgnr == *orgnr) {
      chosen = &client;
      break;
    }
  }
  if (chosen == nullptr && orgnr) {
    for (const auto& client : registry->clients()) {
      if (!client.AllowsScope(scope)) continue;
      for (const std::string& consumer : client.consumer_orgs) {
        std::string normalized = NormalizeOrg(consumer).value_or(consumer);
        if (normalized == *orgnr) {
          chosen = &client;
          options.consumer_org = *orgnr;
          break;
        }
      }
      if (chosen != nullptr) break;
    }
  }
  if (chosen == nullptr) {
    std::string known;
    for (const auto& client : registry->clients()) {
      if (!known.empty()) known += "; ";
      known += client.client_id + " (0192:" + client.orgnr + ": ";
      for (size_t i = 0; i < client.scopes.size(); ++i) {
        known += (i ? " " : "") + client.scopes[i];
      }
      known += ")";
    }
    std::string message = "no demo client";
    if (orgnr) message += " for org 0192:" + *orgnr;
    message += " with scope " + std::string(scope) + "; known: " + (known.empty() ? "none" : known);
    return MakeError(ErrorCode::kNotFound, std::move(message));
  }

  auto key = auth::LoadClientPrivateKey(auth_dir, chosen->client_id);
  if (!key.ok()) return key.error();
  options.client_id = chosen->client_id;
  // The registered kid of this key (the registry may list several keys).
  for (const auto& registered : chosen->keys) {
    if (registered.key.SamePublicKey(*key)) {
      options.kid = registered.kid;
      break;
    }
  }
  if (options.kid.empty() && !chosen->keys.empty()) options.kid = chosen->keys.front().kid;
  options.key = std::move(*key);
  options.cache_file = auth_dir + "/token-cache.json";
  return options;
}

}  // namespace norreg::client
