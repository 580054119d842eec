// POST /token — the RFC 7523 JWT grant of the development authorisation server (SPEC 4).
#include <spdlog/spdlog.h>

#include "http/handlers/auth/auth_api.hpp"
#include "http/negotiation.hpp"

namespace norreg::http::auth_api {
namespace {

// application/x-www-form-urlencoded -> ordered (name, value) pairs; nullopt on bad escapes.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseForm(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> form;
  while (!body.empty()) {
    std::string_view pair = body.substr(0, body.find('&'));
    body.remove_prefix(std::min(body.size(), pair.size() + 1));
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string name, value;
    if (!PercentDecode(pair.substr(0, eq), name, true)) return std::nullopt;
    if (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), value, true)) {
      return std::nullopt;
    }
    form.emplace_back(std::move(name), std::move(value));
  }
  return form;
}

Response OAuthAnswer(int status, std::string body) {
  Response response = Response::Json(std::move(body), status);
  response.SetHeader("Cache-Control", "no-store");
  response.SetHeader("Pragma", "no-cache");
  return response;
}

}  // namespace

Result<Response> PostToken(const auth::AuthorizationServer& server, Request& request) {
  auto content_type = request.Header("content-type").value_or("");
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  auth::OAuthError error;
  if (!EqualsIgnoreCase(media, "application/x-www-form-urlencoded")) {
    error.error = "invalid_request";
    error.description = "Content-Type must be application/x-www-form-urlencoded";
    return OAuthAnswer(400, error.ToJson());
  }
  auto form = ParseForm(request.body);
  if (!form) {
    error.error = "invalid_request";
    error.description = "malformed form body";
    return OAuthAnswer(400, error.ToJson());
  }
  auth::TokenOutcome outcome = server.IssueToken(*form);
  if (!outcome.ok) {
    spdlog::info("token_refused rid={} remote={} error={} description=\"{}\"", request.request_id,
                 request.remote, outcome.error.error, outcome.error.description);
    return OAuthAnswer(outcome.error.status, outcome.error.ToJson());
  }
  return OAuthAnswer(200, outcome.answer.ToJson());
}

}  // namespace norreg::http::auth_api
