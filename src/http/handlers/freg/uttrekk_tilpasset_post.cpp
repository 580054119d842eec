// POST uttrekk/tilpasset — orders a tailored extract by criteria (SPEC 2.5).
#include "freg/uttrekk_criteria.hpp"
#include "http/handlers/auth/auth_api.hpp"
#include "http/handlers/freg/freg_api.hpp"
#include "service/uttrekk.hpp"

namespace norreg::http::freg_api {
Result<Response> PostUttrekkTilpasset(FregContext& context, Request& request) {
  if (context.uttrekk == nullptr) return MakeError(ErrorCode::kNotFound, {});
  auto type = NegotiateDocument(request);
  if (!type.ok()) return type.error();
  // The OpenAPI file describes the body as JSON only (TilpassetUttrekkJobbRequest).
  auto content = CheckContentType(request.Header("content-type").value_or(""), {MediaType::kJson});
  if (!content.ok()) return content.error();
  auto criteria = freg::ParseUttrekkCriteria(request.body);
  if (!criteria.ok()) return criteria.error();
  const auth::Principal* principal = auth_api::PrincipalOf(request);
  auto id = context.uttrekk->OrderTilpasset(principal ? principal->consumer_orgnr : "",
                                            std::move(*criteria), *context.package);
  return UttrekkOrderAnswer(*type, std::move(id), request);
}

}  // namespace norreg::http::freg_api
