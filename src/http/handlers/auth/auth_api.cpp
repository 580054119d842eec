#include "http/handlers/auth/auth_api.hpp"

#include "common/escape.hpp"
#include "http/error_mapping.hpp"

namespace norreg::http::auth_api {

Result<Response> PostToken(const auth::AuthorizationServer& server, Request& request);
Result<Response> GetJwks(const auth::AuthorizationServer& server, Request& request);
Result<Response> GetMetadata(const auth::AuthorizationServer& server, Request& request);

Response RenderOAuthError(const Error& error, const Request& /*request*/) {
  const int status = HttpStatusFor(error.code);
  std::string_view code = "invalid_request";
  if (status == 404) code = "not_found";
  if (status >= 500) code = "server_error";
  std::string body = "{\"error\":";
  AppendJsonString(body, code);
  body += ",\"error_description\":";
  AppendJsonString(body, status >= 500 || error.message.empty() ? ReasonPhrase(status)
                                                                : std::string_view(error.message));
  body += '}';
  return Response::Json(std::move(body), status);
}

Status RegisterApi(Dispatcher& dispatcher, const auth::AuthorizationServer& server,
                   bool blocking_token) {
  // A grant is a form of a few kilobytes (an assertion, a scope): a larger body is refused from
  // its Content-Length, before a byte of it is read (the endpoint needs no token).
  ApiSpec api{std::string(kApi), "", {}, &RenderOAuthError};
  api.body_limit = kMaxBodyBytes;
  if (Status s = dispatcher.AddApi(std::move(api)); !s.ok()) return s;
  struct Entry {
    Method method;
    std::string_view path;
    std::string_view name;
    Result<Response> (*fn)(const auth::AuthorizationServer&, Request&);
  };
  static constexpr Entry kEntries[] = {
      {Method::kPost, "/token", "auth_token", &PostToken},
      {Method::kGet, "/jwk", "auth_jwk", &GetJwks},
      {Method::kGet, "/.well-known/oauth-authorization-server", "auth_metadata", &GetMetadata},
  };
  for (const Entry& e : kEntries) {
    auto fn = e.fn;
    const bool blocking = blocking_token && e.fn == &PostToken;
    Status s = dispatcher.Add(e.method, e.path,
                              RouteInfo{std::string(kApi), std::string(e.name), blocking},
                              [&server, fn](Request& request) { return fn(server, request); });
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace norreg::http::auth_api
