// POST /inbound/upload — a party sends a Melding with attachments (SPEC 3.1).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "common/ids.hpp"
#include "common/time.hpp"
#include "http/handlers/mottak/mottak_api.hpp"
#include "http/multipart.hpp"
#include "mottak/melding.hpp"

namespace norreg::http::mottak_api {
namespace {

// SPEC 3.1: XML, PDF, DOC(X), XLS(X), RTF, JPEG, PNG, ODT, ODS, TIFF, TXT, JSON, CSV, ZIP, GZIP.
constexpr std::array<std::string_view, 21> kAllowedTypes = {
    "application/xml",
    "text/xml",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/rtf",
    "text/rtf",
    "image/jpeg",
    "image/png",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "image/tiff",
    "text/plain",
    "application/json",
    "text/csv",
    "application/zip",
    "application/x-zip-compressed",
    "application/gzip",
    "application/x-gzip",
};

constexpr std::string_view kRegisterOrgnr = "974760673";  // Brønnøysundregistrene

// Collects the parts of an upload: one `payload`, any number of `attachments`.
class UploadParts final : public MultipartHandler {
 public:
  Status OnPartBegin(const MultipartPartHeaders& headers) override {
    if (headers.name == "payload") {
      if (has_payload_) return MakeError(ErrorCode::kInvalidInput, "more than one payload part");
      has_payload_ = true;
      current_ = &payload_;
    } else if (headers.name == "attachments") {
      store::MottakFile& file = attachments_.emplace_back();
      file.name = headers.filename.empty() ? "vedlegg-" + std::to_string(attachments_.size())
                                           : headers.filename;
      file.content_type = headers.content_type;
      current_ = &file.content;
    } else {
      return MakeError(ErrorCode::kInvalidInput, "unknown part: " + headers.name);
    }
    return Status::Ok();
  }
  Status OnPartData(std::string_view bytes) override {
    current_->append(bytes);
    return Status::Ok();
  }
  Status OnPartEnd() override {
    current_ = nullptr;
    return Status::Ok();
  }

  bool has_payload() const { return has_payload_; }
  std::string& payload() { return payload_; }
  std::vector<store::MottakFile>& attachments() { return attachments_; }

 private:
  bool has_payload_ = false;
  std::string payload_;
  std::vector<store::MottakFile> attachments_;
  std::string* current_ = nullptr;
};

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

}  // namespace

Result<Response> PostUpload(MottakContext& context, Request& request) {
  auto orgnr = TokenOrganisation(request);
  if (!orgnr.ok()) return orgnr.error();
  auto boundary = MultipartBoundary(request.Header("content-type").value_or(""));
  if (!boundary.ok()) return boundary.error();
  UploadParts parts;
  MultipartParser parser(std::move(*boundary), parts, {.max_body_bytes = kMaxUploadBytes});
  Status parsed = parser.Feed(request.body);
  if (parsed.ok()) parsed = parser.Finish();
  if (!parsed.ok()) return parsed.error();
  if (!parts.has_payload()) {
    return MakeError(ErrorCode::kInvalidInput, "Required request part 'payload' is not present");
  }
  std::string unsupported;
  for (const store::MottakFile& file : parts.attachments()) {
    if (std::find(kAllowedTypes.begin(), kAllowedTypes.end(), file.content_type) ==
        kAllowedTypes.end()) {
      unsupported += unsupported.empty() ? "" : ", ";
      unsupported += file.content_type.empty() ? "(none)" : file.content_type;
    }
  }
  if (!unsupported.empty()) {
    return MakeError(ErrorCode::kUnsupportedMedia, "Unsupported file type(s): " + unsupported);
  }
  auto melding = mottak::ParseMelding(parts.payload());
  if (!melding.ok()) return MottakError(400, "CLIENTERROR-10001", melding.error().message, request);
  if (melding->avsender.id != *orgnr) {
    return MottakError(
        400, "CLIENTERROR-10001",
        "Melding/Avsender/@id must be the organisation in the token (" + *orgnr + ")", request);
  }
  store::InboundMessage message;
  message.orgnr = *orgnr;
  message.melding_id = melding->id;
  message.tjeneste = melding->tjeneste;
  message.payload = std::move(parts.payload());
  message.attachments = std::move(parts.attachments());
  auto receipt = context.store.StoreInbound(message, timefmt::NowMs());
  if (!receipt.ok()) return receipt.error();
  if (context.auto_receipt && !receipt->repeated) {
    if (Status s = PublishReceipt(context, *melding, *receipt, *orgnr); !s.ok()) {
      spdlog::error("mottak: the receipt for {} was not published: {} {}", receipt->mottak_id,
                    s.error().message, s.error().detail);
    }
  }
  std::string body = "{\"mottakId\":\"" + receipt->mottak_id + "\",\"mottattTidspunkt\":\"";
  timefmt::AppendOsloLocal(body, receipt->received_ms);
  body += "\",\"antallVedlegg\":" + std::to_string(receipt->antall_vedlegg) + "}";
  return Response::Json(std::move(body));
}

}  // namespace norreg::http::mottak_api
