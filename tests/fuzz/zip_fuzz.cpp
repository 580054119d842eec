// libFuzzer target for reading reply ZIPs (mottak/zip.hpp): any bytes go through ReadZip with a
// small expansion cap. A crash, sanitizer report or a broken contract (abort) is a failure: what
// is read has only safe, distinct entry names and stays within the cap.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "mottak/zip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace norreg::mottak;
  constexpr uint64_t kCap = 1 << 20;
  auto entries = ReadZip(std::string_view(reinterpret_cast<const char*>(data), size), kCap);
  if (!entries.ok()) return 0;
  uint64_t total = 0;
  std::set<std::string_view> names;
  for (const ZipEntry& e : *entries) {
    if (!IsSafeZipEntryName(e.name) || !names.insert(e.name).second) std::abort();
    total += e.content.size();
  }
  if (total > kCap) std::abort();
  return 0;
}
