// GET uttrekk/komplett?feedsekvensnr={n} — orders a complete extract as of n (SPEC 2.5).
#include "http/handlers/auth/auth_api.hpp"
#include "http/handlers/freg/freg_api.hpp"
#include "service/uttrekk.hpp"

namespace norreg::http::freg_api {
Result<Response> GetUttrekkKomplett(FregContext& context, Request& request) {
  if (context.uttrekk == nullptr) return MakeError(ErrorCode::kNotFound, {});
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  // A positive whole number. Values above the latest (however large) are capped to the latest.
  const std::optional<std::string_view> text = request.Query("feedsekvensnr");
  const Error invalid =
      MakeError(ErrorCode::kInvalidInput, "feedsekvensnr må være et positivt heltall");
  if (!text || text->empty()) return invalid;
  uint64_t seq = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return invalid;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    seq = seq > (UINT64_MAX - digit) / 10 ? UINT64_MAX : seq * 10 + digit;
  }
  if (seq == 0) return invalid;
  const auth::Principal* principal = auth_api::PrincipalOf(request);
  auto id = context.uttrekk->OrderKomplett(principal ? principal->consumer_orgnr : "", seq);
  return UttrekkOrderAnswer(*type, std::move(id), request);
}

}  // namespace norreg::http::freg_api
