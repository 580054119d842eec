#include "client/mottak_client.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.hpp"
#include "fake_http_server.hpp"
#include "mottak/melding.hpp"
#include "mottak/zip.hpp"

namespace norreg::client {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "norreg-mottak-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = pattern;
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::string UploadXml(const std::string& id) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<Melding xmlns="http://schema.brreg.no/postmottak/henvendelse" versjon="1.0" id=")" +
         id + R"(" tjeneste="Tinglysing" tjenestehandling="innsending">
  <Mottaker id="974760673" idType="orgnr">Brønnøysundregistrene</Mottaker>
  <Avsender id="310000019" idType="orgnr">Avsender AS</Avsender>
  <Innhold><Data format="text/plain">Søknad</Data></Innhold>
</Melding>
)";
}

// A reply ZIP as the service builds it: henvendelse.xml answering `original_id`.
std::string ReplyZip(const std::string& original_id, const std::string& handling = "vedtak",
                     const std::vector<mottak::ZipEntry>& extra = {}) {
  mottak::Melding melding;
  melding.versjon = "1.0";
  std::string id = ids::NewUuid();
  id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
  melding.id = id;
  melding.tjeneste = "Tinglysing";
  melding.tjenestehandling = handling;
  melding.mottaker = {"310000019", "orgnr", "Avsender AS"};
  melding.avsender = {"974760673", "orgnr", "Brønnøysundregistrene"};
  if (!original_id.empty()) melding.referanser.push_back({original_id, "MeldingsReferanse"});
  melding.innhold.format = "text/plain";
  melding.innhold.data = "Vedtak: godkjent";
  auto xml = mottak::RenderMelding(melding);
  if (!xml.ok()) throw std::runtime_error(xml.error().message);
  std::vector<mottak::ZipEntry> entries = {{"henvendelse.xml", *xml}};
  entries.insert(entries.end(), extra.begin(), extra.end());
  auto zip = mottak::BuildZip(entries);
  if (!zip.ok()) throw std::runtime_error(zip.error().message);
  return *zip;
}

struct Part {
  std::string disposition;  // the Content-Disposition value
  std::string name;
  std::string filename;
  std::string content_type;
  std::string content;
};

std::string Param(const std::string& disposition, const std::string& key) {
  const std::string needle = key + "=\"";
  size_t at = disposition.find("; " + needle);
  if (at == std::string::npos) return {};
  at += 2 + needle.size();
  return disposition.substr(at, disposition.find('"', at) - at);
}

// A strict reader of the client's multipart body: CRLF line ends, the final delimiter last.
std::vector<Part> ParseMultipart(const std::string& body, const std::string& content_type) {
  const std::string prefix = "multipart/form-data; boundary=";
  if (!content_type.starts_with(prefix)) throw std::runtime_error("content type " + content_type);
  const std::string delimiter = "--" + content_type.substr(prefix.size());
  std::vector<Part> parts;
  if (!body.starts_with(delimiter + "\r\n")) throw std::runtime_error("no first delimiter");
  size_t pos = delimiter.size() + 2;
  while (true) {
    const size_t head_end = body.find("\r\n\r\n", pos);
    if (head_end == std::string::npos) throw std::runtime_error("no part head end");
    Part part;
    std::istringstream head(body.substr(pos, head_end - pos));
    std::string line;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.starts_with("Content-Disposition: ")) part.disposition = line.substr(21);
      if (line.starts_with("Content-Type: ")) part.content_type = line.substr(14);
    }
    part.name = Param(part.disposition, "name");
    part.filename = Param(part.disposition, "filename");
    const size_t content_end = body.find("\r\n" + delimiter, head_end + 4);
    if (content_end == std::string::npos) throw std::runtime_error("no closing delimiter");
    part.content = body.substr(head_end + 4, content_end - head_end - 4);
    parts.push_back(std::move(part));
    pos = content_end + 2 + delimiter.size();
    if (body.compare(pos, 4, "--\r\n") == 0 && pos + 4 == body.size()) return parts;
    if (body.compare(pos, 2, "\r\n") != 0) throw std::runtime_error("bad delimiter line");
    pos += 2;
  }
}

std::vector<boost::json::object> SentLines(const std::string& state_dir) {
  std::ifstream in(state_dir + "/sent.ndjson");
  std::vector<boost::json::object> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(boost::json::parse(line).as_object());
  return lines;
}

RetryPolicy FastRetry() {
  RetryPolicy retry;
  retry.max_attempts = 4;
  retry.initial_backoff = std::chrono::milliseconds(1);
  retry.max_backoff = std::chrono::milliseconds(5);
  return retry;
}

std::string BrregError(const std::string& feilkode, const std::string& beskrivelse) {
  return "{\"feilId\":\"" + ids::NewUuid() +
         "\",\"mottakId\":null,\"kilde\":\"test\",\"feilkode\":\"" + feilkode +
         "\",\"beskrivelse\":\"" + beskrivelse + "\"}";
}

// ---------------------------------------------------------------------------------------------
// ContentTypeForFile

TEST(MottakClientTest, ContentTypeForFileFollowsTheAllowedTypes) {
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"melding.xml", "application/xml"},
      {"skjema.pdf", "application/pdf"},
      {"/a/b/C.PDF", "application/pdf"},
      {"brev.doc", "application/msword"},
      {"brev.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"ark.xls", "application/vnd.ms-excel"},
      {"ark.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
      {"tekst.rtf", "application/rtf"},
      {"bilde.jpg", "image/jpeg"},
      {"bilde.JPEG", "image/jpeg"},
      {"bilde.png", "image/png"},
      {"dok.odt", "application/vnd.oasis.opendocument.text"},
      {"ark.ods", "application/vnd.oasis.opendocument.spreadsheet"},
      {"scan.tif", "image/tiff"},
      {"scan.tiff", "image/tiff"},
      {"notat.txt", "text/plain"},
      {"data.json", "application/json"},
      {"liste.csv", "text/csv"},
      {"pakke.zip", "application/zip"},
      {"pakke.tar.gz", "application/gzip"},
      {"program.exe", std::nullopt},
      {"skjema.pdf.exe", std::nullopt},
      {"uten-endelse", std::nullopt},
      {".pdf", std::nullopt},
      {"mappe.pdf/fil", std::nullopt},
      {"bilde.gif", std::nullopt},
      {"x.", std::nullopt},
  };
  for (const auto& [path, expected] : cases) {
    EXPECT_EQ(ContentTypeForFile(path), expected) << path;
  }
}

// ---------------------------------------------------------------------------------------------
// SendMelding

class MottakSendTest : public ::testing::Test {
 protected:
  MottakSendTest()
      : server_([this](const FakeRequest& request) {
          std::lock_guard lock(mutex_);
          if (!answers_.empty()) {
            FakeResponse response = answers_.front();
            answers_.erase(answers_.begin());
            return response;
          }
          return FakeResponse{
              200,
              {{"Content-Type", "application/json"}},
              "{\"mottakId\":\"36B5516F-0000-4000-8000-00000000000A\","
              "\"mottattTidspunkt\":\"2019-09-02T13:18:40.785\","
              "\"antallVedlegg\":" +
                  std::to_string(std::count(request.body.begin(), request.body.end(), '\x01')) +
                  "}"};
        }) {
    options_.base_url = server_.Url("");
    options_.tokens = StaticTokenSource("tok");
    options_.retry = FastRetry();
    options_.state_dir = dir_.path() + "/state";
  }

  std::string File(const std::string& name, std::string_view content) {
    const std::string path = dir_.path() + "/" + name;
    WriteFile(path, content);
    return path;
  }

  ScratchDir dir_;
  std::mutex mutex_;
  std::vector<FakeResponse> answers_;  // answered first, in order
  FakeHttpServer server_;
  MottakClientOptions options_;
};

TEST_F(MottakSendTest, SendsThePayloadAndEachAttachmentAsItsOwnPart) {
  const std::string melding = File("søknad.xml", UploadXml("0a1b2c3d4e5f60718293a4b5c6d7e8f9"));
  const std::string pdf_bytes("%PDF-1.4\0\x01\r\n--", 14);
  const std::string pdf = File("skjema.pdf", pdf_bytes);
  const std::string txt = File("notat.TXT", "hei\x01");
  auto sent = SendMelding(options_, melding, {pdf, txt}, false);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(sent->mottak_id, "36b5516f-0000-4000-8000-00000000000a");  // lower-cased
  EXPECT_EQ(sent->melding_id, "0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  EXPECT_EQ(sent->mottatt_tidspunkt, "2019-09-02T13:18:40.785");
  EXPECT_EQ(sent->antall_vedlegg, 2);

  const auto received = server_.received();
  ASSERT_EQ(received.size(), 1u);
  const FakeRequest& request = received[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/inbound/upload");
  EXPECT_EQ(request.Header("authorization"), "Bearer tok");
  const auto parts = ParseMultipart(request.body, request.Header("content-type"));
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].name, "payload");
  EXPECT_EQ(parts[0].filename, "søknad.xml");
  EXPECT_EQ(parts[0].content_type, "application/xml");
  EXPECT_EQ(parts[0].content, UploadXml("0a1b2c3d4e5f60718293a4b5c6d7e8f9"));  // sent as it is
  EXPECT_TRUE(parts[0].disposition.starts_with("form-data; name=\"payload\""));
  EXPECT_EQ(parts[1].name, "attachments");
  EXPECT_EQ(parts[1].filename, "skjema.pdf");
  EXPECT_EQ(parts[1].content_type, "application/pdf");
  EXPECT_EQ(parts[1].content, pdf_bytes);
  EXPECT_EQ(parts[2].name, "attachments");
  EXPECT_EQ(parts[2].filename, "notat.TXT");
  EXPECT_EQ(parts[2].content_type, "text/plain");
  EXPECT_EQ(parts[2].content, "hei\x01");

  const auto lines = SentLines(options_.state_dir);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].at("meldingId").as_string(), "0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  EXPECT_EQ(lines[0].at("mottakId").as_string(), "36b5516f-0000-4000-8000-00000000000a");
  EXPECT_EQ(lines[0].at("fil").as_string(), melding);
  EXPECT_TRUE(lines[0].at("sendt").as_string().starts_with("20"));
}

TEST_F(MottakSendTest, GenerateIdReplacesTheIdAndRecordsTheNewOne) {
  const std::string melding = File("m.xml", UploadXml("0a1b2c3d4e5f60718293a4b5c6d7e8f9"));
  auto first = SendMelding(options_, melding, {}, true);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = SendMelding(options_, melding, {}, true);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(ids::IsHex32(first->melding_id)) << first->melding_id;
  EXPECT_NE(first->melding_id, "0a1b2c3d4e5f60718293a4b5c6d7e8f9");
  EXPECT_NE(first->melding_id, second->melding_id);

  const auto received = server_.received();
  ASSERT_EQ(received.size(), 2u);
  const auto parts = ParseMultipart(received[0].body, received[0].Header("content-type"));
  ASSERT_EQ(parts.size(), 1u);
  auto parsed = mottak::ParseMelding(parts[0].content);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->id, first->melding_id);
  EXPECT_EQ(parsed->tjeneste, "Tinglysing");
  // sent.ndjson is appended to: both sends, in order.
  const auto lines = SentLines(options_.state_dir);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].at("meldingId").as_string(), first->melding_id);
  EXPECT_EQ(lines[1].at("meldingId").as_string(), second->melding_id);
}

TEST_F(MottakSendTest, RefusesBadInputBeforeSending) {
  const std::string melding = File("m.xml", UploadXml("0a1b2c3d4e5f60718293a4b5c6d7e8f9"));
  const std::string exe = File("virus.exe", "MZ");
  const std::string broken = File("broken.xml", "<Melding/>");
  struct Case {
    std::string melding;
    std::vector<std::string> attachments;
    bool generate_id;
  };
  const std::vector<Case> cases = {
      {melding, {exe}, false},
      {melding, {dir_.path() + "/missing.pdf"}, false},
      {dir_.path() + "/missing.xml", {}, false},
      {broken, {}, true},
  };
  for (const Case& c : cases) {
    auto sent = SendMelding(options_, c.melding, c.attachments, c.generate_id);
    ASSERT_FALSE(sent.ok());
    EXPECT_EQ(sent.error().code, ErrorCode::kInvalidInput) << sent.error().message;
  }
  EXPECT_EQ(server_.requests(), 0);
  EXPECT_FALSE(std::filesystem::exists(options_.state_dir + "/sent.ndjson"));
}

TEST_F(MottakSendTest, ARefusedUploadIsTheServersErrorAndNotRecorded) {
  {
    std::lock_guard lock(mutex_);
    answers_.push_back({400,
                        {{"Content-Type", "application/json"}},
                        BrregError("CLIENTERROR-10001", "Melding: expected Avsender")});
  }
  const std::string melding = File("m.xml", UploadXml("0a1b2c3d4e5f60718293a4b5c6d7e8f9"));
  auto sent = SendMelding(options_, melding, {}, false);
  ASSERT_FALSE(sent.ok());
  EXPECT_EQ(sent.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(sent.error().message.find("CLIENTERROR-10001 Melding: expected Avsender"),
            std::string::npos)
      << sent.error().message;
  EXPECT_FALSE(std::filesystem::exists(options_.state_dir + "/sent.ndjson"));
}

TEST_F(MottakSendTest, RetriesServerErrorsAndRefreshesTheTokenOnce) {
  {
    std::lock_guard lock(mutex_);
    answers_.push_back({503, {}, ""});
    answers_.push_back({401, {}, ""});
  }
  int invalidations = 0;
  int issued = 0;
  options_.tokens.get = [&issued]() -> Result<std::string> {
    return "tok" + std::to_string(++issued);
  };
  options_.tokens.invalidate = [&invalidations] { ++invalidations; };
  const std::string melding = File("m.xml", UploadXml("0a1b2c3d4e5f60718293a4b5c6d7e8f9"));
  auto sent = SendMelding(options_, melding, {}, false);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(invalidations, 1);
  const auto received = server_.received();
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[2].Header("authorization"), "Bearer tok3");
  // A second 401 after the refresh is final.
  {
    std::lock_guard lock(mutex_);
    answers_.push_back({401, {}, ""});
    answers_.push_back({401, {}, ""});
  }
  auto refused = SendMelding(options_, melding, {}, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
}

// ---------------------------------------------------------------------------------------------
// PollMailbox

// An in-test mailbox: replies by mottakId (oldest first) and faults.
class FakeMailbox {
 public:
  FakeMailbox() : server_([this](const FakeRequest& r) { return Handle(r); }) {}

  std::string base() const { return server_.Url(""); }
  const FakeHttpServer& server() const { return server_; }

  void Add(const std::string& mottak_id, std::string zip) {
    std::lock_guard lock(mutex_);
    order_.push_back(mottak_id);
    zips_[mottak_id] = std::move(zip);
  }
  bool Available(const std::string& mottak_id) {
    std::lock_guard lock(mutex_);
    return zips_.count(mottak_id) > 0 && confirmed_.count(mottak_id) == 0;
  }
  int Confirms(const std::string& mottak_id) {
    std::lock_guard lock(mutex_);
    return confirm_calls_[mottak_id];
  }
  int Downloads(const std::string& mottak_id) {
    std::lock_guard lock(mutex_);
    return download_calls_[mottak_id];
  }

  // Faults (guarded by mutex_).
  std::mutex mutex_;
  int available_failures = 0;          // 503 this many times
  int download_failures = 0;           // 502 this many times
  std::set<std::string> confirm_race;  // confirm answers 500 ERROR-00005 (and confirms)
  std::set<std::string> confirm_404;   // confirm answers 404

 private:
  FakeResponse Handle(const FakeRequest& request) {
    std::lock_guard lock(mutex_);
    std::string path = request.target;
    std::string mottak_id;
    if (auto q = path.find('?'); q != std::string::npos) {
      const std::string query = path.substr(q + 1);
      path.resize(q);
      if (query.starts_with("mottakId=")) mottak_id = query.substr(9);
    }
    if (request.Header("authorization") != "Bearer tok") return {401, {}, ""};
    if (request.method == "GET" && path == "/outbound/available") {
      if (available_failures > 0) {
        --available_failures;
        return {503, {}, "busy"};
      }
      std::string body = "[";
      for (const std::string& id : order_) {
        if (confirmed_.count(id)) continue;
        if (body.size() > 1) body += ',';
        body += "{\"mottakId\":\"" + id +
                "\",\"version\":0,\"orgnr\":310000019,\"dokumentId\":\"d\",\"status\":\"ready\","
                "\"oppdatert\":\"2019-09-05T09:43:51.691\"}";
      }
      return {200, {{"Content-Type", "application/json"}}, body + "]"};
    }
    if (request.method == "GET" && path == "/outbound/download") {
      ++download_calls_[mottak_id];
      if (download_failures > 0) {
        --download_failures;
        return {502, {}, "bad gateway"};
      }
      auto found = zips_.find(mottak_id);
      if (found == zips_.end()) return {404, {}, BrregError("CLIENTERROR-10004", "unknown")};
      return {200, {{"Content-Type", "application/octet-stream"}}, found->second};
    }
    if (request.method == "PUT" && path == "/outbound/confirm") {
      ++confirm_calls_[mottak_id];
      if (confirm_404.count(mottak_id)) {
        return {404, {}, BrregError("CLIENTERROR-10004", "No message with this mottakId")};
      }
      if (!zips_.count(mottak_id)) return {404, {}, BrregError("CLIENTERROR-10004", "unknown")};
      const bool raced = confirm_race.count(mottak_id) > 0 || confirmed_.count(mottak_id) > 0;
      confirmed_.insert(mottak_id);
      if (raced) {
        return {500,
                {{"Content-Type", "application/json"}},
                BrregError("ERROR-00005", "Simultaneous attempt to confirm same file")};
      }
      return {200, {}, ""};
    }
    return {404, {}, ""};
  }

  std::vector<std::string> order_;
  std::map<std::string, std::string> zips_;
  std::set<std::string> confirmed_;
  std::map<std::string, int> confirm_calls_;
  std::map<std::string, int> download_calls_;
  FakeHttpServer server_;
};

constexpr const char* kId1 = "11111111-1111-4111-8111-111111111111";
constexpr const char* kId2 = "22222222-2222-4222-8222-222222222222";
constexpr const char* kId3 = "33333333-3333-4333-8333-333333333333";

class MottakPollTest : public ::testing::Test {
 protected:
  MottakPollTest() {
    options_.base_url = mailbox_.base();
    options_.tokens = StaticTokenSource("tok");
    options_.retry = FastRetry();
    options_.state_dir = dir_.path() + "/state";
    poll_.out_dir = dir_.path() + "/ut";
  }

  Result<PollSummary> Poll() {
    return PollMailbox(options_, poll_,
                       [this](const PolledReply& reply) { replies_.push_back(reply); });
  }

  std::set<std::string> OutFiles() const {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(poll_.out_dir)) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

  ScratchDir dir_;
  FakeMailbox mailbox_;
  MottakClientOptions options_;
  PollOptions poll_;
  std::vector<PolledReply> replies_;
};

TEST_F(MottakPollTest, WritesEachReplyConfirmsItAndSaysWhatItAnswers) {
  std::filesystem::create_directories(options_.state_dir);
  WriteFile(options_.state_dir + "/sent.ndjson",
            "{\"meldingId\":\"aaaaaaaabbbbbbbbccccccccdddddddd\",\"mottakId\":\"x\",\"fil\":"
            "\"/hjem/søknad.xml\",\"sendt\":\"2024-01-01T00:00:00.000+01:00\"}\n"
            "{\"meldingId\":\"torn");  // a torn last line (a crash mid-append) is skipped
  const std::string zip1 =
      ReplyZip("aaaaaaaabbbbbbbbccccccccdddddddd", "kvittering", {{"vedlegg/svar.pdf", "%PDF"}});
  const std::string zip2 = ReplyZip("ffffffffffffffffffffffffffffffff");
  mailbox_.Add(kId1, zip1);
  mailbox_.Add(kId2, zip2);
  auto summary = Poll();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->rounds, 1);
  EXPECT_EQ(summary->written, 2);
  EXPECT_EQ(summary->confirmed, 2);
  EXPECT_EQ(OutFiles(),
            (std::set<std::string>{std::string(kId1) + ".zip", std::string(kId2) + ".zip"}));
  EXPECT_EQ(ReadFile(poll_.out_dir + "/" + kId1 + ".zip"), zip1);
  EXPECT_EQ(ReadFile(poll_.out_dir + "/" + kId2 + ".zip"), zip2);
  EXPECT_FALSE(mailbox_.Available(kId1));
  EXPECT_FALSE(mailbox_.Available(kId2));
  ASSERT_EQ(replies_.size(), 2u);
  EXPECT_EQ(replies_[0].mottak_id, kId1);  // in the listed (oldest first) order
  EXPECT_EQ(replies_[0].path, poll_.out_dir + "/" + kId1 + ".zip");
  EXPECT_EQ(replies_[0].melding_referanse, "aaaaaaaabbbbbbbbccccccccdddddddd");
  EXPECT_EQ(replies_[0].answers_file, "/hjem/søknad.xml");
  EXPECT_EQ(replies_[0].tjenestehandling, "kvittering");
  EXPECT_EQ(replies_[1].mottak_id, kId2);
  EXPECT_EQ(replies_[1].melding_referanse, "ffffffffffffffffffffffffffffffff");
  EXPECT_EQ(replies_[1].answers_file, "");
  EXPECT_EQ(replies_[1].tjenestehandling, "vedtak");
  // No temp files are left behind.
  for (const auto& name : OutFiles()) EXPECT_TRUE(name.ends_with(".zip")) << name;
  // An empty mailbox is a quiet round.
  replies_.clear();
  auto again = Poll();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->written, 0);
  EXPECT_TRUE(replies_.empty());
}

TEST_F(MottakPollTest, AConfirmRaceLostCountsAsConfirmed) {
  mailbox_.Add(kId1, ReplyZip("aaaaaaaabbbbbbbbccccccccdddddddd"));
  {
    std::lock_guard lock(mailbox_.mutex_);
    mailbox_.confirm_race.insert(kId1);
  }
  auto summary = Poll();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->confirmed, 1);
  EXPECT_EQ(mailbox_.Confirms(kId1), 1);  // ERROR-00005 is an answer, not retried
  EXPECT_TRUE(std::filesystem::exists(poll_.out_dir + "/" + kId1 + ".zip"));
  ASSERT_EQ(replies_.size(), 1u);
}

TEST_F(MottakPollTest, RetriesServerErrors) {
  mailbox_.Add(kId1, ReplyZip("aaaaaaaabbbbbbbbccccccccdddddddd"));
  {
    std::lock_guard lock(mailbox_.mutex_);
    mailbox_.available_failures = 2;
    mailbox_.download_failures = 2;
  }
  auto summary = Poll();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->written, 1);
  EXPECT_EQ(summary->confirmed, 1);
  EXPECT_EQ(mailbox_.Downloads(kId1), 3);
  // Attempts run out: the error says so and nothing is written.
  mailbox_.Add(kId2, ReplyZip("aaaaaaaabbbbbbbbccccccccdddddddd"));
  {
    std::lock_guard lock(mailbox_.mutex_);
    mailbox_.download_failures = 100;
  }
  auto failed = Poll();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kInternal);
  EXPECT_NE(failed.error().message.find("after 4 attempts"), std::string::npos)
      << failed.error().message;
  EXPECT_FALSE(std::filesystem::exists(poll_.out_dir + "/" + kId2 + ".zip"));
  EXPECT_TRUE(mailbox_.Available(kId2));
}

TEST_F(MottakPollTest, RefusesACorruptZipWithoutWritingOrConfirmingIt) {
  std::string corrupt = ReplyZip("aaaaaaaabbbbbbbbccccccccdddddddd");
  corrupt[corrupt.size() / 3] ^= 0x5a;  // inside the compressed data: the CRC fails
  const std::vector<std::pair<std::string, std::string>> bad = {
      {kId1, corrupt},
      {kId2, "not a zip at all"},
      {kId3, *mottak::BuildZip({{"annet.xml", "<x/>"}})},  // no henvendelse.xml
  };
  for (const auto& [id, zip] : bad) mailbox_.Add(id, zip);
  const std::string good_id = "44444444-4444-4444-8444-444444444444";
  mailbox_.Add(good_id, ReplyZip("aaaaaaaabbbbbbbbccccccccdddddddd"));
  auto summary = Poll();
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.error().message.find(kId1), std::string::npos) << summary.error().message;
  for (const auto& [id, zip] : bad) {
    EXPECT_FALSE(std::filesystem::exists(poll_.out_dir + "/" + id + ".zip")) << id;
    EXPECT_EQ(mailbox_.Confirms(id), 0) << id;
    EXPECT_TRUE(mailbox_.Available(id)) << id;
  }
  // The good reply behind them was still fetched and confirmed.
  EXPECT_EQ(OutFiles(), std::set<std::string>{good_id + ".zip"});
  EXPECT_FALSE(mailbox_.Available(good_id));
}

TEST_F(MottakPollTest, NotFoundOnConfirmAfterADownloadIsAnError) {
  mailbox_.Add(kId1, ReplyZip("aaaaaaaabbbbbbbbccccccccdddddddd"));
  {
    std::lock_guard lock(mailbox_.mutex_);
    mailbox_.confirm_404.insert(kId1);
  }
  auto summary = Poll();
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code, ErrorCode::kNotFound);
  EXPECT_NE(summary.error().message.find("CLIENTERROR-10004"), std::string::npos)
      << summary.error().message;
  EXPECT_TRUE(replies_.empty());
}

TEST_F(MottakPollTest, ACrashBetweenWriteAndConfirmLeavesEachReplyExactlyOnce) {
  const std::vector<std::string> ids = {kId1, kId2, kId3};
  std::map<std::string, std::string> zips;
  for (const std::string& id : ids) {
    zips[id] = ReplyZip("aaaaaaaabbbbbbbbccccccccdddddddd");
    mailbox_.Add(id, zips[id]);
  }
  poll_.stop_after_writes = 2;
  auto crashed = Poll();
  ASSERT_TRUE(crashed.ok()) << crashed.error().message;
  EXPECT_EQ(crashed->written, 2);
  EXPECT_EQ(crashed->confirmed, 1);
  EXPECT_TRUE(mailbox_.Available(kId2));  // written, not confirmed
  EXPECT_EQ(ReadFile(poll_.out_dir + "/" + kId2 + ".zip"), zips[kId2]);

  poll_.stop_after_writes = 0;
  replies_.clear();
  auto resumed = Poll();
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(resumed->written, 2);  // kId2 again, and kId3
  EXPECT_EQ(resumed->confirmed, 2);
  EXPECT_EQ(mailbox_.Downloads(kId2), 2);
  std::set<std::string> expected;
  for (const std::string& id : ids) {
    expected.insert(id + ".zip");
    EXPECT_EQ(ReadFile(poll_.out_dir + "/" + id + ".zip"), zips[id]) << id;
    EXPECT_FALSE(mailbox_.Available(id)) << id;
    EXPECT_EQ(mailbox_.Confirms(id), 1) << id;
  }
  EXPECT_EQ(OutFiles(), expected);
}

TEST_F(MottakPollTest, RepeatsRoundsUntilCancelled) {
  std::atomic<bool> cancel{false};
  poll_.once = false;
  poll_.interval = std::chrono::milliseconds(10);
  poll_.cancel = &cancel;
  std::thread feeder([this, &cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    mailbox_.Add(kId1, ReplyZip("aaaaaaaabbbbbbbbccccccccdddddddd"));
    for (int i = 0; i < 500 && mailbox_.Available(kId1); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    cancel = true;
  });
  auto summary = Poll();
  feeder.join();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_GT(summary->rounds, 1);
  EXPECT_EQ(summary->written, 1);
  EXPECT_EQ(summary->confirmed, 1);
}

TEST_F(MottakPollTest, RefusesAMottakIdThatIsNoSafeFileName) {
  mailbox_.Add("../../etc/passwd", ReplyZip("aaaaaaaabbbbbbbbccccccccdddddddd"));
  auto summary = Poll();
  ASSERT_FALSE(summary.ok());
  EXPECT_TRUE(std::filesystem::is_empty(poll_.out_dir));
  EXPECT_EQ(mailbox_.server().requests(), 1);  // only the listing
}

}  // namespace
}  // namespace norreg::client
