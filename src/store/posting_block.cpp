#include "store/posting_block.hpp"

#include "store/register_encoding.hpp"

namespace norreg::store {
namespace {

void PutVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

Error Damaged(std::string detail) {
  return MakeError(ErrorCode::kInternal, kStoreInternalMessage,
                   "posting block: " + std::move(detail));
}

}  // namespace

void EncodePostingBlock(std::span<const int64_t> ids, std::string& out) {
  int64_t before = 0;
  for (int64_t id : ids) {
    PutVarint(static_cast<uint64_t>(id - before), out);
    before = id;
  }
}

Status DecodePostingBlock(std::string_view block, std::vector<int64_t>& out) {
  uint64_t before = 0;
  size_t count = 0;
  size_t i = 0;
  while (i < block.size()) {
    uint64_t v = 0;
    int shift = 0;
    while (true) {
      if (i == block.size()) return Damaged("truncated number");
      const auto byte = static_cast<uint8_t>(block[i++]);
      if (shift == 63 && byte > 1) return Damaged("number too large");
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
      shift += 7;
      if (shift > 63) return Damaged("number too long");
    }
    if (v == 0) return Damaged("ids not ascending");
    if (v > static_cast<uint64_t>(INT64_MAX) - before) return Damaged("id too large");
    before += v;
    if (++count > kMaxBlockIds) return Damaged("too many ids");
    out.push_back(static_cast<int64_t>(before));
  }
  return Status::Ok();
}

}  // namespace norreg::store
