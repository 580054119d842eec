// GET personer/arkiv/{dokumentidentifikator}?part=… — one archived document version (SPEC 2.2).
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

Result<Response> GetArchivedPerson(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  if (Status s = service::PersonLookup::CheckDocumentId(request.Param("dokumentidentifikator"));
      !s.ok()) {
    return s.error();
  }
  auto parts = PartsFromQuery(request, *context.package);
  if (!parts.ok()) return parts.error();
  std::string body;
  if (Status s = context.lookup.ArchivedPerson(CallerOf(context, request),
                                               request.Param("dokumentidentifikator"), *parts,
                                               FormatOf(*type), body);
      !s.ok()) {
    return s.error();
  }
  return Answer(*type, std::move(body));
}

}  // namespace norreg::http::freg_api
