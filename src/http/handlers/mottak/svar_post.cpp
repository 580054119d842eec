// POST /norreg/mottak/v1/svar — the register side publishes a reply (see mottak_api.hpp).
#include <spdlog/spdlog.h>

#include "common/ids.hpp"
#include "common/time.hpp"
#include "http/handlers/auth/auth_api.hpp"
#include "http/handlers/mottak/mottak_api.hpp"
#include "http/negotiation.hpp"
#include "mottak/melding.hpp"

namespace norreg::http::mottak_api {

Result<Response> PostReply(MottakContext& context, Request& request) {
  auto content_type = request.Header("content-type").value_or("");
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  if (!EqualsIgnoreCase(media, "application/xml") && !EqualsIgnoreCase(media, "text/xml")) {
    return MakeError(ErrorCode::kUnsupportedMedia, "Content-Type must be application/xml");
  }
  auto melding = mottak::ParseMelding(request.body);
  if (!melding.ok()) return melding.error();
  store::OutboundReply reply;
  reply.orgnr = melding->mottaker.id;
  if (!ids::ValidOrgnr(reply.orgnr)) {
    return MakeError(ErrorCode::kInvalidInput,
                     "Melding/Mottaker/@id must be the receiving organisation's orgnr");
  }
  reply.tjeneste = melding->tjeneste;
  for (const mottak::Referanse& referanse : melding->referanser) {
    if (referanse.referanse_type == "MeldingsReferanse") {
      reply.melding_referanse = referanse.referanse;
      break;
    }
  }
  reply.henvendelse_xml = request.body;
  auto published = context.store.PublishReply(reply, timefmt::NowMs());
  if (!published.ok()) return published.error();
  const auth::Principal* principal = auth_api::PrincipalOf(request);
  spdlog::info("mottak_svar rid={} producer={} to={} mottakId={} referanse={}", request.request_id,
               principal ? principal->consumer_orgnr : "-", reply.orgnr, published->mottak_id,
               reply.melding_referanse);
  return Response::Json("{\"mottakId\":\"" + published->mottak_id + "\",\"dokumentId\":\"" +
                        published->dokument_id + "\"}");
}

}  // namespace norreg::http::mottak_api
