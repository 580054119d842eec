// What only the PostgreSQL store has (the behaviour it shares with SQLite is tested on both in
// register_store_test.cpp and snapshot_test.cpp): several nodes opening one empty database at
// once, person ids, a dictionary installed by another node, scans longer than a cursor chunk, lost
// connections. Skipped when NORREG_TEST_PG is unset.
#include <gtest/gtest.h>
#include <unistd.h>

#include <barrier>
#include <chrono>
#include <set>
#include <thread>

#include "common/ids.hpp"
#include "store/postgres/pg.hpp"
#include "store/register_store.hpp"
#include "store_fixtures.hpp"

namespace norreg::store {
namespace {

using testing::MakePerson;
using testing::PostgresTest;

std::vector<std::string> DistinctFnrs(size_t count) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (int year = 1950; year < 1990 && out.size() < count; ++year) {
    for (int day = 1; day <= 28 && out.size() < count; ++day) {
      for (int individ = 0; individ < 500 && out.size() < count; individ += 3) {
        auto f = ids::MakeSyntheticFnr(year, 3, day, individ, ids::FnrKind::kFoedselsnummer);
        if (f && seen.insert(*f).second) out.push_back(*f);
      }
    }
  }
  return out;
}

int64_t Count(const std::string& conninfo, const char* sql) {
  auto c = pg::Connection::Open(conninfo);
  EXPECT_TRUE(c.ok());
  auto rows = c->Query(sql);
  EXPECT_TRUE(rows.ok()) << rows.error().detail;
  return rows.ok() && rows->rows() > 0 ? rows->Int64(0, 0) : -1;
}

class PostgresStoreTest : public PostgresTest {};

// Nodes starting at the same moment on an empty database: one migrates, the others wait for the
// advisory lock and find the schema current; all end up with the same document key.
TEST_F(PostgresStoreTest, ConcurrentOpensOfAnEmptyDatabaseMigrateOnce) {
  constexpr int kNodes = 4;
  std::vector<Result<std::unique_ptr<RegisterStore>>> opened;
  for (int i = 0; i < kNodes; ++i) opened.emplace_back(MakeError(ErrorCode::kInternal, "unset"));
  std::barrier start(kNodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      opened[static_cast<size_t>(i)] = test_register().Open();
    });
  }
  for (auto& t : threads) t.join();
  for (auto& store : opened) {
    ASSERT_TRUE(store.ok()) << store.error().message << " " << store.error().detail;
    EXPECT_EQ((*store)->DocumentKey(), (*opened[0])->DocumentKey());
  }
  EXPECT_EQ(Count(conninfo(), "SELECT count(*) FROM schema_version"), 1);
  EXPECT_EQ(Count(conninfo(), "SELECT version FROM schema_version"), 6);
  // Migration 6: an order counts its organisation's jobs by an index.
  EXPECT_EQ(Count(conninfo(),
                  "SELECT count(*) FROM pg_class WHERE relname = 'uttrekk_jobs_orgnr' AND "
                  "relnamespace = current_schema()::regnamespace"),
            1);
  // Migration 5: the search terms are in the person rows, under a GIN index. (Other tests'
  // registers live beside this one in the same database and are dropped while this runs: the
  // query reads the catalog tables of this schema only. A view such as pg_indexes would call
  // pg_get_indexdef on every index of the database, and fail on one being dropped.)
  EXPECT_EQ(Count(conninfo(),
                  "SELECT count(*) FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
                  "JOIN pg_am a ON a.oid = c.relam JOIN pg_attribute col ON col.attrelid = "
                  "i.indrelid AND col.attnum = i.indkey[0] WHERE c.relnamespace = "
                  "current_schema()::regnamespace AND c.relname = 'persons_search' AND "
                  "a.amname = 'gin' AND i.indnatts = 1 AND col.attname = 'search_terms'"),
            1);
  EXPECT_EQ(Count(conninfo(),
                  "SELECT count(*) FROM pg_class WHERE relname = 'search_terms' AND "
                  "relnamespace = current_schema()::regnamespace"),
            0);
  // Migration 3: extract batch bodies are stored uncompressed.
  EXPECT_EQ(Count(conninfo(),
                  "SELECT count(*) FROM pg_attribute WHERE attrelid = 'uttrekk_batches'::regclass "
                  "AND attname = 'body' AND attstorage = 'e'"),
            1);
  EXPECT_EQ(Count(conninfo(), "SELECT count(*) FROM register_sequence"), 1);
  EXPECT_EQ(Count(conninfo(), "SELECT count(*) FROM meta WHERE key = 'document_key'"), 1);
  // And they share one register.
  std::vector<PersonWrite> persons{MakePerson(DistinctFnrs(1)[0], {1})};
  ASSERT_TRUE((*opened[1])->BulkInsert(persons).ok());
  EXPECT_EQ((*opened[3])->LatestSeq(), 1u);
}

// person_id is given out as SQLite gives rowids: 1, 2, ... in the batch's order, and a refused
// batch gives none out (no sequence object whose numbers a rollback would lose).
TEST_F(PostgresStoreTest, PersonIdsFollowTheBatchOrderWithoutGaps) {
  auto store = test_register().Open();
  ASSERT_TRUE(store.ok()) << store.error().detail;
  const auto fnrs = DistinctFnrs(4);
  std::vector<PersonWrite> good{MakePerson(fnrs[0], {1, 3}), MakePerson(fnrs[1], {2})};
  ASSERT_TRUE((*store)->BulkInsert(good).ok());
  EXPECT_EQ((*store)->FindByFnr(fnrs[0])->person_id, 1);
  EXPECT_EQ((*store)->FindByFnr(fnrs[1])->person_id, 2);
  std::vector<PersonWrite> refused{MakePerson(fnrs[2], {4}), MakePerson(fnrs[0], {5})};
  EXPECT_EQ((*store)->BulkInsert(refused).error().code, ErrorCode::kConflict);
  std::vector<PersonWrite> next{MakePerson(fnrs[3], {4})};
  ASSERT_TRUE((*store)->BulkInsert(next).ok());
  EXPECT_EQ((*store)->FindByFnr(fnrs[3])->person_id, 3);
  std::vector<PersonWrite> empty;
  EXPECT_TRUE((*store)->BulkInsert(empty).ok());
  EXPECT_EQ(Count(conninfo(), "SELECT last_seq FROM register_sequence"), 4);
  EXPECT_EQ(Count(conninfo(), "SELECT last_person_id FROM register_sequence"), 3);
}

// The keys of versions and identifiers, as constraints of this register's schema.
int64_t KeyConstraints(const std::string& conninfo) {
  return Count(
      conninfo,
      "SELECT count(*) FROM pg_constraint WHERE connamespace = "
      "current_schema()::regnamespace AND conname IN ('versions_pkey', 'identifiers_pkey')");
}
int64_t VersionsByPersonIndexes(const std::string& conninfo) {
  return Count(conninfo,
               "SELECT count(*) FROM pg_class WHERE relname = 'versions_person' AND "
               "relnamespace = current_schema()::regnamespace");
}

// A bulk load into an empty register inserts without the B-tree keys of versions and identifiers
// and builds them at its end; afterwards they hold again.
TEST_F(PostgresStoreTest, ABulkLoadIntoAnEmptyRegisterBuildsItsKeysAtItsEnd) {
  auto store = test_register().Open();
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ(KeyConstraints(conninfo()), 2);
  const auto fnrs = DistinctFnrs(4);
  ASSERT_TRUE((*store)->BeginBulkLoad().ok());
  EXPECT_EQ(KeyConstraints(conninfo()), 0);
  EXPECT_EQ(VersionsByPersonIndexes(conninfo()), 0);
  std::vector<PersonWrite> first{MakePerson(fnrs[0], {1, 4}), MakePerson(fnrs[1], {2})};
  std::vector<PersonWrite> second{MakePerson(fnrs[2], {3, 5})};
  ASSERT_TRUE((*store)->BulkInsert(first).ok());
  ASSERT_TRUE((*store)->BulkInsert(second).ok());
  ASSERT_TRUE((*store)->EndBulkLoad().ok());
  EXPECT_EQ(KeyConstraints(conninfo()), 2);
  EXPECT_EQ(VersionsByPersonIndexes(conninfo()), 1);
  EXPECT_EQ(Count(conninfo(), "SELECT count(*) FROM meta WHERE key = 'bulk_load'"), 0);
  EXPECT_EQ((*store)->FindByFnr(fnrs[2])->person_id, 3);
  EXPECT_EQ((*store)->FindByVersion(4)->person_id, 1);
  std::vector<PersonWrite> taken{MakePerson(fnrs[3], {6}), MakePerson(fnrs[1], {7})};
  EXPECT_EQ((*store)->BulkInsert(taken).error().code, ErrorCode::kConflict);
  std::vector<PersonWrite> seq_taken{MakePerson(fnrs[3], {5})};
  EXPECT_EQ((*store)->BulkInsert(seq_taken).error().code, ErrorCode::kConflict);
  EXPECT_EQ((*store)->LatestSeq(), 5u);
}

// A duplicate that the load's batches let through is found when the keys are built: the load
// fails with kConflict, and the register does not open as if it were whole.
TEST_F(PostgresStoreTest, ABulkLoadWithADuplicateNumberFailsAtItsEnd) {
  auto store = test_register().Open();
  ASSERT_TRUE(store.ok()) << store.error().detail;
  const auto fnrs = DistinctFnrs(2);
  ASSERT_TRUE((*store)->BeginBulkLoad().ok());
  std::vector<PersonWrite> first{MakePerson(fnrs[0], {1})};
  std::vector<PersonWrite> again{MakePerson(fnrs[0], {2}), MakePerson(fnrs[1], {3})};
  ASSERT_TRUE((*store)->BulkInsert(first).ok());
  ASSERT_TRUE((*store)->BulkInsert(again).ok());
  auto ended = (*store)->EndBulkLoad();
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().code, ErrorCode::kConflict);
  EXPECT_EQ(ended.error().message, "nummeret finnes allerede i registeret");
  store->reset();
  auto reopened = test_register().Open();
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().code, ErrorCode::kConflict);
  EXPECT_EQ(reopened.error().message,
            "registeret ble ikke ferdig lastet inn (nummeret finnes allerede i registeret): "
            "generer det på nytt");
}

// The loader died between BeginBulkLoad and EndBulkLoad: the next open builds the keys (and the
// search index) before it serves.
TEST_F(PostgresStoreTest, AnInterruptedBulkLoadGetsItsKeysOnOpen) {
  const auto fnrs = DistinctFnrs(2);
  {
    auto store = test_register().Open();
    ASSERT_TRUE(store.ok()) << store.error().detail;
    ASSERT_TRUE((*store)->BeginBulkLoad().ok());
    std::vector<PersonWrite> persons{MakePerson(fnrs[0], {1}), MakePerson(fnrs[1], {2})};
    ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  }
  EXPECT_EQ(KeyConstraints(conninfo()), 0);
  auto store = test_register().Open();
  ASSERT_TRUE(store.ok()) << store.error().detail;
  EXPECT_EQ(KeyConstraints(conninfo()), 2);
  EXPECT_EQ(VersionsByPersonIndexes(conninfo()), 1);
  EXPECT_EQ(Count(conninfo(), "SELECT count(*) FROM meta WHERE key = 'bulk_load'"), 0);
  std::vector<PersonWrite> taken{MakePerson(fnrs[1], {3})};
  EXPECT_EQ((*store)->BulkInsert(taken).error().code, ErrorCode::kConflict);
}

// A bulk load into a register that holds persons keeps the keys: its batches are checked as
// they come, as outside a load.
TEST_F(PostgresStoreTest, ABulkLoadIntoARegisterWithPersonsKeepsItsKeys) {
  auto store = test_register().Open();
  ASSERT_TRUE(store.ok()) << store.error().detail;
  const auto fnrs = DistinctFnrs(2);
  std::vector<PersonWrite> first{MakePerson(fnrs[0], {1})};
  ASSERT_TRUE((*store)->BulkInsert(first).ok());
  ASSERT_TRUE((*store)->BeginBulkLoad().ok());
  EXPECT_EQ(KeyConstraints(conninfo()), 2);
  std::vector<PersonWrite> again{MakePerson(fnrs[0], {2})};
  EXPECT_EQ((*store)->BulkInsert(again).error().code, ErrorCode::kConflict);
  std::vector<PersonWrite> next{MakePerson(fnrs[1], {2})};
  ASSERT_TRUE((*store)->BulkInsert(next).ok());
  ASSERT_TRUE((*store)->EndBulkLoad().ok());
  EXPECT_EQ(KeyConstraints(conninfo()), 2);
}

// Node B opened the register before node A installed the dictionary and wrote records with it:
// B loads the dictionary when it first meets such a record, and cannot install a second one.
TEST_F(PostgresStoreTest, ADictionaryInstalledByAnotherNodeIsUsed) {
  auto a = test_register().Open();
  auto b = test_register().Open();
  ASSERT_TRUE(a.ok() && b.ok());
  const auto fnrs = DistinctFnrs(600);
  ASSERT_EQ(fnrs.size(), 600u);
  std::vector<PersonWrite> persons;
  std::vector<std::string> samples;
  for (size_t i = 0; i < fnrs.size(); ++i) {
    persons.push_back(MakePerson(fnrs[i], {i + 1}));
    samples.push_back(persons.back().record.rows[0].json + fnrs[i]);
  }
  ASSERT_TRUE((*a)->InstallDictionary(samples).ok());
  ASSERT_TRUE((*a)->BulkInsert(persons).ok());
  auto found = (*b)->FindByFnr(fnrs[300]);
  ASSERT_TRUE(found.ok()) << found.error().detail;
  EXPECT_EQ(found->record.rows[0].json, persons[300].record.rows[0].json);
  EXPECT_EQ((*b)->InstallDictionary(samples).error().code, ErrorCode::kConflict);
  EXPECT_EQ(Count(conninfo(), "SELECT count(*) FROM meta WHERE key = 'dictionary'"), 1);
}

// A scan of more persons than one FETCH returns sees each once, in order, with its record.
TEST_F(PostgresStoreTest, ScansLongerThanACursorChunk) {
  auto store = test_register().Open();
  ASSERT_TRUE(store.ok());
  const auto fnrs = DistinctFnrs(1300);
  ASSERT_EQ(fnrs.size(), 1300u);
  std::vector<PersonWrite> persons;
  for (size_t i = 0; i < fnrs.size(); ++i) persons.push_back(MakePerson(fnrs[i], {i + 1}));
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  for (auto records : {SnapshotRecords::kSkip, SnapshotRecords::kInclude}) {
    int64_t previous = 0;
    size_t visited = 0;
    Status s = (*store)->SnapshotScan(1250, records, [&](const SnapshotEntry& e) -> Status {
      EXPECT_GT(e.person_id, previous);
      previous = e.person_id;
      EXPECT_EQ(e.fnr, fnrs[static_cast<size_t>(e.person_id - 1)]);
      EXPECT_EQ(e.record.empty(), records == SnapshotRecords::kSkip);
      ++visited;
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << s.error().detail;
    EXPECT_EQ(visited, 1250u);
  }
}

TEST_F(PostgresStoreTest, OpenFailuresAreErrorValues) {
  auto empty = OpenPostgresStore({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidInput);
  auto unreachable = OpenPostgresStore({.conninfo = "host=/nonexistent-norreg port=1"});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.error().code, ErrorCode::kInternal);
  EXPECT_EQ(unreachable.error().message.find("nonexistent"), std::string::npos);
  EXPECT_NE(unreachable.error().detail.find("nonexistent"), std::string::npos);
}

// A connection the server drops costs the one call that meets it, not the store: the pool and the
// writer open new ones.
TEST_F(PostgresStoreTest, CallsGoOnAfterTheServerDropsTheConnections) {
  const std::string name = "norreg_drop_" + std::to_string(getpid());
  auto store = OpenPostgresStore(
      {.conninfo = testing::WithParameter(conninfo(), "application_name", name), .pool_size = 1});
  ASSERT_TRUE(store.ok()) << store.error().detail;
  const auto fnrs = DistinctFnrs(2);
  std::vector<PersonWrite> persons{MakePerson(fnrs[0], {1})};
  ASSERT_TRUE((*store)->BulkInsert(persons).ok());
  EXPECT_EQ((*store)->LatestSeq(), 1u);
  auto admin = pg::Connection::Open(conninfo());
  ASSERT_TRUE(admin.ok());
  const std::string sessions = "FROM pg_stat_activity WHERE application_name = '" + name + "'";
  ASSERT_TRUE(admin->Exec("SELECT pg_terminate_backend(pid) " + sessions).ok());
  for (int i = 0; i < 500; ++i) {  // until the server has ended them (at most 5 s)
    auto left = admin->Query(("SELECT count(*) " + sessions).c_str());
    ASSERT_TRUE(left.ok());
    if (left->Int64(0, 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  (void)(*store)->LatestSeq();  // meets the dropped reader (and fails), or already a new one
  EXPECT_EQ((*store)->LatestSeq(), 1u);
  EXPECT_TRUE((*store)->FindByVersion(1).ok());
  std::vector<PersonWrite> more{MakePerson(fnrs[1], {2})};
  Status first = (*store)->BulkInsert(more);  // meets the dropped writer
  EXPECT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kInternal);
  Status again = (*store)->BulkInsert(more);
  EXPECT_TRUE(again.ok()) << again.error().detail;
  EXPECT_EQ((*store)->LatestSeq(), 2u);
}

}  // namespace
}  // namespace norreg::store
