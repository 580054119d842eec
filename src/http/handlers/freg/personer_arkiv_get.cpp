// GET personer/arkiv/{dokumentidentifikator}?part=… — one archived document version (SPEC 2.2).
#include "common/ids.hpp"
#include "freg/record_codec.hpp"
#include "freg/render.hpp"
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

Result<Response> GetArchivedPerson(FregContext& context, Request& request) {
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  std::string_view id = request.Param("dokumentidentifikator");
  if (!ids::IsHex32(id)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "dokumentidentifikator må være 32 heksadesimale tegn (små bokstaver)");
  }
  auto parts = PartsFromQuery(request, *context.package);
  if (!parts.ok()) return parts.error();
  auto seq = context.cipher.Decode(ids::DocumentKind::kPerson, id);
  thread_local std::string raw;
  thread_local freg::RecordView view;
  Result<store::RawPerson> person =
      seq ? context.store.FindRawByVersion(*seq, raw)
          : Result<store::RawPerson>(MakeError(ErrorCode::kNotFound, ""));
  if (!person.ok()) {
    if (person.error().code == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound, "Ukjent dokumentidentifikator");
    }
    return person.error();
  }
  if (Status s = view.Parse(raw); !s.ok()) return s.error();
  Response response;
  if (*type == MediaType::kXml) {
    freg::RenderPersonXml(view, *seq, *parts, response.body);
  } else {
    freg::RenderPersonJson(view, *seq, *parts, response.body);
  }
  response.content_type = MediaTypeName(*type);
  if (Status s = RecordDisclosure(context, request, {std::string(view.fnr())}); !s.ok()) {
    return s.error();
  }
  return response;
}

}  // namespace norreg::http::freg_api
