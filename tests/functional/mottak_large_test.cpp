// Large mottak requests against the real binary (issue 5): a 34 MB upload passes through a few MB
// of server memory and is stored byte for byte; 36 MB is refused with 413 CLIENTERROR-10003 (by
// Content-Length and as a chunked body) leaving nothing behind, and the server serves on; a
// producer's reply with attachments (multipart, and `norreg mottak publish`) downloads byte for
// byte as a ZIP.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "mottak/zip.hpp"
#include "store/mottak_store.hpp"

namespace norreg::testing {
namespace {

// Bytes no boundary can occur in by accident (a fixed pseudo-random sequence).
std::string Noise(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x);
  }
  return s;
}

// A line of /proc/<pid>/status in kB ("VmHWM", "VmRSS"); -1 when unreadable.
long StatusKb(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  }
  return -1;
}

// Resets the peak RSS to the current RSS (Linux: "5" into clear_refs); false when not allowed.
bool ResetPeak(pid_t pid) {
  std::ofstream out("/proc/" + std::to_string(pid) + "/clear_refs");
  out << "5";
  out.flush();
  return out.good();
}

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    n += e.is_regular_file() ? 1 : 0;
  }
  return n;
}

// Sends `head`, then a chunked body of `total` bytes in 64 KB chunks, stopping as soon as the
// server answers; returns what the server sent until it closed (or 10 s passed).
std::string SendChunkedUntilAnswered(int port, const std::string& head, size_t total) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return {};
  std::string out = head;
  const std::string chunk = "10000\r\n" + std::string(0x10000, 'c') + "\r\n";
  size_t body_sent = 0;
  size_t at = 0;  // of `out`
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool sending = true;
  while (std::chrono::steady_clock::now() < deadline) {
    if (sending && at == out.size()) {
      if (body_sent >= total) {
        out = "0\r\n\r\n";
        sending = false;
      } else {
        out = chunk;
        body_sent += 0x10000;
      }
      at = 0;
    }
    pollfd p{fd, static_cast<short>(POLLIN | (at < out.size() ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 50) <= 0) continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[8192];
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      answer.append(buf, static_cast<size_t>(n));
      sending = false;  // answered: stop sending
      at = out.size();
      continue;
    }
    if (p.revents & POLLOUT) {
      const ssize_t n = send(fd, out.data() + at, out.size() - at, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EAGAIN) continue;
        sending = false;
        at = out.size();
        continue;
      }
      at += static_cast<size_t>(n);
    }
  }
  close(fd);
  return answer;
}

class MottakLargeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(dir_.path(),
                                              std::vector<std::string>{"--demo-persons", "5"});
  }
  std::string As(const std::string& org) {
    return "Bearer " + server_->Token(kMottakScope, "0192:" + org);
  }
  HttpResponse Upload(const std::string& body, const std::string& org = kOrgA) {
    return server_->Request(
        "POST", "/inbound/upload", body,
        {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary},
         {"Authorization", As(org)}});
  }
  std::string MottakDir() const { return dir_.path() + "/mottak"; }
  // The stored attachment and reply-ZIP blobs: files in <data>/mottak/blobs on SQLite, pieces in
  // the database on PostgreSQL.
  int64_t StoredBlobs() const {
    if (!OnPostgres()) return static_cast<int64_t>(FilesIn(MottakDir() + "/blobs"));
    return CountMottakRows(dir_.path(), "SELECT count(*) FROM mottak_blob_chunks");
  }
  // The server's mailbox, opened directly (the server must have stopped).
  Result<std::unique_ptr<store::MottakStore>> OpenMottakStore() const {
    if (!OnPostgres()) return store::OpenSqliteMottakStore(MottakDir());
    return store::OpenPostgresMottakStore(
        {.conninfo = StoreArgs(dir_.path()).at(1), .spill_dir = dir_.path() + "/spill"});
  }

  TempDir dir_;
  // These tests measure the server's peak memory. Under AddressSanitizer freed memory waits in a
  // quarantine (256 MB by default) before it is reused, so a server that frees each 512 KiB piece
  // of a reply (PostgreSQL answers one result per piece) would look as if it held the reply; a
  // small quarantine measures what the program itself keeps.
  ScopedEnv asan_{"ASAN_OPTIONS", std::string(std::getenv("ASAN_OPTIONS") != nullptr
                                                  ? std::getenv("ASAN_OPTIONS")
                                                  : "") +
                                      ":quarantine_size_mb=4"};
  std::unique_ptr<ServerProcess> server_;
};

std::string MottakIdOf(const std::string& body) {
  const auto at = body.find("\"mottakId\":\"");
  return at == std::string::npos ? "" : body.substr(at + 12, 36);
}

TEST_F(MottakLargeTest, A34MbUploadPassesThroughAFewMegabytesAndIsStoredExactly) {
  const std::string id = "3434343434343434abababababababab";
  const std::vector<Part> parts = {
      {"payload", "melding.xml", "application/xml", UploadXml(kOrgA, id)},
      {"attachments", "skjema.pdf", "application/pdf", Noise(20'000'000, 1)},
      {"attachments", "bilag.zip", "application/zip", Noise(14'000'000, 2)},
      {"attachments", "notat.txt", "text/plain", "liten tekst"},
  };
  const std::string body = Multipart(parts);
  ASSERT_GT(body.size(), 34'000'000u);
  ASSERT_LT(body.size(), 35u << 20);
  // Warm up the path (first-use allocations, pools), then measure the peak around one upload.
  ASSERT_EQ(Upload(Multipart({{"payload", "m.xml", "application/xml",
                               UploadXml(kOrgA, "0000000000000000000000000000aaaa")},
                              {"attachments", "w.pdf", "application/pdf", Noise(300'000, 3)}}))
                .status,
            200);
  const pid_t pid = server_->pid();
  const bool reset = ResetPeak(pid);
  const long before = reset ? StatusKb(pid, "VmRSS") : StatusKb(pid, "VmHWM");
  auto r = Upload(body);
  const long peak = StatusKb(pid, "VmHWM");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"antallVedlegg\":3"), std::string::npos) << r.body;
  ASSERT_GT(before, 0);
  const long growth_kb = peak - before;
  std::cout << "[ memory ] 34 MB upload: server peak RSS " << before << " kB -> " << peak
            << " kB (growth " << growth_kb << " kB" << (reset ? "" : ", peak not resettable")
            << ")\n";
  RecordProperty("upload_peak_rss_growth_kb", std::to_string(growth_kb));
  EXPECT_LT(growth_kb, 8 * 1024) << "the upload was held in memory";

  EXPECT_EQ(server_->Get("/health/live", {{"Authorization", ""}}).status, 200);
  EXPECT_EQ(FilesIn(MottakDir() + "/tmp"), 0u);
  const std::string mottak_id = MottakIdOf(r.body);
  ASSERT_EQ(mottak_id.size(), 36u);

  // Read back through the store once the server is gone: byte for byte.
  ASSERT_EQ(server_->Stop(), 0) << server_->Output();
  auto store = OpenMottakStore();
  ASSERT_TRUE(store.ok()) << store.error().detail;
  auto stored = (*store)->GetInbound(kOrgA, mottak_id);
  ASSERT_TRUE(stored.ok()) << stored.error().detail;
  EXPECT_EQ(stored->message.payload, parts[0].content);
  ASSERT_EQ(stored->message.attachments.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(stored->message.attachments[i].name, parts[i + 1].filename);
    EXPECT_EQ(stored->message.attachments[i].content_type, parts[i + 1].content_type);
    EXPECT_TRUE(stored->message.attachments[i].content == parts[i + 1].content) << i;
  }
}

TEST_F(MottakLargeTest, A36MbUploadIs413AndLeavesNothingBehind) {
  const std::string id = "3636363636363636abababababababab";
  const std::string body =
      Multipart({{"payload", "melding.xml", "application/xml", UploadXml(kOrgA, id)},
                 {"attachments", "stor.pdf", "application/pdf", Noise(36u << 20, 4)}});
  // By Content-Length: refused before the body is read.
  auto announced = Upload(body);
  EXPECT_EQ(announced.status, 413) << announced.body;
  EXPECT_NE(announced.body.find("\"feilkode\":\"CLIENTERROR-10003\""), std::string::npos)
      << announced.body;
  // Chunked: refused once the body passes 35 MB; what was spilled so far is removed.
  const std::string prefix =
      std::string("--") + kBoundary +
      "\r\nContent-Disposition: form-data; name=\"payload\"\r\nContent-Type: application/xml"
      "\r\n\r\n" +
      UploadXml(kOrgA, id) + "\r\n--" + kBoundary +
      "\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"stor.pdf\"\r\n"
      "Content-Type: application/pdf\r\n\r\n";
  char size_hex[16];
  std::snprintf(size_hex, sizeof size_hex, "%zx", prefix.size());
  const std::string head =
      "POST /inbound/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + As(kOrgA) +
      "\r\nContent-Type: multipart/form-data; boundary=" + kBoundary +
      "\r\nTransfer-Encoding: chunked\r\n\r\n" + size_hex + "\r\n" + prefix + "\r\n";
  const std::string chunked = SendChunkedUntilAnswered(server_->port(), head, 36u << 20);
  EXPECT_EQ(chunked.rfind("HTTP/1.1 413", 0), 0u) << chunked.substr(0, 300);
  EXPECT_NE(chunked.find("CLIENTERROR-10003"), std::string::npos) << chunked.substr(0, 600);

  // The server serves on, and nothing of either request was kept.
  EXPECT_EQ(server_->Get("/health/live", {{"Authorization", ""}}).status, 200);
  auto small = Upload(Multipart({{"payload", "m.xml", "application/xml",
                                  UploadXml(kOrgA, "3535353535353535abababababababab")}}));
  EXPECT_EQ(small.status, 200) << small.body;
  for (int i = 0; i < 50 && FilesIn(MottakDir() + "/tmp") > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(FilesIn(MottakDir() + "/tmp"), 0u);
  EXPECT_EQ(StoredBlobs(), 0);
  EXPECT_EQ(CountMottakRows(dir_.path(), "SELECT count(*) FROM inbound"), 1);
  EXPECT_EQ(CountMottakRows(dir_.path(),
                            "SELECT count(*) FROM inbound WHERE melding_id = '" + id + "'"),
            0);
}

TEST_F(MottakLargeTest, RepliesWithAttachmentsDownloadByteForByte) {
  const std::string producer = "Bearer " + server_->Token("norreg:mottak");
  const std::vector<Part> parts = {
      {"payload", "svar.xml", "application/xml", ReplyXml(kOrgB, "original-1")},
      {"attachments", "vedtak.pdf", "application/pdf", Noise(30'000'000, 5)},
      {"attachments", "begrunnelse.txt", "text/plain", std::string(100'000, 'b')},
  };
  const pid_t pid = server_->pid();
  const bool reset = ResetPeak(pid);
  const long before = reset ? StatusKb(pid, "VmRSS") : StatusKb(pid, "VmHWM");
  auto published =
      server_->Request("POST", "/norreg/mottak/v1/svar", Multipart(parts),
                       {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary},
                        {"Authorization", producer}});
  ASSERT_EQ(published.status, 200) << published.body;
  const std::string mottak_id = MottakIdOf(published.body);
  auto download = server_->Request("GET", "/outbound/download?mottakId=" + mottak_id, "",
                                   {{"Authorization", As(kOrgB)}});
  const long peak = StatusKb(pid, "VmHWM");
  ASSERT_EQ(download.status, 200);
  std::cout << "[ memory ] 30 MB reply published and downloaded: server peak RSS growth "
            << peak - before << " kB\n";
  EXPECT_LT(peak - before, 16 * 1024) << "the reply was held in memory";
  EXPECT_EQ(download.Header("content-length"), std::to_string(download.body.size()));
  auto entries = mottak::ReadZip(download.body);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].name, "henvendelse.xml");
  EXPECT_EQ((*entries)[0].content, parts[0].content);
  EXPECT_EQ((*entries)[1].name, "vedtak.pdf");
  EXPECT_TRUE((*entries)[1].content == parts[1].content);
  EXPECT_EQ((*entries)[2].content, parts[2].content);
  // Downloaded again: the same bytes; another organisation: not found.
  EXPECT_TRUE(server_
                  ->Request("GET", "/outbound/download?mottakId=" + mottak_id, "",
                            {{"Authorization", As(kOrgB)}})
                  .body == download.body);
  EXPECT_EQ(server_
                ->Request("GET", "/outbound/download?mottakId=" + mottak_id, "",
                          {{"Authorization", As(kOrgA)}})
                .status,
            404);
}

TEST_F(MottakLargeTest, BadRepliesAnswerTheDocumentedErrorsAndStoreNothing) {
  const std::string producer = "Bearer " + server_->Token("norreg:mottak");
  const std::string multipart = std::string("multipart/form-data; boundary=") + kBoundary;
  auto post = [&](const std::string& body, const std::string& type) {
    return server_->Request("POST", "/norreg/mottak/v1/svar", body,
                            {{"Content-Type", type}, {"Authorization", producer}});
  };
  struct Case {
    std::string name;
    HttpResponse response;
    long status;
    std::string feilkode;
  };
  const std::vector<Case> cases = {
      {"no payload part", post(Multipart({{"attachments", "a.txt", "text/plain", "x"}}), multipart),
       400, "CLIENTERROR-10002"},
      {"not a Melding",
       post(Multipart({{"payload", "", "application/xml", "<Melding/>"}}), multipart), 400,
       "CLIENTERROR-10002"},
      {"attachment type not allowed",
       post(Multipart({{"payload", "", "application/xml", ReplyXml(kOrgA, "x")},
                       {"attachments", "x.exe", "application/x-msdownload", "MZ"}}),
            multipart),
       415, "CLIENTERROR-10002"},
      {"truncated body",
       post(Multipart({{"payload", "", "application/xml", ReplyXml(kOrgA, "x")}}).substr(0, 200),
            multipart),
       400, "CLIENTERROR-10002"},
      {"no boundary", post(ReplyXml(kOrgA, "x"), "multipart/form-data"), 400, "CLIENTERROR-10002"},
      {"payload over 4 MB",
       post(Multipart({{"payload", "", "application/xml", std::string(5u << 20, ' ')}}), multipart),
       413, "CLIENTERROR-10003"},
      {"XML over 4 MB", post(std::string(5u << 20, ' '), "application/xml"), 413,
       "CLIENTERROR-10003"},
      {"other media type", post(ReplyXml(kOrgA, "x"), "text/plain"), 415, "CLIENTERROR-10002"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.response.status, c.status) << c.response.body;
    EXPECT_NE(c.response.body.find("\"feilkode\":\"" + c.feilkode + "\""), std::string::npos)
        << c.response.body;
  }
  EXPECT_EQ(CountMottakRows(dir_.path(), "SELECT count(*) FROM outbound"), 0);
  EXPECT_EQ(FilesIn(MottakDir() + "/tmp"), 0u);
  EXPECT_EQ(StoredBlobs(), 0);
}

TEST_F(MottakLargeTest, PublishCommandSendsAReplyWithAttachments) {
  const std::string reply = dir_.path() + "/svar.xml";
  const std::string pdf = dir_.path() + "/vedtak.pdf";
  // Addressed to A in the file; --org sends it to B.
  std::ofstream(reply) << ReplyXml(kOrgA, "original-2");
  const std::string pdf_bytes = Noise(2'000'000, 6);
  std::ofstream(pdf, std::ios::binary) << pdf_bytes;
  std::string out;
  ASSERT_EQ(RunNorregStdout({"mottak", "publish", "--data", dir_.path(), "--url",
                             server_->base_url(), "--org", kOrgB, reply, pdf},
                            &out),
            0)
      << out;
  const std::string mottak_id = out.substr(0, 36);
  auto download = server_->Request("GET", "/outbound/download?mottakId=" + mottak_id, "",
                                   {{"Authorization", As(kOrgB)}});
  ASSERT_EQ(download.status, 200) << download.body;
  auto entries = mottak::ReadZip(download.body);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_NE((*entries)[0].content.find("Mottaker id=\"" + std::string(kOrgB) + "\""),
            std::string::npos)
      << (*entries)[0].content;
  EXPECT_TRUE((*entries)[1].content == pdf_bytes);
  // A file type mottak does not take is refused before anything is sent.
  const std::string exe = dir_.path() + "/x.exe";
  std::ofstream(exe) << "MZ";
  EXPECT_NE(RunNorreg({"mottak", "publish", "--data", dir_.path(), "--url", server_->base_url(),
                       "--org", kOrgB, reply, exe}),
            0);
  EXPECT_NE(RunNorreg({"mottak", "publish", "--data", dir_.path(), "--url", server_->base_url(),
                       "--org", "123", reply}),
            0);
}

}  // namespace
}  // namespace norreg::testing
