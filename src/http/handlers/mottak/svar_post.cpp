// POST /norreg/mottak/v1/svar — the register side publishes a reply (see mottak_api.hpp).
#include <spdlog/spdlog.h>

#include "common/time.hpp"
#include "http/handlers/auth/auth_api.hpp"
#include "http/handlers/mottak/mottak_api.hpp"
#include "http/handlers/mottak/parts.hpp"
#include "http/negotiation.hpp"

namespace norreg::http::mottak_api {
namespace {

Result<Response> Publish(MottakContext& context, const Request& request, std::string xml,
                         std::vector<store::MottakFile> attachments) {
  auto published =
      context.mottak.PublishReply(std::move(xml), std::move(attachments), timefmt::NowMs());
  if (!published.ok()) return published.error();
  const auth::Principal* principal = auth_api::PrincipalOf(request);
  spdlog::info("mottak_svar rid={} producer={} to={} mottakId={} referanse={} vedlegg={}",
               request.request_id, principal ? principal->consumer_orgnr : "-", published->orgnr,
               published->mottak_id, published->melding_referanse, published->attachments);
  return Response::Json("{\"mottakId\":\"" + published->mottak_id + "\",\"dokumentId\":\"" +
                        published->dokument_id + "\"}");
}

// A reply without attachments: the body is the Melding, at most kMaxPayloadBytes.
class XmlSink final : public BodySink {
 public:
  XmlSink(MottakContext& context, const Request& request) : context_(context), request_(request) {}
  Status Write(std::string_view bytes) override {
    if (xml_.size() + bytes.size() > kMaxPayloadBytes) {
      return MakeError(ErrorCode::kTooLarge, "The reply Melding is larger than " +
                                                 std::to_string(kMaxPayloadBytes >> 20) + " MB");
    }
    xml_.append(bytes);
    return Status::Ok();
  }
  Result<Response> Finish() override { return Publish(context_, request_, std::move(xml_), {}); }

 private:
  MottakContext& context_;
  const Request& request_;
  std::string xml_;
};

}  // namespace

Result<std::unique_ptr<BodySink>> OpenReply(MottakContext& context, Request& request) {
  const std::string_view content_type = request.Header("content-type").value_or("");
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  if (EqualsIgnoreCase(media, "application/xml") || EqualsIgnoreCase(media, "text/xml")) {
    return std::unique_ptr<BodySink>(std::make_unique<XmlSink>(context, request));
  }
  if (EqualsIgnoreCase(media, "multipart/form-data")) {
    return OpenPartsSink(context.mottak, content_type, [&context, &request](MottakParts& parts) {
      return Publish(context, request, std::move(parts.payload), std::move(parts.attachments));
    });
  }
  return MakeError(ErrorCode::kUnsupportedMedia,
                   "Content-Type must be application/xml or multipart/form-data");
}

}  // namespace norreg::http::mottak_api
