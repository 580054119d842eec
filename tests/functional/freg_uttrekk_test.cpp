// Functional tests of the extract endpoints (SPEC 2.5) against the real `norreg serve` binary with
// a small generated demo register: the seed's client algorithm end to end, compared with the feed.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";

std::string Api(const std::string& path) { return std::string(kApi) + path; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct FeedEvent {
  uint64_t seq;
  std::string fnr;
  std::string document;  // "" for events without a person document
};

class FregUttrekkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    server_ = std::make_unique<ServerProcess>(dir_->path(),
                                              std::vector<std::string>{"--demo-persons", "300"});
    ASSERT_GT(server_->port(), 0);
    for (uint64_t seq = 1;;) {
      auto page = server_->Get(Api("/hendelser/feed?seq=" + std::to_string(seq)));
      ASSERT_EQ(page.status, 200) << page.body;
      json::array events = json::parse(page.body).as_array();
      if (events.empty()) break;
      for (const auto& e : events) {
        const auto& h = e.at("hendelse").as_object();
        FeedEvent event;
        event.seq = e.at("sekvensnummer").to_number<uint64_t>();
        event.fnr = std::string(h.at("folkeregisteridentifikator").as_string());
        if (const auto* d = h.if_contains("persondokument")) event.document = d->as_string();
        events_.push_back(std::move(event));
        seq = events_.back().seq + 1;
      }
    }
    auto clients = json::parse(ReadFile(dir_->path() + "/auth/clients.json")).as_object();
    for (const auto& c : clients.at("clients").as_array()) {
      orgs_.push_back(std::string(c.at("orgnr").as_string()));
    }
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }

  // Every person's document id as of `seq`, from the feed: the last event of each number.
  static std::set<std::string> ExpectedAt(uint64_t seq) {
    std::map<std::string, std::string> last;
    for (const auto& e : events_) {
      if (e.seq <= seq && !e.document.empty()) last[e.fnr] = e.document;
    }
    std::set<std::string> out;
    for (const auto& [fnr, document] : last) out.insert(document);
    return out;
  }

  static uint64_t LatestSeq() {
    auto r = server_->Get(Api("/hendelser/siste/sekvensnummer"));
    EXPECT_EQ(r.status, 200);
    return std::stoull(r.body);
  }

  static std::string Order(const std::string& query) {
    auto r = server_->Get(Api("/uttrekk/komplett" + query));
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    auto o = json::parse(r.body).as_object();
    EXPECT_EQ(o.size(), 1u);
    return std::string(o.at("jobbId").as_string());
  }

  // GET one batch, retrying while it is not ready (404), up to a minute.
  static HttpResponse FetchBatch(const std::string& job, uint64_t n,
                                 const std::map<std::string, std::string>& headers = {}) {
    HttpResponse r;
    for (int attempt = 0; attempt < 600; ++attempt) {
      r = server_->Get(Api("/uttrekk/" + job + "/batch/" + std::to_string(n)), headers);
      if (r.status != 404) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return r;
  }

  // The seed's client loop: batches from 0 until an answer without ids. Returns the id lists.
  static std::vector<std::vector<std::string>> FetchAll(const std::string& job,
                                                        const std::string& field) {
    std::vector<std::vector<std::string>> batches;
    for (uint64_t n = 0; n < 10000; ++n) {
      auto r = FetchBatch(job, n);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      EXPECT_EQ(r.Header("content-type").rfind("application/json", 0), 0u);
      auto o = json::parse(r.body).as_object();
      const auto* list = o.if_contains(field);
      if (list == nullptr || list->as_array().empty()) {
        EXPECT_TRUE(o.empty()) << r.body;  // the empty UttrekkDataResponse
        break;
      }
      EXPECT_EQ(o.size(), 1u);
      std::vector<std::string> ids;
      for (const auto& id : list->as_array()) ids.emplace_back(id.as_string());
      batches.push_back(std::move(ids));
    }
    return batches;
  }

  static void ExpectFregError(const HttpResponse& r, long status) {
    EXPECT_EQ(r.status, status) << r.body;
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("kode").as_string(), "FREG-001");
    EXPECT_FALSE(body.at("melding").as_string().empty());
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::vector<FeedEvent> events_;
  static inline std::vector<std::string> orgs_;
};

TEST_F(FregUttrekkTest, KomplettAtTheLatestHoldsEveryPersonsCurrentDocument) {
  const uint64_t seq = LatestSeq();
  const std::string job = Order("?feedsekvensnr=" + std::to_string(seq));
  ASSERT_FALSE(job.empty());
  auto batches = FetchAll(job, "dokumentidentifikator");
  ASSERT_EQ(batches.size(), 1u);  // 300 persons: one batch of at most 100 000
  std::set<std::string> ids(batches[0].begin(), batches[0].end());
  EXPECT_EQ(ids.size(), batches[0].size());  // no duplicates
  EXPECT_EQ(ids, ExpectedAt(seq));
  // The ids are person documents: bulk lookup in the archive finds them.
  std::string body = "{\"dokumentidentifikator\":[";
  for (size_t i = 0; i < 20 && i < batches[0].size(); ++i) {
    body += (i ? ",\"" : "\"") + batches[0][i] + "\"";
  }
  body += "]}";
  auto found = server_->Post(Api("/personer/bulkoppslag/arkiv"), body);
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(json::parse(found.body).at("oppslag").as_array().size(),
            std::min<size_t>(20, batches[0].size()));
}

TEST_F(FregUttrekkTest, OlderSnapshotShowsDocumentsAsTheyStoodThen) {
  const uint64_t seq = LatestSeq() / 2;
  const std::string job = Order("?feedsekvensnr=" + std::to_string(seq));
  auto batches = FetchAll(job, "dokumentidentifikator");
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(std::set<std::string>(batches[0].begin(), batches[0].end()), ExpectedAt(seq));
}

TEST_F(FregUttrekkTest, SeqAboveTheLatestIsCapped) {
  const std::string job = Order("?feedsekvensnr=99999999999999999999999");
  auto batches = FetchAll(job, "dokumentidentifikator");
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(std::set<std::string>(batches[0].begin(), batches[0].end()), ExpectedAt(LatestSeq()));
}

TEST_F(FregUttrekkTest, BatchesAreStableAndPastTheEndIsEmpty) {
  const std::string job = Order("?feedsekvensnr=" + std::to_string(LatestSeq()));
  auto first = FetchBatch(job, 0);
  ASSERT_EQ(first.status, 200);
  auto again = FetchBatch(job, 0);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  // Past the end: empty once the job knows its last batch (until then 404, not ready: batch 0 is
  // served as soon as it is complete, before the job is).
  for (uint64_t n : {1u, 2u, 1000000u}) {
    auto past = FetchBatch(job, n);
    EXPECT_EQ(past.status, 200) << n;
    EXPECT_EQ(past.body, "{}") << n;
  }
  // XML carries the same ids.
  auto xml = FetchBatch(job, 0, {{"Accept", "application/xml"}});
  ASSERT_EQ(xml.status, 200);
  EXPECT_EQ(xml.Header("content-type").rfind("application/xml", 0), 0u);
  auto o = json::parse(first.body).as_object();
  const std::string id0(o.at("dokumentidentifikator").as_array().at(0).as_string());
  EXPECT_NE(xml.body.find("<dokumentidentifikator>" + id0 + "</dokumentidentifikator>"),
            std::string::npos);
}

TEST_F(FregUttrekkTest, UnknownOrForeignJobsAre410) {
  for (const char* job : {"garbage", "00000000-0000-4000-8000-000000000000",
                          "e9ca4d76-2ed7-43bc-bb50-469304df1e1c"}) {
    ExpectFregError(server_->Get(Api(std::string("/uttrekk/") + job + "/batch/0")), 410);
  }
  const std::string job = Order("?feedsekvensnr=5");
  ASSERT_EQ(FetchBatch(job, 0).status, 200);
  ASSERT_GE(orgs_.size(), 2u);
  const std::string other = server_->Token(kFregScope, orgs_[1]);
  ExpectFregError(
      server_->Get(Api("/uttrekk/" + job + "/batch/0"), {{"Authorization", "Bearer " + other}}),
      410);
}

TEST_F(FregUttrekkTest, BadNumbersAre400) {
  const std::string job = Order("?feedsekvensnr=5");
  for (const char* n : {"-1", "abc", "1.5", "99999999999999999999", "9223372036854775808", "+1"}) {
    ExpectFregError(server_->Get(Api("/uttrekk/" + job + "/batch/" + n)), 400);
  }
  for (const char* q : {"", "?feedsekvensnr=", "?feedsekvensnr=abc", "?feedsekvensnr=0",
                        "?feedsekvensnr=-5", "?feedsekvensnr=1e3"}) {
    ExpectFregError(server_->Get(Api(std::string("/uttrekk/komplett") + q)), 400);
  }
  ExpectFregError(server_->Get(Api("/uttrekk/komplett?feedsekvensnr=5"), {{"Accept", "text/csv"}}),
                  406);
}

TEST_F(FregUttrekkTest, TilpassetListsMatchingPersons) {
  auto ordered = server_->Post(Api("/uttrekk/tilpasset"),
                               R"({"personstatustyper":["bosatt"],"kjoenn":"kvinne"})");
  ASSERT_EQ(ordered.status, 200) << ordered.body;
  const std::string job(json::parse(ordered.body).at("jobbId").as_string());
  auto batches = FetchAll(job, "foedselsEllerDNummer");
  ASSERT_FALSE(batches.empty());
  size_t total = 0;
  for (const auto& b : batches) {
    EXPECT_LE(b.size(), 10000u);
    total += b.size();
  }
  EXPECT_GT(total, 0u);
  EXPECT_LT(total, 300u);
  // Every listed person is a woman living in Norway.
  std::string body = "{\"foedselsEllerDNummer\":[";
  for (size_t i = 0; i < batches[0].size() && i < 50; ++i) {
    body += (i ? ",\"" : "\"") + batches[0][i] + "\"";
  }
  body += "]}";
  auto found = server_->Post(Api("/personer/bulkoppslag"), body);
  ASSERT_EQ(found.status, 200) << found.body;
  const json::value answer = json::parse(found.body);
  ASSERT_FALSE(answer.at("oppslag").as_array().empty());
  for (const auto& item : answer.at("oppslag").as_array()) {
    const auto& person = item.at("folkeregisterperson").as_object();
    EXPECT_EQ(person.at("kjoenn").as_array().at(0).at("kjoenn").as_string(), "kvinne");
    EXPECT_EQ(person.at("status").as_array().at(0).at("status").as_string(), "bosatt");
  }

  for (const char* bad : {"{}", "[]", "not json", R"({"personstatustyper":["levende"]})"}) {
    ExpectFregError(server_->Post(Api("/uttrekk/tilpasset"), bad), 400);
  }
}

}  // namespace
}  // namespace norreg::testing
