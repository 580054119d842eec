// Tests of the mottak multipart sink (http/handlers/mottak/parts.hpp): parts as they arrive,
// attachments spilled to the store (never in memory), the documented errors in their order, and
// nothing left behind by a refused or abandoned request.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "http/handlers/mottak/parts.hpp"

namespace norreg::http::mottak_api {
namespace {

constexpr const char* kBoundary = "b0undary-for-parts";

class MottakPartsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "norreg-parts-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    auto store = store::OpenSqliteMottakStore(dir_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    mottak_ = std::make_unique<service::Mottak>(*store_, nullptr, false);
  }
  void TearDown() override {
    mottak_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::string Part(const std::string& name, const std::string& filename,
                          const std::string& type, const std::string& content) {
    std::string s =
        std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"";
    if (!filename.empty()) s += "; filename=\"" + filename + "\"";
    return s + "\r\nContent-Type: " + type + "\r\n\r\n" + content + "\r\n";
  }
  static std::string End() { return std::string("--") + kBoundary + "--\r\n"; }

  // Feeds `body` in pieces of `piece` bytes; the parts the finisher saw (copied out, spills
  // read back) or the error.
  Result<MottakParts> Run(const std::string& body, size_t piece) {
    MottakParts seen;
    auto sink = OpenPartsSink(*mottak_, std::string("multipart/form-data; boundary=") + kBoundary,
                              [&seen](MottakParts& parts) -> Result<Response> {
                                seen.has_payload = parts.has_payload;
                                seen.payload = parts.payload;
                                for (store::MottakFile& f : parts.attachments) {
                                  EXPECT_NE(f.spilled, nullptr);
                                  EXPECT_TRUE(f.spilled->finished());
                                  // Sealed as its part ended, not flushed: the io thread that
                                  // feeds the sink never waits for the disk.
                                  EXPECT_FALSE(f.spilled->durable());
                                  std::ifstream in(f.spilled->path(), std::ios::binary);
                                  f.content.assign(std::istreambuf_iterator<char>(in), {});
                                  seen.attachments.push_back(f);
                                  seen.attachments.back().spilled.reset();  // the sink's only
                                }
                                return Response::Text("ok");
                              });
    if (!sink.ok()) return sink.error();
    for (size_t at = 0; at < body.size(); at += piece) {
      if (Status s = (*sink)->Write(std::string_view(body).substr(at, piece)); !s.ok()) {
        return s.error();
      }
    }
    auto answer = (*sink)->Finish();
    if (!answer.ok()) return answer.error();
    return seen;
  }

  size_t Spills() const {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/tmp")) {
      n += e.is_regular_file() ? 1 : 0;
    }
    return n;
  }

  std::string dir_;
  std::unique_ptr<store::MottakStore> store_;
  std::unique_ptr<service::Mottak> mottak_;
};

TEST_F(MottakPartsTest, AnyChunkingGivesTheSamePartsWithAttachmentsSpilled) {
  const std::string pdf(200'000, '\x25');
  const std::string body = Part("payload", "m.xml", "application/xml", "<Melding/>") +
                           Part("attachments", "a.pdf", "application/pdf", pdf) +
                           Part("attachments", "", "text/plain", "hei") + End();
  for (size_t piece : {1ul, 7ul, 4096ul, body.size()}) {
    SCOPED_TRACE(piece);
    auto parts = Run(body, piece);
    ASSERT_TRUE(parts.ok()) << parts.error().message;
    EXPECT_TRUE(parts->has_payload);
    EXPECT_EQ(parts->payload, "<Melding/>");
    ASSERT_EQ(parts->attachments.size(), 2u);
    EXPECT_EQ(parts->attachments[0].name, "a.pdf");
    EXPECT_EQ(parts->attachments[0].content_type, "application/pdf");
    EXPECT_TRUE(parts->attachments[0].content == pdf);
    EXPECT_EQ(parts->attachments[1].name, "vedlegg-2");
    EXPECT_EQ(parts->attachments[1].content, "hei");
    EXPECT_EQ(Spills(), 0u);  // the sink is gone and nothing was stored: nothing is left
  }
}

TEST_F(MottakPartsTest, DocumentedErrorsInTheirOrder) {
  const std::string payload = Part("payload", "", "application/xml", "<Melding/>");
  struct Case {
    std::string name;
    std::string body;
    ErrorCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"no payload", Part("attachments", "a.txt", "text/plain", "x") + End(),
       ErrorCode::kInvalidInput, "Required request part 'payload' is not present"},
      {"two payloads", payload + payload + End(), ErrorCode::kInvalidInput, "more than one"},
      {"unknown part", payload + Part("other", "", "text/plain", "x") + End(),
       ErrorCode::kInvalidInput, "unknown part: other"},
      {"types not allowed, all named",
       payload + Part("attachments", "x.exe", "application/x-msdownload", "MZ") +
           Part("attachments", "ok.pdf", "application/pdf", "%PDF") +
           Part("attachments", "y", "", "?") + End(),
       ErrorCode::kUnsupportedMedia, "Unsupported file type(s): application/x-msdownload, (none)"},
      {"truncated",
       (payload + Part("attachments", "a.pdf", "application/pdf", "%PDF")).substr(0, 150),
       ErrorCode::kInvalidInput, ""},
      {"payload over 4 MB",
       Part("payload", "", "application/xml", std::string(kMaxPayloadBytes + 1, ' ')) + End(),
       ErrorCode::kTooLarge, "larger than 4 MB"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto parts = Run(c.body, 65536);
    ASSERT_FALSE(parts.ok());
    EXPECT_EQ(parts.error().code, c.code);
    EXPECT_NE(parts.error().message.find(c.message), std::string::npos) << parts.error().message;
    EXPECT_EQ(Spills(), 0u);
  }
  auto bad_type = OpenPartsSink(*mottak_, "multipart/form-data", {});
  ASSERT_FALSE(bad_type.ok());
  EXPECT_EQ(bad_type.error().code, ErrorCode::kInvalidInput);
  EXPECT_FALSE(OpenPartsSink(*mottak_, "application/json; boundary=x", {}).ok());
}

TEST_F(MottakPartsTest, AnAbandonedRequestLeavesNoSpill) {
  auto sink = OpenPartsSink(*mottak_, std::string("multipart/form-data; boundary=") + kBoundary,
                            [](MottakParts&) -> Result<Response> { return Response::Text(""); });
  ASSERT_TRUE(sink.ok());
  ASSERT_TRUE((*sink)
                  ->Write(Part("payload", "", "application/xml", "<M/>") + "--" + kBoundary +
                          "\r\nContent-Disposition: form-data; name=\"attachments\"; "
                          "filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n" +
                          std::string(100'000, 'p'))
                  .ok());
  EXPECT_EQ(Spills(), 1u);
  sink->reset();  // the client went away
  EXPECT_EQ(Spills(), 0u);
}

}  // namespace
}  // namespace norreg::http::mottak_api
