// Functional tests of the register in PostgreSQL (`--db`): generate, two server nodes sharing one
// register, import seen by both. Skipped when NORREG_TEST_PG (a postgresql:// URI; scripts/test.sh
// sets it) is unset. Each test gets a schema of its own in that database.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <random>

#include "harness.hpp"
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
