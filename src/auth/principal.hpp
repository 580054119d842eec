#pragma once
// Who is calling: what a verified Maskinporten access token says (SPEC 4). Plain value.
#include <cstdint>
#include <string>

namespace norreg::auth {

struct Principal {
  std::string issuer;          // `iss`, exact
  std::string consumer_orgnr;  // 9 digits from consumer.ID "0192:<orgnr>" (check digit valid)
  std::string supplier_orgnr;  // from supplier.ID, "" when no supplier acts for the consumer
  std::string client_id;       // `client_id`
  std::string scope;           // `scope` as in the token (space-separated)
  std::string jti;             // `jti`, "" when absent
  int64_t exp = 0;             // `exp`, seconds since the epoch

  // True when `wanted` is one whole space-separated token of `scope`.
  bool HasScope(std::string_view wanted) const;
};

}  // namespace norreg::auth
