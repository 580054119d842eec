// POST personer/bulkoppslag/arkiv?part=… — up to 1000 archived document versions (SPEC 2.2).
#include "common/ids.hpp"
#include "freg/record_codec.hpp"
#include "freg/render.hpp"
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

Result<Response> PostArchiveBulkLookup(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  auto parts = PartsFromQuery(request, *context.package);
  if (!parts.ok()) return parts.error();
  auto documents = ReadIdList(request, "dokumentidentifikator");
  if (!documents.ok()) return documents.error();

  const bool xml = *type == MediaType::kXml;
  Response response;
  std::string& out = response.body;
  out.reserve(documents->size() * 3000 + 64);
  out += xml ? "<arkivDokumentBulkoppslagResponse "
               "xmlns=\"folkeregisteret:tilgjengeliggjoering:person:v1\">"
             : "{\"oppslag\":[";
  thread_local std::string raw;
  thread_local freg::RecordView view;
  // The ids that decode (malformed or unknown ones are left out) and their sekvensnummer.
  std::vector<std::string_view> ids;
  std::vector<uint64_t> seqs;
  ids.reserve(documents->size());
  seqs.reserve(documents->size());
  for (const std::string& id : *documents) {
    if (auto seq = context.cipher.Decode(ids::DocumentKind::kPerson, id)) {
      ids.push_back(id);
      seqs.push_back(*seq);
    }
  }
  bool first = true;
  std::vector<std::string> disclosed;
  Status looked_up = context.store.FindRawByVersions(
      seqs, raw, [&](size_t i, const Result<store::RawPerson>& person) -> Status {
        if (!person.ok()) return Status::Ok();  // not found: left out
        if (Status s = view.Parse(raw); !s.ok()) return s.error();
        disclosed.emplace_back(view.fnr());
        if (xml) {
          out += "<oppslag><dokumentidentifikator>";
          out += ids[i];
          out += "</dokumentidentifikator>";
          freg::RenderPersonXml(view, seqs[i], *parts, out, false);
          out += "</oppslag>";
        } else {
          if (!first) out += ',';
          out += "{\"dokumentidentifikator\":\"";
          out += ids[i];
          out += "\",\"folkeregisterperson\":";
          freg::RenderPersonJson(view, seqs[i], *parts, out);
          out += '}';
        }
        first = false;
        return Status::Ok();
      });
  if (!looked_up.ok()) return looked_up.error();
  out += xml ? "</arkivDokumentBulkoppslagResponse>" : "]}";
  response.content_type = MediaTypeName(*type);
  if (Status s = RecordDisclosure(context, request, std::move(disclosed)); !s.ok()) {
    return s.error();
  }
  return response;
}

}  // namespace norreg::http::freg_api
