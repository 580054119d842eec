// libFuzzer target for content negotiation (http/negotiation.hpp): the input is an Accept or a
// Content-Type header value. A crash or sanitizer report is a failure; a broken contract (abort)
// too: Negotiate picks one of the supported types or none, and an empty header picks the first.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/negotiation.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using norreg::http::MediaType;
  const std::string_view header(reinterpret_cast<const char*>(data), size);
  auto picked = norreg::http::Negotiate(header, {MediaType::kJson, MediaType::kXml});
  if (picked && *picked != MediaType::kJson && *picked != MediaType::kXml) std::abort();
  if (header.empty() && picked != MediaType::kJson) std::abort();
  (void)norreg::http::ParseContentType(header);
  return 0;
}
