#pragma once
// Escaping for the two wire formats, shared by every layer (hot paths: no allocation beyond
// `out`). Thread-safe, pure.
#include <string>
#include <string_view>

namespace norreg {

// Appends `s` as a quoted JSON string: escapes `"`, `\` and control characters (\n, \t, \r,
// \b, \f, others as \u00XX). Bytes >= 0x80 are copied as they are (UTF-8 passes through).
void AppendJsonString(std::string& out, std::string_view s);

// Appends `s` XML-escaped for element text or a double-quoted attribute: & < > " become
// entities, \r becomes &#13;, \n and \t stay; other control characters and invalid UTF-8 (or
// code points XML 1.0 forbids) become U+FFFD, so the output is always well-formed.
void AppendXmlEscaped(std::string& out, std::string_view s);

// Length of the valid UTF-8 sequence (of a code point XML 1.0 allows) at s[i], or 0.
size_t ValidUtf8Length(std::string_view s, size_t i);

}  // namespace norreg
