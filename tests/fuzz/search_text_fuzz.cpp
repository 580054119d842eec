// libFuzzer target for the words of person search (freg/search_text.hpp): any bytes go through
// SearchWords, NormalizeSearchWord and PhoneticKey. A crash, sanitizer report or a broken
// contract (abort) is a failure:
//   - a normalised word and a key hold only A–Z, 0–9 and Æ Ø Å;
//   - SearchWords gives at most max_words non-empty words;
//   - the key of a non-empty normalised word is non-empty, and PhoneticKey normalises its input
//     first (keying the raw text and the normalised word agree).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "freg/search_text.hpp"

namespace {

bool OnlySearchCharacters(std::string_view word) {
  for (size_t i = 0; i < word.size(); ++i) {
    const char c = word[i];
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    // Æ C3 86, Ø C3 98, Å C3 85
    if (c == '\xC3' && i + 1 < word.size() &&
        (word[i + 1] == '\x86' || word[i + 1] == '\x98' || word[i + 1] == '\x85')) {
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t max_words = size % 7;
  const auto words = norreg::freg::SearchWords(text, max_words);
  Check(words.size() <= max_words);
  for (const std::string& word : words) {
    Check(!word.empty() && OnlySearchCharacters(word));
    const std::string key = norreg::freg::PhoneticKey(word);
    Check(!key.empty() && OnlySearchCharacters(key));
  }
  const std::string normalized = norreg::freg::NormalizeSearchWord(text);
  Check(OnlySearchCharacters(normalized));
  const std::string key = norreg::freg::PhoneticKey(normalized);
  Check(OnlySearchCharacters(key));
  Check(key.empty() == normalized.empty());
  Check(norreg::freg::PhoneticKey(text) == key);
  return 0;
}
