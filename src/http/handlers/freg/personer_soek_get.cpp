// GET personer/soek and GET personer/entydigsoek — person search (docs/search.md). The rules are in
// service::PersonSearch; here the query parameters are read, the answer written and the persons
// disclosed recorded.
#include "common/escape.hpp"
#include "freg/record_codec.hpp"
#include "freg/render.hpp"
#include "http/handlers/freg/freg_api.hpp"
#include "service/person_search.hpp"

namespace norreg::http::freg_api {
namespace {

// The value of the first of `names` present (the API spells a few parameters two ways).
std::optional<std::string> Param(const Request& request,
                                 std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (auto v = request.Query(name)) return std::string(*v);
  }
  return std::nullopt;
}

// The parameters, with the caller's package's rules: searching by an identifier the package may
// not see would disclose it, so such a parameter is refused (kInvalidInput).
Result<service::SearchParams> ParamsOf(const FregContext& context, const Request& r) {
  service::SearchParams p;
  const freg::Package& package = *context.package;
  p.withhold_confidential = package.confidential == freg::Confidential::kNone;
  p.navn = Param(r, {"navn"});
  p.kjoenn = Param(r, {"kjoenn"});
  p.foedselsdato = Param(r, {"foedselsdato"});
  p.foedselsaar_fra_og_med = Param(r, {"foedselsaarFraOgMed"});
  p.foedselsaar_til_og_med = Param(r, {"foedselsaarTilOgMed"});
  p.adressenavn = Param(r, {"adressenavn"});
  p.husnummer = Param(r, {"husnummer"});
  p.postnummer = Param(r, {"postnummer"});
  p.kommunenummer = Param(r, {"kommunenummer"});
  p.fylkesnummer = Param(r, {"fylkesnummer"});
  p.inkluder_oppholdsadresse = Param(r, {"inkluderOppholdsadresse"});
  p.soek_fonetisk = Param(r, {"soekFonetisk", "soekfonetisk"});
  p.inkluder_doede = Param(r, {"inkluderDoede"});
  p.opplysningsgrunnlag = Param(r, {"opplysningsgrunnlag"});
  p.maks_treff = Param(r, {"maksTreff"});
  p.identifikasjonsnummer = Param(r, {"identifikasjonsnummer"});
  p.utenlandsk_personidentifikasjon =
      Param(r, {"utenlandskpersonidentifikasjon", "utenlandskPersonidentifikasjon"});
  p.legitimasjonsdokument = Param(r, {"legitimasjonsdokument"});
  p.utlendingsmyndighetenes_identifikasjonsnummer =
      Param(r, {"utlendingsmyndighetenesidentifikasjonsnummer",
                "utlendingsmyndighetenesIdentifikasjonsnummer"});
  const struct {
    const std::optional<std::string>& value;
    freg::Property property;
    std::string_view name;
  } kIdentifiers[] = {
      {p.utenlandsk_personidentifikasjon, freg::Property::kUtenlandskPersonidentifikasjon,
       "utenlandskpersonidentifikasjon"},
      {p.legitimasjonsdokument, freg::Property::kLegitimasjonsdokument, "legitimasjonsdokument"},
      {p.utlendingsmyndighetenes_identifikasjonsnummer,
       freg::Property::kUtlendingsmyndighetenesIdentifikasjonsnummer,
       "utlendingsmyndighetenesidentifikasjonsnummer"},
  };
  for (const auto& id : kIdentifiers) {
    if (id.value && !package.Allows(id.property)) {
      return MakeError(ErrorCode::kInvalidInput,
                       std::string(id.name) + " kan ikke brukes i rettighetspakken " +
                           std::string(package.name));
    }
  }
  return p;
}

Error NoSearch() { return MakeError(ErrorCode::kNotFound, "Tjenesten finnes ikke"); }

}  // namespace

Result<Response> GetPersonSoek(FregContext& context, Request& request) {
  if (context.search == nullptr) return NoSearch();
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  auto params = ParamsOf(context, request);
  if (!params.ok()) return params.error();
  auto found = context.search->Soek(*params);
  if (!found.ok()) return found.error();
  Response response;
  std::string& out = response.body;
  out.reserve(found->size() * 16 + 96);
  if (*type == MediaType::kXml) {
    out += "<personsoekResponse xmlns=\"";
    out += freg::kPersonXmlNamespace;
    out += "\">";
    for (const std::string& fnr : *found) {
      out += "<foedselsEllerDNummer>";
      AppendXmlEscaped(out, fnr);
      out += "</foedselsEllerDNummer>";
    }
    out += "</personsoekResponse>";
  } else {
    out += "{\"foedselsEllerDNummer\":[";
    for (size_t i = 0; i < found->size(); ++i) {
      if (i > 0) out += ',';
      AppendJsonString(out, (*found)[i]);
    }
    out += "]}";
  }
  response.content_type = MediaTypeName(*type);
  if (Status s = RecordDisclosure(context, request, std::move(found).value()); !s.ok()) {
    return s.error();
  }
  return response;
}

Result<Response> GetPersonEntydigsoek(FregContext& context, Request& request) {
  if (context.search == nullptr) return NoSearch();
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  auto parts = PartsFromQuery(request, *context.package);
  if (!parts.ok()) return parts.error();
  thread_local std::string raw;
  thread_local freg::RecordView view;
  auto params = ParamsOf(context, request);
  if (!params.ok()) return params.error();
  auto hit = context.search->Entydig(*params, raw);
  if (!hit.ok()) return hit.error();
  if (Status s = view.Parse(raw); !s.ok()) return s.error();
  Response response;
  response.body.reserve(raw.size() + 512);
  if (*type == MediaType::kXml) {
    freg::RenderPersonXml(view, hit->person.latest_seq, *parts, response.body);
  } else {
    freg::RenderPersonJson(view, hit->person.latest_seq, *parts, response.body);
  }
  response.content_type = MediaTypeName(*type);
  if (Status s = RecordDisclosure(context, request, {std::string(view.fnr())}); !s.ok()) {
    return s.error();
  }
  return response;
}

}  // namespace norreg::http::freg_api
