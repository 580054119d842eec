// The SQLite disclosure index's person postings as sorted runs: every commit's postings are a new
// run, runs merge `fanout` at a time, runs past max_merged_postings are sealed, and a person's
// query finds each of its blocks exactly once, newest first, whatever runs hold them.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "store/audit_index.hpp"

namespace norreg::store::audit {
namespace {

namespace fs = std::filesystem;

class AuditSqliteIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "norreg-auditidx-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    path_ = dir_ + "/audit.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Commits `batches` batches of two blocks each; block n names the persons "p<k>" for every
  // k < 9 with n % (k + 2) == 0, and its stored bytes are "b<n>".
  void Write(IndexBackend& index, int batches) {
    for (int b = 0; b < batches; ++b) {
      auto cursor = index.BeginBatch();
      ASSERT_TRUE(cursor.ok());
      for (int i = 0; i < 2; ++i, ++blocks_) {
        std::vector<std::string> persons;
        for (int k = 0; k < 9; ++k) {
          if (blocks_ % (k + 2) == 0) persons.push_back("p" + std::to_string(k));
        }
        const std::string stored = "b" + std::to_string(blocks_);
        for (const std::string& p : persons) expected_[p].insert(stored);
        const std::vector<std::string> orgs{"910000001"};
        ASSERT_TRUE(index
                        .AddBlock({.min_time_ms = blocks_,
                                   .max_time_ms = blocks_,
                                   .stored = stored,
                                   .persons = persons,
                                   .orgs = orgs})
                        .ok());
      }
      ASSERT_TRUE(index.CommitBatch({1, cursor->offset + 1}).ok());
    }
  }

  // Every person's blocks as the index answers them: each once, newest first.
  void ExpectEveryPersonsBlocks(const IndexBackend& index) {
    for (const auto& [person, want] : expected_) {
      std::vector<std::string> got;
      int64_t last_id = INT64_MAX;
      auto scanned = index.Scan({.person = person}, [&](const StoredBlock& b) -> Result<Visit> {
        EXPECT_LT(b.id, last_id) << person << ": newest first, each once";
        last_id = b.id;
        got.emplace_back(b.stored);
        return Visit::kMore;
      });
      ASSERT_TRUE(scanned.ok());
      EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want) << person;
      EXPECT_EQ(got.size(), want.size()) << person;
    }
  }

  // level -> how many runs, and the postings of all runs.
  std::pair<std::map<int, int>, int64_t> Runs() const {
    std::map<int, int> levels;
    int64_t postings = 0;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT level, postings FROM runs", -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      ++levels[sqlite3_column_int(st, 0)];
      postings += sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "SELECT count(*) FROM postings", -1, &st, nullptr);
    EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int64(st, 0), postings) << "runs.postings counts their rows";
    sqlite3_finalize(st);
    sqlite3_close(db);
    return {levels, postings};
  }

  int64_t ExpectedPostings() const {
    int64_t n = 0;
    for (const auto& [person, blocks] : expected_) n += static_cast<int64_t>(blocks.size());
    return n;
  }

  std::string dir_, path_;
  int blocks_ = 1;
  std::map<std::string, std::set<std::string>> expected_;
};

TEST_F(AuditSqliteIndexTest, RunsMergeFanoutAtATimeAndEveryBlockIsFoundOnce) {
  auto index = OpenSqliteIndex(path_, false, {.fanout = 3, .max_merged_postings = 1 << 20});
  ASSERT_TRUE(index.ok());
  for (int round = 0; round < 5; ++round) {
    Write(**index, 13);
    ExpectEveryPersonsBlocks(**index);
    const auto [levels, postings] = Runs();
    EXPECT_EQ(postings, ExpectedPostings());
    for (const auto& [level, runs] : levels) {
      EXPECT_LT(runs, 3) << "level " << level << " holds fewer runs than the fanout";
    }
  }
  // 65 commits in base 3 is 2102: two runs of level 3, one of level 2, two of level 0.
  EXPECT_EQ(Runs().first, (std::map<int, int>{{0, 2}, {2, 1}, {3, 2}}));
  // A reader of another connection sees the same.
  auto reader = OpenSqliteIndex(path_, true);
  ASSERT_TRUE(reader.ok());
  ExpectEveryPersonsBlocks(**reader);
}

TEST_F(AuditSqliteIndexTest, RunsPastTheMergeLimitAreSealedAndStillRead) {
  // Each commit writes 4 or 5 postings (blocks 2n-1 and 2n): two runs pass 8 together.
  auto index = OpenSqliteIndex(path_, false, {.fanout = 2, .max_merged_postings = 8});
  ASSERT_TRUE(index.ok());
  Write(**index, 12);
  const auto [levels, postings] = Runs();
  EXPECT_EQ(postings, ExpectedPostings());
  EXPECT_GT(levels.count(1000), 0u) << "sealed runs";
  for (const auto& [level, runs] : levels) {
    if (level != 1000) {
      EXPECT_LT(runs, 2);
    }
  }
  ExpectEveryPersonsBlocks(**index);
}

// An index of migration 2 (one posting table) is read as it is by a read-only log, and migrated
// to one sealed run by the next writer; both answer the same.
TEST_F(AuditSqliteIndexTest, AnIndexFromBeforeRunsIsReadThenMigrated) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  const char* kSecondSchema = R"sql(
CREATE TABLE schema_version(version INTEGER NOT NULL);
INSERT INTO schema_version VALUES(2);
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES('cursor_segment', 1), ('cursor_offset', 10);
CREATE TABLE blocks(id INTEGER PRIMARY KEY, min_time_ms INTEGER NOT NULL,
  max_time_ms INTEGER NOT NULL, lines BLOB NOT NULL);
CREATE TABLE block_orgs(org TEXT NOT NULL, block INTEGER NOT NULL,
  PRIMARY KEY(org, block)) WITHOUT ROWID;
CREATE TABLE disclosed(person TEXT NOT NULL, block INTEGER NOT NULL,
  PRIMARY KEY(person, block)) WITHOUT ROWID;
INSERT INTO blocks VALUES (1, 1, 1, 'b1'), (2, 2, 2, 'b2'), (3, 3, 3, 'b3');
INSERT INTO disclosed VALUES ('p1', 1), ('p1', 3), ('p2', 2);
)sql";
  ASSERT_EQ(sqlite3_exec(db, kSecondSchema, nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
  expected_ = {{"p1", {"b1", "b3"}}, {"p2", {"b2"}}};
  auto reader = OpenSqliteIndex(path_, true);
  ASSERT_TRUE(reader.ok());
  ExpectEveryPersonsBlocks(**reader);
  auto writer = OpenSqliteIndex(path_, false);
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(Runs(), (std::pair<std::map<int, int>, int64_t>{{{1000, 1}}, 3}));
  ExpectEveryPersonsBlocks(**writer);
  blocks_ = 4;
  Write(**writer, 1);  // new postings go on as a run of their own
  ExpectEveryPersonsBlocks(**writer);
  ExpectEveryPersonsBlocks(**reader);
}

TEST_F(AuditSqliteIndexTest, AFanoutBelowTwoIsRefused) {
  EXPECT_FALSE(OpenSqliteIndex(path_, false, {.fanout = 1}).ok());
}

}  // namespace
}  // namespace norreg::store::audit
