// libFuzzer target for imported person documents (freg/document_import.hpp): any bytes go
// through ParsePersonDocument (schema validation and canonical rows). A crash or sanitizer report
// is a failure; a broken contract (abort) too: an accepted document has a valid number.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/ids.hpp"
#include "freg/document_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto doc = norreg::freg::ParsePersonDocument(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!doc.ok()) return 0;
  if (!norreg::ids::FnrProblem(doc->fnr).empty()) std::abort();
  return 0;
}
