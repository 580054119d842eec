// POST personer/bulkoppslag?part=…&somBestilt=… — up to 1000 persons in one answer (SPEC 2.2).
#include <unordered_set>

#include "common/escape.hpp"
#include "freg/record_codec.hpp"
#include "freg/render.hpp"
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

Result<Response> PostBulkLookup(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  auto parts = PartsFromQuery(request, *context.package);
  if (!parts.ok()) return parts.error();
  bool som_bestilt = false;
  if (auto value = request.Query("somBestilt")) {
    if (*value == "true") {
      som_bestilt = true;
    } else if (*value != "false") {
      return MakeError(ErrorCode::kInvalidInput, "somBestilt må være true eller false");
    }
  }
  auto numbers = ReadIdList(request, "foedselsEllerDNummer");
  if (!numbers.ok()) return numbers.error();

  const bool xml = *type == MediaType::kXml;
  Response response;
  std::string& out = response.body;
  out.reserve(numbers->size() * 3000 + 64);
  out +=
      xml ? "<personBulkoppslagResponse xmlns=\"folkeregisteret:tilgjengeliggjoering:person:v1\">"
          : "{\"oppslag\":[";
  thread_local std::string raw;
  thread_local freg::RecordView view;
  // The entries answered, in order (duplicates once unless the order is kept), and what is looked
  // up for each: an invalid number is looked up as nothing (not found).
  std::vector<std::string_view> entries;
  std::vector<std::string> lookups;
  entries.reserve(numbers->size());
  lookups.reserve(numbers->size());
  std::unordered_set<std::string_view> seen;
  for (const std::string& fnr : *numbers) {
    if (!som_bestilt && !seen.insert(fnr).second) continue;  // duplicates answered once
    entries.push_back(fnr);
    lookups.push_back(CheckFnr(fnr).ok() ? fnr : std::string());
  }
  bool first = true;
  std::vector<std::string> disclosed;
  Status looked_up = context.store.FindRawByFnrs(
      lookups, raw, [&](size_t i, const Result<store::RawPerson>& person) -> Status {
        const std::string_view fnr = entries[i];
        if (person.ok()) {
          if (Status s = view.Parse(raw); !s.ok()) return s.error();
          disclosed.emplace_back(view.fnr());
        } else if (!som_bestilt) {
          return Status::Ok();  // unknown ids are left out unless the order is kept
        }
        if (!xml && !first) out += ',';
        first = false;
        if (xml) {
          out += "<oppslag><foedselsEllerDNummer>";
          AppendXmlEscaped(out, fnr);
          out += "</foedselsEllerDNummer>";
          if (person.ok()) {
            freg::RenderPersonXml(view, person->latest_seq, *parts, out, false);
          } else {
            out += "<feilmelding><feilmelding>Fant ikke person</feilmelding></feilmelding>";
          }
          out += "</oppslag>";
        } else {
          out += "{\"foedselsEllerDNummer\":";
          AppendJsonString(out, fnr);
          if (person.ok()) {
            out += ",\"folkeregisterperson\":";
            freg::RenderPersonJson(view, person->latest_seq, *parts, out);
          } else {
            out += ",\"feilmelding\":{\"feilmelding\":\"Fant ikke person\"}";
          }
          out += '}';
        }
        return Status::Ok();
      });
  if (!looked_up.ok()) return looked_up.error();
  out += xml ? "</personBulkoppslagResponse>" : "]}";
  response.content_type = MediaTypeName(*type);
  if (Status s = RecordDisclosure(context, request, std::move(disclosed)); !s.ok()) {
    return s.error();
  }
  return response;
}

}  // namespace norreg::http::freg_api
