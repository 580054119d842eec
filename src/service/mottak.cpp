#include "service/mottak.hpp"

#include <algorithm>

#include "common/ids.hpp"

namespace norreg::service {
namespace {

constexpr std::string_view kRegisterOrgnr = "974760673";  // Brønnøysundregistrene

}  // namespace

Result<mottak::Melding> Mottak::CheckUpload(std::string_view payload, std::string_view orgnr) {
  auto melding = mottak::ParseMelding(payload);
  if (!melding.ok()) return MakeError(ErrorCode::kInvalidInput, melding.error().message);
  if (melding->avsender.id != orgnr) {
    return MakeError(
        ErrorCode::kInvalidInput,
        "Melding/Avsender/@id must be the organisation in the token (" + std::string(orgnr) + ")");
  }
  return melding;
}

Result<store::InboundReceipt> Mottak::StoreUpload(std::string_view orgnr,
                                                  const mottak::Melding& melding,
                                                  std::string payload,
                                                  std::vector<store::MottakFile> attachments,
                                                  int64_t now_ms) {
  store::InboundMessage message;
  message.orgnr = std::string(orgnr);
  message.melding_id = melding.id;
  message.tjeneste = melding.tjeneste;
  message.payload = std::move(payload);
  message.attachments = std::move(attachments);
  // The receipt is stored in the upload's transaction: an answered upload always has its
  // receipt, and a repeat gets none (the store publishes it only for a new upload).
  message.mottak_id = ids::NewUuid();
  if (auto_receipt_) {
    auto reply = BuildReceipt(melding, message.mottak_id, orgnr);
    if (!reply.ok()) return reply.error();
    message.receipt = std::make_shared<const store::OutboundReply>(std::move(reply).value());
  }
  return store_.StoreInbound(message, now_ms);
}

Result<store::OutboundReply> Mottak::BuildReceipt(const mottak::Melding& upload,
                                                  std::string_view mottak_id,
                                                  std::string_view orgnr) {
  mottak::Applikasjonskvittering kvittering;
  kvittering.status = mottak::KvitteringStatus::kOk;
  kvittering.status_tekst = "Meldingen er mottatt";
  kvittering.meldings_referanse = upload.id;
  kvittering.henvendelses_referanse = std::string(mottak_id);
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
  return outbound;
}

Result<PublishedReply> Mottak::PublishReply(std::string xml,
                                            std::vector<store::MottakFile> attachments,
                                            int64_t now_ms) {
  auto melding = mottak::ParseMelding(xml);
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
  reply.henvendelse_xml = std::move(xml);
  reply.attachments = std::move(attachments);
  auto published = store_.PublishReply(reply, now_ms);
  if (!published.ok()) return published.error();
  return PublishedReply{published->mottak_id, published->dokument_id, reply.orgnr,
                        reply.melding_referanse, reply.attachments.size()};
}

Result<store::ReplyZip> Mottak::Download(std::string_view orgnr, std::string_view mottak_id,
                                         store::Disclosure disclosure) {
  // The ZIP was built when the reply was published: served as stored, never rebuilt.
  auto zip = store_.OpenReplyZip(orgnr, mottak_id);
  if (!zip.ok()) return zip.error();
  if (audit_ != nullptr) {
    disclosure.identifiers = {std::string(mottak_id)};
    if (Status s = audit_->Record(disclosure); !s.ok()) return s.error();
  }
  return zip;
}

Status Mottak::Confirm(std::string_view orgnr, std::string_view mottak_id, int64_t now_ms) {
  // Read the version, then compare-and-set it: of two confirms that read the same version only
  // one can win; the other gets kConflict. A confirm after the winner's is the same race lost
  // later: the same answer.
  auto info = store_.GetReplyInfo(orgnr, mottak_id);
  if (!info.ok()) return info.error();
  if (info->confirmed) {
    return MakeError(ErrorCode::kConflict, "Simultaneous attempt to confirm same file");
  }
  auto confirmed = store_.Confirm(orgnr, mottak_id, info->version, now_ms);
  return confirmed.ok() ? Status::Ok() : Status(confirmed.error());
}

}  // namespace norreg::service
