// POST /inbound/upload — a party sends a Melding with attachments (SPEC 3.1).
#include "common/time.hpp"
#include "http/handlers/mottak/mottak_api.hpp"
#include "http/handlers/mottak/parts.hpp"

namespace norreg::http::mottak_api {
namespace {

Result<Response> FinishUpload(MottakContext& context, Request& request, const std::string& orgnr,
                              MottakParts& parts) {
  auto melding = service::Mottak::CheckUpload(parts.payload, orgnr);
  if (!melding.ok()) return MottakError(400, "CLIENTERROR-10001", melding.error().message, request);
  auto receipt = context.mottak.StoreUpload(orgnr, *melding, std::move(parts.payload),
                                            std::move(parts.attachments), timefmt::NowMs());
  if (!receipt.ok()) return receipt.error();
  std::string body = "{\"mottakId\":\"" + receipt->mottak_id + "\",\"mottattTidspunkt\":\"";
  timefmt::AppendOsloLocal(body, receipt->received_ms);
  body += "\",\"antallVedlegg\":" + std::to_string(receipt->antall_vedlegg) + "}";
  return Response::Json(std::move(body));
}

}  // namespace

Result<std::unique_ptr<BodySink>> OpenUpload(MottakContext& context, Request& request) {
  auto orgnr = TokenOrganisation(request);
  if (!orgnr.ok()) return orgnr.error();
  return OpenPartsSink(context.mottak, request.Header("content-type").value_or(""),
                       [&context, &request, orgnr = std::move(*orgnr)](MottakParts& parts) {
                         return FinishUpload(context, request, orgnr, parts);
                       });
}

}  // namespace norreg::http::mottak_api
