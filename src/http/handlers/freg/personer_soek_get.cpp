// GET personer/soek and GET personer/entydigsoek — person search (docs/search.md). The rules are in
// service::PersonSearch and the package's in service::PersonLookup (which also writes the answer
// and records the persons disclosed); here the query parameters are read.
#include "http/handlers/freg/freg_api.hpp"

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

service::SearchParams ParamsOf(const Request& r) {
  service::SearchParams p;
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
  return p;
}

}  // namespace

bool SoekReadsEveryPerson(const Request& request) {
  return service::PersonSearch::ReadsEveryPerson(ParamsOf(request));
}

Result<Response> GetPersonSoek(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  std::string body;
  if (Status s =
          context.lookup.Soek(CallerOf(context, request), ParamsOf(request), FormatOf(*type), body);
      !s.ok()) {
    return s.error();
  }
  return Answer(*type, std::move(body));
}

Result<Response> GetPersonEntydigsoek(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  auto parts = PartsFromQuery(request, *context.package);
  if (!parts.ok()) return parts.error();
  std::string body;
  if (Status s = context.lookup.Entydig(CallerOf(context, request), ParamsOf(request), *parts,
                                        FormatOf(*type), body);
      !s.ok()) {
    return s.error();
  }
  return Answer(*type, std::move(body));
}

}  // namespace norreg::http::freg_api
