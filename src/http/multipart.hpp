#pragma once
// A streaming multipart/form-data parser (RFC 7578, RFC 2046 section 5.1) for uploads: Feed()
// takes the body in chunks of any size (1 byte to megabytes) and hands each part's headers and
// content on as they arrive, so an upload is never held whole in memory. The parser itself keeps
// at most one part's header block plus a boundary's length of look-behind.
//
// Errors are values and stick (every later Feed/Finish returns the same error):
// - kInvalidInput naming the defect: no opening delimiter, a part whose header block is malformed
//   or lacks `Content-Disposition: form-data; name="…"`, a header block longer than
//   max_header_bytes, more than max_parts parts, bytes after the closing delimiter other than
//   whitespace, or Finish() before the closing delimiter (a truncated body);
// - kTooLarge when the body passes max_body_bytes (checked as bytes arrive, before any handler
//   sees them);
// - whatever a handler callback returns (the parse stops there).
// The preamble before the first delimiter is ignored (RFC 2046). Header names are matched
// case-insensitively; quoted parameter values may contain `;` and escaped quotes.
//
// Thread-safety: one parser per request.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace norreg::http {

// The boundary of a `multipart/form-data; boundary=…` Content-Type (quoted or not). kInvalidInput
// when the type is not multipart/form-data or the boundary is missing, empty, longer than 70
// characters or holds characters RFC 2046 does not allow.
Result<std::string> MultipartBoundary(std::string_view content_type);

struct MultipartLimits {
  uint64_t max_body_bytes = 35ull << 20;  // the whole body (Brreg: 35 MB)
  size_t max_header_bytes = 16 << 10;     // one part's header block
  size_t max_parts = 1000;
};

struct MultipartPartHeaders {
  std::string name;          // Content-Disposition name (required)
  std::string filename;      // Content-Disposition filename; "" when absent
  std::string content_type;  // the part's Content-Type without parameters, lower case; ""
                             // when absent
};

// Receives the parts in order: OnPartBegin, OnPartData any number of times (possibly with empty
// or tiny pieces), OnPartEnd. A non-ok Status stops the parse and becomes its result.
class MultipartHandler {
 public:
  virtual ~MultipartHandler() = default;
  virtual Status OnPartBegin(const MultipartPartHeaders& headers) = 0;
  virtual Status OnPartData(std::string_view bytes) = 0;
  virtual Status OnPartEnd() = 0;
};

class MultipartParser {
 public:
  // `boundary` as MultipartBoundary returns it; `handler` must outlive the parser.
  MultipartParser(std::string boundary, MultipartHandler& handler, MultipartLimits limits = {});
  ~MultipartParser();
  MultipartParser(const MultipartParser&) = delete;
  MultipartParser& operator=(const MultipartParser&) = delete;

  // Parses the next bytes of the body.
  Status Feed(std::string_view chunk);
  // The body has ended: ok only when the closing delimiter was seen.
  Status Finish();
  // Body bytes fed so far.
  uint64_t bytes_seen() const;

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace norreg::http
