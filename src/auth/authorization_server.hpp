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
// the jti replay store is full (memory: 1 000 000 unexpired assertions) or cannot be reached (a
// database), 500 server_error when signing fails. *(norreg)* jti longer than 256 characters is
// invalid_grant.
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
#include "auth/stores.hpp"
#include "common/result.hpp"

namespace norreg::auth {

// The server's signing keys, kept in a SigningKeyStore (auth/stores.hpp): files in
// <dir>/signing/ by default, or a database shared by several nodes. The first key is made when the
// store has none; Rotate() makes a new current key and keeps the previous one published in the
// JWKS. The keys are read once and held in memory: current() and JwksJson() never touch the store.
// Reload() reads the store again (cheap when nothing changed), which is how a node learns of a key
// made or rotated by another process.
class SigningKeys {
 public:
  // Loads the keys of `store`, creating the first one when there is none (when several nodes do
  // this at once, all end up with the key stored first). Errors as the store's Load().
  static Result<std::shared_ptr<SigningKeys>> Open(std::shared_ptr<SigningKeyStore> store);
  // Open() on the files in <dir>/signing (PEM, 0600).
  static Result<std::shared_ptr<SigningKeys>> OpenOrCreate(const std::string& dir);
  // A new current key; the previous current key stays in the JWKS (older ones are dropped).
  Status Rotate();
  // Reads the store again; on success current() and JwksJson() reflect it. A failed reload keeps
  // the keys held. Thread-safe; readers are not blocked while the store is read.
  Status Reload();

  struct Current {
    std::string kid;
    RsaKey key;
  };
  Current current() const;
  // {"keys":[current, previous?]} with kid/alg/use/n/e.
  std::string JwksJson() const;
  const SigningKeyStore& store() const { return *store_; }

 private:
  SigningKeys() = default;
  // Makes keys_ from `stored`, reusing parsed keys whose kid is held already.
  Status Install(const std::vector<StoredSigningKey>& stored);
  void RebuildJwks();  // with mutex_ held
  std::shared_ptr<SigningKeyStore> store_;
  std::mutex reload_mutex_;  // one Reload/Rotate at a time
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
  // `replay` remembers accepted jti values; nullptr = a MakeMemoryReplayStore() of its own.
  AuthorizationServer(AuthServerOptions options, ClientRegistry clients,
                      std::shared_ptr<SigningKeys> keys,
                      std::shared_ptr<ReplayStore> replay = nullptr);
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
  AuthServerOptions options_;
  ClientRegistry clients_;
  std::shared_ptr<SigningKeys> keys_;
  std::shared_ptr<ReplayStore> replay_;
};

}  // namespace norreg::auth
