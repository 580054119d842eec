// libFuzzer target for everything that reads a bearer token: ParseJwt and the full
// TokenValidator path (parse, claims, issuer/kid lookup, signature). Any result is a pass; a
// crash, leak or sanitizer report is a failure.
//
// The validator trusts one issuer with one fixed key (kid "k1"), so inputs that get past the
// parser reach the JWKS lookup and the signature check. A seed corpus entry can be made with
// SignJwt (a valid token makes the fuzzer explore the claim checks by mutation).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/jwt.hpp"
#include "auth/token_validator.hpp"

namespace {

norreg::auth::TokenValidator& Validator() {
  static norreg::auth::TokenValidator* validator = [] {
    auto key = norreg::auth::RsaKey::Generate(2048).value();
    std::string jwks = "{\"keys\":[" + key.PublicJwkJson("k1") + "]}";
    auto keys = std::make_shared<norreg::auth::JwksCache>(
        [jwks]() -> norreg::Result<std::string> { return jwks; }, std::chrono::hours(1));
    auto* v = new norreg::auth::TokenValidator();  // lives for the whole run
    v->AddIssuer("https://test.maskinporten.no/", keys);
    return v;
  }();
  return *validator;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  auto parsed = norreg::auth::ParseJwt(token);
  if (parsed.ok()) {
    // Exercise the accessors the validator relies on.
    (void)parsed->alg;
    (void)parsed->signature.size();
  }
  auto principal =
      Validator().ValidateAt(token, "folkeregister:deling/offentligmedhjemmel", 1'700'000'000);
  (void)principal.ok();
  return 0;
}
