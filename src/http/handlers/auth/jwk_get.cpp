// GET /jwk — the development authorisation server's signing keys (JWKS, SPEC 4).
#include "http/handlers/auth/auth_api.hpp"

namespace norreg::http::auth_api {

Result<Response> GetJwks(const auth::AuthorizationServer& server, Request& /*request*/) {
  Response response = Response::Json(server.JwksJson());
  response.SetHeader("Cache-Control", "public, max-age=60");
  return response;
}

}  // namespace norreg::http::auth_api
