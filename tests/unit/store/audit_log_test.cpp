#include "store/audit_log.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include "common/compress.hpp"
#include "common/ids.hpp"
#include "store/postgres/pg.hpp"
#include "unit/store/store_fixtures.hpp"

namespace norreg::store {
namespace {

namespace fs = std::filesystem;

class TempFolder {
 public:
  TempFolder() {
    std::string tmpl = (fs::temp_directory_path() / "norreg-audit-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempFolder() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string audit() const { return path_ + "/audit"; }

 private:
  std::string path_;
};

constexpr int64_t kT0 = 1'700'000'000'000;

Disclosure Make(int64_t t, std::string org, std::vector<std::string> ids,
                std::string endpoint = "freg.person") {
  Disclosure d;
  d.time_ms = t;
  d.consumer_orgnr = std::move(org);
  d.client_id = "client-" + d.consumer_orgnr;
  d.supplier_orgnr = "";
  d.endpoint = std::move(endpoint);
  d.request_id = "rid-" + std::to_string(t);
  d.identifiers = std::move(ids);
  return d;
}

// A log that indexes only when flushed (for tests of the journal tail); `db` as AuditOptions.
AuditOptions Options(const TempFolder& dir, const std::string& db = "") {
  AuditOptions o;
  o.dir = dir.audit();
  o.db = db;
  o.index_interval = std::chrono::hours(1);
  return o;
}

using testing::Backend;
using testing::TestRegister;

// The tests that hold for either index: SQLite in the folder, or PostgreSQL (a schema of its own
// per test; skipped without NORREG_TEST_PG).
class AuditLogTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    index_ = std::make_unique<TestRegister>(GetParam());
    if (!index_->unavailable().empty()) GTEST_SKIP() << index_->unavailable();
  }
  // "" for SQLite, else the test schema's connection string.
  std::string db() const { return GetParam() == Backend::kPostgres ? index_->conninfo() : ""; }
  AuditOptions Options(const TempFolder& dir) const { return store::Options(dir, db()); }
  const TestRegister& index() const { return *index_; }

 private:
  std::unique_ptr<TestRegister> index_;
};

NORREG_STORE_TEST_SUITE(AuditLogTest);

std::unique_ptr<AuditLog> Open(const AuditOptions& options) {
  auto log = OpenAuditLog(options);
  EXPECT_TRUE(log.ok()) << (log.ok() ? "" : log.error().detail);
  return log.ok() ? std::move(log).value() : nullptr;
}

std::vector<Disclosure> Q(const AuditLog& log, AuditQuery q) {
  auto r = log.Query(q);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().detail);
  return r.ok() ? std::move(r).value() : std::vector<Disclosure>{};
}

std::vector<int64_t> Times(const std::vector<Disclosure>& ds) {
  std::vector<int64_t> out;
  for (const auto& d : ds) out.push_back(d.time_ms - kT0);
  return out;
}

std::vector<std::string> Segments(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.starts_with("journal-") && name.ends_with(".ndjson")) out.push_back(name);
  }
  return out;
}

// Records: t=1 org A {p1}, t=2 org B {p1,p2}, t=3 org A (0192: form) {p2}, t=4 org B {p3}.
void RecordSample(AuditLog& log) {
  ASSERT_TRUE(log.Record(Make(kT0 + 1, "910000001", {"p1"})).ok());
  ASSERT_TRUE(log.Record(Make(kT0 + 2, "910000002", {"p1", "p2"}, "freg.bulk")).ok());
  ASSERT_TRUE(log.Record(Make(kT0 + 3, "0192:910000001", {"p2"})).ok());
  ASSERT_TRUE(log.Record(Make(kT0 + 4, "910000002", {"p3"})).ok());
}

struct QueryCase {
  const char* name;
  AuditQuery query;
  std::vector<int64_t> times;  // relative to kT0, newest first
};

const std::vector<QueryCase>& QueryCases() {
  static const std::vector<QueryCase> cases = {
      {"all", {}, {4, 3, 2, 1}},
      {"person", {.person = "p1"}, {2, 1}},
      {"person p2", {.person = "p2"}, {3, 2}},
      {"unknown person", {.person = "p9"}, {}},
      {"org plain", {.orgnr = "910000001"}, {3, 1}},
      {"org prefixed", {.orgnr = "0192:910000001"}, {3, 1}},
      {"org and person", {.orgnr = "910000002", .person = "p1"}, {2}},
      {"since", {.since_ms = kT0 + 3}, {4, 3}},
      {"until inclusive", {.until_ms = kT0 + 2}, {2, 1}},
      {"range", {.since_ms = kT0 + 2, .until_ms = kT0 + 3}, {3, 2}},
      {"limit", {.limit = 2}, {4, 3}},
      {"limit with person", {.person = "p2", .limit = 1}, {3}},
      {"limit zero", {.limit = 0}, {}},
  };
  return cases;
}

void ExpectSampleQueries(const AuditLog& log) {
  for (const QueryCase& c : QueryCases()) {
    EXPECT_EQ(Times(Q(log, c.query)), c.times) << c.name;
  }
}

TEST_P(AuditLogTest, QueriesAfterFlush) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  RecordSample(*log);
  ASSERT_TRUE(log->Flush().ok());
  ExpectSampleQueries(*log);
}

// Each flush made for WhenDurable is counted in the flush-time histogram (for /metrics).
TEST_P(AuditLogTest, FlushesForWaitersAreTimed) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->SyncTimes().count, 0u);
  for (int i = 0; i < 3; ++i) {
    RecordSample(*log);
    std::promise<bool> flushed;
    log->WhenDurable([&](bool ok) { flushed.set_value(ok); });
    EXPECT_TRUE(flushed.get_future().get());
  }
  const FlushTimes times = log->SyncTimes();
  EXPECT_GE(times.count, 1u);
  EXPECT_LE(times.count, 3u);
  EXPECT_GT(times.sum_s, 0);
  for (size_t i = 1; i < times.at_most.size(); ++i) {
    EXPECT_LE(times.at_most[i - 1], times.at_most[i]);
  }
  EXPECT_LE(times.at_most.back(), times.count);
}

// Records one line and waits until it is durable; false when the flush failed or took over 30 s.
bool RecordDurably(AuditLog& log, int64_t t) {
  if (!log.Record(Make(kT0 + t, "910000001", {"p"})).ok()) return false;
  auto flushed = std::make_shared<std::promise<bool>>();
  auto future = flushed->get_future();
  log.WhenDurable([flushed](bool ok) { flushed->set_value(ok); });
  return future.wait_for(std::chrono::seconds(30)) == std::future_status::ready && future.get();
}

// Answers that come close together share flushes: after a round of several waiters the syncer
// gathers. The threads come back at staggered times (0 to 3.5 ms after their answer), so without
// gathering each round took several flushes; gathered (20 ms), a round takes about one.
TEST_P(AuditLogTest, ConcurrentWaitersShareGatheredFlushes) {
  TempFolder dir;
  AuditOptions options = Options(dir);
  options.sync_gather = std::chrono::milliseconds(20);
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  std::atomic<int> durable{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        durable += RecordDurably(*log, t * kRounds + i);
        std::this_thread::sleep_for(std::chrono::microseconds(500 * t));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(durable.load(), kThreads * kRounds);
  EXPECT_LE(log->SyncTimes().count, uint64_t{2 * kRounds});
  EXPECT_EQ(Q(*log, {.limit = 1000}).size(), size_t{kThreads * kRounds});
}

// A lone waiter is flushed at once, however long a round may gather; closing the log ends a
// gathering round, and every waiter is answered.
TEST_P(AuditLogTest, GatheringNeverHoldsALoneWaiterOrAClosingLog) {
  TempFolder dir;
  AuditOptions options = Options(dir);
  options.sync_gather = std::chrono::hours(1);
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(RecordDurably(*log, i));  // one at a time

  // A burst from one thread: after a round of several waiters the next one gathers, for an hour
  // here, so some of the burst may wait until the log closes.
  ASSERT_TRUE(log->Record(Make(kT0 + 10, "910000001", {"p"})).ok());
  std::vector<std::future<bool>> answers;
  for (int i = 0; i < 100; ++i) {
    auto flushed = std::make_shared<std::promise<bool>>();
    answers.push_back(flushed->get_future());
    log->WhenDurable([flushed](bool ok) { flushed->set_value(ok); });
  }
  std::thread closer([&] { log.reset(); });
  for (auto& answer : answers) {
    ASSERT_EQ(answer.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    EXPECT_TRUE(answer.get());
  }
  closer.join();
}

// The log's two threads carry names (`top -H`, `ps -L`), and are gone with the log.
TEST_P(AuditLogTest, ItsThreadsAreNamed) {
  auto names = [] {
    std::multiset<std::string> found;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      found.insert(name);
    }
    return found;
  };
  const auto before = names();
  TempFolder dir;
  {
    auto log = Open(Options(dir));
    ASSERT_NE(log, nullptr);
    auto running = names();  // each thread names itself as it starts
    for (int i = 0; i < 200 && (running.count("audit-sync") == before.count("audit-sync") ||
                                running.count("audit-index") == before.count("audit-index"));
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      running = names();
    }
    EXPECT_EQ(running.count("audit-sync"), before.count("audit-sync") + 1);
    EXPECT_EQ(running.count("audit-index"), before.count("audit-index") + 1);
  }
  EXPECT_EQ(names().count("audit-sync"), before.count("audit-sync"));
}

// Record leaves a line in the page cache; WhenDurable answers each waiter after a flush that
// began once the waiter's lines were written (from many threads at once, sharing flushes); a
// log that closes answers the waiters it still has; a read-only log answers at once.
TEST_P(AuditLogTest, WaitersAreAnsweredOnceTheirRecordsAreFlushed) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  (void)AuditLog::TakeThreadRecorded();
  EXPECT_FALSE(AuditLog::TakeThreadRecorded());
  ASSERT_TRUE(log->Record(Make(kT0 + 1, "910000001", {"p1"})).ok());
  EXPECT_TRUE(AuditLog::TakeThreadRecorded());
  EXPECT_FALSE(AuditLog::TakeThreadRecorded());

  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        ASSERT_TRUE(log->Record(Make(kT0 + 10 + t * kEach + i, "910000001", {"p2"})).ok());
        log->WhenDurable([&](bool durable) { (durable ? ok : failed)++; });
      }
    });
  }
  for (auto& t : threads) t.join();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (ok + failed < kThreads * kEach && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(failed.load(), 0);

  bool closing_answered = false;
  ASSERT_TRUE(log->Record(Make(kT0 + 5, "910000001", {"p3"})).ok());
  log->WhenDurable([&](bool durable) { closing_answered = durable; });
  log.reset();  // joins the syncer, which answers first
  EXPECT_TRUE(closing_answered);

  AuditOptions read_only = Options(dir);
  read_only.read_only = true;
  auto reader = Open(read_only);
  ASSERT_NE(reader, nullptr);
  bool at_once = false;
  reader->WhenDurable([&](bool durable) { at_once = durable; });
  EXPECT_TRUE(at_once);
}

TEST_P(AuditLogTest, QueriesSeeJournalTailBeforeIndexing) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  RecordSample(*log);
  ExpectSampleQueries(*log);
}

TEST_P(AuditLogTest, QueriesMergeIndexAndTail) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Record(Make(kT0 + 1, "910000001", {"p1"})).ok());
  ASSERT_TRUE(log->Record(Make(kT0 + 3, "0192:910000001", {"p2"})).ok());
  ASSERT_TRUE(log->Flush().ok());
  // Journal-only entries, one older than the indexed ones.
  ASSERT_TRUE(log->Record(Make(kT0 + 2, "910000002", {"p1", "p2"}, "freg.bulk")).ok());
  ASSERT_TRUE(log->Record(Make(kT0 + 4, "910000002", {"p3"})).ok());
  ExpectSampleQueries(*log);
}

TEST_P(AuditLogTest, ReturnsAllFieldsAndIdentifiers) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  Disclosure d = Make(kT0, "910000001", {"a", "b\"quoted\"\n", "a"}, "mottak.download");
  d.supplier_orgnr = "910000009";
  d.client_id = "klient æøå";
  ASSERT_TRUE(log->Record(d).ok());
  auto check = [&](const Disclosure& got) {
    EXPECT_EQ(got.time_ms, d.time_ms);
    EXPECT_EQ(got.consumer_orgnr, d.consumer_orgnr);
    EXPECT_EQ(got.client_id, d.client_id);
    EXPECT_EQ(got.supplier_orgnr, d.supplier_orgnr);
    EXPECT_EQ(got.endpoint, d.endpoint);
    EXPECT_EQ(got.request_id, d.request_id);
    EXPECT_EQ(got.identifiers, d.identifiers);
  };
  auto tail = Q(*log, {});
  ASSERT_EQ(tail.size(), 1u);
  check(tail[0]);
  // The "0192:" form of an orgnr is recorded as the nine digits.
  d.consumer_orgnr = "0192:910000001";
  d.supplier_orgnr = "0192:910000009";
  d.time_ms = kT0 - 1;
  ASSERT_TRUE(log->Record(d).ok());
  d.consumer_orgnr = "910000001";
  d.supplier_orgnr = "910000009";
  ASSERT_EQ(Q(*log, {}).size(), 2u);
  check(Q(*log, {})[1]);
  d.time_ms = kT0;
  ASSERT_TRUE(log->Flush().ok());
  auto indexed = Q(*log, {});
  ASSERT_EQ(indexed.size(), 2u);
  check(indexed[0]);
  d.time_ms = kT0 - 1;
  check(indexed[1]);
  // With a person, only that person is listed (once, though disclosed twice).
  auto by_person = Q(*log, {.person = "a"});
  ASSERT_EQ(by_person.size(), 2u);
  EXPECT_EQ(by_person[0].identifiers, std::vector<std::string>{"a"});
}

TEST_P(AuditLogTest, ZeroTimeMeansNow) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  ASSERT_TRUE(log->Record(Make(0, "910000001", {"p1"})).ok());
  auto got = Q(*log, {});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_GE(got[0].time_ms, before);
  EXPECT_LT(got[0].time_ms, before + 60'000);
}

TEST_P(AuditLogTest, EqualTimesNewestRecordFirst) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Record(Make(kT0, "910000001", {"first"})).ok());
  ASSERT_TRUE(log->Record(Make(kT0, "910000001", {"second"})).ok());
  ASSERT_TRUE(log->Flush().ok());
  ASSERT_TRUE(log->Record(Make(kT0, "910000001", {"third"})).ok());
  auto got = Q(*log, {});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].identifiers[0], "third");
  EXPECT_EQ(got[1].identifiers[0], "second");
  EXPECT_EQ(got[2].identifiers[0], "first");
}

TEST_P(AuditLogTest, ReadOnlyLogSeesWriterEntries) {
  TempFolder dir;
  auto writer = Open(Options(dir));
  ASSERT_NE(writer, nullptr);
  AuditOptions ro = Options(dir);
  ro.read_only = true;
  auto reader = Open(ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(Q(*reader, {}).empty());
  EXPECT_EQ(reader->Record(Make(kT0, "910000001", {"p1"})).error().code, ErrorCode::kInternal);

  ASSERT_TRUE(writer->Record(Make(kT0 + 1, "910000001", {"p1"})).ok());
  ASSERT_TRUE(writer->Record(Make(kT0 + 3, "0192:910000001", {"p2"})).ok());
  ASSERT_TRUE(writer->Flush().ok());
  ASSERT_TRUE(writer->Record(Make(kT0 + 2, "910000002", {"p1", "p2"}, "freg.bulk")).ok());
  ASSERT_TRUE(writer->Record(Make(kT0 + 4, "910000002", {"p3"})).ok());
  ExpectSampleQueries(*reader);
  // And after the writer closed (final index pass, journal deleted).
  writer.reset();
  ExpectSampleQueries(*reader);
  auto fresh = Open(ro);
  ASSERT_NE(fresh, nullptr);
  ExpectSampleQueries(*fresh);
}

TEST_P(AuditLogTest, ReadOnlyBeforeAnyWriterIsEmpty) {
  TempFolder dir;
  fs::create_directories(dir.audit());
  AuditOptions ro = Options(dir);
  ro.read_only = true;
  auto reader = Open(ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(Q(*reader, {}).empty());
  EXPECT_TRUE(fs::is_empty(dir.audit()));  // read-only creates nothing
}

TEST_P(AuditLogTest, ReopenLosesAndDuplicatesNothing) {
  TempFolder dir;
  {
    auto log = Open(Options(dir));
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Record(Make(kT0 + 1, "910000001", {"p1"})).ok());
    ASSERT_TRUE(log->Record(Make(kT0 + 2, "910000002", {"p1", "p2"}, "freg.bulk")).ok());
    ASSERT_TRUE(log->Flush().ok());
    ASSERT_TRUE(log->Record(Make(kT0 + 3, "0192:910000001", {"p2"})).ok());
  }  // closing indexes the rest
  EXPECT_TRUE(Segments(dir.audit()).empty());
  {
    auto log = Open(Options(dir));
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Record(Make(kT0 + 4, "910000002", {"p3"})).ok());
    ExpectSampleQueries(*log);
    ASSERT_TRUE(log->Flush().ok());
    ExpectSampleQueries(*log);
  }
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  ExpectSampleQueries(*log);
}

// The index keeps lines in blocks and stops a newest-first scan early; with lines spread over many
// blocks, times out of recording order (a clock set back, an early line with the newest time) and
// every kind of query, the answers equal a brute-force filter and sort of what was recorded.
TEST_P(AuditLogTest, ManyBlocksAnswerExactlyAsAFullScan) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  std::vector<Disclosure> recorded;
  for (int i = 0; i < 1000; ++i) {
    int64_t t = kT0 + i + (i * 7919) % 50;  // rising, with repeats and steps back
    if (i == 300) t = kT0 + 900;            // far ahead of its block and the next ones
    std::vector<std::string> ids = {"p" + std::to_string(i % 5)};
    if (i % 3 == 0) ids.push_back("p" + std::to_string(i % 7));
    recorded.push_back(Make(t, i % 4 == 0 ? "910000001" : "910000002", ids));
    recorded.back().request_id = "rid-" + std::to_string(i);
    ASSERT_TRUE(log->Record(recorded.back()).ok());
    if (i == 500) {
      ASSERT_TRUE(log->Flush().ok());
    }
  }
  auto expect = [&](AuditQuery q) {
    std::vector<std::pair<int, Disclosure>> matches;
    for (int i = 0; i < static_cast<int>(recorded.size()); ++i) {
      const Disclosure& d = recorded[i];
      if (d.time_ms < q.since_ms || d.time_ms > q.until_ms) continue;
      if (!q.orgnr.empty() && d.consumer_orgnr != q.orgnr) continue;
      if (!q.person.empty() &&
          std::find(d.identifiers.begin(), d.identifiers.end(), q.person) == d.identifiers.end()) {
        continue;
      }
      matches.emplace_back(i, d);
    }
    std::stable_sort(matches.begin(), matches.end(), [](const auto& a, const auto& b) {
      if (a.second.time_ms != b.second.time_ms) return a.second.time_ms > b.second.time_ms;
      return a.first > b.first;
    });
    std::vector<std::string> want;
    for (size_t i = 0; i < matches.size() && i < q.limit; ++i) {
      want.push_back(matches[i].second.request_id);
    }
    std::vector<std::string> got;
    for (const Disclosure& d : Q(*log, q)) got.push_back(d.request_id);
    return std::make_pair(got, want);
  };
  for (int pass = 0; pass < 2; ++pass) {  // half indexed and half in the tail, then all indexed
    for (size_t limit : {1, 7, 64, 100, 1000}) {
      for (AuditQuery q :
           {AuditQuery{}, AuditQuery{.person = "p3"}, AuditQuery{.person = "p6"},
            AuditQuery{.orgnr = "910000001"}, AuditQuery{.orgnr = "910000002", .person = "p1"},
            AuditQuery{.since_ms = kT0 + 300},
            AuditQuery{.since_ms = kT0 + 100, .until_ms = kT0 + 200},
            AuditQuery{.person = "p2", .until_ms = kT0 + 50}}) {
        q.limit = limit;
        auto [got, want] = expect(q);
        EXPECT_EQ(got, want) << "pass " << pass << " limit " << limit << " person " << q.person
                             << " org " << q.orgnr << " since " << q.since_ms - kT0;
      }
    }
    ASSERT_TRUE(log->Flush().ok());
  }
}

// An index written by the first schema (a row per disclosure) is migrated in place and answers
// as before.
TEST(AuditLogSqliteTest, FirstSchemaIndexIsMigrated) {
  TempFolder dir;
  fs::create_directories(dir.audit());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.audit() + "/audit.db").c_str(), &db), SQLITE_OK);
  const char* kFirstSchema = R"sql(
CREATE TABLE schema_version(version INTEGER NOT NULL);
INSERT INTO schema_version VALUES(1);
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES('cursor_segment', 0), ('cursor_offset', 0);
CREATE TABLE disclosures(id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,
  consumer_orgnr TEXT NOT NULL, client_id TEXT NOT NULL, supplier_orgnr TEXT NOT NULL,
  endpoint TEXT NOT NULL, request_id TEXT NOT NULL, identifiers TEXT NOT NULL);
CREATE TABLE disclosed(person TEXT NOT NULL, time_ms INTEGER NOT NULL,
  disclosure_id INTEGER NOT NULL, PRIMARY KEY(person, time_ms, disclosure_id)) WITHOUT ROWID;
CREATE INDEX disclosures_by_org ON disclosures(consumer_orgnr, time_ms);
CREATE INDEX disclosures_by_time ON disclosures(time_ms);
INSERT INTO disclosures VALUES
  (1, 1700000000001, '910000001', 'client-910000001', '', 'freg.person', 'rid-1', '["p1"]'),
  (2, 1700000000002, '910000002', 'client-910000002', '910000009', 'freg.bulk', 'rid-"2"',
   '["p1","p2"]'),
  (3, 1700000000003, '910000001', 'client-910000001', '', 'freg.person', 'rid-3', '["p2"]'),
  (4, 1700000000004, '910000002', 'client-910000002', '', 'freg.person', 'rid-4', '["p3"]');
INSERT INTO disclosed VALUES ('p1', 1700000000001, 1), ('p1', 1700000000002, 2),
  ('p2', 1700000000002, 2), ('p2', 1700000000003, 3), ('p3', 1700000000004, 4);
)sql";
  ASSERT_EQ(sqlite3_exec(db, kFirstSchema, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  ExpectSampleQueries(*log);
  auto bulk = Q(*log, {.orgnr = "910000002", .person = "p1"});
  ASSERT_EQ(bulk.size(), 1u);
  EXPECT_EQ(bulk[0].supplier_orgnr, "910000009");
  EXPECT_EQ(bulk[0].endpoint, "freg.bulk");
  EXPECT_EQ(bulk[0].request_id, "rid-\"2\"");
  EXPECT_EQ(Q(*log, {.since_ms = kT0 + 2, .until_ms = kT0 + 2})[0].identifiers,
            (std::vector<std::string>{"p1", "p2"}));
  // New disclosures go on after the migrated ones.
  ASSERT_TRUE(log->Record(Make(kT0 + 5, "910000001", {"p1"})).ok());
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(Times(Q(*log, {.person = "p1"})), (std::vector<int64_t>{5, 2, 1}));
}

TEST_P(AuditLogTest, SecondWriterOnSameFolderIsRefused) {
  TempFolder dir;
  auto first = Open(Options(dir));
  ASSERT_NE(first, nullptr);
  auto second = OpenAuditLog(Options(dir));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kInternal);
}

void AppendRaw(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << bytes;
}

TEST_P(AuditLogTest, TornLastLineIsSkippedAfterRestart) {
  TempFolder dir;
  std::string journal;
  {
    // Journal lines as a writer makes them; copied before the close indexes and deletes them
    // (into a SQLite index of a scratch folder: the journal is the same whatever the index).
    auto log = Open(store::Options(dir));
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(log->Record(Make(kT0 + 1, "910000001", {"p1"})).ok());
    ASSERT_TRUE(log->Record(Make(kT0 + 2, "910000002", {"p1", "p2"}, "freg.bulk")).ok());
    ASSERT_TRUE(log->Record(Make(kT0 + 3, "0192:910000001", {"p2"})).ok());
    auto segments = Segments(dir.audit());
    ASSERT_EQ(segments.size(), 1u);
    std::ifstream in(dir.audit() + "/" + segments[0], std::ios::binary);
    journal.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // A writer that crashed mid-write: nothing indexed, the journal ends with half a line.
  fs::remove_all(dir.audit());
  fs::create_directories(dir.audit());
  AppendRaw(dir.audit() + "/journal-1.ndjson", journal);
  AppendRaw(dir.audit() + "/journal-1.ndjson", R"({"t":1700000000009,"org":"9100)");

  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Record(Make(kT0 + 4, "910000002", {"p3"})).ok());
  ExpectSampleQueries(*log);  // from the journal
  ASSERT_TRUE(log->Flush().ok());
  ExpectSampleQueries(*log);                    // from the index
  EXPECT_EQ(Segments(dir.audit()).size(), 1u);  // the crashed segment is gone
  ASSERT_TRUE(log->Record(Make(kT0 + 5, "910000001", {"p5"})).ok());
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(Times(Q(*log, {.person = "p5"})), std::vector<int64_t>{5});
  EXPECT_EQ(Q(*log, {}).size(), 5u);
}

TEST_P(AuditLogTest, UnwrittenReservationsOfACrashedWriterAreSkipped) {
  // A writer that crashed while copying lines into its mapped segment leaves NUL runs (bytes
  // reserved, never written) and a line torn by them, between whole lines, and its unused end.
  TempFolder dir;
  fs::create_directories(dir.audit());
  auto line = [](int t, const std::string& org, const std::string& id) {
    return "{\"t\":" + std::to_string(kT0 + t) + ",\"org\":\"" + org +
           "\",\"client\":\"c\",\"supplier\":\"\",\"endpoint\":\"e\",\"rid\":\"r\","
           "\"ids\":[\"" +
           id + "\"]}\n";
  };
  std::string journal = line(1, "910000001", "p1");
  journal += std::string(40, '\0');
  journal += line(2, "910000002", "p2");
  journal += std::string("{\"t\":17000") + std::string(30, '\0');  // torn by the crash
  journal += line(3, "910000001", "p3");
  journal += std::string(4096, '\0');  // the segment's unused end
  AppendRaw(dir.audit() + "/journal-1.ndjson", journal);

  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(Times(Q(*log, {})), (std::vector<int64_t>{3, 2, 1}));  // from the journal
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(Times(Q(*log, {})), (std::vector<int64_t>{3, 2, 1}));  // from the index
  ASSERT_TRUE(log->Record(Make(kT0 + 4, "910000002", {"p4"})).ok());
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(Times(Q(*log, {})), (std::vector<int64_t>{4, 3, 2, 1}));
}

TEST_P(AuditLogTest, ALineLongerThanASegmentGetsItsOwnSegment) {
  TempFolder dir;
  AuditOptions options = Options(dir);
  options.segment_bytes = 256;
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  std::vector<std::string> many;
  for (int i = 0; i < 100; ++i) many.push_back("p" + std::to_string(i));
  ASSERT_TRUE(log->Record(Make(kT0 + 1, "910000001", many)).ok());
  ASSERT_TRUE(log->Record(Make(kT0 + 2, "910000001", {"p1"})).ok());
  EXPECT_EQ(Q(*log, {.person = "p1"}).size(), 2u);
  ASSERT_TRUE(log->Flush().ok());
  EXPECT_EQ(Q(*log, {.person = "p99"}).size(), 1u);
  EXPECT_EQ(Q(*log, {.person = "p1"}).size(), 2u);
}

TEST_P(AuditLogTest, GarbageLinesAreSkipped) {
  TempFolder dir;
  fs::create_directories(dir.audit());
  AppendRaw(dir.audit() + "/journal-1.ndjson",
            "not json\n\n[1,2]\n{\"t\":\"x\",\"ids\":[]}\n{\"t\":1,\"ids\":[5]}\n");
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  RecordSample(*log);
  ExpectSampleQueries(*log);
  ASSERT_TRUE(log->Flush().ok());
  ExpectSampleQueries(*log);
}

TEST_P(AuditLogTest, SegmentsRollAndAreDeletedOnceIndexed) {
  TempFolder dir;
  AuditOptions options = Options(dir);
  options.segment_bytes = 300;  // about two lines per segment
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  constexpr int kCount = 40;
  for (int i = 1; i <= kCount; ++i) {
    ASSERT_TRUE(
        log->Record(Make(kT0 + i, i % 2 ? "910000001" : "910000002", {"p" + std::to_string(i % 5)}))
            .ok());
  }
  EXPECT_GT(Segments(dir.audit()).size(), 10u);
  EXPECT_EQ(Q(*log, {.limit = 1000}).size(), size_t{kCount});  // all from the journal
  ASSERT_TRUE(log->Flush().ok());
  // Only the segment being written remains.
  EXPECT_EQ(Segments(dir.audit()).size(), 1u);
  auto all = Q(*log, {.limit = 1000});
  ASSERT_EQ(all.size(), size_t{kCount});
  for (int i = 0; i < kCount; ++i) EXPECT_EQ(all[i].time_ms, kT0 + kCount - i);
  EXPECT_EQ(Q(*log, {.orgnr = "910000001", .limit = 1000}).size(), size_t{kCount / 2});
  EXPECT_EQ(Q(*log, {.person = "p0", .limit = 1000}).size(), size_t{kCount / 5});
}

TEST_P(AuditLogTest, BackgroundIndexerRunsWithoutFlush) {
  TempFolder dir;
  AuditOptions options = Options(dir);
  options.index_interval = std::chrono::milliseconds(10);
  options.segment_bytes = 300;
  options.defer_above_cpu_busy = 1.0;  // however busy the test machine is
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(log->Record(Make(kT0 + i, "910000001", {"p"})).ok());
  for (int i = 0; i < 500 && Segments(dir.audit()).size() > 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Segments(dir.audit()).size(), 1u);
  EXPECT_EQ(Q(*log, {}).size(), 20u);
}

// Lines indexed so far, read from the index itself (queries cannot tell: they merge the journal):
// the SQLite index in `dir`, or the PostgreSQL one at `conninfo`.
int64_t IndexedLines(const TempFolder& dir, const std::string& conninfo = "") {
  const auto zstd = common::Zstd::Create("").value();
  if (!conninfo.empty()) {
    auto c = pg::Connection::Open(conninfo);
    if (!c.ok()) return -1;
    auto rows = c->Query("SELECT lines FROM audit_blocks");
    if (!rows.ok()) return -1;
    int64_t lines = 0;
    std::string text;
    for (int i = 0; i < rows->rows(); ++i) {
      if (!zstd.Decompress(rows->Bytes(i, 0), text).ok()) return -1;
      lines += std::count(text.begin(), text.end(), '\n');
    }
    return lines;
  }
  sqlite3* db = nullptr;
  int64_t lines = -1;
  if (sqlite3_open_v2((dir.audit() + "/audit.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT lines FROM blocks", -1, &st, nullptr) == SQLITE_OK) {
      lines = 0;
      std::string text;
      while (sqlite3_step(st) == SQLITE_ROW) {
        const std::string_view block(static_cast<const char*>(sqlite3_column_blob(st, 0)),
                                     static_cast<size_t>(sqlite3_column_bytes(st, 0)));
        if (!zstd.Decompress(block, text).ok()) return -1;
        lines += std::count(text.begin(), text.end(), '\n');
      }
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return lines;
}

// While the machine counts as busy the indexer waits, until the unindexed journal passes its cap.
TEST_P(AuditLogTest, IndexingWaitsWhileBusyUntilTheBacklogCap) {
  TempFolder dir;
  AuditOptions options = Options(dir);
  options.index_interval = std::chrono::milliseconds(10);
  options.defer_above_cpu_busy = -1.0;  // always busy
  options.max_unindexed_bytes = 2000;
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a first CPU measurement
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(log->Record(Make(kT0 + i, "910000001", {"p"})).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(IndexedLines(dir, db()), 0);
  EXPECT_EQ(Q(*log, {}).size(), 5u);
  for (int i = 6; i <= 30; ++i) ASSERT_TRUE(log->Record(Make(kT0 + i, "910000001", {"p"})).ok());
  for (int i = 0; i < 500 && IndexedLines(dir, db()) < 30; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(IndexedLines(dir, db()), 30);
  ASSERT_TRUE(log->Record(Make(kT0 + 31, "910000001", {"p"})).ok());
  ASSERT_TRUE(log->Flush().ok());  // a flush indexes however busy
  EXPECT_EQ(IndexedLines(dir, db()), 31);
  EXPECT_EQ(Q(*log, {}).size(), 31u);
}

// While answers keep the syncer flushing, the indexer leaves the disk to them; it indexes once
// they stop.
TEST_P(AuditLogTest, IndexingWaitsWhileAnswersKeepTheSyncerFlushing) {
  TempFolder dir;
  AuditOptions options = Options(dir);
  options.index_interval = std::chrono::milliseconds(100);
  options.defer_above_cpu_busy = 1.0;  // however busy the test machine is
  options.defer_above_flushing = 0.0;  // any flush in an interval defers
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  std::atomic<int> durable{0};
  std::vector<std::thread> threads;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(600);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; std::chrono::steady_clock::now() < until; ++i) {
        durable += RecordDurably(*log, t * 1000000 + i);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_GT(durable.load(), 0);
  EXPECT_EQ(IndexedLines(dir, db()), 0);
  for (int i = 0; i < 500 && IndexedLines(dir, db()) < durable.load(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(IndexedLines(dir, db()), durable.load());
}

TEST_P(AuditLogTest, ConcurrentRecordsAreAllIndexedOnce) {
  TempFolder dir;
  AuditOptions options = Options(dir);
  options.index_interval = std::chrono::milliseconds(5);
  options.segment_bytes = 64 << 10;  // several rolls while writing
  auto log = Open(options);
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Disclosure d = Make(kT0 + i, "91000000" + std::to_string(t), {"t" + std::to_string(t)});
        if (!log->Record(d).ok()) ++failures;
      }
    });
  }
  // Query while writing (the indexer runs every 5 ms): index and journal tail never overlap.
  for (int i = 0; i < 10; ++i) {
    auto got = log->Query({.person = "t0", .limit = 100000});
    ASSERT_TRUE(got.ok());
    std::set<int64_t> times;
    for (const auto& d : *got) times.insert(d.time_ms);
    EXPECT_EQ(times.size(), got->size());
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto before_flush = Q(*log, {.limit = 100000});
  EXPECT_EQ(before_flush.size(), size_t{kThreads * kPerThread});
  ASSERT_TRUE(log->Flush().ok());
  auto all = Q(*log, {.limit = 100000});
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
  for (int t = 0; t < kThreads; ++t) {
    auto mine = Q(*log, {.person = "t" + std::to_string(t), .limit = 100000});
    ASSERT_EQ(mine.size(), size_t{kPerThread}) << t;
    std::set<int64_t> times;
    for (const auto& d : mine) times.insert(d.time_ms);
    EXPECT_EQ(times.size(), size_t{kPerThread}) << t;  // each exactly once
  }
  log.reset();
  AuditOptions ro = options;
  ro.read_only = true;
  auto reader = Open(ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(Q(*reader, {.limit = 100000}).size(), size_t{kThreads * kPerThread});
}

TEST(AuditLogSqliteTest, InvalidFolderIsAnError) {
  TempFolder dir;
  AppendRaw(dir.path() + "/file", "x");
  for (bool read_only : {false, true}) {
    for (const std::string& path : {dir.path() + "/file/audit", std::string()}) {
      AuditOptions options;
      options.dir = path;
      options.read_only = read_only;
      auto log = OpenAuditLog(options);
      ASSERT_FALSE(log.ok()) << path << " " << read_only;
      EXPECT_EQ(log.error().code, ErrorCode::kInternal);
    }
  }
  AuditOptions missing;
  missing.dir = dir.path() + "/missing";
  missing.read_only = true;
  EXPECT_FALSE(OpenAuditLog(missing).ok());
  EXPECT_FALSE(fs::exists(missing.dir));
}

// More (person, block) pairs in one batch than the SQLite index sorts at once (2^18): each line
// still lands in one block, found by person and by organisation.
TEST_P(AuditLogTest, ABatchWithVeryManyPersonsIsIndexedOnce) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  constexpr int kLines = 300;
  constexpr int kIds = 1000;
  for (int r = 0; r < kLines; ++r) {
    std::vector<std::string> ids;
    for (int i = 0; i < kIds; ++i) ids.push_back(std::to_string(r) + "-" + std::to_string(i));
    Disclosure d = Make(kT0 + r, "910000001", std::move(ids), "freg.bulk");
    d.request_id = "rid-" + std::to_string(r);
    ASSERT_TRUE(log->Record(d).ok());
  }
  ASSERT_TRUE(log->Flush().ok());
  for (const AuditQuery& q :
       {AuditQuery{.limit = 1000}, AuditQuery{.orgnr = "910000001", .limit = 1000}}) {
    auto all = Q(*log, q);
    std::set<std::string> rids;
    for (const auto& d : all) rids.insert(d.request_id);
    EXPECT_EQ(all.size(), size_t{kLines}) << q.orgnr;
    EXPECT_EQ(rids.size(), size_t{kLines}) << q.orgnr;
  }
  for (int r : {0, 150, 262, 263, 299}) {
    const std::string person = std::to_string(r) + "-" + std::to_string(kIds - 1);
    EXPECT_EQ(Times(Q(*log, {.person = person})), std::vector<int64_t>{r}) << person;
  }
}

// --- the index shared by server nodes (PostgreSQL only) ---

class AuditLogPostgresTest : public testing::PostgresTest {};

// Lines in `dir`'s node-id file ("" when there is none).
std::string NodeIdOf(const TempFolder& dir) {
  std::ifstream in(dir.audit() + "/node-id");
  std::string id;
  std::getline(in, id);
  return id;
}

// Two nodes (folders of their own) on one database: each sees its own journal tail at once and
// the other's disclosures once indexed; a reader of the shared index alone sees all indexed ones.
TEST_F(AuditLogPostgresTest, TwoNodesShareOneIndex) {
  TempFolder a_dir, b_dir;
  auto a = Open(Options(a_dir, conninfo()));
  auto b = Open(Options(b_dir, conninfo()));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_FALSE(NodeIdOf(a_dir).empty());
  EXPECT_NE(NodeIdOf(a_dir), NodeIdOf(b_dir));
  ASSERT_TRUE(a->Record(Make(kT0 + 1, "910000001", {"p1"})).ok());
  ASSERT_TRUE(b->Record(Make(kT0 + 2, "910000002", {"p1", "p2"}, "freg.bulk")).ok());
  ASSERT_TRUE(a->Record(Make(kT0 + 3, "0192:910000001", {"p2"})).ok());
  ASSERT_TRUE(b->Record(Make(kT0 + 4, "910000002", {"p3"})).ok());
  EXPECT_EQ(Times(Q(*a, {})), (std::vector<int64_t>{3, 1}));  // the other's not indexed yet
  EXPECT_EQ(Times(Q(*b, {})), (std::vector<int64_t>{4, 2}));
  ASSERT_TRUE(a->Flush().ok());
  EXPECT_EQ(Times(Q(*b, {})), (std::vector<int64_t>{4, 3, 2, 1}));  // a's indexed, b's tail
  ASSERT_TRUE(b->Flush().ok());
  ExpectSampleQueries(*a);
  ExpectSampleQueries(*b);
  AuditOptions shared;
  shared.db = conninfo();
  shared.read_only = true;
  auto reader = Open(shared);
  ASSERT_NE(reader, nullptr);
  ExpectSampleQueries(*reader);
  // A reader on a node's folder adds that node's journal tail.
  ASSERT_TRUE(a->Record(Make(kT0 + 5, "910000001", {"p5"})).ok());
  AuditOptions on_a = Options(a_dir, conninfo());
  on_a.read_only = true;
  auto a_reader = Open(on_a);
  ASSERT_NE(a_reader, nullptr);
  EXPECT_EQ(Times(Q(*a_reader, {.person = "p5"})), std::vector<int64_t>{5});
  EXPECT_TRUE(Q(*reader, {.person = "p5"}).empty());
  // Closing indexes the rest; reopened nodes keep their identity and duplicate nothing.
  const std::string a_id = NodeIdOf(a_dir);
  a.reset();
  b.reset();
  EXPECT_EQ(Times(Q(*reader, {.person = "p5"})), std::vector<int64_t>{5});
  a = Open(Options(a_dir, conninfo()));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(NodeIdOf(a_dir), a_id);
  ASSERT_TRUE(a->Flush().ok());
  EXPECT_EQ(Q(*reader, {.limit = 100}).size(), 5u);
  EXPECT_EQ(IndexedLines(a_dir, conninfo()), 5);
}

// Newest first and exact across nodes whose times overlap, whose blocks were indexed in another
// order than recorded, and with one node's late block holding the oldest times: equal to a
// brute-force filter and sort of all that was recorded.
TEST_F(AuditLogPostgresTest, NodesTogetherAnswerExactlyAsAFullScan) {
  TempFolder a_dir, b_dir;
  auto a = Open(Options(a_dir, conninfo()));
  auto b = Open(Options(b_dir, conninfo()));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  std::vector<Disclosure> recorded;
  for (int i = 0; i < 600; ++i) {
    const bool on_a = (i / 50) % 2 == 0;
    int64_t t = on_a ? kT0 + i : kT0 + 600 - i;  // a rises, b falls: they cross
    if (i % 97 == 0) t = kT0 + 1000;             // the newest time, early
    Disclosure d = Make(t, i % 3 == 0 ? "910000001" : "910000002", {"p" + std::to_string(i % 4)});
    d.request_id = "rid-" + std::to_string(i);
    recorded.push_back(d);
    ASSERT_TRUE((on_a ? *a : *b).Record(d).ok());
    if (i == 200) {
      ASSERT_TRUE(b->Flush().ok());  // b's blocks get the lower ids
    }
    if (i == 300) {
      ASSERT_TRUE(a->Flush().ok());
    }
  }
  ASSERT_TRUE(a->Flush().ok());
  ASSERT_TRUE(b->Flush().ok());
  AuditOptions shared;
  shared.db = conninfo();
  shared.read_only = true;
  auto reader = Open(shared);
  ASSERT_NE(reader, nullptr);
  for (size_t limit : {1, 5, 64, 200, 1000}) {
    for (AuditQuery q : {AuditQuery{}, AuditQuery{.person = "p1"}, AuditQuery{.orgnr = "910000001"},
                         AuditQuery{.since_ms = kT0 + 250, .until_ms = kT0 + 400},
                         AuditQuery{.orgnr = "910000002", .person = "p2"}}) {
      q.limit = limit;
      std::vector<Disclosure> matches;
      for (const Disclosure& d : recorded) {
        if (d.time_ms < q.since_ms || d.time_ms > q.until_ms) continue;
        if (!q.orgnr.empty() && d.consumer_orgnr != q.orgnr) continue;
        if (!q.person.empty() && d.identifiers[0] != q.person) continue;
        matches.push_back(d);
      }
      std::stable_sort(matches.begin(), matches.end(),
                       [](const auto& x, const auto& y) { return x.time_ms > y.time_ms; });
      // Equal times across nodes have no recording order: compare times, and the sets.
      std::vector<int64_t> want;
      for (size_t i = 0; i < matches.size() && i < limit; ++i) want.push_back(matches[i].time_ms);
      for (const AuditLog* log : {reader.get(), a.get(), b.get()}) {
        std::vector<int64_t> got;
        std::set<std::string> rids;
        for (const Disclosure& d : Q(*log, q)) {
          got.push_back(d.time_ms);
          rids.insert(d.request_id);
        }
        EXPECT_EQ(got, want) << "limit " << limit << " person " << q.person << " org " << q.orgnr;
        EXPECT_EQ(rids.size(), got.size());
      }
    }
  }
}

// The node id is made once and kept; a second process with the same node id (a copied data
// folder) is refused while the first indexes, and it names the reason.
TEST_F(AuditLogPostgresTest, ACopiedNodeIdIsRefused) {
  TempFolder a_dir, copy_dir;
  auto a = Open(Options(a_dir, conninfo()));
  ASSERT_NE(a, nullptr);
  const std::string id = NodeIdOf(a_dir);
  EXPECT_TRUE(ids::IsUuid(id)) << id;
  fs::create_directories(copy_dir.audit());
  fs::copy_file(a_dir.audit() + "/node-id", copy_dir.audit() + "/node-id");
  auto copy = OpenAuditLog(Options(copy_dir, conninfo()));
  ASSERT_FALSE(copy.ok());
  EXPECT_EQ(copy.error().code, ErrorCode::kInternal);
  EXPECT_NE(copy.error().detail.find("node-id"), std::string::npos) << copy.error().detail;
  a.reset();
  auto again = Open(Options(a_dir, conninfo()));  // the lock went with the first process
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(NodeIdOf(a_dir), id);
}

// A reader before any writer finds no tables and creates none, nor a folder's node-id.
TEST_F(AuditLogPostgresTest, AReaderBeforeAnyWriterIsEmptyAndCreatesNothing) {
  TempFolder dir;
  fs::create_directories(dir.audit());
  for (const std::string& folder : {std::string(), dir.audit()}) {
    AuditOptions ro;
    ro.dir = folder;
    ro.db = conninfo();
    ro.read_only = true;
    auto reader = Open(ro);
    ASSERT_NE(reader, nullptr);
    EXPECT_TRUE(Q(*reader, {}).empty());
    EXPECT_EQ(reader->Record(Make(kT0, "910000001", {"p1"})).error().code, ErrorCode::kInternal);
  }
  EXPECT_TRUE(fs::is_empty(dir.audit()));
  auto c = pg::Connection::Open(conninfo());
  ASSERT_TRUE(c.ok());
  auto tables = c->Query("SELECT to_regclass('audit_blocks') IS NULL");
  ASSERT_TRUE(tables.ok());
  EXPECT_TRUE(tables->Bool(0, 0));
  // A writer without a folder is refused.
  AuditOptions writer;
  writer.db = conninfo();
  EXPECT_FALSE(OpenAuditLog(writer).ok());
}

// A writer whose session the server dropped (a restart, a failover) reconnects, takes its node's
// lock again and goes on where its committed cursor stands: nothing lost, nothing twice.
TEST_F(AuditLogPostgresTest, TheIndexerReconnectsAfterTheServerDroppedIt) {
  TempFolder dir;
  auto log = Open(Options(dir, conninfo()));
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Record(Make(kT0 + 1, "910000001", {"p1"})).ok());
  ASSERT_TRUE(log->Flush().ok());
  auto admin = pg::Connection::Open(conninfo());
  ASSERT_TRUE(admin.ok());
  // The writer's session is the one holding the node's lock.
  const std::string kill =
      "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype='advisory' AND "
      "objsubid=2 AND classid=1852797505 AND objid=hashtext(current_schema() || ':' || '" +
      NodeIdOf(dir) + "')::oid";
  auto killed = admin->Query(kill.c_str());
  ASSERT_TRUE(killed.ok()) << killed.error().detail;
  ASSERT_EQ(killed->Int64(0, 0), 1);
  ASSERT_TRUE(log->Record(Make(kT0 + 2, "910000002", {"p2"})).ok());
  (void)log->Flush();  // may fail: the loss shows on the first command after it
  ASSERT_TRUE(log->Record(Make(kT0 + 3, "910000001", {"p3"})).ok());
  Status flushed = log->Flush();
  ASSERT_TRUE(flushed.ok()) << flushed.error().detail;
  EXPECT_EQ(IndexedLines(dir, conninfo()), 3);
  EXPECT_EQ(Times(Q(*log, {})), (std::vector<int64_t>{3, 2, 1}));
}

// An unreachable server fails the open; the message never holds the password.
TEST(AuditLogPostgresOpenTest, AnUnreachableServerIsAnError) {
  TempFolder dir;
  for (bool read_only : {false, true}) {
    AuditOptions o = Options(dir, "postgresql://u:secretpw@/none?host=/nonexistent-norreg&port=1");
    o.read_only = read_only;
    if (read_only) o.dir.clear();
    auto log = OpenAuditLog(o);
    ASSERT_FALSE(log.ok()) << read_only;
    EXPECT_EQ(log.error().code, ErrorCode::kInternal);
    EXPECT_EQ(log.error().detail.find("secretpw"), std::string::npos) << log.error().detail;
    EXPECT_EQ(log.error().message.find("secretpw"), std::string::npos);
  }
}

}  // namespace
}  // namespace norreg::store
