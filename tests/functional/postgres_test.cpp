// Functional tests of the register and the mottak mailbox in PostgreSQL (`--db`): generate, two
// server nodes sharing one register, import seen by both; an upload, a reply and confirms spread
// over two nodes sharing one mailbox. Skipped when NORREG_TEST_PG (a postgresql:// URI;
// scripts/test.sh sets it) is unset. Each test gets a schema of its own in that database.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "mottak/zip.hpp"
#include "store/postgres/pg.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
std::string Api(const std::string& path) { return std::string(kApi) + path; }

class PostgresCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* server = std::getenv("NORREG_TEST_PG");
    server_ = server != nullptr ? server : "";
    if (server_.empty()) {
      GTEST_SKIP() << "PostgreSQL test skipped: NORREG_TEST_PG is not set (scripts/test.sh starts "
                      "a throwaway cluster with scripts/pg-cluster.sh and sets it)";
    }
    if (!server_.starts_with("postgresql://") && !server_.starts_with("postgres://")) {
      GTEST_SKIP() << "NORREG_TEST_PG is not a postgresql:// URI, which --db needs";
    }
    std::random_device random;
    schema_ = "norreg_ftest_" + std::to_string(getpid()) + "_" + std::to_string(random() % 1000000);
    auto admin = store::pg::Connection::Open(server_);
    ASSERT_TRUE(admin.ok()) << admin.error().detail;
    ASSERT_TRUE(admin->Exec("CREATE SCHEMA " + schema_).ok());
    db_ = server_ + (server_.find('?') == std::string::npos ? "?" : "&") +
          "options=-csearch_path%3D" + schema_;
  }
  void TearDown() override {
    if (schema_.empty()) return;
    if (auto admin = store::pg::Connection::Open(server_); admin.ok()) {
      (void)admin->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
  }

  std::string server_, schema_, db_;
};

// More persons than one generator chunk (8192), whose batches interleave their sekvensnummer;
// then two nodes with data folders of their own serve the one register, and an import through
// the command line is seen by both.
TEST_F(PostgresCliTest, GenerateTwoNodesAndImportShareOneRegister) {
  TempDir a_dir, b_dir;
  std::string out;
  ASSERT_EQ(RunNorreg({"generate", "--data", a_dir.path(), "--db", db_, "--persons", "8500",
                       "--seed", "5", "--quiet"},
                      &out),
            0)
      << out;
  EXPECT_NE(out.find("generated 8500 persons"), std::string::npos) << out;
  EXPECT_EQ(RunNorreg({"generate", "--data", b_dir.path(), "--db", db_, "--persons", "10"}, &out),
            2)
      << out;  // not empty

  std::string fnr, document, old_document, latest_before;
  {
    ServerProcess a(a_dir.path(), {"--db", db_, "--demo-persons", "0"});
    ServerProcess b(b_dir.path(), {"--db", db_, "--demo-persons", "0"});
    latest_before = a.Get(Api("/hendelser/siste/sekvensnummer")).body;
    EXPECT_EQ(b.Get(Api("/hendelser/siste/sekvensnummer")).body, latest_before);
    // The feed has no gaps: each page continues where the one before ended.
    uint64_t expected = 1;
    for (int page = 0; page < 3; ++page) {
      auto feed = a.Get(Api("/hendelser/feed?seq=" + std::to_string(expected)));
      ASSERT_EQ(feed.status, 200) << feed.body;
      const json::value events = json::parse(feed.body);
      for (const auto& event : events.as_array()) {
        EXPECT_EQ(event.at("sekvensnummer").to_number<uint64_t>(), expected);
        ++expected;
      }
    }
    auto first = json::parse(a.Get(Api("/hendelser/feed?seq=1")).body).as_array()[0].at("hendelse");
    fnr = std::string(first.at("folkeregisteridentifikator").as_string());
    old_document = std::string(first.at("persondokument").as_string());
    // A document id made on node a resolves on node b: they share the document key.
    auto archived = b.Get(Api("/personer/arkiv/" + old_document));
    EXPECT_EQ(archived.status, 200) << archived.body;
    auto person = b.Get(Api("/personer/" + fnr + "?part=historikk"));
    ASSERT_EQ(person.status, 200);
    document = person.body;
    EXPECT_EQ(a.Get(Api("/personer/" + fnr + "?part=historikk")).body, document);
  }

  json::object doc = json::parse(document).as_object();
  for (auto& row : doc.at("navn").as_array()) {
    if (row.at("erGjeldende").as_bool()) row.as_object()["fornavn"] = "IMPORTERT";
  }
  const std::string file = a_dir.path() + "/person.json";
  std::ofstream(file, std::ios::binary) << json::serialize(doc);
  ASSERT_EQ(RunNorreg({"import", "--data", b_dir.path(), "--db", db_, file}, &out), 0) << out;

  ServerProcess a(a_dir.path(), {"--db", db_, "--demo-persons", "0"});
  ServerProcess b(b_dir.path(), {"--db", db_, "--demo-persons", "0"});
  const std::string latest = a.Get(Api("/hendelser/siste/sekvensnummer")).body;
  EXPECT_EQ(std::stoull(latest), std::stoull(latest_before) + 1);
  EXPECT_EQ(b.Get(Api("/hendelser/siste/sekvensnummer")).body, latest);
  for (ServerProcess* node : {&a, &b}) {
    auto now = json::parse(node->Get(Api("/personer/" + fnr + "?part=navn")).body);
    EXPECT_EQ(now.at("navn").as_array()[0].at("fornavn").as_string(), "IMPORTERT");
    auto old = json::parse(node->Get(Api("/personer/arkiv/" + old_document + "?part=navn")).body);
    EXPECT_NE(old.at("navn").as_array()[0].at("fornavn").as_string(), "IMPORTERT");
  }
}

std::string MottakIdOf(const std::string& body) {
  const auto at = body.find("\"mottakId\":\"");
  return at == std::string::npos ? "" : body.substr(at + 12, 36);
}

// Bytes that do not compress (so the reply's ZIP stays large).
std::string Noise(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x & 0xff);
  }
  return s;
}

// Two nodes with data folders of their own serve one mailbox: an upload on a is a repeat on b and
// its receipt is listed by b; a reply with a large attachment published on a downloads byte for
// byte from b; of confirms of one reply sent to both nodes at once exactly one is answered 200.
TEST_F(PostgresCliTest, TwoNodesServeOneMailbox) {
  TempDir a_dir, b_dir;
  ServerProcess a(a_dir.path(), {"--db", db_, "--demo-persons", "0"});
  ServerProcess b(b_dir.path(), {"--db", db_, "--demo-persons", "0"});
  const std::map<std::string, std::string> org_a = {
      {"Authorization", "Bearer " + a.Token(kMottakScope, std::string("0192:") + kOrgA)}};
  const std::map<std::string, std::string> org_b = {
      {"Authorization", "Bearer " + b.Token(kMottakScope, std::string("0192:") + kOrgA)}};
  const std::string multipart = std::string("multipart/form-data; boundary=") + kBoundary;

  const std::string melding_id = "5a5a5a5a6b6b6b6b7c7c7c7c8d8d8d8d";
  const std::string upload = Multipart({
      {"payload", "melding.xml", "application/xml", UploadXml(kOrgA, melding_id)},
      {"attachments", "skjema.pdf", "application/pdf", Noise(3'000'000, 1)},
  });
  auto headers_a = org_a;
  headers_a["Content-Type"] = multipart;
  auto headers_b = org_b;
  headers_b["Content-Type"] = multipart;
  auto first = a.Request("POST", "/inbound/upload", upload, headers_a);
  ASSERT_EQ(first.status, 200) << first.body;
  const std::string upload_id = MottakIdOf(first.body);
  ASSERT_EQ(upload_id.size(), 36u);
  auto again = b.Request("POST", "/inbound/upload", upload, headers_b);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(MottakIdOf(again.body), upload_id);  // the retry on the other node: the first id

  // The demo's receipt, published by a, is listed and downloaded on b.
  auto listed = b.Request("GET", "/outbound/available", "", org_b);
  ASSERT_EQ(listed.status, 200) << listed.body;
  const std::string receipt_id = MottakIdOf(listed.body);
  ASSERT_EQ(receipt_id.size(), 36u) << listed.body;
  EXPECT_EQ(a.Request("GET", "/outbound/available", "", org_a).body, listed.body);
  auto receipt = b.Request("GET", "/outbound/download?mottakId=" + receipt_id, "", org_b);
  ASSERT_EQ(receipt.status, 200);
  auto receipt_entries = mottak::ReadZip(receipt.body);
  ASSERT_TRUE(receipt_entries.ok());
  EXPECT_NE((*receipt_entries)[0].content.find(melding_id), std::string::npos);

  // A reply with a large attachment, published on a, from b byte for byte.
  const std::vector<Part> parts = {
      {"payload", "svar.xml", "application/xml", ReplyXml(kOrgA, melding_id)},
      {"attachments", "vedtak.pdf", "application/pdf", Noise(6'000'000, 2)},
  };
  auto published = a.Request(
      "POST", "/norreg/mottak/v1/svar", Multipart(parts),
      {{"Content-Type", multipart}, {"Authorization", "Bearer " + a.Token("norreg:mottak")}});
  ASSERT_EQ(published.status, 200) << published.body;
  const std::string reply_id = MottakIdOf(published.body);
  auto download = b.Request("GET", "/outbound/download?mottakId=" + reply_id, "", org_b);
  ASSERT_EQ(download.status, 200);
  EXPECT_EQ(download.Header("content-length"), std::to_string(download.body.size()));
  EXPECT_TRUE(a.Request("GET", "/outbound/download?mottakId=" + reply_id, "", org_a).body ==
              download.body);
  auto entries = mottak::ReadZip(download.body);
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].content, parts[0].content);
  EXPECT_EQ((*entries)[1].name, "vedtak.pdf");
  EXPECT_TRUE((*entries)[1].content == parts[1].content);

  // Confirms of each reply sent to both nodes at once: exactly one 200, the others 500
  // ERROR-00005; the reply then leaves both listings.
  for (const std::string& id : {receipt_id, reply_id}) {
    SCOPED_TRACE(id);
    constexpr int kClients = 6;
    std::vector<HttpResponse> answers(kClients);
    std::atomic<int> ready{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) {
      clients.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kClients) std::this_thread::yield();
        ServerProcess& node = i % 2 == 0 ? a : b;
        answers[static_cast<size_t>(i)] =
            node.Request("PUT", "/outbound/confirm?mottakId=" + id, "", i % 2 == 0 ? org_a : org_b);
      });
    }
    for (auto& t : clients) t.join();
    int ok = 0;
    for (const HttpResponse& r : answers) {
      if (r.status == 200) {
        ++ok;
      } else {
        EXPECT_EQ(r.status, 500) << r.body;
        EXPECT_NE(r.body.find("\"feilkode\":\"ERROR-00005\""), std::string::npos) << r.body;
      }
    }
    EXPECT_EQ(ok, 1);
    EXPECT_EQ(a.Request("GET", "/outbound/available", "", org_a).body.find(id), std::string::npos);
    EXPECT_EQ(b.Request("GET", "/outbound/available", "", org_b).body.find(id), std::string::npos);
  }
  // Nothing of the mailbox is in a node's folder: only spills pass through <data>/mottak/tmp.
  for (const std::string& dir : {a_dir.path(), b_dir.path()}) {
    EXPECT_FALSE(std::filesystem::exists(dir + "/mottak/mottak.db")) << dir;
    EXPECT_FALSE(std::filesystem::exists(dir + "/mottak/blobs")) << dir;
  }
}

// A server that cannot reach its database fails at start with a message naming the store, not the
// connection string; a --db that is not a postgresql:// URI is refused as invalid.
TEST_F(PostgresCliTest, UnreachableOrMalformedDbFailsFast) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(RunNorreg({"generate", "--data", dir.path(), "--db",
                       "postgresql://secretuser:secretpw@/none?host=/nonexistent-norreg&port=1",
                       "--persons", "5"},
                      &out),
            1)
      << out;
  EXPECT_NE(out.find("PostgreSQL"), std::string::npos) << out;
  EXPECT_EQ(out.find("secretpw"), std::string::npos) << out;
  EXPECT_EQ(RunNorreg({"serve", "--data", dir.path(), "--db", "dbname=norreg"}, &out), 2) << out;
  EXPECT_NE(out.find("db"), std::string::npos) << out;
}

}  // namespace
}  // namespace norreg::testing
