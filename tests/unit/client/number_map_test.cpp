#include "client/number_map.hpp"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace norreg::client {
namespace {

TEST(NumberMap, FindsWhatWasInsertedAndNothingElse) {
  NumberMap map;
  EXPECT_EQ(map.Find(1), nullptr);
  auto [slot, inserted] = map.TryEmplace(3896601295, 7);
  EXPECT_TRUE(inserted);
  EXPECT_EQ(*slot, 7);
  auto [again, second] = map.TryEmplace(3896601295, 9);
  EXPECT_FALSE(second);
  EXPECT_EQ(*again, 7);  // the existing value is kept
  *again = 11;
  EXPECT_EQ(*map.Find(3896601295), 11);
  EXPECT_EQ(map.Find(3896601296), nullptr);
  EXPECT_EQ(map.size(), 1u);
}

TEST(NumberMap, TheExtremeKeysAreOrdinaryKeys) {
  NumberMap map;
  map.TryEmplace(0, 1);
  map.TryEmplace(9'999'999'999'999'999'999ULL, 2);  // the largest 19-digit number
  EXPECT_EQ(*map.Find(0), 1);
  EXPECT_EQ(*map.Find(9'999'999'999'999'999'999ULL), 2);
  EXPECT_EQ(map.size(), 2u);
}

TEST(NumberMap, AgreesWithUnorderedMapThroughGrowthAndEraseIf) {
  NumberMap map;
  std::unordered_map<uint64_t, int64_t> reference;
  std::mt19937_64 random(42);
  for (int i = 0; i < 200'000; ++i) {
    // Eleven-digit numbers, some repeated, some consecutive.
    const uint64_t key =
        i % 3 == 0 ? 10'000'000'000ULL + static_cast<uint64_t>(i) : random() % 100'000'000'000ULL;
    const int64_t value = static_cast<int64_t>(random() % 1000);
    auto [slot, inserted] = map.TryEmplace(key, value);
    auto [it, ref_inserted] = reference.try_emplace(key, value);
    ASSERT_EQ(inserted, ref_inserted);
    if (!inserted) *slot = it->second = std::max(*slot, value);
  }
  ASSERT_EQ(map.size(), reference.size());
  for (const auto& [key, value] : reference) ASSERT_EQ(*map.Find(key), value) << key;
  map.EraseIf([](uint64_t, int64_t value) { return value < 500; });
  std::erase_if(reference, [](const auto& entry) { return entry.second < 500; });
  ASSERT_EQ(map.size(), reference.size());
  for (const auto& [key, value] : reference) ASSERT_EQ(*map.Find(key), value) << key;
  for (uint64_t probe = 0; probe < 1000; ++probe) {
    EXPECT_EQ(map.Find(probe * 7919) != nullptr, reference.contains(probe * 7919));
  }
  map.Clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.Find(reference.begin()->first), nullptr);
}

}  // namespace
}  // namespace norreg::client
