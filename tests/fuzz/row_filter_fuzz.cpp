// libFuzzer target for what rendering does to a row for an access package
// (freg/render.hpp, AppendWithoutKeys; docs/packages.md): any bytes are filtered. A crash,
// sanitizer report or broken contract (abort) is a failure: a refused input leaves the output as
// it was; an accepted one filters to itself (so no withheld member is left in it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "freg/packages.hpp"
#include "freg/render.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace norreg::freg;
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  std::string out = "x";
  if (!AppendWithoutKeys(out, json, kNumberKeys)) {
    if (out != "x") std::abort();
    return 0;
  }
  const std::string filtered = out.substr(1);
  std::string again;
  if (!AppendWithoutKeys(again, filtered, kNumberKeys) || again != filtered) std::abort();
  return 0;
}
