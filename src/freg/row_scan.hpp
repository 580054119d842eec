#pragma once
// A small scanner over one stored row's JSON (the project's canonical compact text, though any
// JSON is accepted): finds a member's raw value without parsing the whole row or allocating.
// Malformed text reports "not found" instead of failing. Used on hot paths (tailored extracts,
// person search) where a row is read for one or two fields. Pure and thread-safe.
#include <cstddef>
#include <cstring>
#include <string_view>

namespace norreg::freg {

class RowScanner {
 public:
  explicit RowScanner(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  // The raw value text of the top-level member `key` of the object: for a string its contents
  // without the quotes (escapes left as they are; `is_string` true); for an object or array the
  // text from its opening bracket to the end of the input (see below); otherwise the value.
  // Returns false when `key` is absent or the text is not a well-formed object up to it.
  bool Find(std::string_view key, std::string_view& value, bool& is_string) {
    SkipWs();
    if (p_ == end_ || *p_ != '{') return false;
    ++p_;
    SkipWs();
    if (p_ != end_ && *p_ == '}') return false;
    while (true) {
      SkipWs();
      std::string_view k;
      if (!String(k)) return false;
      SkipWs();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      SkipWs();
      if (p_ == end_) return false;
      const char* start = p_;
      const bool str = *p_ == '"';
      const bool match = k == key;  // keys of our rows are plain names: no escapes to decode
      if (match && (*p_ == '{' || *p_ == '[')) {
        // A container is returned without finding its end: the text runs on to the end of the
        // input, which a nested Find never passes (it stops at the container's closing bracket).
        is_string = false;
        value = std::string_view(start, static_cast<size_t>(end_ - start));
        return true;
      }
      std::string_view sv;
      if (str) {
        if (!String(sv)) return false;
      } else if (!SkipValue()) {
        return false;
      }
      if (match) {
        is_string = str;
        value = str ? sv : std::string_view(start, static_cast<size_t>(p_ - start));
        return true;
      }
      SkipWs();
      if (p_ == end_ || *p_ != ',') return false;
      ++p_;
    }
  }

 private:
  void SkipWs() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  // At '"': the raw contents up to the closing quote.
  bool String(std::string_view& out) {
    if (p_ == end_ || *p_ != '"') return false;
    const char* start = ++p_;
    // memchr to the next quote; it closes the string unless an odd run of backslashes precedes it.
    const char* q = p_;
    while (true) {
      q = static_cast<const char*>(std::memchr(q, '"', static_cast<size_t>(end_ - q)));
      if (q == nullptr) {
        p_ = end_;
        return false;
      }
      size_t backslashes = 0;
      while (q - backslashes > start && q[-1 - static_cast<ptrdiff_t>(backslashes)] == '\\') {
        ++backslashes;
      }
      if (backslashes % 2 == 0) break;
      ++q;
    }
    out = std::string_view(start, static_cast<size_t>(q - start));
    p_ = q + 1;
    return true;
  }

  // Skips a non-string value; nested containers by bracket depth (strings inside skipped whole).
  bool SkipValue() {
    if (*p_ == '{' || *p_ == '[') {
      int depth = 0;
      while (p_ != end_) {
        const char c = *p_;
        if (c == '"') {
          std::string_view ignored;
          if (!String(ignored)) return false;
          continue;
        }
        if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          if (--depth == 0) {
            ++p_;
            return true;
          }
        }
        ++p_;
      }
      return false;
    }
    const char* start = p_;
    while (p_ != end_ && *p_ != ',' && *p_ != '}' && *p_ != ']' && *p_ != ' ' && *p_ != '\t' &&
           *p_ != '\n' && *p_ != '\r') {
      ++p_;
    }
    return p_ != start;
  }

  const char* p_;
  const char* end_;
};

// The string value of member `key` of object `json`, raw (escapes not decoded).
bool StringMember(std::string_view json, std::string_view key, std::string_view& out);

// The object value of member `key` of object `json` (its text runs on to the end of `json`; a
// nested lookup stops at its closing bracket).
bool ObjectMember(std::string_view json, std::string_view key, std::string_view& out);

}  // namespace norreg::freg
