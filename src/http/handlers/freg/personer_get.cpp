// GET personer/{foedselsEllerDNummer}?part=… — the person's latest document (SPEC 2.2).
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

Result<Response> GetPerson(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  if (Status s = service::PersonLookup::CheckNumber(request.Param("id")); !s.ok()) {
    return s.error();
  }
  auto parts = PartsFromQuery(request, *context.package);
  if (!parts.ok()) return parts.error();
  std::string body;
  if (Status s = context.lookup.Person(CallerOf(context, request), request.Param("id"), *parts,
                                       FormatOf(*type), body);
      !s.ok()) {
    return s.error();
  }
  return Answer(*type, std::move(body));
}

}  // namespace norreg::http::freg_api
