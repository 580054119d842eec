#pragma once
// The one table from norreg::ErrorCode to HTTP status, and the error renderers.
//
// An ErrorRenderer turns an Error into the response body of one API family; the Dispatcher
// (http/dispatcher.hpp) picks the renderer of the matched route's API and is the one catch site.
// Renderers never put Error::detail in a response, and for kInternal they ignore Error::message
// too (it is "for the log only", common/result.hpp) and send a generic text.
//
// Thread-safety: all functions here are pure and thread-safe.
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "http/request.hpp"

namespace norreg::http {

using ErrorRenderer = std::function<Response(const Error&, const Request&)>;

// kInvalidInput 400, kUnauthenticated 401, kForbidden 403, kNotFound 404, kNotAcceptable 406,
// kConflict 409, kGone 410, kTooLarge 413, kUnsupportedMedia 415, kRateLimited 429,
// kNotReady 404, kInternal 500.
int HttpStatusFor(ErrorCode code);

// "OK", "Not Found", ...; "Unknown" for codes not in the table.
std::string_view ReasonPhrase(int status);

// Sets `Retry-After: <ms>` on the eventual response (SPEC 2.1: milliseconds, non-standard).
// Call before returning a kRateLimited error from a before-step or handler.
void SetRetryAfter(Request& request, std::chrono::milliseconds after);
// The value used when a 429 is rendered and nobody set Retry-After.
inline constexpr std::chrono::milliseconds kDefaultRetryAfter{1000};

// True when the request's Accept prefers XML (application/xml or application/atom+xml) over JSON.
bool WantsXml(const Request& request);

// Folkeregisteret error body (SPEC 2.1, seed 000 "Feilkoder"):
//   JSON: {"kode":"FREG-001","melding":"..."}                     (application/json)
//   XML:  <?xml version="1.0" encoding="UTF-8"?>
//         <feil><kode>FREG-001</kode><melding>...</melding></feil> (application/xml)
// The XML element names are norreg's choice (the real service does not document them): they
// mirror the JSON keys under a root named after the Norwegian word for error.
// `melding` is Error::message, or the seed's standard text for the status when the message is
// empty or the code is kInternal. `kode` is always "FREG-001" (the only code the seed shows).
// A 429 gets Retry-After (kDefaultRetryAfter unless the request set one).
Response RenderFregError(const Error& error, const Request& request);

// Plain text error for paths outside every API: "404 Not Found\n" (status line text only;
// never the message's detail). Also adds Retry-After to a 429.
Response RenderPlainError(const Error& error, const Request& request);

// A text/plain response "<status> <reason>\n" with that status (answers outside any API).
Response PlainStatus(int status);


}  // namespace norreg::http
