// libFuzzer target for tailored-extract criteria (freg/uttrekk_criteria.hpp): any bytes go
// through ParseUttrekkCriteria. A crash or sanitizer report is a failure; any verdict is a pass.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "freg/uttrekk_criteria.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)norreg::freg::ParseUttrekkCriteria(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
