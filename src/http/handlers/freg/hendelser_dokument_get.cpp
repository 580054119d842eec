// GET hendelser/{dokumentidentifikator} — the event document of one event (SPEC 2.4).
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

Result<Response> GetEventDocument(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  std::string body;
  if (Status s = context.lookup.EventDocument(CallerOf(context, request),
                                              request.Param("dokumentidentifikator"),
                                              FormatOf(*type), body);
      !s.ok()) {
    return s.error();
  }
  return Answer(*type, std::move(body));
}

}  // namespace norreg::http::freg_api
