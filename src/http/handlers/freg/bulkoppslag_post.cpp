// POST personer/bulkoppslag?part=…&somBestilt=… — up to 1000 persons in one answer (SPEC 2.2).
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
  std::string body;
  if (Status s = context.lookup.Bulk(CallerOf(context, request), *numbers, som_bestilt, *parts,
                                     FormatOf(*type), body);
      !s.ok()) {
    return s.error();
  }
  return Answer(*type, std::move(body));
}

}  // namespace norreg::http::freg_api
