// POST hendelser/bulkoppslag — up to 1000 event documents (SPEC 2.4). Body
// {"dokumentidentifikator":[…]} (JSON or XML). The OpenAPI file gives DokumentForHendelse (one
// document) as the answer, which cannot hold a list; norreg answers like the other bulk lookups,
// in the shape consumers of the real service parse:
//   {"oppslag":[{"dokumentidentifikator":"…","hendelsedokument":{…DokumentForHendelse…}}, …]}
// in request order; malformed and unknown ids (and events without a document) are left out.
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

Result<Response> PostEventBulkLookup(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  auto documents = ReadIdList(request, "dokumentidentifikator");
  if (!documents.ok()) return documents.error();
  std::string body;
  if (Status s =
          context.lookup.EventBulk(CallerOf(context, request), *documents, FormatOf(*type), body);
      !s.ok()) {
    return s.error();
  }
  return Answer(*type, std::move(body));
}

}  // namespace norreg::http::freg_api
