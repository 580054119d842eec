// POST hendelser/bulkoppslag — up to 1000 event documents (SPEC 2.4). Body
// {"dokumentidentifikator":[…]} (JSON or XML). The OpenAPI file gives DokumentForHendelse (one
// document) as the answer, which cannot hold a list; norreg answers like the other bulk lookups,
// in the shape consumers of the real service parse:
//   {"oppslag":[{"dokumentidentifikator":"…","hendelsedokument":{…DokumentForHendelse…}}, …]}
// in request order; malformed and unknown ids (and events without a document) are left out.
#include "common/ids.hpp"
#include "freg/event_document.hpp"
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

Result<Response> PostEventBulkLookup(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  auto documents = ReadIdList(request, "dokumentidentifikator");
  if (!documents.ok()) return documents.error();

  const bool xml = *type == MediaType::kXml;
  Response response;
  std::string& out = response.body;
  out.reserve(documents->size() * 1500 + 64);
  out += xml ? "<hendelseBulkoppslagResponse xmlns=\"folkeregisteret:tilgjengeliggjoering:"
               "hendelse:v1\">"
             : "{\"oppslag\":[";
  bool first = true;
  std::vector<std::string> disclosed;
  Status looked_up = context.store.InReadSnapshot([&]() -> Status {
    for (const std::string& id : *documents) {
      auto seq = context.cipher.Decode(ids::DocumentKind::kEvent, id);
      if (!seq) continue;
      const size_t mark = out.size();
      if (xml) {
        out += "<oppslag><dokumentidentifikator>";
        out += id;  // Decode accepted it: 32 lowercase hex characters
        out += "</dokumentidentifikator>";
      } else {
        if (!first) out += ',';
        out += "{\"dokumentidentifikator\":\"";
        out += id;
        out += "\",\"hendelsedokument\":";
      }
      auto fnr = AppendEventDocument(context, *seq, id, xml, false, "hendelsedokument", out);
      if (!fnr.ok()) {
        out.resize(mark);
        if (fnr.error().code == ErrorCode::kNotFound) continue;
        return fnr.error();
      }
      out += xml ? "</oppslag>" : "}";
      first = false;
      disclosed.push_back(std::move(*fnr));
    }
    return Status::Ok();
  });
  if (!looked_up.ok()) return looked_up.error();
  out += xml ? "</hendelseBulkoppslagResponse>" : "]}";
  response.content_type = MediaTypeName(*type);
  if (Status s = RecordDisclosure(context, request, std::move(disclosed)); !s.ok()) {
    return s.error();
  }
  return response;
}

}  // namespace norreg::http::freg_api
