#include "http/multipart.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace norreg::http {
namespace {

constexpr std::string_view kCrlf = "\r\n";

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLower(a[i]) != ToLower(b[i])) return false;
  }
  return true;
}

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 7230 tchar.
bool IsTokenChar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// RFC 2046 bcharsnospace.
bool IsBcharNoSpace(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("'()+_,-./:=?").find(c) != std::string_view::npos;
}

// The first occurrence of `needle` (at least 3 bytes, its first byte occurring nowhere else in
// it: CR in "\r\n--boundary") in hay[0, n), or npos. Linear in the worst case: a candidate
// position is verified only when its first, second and last bytes match, and since the first
// byte occurs once in the needle, verified prefixes never overlap another candidate's.
size_t FindDelimiter(const char* hay, size_t n, std::string_view needle) {
  const size_t m = needle.size();
  if (n < m) return std::string_view::npos;
  const size_t end = n - m + 1;  // candidate starts are [0, end)
  const char c0 = needle[0];
  const char c1 = needle[1];
  const char cl = needle[m - 1];
  size_t i = 0;
#if defined(__SSE2__)
  // 16 candidates at a time (W. Mula's "SIMD-friendly substring search"): ~1 ms for 35 MB of
  // ordinary content, and no per-byte calls on content full of CRs.
  const __m128i v0 = _mm_set1_epi8(c0);
  const __m128i v1 = _mm_set1_epi8(c1);
  const __m128i vl = _mm_set1_epi8(cl);
  for (; i + 16 <= end; i += 16) {
    const auto* p = reinterpret_cast<const __m128i*>(hay + i);
    const __m128i a = _mm_cmpeq_epi8(_mm_loadu_si128(p), v0);
    const __m128i b =
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(hay + i + 1)), v1);
    const __m128i c =
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(hay + i + m - 1)), vl);
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(_mm_and_si128(a, b), c)));
    while (mask != 0) {
      const size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
      if (std::memcmp(hay + at + 2, needle.data() + 2, m - 3) == 0) return at;
      mask &= mask - 1;
    }
  }
#endif
  while (i < end) {
    const void* hit = std::memchr(hay + i, c0, end - i);
    if (hit == nullptr) break;
    const size_t at = static_cast<size_t>(static_cast<const char*>(hit) - hay);
    if (hay[at + 1] == c1 && hay[at + m - 1] == cl &&
        std::memcmp(hay + at + 2, needle.data() + 2, m - 3) == 0) {
      return at;
    }
    i = at + 1;
  }
  return std::string_view::npos;
}

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message));
}

// Reads `; name=value` parameters (value a token or a quoted-string with backslash escapes) one
// at a time from what follows a media type or disposition type. Parameter names come back lower
// case. Used by MultipartBoundary and the Content-Disposition parser.
class ParamReader {
 public:
  explicit ParamReader(std::string_view rest) : rest_(rest) {}

  // true with name/value set; false at the end of input or on a syntax error (then bad() is true).
  bool Next(std::string& name, std::string& value) {
    rest_ = TrimWsp(rest_);
    if (rest_.empty()) return false;
    if (rest_.front() != ';') return Fail();
    rest_.remove_prefix(1);
    rest_ = TrimWsp(rest_);
    if (rest_.empty()) return false;  // a trailing `;` is common and harmless
    size_t n = 0;
    while (n < rest_.size() && IsTokenChar(rest_[n])) ++n;
    if (n == 0) return Fail();
    name.assign(rest_.substr(0, n));
    for (char& c : name) c = ToLower(c);
    rest_.remove_prefix(n);
    rest_ = TrimWsp(rest_);
    if (rest_.empty() || rest_.front() != '=') return Fail();
    rest_.remove_prefix(1);
    rest_ = TrimWsp(rest_);
    value.clear();
    if (!rest_.empty() && rest_.front() == '"') {
      size_t i = 1;
      for (;; ++i) {
        if (i >= rest_.size()) return Fail();  // unterminated quoted-string
        const char c = rest_[i];
        if (c == '"') break;
        if (c == '\\') {
          if (++i >= rest_.size()) return Fail();
          value.push_back(rest_[i]);
          continue;
        }
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return Fail();
        value.push_back(c);
      }
      rest_.remove_prefix(i + 1);
      quoted_ = true;
    } else {
      size_t i = 0;
      while (i < rest_.size() && rest_[i] != ';' && !IsWsp(rest_[i])) {
        const char c = rest_[i];
        if (c == '"' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return Fail();
        ++i;
      }
      if (i == 0) return Fail();
      value.assign(rest_.substr(0, i));
      rest_.remove_prefix(i);
      quoted_ = false;
    }
    return true;
  }

  bool bad() const { return bad_; }
  bool quoted() const { return quoted_; }

 private:
  bool Fail() {
    bad_ = true;
    return false;
  }

  std::string_view rest_;
  bool bad_ = false;
  bool quoted_ = false;
};

// Splits "type; params" into the trimmed type and the parameter text.
std::pair<std::string_view, std::string_view> SplitType(std::string_view value) {
  const size_t semi = value.find(';');
  if (semi == std::string_view::npos) return {TrimWsp(value), {}};
  return {TrimWsp(value.substr(0, semi)), value.substr(semi)};
}

Status ParseContentDisposition(std::string_view value, MultipartPartHeaders& out) {
  auto [type, params] = SplitType(value);
  if (!EqualsIgnoreCase(type, "form-data")) {
    return Invalid("multipart part: Content-Disposition is not form-data");
  }
  ParamReader reader(params);
  std::string pname;
  std::string pvalue;
  bool have_name = false;
  bool have_filename = false;
  while (reader.Next(pname, pvalue)) {
    if (pname == "name") {
      if (have_name) return Invalid("multipart part: Content-Disposition repeats name");
      have_name = true;
      out.name = std::move(pvalue);
    } else if (pname == "filename") {
      if (have_filename) return Invalid("multipart part: Content-Disposition repeats filename");
      have_filename = true;
      out.filename = std::move(pvalue);
    }
    // Others (filename* from RFC 5987, ...) are ignored: RFC 7578 section 4.2 says senders
    // should not use filename*.
  }
  if (reader.bad()) return Invalid("multipart part: malformed Content-Disposition parameters");
  if (!have_name || out.name.empty()) {
    return Invalid("multipart part: Content-Disposition has no name");
  }
  return {};
}

// Parses one part's header lines (the block without its terminating empty line). Each line ends
// in CRLF.
Status ParsePartHeaders(std::string_view block, MultipartPartHeaders& out) {
  bool have_disposition = false;
  bool have_type = false;
  // Checked first so that a folded Content-Disposition is reported as what it is.
  if (block.find("\r\n ") != std::string_view::npos ||
      block.find("\r\n\t") != std::string_view::npos) {
    return Invalid("multipart part: folded header lines are not supported");
  }
  while (!block.empty()) {
    const size_t eol = block.find(kCrlf);
    // The caller hands over a block ending in CRLF, so every line has one.
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (line.empty() || IsWsp(line.front())) {
      return Invalid("multipart part: folded header lines are not supported");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Invalid("multipart part: malformed header line");
    }
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!IsTokenChar(c)) return Invalid("multipart part: malformed header name");
    }
    const std::string_view value = TrimWsp(line.substr(colon + 1));
    for (char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) {
        return Invalid("multipart part: control character in header value");
      }
    }
    if (EqualsIgnoreCase(name, "Content-Disposition")) {
      if (have_disposition) return Invalid("multipart part: repeated Content-Disposition");
      have_disposition = true;
      Status s = ParseContentDisposition(value, out);
      if (!s.ok()) return s;
    } else if (EqualsIgnoreCase(name, "Content-Type")) {
      if (have_type) return Invalid("multipart part: repeated Content-Type");
      have_type = true;
      const std::string_view type = SplitType(value).first;
      out.content_type.assign(type);
      for (char& c : out.content_type) c = ToLower(c);
    }
  }
  if (!have_disposition) {
    return Invalid("multipart part: missing Content-Disposition: form-data; name=...");
  }
  return {};
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  auto [type, params] = SplitType(content_type);
  if (!EqualsIgnoreCase(type, "multipart/form-data")) {
    return Invalid("Content-Type is not multipart/form-data");
  }
  ParamReader reader(params);
  std::string name;
  std::string value;
  std::string boundary;
  bool found = false;
  while (reader.Next(name, value)) {
    if (name != "boundary") continue;
    if (found) return Invalid("multipart/form-data: repeated boundary parameter");
    found = true;
    boundary = std::move(value);
  }
  if (reader.bad()) return Invalid("multipart/form-data: malformed Content-Type parameters");
  if (!found) return Invalid("multipart/form-data: missing boundary parameter");
  if (boundary.empty() || boundary.size() > 70) {
    return Invalid("multipart/form-data: boundary must be 1 to 70 characters");
  }
  for (char c : boundary) {
    if (!IsBcharNoSpace(c) && c != ' ') {
      return Invalid("multipart/form-data: boundary holds a character RFC 2046 does not allow");
    }
  }
  if (boundary.back() == ' ') {
    return Invalid("multipart/form-data: boundary must not end in a space");
  }
  return boundary;
}

// How it works: the delimiter is CRLF "--" boundary, and since a boundary holds no CR, a
// delimiter can only start at a CR. Content is scanned with memchr for CRs; everything before a
// CR that cannot start a delimiter goes to the handler at once, and only a tail that is a proper
// prefix of the delimiter is held back (`hold_`, < delimiter length bytes). The opening delimiter
// may come without its CRLF at the very start of the body: the parser begins with a held-back
// "\r\n", so the preamble scan sees it as an ordinary delimiter.
struct MultipartParser::Impl {
  enum class State {
    kPreamble,   // before the first delimiter (content is discarded)
    kDelimiter,  // just after "--boundary": "--" closes, padding + CRLF opens a part
    kCloseDash,  // after "--boundary-": expects the second '-'
    kPadding,    // transport padding after the boundary, before CRLF
    kLineEnd,    // after the CR ending the delimiter line: expects LF
    kHeaders,    // collecting a part's header block
    kBody,       // a part's content
    kEpilogue,   // after the close delimiter: only whitespace allowed
  };

  Impl(std::string boundary, MultipartHandler& h, MultipartLimits l)
      : delimiter("\r\n--" + boundary), handler(h), limits(l), hold(kCrlf) {
    // The scan relies on the boundary holding no CR (RFC 2046 bchars); MultipartBoundary
    // guarantees that, this catches a caller that skipped it.
    if (boundary.empty() || boundary.size() > 70 ||
        boundary.find_first_of("\r\n") != std::string::npos) {
      Fail(Invalid("multipart body: invalid boundary"));
    }
  }

  void Fail(Error e) { status = Status(std::move(e)); }

  // Scans `in` as content (part body or preamble). Returns the bytes consumed: all of `in`, or up
  // to and including a complete delimiter (then the state has moved on). On error status is set.
  size_t ScanContent(std::string_view in) {
    const bool emit = state == State::kBody;
    const size_t dlen = delimiter.size();
    if (!hold.empty()) {
      const size_t need = dlen - hold.size();
      const size_t n = std::min(need, in.size());
      if (std::memcmp(in.data(), delimiter.data() + hold.size(), n) == 0) {
        if (n < need) {  // still only a prefix
          hold.append(in.data(), n);
          return n;
        }
        hold.clear();
        return EndContent(n);
      }
      // Not a delimiter; and no later byte of the held prefix is a CR, so all of it is content.
      if (emit && !Emit(hold)) return 0;
      hold.clear();
    }
    const char* data = in.data();
    const size_t size = in.size();
    const size_t at = FindDelimiter(data, size, delimiter);
    if (at != std::string_view::npos) {
      if (emit && at > 0 && !Emit(in.substr(0, at))) return 0;
      return EndContent(at + dlen);
    }
    // No whole delimiter; the input may still end in the start of one: hold that back.
    for (size_t pos = size >= dlen ? size - (dlen - 1) : 0; pos < size;) {
      const void* cr = std::memchr(data + pos, '\r', size - pos);
      if (cr == nullptr) break;
      const size_t start = static_cast<const char*>(cr) - data;
      const size_t avail = size - start;
      if (std::memcmp(data + start + 1, delimiter.data() + 1, avail - 1) == 0) {
        if (emit && start > 0 && !Emit(in.substr(0, start))) return 0;
        hold.assign(data + start, avail);
        return size;
      }
      pos = start + 1;
    }
    if (emit && size > 0 && !Emit(in)) return 0;
    return size;
  }

  bool Emit(std::string_view bytes) {
    Status s = handler.OnPartData(bytes);
    if (!s.ok()) {
      status = std::move(s);
      return false;
    }
    return true;
  }

  // A delimiter ended content; `consumed` bytes of the input include it.
  size_t EndContent(size_t consumed) {
    if (state == State::kBody) {
      Status s = handler.OnPartEnd();
      if (!s.ok()) {
        status = std::move(s);
        return 0;
      }
    }
    state = State::kDelimiter;
    return consumed;
  }

  // Collects the header block; returns bytes consumed.
  size_t ScanHeaders(std::string_view in) {
    // header_block starts with the CRLF that ended the delimiter line, so an empty block (the
    // part starts with CRLF) is found by the same search for CRLF CRLF.
    const size_t old_size = header_block.size();
    const size_t cap = limits.max_header_bytes + kCrlf.size();
    const size_t room = cap > old_size ? cap - old_size : 0;
    const size_t take = std::min(room, in.size());
    header_block.append(in.data(), take);
    const size_t from = old_size >= 3 ? old_size - 3 : 0;
    const size_t end = header_block.find("\r\n\r\n", from);
    if (end == std::string::npos) {
      if (take < in.size()) {
        Fail(Invalid("multipart part: header block longer than " +
                     std::to_string(limits.max_header_bytes) + " bytes"));
        return 0;
      }
      return take;
    }
    const size_t block_end = end + 4;
    const size_t consumed = block_end - old_size;
    MultipartPartHeaders headers;
    // Lines without the leading CRLF and without the empty line, each ending in CRLF.
    Status s = ParsePartHeaders(std::string_view(header_block).substr(2, end), headers);
    if (!s.ok()) {
      status = std::move(s);
      return 0;
    }
    header_block.clear();
    if (header_block.capacity() > 4096) header_block.shrink_to_fit();  // free a large block
    state = State::kBody;
    Status b = handler.OnPartBegin(headers);
    if (!b.ok()) {
      status = std::move(b);
      return 0;
    }
    return consumed;
  }

  // The delimiter line after "--boundary"; short, so byte by byte. Returns bytes consumed.
  size_t ScanDelimiterLine(std::string_view in) {
    size_t i = 0;
    for (; i < in.size(); ++i) {
      const char c = in[i];
      switch (state) {
        case State::kDelimiter:
          if (c == '-') {
            state = State::kCloseDash;
          } else if (IsWsp(c)) {
            state = State::kPadding;
          } else if (c == '\r') {
            state = State::kLineEnd;
          } else {
            Fail(Invalid("multipart body: malformed delimiter line"));
            return 0;
          }
          break;
        case State::kCloseDash:
          if (c != '-') {
            Fail(Invalid("multipart body: malformed delimiter line"));
            return 0;
          }
          state = State::kEpilogue;
          return i + 1;
        case State::kPadding:
          if (c == '\r') {
            state = State::kLineEnd;
          } else if (!IsWsp(c)) {
            Fail(Invalid("multipart body: malformed delimiter line"));
            return 0;
          }
          break;
        case State::kLineEnd:
          if (c != '\n') {
            Fail(Invalid("multipart body: malformed delimiter line"));
            return 0;
          }
          if (parts >= limits.max_parts) {
            Fail(Invalid("multipart body: more than " + std::to_string(limits.max_parts) +
                         " parts"));
            return 0;
          }
          ++parts;
          state = State::kHeaders;
          header_block.assign(kCrlf);
          return i + 1;
        default:
          return i;
      }
    }
    return i;
  }

  Status Feed(std::string_view chunk) {
    if (!status.ok()) return status;
    bytes_seen += chunk.size();
    if (bytes_seen > limits.max_body_bytes) {
      Fail(MakeError(ErrorCode::kTooLarge, "multipart body larger than " +
                                               std::to_string(limits.max_body_bytes) + " bytes"));
      return status;
    }
    while (!chunk.empty() && status.ok()) {
      size_t used = 0;
      switch (state) {
        case State::kPreamble:
        case State::kBody:
          used = ScanContent(chunk);
          break;
        case State::kDelimiter:
        case State::kCloseDash:
        case State::kPadding:
        case State::kLineEnd:
          used = ScanDelimiterLine(chunk);
          break;
        case State::kHeaders:
          used = ScanHeaders(chunk);
          break;
        case State::kEpilogue:
          if (chunk.find_first_not_of(" \t\r\n") != std::string_view::npos) {
            Fail(Invalid("multipart body: data after the closing delimiter"));
          }
          used = chunk.size();
          break;
      }
      chunk.remove_prefix(used);
    }
    return status;
  }

  Status Finish() {
    if (!status.ok()) return status;
    switch (state) {
      case State::kEpilogue:
        break;
      case State::kPreamble:
        Fail(Invalid("multipart body: no opening delimiter"));
        break;
      default:
        Fail(Invalid("multipart body: truncated before the closing delimiter"));
        break;
    }
    return status;
  }

  const std::string delimiter;  // CRLF "--" boundary
  MultipartHandler& handler;
  const MultipartLimits limits;
  State state = State::kPreamble;
  std::string hold;          // a proper prefix of `delimiter` held back from content
  std::string header_block;  // CRLF + the current part's header block so far
  size_t parts = 0;
  uint64_t bytes_seen = 0;
  Status status;
};

MultipartParser::MultipartParser(std::string boundary, MultipartHandler& handler,
                                 MultipartLimits limits)
    : impl_(new Impl(std::move(boundary), handler, limits)) {}

MultipartParser::~MultipartParser() { delete impl_; }

Status MultipartParser::Feed(std::string_view chunk) { return impl_->Feed(chunk); }

Status MultipartParser::Finish() { return impl_->Finish(); }

uint64_t MultipartParser::bytes_seen() const { return impl_->bytes_seen; }

}  // namespace norreg::http
