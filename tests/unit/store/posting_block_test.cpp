// Posting blocks of the search index (store/posting_block.hpp): what is encoded decodes back, and
// damaged bytes are errors, never ids.
#include "store/posting_block.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace norreg::store {
namespace {

std::vector<int64_t> Decoded(std::string_view block, bool* ok = nullptr) {
  std::vector<int64_t> ids;
  Status s = DecodePostingBlock(block, ids);
  if (ok != nullptr) *ok = s.ok();
  return ids;
}

TEST(PostingBlock, RoundTripsAscendingIds) {
  for (const std::vector<int64_t>& ids :
       {std::vector<int64_t>{}, std::vector<int64_t>{1}, std::vector<int64_t>{5, 6, 7, 300, 70000},
        std::vector<int64_t>{1, std::numeric_limits<int64_t>::max()}}) {
    std::string block;
    EncodePostingBlock(ids, block);
    bool ok = false;
    EXPECT_EQ(Decoded(block, &ok), ids);
    EXPECT_TRUE(ok);
  }
  // Close ids cost a byte each.
  std::vector<int64_t> dense;
  for (size_t i = 0; i < kMaxBlockIds; ++i) dense.push_back(1'000'000 + static_cast<int64_t>(i));
  std::string block;
  EncodePostingBlock(dense, block);
  EXPECT_EQ(block.size(), 3 + kMaxBlockIds - 1);
  EXPECT_EQ(Decoded(block), dense);
}

TEST(PostingBlock, DamagedBytesAreErrors) {
  for (std::string_view damaged :
       {std::string_view("\x80", 1),                                           // truncated number
        std::string_view("\x05\x00", 2),                                       // an id repeated
        std::string_view("\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11),  // too long
        std::string_view("\xff\xff\xff\xff\xff\xff\xff\xff\x7f\x01", 10)}) {   // past int64
    bool ok = true;
    Decoded(damaged, &ok);
    EXPECT_FALSE(ok) << damaged.size();
  }
  std::string too_many(kMaxBlockIds + 1, '\x01');
  bool ok = true;
  Decoded(too_many, &ok);
  EXPECT_FALSE(ok);
}

}  // namespace
}  // namespace norreg::store
