// POST personer/bulkoppslag/arkiv?part=… — up to 1000 archived document versions (SPEC 2.2).
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

Result<Response> PostArchiveBulkLookup(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  auto parts = PartsFromQuery(request, *context.package);
  if (!parts.ok()) return parts.error();
  auto documents = ReadIdList(request, "dokumentidentifikator");
  if (!documents.ok()) return documents.error();
  std::string body;
  if (Status s = context.lookup.ArchiveBulk(CallerOf(context, request), *documents, *parts,
                                            FormatOf(*type), body);
      !s.ok()) {
    return s.error();
  }
  return Answer(*type, std::move(body));
}

}  // namespace norreg::http::freg_api
