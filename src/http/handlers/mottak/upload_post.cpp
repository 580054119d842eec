// POST /inbound/upload — a party sends a Melding with attachments (SPEC 3.1).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/ids.hpp"
#include "common/time.hpp"
#include "http/handlers/mottak/mottak_api.hpp"
#include "http/handlers/mottak/parts.hpp"
#include "mottak/melding.hpp"

namespace norreg::http::mottak_api {
namespace {

constexpr std::string_view kRegisterOrgnr = "974760673";  // Brønnøysundregistrene

// The demo's receipt: a reply Melding to the sender whose Innhold is an Applikasjonskvittering.
Status PublishReceipt(MottakContext& context, const mottak::Melding& upload,
                      const store::InboundReceipt& receipt, std::string_view orgnr) {
  mottak::Applikasjonskvittering kvittering;
  kvittering.status = mottak::KvitteringStatus::kOk;
  kvittering.status_tekst = "Meldingen er mottatt";
  kvittering.meldings_referanse = upload.id;
  kvittering.henvendelses_referanse = receipt.mottak_id;
  mottak::Melding reply;
  reply.versjon = upload.versjon;
  std::string id = ids::NewUuid();
  id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
  reply.id = id;
  reply.tjeneste = upload.tjeneste;
  reply.tjenestehandling = "kvittering";
  reply.mottaker = {std::string(orgnr), "orgnr", upload.avsender.name};
  reply.avsender = {std::string(kRegisterOrgnr), "orgnr", "Brønnøysundregistrene"};
  reply.referanser.push_back({upload.id, "MeldingsReferanse"});
  reply.innhold.format = "application/xml";
  reply.innhold.data = mottak::RenderKvittering(kvittering);
  auto xml = mottak::RenderMelding(reply);
  if (!xml.ok()) return xml.error();
  store::OutboundReply outbound;
  outbound.orgnr = std::string(orgnr);
  outbound.tjeneste = upload.tjeneste;
  outbound.melding_referanse = upload.id;
  outbound.henvendelse_xml = std::move(*xml);
  auto published = context.store.PublishReply(outbound, timefmt::NowMs());
  return published.ok() ? Status::Ok() : Status(published.error());
}

Result<Response> FinishUpload(MottakContext& context, Request& request, const std::string& orgnr,
                              MottakParts& parts) {
  auto melding = mottak::ParseMelding(parts.payload);
  if (!melding.ok()) return MottakError(400, "CLIENTERROR-10001", melding.error().message, request);
  if (melding->avsender.id != orgnr) {
    return MottakError(400, "CLIENTERROR-10001",
                       "Melding/Avsender/@id must be the organisation in the token (" + orgnr + ")",
                       request);
  }
  store::InboundMessage message;
  message.orgnr = orgnr;
  message.melding_id = melding->id;
  message.tjeneste = melding->tjeneste;
  message.payload = std::move(parts.payload);
  message.attachments = std::move(parts.attachments);
  auto receipt = context.store.StoreInbound(message, timefmt::NowMs());
  if (!receipt.ok()) return receipt.error();
  if (context.auto_receipt && !receipt->repeated) {
    if (Status s = PublishReceipt(context, *melding, *receipt, orgnr); !s.ok()) {
      spdlog::error("mottak: the receipt for {} was not published: {} {}", receipt->mottak_id,
                    s.error().message, s.error().detail);
    }
  }
  std::string body = "{\"mottakId\":\"" + receipt->mottak_id + "\",\"mottattTidspunkt\":\"";
  timefmt::AppendOsloLocal(body, receipt->received_ms);
  body += "\",\"antallVedlegg\":" + std::to_string(receipt->antall_vedlegg) + "}";
  return Response::Json(std::move(body));
}

}  // namespace

Result<std::unique_ptr<BodySink>> OpenUpload(MottakContext& context, Request& request) {
  auto orgnr = TokenOrganisation(request);
  if (!orgnr.ok()) return orgnr.error();
  return OpenPartsSink(context.store, request.Header("content-type").value_or(""),
                       [&context, &request, orgnr = std::move(*orgnr)](MottakParts& parts) {
                         return FinishUpload(context, request, orgnr, parts);
                       });
}

}  // namespace norreg::http::mottak_api
