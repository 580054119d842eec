#include "auth/authorization_server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include "common/escape.hpp"
#include "common/ids.hpp"

namespace norreg::auth {
namespace {

namespace json = boost::json;

constexpr std::string_view kJwtBearerGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";
// norreg: jti values are remembered per client; Maskinporten does not document a limit, but a
// bounded length bounds the replay store (clients send UUIDs: 36 characters).
constexpr std::size_t kMaxJtiLength = 256;

OAuthError Refuse(std::string_view error, std::string description) {
  return OAuthError{400, std::string(error), std::move(description)};
}

TokenOutcome Refused(std::string_view error, std::string description) {
  TokenOutcome outcome;
  outcome.error = Refuse(error, std::move(description));
  return outcome;
}

// An integer claim (NumericDate as whole seconds); nullopt when absent or not an integer.
std::optional<int64_t> IntClaim(const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() &&
      v->get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

bool AudienceMatches(const json::value* aud, std::string_view issuer) {
  if (aud == nullptr) return false;
  if (aud->is_string()) return aud->get_string() == issuer;
  if (aud->is_array()) {
    for (const json::value& entry : aud->get_array()) {
      if (entry.is_string() && entry.get_string() == issuer) return true;
    }
  }
  return false;
}

void AppendOrg(std::string& out, std::string_view orgnr) {
  out += "{\"authority\":\"iso6523-actorid-upis\",\"ID\":\"0192:";
  out += orgnr;  // nine digits, validated by the registry or by ValidOrgnr
  out += "\"}";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SigningKeys

Result<std::shared_ptr<SigningKeys>> SigningKeys::Open(std::shared_ptr<SigningKeyStore> store) {
  std::shared_ptr<SigningKeys> keys(new SigningKeys());
  keys->store_ = std::move(store);
  auto stored = keys->store_->Load();
  if (!stored.ok()) return stored.error();
  if (stored->empty()) {
    auto fresh = RsaKey::Generate(2048);
    if (!fresh.ok()) return fresh.error();
    if (Status s = keys->store_->CreateFirst({fresh->Thumbprint(), fresh->PrivatePem()}); !s.ok()) {
      return s.error();
    }
    stored = keys->store_->Load();  // ours, or the one another node stored first
    if (!stored.ok()) return stored.error();
    if (stored->empty()) {
      return MakeError(ErrorCode::kInternal, "no signing key in " + keys->store_->Describe());
    }
  }
  if (Status s = keys->Install(*stored); !s.ok()) return s.error();
  return keys;
}

Result<std::shared_ptr<SigningKeys>> SigningKeys::OpenOrCreate(const std::string& dir) {
  auto store = OpenFileSigningKeyStore(dir);
  if (!store.ok()) return store.error();
  return Open(std::shared_ptr<SigningKeyStore>(std::move(store).value()));
}

Status SigningKeys::Rotate() {
  auto fresh = RsaKey::Generate(2048);  // slow: outside the locks
  if (!fresh.ok()) return fresh.error();
  std::lock_guard reload(reload_mutex_);
  if (Status s = store_->Rotate({fresh->Thumbprint(), fresh->PrivatePem()}); !s.ok()) return s;
  auto stored = store_->Load();
  if (!stored.ok()) return stored.error();
  return Install(*stored);
}

Status SigningKeys::Reload() {
  std::lock_guard reload(reload_mutex_);
  auto stored = store_->Load();
  if (!stored.ok()) return stored.error();
  return Install(*stored);
}

Status SigningKeys::Install(const std::vector<StoredSigningKey>& stored) {
  if (stored.empty()) {
    return MakeError(ErrorCode::kInternal, "no signing key in " + store_->Describe());
  }
  std::vector<Current> held;
  {
    std::lock_guard lock(mutex_);
    held = keys_;
  }
  bool same = held.size() == stored.size();
  for (std::size_t i = 0; same && i < stored.size(); ++i) same = held[i].kid == stored[i].kid;
  if (same) return Status::Ok();  // the usual reload: nothing parsed, nothing rebuilt
  std::vector<Current> next;
  for (const StoredSigningKey& entry : stored) {
    auto known = std::find_if(held.begin(), held.end(),
                              [&](const Current& c) { return c.kid == entry.kid; });
    if (known != held.end()) {
      next.push_back(*known);
      continue;
    }
    auto key = RsaKey::FromPem(entry.private_pem);
    if (!key.ok() || !key->has_private() || key->Thumbprint() != entry.kid) {
      return MakeError(ErrorCode::kInvalidInput, "signing key " + entry.kid + " in " +
                                                     store_->Describe() +
                                                     " is not a usable RSA private key");
    }
    next.push_back(Current{entry.kid, std::move(*key)});
  }
  std::lock_guard lock(mutex_);
  keys_ = std::move(next);
  RebuildJwks();
  return Status::Ok();
}

SigningKeys::Current SigningKeys::current() const {
  std::lock_guard lock(mutex_);
  return keys_[0];
}

std::string SigningKeys::JwksJson() const {
  std::lock_guard lock(mutex_);
  return jwks_json_;
}

void SigningKeys::RebuildJwks() {
  std::string out = "{\"keys\":[";
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += keys_[i].key.PublicJwkJson(keys_[i].kid, JwsAlg::kRs256);
  }
  out += "]}";
  jwks_json_ = std::move(out);
}

// ---------------------------------------------------------------------------------------------
// Answers

std::string TokenAnswer::ToJson() const {
  std::string out;
  out.reserve(access_token.size() + scope.size() + 96);
  out += "{\"access_token\":";
  AppendJsonString(out, access_token);
  out += ",\"token_type\":\"Bearer\",\"expires_in\":";
  out += std::to_string(expires_in);
  out += ",\"scope\":";
  AppendJsonString(out, scope);
  out.push_back('}');
  return out;
}

std::string OAuthError::ToJson() const {
  std::string out = "{\"error\":";
  AppendJsonString(out, error);
  out += ",\"error_description\":";
  AppendJsonString(out, description);
  out.push_back('}');
  return out;
}

// ---------------------------------------------------------------------------------------------
// AuthorizationServer

AuthorizationServer::AuthorizationServer(AuthServerOptions options, ClientRegistry clients,
                                         std::shared_ptr<SigningKeys> keys,
                                         std::shared_ptr<ReplayStore> replay)
    : options_(std::move(options)),
      clients_(std::move(clients)),
      keys_(std::move(keys)),
      replay_(replay != nullptr ? std::move(replay) : MakeMemoryReplayStore()) {}

AuthorizationServer::~AuthorizationServer() = default;

TokenOutcome AuthorizationServer::IssueToken(
    const std::vector<std::pair<std::string, std::string>>& form) const {
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return IssueTokenAt(form, static_cast<int64_t>(now));
}

TokenOutcome AuthorizationServer::IssueTokenAt(
    const std::vector<std::pair<std::string, std::string>>& form, int64_t now) const {
  // RFC 6749 §3.2: parameters at most once; an empty value counts as absent (§3.1).
  const std::string* grant_type = nullptr;
  const std::string* assertion = nullptr;
  for (const auto& [name, value] : form) {
    const std::string** slot = name == "grant_type"  ? &grant_type
                               : name == "assertion" ? &assertion
                                                     : nullptr;
    if (slot == nullptr) continue;
    if (*slot != nullptr) return Refused("invalid_request", "parameter " + name + " repeated");
    *slot = &value;
  }
  if (grant_type == nullptr || grant_type->empty()) {
    return Refused("invalid_request", "missing grant_type");
  }
  if (*grant_type != kJwtBearerGrant) {
    return Refused("unsupported_grant_type",
                   "grant_type must be urn:ietf:params:oauth:grant-type:jwt-bearer");
  }
  if (assertion == nullptr || assertion->empty()) {
    return Refused("invalid_request", "missing assertion");
  }

  auto jwt = ParseJwt(*assertion);
  if (!jwt.ok()) return Refused("invalid_grant", "invalid assertion: " + jwt.error().detail);

  std::array<unsigned char, 4096> buffer;
  json::monotonic_resource mr(buffer.data(), buffer.size());
  json::parse_options parse_options;
  parse_options.max_depth = 16;
  json::error_code ec;
  const json::value payload = json::parse(jwt->payload_json, ec, &mr, parse_options);
  if (ec || !payload.is_object()) {
    return Refused("invalid_grant", "invalid assertion: payload is not a JSON object");
  }
  const json::object& claims = payload.get_object();

  // Find the client and its key from the (still untrusted) iss and header, then verify before
  // reading any other claim.
  const json::value* iss = claims.if_contains("iss");
  if (iss == nullptr || !iss->is_string() || iss->get_string().empty()) {
    return Refused("invalid_grant", "invalid assertion: iss (client_id) missing");
  }
  const std::string_view client_id(iss->get_string());
  const RegisteredClient* client = clients_.Find(client_id);
  if (client == nullptr) return Refused("invalid_client", "unknown client_id");

  const RsaKey* key = nullptr;
  if (!jwt->kid.empty()) {
    const ClientKey* registered = client->FindKey(jwt->kid);
    if (registered == nullptr) return Refused("invalid_client", "unknown kid for this client");
    key = &registered->key;
  } else if (!jwt->x5c_leaf.empty()) {
    auto leaf = RsaKey::FromX509Der64(jwt->x5c_leaf);
    if (!leaf.ok()) return Refused("invalid_client", "x5c leaf is not an RSA certificate");
    for (const ClientKey& registered : client->keys) {
      if (registered.key.SamePublicKey(*leaf)) {
        key = &registered.key;
        break;
      }
    }
    if (key == nullptr) {
      return Refused("invalid_client", "x5c certificate key not registered for this client");
    }
  } else {
    return Refused("invalid_client", "assertion header has neither kid nor x5c");
  }
  if (!VerifySignature(*key, jwt->alg, jwt->signing_input, jwt->signature)) {
    return Refused("invalid_grant", "invalid assertion signature");
  }

  if (!AudienceMatches(claims.if_contains("aud"), options_.issuer)) {
    return Refused("invalid_grant", "invalid audience: aud must be " + options_.issuer);
  }
  const std::optional<int64_t> iat = IntClaim(claims, "iat");
  if (!iat) return Refused("invalid_grant", "iat missing or not an integer");
  const int64_t skew = options_.iat_skew.count();
  if (*iat > now + skew || *iat < now - skew) {
    return Refused("invalid_grant",
                   "iat is not within " + std::to_string(skew) + " seconds of the server clock");
  }
  const std::optional<int64_t> exp = IntClaim(claims, "exp");
  if (!exp) return Refused("invalid_grant", "exp missing or not an integer");
  if (*exp <= now) return Refused("invalid_grant", "assertion has expired");
  if (*exp > *iat + options_.max_assertion_lifetime.count()) {
    return Refused("invalid_grant", "assertion lifetime (exp - iat) exceeds " +
                                        std::to_string(options_.max_assertion_lifetime.count()) +
                                        " seconds");
  }
  const json::value* jti = claims.if_contains("jti");
  if (jti == nullptr || !jti->is_string() || jti->get_string().empty()) {
    return Refused("invalid_grant", "jti missing");
  }
  if (jti->get_string().size() > kMaxJtiLength) {
    return Refused("invalid_grant", "jti longer than " + std::to_string(kMaxJtiLength));
  }

  // scope: space-separated, each allowed to the client; duplicates dropped, order kept.
  const json::value* scope_claim = claims.if_contains("scope");
  if (scope_claim == nullptr || !scope_claim->is_string()) {
    return Refused("invalid_scope", "scope missing");
  }
  std::string scope;
  {
    std::string_view rest(scope_claim->get_string());
    std::vector<std::string_view> seen;
    while (!rest.empty()) {
      const std::size_t space = rest.find(' ');
      const std::string_view item = rest.substr(0, space);
      rest.remove_prefix(space == std::string_view::npos ? rest.size() : space + 1);
      if (item.empty()) continue;
      if (!client->AllowsScope(item)) {
        return Refused("invalid_scope",
                       "scope " + std::string(item.substr(0, 200)) + " not allowed for client");
      }
      if (std::find(seen.begin(), seen.end(), item) != seen.end()) continue;
      seen.push_back(item);
      if (!scope.empty()) scope.push_back(' ');
      scope += item;
    }
  }
  if (scope.empty()) return Refused("invalid_scope", "scope is empty");

  // consumer_org: the client acts as a supplier for that organisation.
  std::string_view consumer = client->orgnr;
  std::string_view supplier;
  if (const json::value* org = claims.if_contains("consumer_org")) {
    if (!org->is_string() || !ids::ValidOrgnr(org->get_string())) {
      return Refused("invalid_grant", "consumer_org is not a valid organisasjonsnummer");
    }
    const std::string_view wanted(org->get_string());
    if (wanted != client->orgnr) {
      if (std::find(client->consumer_orgs.begin(), client->consumer_orgs.end(), wanted) ==
          client->consumer_orgs.end()) {
        return Refused("invalid_grant",
                       "client may not act for consumer_org " + std::string(wanted));
      }
      consumer = wanted;
      supplier = client->orgnr;
    }
  }

  // Last: a refused assertion does not burn its jti.
  auto remembered = replay_->Remember(client_id, jti->get_string(), *exp, now);
  if (!remembered.ok()) {
    spdlog::error("jti replay store: {} {}", remembered.error().message, remembered.error().detail);
    TokenOutcome busy;
    busy.error = OAuthError{503, "temporarily_unavailable", "the replay store is unavailable"};
    return busy;
  }
  switch (*remembered) {
    case ReplayStore::Outcome::kFresh:
      break;
    case ReplayStore::Outcome::kReplay:
      return Refused("invalid_grant", "jti has already been used");
    case ReplayStore::Outcome::kFull: {
      TokenOutcome busy;
      busy.error = OAuthError{503, "temporarily_unavailable", "too many assertions in flight"};
      return busy;
    }
  }

  const int64_t lifetime = options_.token_lifetime.count();
  std::string token_claims;
  token_claims.reserve(384 + scope.size() + options_.issuer.size() + client_id.size());
  token_claims += "{\"scope\":";
  AppendJsonString(token_claims, scope);
  token_claims += ",\"iss\":";
  AppendJsonString(token_claims, options_.issuer);
  token_claims += ",\"client_amr\":\"private_key_jwt\",\"token_type\":\"Bearer\",\"exp\":";
  token_claims += std::to_string(now + lifetime);
  token_claims += ",\"iat\":";
  token_claims += std::to_string(now);
  token_claims += ",\"client_id\":";
  AppendJsonString(token_claims, client_id);
  token_claims += ",\"jti\":";
  AppendJsonString(token_claims, ids::NewUuid());
  token_claims += ",\"consumer\":";
  AppendOrg(token_claims, consumer);
  if (!supplier.empty()) {
    token_claims += ",\"supplier\":";
    AppendOrg(token_claims, supplier);
  }
  token_claims.push_back('}');

  const SigningKeys::Current signer = keys_->current();
  auto signed_token = SignJwt(signer.key, JwsAlg::kRs256, signer.kid, token_claims);
  if (!signed_token.ok()) {
    TokenOutcome failed;
    failed.error = OAuthError{500, "server_error", "could not sign the access token"};
    return failed;
  }
  TokenOutcome outcome;
  outcome.ok = true;
  outcome.answer.access_token = std::move(*signed_token);
  outcome.answer.expires_in = lifetime;
  outcome.answer.scope = std::move(scope);
  return outcome;
}

std::string AuthorizationServer::MetadataJson() const {
  json::object m;
  m["issuer"] = options_.issuer;
  m["token_endpoint"] = options_.issuer + "token";
  m["jwks_uri"] = options_.issuer + "jwk";
  m["token_endpoint_auth_methods_supported"] = json::array{"private_key_jwt"};
  m["grant_types_supported"] = json::array{kJwtBearerGrant};
  m["token_endpoint_auth_signing_alg_values_supported"] = json::array{"RS256", "RS384", "RS512"};
  return json::serialize(m);
}

}  // namespace norreg::auth
