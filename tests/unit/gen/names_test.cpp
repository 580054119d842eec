// The generator's word tables against the phonetic key of person search (docs/search.md): the
// synthetic register's names are Norwegian adjectives and nouns, and the key must not be so
// coarse that they collapse — distinct words keep distinct keys nearly always.
#include "gen/names.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

#include "freg/search_text.hpp"

namespace norreg::gen {
namespace {

TEST(PhoneticKey, IsNotTooCoarseForTheSyntheticNames) {
  std::set<std::string> keys;
  for (const std::string_view word : AdjectiveNames()) keys.insert(freg::PhoneticKey(word));
  const size_t words = AdjectiveNames().size();
  EXPECT_GE(words, 150U);
  EXPECT_GE(keys.size(), words - 5) << "of " << words << " adjectives";
}

}  // namespace
}  // namespace norreg::gen
