// GET hendelser/feed?seq=N (1000 events per page) and GET hendelser/siste/sekvensnummer (SPEC 2.4).
// JSON forms; the Atom form, ETags and event documents follow with the feed issue.
#include <charconv>

#include "common/time.hpp"
#include "freg/render.hpp"
#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {

namespace {
constexpr size_t kFeedPageSize = 1000;
}  // namespace

Result<Response> GetFeed(FregContext& context, Request& request) {
  auto type = Negotiate(request.Header("accept").value_or(""), {MediaType::kJson});
  if (!type) {
    return MakeError(ErrorCode::kNotAcceptable, "Oppgitt Accept-header støttes ikke");
  }
  auto seq_text = request.Query("seq");
  uint64_t seq = 0;
  const char* end = seq_text ? seq_text->data() + seq_text->size() : nullptr;
  bool valid = seq_text && !seq_text->empty();
  if (valid) {
    auto [ptr, ec] = std::from_chars(seq_text->data(), end, seq);
    valid = ec == std::errc() && ptr == end;
  }
  if (!valid) {
    return MakeError(ErrorCode::kInvalidInput, "seq må være et heltall (sekvensnummer)");
  }
  auto events = context.store.Events(seq, kFeedPageSize);
  if (!events.ok()) return events.error();
  Response response;
  std::string& out = response.body;
  out.reserve(events->size() * 260 + 2);
  out += '[';
  for (size_t i = 0; i < events->size(); ++i) {
    const store::EventRow& e = (*events)[i];
    if (i > 0) out += ',';
    out += "{\"sekvensnummer\":";
    out += std::to_string(e.seq);
    out += ",\"hendelse\":{\"folkeregisteridentifikator\":\"";
    out += e.fnr;
    out += "\",\"hendelsetype\":\"";
    out += freg::HendelsetypeName(e.type);
    out += "\",\"hendelsesdokument\":\"";
    context.cipher.AppendEncoded(out, ids::DocumentKind::kEvent, e.seq);
    out += "\",\"persondokument\":\"";
    context.cipher.AppendEncoded(out, ids::DocumentKind::kPerson, e.seq);
    out += "\",\"ajourholdstidspunkt\":\"";
    timefmt::AppendOslo(out, e.ajourholdstidspunkt);
    out += "\"}}";
  }
  out += ']';
  response.content_type = MediaTypeName(MediaType::kJson);
  return response;
}

Result<Response> GetLatestSeq(FregContext& context, Request& request) {
  auto type = Negotiate(request.Header("accept").value_or(""),
                        {MediaType::kJson, MediaType::kXml, MediaType::kText});
  if (!type) {
    return MakeError(ErrorCode::kNotAcceptable, "Oppgitt Accept-header støttes ikke");
  }
  std::string digits = std::to_string(context.store.LatestSeq());
  Response response;
  response.content_type = MediaTypeName(*type);
  response.body = *type == MediaType::kXml ? "<sekvensnummer>" + digits + "</sekvensnummer>"
                                           : digits;
  return response;
}

}  // namespace norreg::http::freg_api
