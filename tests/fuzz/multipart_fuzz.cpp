// libFuzzer target for the multipart/form-data parser (uploads to POST /inbound/upload) and
// MultipartBoundary. Any result is a pass; a crash, sanitizer report or a difference between
// feeding the body whole and feeding it in pieces is a failure (the parser must give the same
// parts and the same verdict for any split of its input).
//
// Input: the first byte picks the piece size (1..16) for the split run and small limits so that
// the limit checks are reached; the rest is the body, with the boundary "b0undary".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/multipart.hpp"

namespace {

struct Recorded {
  std::vector<std::string> events;  // "B name|filename|type", "D" + bytes merged, "E"
  bool ok = false;
  int code = -1;
  std::string message;
};

class Recorder : public norreg::http::MultipartHandler {
 public:
  explicit Recorder(Recorded& out) : out_(out) {}
  norreg::Status OnPartBegin(const norreg::http::MultipartPartHeaders& h) override {
    out_.events.push_back("B" + h.name + "|" + h.filename + "|" + h.content_type);
    out_.events.emplace_back("D");
    return {};
  }
  norreg::Status OnPartData(std::string_view bytes) override {
    if (out_.events.empty() || out_.events.back().front() != 'D') std::abort();  // order
    out_.events.back().append(bytes);
    return {};
  }
  norreg::Status OnPartEnd() override {
    out_.events.emplace_back("E");
    return {};
  }

 private:
  Recorded& out_;
};

Recorded Run(std::string_view body, size_t piece, const norreg::http::MultipartLimits& limits) {
  Recorded rec;
  Recorder handler(rec);
  norreg::http::MultipartParser parser("b0undary", handler, limits);
  norreg::Status s;
  for (size_t at = 0; at < body.size() && s.ok(); at += piece) {
    s = parser.Feed(body.substr(at, piece));
  }
  if (s.ok()) s = parser.Finish();
  rec.ok = s.ok();
  if (!s.ok()) {
    rec.code = static_cast<int>(s.error().code);
    rec.message = s.error().message;
  }
  return rec;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)norreg::http::MultipartBoundary(input).ok();
  if (input.empty()) return 0;
  const auto ctl = static_cast<uint8_t>(input[0]);
  const std::string_view body = input.substr(1);
  norreg::http::MultipartLimits limits;
  if ((ctl & 0x80) != 0) {
    limits.max_body_bytes = 512;
    limits.max_header_bytes = 64;
    limits.max_parts = 3;
  }
  const Recorded whole = Run(body, body.size() + 1, limits);
  const Recorded split = Run(body, (ctl & 0x0f) + 1u, limits);
  if (body.size() > limits.max_body_bytes) {
    // The whole body is refused at once; the split run may find another defect first.
    if (whole.ok || split.ok) std::abort();
    return 0;
  }
  // The same verdict for any split. On success the same events; on an error the split run may
  // have delivered some bytes before it, so only the verdict is compared.
  if (whole.ok != split.ok || whole.code != split.code || whole.message != split.message) {
    std::abort();
  }
  if (whole.ok && whole.events != split.events) std::abort();
  return 0;
}
