// GET /outbound/available, GET /outbound/download, PUT /outbound/confirm (SPEC 3.2, seed 002).
#include "common/ids.hpp"
#include "common/time.hpp"
#include "http/handlers/auth/auth_api.hpp"
#include "http/handlers/mottak/mottak_api.hpp"

namespace norreg::http::mottak_api {
namespace {

constexpr int64_t kDayMs = 86'400'000;

Result<std::string> MottakId(const Request& request) {
  auto value = request.Query("mottakId");
  if (!value || value->empty()) return MakeError(ErrorCode::kInvalidInput, "mottakId is missing");
  if (!ids::IsUuid(*value)) return MakeError(ErrorCode::kInvalidInput, "mottakId is not a UUID");
  std::string id(*value);
  for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return id;
}

// The stored ZIP of a large reply, read piece by piece (from its file, or from the database) as it
// is sent.
class ZipStream final : public BodyStream {
 public:
  explicit ZipStream(std::unique_ptr<store::PieceReader> reader) : reader_(std::move(reader)) {}
  uint64_t size() const override { return reader_->size(); }
  Result<std::string_view> Next() override { return reader_->Next(); }

 private:
  std::unique_ptr<store::PieceReader> reader_;
};

// fraDato/tilDato (YYYY-MM-DD, Oslo days, both inclusive) -> [since, until).
Status ReadDates(const Request& request, store::AvailableQuery& query) {
  for (const auto& [name, is_until] : {std::pair{"fraDato", false}, std::pair{"tilDato", true}}) {
    auto value = request.Query(name);
    if (!value || value->empty()) continue;
    std::optional<int64_t> start;
    if (timefmt::IsValidDate(*value)) {
      start = timefmt::ParseOsloLocal(std::string(*value) + "T00:00:00");
    }
    if (!start) {
      return MakeError(ErrorCode::kInvalidInput, std::string(name) + " must be a date YYYY-MM-DD");
    }
    if (is_until) {
      // The end of that day: midnight of the next (23 or 25 hours away on a DST change).
      auto next = timefmt::ParseOsloLocal(
          timefmt::FormatOsloLocal(*start + kDayMs + 3 * 3'600'000).substr(0, 10) + "T00:00:00");
      query.until_ms = next.value_or(*start + kDayMs);
    } else {
      query.since_ms = start;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Response> GetAvailable(MottakContext& context, Request& request) {
  auto orgnr = TokenOrganisation(request);
  if (!orgnr.ok()) return orgnr.error();
  store::AvailableQuery query;
  query.orgnr = *orgnr;
  if (auto tjeneste = request.Query("tjeneste")) query.tjeneste = std::string(*tjeneste);
  if (Status s = ReadDates(request, query); !s.ok()) return s.error();
  auto available = context.mottak.Available(query);
  if (!available.ok()) return available.error();
  std::string body = "[";
  for (const store::OutboundInfo& info : *available) {
    if (body.size() > 1) body += ',';
    body += "{\"mottakId\":\"" + info.mottak_id + "\",\"version\":" + std::to_string(info.version) +
            ",\"orgnr\":" + info.orgnr + ",\"dokumentId\":\"" + info.dokument_id +
            "\",\"status\":\"ready\",\"oppdatert\":\"";
    timefmt::AppendOsloLocal(body, info.oppdatert_ms);
    body += "\"}";
  }
  body += ']';
  return Response::Json(std::move(body));
}

Result<Response> GetDownload(MottakContext& context, Request& request) {
  auto orgnr = TokenOrganisation(request);
  if (!orgnr.ok()) return orgnr.error();
  auto mottak_id = MottakId(request);
  if (!mottak_id.ok()) return mottak_id.error();
  auto zip = context.mottak.Download(*orgnr, *mottak_id, auth_api::DisclosureOf(request));
  if (!zip.ok()) return zip.error();
  Response response;
  if (zip->bytes) {
    response = Response::Shared(std::move(zip->bytes), "application/octet-stream");
  } else {
    response.content_type = "application/octet-stream";
    response.stream_body = std::make_shared<ZipStream>(std::move(zip->file));
  }
  response.SetHeader("Content-Disposition", "attachment; filename=\"" + *mottak_id + ".zip\"");
  return response;
}

Result<Response> PutConfirm(MottakContext& context, Request& request) {
  auto orgnr = TokenOrganisation(request);
  if (!orgnr.ok()) return orgnr.error();
  auto mottak_id = MottakId(request);
  if (!mottak_id.ok()) return mottak_id.error();
  // The rule (exactly one confirm of a reply wins; every other is 500 ERROR-00005 through
  // kConflict) is service::Mottak::Confirm's.
  if (Status s = context.mottak.Confirm(*orgnr, *mottak_id, timefmt::NowMs()); !s.ok()) {
    return s.error();
  }
  return Response::Make(200, "", "");
}

}  // namespace norreg::http::mottak_api
