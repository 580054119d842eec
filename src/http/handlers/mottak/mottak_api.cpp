#include "http/handlers/mottak/mottak_api.hpp"

#include <spdlog/spdlog.h>

#include "common/escape.hpp"
#include "common/ids.hpp"
#include "http/error_mapping.hpp"
#include "http/handlers/auth/auth_api.hpp"

namespace norreg::http::mottak_api {
namespace {

constexpr std::string_view kKilde = "norreg-mottak";

struct Feil {
  int status;
  std::string_view feilkode;
  std::string_view beskrivelse;  // used when the error has no message of its own
};

Feil FeilFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kConflict:
      return {500, "ERROR-00005", "Simultaneous attempt to confirm same file"};
    case ErrorCode::kInvalidInput:
      return {400, "CLIENTERROR-10002", "Invalid request"};
    case ErrorCode::kTooLarge:
      return {413, "CLIENTERROR-10003", "Request too large"};
    case ErrorCode::kUnsupportedMedia:
      return {415, "CLIENTERROR-10002", "Unsupported media type"};
    case ErrorCode::kNotFound:
      return {404, "CLIENTERROR-10004", "No message with this mottakId"};
    default:
      return {HttpStatusFor(code), "ERROR-00000", "Internal error"};
  }
}

}  // namespace

Result<std::string> TokenOrganisation(const Request& request) {
  const auth::Principal* principal = auth_api::PrincipalOf(request);
  if (principal == nullptr || principal->consumer_orgnr.empty()) {
    return MakeError(ErrorCode::kUnauthenticated, "no organisation in the token");
  }
  std::string_view orgnr = principal->consumer_orgnr;
  if (orgnr.starts_with("0192:")) orgnr.remove_prefix(5);
  return std::string(orgnr);
}

Response RenderMottakError(const Error& error, const Request& request) {
  if (error.code == ErrorCode::kUnauthenticated) return Response::Make(401, "", "");
  const Feil feil = FeilFor(error.code);
  const bool internal = feil.status >= 500 && error.code != ErrorCode::kConflict;
  if (internal) {
    spdlog::error("mottak error rid={} {} {}", request.request_id, error.message, error.detail);
  }
  return MottakError(
      feil.status, feil.feilkode,
      internal || error.message.empty() ? feil.beskrivelse : std::string_view(error.message),
      request);
}

Response MottakError(int status, std::string_view feilkode, std::string_view beskrivelse,
                     const Request& request) {
  std::string body = "{\"feilId\":\"" + ids::NewUuid() + "\",\"mottakId\":";
  auto mottak_id = request.Query("mottakId");
  if (mottak_id && ids::IsUuid(*mottak_id)) {
    AppendJsonString(body, *mottak_id);
  } else {
    body += "null";
  }
  body += ",\"kilde\":\"";
  body += kKilde;
  body += "\",\"feilkode\":\"";
  body += feilkode;
  body += "\",\"beskrivelse\":";
  AppendJsonString(body, beskrivelse);
  body += '}';
  return Response::Json(std::move(body), status);
}

Status RegisterApi(Dispatcher& dispatcher, MottakContext& context,
                   std::vector<BeforeStep> consumer_before,
                   std::vector<BeforeStep> producer_before) {
  ApiSpec inbound{std::string(kInboundApi), std::string(kInboundPath), consumer_before,
                  &RenderMottakError};
  inbound.body_limit = kMaxUploadBytes;
  if (Status s = dispatcher.AddApi(std::move(inbound)); !s.ok()) return s;
  if (Status s = dispatcher.AddApi(ApiSpec{std::string(kOutboundApi), std::string(kOutboundPath),
                                           std::move(consumer_before), &RenderMottakError});
      !s.ok()) {
    return s;
  }
  ApiSpec producer{std::string(kProducerApi), std::string(kProducerPath),
                   std::move(producer_before), &RenderMottakError};
  producer.body_limit = kMaxUploadBytes;  // a reply with attachments, like an upload
  if (Status s = dispatcher.AddApi(std::move(producer)); !s.ok()) return s;
  struct Route {
    Method method;
    std::string_view api;
    std::string_view base;
    std::string_view path;
    std::string_view name;
    bool blocking;
    Result<Response> (*handler)(MottakContext&, Request&);
    Result<std::unique_ptr<BodySink>> (*stream)(MottakContext&, Request&);
  };
  const Route routes[] = {
      {Method::kPost, kInboundApi, kInboundPath, "/upload", "mottak_upload", true, nullptr,
       &OpenUpload},
      {Method::kGet, kOutboundApi, kOutboundPath, "/available", "mottak_available", false,
       &GetAvailable, nullptr},
      {Method::kGet, kOutboundApi, kOutboundPath, "/download", "mottak_download", false,
       &GetDownload, nullptr},
      {Method::kPut, kOutboundApi, kOutboundPath, "/confirm", "mottak_confirm", true, &PutConfirm,
       nullptr},
      {Method::kPost, kProducerApi, kProducerPath, "/svar", "mottak_svar", true, nullptr,
       &OpenReply},
  };
  for (const Route& route : routes) {
    const std::string pattern = std::string(route.base) + std::string(route.path);
    RouteInfo info{std::string(route.api), std::string(route.name), route.blocking};
    Status s = Status::Ok();
    if (route.stream != nullptr) {
      auto stream = route.stream;
      s = dispatcher.AddStreaming(
          route.method, pattern, std::move(info),
          [&context, stream](Request& request) { return stream(context, request); });
    } else {
      auto handler = route.handler;
      s = dispatcher.Add(
          route.method, pattern, std::move(info),
          [&context, handler](Request& request) { return handler(context, request); });
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace norreg::http::mottak_api
