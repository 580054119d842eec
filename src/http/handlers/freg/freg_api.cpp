#include "http/handlers/freg/freg_api.hpp"

#include <simdjson.h>

#include <cctype>
#include <chrono>
#include <pugixml.hpp>

#include "http/error_mapping.hpp"
#include "http/handlers/auth/auth_api.hpp"

namespace norreg::http::freg_api {

Status RegisterApi(Dispatcher& dispatcher, FregContext& context, std::vector<BeforeStep> before) {
  const freg::Package& package = *context.package;
  const bool widest = &package == &freg::OffentligMedHjemmel();
  const std::string api =
      widest ? std::string(kApi) : std::string(kApi) + "." + std::string(package.id);
  const std::string route_prefix = widest ? std::string() : std::string(package.id) + ":";
  if (Status s = dispatcher.AddApi(
          ApiSpec{api, std::string(package.base_path), std::move(before), &RenderFregError});
      !s.ok()) {
    return s;
  }
  using freg::Endpoint;
  struct Entry {
    Endpoint endpoint;
    Method method;
    std::string_view path;
    std::string_view name;
    Result<Response> (*fn)(FregContext&, Request&);
    bool (*blocking_when)(const Request&) = nullptr;  // RouteInfo::blocking_when
  };
  static constexpr Entry kEntries[] = {
      {Endpoint::kPerson, Method::kGet, "/personer/{id}", "freg_person", &GetPerson},
      {Endpoint::kSoek, Method::kGet, "/personer/soek", "freg_personsoek", &GetPersonSoek,
       &SoekReadsEveryPerson},
      {Endpoint::kEntydigsoek, Method::kGet, "/personer/entydigsoek", "freg_entydigsoek",
       &GetPersonEntydigsoek},
      {Endpoint::kPersonXsd, Method::kGet, "/personer/xsd", "freg_person_xsd", &GetPersonXsd},
      {Endpoint::kHendelseXsd, Method::kGet, "/hendelser/xsd", "freg_hendelse_xsd", &GetEventXsd},
      {Endpoint::kFeedXsd, Method::kGet, "/hendelser/feedxsd", "freg_feed_xsd", &GetFeedXsd},
      {Endpoint::kFeedXsd, Method::kGet, "/hendelser/feedxsd/lagretHendelse.xsd",
       "freg_feed_lagret_hendelse_xsd", &GetFeedLagretHendelseXsd},
      {Endpoint::kArkiv, Method::kGet, "/personer/arkiv/{dokumentidentifikator}",
       "freg_person_arkiv", &GetArchivedPerson},
      {Endpoint::kBulkoppslag, Method::kPost, "/personer/bulkoppslag", "freg_bulkoppslag",
       &PostBulkLookup},
      {Endpoint::kBulkoppslagArkiv, Method::kPost, "/personer/bulkoppslag/arkiv",
       "freg_bulkoppslag_arkiv", &PostArchiveBulkLookup},
      {Endpoint::kFeed, Method::kGet, "/hendelser/feed", "freg_feed", &GetFeed},
      {Endpoint::kSisteSekvensnummer, Method::kGet, "/hendelser/siste/sekvensnummer",
       "freg_siste_sekvensnummer", &GetLatestSeq},
      {Endpoint::kHendelse, Method::kGet, "/hendelser/{dokumentidentifikator}", "freg_hendelse",
       &GetEventDocument},
      {Endpoint::kHendelseBulkoppslag, Method::kPost, "/hendelser/bulkoppslag",
       "freg_hendelse_bulkoppslag", &PostEventBulkLookup},
      {Endpoint::kUttrekkKomplett, Method::kGet, "/uttrekk/komplett", "freg_uttrekk_komplett",
       &GetUttrekkKomplett},
      {Endpoint::kUttrekkTilpasset, Method::kPost, "/uttrekk/tilpasset", "freg_uttrekk_tilpasset",
       &PostUttrekkTilpasset},
      {Endpoint::kUttrekkBatch, Method::kGet, "/uttrekk/{jobbId}/batch/{batchnr}",
       "freg_uttrekk_batch", &GetUttrekkBatch},
  };
  for (const Entry& e : kEntries) {
    if (!package.Has(e.endpoint)) continue;
    auto fn = e.fn;
    Status s =
        dispatcher.Add(e.method, std::string(package.base_path) + std::string(e.path),
                       RouteInfo{api, route_prefix + std::string(e.name), false, e.blocking_when},
                       [&context, fn](Request& request) { return fn(context, request); });
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Result<MediaType> NegotiateDocument(const Request& request) {
  auto type = Negotiate(request.Header("accept").value_or(""), {MediaType::kJson, MediaType::kXml});
  if (!type) {
    return MakeError(ErrorCode::kNotAcceptable,
                     "Oppgitt Accept-header inneholder ikke 'application/xml' eller "
                     "'application/json'");
  }
  return *type;
}

Result<freg::PartSelection> PartsFromQuery(const Request& request, const freg::Package& package) {
  std::vector<std::string_view> values = request.QueryAll("part");
  return freg::ParseParts(values, package);
}

namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The proto= of the first element of a Forwarded header (RFC 7239), unquoted; "" when absent.
std::string_view ForwardedProto(std::string_view header) {
  header = header.substr(0, header.find(','));
  while (!header.empty()) {
    const size_t semicolon = header.find(';');
    std::string_view pair = TrimSpace(header.substr(0, semicolon));
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && EqualsIgnoreCase(TrimSpace(pair.substr(0, eq)), "proto")) {
      std::string_view value = TrimSpace(pair.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return value;
    }
    if (semicolon == std::string_view::npos) break;
    header.remove_prefix(semicolon + 1);
  }
  return {};
}

bool PlausibleAuthority(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ||
                    c == '_' || c == '~' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string ApiBaseUrl(const Request& request, std::string_view base_path) {
  std::string_view proto;
  if (auto xfp = request.Header("x-forwarded-proto")) {
    proto = TrimSpace(xfp->substr(0, xfp->find(',')));
  } else if (auto forwarded = request.Header("forwarded")) {
    proto = ForwardedProto(*forwarded);
  }
  std::string url = EqualsIgnoreCase(proto, "https") ? "https://" : "http://";
  const std::string_view host = TrimSpace(request.Header("host").value_or(""));
  if (PlausibleAuthority(host)) {
    url += host;
  } else if (!request.local.empty()) {
    url += request.local;
  } else {
    url += "localhost";
  }
  url += base_path;
  return url;
}

service::Caller CallerOf(const FregContext& context, const Request& request) {
  return service::Caller{context.package, auth_api::DisclosureOf(request)};
}

service::Format FormatOf(MediaType type) {
  return type == MediaType::kXml ? service::Format::kXml : service::Format::kJson;
}

Response Answer(MediaType type, std::string body) {
  Response response;
  response.body = std::move(body);
  response.content_type = MediaTypeName(type);
  return response;
}

namespace {

Result<std::vector<std::string>> IdsFromJson(const std::string& body, std::string_view field) {
  auto invalid = [&](std::string what) {
    return MakeError(ErrorCode::kInvalidInput, "Ugyldig forespørsel: " + what);
  };
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root) != simdjson::SUCCESS) return invalid("ugyldig JSON");
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    return invalid("forventet et JSON-objekt med " + std::string(field));
  }
  simdjson::dom::element list;
  if (object.at_key(field).get(list) != simdjson::SUCCESS) {
    return invalid(std::string(field) + " mangler");
  }
  simdjson::dom::array array;
  if (list.get_array().get(array) != simdjson::SUCCESS) {
    return invalid(std::string(field) + " må være en liste av tekster");
  }
  if (array.size() > kMaxBulkIds) {
    return invalid("maks " + std::to_string(kMaxBulkIds) + " " + std::string(field) +
                   " per forespørsel, fikk " + std::to_string(array.size()));
  }
  std::vector<std::string> ids;
  ids.reserve(array.size());
  for (simdjson::dom::element element : array) {
    std::string_view id;
    if (element.get_string().get(id) != simdjson::SUCCESS) {
      return invalid(std::string(field) + " må være en liste av tekster");
    }
    ids.emplace_back(id);
  }
  return ids;
}

Result<std::vector<std::string>> IdsFromXml(const std::string& body, std::string_view field) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8)) {
    return MakeError(ErrorCode::kInvalidInput, "Ugyldig forespørsel: ugyldig XML");
  }
  std::vector<std::string> ids;
  for (pugi::xml_node node : doc.document_element().children()) {
    std::string_view name = node.name();
    if (auto colon = name.find(':'); colon != std::string_view::npos) name = name.substr(colon + 1);
    if (name != field) continue;
    if (ids.size() == kMaxBulkIds) {
      return MakeError(ErrorCode::kInvalidInput, "Ugyldig forespørsel: maks " +
                                                     std::to_string(kMaxBulkIds) + " " +
                                                     std::string(field) + " per forespørsel");
    }
    ids.emplace_back(node.text().get());
  }
  return ids;
}

}  // namespace

Result<std::vector<std::string>> ReadIdList(const Request& request, std::string_view field) {
  auto type = CheckContentType(request.Header("content-type").value_or(""),
                               {MediaType::kJson, MediaType::kXml});
  if (!type.ok()) {
    return MakeError(ErrorCode::kUnsupportedMedia,
                     "Content-Type må være application/json eller application/xml");
  }
  return *type == MediaType::kXml ? IdsFromXml(request.body, field)
                                  : IdsFromJson(request.body, field);
}

Result<Response> UttrekkOrderAnswer(MediaType type, Result<std::string> jobb_id, Request& request) {
  // Jobs take seconds: a client refused for too many running jobs waits about that long.
  constexpr std::chrono::milliseconds kJobRetryAfter{2000};
  if (!jobb_id.ok()) {
    if (jobb_id.error().code == ErrorCode::kRateLimited) SetRetryAfter(request, kJobRetryAfter);
    return jobb_id.error();
  }
  if (type == MediaType::kXml) {
    return Response::Make(200, std::string(MediaTypeName(type)),
                          "<uttrekkJobbResponse "
                          "xmlns=\"folkeregisteret:tilgjengeliggjoering:uttrekk:v1\"><jobbId>" +
                              *jobb_id + "</jobbId></uttrekkJobbResponse>");
  }
  return Response::Json("{\"jobbId\":\"" + *jobb_id + "\"}");
}

}  // namespace norreg::http::freg_api
