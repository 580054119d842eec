#include "auth/token_validator.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

#include "common/ids.hpp"

namespace norreg::auth {
namespace {

namespace json = boost::json;

constexpr std::string_view kUnauthenticatedMessage = "Ugyldig eller manglende tilgangstoken.";
constexpr std::string_view kOrgAuthority = "iso6523-actorid-upis";
constexpr std::string_view kOrgPrefix = "0192:";
constexpr std::size_t kShards = 16;
// Claim values quoted into log details are cut to this length (they come from the token).
constexpr std::size_t kMaxQuoted = 128;

using TokenDigest = std::array<unsigned char, 32>;

struct DigestHash {
  std::size_t operator()(const TokenDigest& d) const {
    std::size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
  }
};

struct CacheEntry {
  std::shared_ptr<const Principal> principal;
  int64_t exp = 0;
};

struct Shard {
  std::mutex mu;
  std::unordered_map<TokenDigest, CacheEntry, DigestHash> map;
};

Error Unauthenticated(std::string detail) {
  return MakeError(ErrorCode::kUnauthenticated, std::string(kUnauthenticatedMessage),
                   std::move(detail));
}

std::string Quote(std::string_view s) {
  return std::string(s.substr(0, kMaxQuoted)) + (s.size() > kMaxQuoted ? "..." : "");
}

// SHA-256 of the token. The context is reused per thread so the cached path does not allocate
// an EVP_MD_CTX per call; the digest implementation is fetched once.
bool Sha256(std::string_view data, TokenDigest& out) {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  struct CtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  unsigned int len = 0;
  if (kSha256 == nullptr || !ctx || EVP_DigestInit_ex2(ctx.get(), kSha256, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1 || len != out.size()) {
    ERR_clear_error();
    return false;
  }
  return true;
}

// A NumericDate (RFC 7519 §2): integer or fractional seconds; nullopt when not a number or out of
// the int64 range. Fractions are truncated towards minus infinity.
std::optional<int64_t> NumericDate(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = std::floor(v.get_double());
    if (!std::isfinite(d) || d < -9.2e18 || d > 9.2e18) return std::nullopt;
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

// Reads an optional string claim: nullopt-like error when present and not a string.
bool OptionalString(const json::object& claims, std::string_view name, std::string& out) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return true;
  if (!v->is_string()) return false;
  out = std::string_view(v->get_string());
  return true;
}

// {"authority":"iso6523-actorid-upis","ID":"0192:<orgnr>"} -> orgnr; "" with `why` set when not.
std::string OrgClaim(const json::value& v, std::string_view name, std::string& why) {
  if (!v.is_object()) {
    why = std::string(name) + " is not an object";
    return {};
  }
  const json::object& o = v.get_object();
  const json::value* authority = o.if_contains("authority");
  if (authority == nullptr || !authority->is_string() ||
      std::string_view(authority->get_string()) != kOrgAuthority) {
    why = std::string(name) + ".authority is not " + std::string(kOrgAuthority);
    return {};
  }
  const json::value* id = o.if_contains("ID");
  if (id == nullptr || !id->is_string()) {
    why = std::string(name) + ".ID missing";
    return {};
  }
  const std::string_view text(id->get_string());
  if (text.substr(0, kOrgPrefix.size()) != kOrgPrefix ||
      !ids::ValidOrgnr(text.substr(kOrgPrefix.size()))) {
    why = std::string(name) + ".ID " + Quote(text) + " is not 0192:<valid orgnr>";
    return {};
  }
  return std::string(text.substr(kOrgPrefix.size()));
}

}  // namespace

struct TokenValidator::Impl {
  ValidatorOptions options;
  std::size_t per_shard = 1;

  mutable std::shared_mutex issuers_mu;
  std::vector<std::pair<std::string, std::shared_ptr<JwksCache>>> issuers;

  mutable std::array<Shard, kShards> shards;

  static std::size_t ShardOf(const TokenDigest& d) { return d[31] % kShards; }

  std::shared_ptr<JwksCache> FindIssuer(std::string_view iss) const {
    std::shared_lock lock(issuers_mu);
    for (const auto& [name, keys] : issuers) {
      if (name == iss) return keys;
    }
    return nullptr;
  }

  // The cached principal when the token was verified before and has not expired.
  std::shared_ptr<const Principal> Lookup(const TokenDigest& d, int64_t now) const {
    Shard& shard = shards[ShardOf(d)];
    std::lock_guard lock(shard.mu);
    auto it = shard.map.find(d);
    if (it == shard.map.end()) return nullptr;
    if (it->second.exp < now - options.leeway.count()) {
      shard.map.erase(it);
      return nullptr;
    }
    return it->second.principal;
  }

  void Insert(const TokenDigest& d, std::shared_ptr<const Principal> principal, int64_t now) const {
    if (options.cache_entries == 0) return;
    Shard& shard = shards[ShardOf(d)];
    std::lock_guard lock(shard.mu);
    if (shard.map.size() >= per_shard && shard.map.find(d) == shard.map.end()) Evict(shard, now);
    const int64_t exp = principal->exp;
    shard.map.insert_or_assign(d, CacheEntry{std::move(principal), exp});
  }

  // Drops the expired entries and, when that is not enough, the eighth of the shard that expires
  // first: one O(n) pass buys room for n/8 inserts.
  void Evict(Shard& shard, int64_t now) const {
    const int64_t horizon = now - options.leeway.count();
    std::erase_if(shard.map, [&](const auto& kv) { return kv.second.exp < horizon; });
    if (shard.map.size() < per_shard) return;
    std::vector<int64_t> exps;
    exps.reserve(shard.map.size());
    for (const auto& kv : shard.map) exps.push_back(kv.second.exp);
    const std::size_t drop = std::max<std::size_t>(1, exps.size() / 8);
    std::nth_element(exps.begin(), exps.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                     exps.end());
    const int64_t cutoff = exps[drop - 1];
    std::erase_if(shard.map, [&](const auto& kv) { return kv.second.exp <= cutoff; });
  }

  Result<std::shared_ptr<const Principal>> Verify(std::string_view token, int64_t now) const;
};

Result<std::shared_ptr<const Principal>> TokenValidator::Impl::Verify(std::string_view token,
                                                                      int64_t now) const {
  auto parsed = ParseJwt(token);
  if (!parsed) return Unauthenticated(parsed.error().detail);

  std::array<unsigned char, 4096> buffer;
  json::monotonic_resource mr(buffer.data(), buffer.size());
  json::parse_options opts;
  opts.max_depth = 16;
  boost::system::error_code ec;
  json::value doc = json::parse(parsed->payload_json, ec, &mr, opts);
  if (ec || !doc.is_object()) return Unauthenticated("payload is not a JSON object");
  const json::object& claims = doc.get_object();

  auto principal = std::make_shared<Principal>();
  const json::value* iss = claims.if_contains("iss");
  if (iss == nullptr || !iss->is_string()) return Unauthenticated("iss missing");
  principal->issuer = std::string_view(iss->get_string());
  std::shared_ptr<JwksCache> keys = FindIssuer(principal->issuer);
  if (!keys) return Unauthenticated("unknown issuer " + Quote(principal->issuer));

  if (parsed->kid.empty()) return Unauthenticated("kid missing for issuer " + principal->issuer);
  std::shared_ptr<const RsaKey> key = keys->Find(parsed->kid);
  if (!key) {
    return Unauthenticated("unknown kid " + Quote(parsed->kid) + " for issuer " +
                           principal->issuer);
  }
  if (!VerifySignature(*key, parsed->alg, parsed->signing_input, parsed->signature)) {
    return Unauthenticated("signature does not verify (" + std::string(AlgName(parsed->alg)) +
                           ", kid " + parsed->kid + ", issuer " + principal->issuer + ")");
  }

  // The signature holds: from here on the claims are the issuer's word, checked for shape.
  const int64_t leeway = options.leeway.count();
  const json::value* exp = claims.if_contains("exp");
  if (exp == nullptr) return Unauthenticated("exp missing");
  auto exp_value = NumericDate(*exp);
  if (!exp_value) return Unauthenticated("exp is not a NumericDate");
  if (*exp_value < now - leeway) {
    return Unauthenticated("exp passed (exp " + std::to_string(*exp_value) + ", now " +
                           std::to_string(now) + ")");
  }
  principal->exp = *exp_value;
  if (const json::value* iat = claims.if_contains("iat")) {
    auto iat_value = NumericDate(*iat);
    if (!iat_value) return Unauthenticated("iat is not a NumericDate");
    if (*iat_value > now + leeway) {
      return Unauthenticated("iat in the future (iat " + std::to_string(*iat_value) + ", now " +
                             std::to_string(now) + ")");
    }
  }

  std::string why;
  const json::value* consumer = claims.if_contains("consumer");
  if (consumer == nullptr) return Unauthenticated("consumer missing");
  principal->consumer_orgnr = OrgClaim(*consumer, "consumer", why);
  if (principal->consumer_orgnr.empty()) return Unauthenticated(std::move(why));
  if (const json::value* supplier = claims.if_contains("supplier")) {
    principal->supplier_orgnr = OrgClaim(*supplier, "supplier", why);
    if (principal->supplier_orgnr.empty()) return Unauthenticated(std::move(why));
  }

  const json::value* scope = claims.if_contains("scope");
  if (scope == nullptr || !scope->is_string()) return Unauthenticated("scope missing");
  principal->scope = std::string_view(scope->get_string());
  if (const json::value* type = claims.if_contains("token_type");
      type != nullptr && !(type->is_string() && type->get_string() == "Bearer")) {
    return Unauthenticated("token_type is not Bearer");
  }
  if (!OptionalString(claims, "client_id", principal->client_id)) {
    return Unauthenticated("client_id is not a string");
  }
  if (!OptionalString(claims, "jti", principal->jti)) {
    return Unauthenticated("jti is not a string");
  }
  return std::shared_ptr<const Principal>(std::move(principal));
}

TokenValidator::TokenValidator(ValidatorOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->per_shard = std::max<std::size_t>(1, (options.cache_entries + kShards - 1) / kShards);
}

TokenValidator::~TokenValidator() = default;

void TokenValidator::AddIssuer(std::string issuer, std::shared_ptr<JwksCache> keys) {
  std::unique_lock lock(impl_->issuers_mu);
  for (auto& entry : impl_->issuers) {
    if (entry.first == issuer) {
      entry.second = std::move(keys);
      return;
    }
  }
  impl_->issuers.emplace_back(std::move(issuer), std::move(keys));
}

std::vector<std::string> TokenValidator::issuers() const {
  std::shared_lock lock(impl_->issuers_mu);
  std::vector<std::string> out;
  out.reserve(impl_->issuers.size());
  for (const auto& entry : impl_->issuers) out.push_back(entry.first);
  return out;
}

Result<std::shared_ptr<const Principal>> TokenValidator::Validate(std::string_view token,
                                                                  std::string_view required_scope,
                                                                  const VerifyGate& gate) const {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return ValidateAt(token, required_scope, now, gate);
}

Result<std::shared_ptr<const Principal>> TokenValidator::ValidateAt(std::string_view token,
                                                                    std::string_view required_scope,
                                                                    int64_t now,
                                                                    const VerifyGate& gate) const {
  try {
    if (token.empty()) return Unauthenticated("token missing");
    if (token.size() > kMaxJwtBytes) {
      return Unauthenticated("token of " + std::to_string(token.size()) + " bytes exceeds " +
                             std::to_string(kMaxJwtBytes));
    }
    TokenDigest digest;
    const bool hashed = Sha256(token, digest);
    std::shared_ptr<const Principal> principal;
    if (hashed) principal = impl_->Lookup(digest, now);
    if (!principal) {
      if (gate) {
        if (auto wait = gate()) {
          return MakeError(ErrorCode::kRateLimited,
                           "For mange ugyldige tilgangstokener fra denne adressen; prøv igjen om " +
                               std::to_string(wait->count()) + " ms.",
                           "verification refused: the address's failed tokens are over the limit");
        }
      }
      auto verified = impl_->Verify(token, now);
      if (!verified) return std::move(verified.error());
      principal = std::move(verified.value());
      if (hashed) impl_->Insert(digest, principal, now);
    }
    if (!required_scope.empty() && !principal->HasScope(required_scope)) {
      return MakeError(ErrorCode::kForbidden,
                       "Tilgangstokenet mangler scope " + std::string(required_scope) + ".",
                       "scope " + std::string(required_scope) + " not in token scope '" +
                           Quote(principal->scope) + "' (consumer " + principal->consumer_orgnr +
                           ")");
    }
    return principal;
  } catch (const std::exception& e) {
    // Only allocation failure can get here; it is not the client's fault but must not escape.
    return MakeError(ErrorCode::kInternal, "Intern feil.",
                     std::string("token validation failed: ") + e.what());
  }
}

}  // namespace norreg::auth
