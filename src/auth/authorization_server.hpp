#pragma once
// The built-in development authorisation server: Maskinporten's token endpoint semantics (SPEC 4),
// so a client that works here works against Maskinporten, and a client bug is refused here exactly
// as Maskinporten would refuse it.
//
// Grant (RFC 7523): grant_type must be urn:ietf:params:oauth:grant-type:jwt-bearer and `assertion`
// a JWT signed RS256/384/512 by a registered client: header `kid` naming one of the client's keys
// (or `x5c` whose leaf certificate holds one of them); claims `iss` = client_id (registered),
// `aud` = this issuer (string, or array containing it), `scope` (space-separated; each must be
// allowed to the client), `iat` within ±iat_skew of now, `exp` after now and at most
// max_assertion_lifetime after iat, `jti` present and never seen before (remembered until the
// assertion's exp), optional `consumer_org` (an orgnr the client may act for; the token's
// `consumer` is then that org and `supplier` the client's own org).
//
// The access token is an RS256 JWS by the current signing key, header {"kid","alg"}; claims exactly
// {"scope","iss","client_amr":"private_key_jwt","token_type":"Bearer","exp","iat","client_id",
// "jti","consumer":{"authority":"iso6523-actorid-upis","ID":"0192:<orgnr>"}[, "supplier":{...}]}
// — no `aud`, `sub` or `nbf`.
//
// Failures are OAuth error answers {"error","error_description"} with status 400:
// invalid_request (missing/duplicate parameters), unsupported_grant_type, invalid_client (unknown
// client_id or kid), invalid_grant (signature, aud, iat, exp, jti replay, bad consumer_org),
// invalid_scope (scope not allowed or empty). Not client errors: 503 temporarily_unavailable when
// the jti replay store is full (1 000 000 unexpired assertions), 500 server_error when signing
// fails. *(norreg)* jti longer than 256 characters is invalid_grant.
//
// Thread-safety: IssueToken, JwksJson and MetadataJson are thread-safe.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "auth/client_registry.hpp"
#include "auth/jwt.hpp"
#include "common/result.hpp"

namespace norreg::auth {

// The server's signing keys, persisted in <dir>/signing/ (PEM, 0600): generated on first use;
// Rotate() makes a new current key and keeps the previous one published in the JWKS.
class SigningKeys {
 public:
  // Loads the keys in <dir>/signing, creating the first one when there is none.
  static Result<std::shared_ptr<SigningKeys>> OpenOrCreate(const std::string& dir);
  // A new current key; the previous current key stays in the JWKS (older ones are dropped).
  Status Rotate();

  struct Current {
    std::string kid;
    RsaKey key;
  };
  Current current() const;
  // {"keys":[current, previous?]} with kid/alg/use/n/e.
  std::string JwksJson() const;

 private:
  SigningKeys() = default;
  void RebuildJwks();  // with mutex_ held
  std::string dir_;
  mutable std::mutex mutex_;
  std::vector<Current> keys_;  // [0] current, [1] previous (if any)
  std::string jwks_json_;      // JwksJson() of keys_, rebuilt when they change
};

struct AuthServerOptions {
  std::string issuer;                                // e.g. "http://127.0.0.1:8080/" (with '/')
  std::chrono::seconds token_lifetime{120};          // expires_in of access tokens
  std::chrono::seconds iat_skew{10};                 // assertion iat within ±this of now
  std::chrono::seconds max_assertion_lifetime{120};  // assertion exp - iat at most this
};

struct TokenAnswer {
  std::string access_token;
  int64_t expires_in = 0;
  std::string scope;
  // {"access_token":..,"token_type":"Bearer","expires_in":..,"scope":..}
  std::string ToJson() const;
};

struct OAuthError {
  int status = 400;
  std::string error;        // invalid_grant, ...
  std::string description;  // human readable
  // {"error":..,"error_description":..}
  std::string ToJson() const;
};

struct TokenOutcome {
  bool ok = false;
  TokenAnswer answer;  // when ok
  OAuthError error;    // when !ok
};

class AuthorizationServer {
 public:
  AuthorizationServer(AuthServerOptions options, ClientRegistry clients,
                      std::shared_ptr<SigningKeys> keys);
  ~AuthorizationServer();

  // `form` is the decoded form body: (name, value) pairs in order.
  TokenOutcome IssueToken(const std::vector<std::pair<std::string, std::string>>& form) const;
  // For tests: `now` replaces the clock (seconds since the epoch).
  TokenOutcome IssueTokenAt(const std::vector<std::pair<std::string, std::string>>& form,
                            int64_t now) const;

  std::string JwksJson() const { return keys_->JwksJson(); }
  // RFC 8414 metadata: issuer, token_endpoint (<issuer>token), jwks_uri (<issuer>jwk),
  // token_endpoint_auth_methods_supported ["private_key_jwt"], grant_types_supported
  // [jwt-bearer], token_endpoint_auth_signing_alg_values_supported [RS256, RS384, RS512].
  std::string MetadataJson() const;
  const std::string& issuer() const { return options_.issuer; }
  const SigningKeys& signing_keys() const { return *keys_; }

 private:
  struct ReplayStore;
  AuthServerOptions options_;
  ClientRegistry clients_;
  std::shared_ptr<SigningKeys> keys_;
  std::unique_ptr<ReplayStore> replay_;
};

}  // namespace norreg::auth
