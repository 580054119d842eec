#include "http/error_mapping.hpp"

#include <cstdio>
#include <string>

#include "common/escape.hpp"
#include "http/negotiation.hpp"

namespace norreg::http {
namespace {

// Seed 000, "Feilkoder": the standard texts per status.
std::string_view FregDefaultMessage(int status) {
  switch (status) {
    case 400:
      return "Ugyldig forespørsel.";
    case 401:
      return "Autentiseringsinformasjon mangler eller er ugyldig.";
    case 403:
      return "Virksomheten er autentisert men mangler autorisasjon for den angitte tjenesten.";
    case 404:
      return "Feil uri brukt.";
    case 405:
      return "Metoden er ikke tillatt for denne uri-en.";
    case 406:
      return "Oppgitt Accept-header inneholder ikke 'application/xml' eller 'application/json'.";
    case 410:
      return "Ressursen finnes ikke lenger.";
    case 413:
      return "Forespørselen er for stor.";
    case 415:
      return "Content-Type støttes ikke.";
    case 429:
      return "For mange kall er gjort på for kort tid. Vent i minimum antall ms. angitt i "
             "Retry-After-header før neste request utføres.";
    default:
      return "Feil i tjenesten. Vennligst prøv igjen senere.";
  }
}

void AddDefaultRetryAfter(Response& response, const Request& request, int status) {
  if (status != 429) return;
  for (const auto& [k, v] : request.response_headers) {
    if (EqualsIgnoreCase(k, "Retry-After")) return;  // the dispatcher merges it in
  }
  response.SetHeader("Retry-After", std::to_string(kDefaultRetryAfter.count()));
}

}  // namespace

int HttpStatusFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kForbidden:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kNotAcceptable:
      return 406;
    case ErrorCode::kConflict:
      return 409;
    case ErrorCode::kGone:
      return 410;
    case ErrorCode::kTooLarge:
      return 413;
    case ErrorCode::kUnsupportedMedia:
      return 415;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kNotReady:
      return 404;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

void SetRetryAfter(Request& request, std::chrono::milliseconds after) {
  request.SetResponseHeader("Retry-After", std::to_string(after.count()));
}

bool WantsXml(const Request& request) {
  auto accept = request.Header("Accept");
  if (!accept) return false;
  auto mt = Negotiate(*accept, {MediaType::kJson, MediaType::kXml, MediaType::kAtom});
  return mt && (*mt == MediaType::kXml || *mt == MediaType::kAtom);
}

Response RenderFregError(const Error& error, const Request& request) {
  int status = HttpStatusFor(error.code);
  std::string_view melding = (error.code == ErrorCode::kInternal || error.message.empty())
                                 ? FregDefaultMessage(status)
                                 : std::string_view(error.message);
  constexpr std::string_view kKode = "FREG-001";
  Response r;
  r.status = status;
  if (WantsXml(request)) {
    r.content_type = "application/xml";
    r.body.reserve(96 + melding.size());
    r.body += "<?xml version=\"1.0\" encoding=\"UTF-8\"?><feil><kode>";
    r.body += kKode;
    r.body += "</kode><melding>";
    AppendXmlEscaped(r.body, melding);
    r.body += "</melding></feil>";
  } else {
    r.content_type = "application/json";
    r.body.reserve(40 + melding.size());
    r.body += "{\"kode\":\"";
    r.body += kKode;
    r.body += "\",\"melding\":";
    AppendJsonString(r.body, melding);
    r.body += "}";
  }
  AddDefaultRetryAfter(r, request, status);
  return r;
}

Response PlainStatus(int status) {
  std::string body = std::to_string(status);
  body += ' ';
  body += ReasonPhrase(status);
  body += '\n';
  return Response::Text(std::move(body), status);
}

Response RenderPlainError(const Error& error, const Request& request) {
  int status = HttpStatusFor(error.code);
  Response r = PlainStatus(status);
  AddDefaultRetryAfter(r, request, status);
  return r;
}

}  // namespace norreg::http
