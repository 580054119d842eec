#pragma once
// Test fixtures shared by the store tests: a temporary folder, a person built from versions, and
// a fresh register on either store so that the same tests run against SQLite and PostgreSQL.
//
// The PostgreSQL cases need a server: NORREG_TEST_PG holds its connection string (scripts/test.sh
// starts a throwaway cluster with scripts/pg-cluster.sh and sets it). Without it they are skipped.
// Each PostgreSQL register is a schema of its own in that database (the connection's
// search_path), dropped at the end of the test.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "store/postgres/pg.hpp"
#include "store/register_store.hpp"

namespace norreg::store::testing {

// A temporary folder removed at destruction.
class TempFolder {
 public:
  TempFolder() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "norreg-store-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempFolder() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A person with versions at `seqs` (ascending): created at the first, renamed at each next one;
// one navn row per version, current until the next.
inline PersonWrite MakePerson(const std::string& fnr, const std::vector<uint64_t>& seqs) {
  PersonWrite p;
  p.record.fnr = fnr;
  for (size_t i = 0; i < seqs.size(); ++i) {
    p.versions.push_back(
        {seqs[i],
         i == 0 ? freg::Hendelsetype::kPersonErOpprettet : freg::Hendelsetype::kEndringINavn,
         1'600'000'000'000 + static_cast<int64_t>(seqs[i])});
    freg::Row row;
    row.property = freg::Property::kNavn;
    row.from_seq = seqs[i];
    row.current_until = i + 1 < seqs.size() ? seqs[i + 1] : freg::kOpen;
    row.json = R"({"fornavn":"N)" + std::to_string(seqs[i]) + R"(","etternavn":"E"})";
    p.record.rows.insert(p.record.rows.begin(), row);
  }
  return p;
}

enum class Backend { kSqlite, kPostgres };

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "sqlite" : "postgres";
}
// gtest prints the parameter (and ctest names the test) with this instead of the bytes.
inline void PrintTo(Backend backend, std::ostream* out) {
  *out << (backend == Backend::kSqlite ? "sqlite" : "postgres");
}

// NORREG_TEST_PG, or "" when unset.
inline std::string TestPostgresConninfo() {
  const char* value = std::getenv("NORREG_TEST_PG");
  return value != nullptr ? value : "";
}

inline bool IsUri(const std::string& conninfo) {
  return conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
}

// `conninfo` (key=value pairs or a postgresql:// URI) with one more parameter (`value` must need
// no quoting, and be URI-escaped for a URI).
inline std::string WithParameter(const std::string& conninfo, const std::string& key,
                                 const std::string& value) {
  if (IsUri(conninfo)) {
    return conninfo + (conninfo.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
  }
  return conninfo + " " + key + "=" + value;
}

// `conninfo` with its search_path set to `schema` (a plain lower-case identifier).
inline std::string WithSearchPath(const std::string& conninfo, const std::string& schema) {
  return WithParameter(conninfo, "options",
                       (IsUri(conninfo) ? "-csearch_path%3D" : "-csearch_path=") + schema);
}

// A fresh, empty register for one test: a temporary folder (SQLite) or a new schema in the test
// server's database (PostgreSQL). Removed at destruction.
class TestRegister {
 public:
  explicit TestRegister(Backend backend) : backend_(backend) {
    if (backend_ == Backend::kSqlite) return;
    const std::string server = TestPostgresConninfo();
    if (server.empty()) {
      unavailable_ =
          "PostgreSQL test skipped: NORREG_TEST_PG is not set (scripts/test.sh starts a "
          "throwaway cluster with scripts/pg-cluster.sh and sets it)";
      return;
    }
    static std::atomic<int> counter{0};
    std::random_device random;
    schema_ = "norreg_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
              std::to_string(random() % 1000000);
    auto admin = pg::Connection::Open(server);
    if (!admin.ok()) {
      unavailable_ = "cannot connect to NORREG_TEST_PG: " + admin.error().detail;
      ADD_FAILURE() << unavailable_;  // set but unreachable: a failure, not a skip
      return;
    }
    Status created = admin->Exec("CREATE SCHEMA " + schema_);
    EXPECT_TRUE(created.ok()) << created.error().detail;
    conninfo_ = WithSearchPath(server, schema_);
  }
  ~TestRegister() {
    if (schema_.empty() || !unavailable_.empty()) return;
    if (auto admin = pg::Connection::Open(TestPostgresConninfo()); admin.ok()) {
      (void)admin->Exec("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }
  }
  TestRegister(const TestRegister&) = delete;
  TestRegister& operator=(const TestRegister&) = delete;

  Backend backend() const { return backend_; }
  // Empty when the register can be used, else why not.
  const std::string& unavailable() const { return unavailable_; }
  // The register's connection string (PostgreSQL) or folder (SQLite).
  const std::string& conninfo() const { return conninfo_; }
  const std::string& folder() const { return folder_.path(); }

  // Opens (again) a store on this register; each call gives a separate store with its own
  // connections, as separate processes would have.
  Result<std::unique_ptr<RegisterStore>> Open() const {
    if (backend_ == Backend::kSqlite) return OpenSqliteStore({.data_dir = folder_.path()});
    return OpenPostgresStore({.conninfo = conninfo_});
  }

  // Runs SQL directly on the register's database (tests that tamper with it).
  void ExecSql(const std::string& sql) const {
    if (backend_ == Backend::kSqlite) {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open((folder_.path() + "/register.db").c_str(), &db), SQLITE_OK);
      char* message = nullptr;
      EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
          << (message != nullptr ? message : "");
      sqlite3_free(message);
      sqlite3_close(db);
      return;
    }
    auto c = pg::Connection::Open(conninfo_);
    ASSERT_TRUE(c.ok()) << c.error().detail;
    Status s = c->Exec(sql);
    EXPECT_TRUE(s.ok()) << s.error().detail;
  }

 private:
  Backend backend_;
  TempFolder folder_;  // SQLite's data folder (unused by PostgreSQL)
  std::string schema_;
  std::string conninfo_;
  std::string unavailable_;
};

// Base of the tests that run against both stores: a fresh register per test; the PostgreSQL case
// is skipped when NORREG_TEST_PG is unset. Instantiate with NORREG_STORE_TEST_SUITE(Fixture).
class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    register_ = std::make_unique<TestRegister>(GetParam());
    if (!register_->unavailable().empty()) GTEST_SKIP() << register_->unavailable();
  }
  Result<std::unique_ptr<RegisterStore>> Open() const { return register_->Open(); }
  const TestRegister& test_register() const { return *register_; }

 private:
  std::unique_ptr<TestRegister> register_;
};

// Base of PostgreSQL-only tests: skipped when NORREG_TEST_PG is unset.
class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    register_ = std::make_unique<TestRegister>(Backend::kPostgres);
    if (!register_->unavailable().empty()) GTEST_SKIP() << register_->unavailable();
  }
  const TestRegister& test_register() const { return *register_; }
  const std::string& conninfo() const { return register_->conninfo(); }

 private:
  std::unique_ptr<TestRegister> register_;
};

// A store that passes every call to a real one: tests derive from it and override the calls
// they want to watch, slow down or fail.
class ForwardingStore : public RegisterStore {
 public:
  explicit ForwardingStore(std::unique_ptr<RegisterStore> inner) : inner_(std::move(inner)) {}

  Result<StoredPerson> FindByFnr(std::string_view fnr) override { return inner_->FindByFnr(fnr); }
  Result<StoredPerson> FindByVersion(uint64_t seq) override { return inner_->FindByVersion(seq); }
  Result<RawPerson> FindRawByFnr(std::string_view fnr, std::string& buffer) override {
    return inner_->FindRawByFnr(fnr, buffer);
  }
  Result<RawPerson> FindRawByVersion(uint64_t seq, std::string& buffer) override {
    return inner_->FindRawByVersion(seq, buffer);
  }
  Status InReadSnapshot(const std::function<Status()>& fn) override {
    return inner_->InReadSnapshot(fn);
  }
  Status FindRawByFnrs(std::span<const std::string> fnrs, std::string& buffer,
                       const RawVisitor& each) override {
    return inner_->FindRawByFnrs(fnrs, buffer, each);
  }
  Status FindRawByVersions(std::span<const uint64_t> seqs, std::string& buffer,
                           const RawVisitor& each) override {
    return inner_->FindRawByVersions(seqs, buffer, each);
  }
  uint64_t LatestSeq() override { return inner_->LatestSeq(); }
  Result<std::vector<EventRow>> Events(uint64_t from_seq, size_t limit) override {
    return inner_->Events(from_seq, limit);
  }
  Result<RegisterStats> Stats() override { return inner_->Stats(); }
  Result<uint64_t> BytesOnDisk() override { return inner_->BytesOnDisk(); }
  Status SnapshotScan(uint64_t seq, SnapshotRecords records,
                      const std::function<Status(const SnapshotEntry&)>& each) override {
    return inner_->SnapshotScan(seq, records, each);
  }
  Status SearchPosting(uint32_t term, size_t limit, std::vector<int64_t>& out) override {
    return inner_->SearchPosting(term, limit, out);
  }
  Result<bool> FindRawBySearchTerms(std::span<const std::vector<uint32_t>> groups,
                                    std::string& buffer,
                                    const std::function<Status(const RawPerson&)>& each) override {
    return inner_->FindRawBySearchTerms(groups, buffer, each);
  }
  Status BulkInsert(std::span<const PersonWrite> persons, const EncodedPersons* encoded) override {
    return inner_->BulkInsert(persons, encoded);
  }
  EncodedPersons EncodeForBulkInsert(std::span<const PersonWrite> persons) override {
    return inner_->EncodeForBulkInsert(persons);
  }
  Status BeginBulkLoad() override { return inner_->BeginBulkLoad(); }
  Status EndBulkLoad() override { return inner_->EndBulkLoad(); }
  Result<uint64_t> ApplyChanges(std::span<const std::string> fnrs,
                                const ChangeFn& change) override {
    return inner_->ApplyChanges(fnrs, change);
  }
  std::array<uint8_t, 16> DocumentKey() override { return inner_->DocumentKey(); }
  Status InstallDictionary(const std::vector<std::string>& samples) override {
    return inner_->InstallDictionary(samples);
  }

 private:
  std::unique_ptr<RegisterStore> inner_;
};

}  // namespace norreg::store::testing

#define NORREG_STORE_TEST_SUITE(fixture)                                                    \
  INSTANTIATE_TEST_SUITE_P(Stores, fixture,                                                 \
                           ::testing::Values(::norreg::store::testing::Backend::kSqlite,    \
                                             ::norreg::store::testing::Backend::kPostgres), \
                           ::norreg::store::testing::BackendName)
