// GET uttrekk/{jobbId}/batch/{batchnr} — one batch of an extract job (SPEC 2.5). JSON batches are
// sent from the service's shared buffer without a copy; XML is transcoded from it.
#include "http/handlers/auth/auth_api.hpp"
#include "http/handlers/freg/freg_api.hpp"
#include "service/uttrekk.hpp"

namespace norreg::http::freg_api {

Result<Response> GetUttrekkBatch(FregContext& context, Request& request) {
  if (context.uttrekk == nullptr) return MakeError(ErrorCode::kNotFound, {});
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  // batchnr: a whole number 0..2^63-1 (OpenAPI int64); anything else is 400.
  const std::string_view text = request.Param("batchnr");
  const Error invalid =
      MakeError(ErrorCode::kInvalidInput, "batchnr må være et heltall fra og med 0");
  if (text.empty() || text.size() > 19) return invalid;
  uint64_t batchnr = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return invalid;
    batchnr = batchnr * 10 + static_cast<uint64_t>(c - '0');
  }
  if (batchnr > static_cast<uint64_t>(INT64_MAX)) return invalid;

  const auth::Principal* principal = auth_api::PrincipalOf(request);
  auto batch = context.uttrekk->Batch(principal ? principal->consumer_orgnr : "",
                                      request.Param("jobbId"), batchnr);
  if (!batch.ok()) return batch.error();

  // A tailored batch discloses who matches the criteria: its fødselsnumre are recorded. A
  // complete batch names opaque document ids only; the persons behind them are disclosed (and
  // recorded with their numbers) by the archive lookups that follow, so the batch itself is
  // recorded as one reference. Logging 100 000 ids at every fetch made the log, not the batch,
  // the cost of serving it (bench/uttrekk.sh).
  std::vector<std::string> disclosed;
  if (batch->kind == service::UttrekkKind::kTilpasset) {
    disclosed.reserve(batch->count);
    service::ForEachBatchId(*batch->body, [&](std::string_view id) { disclosed.emplace_back(id); });
  } else if (batch->count > 0) {
    disclosed.push_back("uttrekk:" + std::string(request.Param("jobbId")) + "/batch/" +
                        std::string(text));
  }
  if (Status s = context.lookup.Disclose(CallerOf(context, request), std::move(disclosed));
      !s.ok()) {
    return s.error();
  }

  if (*type == MediaType::kXml) {
    const std::string_view field = batch->kind == service::UttrekkKind::kKomplett
                                       ? "dokumentidentifikator"
                                       : "foedselsEllerDNummer";
    Response response;
    response.content_type = std::string(MediaTypeName(*type));
    std::string& out = response.body;
    out.reserve(batch->body->size() * 2 + 128);
    out += "<uttrekkDataResponse xmlns=\"folkeregisteret:tilgjengeliggjoering:uttrekk:v1\">";
    service::ForEachBatchId(*batch->body, [&](std::string_view id) {
      out += '<';
      out += field;
      out += '>';
      out += id;
      out += "</";
      out += field;
      out += '>';
    });
    out += "</uttrekkDataResponse>";
    return response;
  }
  return Response::Shared(batch->body, std::string(MediaTypeName(*type)));
}

}  // namespace norreg::http::freg_api
