#include "freg/search_text.hpp"

#include <string>

namespace norreg::freg {
namespace {

// Words are handled as sequences of code points; after normalisation every code point is one of
// A–Z, 0–9, Æ, Ø, Å.
constexpr char32_t kAe = U'\u00C6';  // Æ
constexpr char32_t kOe = U'\u00D8';  // Ø
constexpr char32_t kAa = U'\u00C5';  // Å
constexpr char32_t kInvalid = 0xFFFFFFFF;
// The phonetic key's symbol for the kj and sj sounds (an input X never survives to the key: it
// becomes KS).
constexpr char32_t kSibilant = U'X';

// Decodes the code point at `pos` and advances past it. An invalid sequence (bad lead byte,
// missing continuation byte, overlong form, surrogate, > U+10FFFF) gives kInvalid and advances one
// byte, so every byte is looked at a bounded number of times.
char32_t DecodeNext(std::string_view s, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    ++pos;
    return kInvalid;
  }
  if (pos + len > s.size()) {
    ++pos;
    return kInvalid;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[pos + k]);
    if ((b & 0xC0) != 0x80) {
      ++pos;
      return kInvalid;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++pos;
    return kInvalid;
  }
  pos += len;
  return cp;
}

constexpr bool In(char32_t c, char32_t lo, char32_t hi) { return c >= lo && c <= hi; }

// The normalised form of one code point that is not a combining mark: "" when dropped.
std::u32string_view Fold(char32_t c) {
  static constexpr std::u32string_view kAscii = U"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  if (c < 0x80) {
    if (In(c, 'a', 'z')) return kAscii.substr(c - 'a', 1);
    if (In(c, 'A', 'Z')) return kAscii.substr(c - 'A', 1);
    if (In(c, '0', '9')) return kAscii.substr(26 + (c - '0'), 1);
    return {};
  }
  if (c < 0xC0 || c == 0xD7 || c == 0xF7) return {};
  if (c == 0xFF) return U"Y";        // ÿ
  if (In(c, 0xE0, 0xFE)) c -= 0x20;  // Latin-1 lower case → upper case
  if (c <= 0xDF) {
    if (In(c, 0xC0, 0xC3)) return U"A";
    if (c == 0xC4 || c == 0xC6) return U"\u00C6";  // Ä Æ → Æ
    if (c == 0xC5) return U"\u00C5";
    if (c == 0xC7) return U"C";
    if (In(c, 0xC8, 0xCB)) return U"E";
    if (In(c, 0xCC, 0xCF)) return U"I";
    if (c == 0xD0) return U"D";
    if (c == 0xD1) return U"N";
    if (In(c, 0xD2, 0xD5)) return U"O";
    if (c == 0xD6 || c == 0xD8) return U"\u00D8";  // Ö Ø → Ø
    if (In(c, 0xD9, 0xDB)) return U"U";
    if (c == 0xDC || c == 0xDD) return U"Y";  // Ü Ý
    if (c == 0xDE) return U"TH";              // Þ
    return U"SS";                             // ß
  }
  // Latin Extended-A.
  if (In(c, 0x100, 0x105)) return U"A";
  if (In(c, 0x106, 0x10D)) return U"C";
  if (In(c, 0x10E, 0x111)) return U"D";
  if (In(c, 0x112, 0x11B)) return U"E";
  if (In(c, 0x11C, 0x123)) return U"G";
  if (In(c, 0x124, 0x127)) return U"H";
  if (In(c, 0x128, 0x131)) return U"I";
  if (In(c, 0x132, 0x133)) return U"IJ";
  if (In(c, 0x134, 0x135)) return U"J";
  if (In(c, 0x136, 0x138)) return U"K";
  if (In(c, 0x139, 0x142)) return U"L";
  if (In(c, 0x143, 0x14B)) return U"N";
  if (In(c, 0x14C, 0x14F)) return U"O";
  if (In(c, 0x150, 0x153)) return U"\u00D8";  // Ő Œ → Ø
  if (In(c, 0x154, 0x159)) return U"R";
  if (In(c, 0x15A, 0x161)) return U"S";
  if (In(c, 0x162, 0x167)) return U"T";
  if (In(c, 0x170, 0x171)) return U"Y";  // Ű
  if (In(c, 0x168, 0x173)) return U"U";
  if (In(c, 0x174, 0x175)) return U"W";
  if (In(c, 0x176, 0x178)) return U"Y";
  if (In(c, 0x179, 0x17E)) return U"Z";
  if (c == 0x17F) return U"S";  // long s
  return {};
}

// Appends the normalised form of `c` to `out`. Combining marks act on the letter before them.
void AppendFolded(char32_t c, std::u32string& out) {
  if (In(c, 0x300, 0x36F)) {
    if (out.empty()) return;
    char32_t& last = out.back();
    if (c == 0x30A && last == U'A') {
      last = kAa;             // ring above
    } else if (c == 0x308) {  // diaeresis
      if (last == U'A') last = kAe;
      if (last == U'O') last = kOe;
      if (last == U'U') last = U'Y';
    } else if ((c == 0x337 || c == 0x338) && last == U'O') {
      last = kOe;  // solidus overlay
    }
    return;
  }
  out.append(Fold(c));
}

void NormalizeInto(std::string_view word, std::u32string& out) {
  size_t pos = 0;
  while (pos < word.size()) {
    const char32_t c = DecodeNext(word, pos);
    if (c != kInvalid) AppendFolded(c, out);
  }
}

void AppendUtf8(const std::u32string& symbols, std::string& out) {
  for (const char32_t c : symbols) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {  // only Æ Ø Å reach here: two bytes
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
}

bool IsSeparator(char32_t c) {
  if (c < 0x80) {
    if (In(c, 'a', 'z') || In(c, 'A', 'Z') || In(c, '0', '9')) return false;
    return c != '\'' && c != '`';
  }
  if (c <= 0xBF) return c != 0xB4;  // ´ is used as an apostrophe
  if (c == 0xD7 || c == 0xF7) return true;
  if (In(c, 0x2000, 0x206F)) return c != 0x2018 && c != 0x2019 && c != 0x201B;
  return c == 0x3000;
}

bool IsVowel(char32_t c) {
  switch (c) {
    case U'A':
    case U'E':
    case U'I':
    case U'O':
    case U'U':
    case U'Y':
    case kAe:
    case kOe:
    case kAa:
      return true;
    default:
      return false;
  }
}

bool IsFrontVowel(char32_t c) {
  return c == U'E' || c == U'I' || c == U'Y' || c == kAe || c == kOe;
}

bool IsLetter(char32_t c) { return In(c, U'A', U'Z') || c == kAe || c == kOe || c == kAa; }
bool IsConsonant(char32_t c) { return IsLetter(c) && !IsVowel(c); }

// One left-to-right pass of the rewrite rules of docs/search.md ("Phonetic key"); each rule looks
// at most two symbols ahead and one back, so the pass is linear.
std::u32string Rewrite(const std::u32string& s) {
  std::u32string out;
  out.reserve(s.size() + 4);
  const auto at = [&s](size_t k) -> char32_t { return k < s.size() ? s[k] : 0; };
  size_t i = 0;
  while (i < s.size()) {
    const char32_t c = s[i];
    const char32_t n1 = at(i + 1);
    const char32_t n2 = at(i + 2);
    const char32_t prev = i > 0 ? s[i - 1] : 0;
    const bool start = i == 0;
    size_t used = 1;
    switch (c) {
      case U'S':
        if ((n1 == U'C' && n2 == U'H') || (n1 == U'K' && n2 == U'J')) {
          out.push_back(kSibilant), used = 3;
        } else if (start && n1 == U'K' && (n2 == U'I' || n2 == U'Y')) {
          out.push_back(kSibilant), used = 2;
        } else if (n1 == U'J' || n1 == U'H') {
          out.push_back(kSibilant), used = 2;
        } else {
          out.push_back(U'S');
        }
        break;
      case U'K':
        if (n1 == U'J') {
          out.push_back(kSibilant), used = 2;
        } else if (start && (n1 == U'I' || n1 == U'Y')) {
          out.push_back(kSibilant);
        } else {
          out.push_back(U'K');
        }
        break;
      case U'T':
        if (n1 == U'J') {
          out.push_back(kSibilant), used = 2;
        } else {
          out.push_back(U'T');
        }
        break;
      case U'C':
        if (n1 == U'H') {
          out.push_back(start && IsVowel(n2) ? kSibilant : U'K'), used = 2;
        } else if (n1 == U'K') {
          out.push_back(U'K'), used = 2;
        } else {
          out.push_back(IsFrontVowel(n1) ? U'S' : U'K');
        }
        break;
      case U'G':
        if (n1 == U'J') {
          out.push_back(U'J'), used = 2;
        } else {
          out.push_back(U'G');
        }
        break;
      case U'D':
        if (start && n1 == U'J') {
          out.push_back(U'J'), used = 2;
        } else {
          out.push_back(U'D');
        }
        break;
      case U'P':
        if (n1 == U'H') {
          out.push_back(U'F'), used = 2;
        } else {
          out.push_back(U'P');
        }
        break;
      case U'Q':
        if (n1 == U'U') {
          out.append(U"KV"), used = 2;
        } else {
          out.push_back(U'K');
        }
        break;
      case U'W':
        out.push_back(U'V');
        break;
      case U'Z':
        out.push_back(U'S');
        break;
      case U'X':
        out.append(U"KS");
        break;
      case U'H':
        // Heard only before a vowel, and then only at the start or after a vowel.
        if ((start || IsVowel(prev)) && IsVowel(n1)) out.push_back(U'H');
        break;
      case U'A':
        if (n1 == U'A') {
          out.push_back(kAa), used = 2;
        } else if (n1 == U'E') {
          out.push_back(kAe), used = 2;
        } else {
          out.push_back(U'A');
        }
        break;
      case U'O':
        if (n1 == U'E') {
          out.push_back(kOe), used = 2;
        } else {
          out.push_back(U'O');
        }
        break;
      case U'I':
        out.push_back(U'I');
        if (n1 == U'E' && IsConsonant(n2)) used = 2;  // NIELSEN → NILSEN
        break;
      case U'Y':
        if (!start && IsVowel(prev)) {
          out.push_back(IsVowel(n1) ? U'J' : U'I');  // MAYA → MAJA, ØYVIND → ØIVIND
        } else {
          out.push_back(U'Y');
        }
        break;
      default:
        out.push_back(c);
        break;
    }
    i += used;
  }
  return out;
}

}  // namespace

std::string NormalizeSearchWord(std::string_view word) {
  std::u32string symbols;
  symbols.reserve(word.size());
  NormalizeInto(word, symbols);
  std::string out;
  out.reserve(symbols.size() + 4);
  AppendUtf8(symbols, out);
  return out;
}

std::vector<std::string> SearchWords(std::string_view text, size_t max_words) {
  std::vector<std::string> words;
  std::u32string current;
  const auto flush = [&] {
    if (!current.empty()) {
      std::string word;
      AppendUtf8(current, word);
      words.push_back(std::move(word));
      current.clear();
    }
  };
  size_t pos = 0;
  while (pos < text.size() && words.size() < max_words) {
    const char32_t c = DecodeNext(text, pos);
    if (c == kInvalid) continue;
    if (IsSeparator(c)) {
      flush();
    } else {
      AppendFolded(c, current);
    }
  }
  if (words.size() < max_words) flush();
  return words;
}

std::string PhoneticKey(std::string_view normalized_word) {
  std::u32string symbols;
  symbols.reserve(normalized_word.size());
  NormalizeInto(normalized_word, symbols);
  std::u32string rewritten = Rewrite(symbols);
  // Repeated letters sound as one (digits are kept as they are).
  std::u32string key;
  key.reserve(rewritten.size());
  for (const char32_t c : rewritten) {
    if (key.empty() || c != key.back() || !IsLetter(c)) key.push_back(c);
  }
  // Only a word of nothing but silent H's rewrites to nothing; its key is the H.
  if (key.empty() && !symbols.empty()) key.push_back(U'H');
  std::string out;
  out.reserve(key.size() + 4);
  AppendUtf8(key, out);
  return out;
}

}  // namespace norreg::freg
