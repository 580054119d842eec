#include "http/multipart.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace norreg::http {
namespace {

using namespace std::string_literals;

constexpr std::string_view kBoundary = "XyZ-b0undary";

// ---------------------------------------------------------------------------------------------
// MultipartBoundary

struct BoundaryCase {
  std::string content_type;
  std::optional<std::string> expected;  // nullopt: kInvalidInput
};

class MultipartBoundaryTest : public ::testing::TestWithParam<BoundaryCase> {};

TEST_P(MultipartBoundaryTest, Parses) {
  const BoundaryCase& c = GetParam();
  auto got = MultipartBoundary(c.content_type);
  if (c.expected) {
    ASSERT_TRUE(got.ok()) << c.content_type << ": " << got.error().message;
    EXPECT_EQ(*got, *c.expected) << c.content_type;
  } else {
    ASSERT_FALSE(got.ok()) << c.content_type << " gave " << *got;
    EXPECT_EQ(got.error().code, ErrorCode::kInvalidInput);
    EXPECT_FALSE(got.error().message.empty());
  }
}

const std::string k70(70, 'a');
const std::string k71(71, 'a');

INSTANTIATE_TEST_SUITE_P(
    Table, MultipartBoundaryTest,
    ::testing::Values(
        BoundaryCase{"multipart/form-data; boundary=abc", "abc"},
        BoundaryCase{"multipart/form-data;boundary=abc", "abc"},
        BoundaryCase{"MULTIPART/Form-Data; BOUNDARY=AbC", "AbC"},
        BoundaryCase{"multipart/form-data; boundary=\"abc\"", "abc"},
        BoundaryCase{"multipart/form-data; boundary=\"a b'()+_,-./:=?c\"", "a b'()+_,-./:=?c"},
        BoundaryCase{"multipart/form-data; charset=utf-8; boundary=----WebKitFormBoundary7MA4YWx",
                     "----WebKitFormBoundary7MA4YWx"},
        BoundaryCase{"multipart/form-data; boundary=abc; charset=\"x;y\"", "abc"},
        BoundaryCase{"multipart/form-data; boundary=abc;", "abc"},
        BoundaryCase{"  multipart/form-data ;  boundary=abc  ", "abc"},
        BoundaryCase{"multipart/form-data; boundary=" + k70, k70},
        BoundaryCase{"multipart/form-data; boundary=\"" + k70 + "\"", k70},
        // wrong type
        BoundaryCase{"multipart/mixed; boundary=abc", std::nullopt},
        BoundaryCase{"application/x-www-form-urlencoded", std::nullopt},
        BoundaryCase{"", std::nullopt},
        BoundaryCase{"multipart/form-data-x; boundary=abc", std::nullopt},
        // missing / empty / too long
        BoundaryCase{"multipart/form-data", std::nullopt},
        BoundaryCase{"multipart/form-data; charset=utf-8", std::nullopt},
        BoundaryCase{"multipart/form-data; boundary=", std::nullopt},
        BoundaryCase{"multipart/form-data; boundary=\"\"", std::nullopt},
        BoundaryCase{"multipart/form-data; boundary=" + k71, std::nullopt},
        // characters RFC 2046 does not allow, trailing space
        BoundaryCase{"multipart/form-data; boundary=a@b", std::nullopt},
        BoundaryCase{"multipart/form-data; boundary=\"a\\\"b\"", std::nullopt},
        BoundaryCase{"multipart/form-data; boundary=\"ab \"", std::nullopt},
        BoundaryCase{"multipart/form-data; boundary=\"a\rb\"", std::nullopt},
        BoundaryCase{"multipart/form-data; boundary=ab cd", std::nullopt},
        // malformed parameters
        BoundaryCase{"multipart/form-data; boundary=\"abc", std::nullopt},
        BoundaryCase{"multipart/form-data; boundary", std::nullopt},
        BoundaryCase{"multipart/form-data; =abc", std::nullopt},
        BoundaryCase{"multipart/form-data; boundary=a; boundary=b", std::nullopt}));

// ---------------------------------------------------------------------------------------------
// Parser helpers

struct Part {
  std::string name;
  std::string filename;
  std::string content_type;
  std::string data;
  bool ended = false;
  bool operator==(const Part&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Part& p) {
  return os << "{name=" << p.name << " filename=" << p.filename << " type=" << p.content_type
            << " data(" << p.data.size() << ")=" << ::testing::PrintToString(p.data)
            << " ended=" << p.ended << "}";
}

// Records every event; checks the event order itself. Can be told to fail at one event.
class Recorder : public MultipartHandler {
 public:
  enum class Event { kBegin, kData, kEnd };

  Status OnPartBegin(const MultipartPartHeaders& h) override {
    if (!parts.empty() && !parts.back().ended) order_ok = false;
    parts.push_back(Part{h.name, h.filename, h.content_type, "", false});
    return Maybe(Event::kBegin);
  }
  Status OnPartData(std::string_view bytes) override {
    if (parts.empty() || parts.back().ended) order_ok = false;
    if (!parts.empty()) parts.back().data.append(bytes);
    data_bytes += bytes.size();
    ++data_calls;
    return Maybe(Event::kData);
  }
  Status OnPartEnd() override {
    if (parts.empty() || parts.back().ended) order_ok = false;
    if (!parts.empty()) parts.back().ended = true;
    return Maybe(Event::kEnd);
  }

  std::vector<Part> parts;
  bool order_ok = true;
  uint64_t data_bytes = 0;
  int data_calls = 0;
  int events_after_failure = 0;
  // Fail at the fail_index-th event of kind fail_on (0-based).
  std::optional<Event> fail_on;
  int fail_index = 0;

 private:
  Status Maybe(Event e) {
    if (failed_) ++events_after_failure;
    if (fail_on && *fail_on == e && counts_[static_cast<int>(e)]++ == fail_index) {
      failed_ = true;
      return MakeError(ErrorCode::kConflict, "handler says no");
    }
    return {};
  }
  int counts_[3] = {0, 0, 0};
  bool failed_ = false;
};

struct Outcome {
  std::vector<Part> parts;
  bool ok = false;
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  uint64_t bytes_seen = 0;
  bool order_ok = true;
};

// Feeds `body` cut at `cuts` (ascending offsets), then Finish().
Outcome RunCuts(std::string_view body, const std::vector<size_t>& cuts, MultipartLimits limits = {},
                std::string_view boundary = kBoundary) {
  Recorder rec;
  MultipartParser parser(std::string(boundary), rec, limits);
  Status s;
  size_t prev = 0;
  auto feed = [&](size_t end) {
    if (s.ok()) s = parser.Feed(body.substr(prev, end - prev));
    prev = end;
  };
  for (size_t cut : cuts) feed(cut);
  feed(body.size());
  if (s.ok()) s = parser.Finish();
  Outcome out;
  out.parts = rec.parts;
  out.ok = s.ok();
  if (!s.ok()) {
    out.code = s.error().code;
    out.message = s.error().message;
  }
  out.bytes_seen = parser.bytes_seen();
  out.order_ok = rec.order_ok;
  return out;
}

std::vector<size_t> EveryByte(size_t n) {
  std::vector<size_t> cuts;
  for (size_t i = 1; i < n; ++i) cuts.push_back(i);
  return cuts;
}

std::vector<size_t> RandomCuts(size_t n, uint32_t seed, size_t max_piece) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<size_t> piece(1, max_piece);
  std::vector<size_t> cuts;
  for (size_t at = piece(rng); at < n; at += piece(rng)) cuts.push_back(at);
  return cuts;
}

// All the chunkings a body is checked with: whole, byte by byte, random pieces, and (for small
// bodies) every single split point and every pair of split points.
std::vector<std::vector<size_t>> Chunkings(size_t n) {
  std::vector<std::vector<size_t>> all = {{}, EveryByte(n)};
  for (uint32_t seed = 1; seed <= 20; ++seed) all.push_back(RandomCuts(n, seed, 1 + seed % 17));
  if (n <= 400) {
    for (size_t i = 1; i < n; ++i) all.push_back({i});
  }
  if (n <= 120) {
    for (size_t i = 1; i < n; ++i) {
      for (size_t j = i + 1; j < n; ++j) all.push_back({i, j});
    }
  }
  return all;
}

std::string Delim() { return "--" + std::string(kBoundary); }

// A part as a browser writes it, the header block included.
std::string PartText(std::string_view name, std::string_view data, std::string_view filename = "",
                     std::string_view type = "") {
  std::string s =
      Delim() + "\r\nContent-Disposition: form-data; name=\"" + std::string(name) + "\"";
  if (!filename.empty()) s += "; filename=\"" + std::string(filename) + "\"";
  s += "\r\n";
  if (!type.empty()) s += "Content-Type: " + std::string(type) + "\r\n";
  s += "\r\n";
  s += data;
  s += "\r\n";
  return s;
}

std::string Close() { return Delim() + "--"; }

// ---------------------------------------------------------------------------------------------
// Data-driven bodies: every chunking must give the expected parts or the expected error.

struct BodyCase {
  std::string label;
  std::string body;
  std::vector<Part> parts;         // expected when ok (ended = true implied)
  std::optional<ErrorCode> error;  // nullopt: ok
  std::string message_part;        // a piece of the expected error message
  MultipartLimits limits = {};
};

void PrintTo(const BodyCase& c, std::ostream* os) { *os << c.label; }

class MultipartBodyTest : public ::testing::TestWithParam<BodyCase> {};

TEST_P(MultipartBodyTest, SameResultForEveryChunking) {
  const BodyCase& c = GetParam();
  std::vector<Part> expected = c.parts;
  for (Part& p : expected) p.ended = true;
  for (const auto& cuts : Chunkings(c.body.size())) {
    Outcome out = RunCuts(c.body, cuts, c.limits);
    const std::string where = ::testing::PrintToString(cuts);
    ASSERT_TRUE(out.order_ok) << where;
    if (!c.error) {
      EXPECT_EQ(out.bytes_seen, c.body.size()) << where;
      ASSERT_TRUE(out.ok) << out.message << " cuts " << where;
      ASSERT_EQ(out.parts, expected) << where;
    } else {
      ASSERT_FALSE(out.ok) << where;
      ASSERT_EQ(out.code, *c.error) << out.message << " cuts " << where;
      ASSERT_NE(out.message.find(c.message_part), std::string::npos)
          << out.message << " cuts " << where;
    }
  }
}

std::string BinaryData() {
  std::string s = "\0\r\n\r\r\n\n-\r\n-\r\n--\r\n--XyZ\r\n--XyZ-b0undar"s;
  s += "\r\n--XyZ-b0undarY";  // a boundary prefix, then a different byte
  s += "--XyZ-b0undary";      // the boundary without CRLF before it
  s += "\n--XyZ-b0undary";    // LF only
  s += "\r--XyZ-b0undary";    // CR only
  s += "x--XyZ-b0undary--";   // the close delimiter without CRLF
  s += "\xff\xfe\x00\x01"s;
  s += "\r\n-";  // ends in a delimiter prefix
  return s;
}

MultipartLimits Limits(uint64_t body, size_t header, size_t parts) {
  MultipartLimits l;
  l.max_body_bytes = body;
  l.max_header_bytes = header;
  l.max_parts = parts;
  return l;
}

const std::string kMelding =
    "<?xml version=\"1.0\"?>\r\n<melding>\r\n  <tekst>--ikke en grense</tekst>\r\n</melding>";

// The header block of PartText("a", ...) without filename/type:
//   `Content-Disposition: form-data; name="a"` CRLF CRLF = 40 + 4 = 44 bytes.
constexpr size_t kSimpleHeaderBlock = 44;

std::vector<BodyCase> BodyCases() {
  std::vector<BodyCase> v;
  const std::string d = Delim();
  auto ok = [&](std::string label, std::string body, std::vector<Part> parts,
                MultipartLimits limits = {}) {
    v.push_back(
        BodyCase{std::move(label), std::move(body), std::move(parts), std::nullopt, "", limits});
  };
  auto bad = [&](std::string label, std::string body, ErrorCode code, std::string msg,
                 MultipartLimits limits = {}) {
    v.push_back(BodyCase{std::move(label), std::move(body), {}, code, std::move(msg), limits});
  };

  // --- well-formed bodies
  ok("zero parts", Close(), {});
  ok("zero parts with CRLF", Close() + "\r\n", {});
  ok("one part", PartText("payload", kMelding, "", "application/xml") + Close(),
     {{"payload", "", "application/xml", kMelding}});
  ok("three parts",
     PartText("payload", kMelding, "melding.xml", "Application/XML; charset=UTF-8") +
         PartText("attachments", "PDF\r\n%%EOF", "a.pdf", "application/pdf") +
         PartText("attachments", "", "tom.txt", "text/plain") + Close() + "\r\n",
     {{"payload", "melding.xml", "application/xml", kMelding},
      {"attachments", "a.pdf", "application/pdf", "PDF\r\n%%EOF"},
      {"attachments", "tom.txt", "text/plain", ""}});
  ok("binary data with near-boundary sequences",
     PartText("bin", BinaryData(), "b.bin", "application/octet-stream") + Close(),
     {{"bin", "b.bin", "application/octet-stream", BinaryData()}});
  ok("data that is all CRLF", PartText("a", "\r\n\r\n\r\n") + Close(),
     {{"a", "", "", "\r\n\r\n\r\n"}});
  ok("empty content", PartText("a", "") + Close(), {{"a", "", "", ""}});
  ok("preamble and epilogue",
     "This is the preamble.\r\n--not the boundary\r\n" + PartText("a", "x") + Close() +
         "\r\n \t\r\n",
     {{"a", "", "", "x"}});
  ok("preamble holding the boundary without CRLF",
     "junk" + d + "\r\n\r\n" + PartText("a", "x") + Close(), {{"a", "", "", "x"}});
  ok("transport padding after boundaries",
     d + " \t \r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n" + d + "\t\r\n" +
         "Content-Disposition: form-data; name=b\r\n\r\ny\r\n" + d + "--",
     {{"a", "", "", "x"}, {"b", "", "", "y"}});
  ok("header variants",
     d +
         "\r\ncontent-disposition:FORM-DATA;NAME=\"q\\\"uo;te\";FileName=\"C:\\\\x.txt\";"
         "filename*=UTF-8''x.txt\r\nX-Other: whatever\r\nCONTENT-TYPE:  Text/Plain ; a=\"b;c\"\r\n"
         "\r\nv\r\n" +
         Close(),
     {{"q\"uo;te", "C:\\x.txt", "text/plain", "v"}});
  ok("token name and utf-8 filename",
     d +
         "\r\nContent-Disposition: form-data; name=felt_1; filename=\"bjørn.pdf\"\r\n\r\n"
         "z\r\n" +
         Close(),
     {{"felt_1", "bjørn.pdf", "", "z"}});
  ok("header block exactly at the limit", PartText("a", "x") + Close(), {{"a", "", "", "x"}},
     Limits(1 << 20, kSimpleHeaderBlock, 10));
  ok("parts exactly at the limit", PartText("a", "1") + PartText("b", "2") + Close(),
     {{"a", "", "", "1"}, {"b", "", "", "2"}}, Limits(1 << 20, 1024, 2));
  {
    const std::string body = PartText("a", "1") + Close();
    ok("body exactly at the limit", body, {{"a", "", "", "1"}}, Limits(body.size(), 1024, 10));
  }

  // --- errors
  bad("empty body", "", ErrorCode::kInvalidInput, "no opening delimiter");
  bad("no opening delimiter", "just some text\r\nContent-Disposition: form-data; name=a\r\n\r\n",
      ErrorCode::kInvalidInput, "no opening delimiter");
  bad("other boundary", "--other\r\n\r\n--other--", ErrorCode::kInvalidInput,
      "no opening delimiter");
  bad("truncated in content", PartText("a", "xyz").substr(0, 60), ErrorCode::kInvalidInput,
      "truncated");
  bad("close delimiter missing", PartText("a", "xyz"), ErrorCode::kInvalidInput, "truncated");
  bad("missing name", d + "\r\nContent-Disposition: form-data\r\n\r\nx\r\n" + Close(),
      ErrorCode::kInvalidInput, "no name");
  bad("empty name", d + "\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n" + Close(),
      ErrorCode::kInvalidInput, "no name");
  bad("no Content-Disposition", d + "\r\nContent-Type: text/plain\r\n\r\nx\r\n" + Close(),
      ErrorCode::kInvalidInput, "missing Content-Disposition");
  bad("no headers at all", d + "\r\n\r\nx\r\n" + Close(), ErrorCode::kInvalidInput,
      "missing Content-Disposition");
  bad("attachment disposition",
      d + "\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n" + Close(),
      ErrorCode::kInvalidInput, "not form-data");
  bad("unterminated quote",
      d + "\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n" + Close(),
      ErrorCode::kInvalidInput, "malformed Content-Disposition");
  bad("garbage parameter",
      d + "\r\nContent-Disposition: form-data; name=a b\r\n\r\nx\r\n" + Close(),
      ErrorCode::kInvalidInput, "malformed Content-Disposition");
  bad("repeated Content-Disposition",
      d +
          "\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; "
          "name=b\r\n\r\nx\r\n" +
          Close(),
      ErrorCode::kInvalidInput, "repeated Content-Disposition");
  bad("obs-fold", d + "\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nx\r\n" + Close(),
      ErrorCode::kInvalidInput, "folded");
  bad("header line without colon", d + "\r\nContent-Disposition form-data\r\n\r\nx\r\n" + Close(),
      ErrorCode::kInvalidInput, "malformed header line");
  bad("bare LF in header block",
      d + "\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\nx\r\n" + Close(),
      ErrorCode::kInvalidInput, "control character");
  bad("header block one byte over the limit", PartText("a", "x") + Close(),
      ErrorCode::kInvalidInput, "header block longer than",
      Limits(1 << 20, kSimpleHeaderBlock - 1, 10));
  bad("endless header block", d + "\r\nX-Long: " + std::string(300, 'h'), ErrorCode::kInvalidInput,
      "header block longer than", Limits(1 << 20, 100, 10));
  bad("too many parts", PartText("a", "1") + PartText("b", "2") + PartText("c", "3") + Close(),
      ErrorCode::kInvalidInput, "more than 2 parts", Limits(1 << 20, 1024, 2));
  bad("zero parts allowed", PartText("a", "1") + Close(), ErrorCode::kInvalidInput,
      "more than 0 parts", Limits(1 << 20, 1024, 0));
  {
    const std::string body = PartText("a", "1") + Close();
    bad("body one byte over the limit", body, ErrorCode::kTooLarge, "larger than",
        Limits(body.size() - 1, 1024, 10));
  }
  bad("garbage after close", PartText("a", "1") + Close() + "\r\nmore", ErrorCode::kInvalidInput,
      "after the closing delimiter");
  bad("another part after close", PartText("a", "1") + Close() + "\r\n" + PartText("b", "2"),
      ErrorCode::kInvalidInput, "after the closing delimiter");
  bad("text straight after the boundary", d + "x\r\n", ErrorCode::kInvalidInput,
      "malformed delimiter line");
  bad("boundary followed by a longer word", PartText("a", "1") + d + "XYZ\r\n" + Close(),
      ErrorCode::kInvalidInput, "malformed delimiter line");
  bad("single dash after boundary", PartText("a", "1") + d + "-x", ErrorCode::kInvalidInput,
      "malformed delimiter line");
  bad("CR without LF after boundary", d + "\rx", ErrorCode::kInvalidInput,
      "malformed delimiter line");
  bad("padding then text", d + "  x", ErrorCode::kInvalidInput, "malformed delimiter line");
  return v;
}

INSTANTIATE_TEST_SUITE_P(Table, MultipartBodyTest, ::testing::ValuesIn(BodyCases()),
                         [](const ::testing::TestParamInfo<BodyCase>& info) {
                           std::string name;
                           for (char c : info.param.label) {
                             name += (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
                           }
                           return name;
                         });

// ---------------------------------------------------------------------------------------------
// Truncation, limits, handler errors, bytes_seen

TEST(MultipartParserTest, RejectsEveryTruncation) {
  const std::string body =
      PartText("payload", kMelding, "m.xml", "application/xml") + PartText("b", "\r\n--") + Close();
  const size_t open_len = Delim().size();
  for (size_t cut = 0; cut < body.size(); ++cut) {
    for (const auto& cuts : {std::vector<size_t>{}, EveryByte(cut)}) {
      Outcome out = RunCuts(std::string_view(body).substr(0, cut), cuts);
      ASSERT_FALSE(out.ok) << "cut at " << cut;
      EXPECT_EQ(out.code, ErrorCode::kInvalidInput);
      const char* want = cut < open_len ? "no opening delimiter" : "truncated";
      EXPECT_NE(out.message.find(want), std::string::npos)
          << "cut at " << cut << ": " << out.message;
      // Parts seen before the cut must never be reported as ended when their delimiter is cut.
      for (const Part& p : out.parts) EXPECT_TRUE(out.order_ok) << p;
    }
  }
  EXPECT_TRUE(RunCuts(body, {}).ok);
}

TEST(MultipartParserTest, TooLargeIsDecidedBeforeTheHandlerSeesTheExcess) {
  const std::string big(1000, 'x');
  const std::string body = PartText("a", big) + Close();
  const uint64_t limit = 500;
  for (const auto& cuts :
       {std::vector<size_t>{}, EveryByte(body.size()), RandomCuts(body.size(), 7, 64)}) {
    Recorder rec;
    MultipartParser parser(std::string(kBoundary), rec, Limits(limit, 1024, 10));
    Status s;
    size_t prev = 0;
    std::vector<size_t> all = cuts;
    all.push_back(body.size());
    for (size_t cut : all) {
      s = parser.Feed(std::string_view(body).substr(prev, cut - prev));
      prev = cut;
      if (!s.ok()) break;
    }
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kTooLarge);
    // The handler saw no more content than the limit leaves room for.
    EXPECT_LE(rec.data_bytes, limit);
    EXPECT_GT(parser.bytes_seen(), limit);
    // Sticky.
    EXPECT_EQ(parser.Feed("").error().code, ErrorCode::kTooLarge);
    EXPECT_EQ(parser.Finish().error().code, ErrorCode::kTooLarge);
  }
}

TEST(MultipartParserTest, HandlerErrorsStopTheParseAndStick) {
  const std::string body =
      PartText("a", "one") + PartText("b", "two") + PartText("c", "three") + Close();
  struct FailCase {
    Recorder::Event on;
    int index;
    size_t parts_begun;
  };
  for (const FailCase& fc :
       {FailCase{Recorder::Event::kBegin, 0, 1}, FailCase{Recorder::Event::kBegin, 1, 2},
        FailCase{Recorder::Event::kData, 0, 1}, FailCase{Recorder::Event::kEnd, 0, 1},
        FailCase{Recorder::Event::kEnd, 2, 3}}) {
    for (const auto& cuts : {std::vector<size_t>{}, EveryByte(body.size())}) {
      Recorder rec;
      rec.fail_on = fc.on;
      rec.fail_index = fc.index;
      MultipartParser parser(std::string(kBoundary), rec);
      Status s;
      size_t prev = 0;
      std::vector<size_t> all = cuts;
      all.push_back(body.size());
      for (size_t cut : all) {
        Status r = parser.Feed(std::string_view(body).substr(prev, cut - prev));
        prev = cut;
        if (s.ok()) s = r;
      }
      ASSERT_FALSE(s.ok());
      EXPECT_EQ(s.error().code, ErrorCode::kConflict);
      EXPECT_EQ(s.error().message, "handler says no");
      EXPECT_EQ(rec.events_after_failure, 0);
      EXPECT_EQ(rec.parts.size(), fc.parts_begun);
      Status f = parser.Finish();
      ASSERT_FALSE(f.ok());
      EXPECT_EQ(f.error().code, ErrorCode::kConflict);
      EXPECT_EQ(parser.Feed("more").error().message, "handler says no");
    }
  }
}

TEST(MultipartParserTest, InvalidInputSticks) {
  Recorder rec;
  MultipartParser parser(std::string(kBoundary), rec);
  ASSERT_FALSE(parser.Feed(Delim() + "\r\n\r\n").ok());
  Status again = parser.Feed(PartText("a", "x") + Close());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("missing Content-Disposition"), std::string::npos);
  EXPECT_FALSE(parser.Finish().ok());
  EXPECT_TRUE(rec.parts.empty());
}

TEST(MultipartParserTest, CountsBytesSeen) {
  Recorder rec;
  MultipartParser parser(std::string(kBoundary), rec);
  EXPECT_EQ(parser.bytes_seen(), 0u);
  const std::string body = PartText("a", "hello") + Close() + "\r\n";
  ASSERT_TRUE(parser.Feed(std::string_view(body).substr(0, 10)).ok());
  EXPECT_EQ(parser.bytes_seen(), 10u);
  ASSERT_TRUE(parser.Feed("").ok());
  EXPECT_EQ(parser.bytes_seen(), 10u);
  ASSERT_TRUE(parser.Feed(std::string_view(body).substr(10)).ok());
  EXPECT_EQ(parser.bytes_seen(), body.size());
  EXPECT_TRUE(parser.Finish().ok());
}

TEST(MultipartParserTest, PassesLargeContentInFewCalls) {
  // Content goes to the handler as it arrives, in pieces about the size of the chunks: not byte
  // by byte and not held until the part ends.
  const std::string data(1 << 20, 'q');
  const std::string body = PartText("f", data, "f.bin", "application/octet-stream") + Close();
  Recorder rec;
  MultipartParser parser(std::string(kBoundary), rec);
  const size_t chunk = 64 << 10;
  for (size_t at = 0; at < body.size(); at += chunk) {
    ASSERT_TRUE(parser.Feed(std::string_view(body).substr(at, chunk)).ok());
    if (at > 0 && at + chunk < body.size()) {
      // Everything fed so far minus the header and at most a delimiter's length is delivered.
      EXPECT_GE(rec.data_bytes + 200, at + chunk);
    }
  }
  ASSERT_TRUE(parser.Finish().ok());
  ASSERT_EQ(rec.parts.size(), 1u);
  EXPECT_EQ(rec.parts[0].data, data);
  EXPECT_LE(rec.data_calls, 2 * static_cast<int>(body.size() / chunk + 2));
}

TEST(MultipartParserTest, LongContentFullOfDelimiterPieces) {
  // Every proper prefix of the delimiter, and the delimiter with one byte changed, at every
  // alignment: exercises the vectorised search and the held-back tail across chunk edges.
  const std::string needle = "\r\n" + Delim();
  std::string data;
  for (int round = 0; round < 7; ++round) {
    for (size_t k = 1; k < needle.size(); ++k) {
      data += needle.substr(0, k);
      data += std::string(static_cast<size_t>(round), 'w');
      std::string changed = needle;
      changed[k] = '#';  // not a bchar, so never part of the delimiter
      data += changed;
    }
  }
  data += "\r\r\r\n\n\n--";
  ASSERT_EQ(data.find(needle), std::string::npos);
  const std::string body = "\r\n" + PartText("a", data) + PartText("b", data + "\r") + Close();
  const std::vector<Part> expected = {{"a", "", "", data, true}, {"b", "", "", data + "\r", true}};
  std::vector<std::vector<size_t>> chunkings = {{}, EveryByte(body.size())};
  for (uint32_t seed = 1; seed < 40; ++seed)
    chunkings.push_back(RandomCuts(body.size(), seed, seed));
  for (const auto& cuts : chunkings) {
    Outcome out = RunCuts(body, cuts);
    ASSERT_TRUE(out.ok) << out.message;
    ASSERT_EQ(out.parts, expected);
  }
}

TEST(MultipartParserTest, RejectsABoundaryThatMultipartBoundaryWouldNot) {
  for (const std::string& boundary : {""s, "a\rb"s, "a\nb"s, std::string(71, 'a')}) {
    Recorder rec;
    MultipartParser parser(boundary, rec);
    Status s = parser.Feed("--" + boundary + "--");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidInput);
    EXPECT_FALSE(parser.Finish().ok());
  }
}

// Random parts built from an alphabet rich in delimiter pieces, checked under random chunkings.
TEST(MultipartParserTest, RandomBodiesParseTheSameUnderAnyChunking) {
  std::mt19937 rng(20240611);
  const std::string alphabet = "\r\n-XyZb0undary\0\xff"s;
  const std::string needle = "\r\n" + Delim();
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> part_count(0, 4);
  std::uniform_int_distribution<size_t> data_len(0, 120);
  for (int round = 0; round < 200; ++round) {
    std::vector<Part> expected;
    std::string body = (round % 3 == 0) ? "preamble \r\n" : "";
    const int n = part_count(rng);
    for (int i = 0; i < n; ++i) {
      std::string data;
      const size_t len = data_len(rng);
      for (size_t k = 0; k < len; ++k) {
        data.push_back(alphabet[pick(rng)]);
        // Inject a whole or partial delimiter now and then.
        if (rng() % 40 == 0) data += needle.substr(0, rng() % needle.size());
      }
      // Content must not hold the delimiter (RFC 2046); cut it apart if the dice made one.
      for (size_t at; (at = data.find(needle)) != std::string::npos;) data.erase(at, 1);
      // Content ending in "\r\n" + delimiter prefix... is fine: the real delimiter follows.
      const std::string name = "p" + std::to_string(i);
      body += PartText(name, data, i % 2 ? "f.bin" : "", i % 2 ? "application/octet-stream" : "");
      expected.push_back(
          Part{name, i % 2 ? "f.bin" : "", i % 2 ? "application/octet-stream" : "", data, true});
    }
    body += Close();
    if (round % 4 == 0) body += "\r\n";
    std::vector<std::vector<size_t>> chunkings = {{}, EveryByte(body.size())};
    for (uint32_t seed = 0; seed < 5; ++seed) {
      chunkings.push_back(RandomCuts(body.size(), round * 10 + seed, 1 + seed * 7));
    }
    for (const auto& cuts : chunkings) {
      Outcome out = RunCuts(body, cuts);
      ASSERT_TRUE(out.ok) << out.message << " round " << round;
      ASSERT_TRUE(out.order_ok);
      ASSERT_EQ(out.parts, expected)
          << "round " << round << " body " << ::testing::PrintToString(body);
    }
  }
}

}  // namespace
}  // namespace norreg::http
