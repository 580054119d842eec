#include "common/escape.hpp"

#include <array>
#include <cstdint>

namespace norreg {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// 0: copy as is; 1: needs attention (escape, or UTF-8 check for XML).
constexpr std::array<uint8_t, 256> MakeJsonTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  return t;
}
constexpr std::array<uint8_t, 256> MakeXmlTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 1;
  for (int c = 0x80; c < 0x100; ++c) t[c] = 1;
  t['&'] = 1;
  t['<'] = 1;
  t['>'] = 1;
  t['"'] = 1;
  return t;
}
constexpr auto kJsonSpecial = MakeJsonTable();
constexpr auto kXmlSpecial = MakeXmlTable();

}  // namespace

size_t ValidUtf8Length(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  auto at = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  auto cont = [](uint8_t b) { return (b & 0xC0) == 0x80; };
  const size_t left = s.size() - i;
  if (b0 >= 0xC2 && b0 <= 0xDF) return left >= 2 && cont(at(1)) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (left < 3 || !cont(at(1)) || !cont(at(2))) return 0;
    if (b0 == 0xE0 && at(1) < 0xA0) return 0;                                       // overlong
    if (b0 == 0xED && at(1) > 0x9F) return 0;                                       // surrogates
    if (b0 == 0xEF && at(1) == 0xBF && (at(2) == 0xBE || at(2) == 0xBF)) return 0;  // FFFE/FFFF
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (left < 4 || !cont(at(1)) || !cont(at(2)) || !cont(at(3))) return 0;
    if (b0 == 0xF0 && at(1) < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && at(1) > 0x8F) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size() && kJsonSpecial[static_cast<uint8_t>(s[run])] == 0) ++run;
    out.append(s.data() + i, run - i);
    if (run == s.size()) break;
    const auto c = static_cast<uint8_t>(s[run]);
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(esc, 6);
      }
    }
    i = run + 1;
  }
  out.push_back('"');
}

void AppendXmlEscaped(std::string& out, std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size() && kXmlSpecial[static_cast<uint8_t>(s[run])] == 0) ++run;
    out.append(s.data() + i, run - i);
    if (run == s.size()) break;
    const auto c = static_cast<uint8_t>(s[run]);
    i = run + 1;
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\r':
        out.append("&#13;");
        break;
      case '\n':
      case '\t':
        out.push_back(static_cast<char>(c));
        break;
      default:
        if (c >= 0x80) {
          const size_t n = ValidUtf8Length(s, run);
          if (n > 0) {
            out.append(s.data() + run, n);
            i = run + n;
            break;
          }
        }
        out.append(kReplacementChar);
    }
  }
}

}  // namespace norreg
