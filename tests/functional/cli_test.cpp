// Functional tests of the `norreg` command line: generate, import and the server's lifecycle.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <regex>
#include <string>

#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
std::string Api(const std::string& path) { return std::string(kApi) + path; }

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(CliTest, GenerateRefusesANonEmptyRegister) {
  TempDir dir;
  std::string out;
  ASSERT_EQ(RunNorreg({"generate", "--data", dir.path(), "--persons", "50", "--seed", "3"}, &out),
            0)
      << out;
  EXPECT_NE(out.find("generated 50 persons"), std::string::npos) << out;
  EXPECT_EQ(RunNorreg({"generate", "--data", dir.path(), "--persons", "50"}, &out), 2) << out;
}

TEST(CliTest, UnknownConfigKeyFailsFast) {
  TempDir dir;
  std::string config = dir.path() + "/norreg.json";
  WriteFile(config, R"({"listen":"127.0.0.1:0","lisen":"x"})");
  std::string out;
  EXPECT_EQ(RunNorreg({"--config", config, "serve", "--data", dir.path()}, &out), 2);
  EXPECT_NE(out.find("lisen"), std::string::npos) << out;
}

// A server writes one access-log line per request to its output. The harness reads that output
// all the time: a test that never asks for it must not stall the server once more than a pipe's
// worth (64 KiB) is written. Long paths make each line ~6 KB, so 40 requests write ~240 KB.
TEST(CliTest, AServerThatLogsMoreThanAPipeHoldsKeepsAnswering) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--demo-persons", "10"});
  const std::string long_path = "/ukjent/" + std::string(6000, 'x');
  for (int i = 0; i < 40; ++i) {
    auto res = server.Get(long_path, {{"Authorization", ""}});
    ASSERT_EQ(res.status, 404) << "request " << i << ": " << res.body;
  }
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_GT(server.Output().size(), 40u * 6000u);
}

// The server's own output stalls (a log reader that stopped reading): the log drops lines, and
// the server goes on answering. 200 requests with 6 KB paths log ~1.2 MB into a pipe of 64 KiB;
// with a logger that writes in the io thread the server stopped answering after a few dozen.
TEST(CliTest, AServerWhoseLogReaderStallsKeepsAnswering) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--demo-persons", "10"});
  server.PauseOutput(true);
  const std::string long_path = "/ukjent/" + std::string(6000, 'x');
  for (int i = 0; i < 200; ++i) {
    auto res = server.Get(long_path, {{"Authorization", ""}});
    ASSERT_EQ(res.status, 404) << "request " << i << ": " << res.body;
  }
  EXPECT_EQ(server.Stop(), 0);  // reads again, and the server writes out what it kept
  EXPECT_NE(server.Output().find("norreg stopped"), std::string::npos);
}

// --admin-listen: /metrics and /health on a listener of their own, and not on the main one (which
// the public may reach); the admin listener serves nothing else.
TEST(CliTest, AdminListenerServesTheOperationsRoutesOnly) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--demo-persons", "10", "--admin-listen", "127.0.0.1:0"});
  static const std::regex kHealth(R"(health:\s+curl http://127\.0\.0\.1:(\d+)/health/ready)");
  std::smatch m;
  const std::string output = server.Output();
  ASSERT_TRUE(std::regex_search(output, m, kHealth)) << output;
  const int admin = std::stoi(m[1]);
  ASSERT_NE(admin, server.port());
  auto get = [](int port, const std::string& path) {
    return RawExchange(port, "GET " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  };
  EXPECT_EQ(get(admin, "/metrics").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_NE(get(admin, "/metrics").find("norreg_http_requests_total"), std::string::npos);
  // The log lines dropped because the log's writer fell behind (none here).
  EXPECT_NE(get(admin, "/metrics").find("\nnorreg_log_lines_dropped_total 0\n"), std::string::npos);
  EXPECT_NE(get(admin, "/metrics").find("\nnorreg_audit_flush_seconds_count "), std::string::npos);
  EXPECT_EQ(get(admin, "/health/ready").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(get(admin, Api("/personer/01010112345")).rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(server.Get("/metrics", {{"Authorization", ""}}).status, 404);
  EXPECT_EQ(server.Get("/health/ready", {{"Authorization", ""}}).status, 404);
  EXPECT_EQ(server.Stop(), 0);  // both listeners stop
}

TEST(CliTest, ImportAddsAVersionAndKeepsTheOldOne) {
  TempDir dir;
  std::string fnr, old_document, document;
  {
    ServerProcess server(dir.path(), {"--demo-persons", "100"});
    auto feed = server.Get(Api("/hendelser/feed?seq=1"));
    ASSERT_EQ(feed.status, 200);
    auto first = json::parse(feed.body).as_array()[0].at("hendelse");
    fnr = std::string(first.at("folkeregisteridentifikator").as_string());
    auto person = server.Get(Api("/personer/" + fnr + "?part=historikk"));
    ASSERT_EQ(person.status, 200);
    document = person.body;
    old_document = std::string(first.at("persondokument").as_string());
    EXPECT_EQ(server.Stop(), 0) << server.Output();  // graceful stop on SIGTERM
  }
  // Rename the person: the current navn row gets a new fornavn.
  json::object doc = json::parse(document).as_object();
  auto& navn = doc.at("navn").as_array();
  for (auto& row : navn) {
    if (row.at("erGjeldende").as_bool()) row.as_object()["fornavn"] = "IMPORTERT";
  }
  std::string file = dir.path() + "/person.json";
  WriteFile(file, json::serialize(doc));

  // An invalid document next to it: nothing at all may be stored.
  json::object bad = doc;
  bad["kjoenn"] = json::array{json::object{{"kjoenn", "ukjent"}}};
  std::string bad_file = dir.path() + "/bad.json";
  WriteFile(bad_file, json::serialize(bad));
  std::string out;
  EXPECT_EQ(RunNorreg({"import", "--data", dir.path(), file, bad_file}, &out), 2) << out;
  EXPECT_NE(out.find("bad.json"), std::string::npos) << out;
  EXPECT_NE(out.find("kjoenn"), std::string::npos) << out;

  ServerProcess check(dir.path());
  std::string latest_before = check.Get(Api("/hendelser/siste/sekvensnummer")).body;
  check.Stop();

  ASSERT_EQ(RunNorreg({"import", "--data", dir.path(), file}, &out), 0) << out;
  ServerProcess server(dir.path());
  std::string latest = server.Get(Api("/hendelser/siste/sekvensnummer")).body;
  EXPECT_EQ(std::stoull(latest), std::stoull(latest_before) + 1);
  auto now = json::parse(server.Get(Api("/personer/" + fnr + "?part=navn")).body);
  EXPECT_EQ(now.at("navn").as_array()[0].at("fornavn").as_string(), "IMPORTERT");
  // The old version is still readable and unchanged.
  auto old = json::parse(server.Get(Api("/personer/arkiv/" + old_document + "?part=navn")).body);
  EXPECT_NE(old.at("navn").as_array()[0].at("fornavn").as_string(), "IMPORTERT");
  // One new event for the person.
  auto events = json::parse(server.Get(Api("/hendelser/feed?seq=" + latest)).body).as_array();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("hendelse").at("folkeregisteridentifikator").as_string(), fnr);
  EXPECT_EQ(events[0].at("hendelse").at("hendelsetype").as_string(), "endringINavn");
}

}  // namespace
}  // namespace norreg::testing
