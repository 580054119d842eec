// GET hendelser/{dokumentidentifikator} — the event document of one event (SPEC 2.4), and the
// lookup it shares with POST hendelser/bulkoppslag.
#include "common/ids.hpp"
#include "freg/event_document.hpp"
#include "freg/record_codec.hpp"
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

// `out` is unchanged on error; store errors are returned as they come.
Result<std::string> AppendEventDocument(FregContext& context, uint64_t seq, std::string_view id,
                                        bool xml, bool root_namespace, std::string_view xml_root,
                                        std::string& out) {
  auto events = context.store.Events(seq, 1);
  if (!events.ok()) return events.error();
  if (events->empty() || events->front().seq != seq ||
      !freg::HasEventDocument(events->front().type)) {
    return MakeError(ErrorCode::kNotFound, "Ukjent dokumentidentifikator");
  }
  const store::EventRow& event = events->front();
  thread_local std::string raw;
  thread_local freg::RecordView view;
  auto person = context.store.FindRawByVersion(seq, raw);
  if (!person.ok()) {
    if (person.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound, "Ukjent dokumentidentifikator");
    }
    return person.error();
  }
  if (Status s = view.Parse(raw); !s.ok()) return s.error();
  const freg::EventHeader header{id, event.fnr, event.type, event.ajourholdstidspunkt};
  if (xml) {
    freg::RenderEventDocumentXml(view, seq, header, out, root_namespace, xml_root);
  } else {
    freg::RenderEventDocumentJson(view, seq, header, out);
  }
  return std::string(view.fnr());
}

Result<Response> GetEventDocument(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  std::string_view id = request.Param("dokumentidentifikator");
  if (!ids::IsHex32(id)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "dokumentidentifikator må være 32 heksadesimale tegn (små bokstaver)");
  }
  auto seq = context.cipher.Decode(ids::DocumentKind::kEvent, id);
  if (!seq) return MakeError(ErrorCode::kNotFound, "Ukjent dokumentidentifikator");
  Response response;
  auto fnr = AppendEventDocument(context, *seq, id, *type == MediaType::kXml, true,
                                 freg::kEventXmlRoot, response.body);
  if (!fnr.ok()) return fnr.error();
  response.content_type = MediaTypeName(*type);
  if (Status s = RecordDisclosure(context, request, {std::move(*fnr)}); !s.ok()) {
    return s.error();
  }
  return response;
}

}  // namespace norreg::http::freg_api
