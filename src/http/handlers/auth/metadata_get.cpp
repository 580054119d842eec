// GET /.well-known/oauth-authorization-server — RFC 8414 metadata (SPEC 4).
#include "http/handlers/auth/auth_api.hpp"

namespace norreg::http::auth_api {

Result<Response> GetMetadata(const auth::AuthorizationServer& server, Request& /*request*/) {
  return Response::Json(server.MetadataJson());
}

}  // namespace norreg::http::auth_api
