#pragma once
// The request pipeline: route -> the API's before-steps -> handler -> response, with the one
// catch site and the per-API error rendering (STYLE.md "Errors").
//
// An API family (ApiSpec) owns a path prefix, an ordered list of before-steps (authentication,
// rate limiting: each may attach data to Request::context and response headers to
// Request::response_headers, or stop the request with an Error) and an error renderer.
//
// Error answers:
// - unknown path under an API's prefix -> 404 in that API's shape; elsewhere a plain 404;
// - known path, wrong method -> 405 with Allow (the API's shape, status forced to 405);
// - an Error from a before-step or handler -> the API's renderer (status from
//   http/error_mapping.hpp); Error::detail and kInternal messages are logged, never sent;
// - an exception from a before-step, handler or renderer -> logged, then a generic 500.
//
// Thread-safety: AddApi/Add during setup only. Dispatch/RenderError are const and may be called
// concurrently from every io thread once setup is done (handlers must be thread-safe too).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.hpp"
#include "http/error_mapping.hpp"
#include "http/metrics.hpp"
#include "http/request.hpp"
#include "http/router.hpp"

namespace norreg::http {

// Runs before the handler of every route of its API. nullopt = continue.
using BeforeStep = std::function<std::optional<Error>(Request&)>;

struct ApiSpec {
  std::string id;      // matches RouteInfo::api, e.g. "freg"
  std::string prefix;  // unmatched paths at or under it get this API's 404 ("" = none)
  std::vector<BeforeStep> before;
  ErrorRenderer render_error;  // empty -> RenderPlainError
  // Request body limit for this API's paths, instead of the server's (e.g. uploads); nullopt =
  // the server's.
  std::optional<std::uint64_t> body_limit;
};

class Dispatcher {
 public:
  // `metrics` (optional, must outlive the dispatcher) gets one slot per route name.
  explicit Dispatcher(Metrics* metrics = nullptr);
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // kInvalidInput on an empty or duplicate id, or a prefix not starting with '/' (when set).
  Status AddApi(ApiSpec api);
  // kInvalidInput when info.api is non-empty and not registered, or as Router::Add. A route
  // with an empty api has no before-steps and plain error answers.
  Status Add(Method method, std::string_view pattern, RouteInfo info, Handler handler);
  // A route that takes its body as it arrives (BodySink), errors as Add. Dispatch() of such a
  // route (a body already read whole, e.g. in unit tests) writes the body to the sink at once.
  Status AddStreaming(Method method, std::string_view pattern, RouteInfo info,
                      StreamHandler handler);

  // Never throws. Sets request.route, route_slot and path_params when a route matched. Admit,
  // then DispatchAdmitted, at once.
  Response Dispatch(Request& request) const;

  // For a server that has a request's headers but not yet its body, so that nothing is read for
  // a request that will be refused: routes the request (sets route, route_slot, path_params) and
  // runs its API's before-steps (authentication, rate limits: they read headers only). The route
  // to run once the body is in, or the answer (404, 405, a before-step's 401/403/429 …) to give
  // without reading the body. Never throws.
  std::variant<const Route*, Response> Admit(Request& request) const;
  // The handler of a route Admit() let `request` in to (a streaming route: the body written to
  // its sink at once). Never throws.
  Response DispatchAdmitted(Request& request, const Route& route) const;

  // The answer for an error found outside the handler (e.g. the server's 413), shaped by the API
  // that owns the request's path (matched route first, then prefix). Sets request.route and
  // route_slot when the path matches a route. Never throws.
  Response RenderError(Request& request, const Error& error) const;

  // The route `request` matches (kFound only), or nullptr. For the server: whether it streams its
  // body (Route::stream) or blocks (RouteInfo::blocking).
  const Route* FindRoute(const Request& request) const;

  // A streaming request Admit() let in, in three steps, each never throwing (the same catch site
  // and error rendering as Dispatch):
  // - BeginStream: the route's StreamHandler; `sink` to write the body to, or else `answer`;
  // - StreamBody: the next piece of the body; an answer (the sink's error) ends the request;
  // - FinishStream: the body is complete; the handler's answer.
  struct Stream {
    std::unique_ptr<BodySink> sink;
    Response answer;  // when sink is null
  };
  Stream BeginStream(Request& request, const Route& route) const;
  std::optional<Response> StreamBody(Request& request, BodySink& sink,
                                     std::string_view bytes) const;
  Response FinishStream(Request& request, BodySink& sink) const;

  const Router& router() const { return router_; }
  const ApiSpec* FindApi(std::string_view id) const;
  // The API with the longest prefix owning `path` (segment boundary), or nullptr.
  const ApiSpec* ApiForPath(std::string_view path) const;

 private:
  Response Render(const ApiSpec* api, const Error& error, Request& request) const;
  Response Finish(Response response, const Request& request) const;
  const ApiSpec* ApiOf(const Request& request) const;
  // fn() -> Response inside the one catch site: an exception is logged and answered 500.
  template <typename Fn>
  Response Catching(const ApiSpec* api, Request& request, Fn&& fn) const;

  Metrics* metrics_;
  Router router_;
  std::vector<std::unique_ptr<ApiSpec>> apis_;
};

}  // namespace norreg::http
