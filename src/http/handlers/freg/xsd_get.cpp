// GET personer/xsd, hendelser/xsd, hendelser/feedxsd (OpenAPI getXsd_1, getXsd, getFeedXsd) and
// hendelser/feedxsd/lagretHendelse.xsd, which the feed schema imports by a relative location.
// Each answers one schema compiled into the binary, as application/xml (docs/xml.md): the person
// XSD the person documents follow, the event document XSD, and norreg's schema of the Atom pages.
// Schemas hold no person data: nothing is recorded in the audit log.
#include "http/handlers/freg/freg_api.hpp"
#include "resources/embedded.hpp"

namespace norreg::http::freg_api {

namespace {

Result<Response> XsdAnswer(const Request& request, std::string_view xsd) {
  if (!Negotiate(request.Header("accept").value_or(""), {MediaType::kXml})) {
    return MakeError(ErrorCode::kNotAcceptable,
                     "Oppgitt Accept-header inneholder ikke 'application/xml'");
  }
  Response response;
  response.content_type = MediaTypeName(MediaType::kXml);
  response.body.assign(xsd);
  return response;
}

}  // namespace

Result<Response> GetPersonXsd(FregContext&, Request& request) {
  return XsdAnswer(request, resources::freg_person_xsd());
}

Result<Response> GetEventXsd(FregContext&, Request& request) {
  return XsdAnswer(request, resources::freg_event_xsd());
}

Result<Response> GetFeedXsd(FregContext&, Request& request) {
  return XsdAnswer(request, resources::freg_feed_xsd());
}

Result<Response> GetFeedLagretHendelseXsd(FregContext&, Request& request) {
  return XsdAnswer(request, resources::freg_feed_lagret_hendelse_xsd());
}

}  // namespace norreg::http::freg_api
