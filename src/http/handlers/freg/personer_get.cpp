// GET personer/{foedselsEllerDNummer}?part=… — the person's latest document (SPEC 2.2).
#include "freg/record_codec.hpp"
#include "freg/render.hpp"
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

Result<Response> GetPerson(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  std::string_view fnr = request.Param("id");
  if (Status s = CheckFnr(fnr); !s.ok()) return s.error();
  auto parts = PartsFromQuery(request, *context.package);
  if (!parts.ok()) return parts.error();

  thread_local std::string raw;
  thread_local freg::RecordView view;
  auto person = context.store.FindRawByFnr(fnr, raw);
  if (!person.ok()) {
    if (person.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound, "Fant ikke person med oppgitt identifikator");
    }
    return person.error();
  }
  if (Status s = view.Parse(raw); !s.ok()) return s.error();
  Response response;
  response.body.reserve(raw.size() + 512);
  if (*type == MediaType::kXml) {
    freg::RenderPersonXml(view, person->latest_seq, *parts, response.body);
  } else {
    freg::RenderPersonJson(view, person->latest_seq, *parts, response.body);
  }
  response.content_type = MediaTypeName(*type);
  if (Status s = RecordDisclosure(context, request, {std::string(view.fnr())}); !s.ok()) {
    return s.error();
  }
  return response;
}

}  // namespace norreg::http::freg_api
