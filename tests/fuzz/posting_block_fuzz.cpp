// libFuzzer target for the search index's posting blocks (store/posting_block.hpp): any bytes go
// through DecodePostingBlock. A crash, sanitizer report or a broken contract (abort) is a
// failure: what decodes is at most kMaxBlockIds strictly ascending positive ids, and encoding
// them again gives back a block that decodes to the same ids.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "store/posting_block.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace norreg::store;
  const std::string_view block(reinterpret_cast<const char*>(data), size);
  std::vector<int64_t> ids;
  if (!DecodePostingBlock(block, ids).ok()) return 0;
  if (ids.size() > kMaxBlockIds) std::abort();
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] <= (i == 0 ? 0 : ids[i - 1])) std::abort();
  }
  std::string again;
  EncodePostingBlock(ids, again);
  std::vector<int64_t> back;
  if (!DecodePostingBlock(again, back).ok() || back != ids) std::abort();
  return 0;
}
