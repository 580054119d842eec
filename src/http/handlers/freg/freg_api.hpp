#pragma once
// Folkeregisteret endpoints, served once per access package (freg/packages.hpp) under the
// package's base path, with the endpoints the package has (docs/packages.md).
// Each endpoint is one thin handler (its own .cpp): parse and validate the request, call the
// services (every person answered goes through service::PersonLookup: minimised for the package
// and disclosed there), wrap the answer. Errors are returned as values and rendered by the API's
// error renderer ({kode, melding}, http/error_mapping).
#include <string>
#include <string_view>
#include <vector>

#include "freg/packages.hpp"
#include "freg/parts.hpp"
#include "http/dispatcher.hpp"
#include "http/negotiation.hpp"
#include "http/request.hpp"
#include "service/feed_reader.hpp"
#include "service/person_lookup.hpp"

namespace norreg::service {
class UttrekkService;  // service/uttrekk.hpp
}

namespace norreg::http::freg_api {

// The base path of "offentlig med hjemmel", the widest package.
inline constexpr std::string_view kBasePath = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
// The API id of "offentlig med hjemmel"; another package's is kApi + "." + its id.
inline constexpr std::string_view kApi = "freg";
inline constexpr size_t kMaxBulkIds = 1000;

// What the handlers share: services, owned by the app, outliving the router.
struct FregContext {
  service::PersonLookup& lookup;               // every person answered, and its disclosure
  service::FeedReader& feed;                   // the feed's events (no person data)
  service::UttrekkService* uttrekk = nullptr;  // extract jobs; nullptr: uttrekk answers 404
  // The access package these handlers serve (what it may see, its feed's shape).
  const freg::Package* package = &freg::OffentligMedHjemmel();
};

// Adds the Folkeregisteret API of `context.package` (prefix its base path, {kode, melding} errors,
// `before` steps such as authentication run ahead of every handler) and the routes of the
// package's endpoints to `dispatcher`. Route names are "freg_<endpoint>" for "offentlig med
// hjemmel" and "<package id>:freg_<endpoint>" for the others (the disclosure log's endpoint
// names the package so).
Status RegisterApi(Dispatcher& dispatcher, FregContext& context,
                   std::vector<BeforeStep> before = {});

// --- helpers shared by the handlers ---
// JSON or XML from Accept (missing or */* -> JSON); kNotAcceptable otherwise.
Result<MediaType> NegotiateDocument(const Request& request);
// The `part` query values (repeatable, comma separated) -> selection for `package`;
// kNotAcceptable for an unknown part or one the package may not have.
Result<freg::PartSelection> PartsFromQuery(const Request& request, const freg::Package& package);
// The caller of a request: the context's package and the disclosure record of the request
// (consumer, client, supplier, route, request id).
service::Caller CallerOf(const FregContext& context, const Request& request);
// The service's format of a negotiated media type (XML for application/xml, else JSON).
service::Format FormatOf(MediaType type);
// A response of `type` whose body is `body`.
Response Answer(MediaType type, std::string body);
// Reads a bulk request body {"<field>":[...]} (JSON) or <x><field>..</field>...</x> (XML):
// Content-Type must be JSON or XML (kUnsupportedMedia), the body well-formed (kInvalidInput), the
// list at most kMaxBulkIds entries of strings (kInvalidInput).
Result<std::vector<std::string>> ReadIdList(const Request& request, std::string_view field);
// The absolute URL of `base_path` (a package's) as the client addressed it, for links in answers
// (the Atom feed): "<scheme>://<authority>" + base_path. Scheme: "https" when X-Forwarded-Proto
// (its first value) or the first element of Forwarded (its proto=) says https, else "http".
// Authority: the Host header when it is a plausible authority (at most 255 characters of letters,
// digits and
// "-._~:[]"), else the listening address (Request::local), else "localhost".
std::string ApiBaseUrl(const Request& request, std::string_view base_path);

Result<Response> GetPerson(FregContext& context, Request& request);
Result<Response> GetPersonSoek(FregContext& context, Request& request);
// personer/soek runs on the blocking pool when it will read every person
// (RouteInfo::blocking_when).
bool SoekReadsEveryPerson(const Request& request);
Result<Response> GetPersonEntydigsoek(FregContext& context, Request& request);
Result<Response> GetArchivedPerson(FregContext& context, Request& request);
Result<Response> PostBulkLookup(FregContext& context, Request& request);
Result<Response> PostArchiveBulkLookup(FregContext& context, Request& request);
Result<Response> GetFeed(FregContext& context, Request& request);
// The schemas (application/xml): personer/xsd, hendelser/xsd, hendelser/feedxsd and the schema
// the feed schema imports, hendelser/feedxsd/lagretHendelse.xsd.
Result<Response> GetPersonXsd(FregContext& context, Request& request);
Result<Response> GetEventXsd(FregContext& context, Request& request);
Result<Response> GetFeedXsd(FregContext& context, Request& request);
Result<Response> GetFeedLagretHendelseXsd(FregContext& context, Request& request);
Result<Response> GetLatestSeq(FregContext& context, Request& request);
Result<Response> GetEventDocument(FregContext& context, Request& request);
Result<Response> PostEventBulkLookup(FregContext& context, Request& request);
// The answer to an extract order: UttrekkJobbResponse {"jobbId":"..."} (XML:
// <uttrekkJobbResponse>), or the service's error; too many running jobs (kRateLimited) get
// Retry-After in milliseconds.
Result<Response> UttrekkOrderAnswer(MediaType type, Result<std::string> jobb_id, Request& request);
Result<Response> GetUttrekkKomplett(FregContext& context, Request& request);
Result<Response> PostUttrekkTilpasset(FregContext& context, Request& request);
Result<Response> GetUttrekkBatch(FregContext& context, Request& request);

}  // namespace norreg::http::freg_api
