#include "common/escape.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace norreg {
namespace {

TEST(AppendJsonStringTest, Escapes) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"", R"("")"},
      {"AKTPÅGIVENDE OLJE", R"("AKTPÅGIVENDE OLJE")"},
      {"a\"b\\c/d", R"("a\"b\\c/d")"},
      {"\n\r\t\b\f", R"("\n\r\t\b\f")"},
      {std::string("\x01\x1f\0", 3), R"("\u0001\u001f\u0000")"},
      {"\x7f", "\"\x7f\""},
      {"<&>", R"("<&>")"},
  };
  for (const Case& c : cases) {
    std::string out = "x";
    AppendJsonString(out, c.in);
    EXPECT_EQ(out, "x" + c.out) << c.in;
  }
}

TEST(AppendXmlEscapedTest, Escapes) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"", ""},
      {"plain text 123", "plain text 123"},
      {"a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e'f"},
      {"Ærlig Ødegård", "Ærlig Ødegård"},
      {"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80"},
      {"\t\n\r", "\t\n&#13;"},
      {std::string("\x01\0", 2), "\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"\xC3", "\xEF\xBF\xBD"},                                  // truncated sequence
      {"\xC3(", "\xEF\xBF\xBD("},                                // bad continuation
      {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},                  // overlong
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // UTF-16 surrogate
      {"\xEF\xBF\xBF", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // U+FFFF
      {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},  // > U+10FFFF
      {"\xFF", "\xEF\xBF\xBD"},
  };
  for (const Case& c : cases) {
    std::string out;
    AppendXmlEscaped(out, c.in);
    EXPECT_EQ(out, c.out) << c.in;
  }
}

}  // namespace
}  // namespace norreg
