#include "store/audit_log.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/compress.hpp"

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

// A log that indexes only when flushed (for tests of the journal tail).
AuditOptions Options(const TempFolder& dir) {
  AuditOptions o;
  o.dir = dir.audit();
  o.index_interval = std::chrono::hours(1);
  return o;
}

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

TEST(AuditLogTest, QueriesAfterFlush) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  RecordSample(*log);
  ASSERT_TRUE(log->Flush().ok());
  ExpectSampleQueries(*log);
}

TEST(AuditLogTest, QueriesSeeJournalTailBeforeIndexing) {
  TempFolder dir;
  auto log = Open(Options(dir));
  ASSERT_NE(log, nullptr);
  RecordSample(*log);
  ExpectSampleQueries(*log);
}

TEST(AuditLogTest, QueriesMergeIndexAndTail) {
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

TEST(AuditLogTest, ReturnsAllFieldsAndIdentifiers) {
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

TEST(AuditLogTest, ZeroTimeMeansNow) {
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

TEST(AuditLogTest, EqualTimesNewestRecordFirst) {
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

TEST(AuditLogTest, ReadOnlyLogSeesWriterEntries) {
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

TEST(AuditLogTest, ReadOnlyBeforeAnyWriterIsEmpty) {
  TempFolder dir;
  fs::create_directories(dir.audit());
  AuditOptions ro = Options(dir);
  ro.read_only = true;
  auto reader = Open(ro);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(Q(*reader, {}).empty());
  EXPECT_TRUE(fs::is_empty(dir.audit()));  // read-only creates nothing
}

TEST(AuditLogTest, ReopenLosesAndDuplicatesNothing) {
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
TEST(AuditLogTest, ManyBlocksAnswerExactlyAsAFullScan) {
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
TEST(AuditLogTest, FirstSchemaIndexIsMigrated) {
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

TEST(AuditLogTest, SecondWriterOnSameFolderIsRefused) {
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

TEST(AuditLogTest, TornLastLineIsSkippedAfterRestart) {
  TempFolder dir;
  std::string journal;
  {
    // Journal lines as a writer makes them; copied before the close indexes and deletes them.
    auto log = Open(Options(dir));
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

TEST(AuditLogTest, UnwrittenReservationsOfACrashedWriterAreSkipped) {
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

TEST(AuditLogTest, ALineLongerThanASegmentGetsItsOwnSegment) {
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

TEST(AuditLogTest, GarbageLinesAreSkipped) {
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

TEST(AuditLogTest, SegmentsRollAndAreDeletedOnceIndexed) {
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

TEST(AuditLogTest, BackgroundIndexerRunsWithoutFlush) {
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

// Lines indexed so far, read from the index itself (queries cannot tell: they merge the journal).
int64_t IndexedLines(const TempFolder& dir) {
  sqlite3* db = nullptr;
  int64_t lines = -1;
  if (sqlite3_open_v2((dir.audit() + "/audit.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
      SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT lines FROM blocks", -1, &st, nullptr) == SQLITE_OK) {
      lines = 0;
      const auto zstd = common::Zstd::Create("").value();
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
TEST(AuditLogTest, IndexingWaitsWhileBusyUntilTheBacklogCap) {
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
  EXPECT_EQ(IndexedLines(dir), 0);
  EXPECT_EQ(Q(*log, {}).size(), 5u);
  for (int i = 6; i <= 30; ++i) ASSERT_TRUE(log->Record(Make(kT0 + i, "910000001", {"p"})).ok());
  for (int i = 0; i < 500 && IndexedLines(dir) < 30; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(IndexedLines(dir), 30);
  ASSERT_TRUE(log->Record(Make(kT0 + 31, "910000001", {"p"})).ok());
  ASSERT_TRUE(log->Flush().ok());  // a flush indexes however busy
  EXPECT_EQ(IndexedLines(dir), 31);
  EXPECT_EQ(Q(*log, {}).size(), 31u);
}

TEST(AuditLogTest, ConcurrentRecordsAreAllIndexedOnce) {
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

TEST(AuditLogTest, InvalidFolderIsAnError) {
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

}  // namespace
}  // namespace norreg::store
