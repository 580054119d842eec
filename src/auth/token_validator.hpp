#pragma once
// Resource-server validation of Maskinporten access tokens (SPEC 4), for every API.
//
// A token is accepted when: it is a compact JWS (auth/jwt.hpp; RS256/384/512 only), its `iss` is
// exactly one of the trusted issuers, its header `kid` names a key of that issuer's JWKS (refreshed
// once when the kid is unknown, rate limited by JwksCache), the signature verifies, `exp` is not
// older than now - leeway, `iat` (when present) is not later than now + leeway, `consumer` is
// {"authority":"iso6523-actorid-upis","ID":"0192:<valid orgnr>"}, `supplier` (optional) has the
// same shape, `scope` is a string and `token_type` (when present) is "Bearer". `aud` is not
// required (when present it is ignored); `sub`/`nbf` are not expected and ignored.
//
// Verified tokens are cached by a SHA-256 of the token until their `exp`, so a reused token costs a
// hash and a lookup, not a signature check. The cache is bounded (oldest-expiring entries dropped).
//
// Thread-safety: Validate is thread-safe and lock-light (sharded cache); AddIssuer is for setup.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/jwks.hpp"
#include "auth/principal.hpp"
#include "common/result.hpp"

namespace norreg::auth {

// Asked when a token must have its signature verified (it is not among the cached ones): a wait
// refuses the token with kRateLimited, without the verification (FailureGate).
using VerifyGate = std::function<std::optional<std::chrono::milliseconds>()>;

struct ValidatorOptions {
  std::chrono::seconds leeway{10};  // clock skew allowed on exp/iat
  std::size_t cache_entries = 100'000;
};

class TokenValidator {
 public:
  explicit TokenValidator(ValidatorOptions options = {});
  ~TokenValidator();
  TokenValidator(const TokenValidator&) = delete;
  TokenValidator& operator=(const TokenValidator&) = delete;

  // Trusts tokens whose `iss` equals `issuer` exactly, verified with keys from `keys`.
  void AddIssuer(std::string issuer, std::shared_ptr<JwksCache> keys);
  std::vector<std::string> issuers() const;

  // Validates a bearer token (the text after "Bearer "), then checks `required_scope` as a whole
  // token of `scope`. Errors (message safe for the client, detail says exactly why for the log):
  //   kUnauthenticated - empty, malformed, bad signature, unknown issuer/kid, expired, bad
  //   consumer; kForbidden       - a valid token without `required_scope`; kRateLimited     -
  //   `gate` refused the verification the token needed.
  // An empty `required_scope` skips the scope check.
  Result<std::shared_ptr<const Principal>> Validate(std::string_view token,
                                                    std::string_view required_scope,
                                                    const VerifyGate& gate = {}) const;

  // For tests: `now` replaces the clock (seconds since the epoch).
  Result<std::shared_ptr<const Principal>> ValidateAt(std::string_view token,
                                                      std::string_view required_scope, int64_t now,
                                                      const VerifyGate& gate = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace norreg::auth
