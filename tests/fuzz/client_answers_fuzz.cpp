// libFuzzer target for the client's parsers of server answers (client/uttrekk.hpp): any bytes go
// through ParseBulkAnswer, and every document it yields through ParsePersonNumbers. A crash or
// sanitizer report is a failure; any verdict is a pass.
#include <cstddef>
#include <cstdint>
#include <string>

#include "client/uttrekk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  auto persons = norreg::client::ParseBulkAnswer(body);
  if (!persons.ok()) return 0;
  for (const auto& p : *persons) {
    const size_t readable =
        static_cast<size_t>(body.data() + body.capacity() - p.document.data());
    (void)norreg::client::ParsePersonNumbers(p.document, readable);
  }
  return 0;
}
