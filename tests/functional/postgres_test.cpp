// Functional tests of the register, extract jobs, the authorisation server's shared state and the
// mottak mailbox in PostgreSQL (`--db`): generate, two server nodes sharing one register, import
// seen by both; extract jobs shared by the nodes (ordered on one, served by the other, the
// per-organisation limit across nodes, a node killed mid-job); signing keys, jti and rate limits
// shared; an upload, a reply and confirms spread over two nodes sharing one mailbox; the
// disclosures of two nodes in one audit index (`norreg audit --db`). Skipped when
// NORREG_TEST_PG (a postgresql:// URI; scripts/test.sh sets it) is unset. Each test gets a schema
// of its own in that database.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "auth/jwt.hpp"
#include "client/token_client.hpp"
#include "harness.hpp"
#include "mottak/zip.hpp"
#include "store/postgres/pg.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
std::string Api(const std::string& path) { return std::string(kApi) + path; }

const std::map<std::string, std::string> kNoAuth{{"Authorization", ""}};
const std::map<std::string, std::string> kForm{
    {"Authorization", ""}, {"Content-Type", "application/x-www-form-urlencoded"}};

// The kids of a node's GET /jwk, current first.
std::vector<std::string> JwksKids(ServerProcess& node) {
  auto jwk = node.Get("/jwk", kNoAuth);
  EXPECT_EQ(jwk.status, 200) << jwk.body;
  std::vector<std::string> kids;
  if (jwk.status != 200) return kids;
  const json::value jwks = json::parse(jwk.body);
  for (const auto& key : jwks.at("keys").as_array()) {
    kids.emplace_back(key.at("kid").as_string());
  }
  return kids;
}

// The kid in a JWS header.
std::string KidOf(const std::string& token) {
  auto header = auth::Base64UrlDecode(token.substr(0, token.find('.')));
  EXPECT_TRUE(header.has_value());
  return std::string(json::parse(header.value_or("{}")).at("kid").as_string());
}

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

// Producers write the register through both nodes at once (two writers per node, each posting
// its own persons' documents back as new versions): every write gets its own sekvensnummer, the
// feed after them is gap-free and strictly increasing, and both nodes serve the same feed.
TEST_F(PostgresCliTest, ConcurrentWritesOnTwoNodesGetAGapFreeFeed) {
  TempDir a_dir, b_dir;
  ServerProcess a(a_dir.path(), {"--db", db_, "--demo-persons", "60"});
  ServerProcess b(b_dir.path(), {"--db", db_, "--demo-persons", "0"});
  ASSERT_GT(a.port(), 0);
  ASSERT_GT(b.port(), 0);
  const uint64_t before = std::stoull(a.Get(Api("/hendelser/siste/sekvensnummer")).body);
  ASSERT_EQ(b.Get(Api("/hendelser/siste/sekvensnummer")).body, std::to_string(before));

  constexpr int kWriters = 4, kWrites = 10;
  std::vector<std::string> fnrs, documents;
  const json::value history = json::parse(a.Get(Api("/hendelser/feed?seq=1")).body);
  for (const auto& event : history.as_array()) {
    const std::string fnr(event.at("hendelse").at("folkeregisteridentifikator").as_string());
    if (std::find(fnrs.begin(), fnrs.end(), fnr) != fnrs.end()) continue;
    auto person = a.Get(Api("/personer/" + fnr + "?part=historikk"));
    ASSERT_EQ(person.status, 200) << person.body;
    fnrs.push_back(fnr);
    documents.push_back(person.body);
    if (fnrs.size() == kWriters * kWrites) break;
  }
  ASSERT_EQ(fnrs.size(), size_t{kWriters * kWrites});
  const std::string producer_a = "Bearer " + a.Token("norreg:register");
  const std::string producer_b = "Bearer " + b.Token("norreg:register");

  std::atomic<int> written{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      ServerProcess& node = w % 2 == 0 ? a : b;
      const std::string& producer = w % 2 == 0 ? producer_a : producer_b;
      for (int i = 0; i < kWrites; ++i) {
        auto r = node.Post("/norreg/register/v1/personer", documents[w * kWrites + i],
                           {{"Content-Type", "application/json"}, {"Authorization", producer}});
        if (r.status == 200) ++written;
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(written.load(), kWriters * kWrites);

  const uint64_t latest = std::stoull(b.Get(Api("/hendelser/siste/sekvensnummer")).body);
  EXPECT_EQ(latest, before + kWriters * kWrites);
  std::vector<std::string> changed;
  for (ServerProcess* node : {&a, &b}) {
    auto feed = node->Get(Api("/hendelser/feed?seq=" + std::to_string(before + 1)));
    ASSERT_EQ(feed.status, 200) << feed.body;
    uint64_t expected = before + 1;
    std::vector<std::string> seen;
    const json::value events = json::parse(feed.body);
    for (const auto& event : events.as_array()) {
      EXPECT_EQ(event.at("sekvensnummer").to_number<uint64_t>(), expected);
      ++expected;
      seen.emplace_back(event.at("hendelse").at("folkeregisteridentifikator").as_string());
    }
    EXPECT_EQ(expected, latest + 1);
    if (changed.empty()) {
      changed = seen;
    } else {
      EXPECT_EQ(seen, changed);  // the same feed on both nodes
    }
  }
  std::sort(changed.begin(), changed.end());
  std::vector<std::string> posted = fnrs;
  std::sort(posted.begin(), posted.end());
  EXPECT_EQ(changed, posted);  // one event per write, each for the person written
}

// Two nodes on one database with one issuer (as behind a load balancer) and the same demo
// clients: a token from either is accepted by both, they publish one JWKS, a grant's jti used at
// one is refused at the other, and after `norreg rotate-signing-key --db` both publish and sign
// with the new key (read again every second here, --signing-key-reload 1).
TEST_F(PostgresCliTest, TwoNodesShareSigningKeysAndTheJtiReplayStore) {
  TempDir a_dir, b_dir;
  const std::string issuer = "http://norreg-nodes.test/";
  const std::vector<std::string> common{"--db", db_, "--issuer", issuer, "--signing-key-reload",
                                        "1"};
  auto args = [&](const char* persons) {
    std::vector<std::string> out = common;
    out.insert(out.end(), {"--demo-persons", persons});
    return out;
  };
  ServerProcess a(a_dir.path(), args("20"));
  // The client registry is per data folder: B gets A's (as a deployment copies clients.json).
  namespace fs = std::filesystem;
  fs::create_directories(b_dir.path() + "/auth");
  fs::copy(a_dir.path() + "/auth/clients.json", b_dir.path() + "/auth/clients.json");
  fs::copy(a_dir.path() + "/auth/clients", b_dir.path() + "/auth/clients",
           fs::copy_options::recursive);
  ServerProcess b(b_dir.path(), args("0"));

  const std::vector<std::string> first_kids = JwksKids(a);
  ASSERT_EQ(first_kids.size(), 1u);
  EXPECT_EQ(JwksKids(b), first_kids);

  auto first = json::parse(a.Get(Api("/hendelser/feed?seq=1")).body).as_array().at(0);
  const std::string person =
      Api("/personer/" +
          std::string(first.at("hendelse").at("folkeregisteridentifikator").as_string()));
  for (ServerProcess* from : {&a, &b}) {
    const std::string token = from->Token();
    EXPECT_EQ(KidOf(token), first_kids[0]);
    for (ServerProcess* to : {&a, &b}) {
      EXPECT_EQ(to->Get(person, {{"Authorization", "Bearer " + token}}).status, 200);
    }
  }

  // One grant, offered to A and then to B: B refuses it as A would.
  auto options = client::DemoTokenClientOptions(a_dir.path(), kFregScope, "", "");
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->issuer, issuer);
  auto grant = client::MakeGrantForm(*options, kFregScope, "", std::time(nullptr));
  ASSERT_TRUE(grant.ok());
  auto accepted = a.Post("/token", *grant, kForm);
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  for (ServerProcess* node : {&b, &a}) {
    auto replayed = node->Post("/token", *grant, kForm);
    EXPECT_EQ(replayed.status, 400) << replayed.body;
    auto error = json::parse(replayed.body);
    EXPECT_EQ(error.at("error").as_string(), "invalid_grant");
    EXPECT_EQ(error.at("error_description").as_string(), "jti has already been used");
  }

  // Rotation from the command line, while both nodes run.
  std::string out;
  ASSERT_EQ(RunNorreg({"rotate-signing-key", "--data", a_dir.path(), "--db", db_}, &out), 0) << out;
  std::vector<std::string> a_kids, b_kids;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    a_kids = JwksKids(a);
    b_kids = JwksKids(b);
    if (a_kids.size() == 2 && b_kids == a_kids) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(a_kids.size(), 2u);
  EXPECT_EQ(b_kids, a_kids);
  EXPECT_EQ(a_kids[1], first_kids[0]);  // the previous key stays published
  EXPECT_NE(out.find(a_kids[0]), std::string::npos) << out;
  // Both sign with the new key, and each accepts the other's tokens.
  for (ServerProcess* from : {&a, &b}) {
    auto fresh = client::MakeGrantForm(*options, kFregScope, "", std::time(nullptr));
    ASSERT_TRUE(fresh.ok());
    auto answer = from->Post("/token", *fresh, kForm);
    ASSERT_EQ(answer.status, 200) << answer.body;
    const std::string token(json::parse(answer.body).at("access_token").as_string());
    EXPECT_EQ(KidOf(token), a_kids[0]);
    // A node's validator reads the keys again for an unknown kid at most once a second, so right
    // after a rotation a token of the new key may be refused for up to that long.
    for (ServerProcess* to : {&a, &b}) {
      int status = 0;
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (true) {
        status = to->Get(person, {{"Authorization", "Bearer " + token}}).status;
        if (status == 200 || std::chrono::steady_clock::now() > until) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      EXPECT_EQ(status, 200);
    }
  }
}

// The per-organisation rate limit holds for the sum over the nodes: with a burst of 10 and 1
// call/s, an organisation calling both nodes in turn gets about 10 answers in all (not 10 from
// each), then 429 with Retry-After in ms from either node.
TEST_F(PostgresCliTest, RateLimitHoldsForTheSumOverTwoNodes) {
  TempDir a_dir, b_dir;
  const std::vector<std::string> args{
      "--db",           db_, "--issuer",           "http://norreg-nodes.test/",
      "--rate-limit",   "1", "--rate-limit-burst", "10",
      "--demo-persons", "0"};
  ServerProcess a(a_dir.path(), args);
  ServerProcess b(b_dir.path(), args);
  const std::map<std::string, std::string> auth{{"Authorization", "Bearer " + a.Token()}};
  const auto start = std::chrono::steady_clock::now();
  int ok_a = 0, ok_b = 0, limited = 0;
  for (int i = 0; i < 40; ++i) {
    ServerProcess& node = i % 2 == 0 ? a : b;
    auto r = node.Get(Api("/hendelser/siste/sekvensnummer"), auth);
    if (r.status == 200) {
      ++(i % 2 == 0 ? ok_a : ok_b);
    } else {
      ASSERT_EQ(r.status, 429) << r.body;
      ++limited;
      const std::string retry_after = r.Header("retry-after");
      ASSERT_FALSE(retry_after.empty());
      EXPECT_GE(std::stol(retry_after), 1);
    }
  }
  const double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_GT(ok_a, 0);
  EXPECT_GT(ok_b, 0);
  EXPECT_GE(ok_a + ok_b, 10);
  // The burst plus what the bucket refilled meanwhile (one per second), in sum.
  EXPECT_LE(ok_a + ok_b, 10 + static_cast<int>(elapsed_s) + 1) << elapsed_s << " s";
  EXPECT_GT(limited, 0);
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

// --- the disclosure audit log shared by the nodes ---

// The NDJSON lines of `norreg audit --json` as (endpoint, identifiers) pairs.
std::vector<std::pair<std::string, std::vector<std::string>>> AuditEntries(const std::string& out) {
  std::vector<std::pair<std::string, std::vector<std::string>>> entries;
  for (size_t start = 0; start < out.size();) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    const json::object entry = json::parse(out.substr(start, end - start)).as_object();
    std::vector<std::string> ids;
    for (const auto& id : entry.at("identifiers").as_array()) ids.emplace_back(id.as_string());
    entries.emplace_back(std::string(entry.at("endpoint").as_string()), std::move(ids));
    start = end + 1;
  }
  return entries;
}

// Lookups on two nodes (data folders of their own, one database): each records into its own
// journal and indexes into the shared tables, so `norreg audit --db` answers for both; with a
// node's --data it adds that node's journal tail at once, while the node runs.
TEST_F(PostgresCliTest, AuditOnTheSharedIndexShowsTheDisclosuresOfBothNodes) {
  TempDir a_dir, b_dir, elsewhere;
  const std::string issuer = "http://norreg-nodes.test/";
  ServerProcess a(a_dir.path(), {"--db", db_, "--issuer", issuer, "--demo-persons", "20"});
  ServerProcess b(b_dir.path(), {"--db", db_, "--issuer", issuer, "--demo-persons", "0"});
  const json::array events = json::parse(a.Get(Api("/hendelser/feed?seq=1")).body).as_array();
  auto fnr = [&](size_t i) {
    return std::string(events.at(i).at("hendelse").at("folkeregisteridentifikator").as_string());
  };
  const std::string on_a = fnr(0), on_b = fnr(1);
  ASSERT_NE(on_a, on_b);
  const std::map<std::string, std::string> auth{{"Authorization", "Bearer " + a.Token()}};
  ASSERT_EQ(a.Get(Api("/personer/" + on_a), auth).status, 200);
  ASSERT_EQ(b.Get(Api("/personer/" + on_b), auth).status, 200);
  ASSERT_EQ(b.Get(Api("/personer/" + on_b + "?part=navn"), auth).status, 200);

  std::string out;
  ASSERT_EQ(RunNorregStdout(
                {"audit", "--db", db_, "--data", a_dir.path(), "--person", on_a, "--json"}, &out),
            0)
      << out;
  EXPECT_EQ(AuditEntries(out).size(), 1u) << out;  // a's own: from its journal or the index

  // Stopping a node runs its final index pass: then every disclosure is in the shared index.
  EXPECT_EQ(a.Stop(), 0);
  EXPECT_EQ(b.Stop(), 0);
  for (const std::string& data : {elsewhere.path(), a_dir.path(), b_dir.path()}) {
    ASSERT_EQ(RunNorregStdout({"audit", "--db", db_, "--data", data, "--json"}, &out), 0) << out;
    int a_hits = 0, b_hits = 0;
    for (const auto& [endpoint, ids] : AuditEntries(out)) {
      EXPECT_EQ(endpoint, "freg_person");
      a_hits += std::count(ids.begin(), ids.end(), on_a);
      b_hits += std::count(ids.begin(), ids.end(), on_b);
    }
    EXPECT_EQ(a_hits, 1) << data << "\n" << out;
    EXPECT_EQ(b_hits, 2) << data << "\n" << out;
  }
  // The table, as for one node's log: the person column with --person.
  ASSERT_EQ(RunNorregStdout({"audit", "--db", db_, "--person", on_b}, &out), 0) << out;
  EXPECT_EQ(out.find("tidspunkt"), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
  EXPECT_NE(out.find(on_b), std::string::npos) << out;
  // Nothing went to a node's own SQLite index.
  EXPECT_FALSE(std::filesystem::exists(a_dir.path() + "/audit/audit.db"));
  EXPECT_TRUE(std::filesystem::exists(a_dir.path() + "/audit/node-id"));
}

// `norreg audit` with a --db that is not a postgresql:// URI, one that cannot be reached (the
// message names PostgreSQL, never the password), or an unknown option: clear errors.
TEST(AuditCliTest, BadDbOrOptionsAreClearErrors) {
  TempDir dir;
  std::string out;
  EXPECT_EQ(RunNorreg({"audit", "--data", dir.path(), "--db", "dbname=norreg"}, &out), 2) << out;
  EXPECT_NE(out.find("db"), std::string::npos) << out;
  EXPECT_EQ(RunNorreg({"audit", "--data", dir.path(), "--db",
                       "postgresql://secretuser:secretpw@/none?host=/nonexistent-norreg&port=1"},
                      &out),
            1)
      << out;
  EXPECT_NE(out.find("PostgreSQL"), std::string::npos) << out;
  EXPECT_EQ(out.find("secretpw"), std::string::npos) << out;
  EXPECT_EQ(RunNorreg({"audit", "--data", dir.path(), "--no-such-option"}, &out), 2) << out;
  EXPECT_NE(out.find("no-such-option"), std::string::npos) << out;
}

// --- extract jobs shared by the nodes ---

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class PostgresUttrekkTest : public PostgresCliTest {
 protected:
  static constexpr int kPersons = 2000;
  static constexpr const char* kBatchSize = "150";  // 2000 persons: 14 batches

  void SetUp() override {
    PostgresCliTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string out;
    ASSERT_EQ(RunNorreg({"generate", "--data", a_dir_.path(), "--db", db_, "--persons",
                         std::to_string(kPersons), "--seed", "3", "--quiet"},
                        &out),
              0)
        << out;
  }

  // A node on the shared register with a data folder of its own.
  std::unique_ptr<ServerProcess> Node(const TempDir& dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{
        "--db", db_, "--demo-persons", "0", "--uttrekk-test-batch-size", kBatchSize};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ServerProcess>(dir.path(), args);
  }

  static std::string Order(ServerProcess& node) {
    const std::string latest = node.Get(Api("/hendelser/siste/sekvensnummer")).body;
    auto r = node.Get(Api("/uttrekk/komplett?feedsekvensnr=" + latest));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    return std::string(json::parse(r.body).at("jobbId").as_string());
  }

  // GET batch n, retrying while it is not ready (404), up to two minutes.
  static HttpResponse FetchBatch(ServerProcess& node, const std::string& job, uint64_t n) {
    HttpResponse r;
    for (int attempt = 0; attempt < 1200; ++attempt) {
      r = node.Get(Api("/uttrekk/" + job + "/batch/" + std::to_string(n)));
      if (r.status != 404) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return r;
  }

  // Every batch body of `job` from `node` up to the empty answer.
  static std::vector<std::string> FetchAll(ServerProcess& node, const std::string& job) {
    std::vector<std::string> bodies;
    for (uint64_t n = 0; n < 1000; ++n) {
      auto r = FetchBatch(node, job, n);
      EXPECT_EQ(r.status, 200) << "batch " << n << ": " << r.body;
      if (r.status != 200) break;
      if (r.body == "{}") break;
      bodies.push_back(r.body);
    }
    return bodies;
  }

  static std::vector<std::string> Ids(const std::vector<std::string>& bodies) {
    std::vector<std::string> ids;
    for (const auto& body : bodies) {
      const json::value parsed = json::parse(body);
      for (const auto& id : parsed.at("dokumentidentifikator").as_array()) {
        ids.emplace_back(id.as_string());
      }
    }
    return ids;
  }

  static void ExpectFregError(const HttpResponse& r, long status) {
    EXPECT_EQ(r.status, status) << r.body;
    if (r.status != status) return;
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("kode").as_string(), "FREG-001");
  }

  std::vector<std::string> FregOrgs() const {
    std::vector<std::string> orgs;
    const auto clients = json::parse(ReadFile(a_dir_.path() + "/auth/clients.json")).as_object();
    for (const auto& c : clients.at("clients").as_array()) {
      for (const auto& scope : c.at("scopes").as_array()) {
        if (scope.as_string() == kFregScope) orgs.emplace_back(c.at("orgnr").as_string());
      }
    }
    return orgs;
  }

  TempDir a_dir_, b_dir_;
};

// Ordered on A, every batch fetched from B: the same bytes as from A, every person once; bad
// input gets the same answers on B as on A.
TEST_F(PostgresUttrekkTest, AJobOrderedOnOneNodeIsServedByTheOther) {
  auto a = Node(a_dir_);
  auto b = Node(b_dir_);
  const std::string job = Order(*a);
  ASSERT_FALSE(job.empty());
  const auto from_b = FetchAll(*b, job);
  ASSERT_EQ(from_b.size(), 14u);
  EXPECT_EQ(FetchAll(*a, job), from_b);
  const auto ids = Ids(from_b);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kPersons));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  // Far past the end of the finished job: the empty answer on both.
  for (ServerProcess* node : {a.get(), b.get()}) {
    for (const char* n : {"14", "15", "9223372036854775807"}) {
      auto past = node->Get(Api("/uttrekk/" + job + "/batch/" + n));
      EXPECT_EQ(past.status, 200) << past.body;
      EXPECT_EQ(past.body, "{}");
    }
    for (const char* bad : {"-1", "abc", "9223372036854775808", "99999999999999999999"}) {
      ExpectFregError(node->Get(Api("/uttrekk/" + job + "/batch/" + bad)), 400);
    }
    for (const char* garbled : {"garbage", "00000000-0000-4000-8000-000000000000",
                                "E9CA4D76-2ED7-43BC-BB50-469304DF1E1C", "%27%20OR%201%3D1"}) {
      ExpectFregError(node->Get(Api(std::string("/uttrekk/") + garbled + "/batch/0")), 410);
    }
    const auto orgs = FregOrgs();
    ASSERT_GE(orgs.size(), 2u);
    const std::string other = node->Token(kFregScope, orgs[1]);
    ExpectFregError(
        node->Get(Api("/uttrekk/" + job + "/batch/0"), {{"Authorization", "Bearer " + other}}),
        410);
  }
}

// Ten unfinished jobs of one organisation, ordered half on each node (slowed so that they stay
// unfinished): the 11th order is refused on either node with 429 and Retry-After in ms.
TEST_F(PostgresUttrekkTest, TheEleventhOrderAcrossNodesIs429) {
  auto a = Node(a_dir_, {"--uttrekk-test-batch-delay", "2000"});
  auto b = Node(b_dir_, {"--uttrekk-test-batch-delay", "2000"});
  for (int i = 0; i < 5; ++i) {
    ASSERT_FALSE(Order(*a).empty()) << i;
    ASSERT_FALSE(Order(*b).empty()) << i;
  }
  const std::string latest = a->Get(Api("/hendelser/siste/sekvensnummer")).body;
  const std::string order = Api("/uttrekk/komplett?feedsekvensnr=" + latest);
  for (ServerProcess* node : {b.get(), a.get()}) {
    auto refused = node->Get(order);
    ExpectFregError(refused, 429);
    const std::string retry_after = refused.Header("retry-after");
    EXPECT_TRUE(std::regex_match(retry_after, std::regex("[0-9]+"))) << retry_after;
    EXPECT_GT(std::atol(retry_after.c_str()), 0);
  }
  const auto orgs = FregOrgs();
  ASSERT_GE(orgs.size(), 2u);
  auto other = a->Get(order, {{"Authorization", "Bearer " + a->Token(kFregScope, orgs[1])}});
  EXPECT_EQ(other.status, 200) << other.body;
}

// Node A is killed (SIGKILL) while it computes a job (slowed: a pause after each batch). B takes
// the job over once A's lease has run out, and the client gets every batch from B: every person
// exactly once, the same bytes as a job B computes alone.
TEST_F(PostgresUttrekkTest, AJobOfAKilledNodeIsFinishedByAnother) {
  auto a = Node(a_dir_, {"--uttrekk-workers", "1", "--uttrekk-lease", "2",
                         "--uttrekk-test-batch-delay", "1000"});
  const std::string job = Order(*a);
  ASSERT_FALSE(job.empty());
  ASSERT_EQ(FetchBatch(*a, job, 1).status, 200);  // A is computing it
  auto b = Node(b_dir_, {"--uttrekk-workers", "1", "--uttrekk-lease", "2"});
  // Still mid-job: the last batch is not there yet (A needs about 14 s for the job).
  ASSERT_EQ(a->Get(Api("/uttrekk/" + job + "/batch/13")).status, 404)
      << "node A finished before it could be killed (timing); raise the batch delay";
  ASSERT_EQ(kill(a->pid(), SIGKILL), 0);
  a.reset();

  const auto bodies = FetchAll(*b, job);
  ASSERT_EQ(bodies.size(), 14u);
  const auto ids = Ids(bodies);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kPersons));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  // B continued A's job (it found A's batches), rather than computing it from nothing.
  EXPECT_NE(b->Output().find("taking over job " + job), std::string::npos) << b->Output();
  const std::string again = Order(*b);
  EXPECT_EQ(FetchAll(*b, again), bodies);
}

}  // namespace
}  // namespace norreg::testing
