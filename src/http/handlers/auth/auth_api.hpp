#pragma once
// Maskinporten at the HTTP edge:
// - the before-steps every protected API runs (bearer token -> Principal in Request::context,
//   then the per-organisation rate limit), with each API's failure answers in ONE mapping;
// - the built-in development authorisation server's endpoints on the same listener:
//   POST /token, GET /jwk, GET /.well-known/oauth-authorization-server (SPEC 4).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/authorization_server.hpp"
#include "auth/failure_gate.hpp"
#include "auth/principal.hpp"
#include "auth/rate_limiter.hpp"
#include "auth/token_validator.hpp"
#include "http/dispatcher.hpp"
#include "http/request.hpp"
#include "store/audit_log.hpp"

namespace norreg::http::auth_api {

inline constexpr std::string_view kApi = "auth";
// Largest body of the authorisation server's routes: a grant (an assertion of at most
// auth::kMaxJwtBytes, a scope, the grant type) with room to spare.
inline constexpr std::uint64_t kMaxBodyBytes = 64 * 1024;

// How an API answers a refused token.
enum class FailureStyle {
  // Folkeregisteret (SPEC 2.1): 401 for a missing/invalid token, 403 for a valid token without
  // the scope, both with the {kode, melding} body of the API's renderer.
  kFreg,
  // Brreg mottak (SPEC 3.2): 401 for all of them, wrong scope included, with the exact
  // WWW-Authenticate strings of the spec.
  kBrreg,
};

// The exact Brreg WWW-Authenticate values (SPEC 3.2).
inline constexpr std::string_view kBrregNoToken =
    "Bearer realm=\"unspecified\", error=\"unauthorized\", error_description=\"Full "
    "authentication is required to access this resource\"";
inline constexpr std::string_view kBrregInvalidToken =
    "Bearer realm=\"unspecified\", error=\"invalid_token\", error_description=\"invalid bearer "
    "token or wrong scope for bearer token\"";

// The one mapping from a validation failure (or a missing token: `token_missing`) to the error the
// API answers with; sets WWW-Authenticate on `request`. `error` is kUnauthenticated or kForbidden
// from TokenValidator; its detail is kept for the log.
Error MapAuthFailure(FailureStyle style, bool token_missing, Error error, Request& request);

// The bearer token of an Authorization header ("Bearer <token>", scheme case-insensitive, one
// space, token non-empty without spaces); nullopt when absent or malformed.
std::optional<std::string_view> BearerToken(const Request& request);

struct Protection {
  const auth::TokenValidator* validator = nullptr;  // nullptr: the API is NOT protected (insecure)
  auth::Limiter* rate_limiter = nullptr;            // nullptr: no rate limit
  auth::FailureGate* failure_gate = nullptr;        // nullptr: failed tokens are not limited
};

// Before-step: validates the bearer token for `scope`, stores the
// std::shared_ptr<const auth::Principal> in Request::context, and takes a rate-limit token for the
// consumer organisation (kRateLimited with Retry-After in ms when exhausted). A refused token
// counts against the client's address in `failure_gate`; an address over its failures gets
// kRateLimited (Retry-After) instead of a signature verification for a token not yet verified.
BeforeStep Authenticate(Protection protection, std::string scope, FailureStyle style);

// The caller's principal, or nullptr on an unprotected API.
const auth::Principal* PrincipalOf(const Request& request);

// A disclosure record of `request` (store/audit_log.hpp): the caller (consumer, client,
// supplier), the route name as endpoint and the request id; the handler adds the identifiers.
store::Disclosure DisclosureOf(const Request& request);

// Adds the API "auth" ({"error","error_description"} errors) and its three routes, served by
// `server` (must outlive the dispatcher). `blocking_token`: POST /token runs on the blocking pool
// (when the server's replay store is a database: a round trip per grant).
Status RegisterApi(Dispatcher& dispatcher, const auth::AuthorizationServer& server,
                   bool blocking_token = false);

// {"error":"invalid_request","error_description":"..."}-style renderer of the "auth" API.
Response RenderOAuthError(const Error& error, const Request& request);

}  // namespace norreg::http::auth_api
