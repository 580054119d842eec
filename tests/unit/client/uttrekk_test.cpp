#include "client/uttrekk.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/local_copy.hpp"
#include "fake_http_server.hpp"

namespace norreg::client {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

constexpr std::string_view kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1/";

std::string Fnr(int i) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%011d", 10000000 + i);
  return buffer;
}
std::string DocId(int i) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%032x", 0xabc000 + i);
  return buffer;
}
// A person document, pretty-printed on purpose: the client must keep it as sent (one line).
std::string Document(int i) {
  return "{\n  \"identifikasjonsnummer\": [{\"foedselsEllerDNummer\": \"" + Fnr(i) +
         "\", \"identifikatortype\": \"foedselsnummer\", \"status\": \"iBruk\", "
         "\"erGjeldende\": true}],\n  \"navn\": [{\"fornavn\": \"PERSON \\\"" +
         std::to_string(i) + "\\\"\", \"erGjeldende\": true}]\n}";
}
std::string Compact(std::string text) {
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

std::vector<std::string> StringList(const std::string& body, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.parse(body);
  std::vector<std::string> out;
  for (auto id : root[key].get_array()) out.emplace_back(std::string_view(id.get_string()));
  return out;
}

std::string Path(const FakeRequest& request) {
  std::string target = request.target;
  if (!target.starts_with(kApi)) return {};
  return target.substr(kApi.size());
}

// An in-test Folkeregisteret: `persons` persons, batches of `batch_size` ids, and faults.
class FakeFreg {
 public:
  explicit FakeFreg(int persons, size_t batch_size = 2500)
      : persons_(persons),
        batch_size_(batch_size),
        server_([this](const FakeRequest& r) { return Handle(r); }) {}

  std::string base() const { return server_.Url(""); }

  // Faults (all guarded by mutex_).
  int not_ready_each_batch = 0;  // 404 this many times before each batch is served
  int bulk_500 = 0;              // the first N bulk lookups answer 500
  int bulk_429 = 0;              // the next N answer 429 Retry-After 30
  int bulk_drop = 0;             // the next N drop the connection
  bool expire_new_jobs = false;  // jobs answer 410 from the start
  std::string reject_token;      // 401 for this bearer token

  // Batches of the current job answer 410 from now on.
  void ExpireCurrentJob() {
    std::lock_guard lock(mutex_);
    expired_.insert(job_);
  }
  int orders() {
    std::lock_guard lock(mutex_);
    return orders_;
  }
  std::string last_criteria() {
    std::lock_guard lock(mutex_);
    return criteria_;
  }
  std::mutex mutex_;

 private:
  FakeResponse Json(int status, std::string body) {
    FakeResponse r;
    r.status = status;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = std::move(body);
    return r;
  }
  FakeResponse Error(int status) { return Json(status, R"({"kode":"FREG-001","melding":"feil"})"); }

  FakeResponse Handle(const FakeRequest& request) {
    std::lock_guard lock(mutex_);
    if (!reject_token.empty() && request.Header("authorization") == "Bearer " + reject_token) {
      return Error(401);
    }
    if (request.Header("authorization").empty()) return Error(401);
    const std::string path = Path(request);
    if (path == "hendelser/siste/sekvensnummer") return Json(200, "4242");
    if (path == "uttrekk/komplett?feedsekvensnr=4242" ||
        (path == "uttrekk/tilpasset" && request.method == "POST")) {
      ++orders_;
      tailored_ = path == "uttrekk/tilpasset";
      if (tailored_) criteria_ = request.body;
      job_ = "00000000-0000-4000-8000-00000000000" + std::to_string(orders_ % 10);
      if (expire_new_jobs) expired_.insert(job_);
      not_ready_left_.clear();
      return Json(200, "{\"jobbId\":\"" + job_ + "\"}");
    }
    if (path.starts_with("uttrekk/")) {
      std::string rest = path.substr(8);
      std::string job = rest.substr(0, rest.find('/'));
      size_t n = std::stoul(rest.substr(rest.rfind('/') + 1));
      if (expired_.contains(job) || job != job_) return Error(410);
      int& left = not_ready_left_.try_emplace(n, not_ready_each_batch).first->second;
      if (left > 0) {
        --left;
        return Error(404);
      }
      std::string body = tailored_ ? "{\"foedselsEllerDNummer\":[" : "{\"dokumentidentifikator\":[";
      size_t begin = n * batch_size_;
      if (begin >= static_cast<size_t>(persons_)) return Json(200, "{}");
      for (size_t i = begin; i < std::min(begin + batch_size_, static_cast<size_t>(persons_));
           ++i) {
        if (i != begin) body += ',';
        body += '"' + (tailored_ ? Fnr(static_cast<int>(i)) : DocId(static_cast<int>(i))) + '"';
      }
      return Json(200, body + "]}");
    }
    if (path == "personer/bulkoppslag/arkiv" || path == "personer/bulkoppslag") {
      if (bulk_500 > 0) {
        --bulk_500;
        return Error(500);
      }
      if (bulk_429 > 0) {
        --bulk_429;
        FakeResponse r = Error(429);
        r.headers.emplace_back("Retry-After", "30");
        return r;
      }
      if (bulk_drop > 0) {
        --bulk_drop;
        FakeResponse r;
        r.close_without_answer = true;
        return r;
      }
      const bool arkiv = path == "personer/bulkoppslag/arkiv";
      auto ids = StringList(request.body, arkiv ? "dokumentidentifikator" : "foedselsEllerDNummer");
      if (ids.size() > 1000) return Error(400);
      std::string body = "{\"oppslag\": [\n";
      bool first = true;
      for (const std::string& id : ids) {
        int i = static_cast<int>(std::stol(id, nullptr, arkiv ? 16 : 10)) -
                (arkiv ? 0xabc000 : 10000000);
        if (i < 0 || i >= persons_ || (arkiv ? DocId(i) : Fnr(i)) != id) i = -1;
        if (!first) body += ",\n";
        first = false;
        if (i < 0) {
          body += "{\"foedselsEllerDNummer\":\"" + id +
                  "\",\"feilmelding\":{\"feilmelding\":\"ukjent\"}}";
          continue;
        }
        body += std::string("{\"") + (arkiv ? "dokumentidentifikator" : "foedselsEllerDNummer") +
                "\": \"" + id + "\", \"folkeregisterperson\": " + Document(i) + "  }";
      }
      return Json(200, body + "\n]}");
    }
    return Error(404);
  }

  int persons_;
  size_t batch_size_;
  int orders_ = 0;
  bool tailored_ = false;
  std::string job_;
  std::string criteria_;
  std::map<size_t, int> not_ready_left_;
  std::set<std::string> expired_;
  FakeHttpServer server_;  // last: stops before the state above goes away
};

class UttrekkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("norreg_uttrekk_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  UttrekkOptions Options(const FakeFreg& freg) {
    UttrekkOptions options;
    options.base_url = freg.base();
    options.tokens = StaticTokenSource("tok");
    options.ndjson_path = (dir_ / "out.ndjson").string();
    options.retry.initial_backoff = std::chrono::milliseconds(1);
    options.retry.max_backoff = std::chrono::milliseconds(5);
    options.not_ready_initial = std::chrono::milliseconds(1);
    options.not_ready_max = std::chrono::milliseconds(5);
    return options;
  }

  std::vector<std::string> Lines() {
    std::ifstream in(dir_ / "out.ndjson");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // Every person exactly once, each line the document as sent (newlines turned into blanks).
  void ExpectEveryPersonOnce(int persons) {
    auto lines = Lines();
    ASSERT_EQ(lines.size(), static_cast<size_t>(persons));
    std::set<std::string> seen(lines.begin(), lines.end());
    EXPECT_EQ(seen.size(), lines.size()) << "duplicate lines";
    for (int i = 0; i < persons; ++i) {
      EXPECT_TRUE(seen.contains(Compact(Document(i)))) << "missing person " << i;
    }
  }

  std::filesystem::path dir_;
  Progress quiet_{ProgressOptions{.out = nullptr}};
};

TEST_F(UttrekkTest, CompleteExtractWritesEveryPersonOnceDespiteFaults) {
  FakeFreg freg(2600);
  freg.not_ready_each_batch = 2;
  freg.bulk_500 = 2;
  freg.bulk_429 = 1;
  freg.bulk_drop = 1;
  UttrekkOptions options = Options(freg);
  options.db_path = (dir_ / "copy.db").string();
  auto summary = RunUttrekk(options, quiet_);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_TRUE(summary->completed);
  EXPECT_EQ(summary->persons, 2600u);
  EXPECT_EQ(summary->sekvensnummer, 4242);
  EXPECT_EQ(summary->batches, 2u);  // 2500 + 100
  EXPECT_EQ(summary->chunks, 4u);   // 1000 + 1000 + 500 + 100
  EXPECT_EQ(summary->missing, 0u);
  // 2 x 500 and the 429 are retried by us; libcurl itself may retry the dropped connection
  // once when it was a reused keep-alive connection.
  EXPECT_GE(summary->retries, 3u);
  EXPECT_EQ(freg.orders(), 1);
  ExpectEveryPersonOnce(2600);

  auto copy = LocalCopy::Open(options.db_path);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*(*copy)->Count(), 2600);
  auto stored = (*copy)->Document(Fnr(17));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(**stored, Compact(Document(17)));
  EXPECT_EQ(*(*copy)->GetMetaInt(kMetaFeedSekvensnummer), 4242);
  EXPECT_EQ(*(*copy)->GetMetaInt(kMetaUttrekkSekvensnummer), 4242);
  EXPECT_EQ(*(*copy)->Seq(Fnr(17)), 4242);
}

TEST_F(UttrekkTest, SerialAndParallelRunsGiveTheSameSet) {
  for (int concurrency : {1, 3, 8}) {
    FakeFreg freg(1234, 500);
    UttrekkOptions options = Options(freg);
    options.concurrency = concurrency;
    options.chunk_size = 300;
    auto summary = RunUttrekk(options, quiet_);
    ASSERT_TRUE(summary.ok()) << summary.error().message;
    EXPECT_EQ(summary->persons, 1234u) << concurrency;
    ExpectEveryPersonOnce(1234);
  }
}

TEST_F(UttrekkTest, ResumedNdjsonRunIsExactlyOnceAndCutsAPartialTail) {
  FakeFreg freg(2600);
  UttrekkOptions options = Options(freg);
  options.stop_after_chunks = 2;
  auto first = RunUttrekk(options, quiet_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->completed);
  EXPECT_EQ(first->persons, 2000u);
  EXPECT_EQ(Lines().size(), 2000u);
  {
    // Killed after writing a chunk but before its checkpoint: lines past the checkpoint.
    std::ofstream out(dir_ / "out.ndjson", std::ios::app);
    out << Compact(Document(2001)) << "\n{\"half";
  }
  options.stop_after_chunks = 0;
  auto second = RunUttrekk(options, quiet_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(second->resumed);
  EXPECT_TRUE(second->completed);
  EXPECT_EQ(second->persons, 2600u);
  EXPECT_EQ(second->chunks, 2u);
  EXPECT_EQ(freg.orders(), 1);  // the same job continued
  ExpectEveryPersonOnce(2600);

  // A finished extract is not resumed: a rerun orders a new one and rewrites the output.
  auto third = RunUttrekk(options, quiet_);
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_FALSE(third->resumed);
  EXPECT_EQ(freg.orders(), 2);
  ExpectEveryPersonOnce(2600);
}

TEST_F(UttrekkTest, ResumedLocalCopyRunIsExactlyOnce) {
  FakeFreg freg(2600);
  UttrekkOptions options = Options(freg);
  options.ndjson_path.clear();
  options.db_path = (dir_ / "copy.db").string();
  options.stop_after_chunks = 3;
  options.concurrency = 2;
  auto first = RunUttrekk(options, quiet_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->completed);
  {
    auto copy = LocalCopy::Open(options.db_path);
    ASSERT_TRUE(copy.ok());
    EXPECT_EQ(*(*copy)->Count(), 2500);  // 1000 + 1000 + 500 (batch 0 complete)
    EXPECT_FALSE((*(*copy)->GetMeta(kMetaFeedSekvensnummer)).has_value());
  }
  options.stop_after_chunks = 0;
  auto second = RunUttrekk(options, quiet_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(second->resumed);
  EXPECT_EQ(second->chunks, 1u);
  EXPECT_EQ(second->persons, 2600u);
  EXPECT_EQ(freg.orders(), 1);
  auto copy = LocalCopy::Open(options.db_path);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*(*copy)->Count(), 2600);
  EXPECT_EQ(*(*copy)->GetMetaInt(kMetaFeedSekvensnummer), 4242);
}

// The checkpoint is saved every checkpoint_interval, so after a crash it can lag what was
// written: a rerun from the older checkpoint still writes every person exactly once, in the NDJSON
// (cut back) and in the local copy (rows replaced).
TEST_F(UttrekkTest, ACheckpointThatLagsTheOutputStillGivesEveryPersonOnce) {
  FakeFreg freg(2600);
  UttrekkOptions options = Options(freg);
  options.db_path = (dir_ / "copy.db").string();
  options.checkpoint_interval = std::chrono::hours(1);
  options.stop_after_chunks = 1;
  ASSERT_TRUE(RunUttrekk(options, quiet_).ok());
  std::string early;
  {
    auto copy = LocalCopy::Open(options.db_path);
    ASSERT_TRUE(copy.ok());
    early = **(*copy)->GetMeta(kMetaUttrekkCheckpoint);
  }
  options.stop_after_chunks = 2;
  auto second = RunUttrekk(options, quiet_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->persons, 2500u);
  EXPECT_EQ(Lines().size(), 2500u);
  {
    // As if the process died before saving the checkpoint of its last two chunks.
    auto copy = LocalCopy::Open(options.db_path);
    ASSERT_TRUE(copy.ok());
    ASSERT_TRUE((*copy)->SetMeta(kMetaUttrekkCheckpoint, early).ok());
  }
  options.stop_after_chunks = 0;
  auto third = RunUttrekk(options, quiet_);
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_TRUE(third->resumed);
  EXPECT_TRUE(third->completed);
  EXPECT_EQ(third->persons, 2600u);
  EXPECT_EQ(freg.orders(), 1);
  ExpectEveryPersonOnce(2600);
  auto copy = LocalCopy::Open(options.db_path);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*(*copy)->Count(), 2600);
}

TEST_F(UttrekkTest, CancelFlagStopsAndKeepsTheCheckpoint) {
  FakeFreg freg(2600);
  freg.not_ready_each_batch = 1'000'000;  // never ready
  UttrekkOptions options = Options(freg);
  std::atomic<bool> cancel{false};
  options.cancel = &cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cancel = true;
  });
  auto summary = RunUttrekk(options, quiet_);
  canceller.join();
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_FALSE(summary->completed);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out.ndjson.checkpoint"));
}

TEST_F(UttrekkTest, GoneJobOnResumeStartsOverWithAFreshOutput) {
  FakeFreg freg(2600);
  UttrekkOptions options = Options(freg);
  options.stop_after_chunks = 1;
  auto first = RunUttrekk(options, quiet_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(Lines().size(), 1000u);
  freg.ExpireCurrentJob();  // the new order's job is served again
  options.stop_after_chunks = 0;
  auto second = RunUttrekk(options, quiet_);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(second->restarted);
  EXPECT_TRUE(second->completed);
  EXPECT_EQ(second->persons, 2600u);
  EXPECT_EQ(freg.orders(), 2);
  ExpectEveryPersonOnce(2600);
}

TEST_F(UttrekkTest, GoneJobOnAFreshRunIsAnError) {
  FakeFreg freg(10);
  freg.expire_new_jobs = true;
  auto summary = RunUttrekk(Options(freg), quiet_);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code, ErrorCode::kGone);
}

TEST_F(UttrekkTest, TailoredExtractPostsCriteriaAndLooksUpNumbers) {
  FakeFreg freg(1500, 700);
  UttrekkOptions options = Options(freg);
  options.tilpasset =
      R"({"personstatustyper":["bosatt"],"kommunenummer":{"bostedskommunenummer":"0301"}})";
  options.db_path = (dir_ / "copy.db").string();
  auto summary = RunUttrekk(options, quiet_);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->persons, 1500u);
  EXPECT_EQ(freg.last_criteria(), *options.tilpasset);
  ExpectEveryPersonOnce(1500);
  auto copy = LocalCopy::Open(options.db_path);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*(*copy)->Count(), 1500);
}

TEST_F(UttrekkTest, RejectsBadOptions) {
  FakeFreg freg(1);
  struct Case {
    const char* name;
    std::function<void(UttrekkOptions&)> change;
  };
  const Case cases[] = {
      {"no url", [](UttrekkOptions& o) { o.base_url.clear(); }},
      {"no output", [](UttrekkOptions& o) { o.ndjson_path.clear(); }},
      {"concurrency 0", [](UttrekkOptions& o) { o.concurrency = 0; }},
      {"chunk too big", [](UttrekkOptions& o) { o.chunk_size = 1001; }},
      {"criteria not JSON", [](UttrekkOptions& o) { o.tilpasset = "{personstatustyper"; }},
      {"criteria not object", [](UttrekkOptions& o) { o.tilpasset = "[1]"; }},
  };
  for (const Case& c : cases) {
    UttrekkOptions options = Options(freg);
    c.change(options);
    auto summary = RunUttrekk(options, quiet_);
    ASSERT_FALSE(summary.ok()) << c.name;
    EXPECT_EQ(summary.error().code, ErrorCode::kInvalidInput) << c.name;
  }
  EXPECT_EQ(freg.orders(), 0);
}

TEST_F(UttrekkTest, RefreshesTheTokenOnceAfter401) {
  FakeFreg freg(50);
  freg.reject_token = "old";
  UttrekkOptions options = Options(freg);
  std::atomic<int> invalidated{0};
  options.tokens.get = [&]() -> Result<std::string> {
    return std::string(invalidated.load() > 0 ? "new" : "old");
  };
  options.tokens.invalidate = [&] { ++invalidated; };
  auto summary = RunUttrekk(options, quiet_);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_GE(invalidated.load(), 1);
  ExpectEveryPersonOnce(50);

  // A token that stays refused ends the run with kUnauthenticated.
  options.tokens = StaticTokenSource("old");
  options.tokens.invalidate = [] {};
  auto refused = RunUttrekk(options, quiet_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
}

TEST(FregCallerTest, Honours429RetryAfterInMilliseconds) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&](const FakeRequest&) {
    FakeResponse r;
    if (calls++ == 0) {
      r.status = 429;
      r.headers = {{"Retry-After", "150"}};
    } else {
      r.body = "7";
    }
    return r;
  });
  TokenSource tokens = StaticTokenSource("t");
  CallStats stats;
  FregCaller caller(server.Url(""), tokens, {}, {}, &stats);
  auto start = std::chrono::steady_clock::now();
  auto response = caller.Call("GET", "hendelser/siste/sekvensnummer");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 200);
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
  EXPECT_LT(elapsed, std::chrono::seconds(5));  // not read as seconds
  EXPECT_EQ(stats.retries.load(), 1u);
  auto received = server.received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[1].target, std::string(kApi) + "hendelser/siste/sekvensnummer");
  EXPECT_EQ(received[1].Header("authorization"), "Bearer t");
  EXPECT_EQ(received[1].Header("accept"), "application/json");
}

TEST(FregCallerTest, GivesUpAfterMaxAttempts) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse r;
    r.status = 503;
    return r;
  });
  TokenSource tokens;
  RetryPolicy retry;
  retry.max_attempts = 3;
  retry.initial_backoff = std::chrono::milliseconds(1);
  FregCaller caller(server.Url(""), tokens, retry);
  auto response = caller.Call("GET", "x");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kInternal);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_TRUE(server.received()[0].Header("authorization").empty());
}

TEST(FregCallerTest, RetriesTransportErrorsAndKeepsTheMark) {
  TokenSource tokens;
  RetryPolicy retry;
  retry.max_attempts = 2;
  retry.initial_backoff = std::chrono::milliseconds(1);
  FregCaller caller("http://127.0.0.1:" + std::to_string(testing::ClosedPort()), tokens, retry);
  auto response = caller.Call("GET", "x");
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(IsTransportError(response.error()));
}

TEST(ErrorForAnswerTest, MapsStatusAndKeepsKodeAndMelding) {
  HttpResponse response;
  response.status = 410;
  response.body = R"({"kode":"FREG-001","melding":"Jobben finnes ikke"})";
  Error error = ErrorForAnswer("GET uttrekk/x/batch/0", response);
  EXPECT_EQ(error.code, ErrorCode::kGone);
  EXPECT_NE(error.message.find("Jobben finnes ikke"), std::string::npos);
  response.status = 403;
  response.body = "not json";
  EXPECT_EQ(ErrorForAnswer("x", response).code, ErrorCode::kForbidden);
}

TEST(ParseBulkAnswerTest, KeepsRawDocumentsAndSkipsErrors) {
  std::string body =
      R"({"oppslag":[{"dokumentidentifikator":"aa","folkeregisterperson":{"a" : [1, 2],"b":"x\"y"}  },)"
      R"({"foedselsEllerDNummer":"123","feilmelding":{"feilmelding":"ukjent"}},)"
      R"({"folkeregisterperson":{},"foedselsEllerDNummer":"456"}]})";
  auto persons = ParseBulkAnswer(body);
  ASSERT_TRUE(persons.ok()) << persons.error().message;
  ASSERT_EQ(persons->size(), 2u);
  EXPECT_EQ((*persons)[0].key, "aa");
  EXPECT_EQ((*persons)[0].document, R"({"a" : [1, 2],"b":"x\"y"})");
  EXPECT_EQ((*persons)[1].key, "456");
  EXPECT_EQ((*persons)[1].document, "{}");

  for (std::string bad : {std::string("{\"oppslag\":[{\"folkeregisterperson\":[1]}]}"),
                          std::string("[1,2]"), std::string("{\"oppslag\":{}}")}) {
    EXPECT_FALSE(ParseBulkAnswer(bad).ok()) << bad;
  }
  std::string empty = R"({"oppslag":[]})";
  ASSERT_TRUE(ParseBulkAnswer(empty).ok());
  EXPECT_TRUE(ParseBulkAnswer(empty)->empty());
}

TEST(ParsePersonNumbersTest, CurrentNumberAndAllNumbers) {
  struct Case {
    std::string json;
    std::string current;
    std::vector<std::string> all;
  };
  const Case cases[] = {
      {R"({"identifikasjonsnummer":[{"erGjeldende":true,"foedselsEllerDNummer":"1"}]})",
       "1",
       {"1"}},
      {R"({"navn":[],"identifikasjonsnummer":[{"foedselsEllerDNummer":"41","erGjeldende":false},)"
       R"({"foedselsEllerDNummer":"2","erGjeldende":true}]})",
       "2",
       {"41", "2"}},
      {R"({"identifikasjonsnummer":[{"foedselsEllerDNummer":"7"}]})", "7", {"7"}},
      {R"({"navn":[]})", "", {}},
      // What follows the identifikasjonsnummer rows is not needed.
      {R"({"identifikasjonsnummer":[{"foedselsEllerDNummer":"3","erGjeldende":true}],)"
       R"("navn":[{"fornavn":"A"}],"kjoenn":[{"kjoenn":"kvinne"}]})",
       "3",
       {"3"}},
  };
  for (const Case& c : cases) {
    simdjson::padded_string padded(c.json);
    auto numbers = ParsePersonNumbers(std::string_view(padded.data(), padded.size()),
                                      padded.size() + simdjson::SIMDJSON_PADDING);
    ASSERT_TRUE(numbers.ok()) << c.json;
    EXPECT_EQ(numbers->current, c.current) << c.json;
    EXPECT_EQ(numbers->all, c.all) << c.json;
  }
}

TEST(ParsePersonNumbersTest, AMalformedNumberRowIsAnError) {
  for (const std::string json :
       {R"({"identifikasjonsnummer":[{"foedselsEllerDNummer":5}]})",
        R"({"identifikasjonsnummer":{"foedselsEllerDNummer":"5"}})",
        R"({"identifikasjonsnummer":[{"erGjeldende":"ja","foedselsEllerDNummer":"5"}]})"}) {
    simdjson::padded_string padded(json);
    auto numbers = ParsePersonNumbers(std::string_view(padded.data(), padded.size()),
                                      padded.size() + simdjson::SIMDJSON_PADDING);
    EXPECT_FALSE(numbers.ok()) << json;
  }
}

TEST(IdListBodyTest, BuildsTheRequestAndRejectsQuotes) {
  std::vector<std::string> ids = {"a", "b", "c"};
  EXPECT_EQ(*IdListBody("dokumentidentifikator", ids, 1, 10),
            R"({"dokumentidentifikator":["b","c"]})");
  EXPECT_EQ(*IdListBody("x", ids, 3, 3), R"({"x":[]})");
  ids.push_back("d\"");
  EXPECT_EQ(IdListBody("x", ids, 0, 4).error().code, ErrorCode::kInvalidInput);
}

TEST(ProgressTest, FormatsLineAndSummary) {
  ProgressSnapshot s{
      .done = 500, .total = 1000, .total_is_estimate = true, .retries = 3, .seconds = 10};
  EXPECT_EQ(FormatProgressLine("uttrekk", s),
            "uttrekk: 500 / ~1000 personer (50.0 %), 50/s, ETA 0:00:10");
  EXPECT_EQ(FormatSummaryLine("uttrekk", s),
            "uttrekk: 500 personer på 10.0 s (50 personer/s), 3 nye forsøk");
  s.total = 0;
  s.seconds = 0;
  EXPECT_EQ(FormatProgressLine("x", s), "x: 500 / ? personer, 0/s, ETA ?");
}

TEST(ProgressTest, WritesPlainLinesWhenNotATerminal) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  {
    Progress progress(
        ProgressOptions{.out = out, .terminal = 0, .log_interval = std::chrono::milliseconds(0)});
    progress.AddTotal(10);
    progress.Add(4);
    progress.Tick();
    progress.Finish();
  }
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  EXPECT_NE(text.find("uttrekk: 4 / 10 personer (40.0 %)"), std::string::npos) << text;
  EXPECT_NE(text.find("uttrekk: 4 personer på"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

}  // namespace
}  // namespace norreg::client
