// The before-steps of protected APIs: bearer token, scope, rate limit (SPEC 2.1, 3.2, 4).
#include "http/error_mapping.hpp"
#include "http/handlers/auth/auth_api.hpp"

namespace norreg::http::auth_api {
namespace {

using PrincipalPtr = std::shared_ptr<const auth::Principal>;

constexpr std::string_view kMissingMessage = "Mangler tilgangstoken (Authorization: Bearer).";

}  // namespace

std::optional<std::string_view> BearerToken(const Request& request) {
  auto header = request.Header("authorization");
  if (!header) return std::nullopt;
  std::string_view value = *header;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  std::string_view token = value.substr(kScheme.size());
  if (token.empty() || token.find_first_of(" \t,") != std::string_view::npos) return std::nullopt;
  return token;
}

Error MapAuthFailure(FailureStyle style, bool token_missing, Error error, Request& request) {
  switch (style) {
    case FailureStyle::kFreg:
      if (error.code == ErrorCode::kForbidden) return error;
      request.SetResponseHeader("WWW-Authenticate",
                                token_missing ? "Bearer" : "Bearer error=\"invalid_token\"");
      error.code = ErrorCode::kUnauthenticated;
      return error;
    case FailureStyle::kBrreg:
      request.SetResponseHeader("WWW-Authenticate",
                                token_missing ? kBrregNoToken : kBrregInvalidToken);
      error.code = ErrorCode::kUnauthenticated;  // a wrong scope is 401 at Brreg, not 403
      return error;
  }
  return error;
}

BeforeStep Authenticate(Protection protection, std::string scope, FailureStyle style) {
  return [protection, scope = std::move(scope), style](Request& request) -> std::optional<Error> {
    if (protection.validator == nullptr) return std::nullopt;
    auto token = BearerToken(request);
    if (!token) {
      const bool present = request.Header("authorization").has_value();
      return MapAuthFailure(style, !present,
                            MakeError(ErrorCode::kUnauthenticated, std::string(kMissingMessage),
                                      present ? "malformed Authorization header" : ""),
                            request);
    }
    const std::string_view address = auth::AddressOf(request.remote);
    std::optional<std::chrono::milliseconds> refused;
    auth::VerifyGate gate;
    if (protection.failure_gate != nullptr) {
      gate = [&] { return refused = protection.failure_gate->Blocked(address); };
    }
    auto principal = protection.validator->Validate(*token, scope, gate);
    if (!principal.ok()) {
      if (refused) {
        SetRetryAfter(request, *refused);
        return std::move(principal.error());
      }
      if (protection.failure_gate != nullptr &&
          principal.error().code == ErrorCode::kUnauthenticated) {
        protection.failure_gate->Failed(address);
      }
      return MapAuthFailure(style, false, std::move(principal.error()), request);
    }
    if (protection.rate_limiter != nullptr) {
      if (auto wait = protection.rate_limiter->Acquire((*principal)->consumer_orgnr)) {
        SetRetryAfter(request, *wait);
        return MakeError(ErrorCode::kRateLimited,
                         "For mange kall fra organisasjonen; prøv igjen om " +
                             std::to_string(wait->count()) + " ms.");
      }
    }
    request.context = std::move(principal).value();
    return std::nullopt;
  };
}

const auth::Principal* PrincipalOf(const Request& request) {
  const PrincipalPtr* principal = request.ContextAs<PrincipalPtr>();
  return principal != nullptr ? principal->get() : nullptr;
}

store::Disclosure DisclosureOf(const Request& request) {
  store::Disclosure disclosure;
  if (const auth::Principal* principal = PrincipalOf(request)) {
    disclosure.consumer_orgnr = principal->consumer_orgnr;
    disclosure.client_id = principal->client_id;
    disclosure.supplier_orgnr = principal->supplier_orgnr;
  }
  disclosure.endpoint = request.route ? request.route->name : std::string();
  disclosure.request_id = request.request_id;
  return disclosure;
}

}  // namespace norreg::http::auth_api
