#include "http/dispatcher.hpp"

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

#include "common/escape.hpp"

namespace norreg::http {
namespace {

std::string_view CodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return "invalid_input";
    case ErrorCode::kUnauthenticated:
      return "unauthenticated";
    case ErrorCode::kForbidden:
      return "forbidden";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kNotAcceptable:
      return "not_acceptable";
    case ErrorCode::kConflict:
      return "conflict";
    case ErrorCode::kGone:
      return "gone";
    case ErrorCode::kTooLarge:
      return "too_large";
    case ErrorCode::kUnsupportedMedia:
      return "unsupported_media";
    case ErrorCode::kRateLimited:
      return "rate_limited";
    case ErrorCode::kNotReady:
      return "not_ready";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

Response GenericInternal() { return PlainStatus(500); }

}  // namespace

Dispatcher::Dispatcher(Metrics* metrics) : metrics_(metrics) {}

Status Dispatcher::AddApi(ApiSpec api) {
  if (api.id.empty()) return MakeError(ErrorCode::kInvalidInput, "api id is empty");
  if (FindApi(api.id)) return MakeError(ErrorCode::kInvalidInput, "api " + api.id + " exists");
  if (!api.prefix.empty() && api.prefix.front() != '/') {
    return MakeError(ErrorCode::kInvalidInput, "api prefix must start with '/'");
  }
  while (api.prefix.size() > 1 && api.prefix.back() == '/') api.prefix.pop_back();
  apis_.push_back(std::make_unique<ApiSpec>(std::move(api)));
  return Status::Ok();
}

Status Dispatcher::Add(Method method, std::string_view pattern, RouteInfo info, Handler handler) {
  if (!info.api.empty() && !FindApi(info.api)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "route " + std::string(pattern) + ": unknown api " + info.api);
  }
  std::uint32_t slot = metrics_ ? metrics_->RouteSlot(info.name) : 0;
  return router_.Add(method, pattern, std::move(info), std::move(handler), slot);
}

Status Dispatcher::AddStreaming(Method method, std::string_view pattern, RouteInfo info,
                                StreamHandler handler) {
  if (!handler)
    return MakeError(ErrorCode::kInvalidInput,
                     "route " + std::string(pattern) + ": no stream handler");
  if (!info.api.empty() && !FindApi(info.api)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "route " + std::string(pattern) + ": unknown api " + info.api);
  }
  std::uint32_t slot = metrics_ ? metrics_->RouteSlot(info.name) : 0;
  return router_.Add(method, pattern, std::move(info), Handler{}, slot, std::move(handler));
}

const ApiSpec* Dispatcher::FindApi(std::string_view id) const {
  for (const auto& a : apis_) {
    if (a->id == id) return a.get();
  }
  return nullptr;
}

const ApiSpec* Dispatcher::ApiForPath(std::string_view path) const {
  const ApiSpec* best = nullptr;
  for (const auto& a : apis_) {
    const std::string& p = a->prefix;
    if (p.empty() || path.substr(0, p.size()) != p) continue;
    if (path.size() != p.size() && path[p.size()] != '/' && p != "/") continue;
    if (!best || p.size() > best->prefix.size()) best = a.get();
  }
  return best;
}

Response Dispatcher::Finish(Response response, const Request& request) const {
  for (const auto& [k, v] : request.response_headers) response.SetHeader(k, v);
  return response;
}

Response Dispatcher::Render(const ApiSpec* api, const Error& error, Request& request) const {
  int status = HttpStatusFor(error.code);
  if (status >= 500 || !error.detail.empty()) {
    auto level = status >= 500 ? spdlog::level::err : spdlog::level::info;
    // Message and detail may quote what a client sent (a token's iss or kid, say): written as
    // JSON strings, so no value can break the line or forge another.
    std::string message, detail;
    AppendJsonString(message, error.message);
    AppendJsonString(detail, error.detail);
    spdlog::log(level, "request_error rid={} route={} code={} status={} message={} detail={}",
                request.request_id, request.route ? request.route->name : "unmatched",
                CodeName(error.code), status, message, detail);
  }
  try {
    Response r = api && api->render_error ? api->render_error(error, request)
                                          : RenderPlainError(error, request);
    return Finish(std::move(r), request);
  } catch (const std::exception& e) {
    spdlog::error("error_renderer_exception rid={} what=\"{}\"", request.request_id, e.what());
  } catch (...) {
    spdlog::error("error_renderer_exception rid={} what=unknown", request.request_id);
  }
  return GenericInternal();
}

template <typename Fn>
Response Dispatcher::Catching(const ApiSpec* api, Request& request, Fn&& fn) const {
  // The one catch site: before-steps, handlers and sinks.
  try {
    return fn();
  } catch (const std::exception& e) {
    spdlog::error("handler_exception rid={} route={} what=\"{}\"", request.request_id,
                  request.route ? request.route->name : "unmatched", e.what());
  } catch (...) {
    spdlog::error("handler_exception rid={} route={} what=unknown", request.request_id,
                  request.route ? request.route->name : "unmatched");
  }
  return Render(api, MakeError(ErrorCode::kInternal, "unhandled exception"), request);
}

const ApiSpec* Dispatcher::ApiOf(const Request& request) const {
  return request.route == nullptr || request.route->api.empty() ? nullptr
                                                                : FindApi(request.route->api);
}

std::variant<const Route*, Response> Dispatcher::Admit(Request& request) const {
  Router::Match m = router_.Find(request.method, request);
  if (m.outcome == Router::Outcome::kNotFound) {
    return Render(ApiForPath(request.path), MakeError(ErrorCode::kNotFound, {}), request);
  }
  if (m.outcome == Router::Outcome::kMethodNotAllowed) {
    // ErrorCode has no 405: render a 400 in the API's shape, then correct the status.
    const ApiSpec* api = ApiForPath(request.path);
    Response r = Render(
        api, MakeError(ErrorCode::kInvalidInput, "Metoden er ikke tillatt for denne uri-en."),
        request);
    if (r.status != 400) return r;  // the renderer failed: keep its 500
    if (!api || !api->render_error) r = Finish(PlainStatus(405), request);
    r.status = 405;
    r.SetHeader("Allow", m.allow);
    return r;
  }

  const Route& route = *m.route;
  request.route = &route.info;
  request.route_slot = route.slot;
  request.path_params.clear();
  for (std::size_t i = 0; i < m.capture_count; ++i) {
    request.path_params.emplace_back(route.param_names[i], m.captures[i]);
  }
  const ApiSpec* api = ApiOf(request);
  if (api == nullptr) return &route;
  bool passed = false;
  Response refused = Catching(api, request, [&]() -> Response {
    for (const auto& step : api->before) {
      if (auto err = step(request)) return Render(api, *err, request);
    }
    passed = true;
    return Response{};
  });
  if (!passed) return refused;
  return &route;
}

Response Dispatcher::Dispatch(Request& request) const {
  auto admitted = Admit(request);
  if (Response* answer = std::get_if<Response>(&admitted)) return std::move(*answer);
  return DispatchAdmitted(request, *std::get<const Route*>(admitted));
}

Response Dispatcher::DispatchAdmitted(Request& request, const Route& route) const {
  const ApiSpec* api = ApiOf(request);
  if (route.stream) {
    // A streaming route whose body was read whole: the same three steps at once.
    std::unique_ptr<BodySink> sink;
    Response refused = Catching(api, request, [&]() -> Response {
      auto opened = route.stream(request);
      if (!opened.ok()) return Render(api, opened.error(), request);
      sink = std::move(opened).value();
      return Response{};
    });
    if (!sink) return refused;
    if (auto answer = StreamBody(request, *sink, request.body)) return std::move(*answer);
    return FinishStream(request, *sink);
  }
  return Catching(api, request, [&]() -> Response {
    Result<Response> result = route.handler(request);
    if (!result.ok()) return Render(api, result.error(), request);
    return Finish(std::move(result).value(), request);
  });
}

const Route* Dispatcher::FindRoute(const Request& request) const {
  Router::Match m = router_.Find(request.method, request);
  return m.outcome == Router::Outcome::kFound ? m.route : nullptr;
}

Dispatcher::Stream Dispatcher::BeginStream(Request& request, const Route& route) const {
  Stream out;
  const ApiSpec* api = ApiOf(request);
  out.answer = Catching(api, request, [&]() -> Response {
    if (!route.stream) {
      return Render(api, MakeError(ErrorCode::kInternal, "route does not stream"), request);
    }
    auto opened = route.stream(request);
    if (!opened.ok()) return Render(api, opened.error(), request);
    out.sink = std::move(opened).value();
    return Response{};
  });
  return out;
}

std::optional<Response> Dispatcher::StreamBody(Request& request, BodySink& sink,
                                               std::string_view bytes) const {
  const ApiSpec* api = ApiOf(request);
  bool ok = false;
  Response answer = Catching(api, request, [&]() -> Response {
    Status written = sink.Write(bytes);
    if (!written.ok()) return Render(api, written.error(), request);
    ok = true;
    return Response{};
  });
  if (ok) return std::nullopt;
  return answer;
}

Response Dispatcher::FinishStream(Request& request, BodySink& sink) const {
  const ApiSpec* api = ApiOf(request);
  return Catching(api, request, [&]() -> Response {
    Result<Response> result = sink.Finish();
    if (!result.ok()) return Render(api, result.error(), request);
    return Finish(std::move(result).value(), request);
  });
}

Response Dispatcher::RenderError(Request& request, const Error& error) const {
  Router::Match m = router_.Find(request.method, request);
  const ApiSpec* api = nullptr;
  if (m.outcome == Router::Outcome::kFound) {
    request.route = &m.route->info;
    request.route_slot = m.route->slot;
    if (!m.route->info.api.empty()) api = FindApi(m.route->info.api);
  }
  if (!api) api = ApiForPath(request.path);
  return Render(api, error, request);
}

}  // namespace norreg::http
