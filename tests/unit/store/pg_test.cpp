// The libpq wrapper (store/postgres/pg.hpp): parameters and results in binary, errors as values
// with SQL only in the detail, prepared statements, transactions and their retries, the pool,
// COPY and migrations. Skipped when NORREG_TEST_PG is unset.
#include "store/postgres/pg.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <thread>

#include "store_fixtures.hpp"

namespace norreg::store::pg {
namespace {

using testing::PostgresTest;

class PgTest : public PostgresTest {
 protected:
  Connection Connect() {
    auto c = Connection::Open(conninfo());
    EXPECT_TRUE(c.ok()) << c.error().detail;
    return c.ok() ? std::move(c).value() : Connection();
  }
};

TEST(PgOffline, RetryableStates) {
  EXPECT_TRUE(IsRetryable("40001"));
  EXPECT_TRUE(IsRetryable("40P01"));
  EXPECT_FALSE(IsRetryable("23505"));
  EXPECT_FALSE(IsRetryable(""));
}

TEST(PgOffline, ConnectFailureIsAnErrorValueWithoutTheConnectionString) {
  auto c = Connection::Open("host=/nonexistent-norreg port=1 password=secret");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kInternal);
  EXPECT_EQ(c.error().message, "Feil i tjenesten. Vennligst prøv igjen senere.");
  EXPECT_NE(c.error().detail.find("nonexistent-norreg"), std::string::npos);
  EXPECT_EQ(c.error().detail.find("secret"), std::string::npos);
}

TEST(PgOffline, TooManyParametersIsAProgrammingError) {
  Params params;
  for (int i = 0; i < Params::kMax; ++i) params.Int64(i);
  EXPECT_THROW(params.Int64(0), std::length_error);
}

TEST_F(PgTest, ParametersAndResultsRoundTripInBinary) {
  Connection c = Connect();
  const std::string bytes("a\0b\xff", 4);
  auto rows = c.Query("SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9",
                      Params()
                          .Int64(std::numeric_limits<int64_t>::min())
                          .Int64(std::numeric_limits<int64_t>::max())
                          .Int32(-7)
                          .Int16(-2)
                          .Bool(true)
                          .Bytes(bytes)
                          .Text("blåbærsyltetøy")
                          .Null(Type::kInt8)
                          .Bytes(""));
  ASSERT_TRUE(rows.ok()) << rows.error().detail;
  ASSERT_EQ(rows->rows(), 1);
  EXPECT_EQ(rows->Int64(0, 0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(rows->Int64(0, 1), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(rows->Int64(0, 2), -7);
  EXPECT_EQ(rows->Int64(0, 3), -2);
  EXPECT_TRUE(rows->Bool(0, 4));
  EXPECT_EQ(rows->Bytes(0, 5), bytes);
  EXPECT_EQ(rows->Text(0, 6), "blåbærsyltetøy");
  EXPECT_TRUE(rows->IsNull(0, 7));
  EXPECT_FALSE(rows->IsNull(0, 8));
  EXPECT_EQ(rows->Bytes(0, 8), "");
  const std::vector<int64_t> values{5, -1, std::numeric_limits<int64_t>::max()};
  const std::string array = EncodeInt64Array(values);
  auto unnested = c.Query("SELECT s FROM unnest($1) WITH ORDINALITY AS u(s, i) ORDER BY i",
                          Params().Int64Array(array));
  ASSERT_TRUE(unnested.ok()) << unnested.error().detail;
  ASSERT_EQ(unnested->rows(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(unnested->Int64(i, 0), values[static_cast<size_t>(i)]);
  // integer[]: the server reads back what was sent, the empty array included.
  const std::vector<int32_t> small{7, -1, std::numeric_limits<int32_t>::min()};
  const std::string int4 = EncodeInt32Array(small);
  const std::string empty = EncodeInt32Array({});
  auto arrays = c.Query("SELECT $1::integer[]::text, cardinality($2::integer[])",
                        Params().Int32Array(int4).Int32Array(empty));
  ASSERT_TRUE(arrays.ok()) << arrays.error().detail;
  EXPECT_EQ(arrays->Text(0, 0), "{7,-1,-2147483648}");
  EXPECT_EQ(arrays->Int64(0, 1), 0);
  // Text-format results (simple queries) read as integers too.
  auto text = c.Query("SELECT '42'::text::bigint");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->Int64(0, 0), 42);
}

TEST_F(PgTest, FailuresKeepSqlAndStateOutOfTheClientMessage) {
  Connection c = Connect();
  auto bad = c.Query("SELEC broken");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInternal);
  EXPECT_EQ(bad.error().message.find("SELEC"), std::string::npos);
  EXPECT_NE(bad.error().detail.find("SELEC broken"), std::string::npos);
  EXPECT_NE(bad.error().detail.find("42601"), std::string::npos);
  EXPECT_EQ(c.last_error().sqlstate, "42601");
  ASSERT_TRUE(c.Exec("CREATE TABLE t(k int PRIMARY KEY)").ok());
  ASSERT_TRUE(c.Exec("INSERT INTO t VALUES (1)").ok());
  EXPECT_FALSE(c.Exec("INSERT INTO t VALUES (1)").ok());
  EXPECT_EQ(c.last_error().sqlstate, kUniqueViolation);
  EXPECT_EQ(c.last_error().constraint, "t_pkey");
}

TEST_F(PgTest, PreparedStatementsSurviveARolledBackTransaction) {
  Connection c = Connect();
  ASSERT_TRUE(c.Exec("CREATE TABLE t(k bigint PRIMARY KEY, v bytea)").ok());
  static constexpr Statement kInsert{"insert_t", "INSERT INTO t VALUES ($1, $2)"};
  static constexpr Statement kGet{"get_t", "SELECT v FROM t WHERE k = $1"};
  {
    Transaction tx(c);
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(c.Execute(kInsert, Params().Int64(1).Bytes("one")).ok());
  }  // rolled back
  EXPECT_EQ(c.transaction_status(), PQTRANS_IDLE);
  auto none = c.Execute(kGet, Params().Int64(1));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->rows(), 0);
  ASSERT_TRUE(c.Execute(kInsert, Params().Int64(1).Bytes("one")).ok());
  auto inserted = c.Execute(kInsert, Params().Int64(2).Bytes("two"));
  ASSERT_TRUE(inserted.ok());
  EXPECT_EQ(inserted->affected(), 1);
  auto one = c.Execute(kGet, Params().Int64(1));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->Bytes(0, 0), "one");
}

TEST_F(PgTest, CommitOfAFailedTransactionIsAnError) {
  Connection c = Connect();
  Transaction tx(c);
  ASSERT_TRUE(tx.Begin().ok());
  EXPECT_FALSE(c.Exec("SELECT 1/0").ok());
  Status committed = tx.Commit();
  EXPECT_FALSE(committed.ok());
}

// A transaction that loses a write-write race in REPEATABLE READ fails with 40001 and is run again
// (the second attempt sees the other's write); a non-retryable failure is returned at once.
TEST_F(PgTest, TransactionsAreRunAgainAfterASerializationFailure) {
  Connection c = Connect();
  Connection other = Connect();
  ASSERT_TRUE(c.Exec("CREATE TABLE counter(v bigint); INSERT INTO counter VALUES (0)").ok());
  int attempts = 0;
  Status s = RunInTransaction(c, {.isolation = Isolation::kRepeatableRead}, [&]() -> Status {
    ++attempts;
    auto read = c.Query("SELECT v FROM counter");  // takes the snapshot
    if (!read.ok()) return read.error();
    if (attempts == 1) {
      if (Status o = other.Exec("UPDATE counter SET v = v + 100"); !o.ok()) return o;
    }
    auto write = c.Query("UPDATE counter SET v = v + 1");
    return write.ok() ? Status::Ok() : Status(write.error());
  });
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ(attempts, 2);
  auto value = c.Query("SELECT v FROM counter");
  EXPECT_EQ(value->Int64(0, 0), 101);

  // Always losing: gives up after max_attempts with the failure.
  attempts = 0;
  s = RunInTransaction(c, {.isolation = Isolation::kRepeatableRead, .max_attempts = 3},
                       [&]() -> Status {
                         ++attempts;
                         (void)c.Query("SELECT v FROM counter");
                         (void)other.Exec("UPDATE counter SET v = v + 100");
                         auto write = c.Query("UPDATE counter SET v = v + 1");
                         return write.ok() ? Status::Ok() : Status(write.error());
                       });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(c.transaction_status(), PQTRANS_IDLE);

  attempts = 0;
  s = RunInTransaction(c, {}, [&]() -> Status {
    ++attempts;
    return c.Exec("SELECT 1/0");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(attempts, 1);
  attempts = 0;
  s = RunInTransaction(c, {}, [&]() -> Status {
    ++attempts;
    return MakeError(ErrorCode::kConflict, "not the database's");
  });
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_EQ(attempts, 1);
}

// Two transactions that lock two rows in opposite orders: the server kills one with 40P01, which
// is run again and succeeds.
TEST_F(PgTest, TransactionsAreRunAgainAfterADeadlock) {
  Connection setup = Connect();
  ASSERT_TRUE(
      setup.Exec("CREATE TABLE pair(k int PRIMARY KEY, v int); INSERT INTO pair VALUES (1,0),(2,0)")
          .ok());
  std::atomic<int> locked_first{0};
  struct Side {
    Status status;
    int attempts = 0;
    std::string sqlstates;  // of each failed statement
  };
  auto run = [&](int first, int second, Side& side) {
    Connection c = Connect();
    ASSERT_TRUE(c.Exec("SET deadlock_timeout = '50ms'").ok());  // found sooner than after 1 s
    auto update = [&](int k) {
      Status s = c.Exec("UPDATE pair SET v = v + 1 WHERE k = " + std::to_string(k));
      if (!s.ok()) side.sqlstates += c.last_error().sqlstate + " ";
      return s;
    };
    side.status = RunInTransaction(c, {}, [&]() -> Status {
      ++side.attempts;
      if (Status s = update(first); !s.ok()) return s;
      if (side.attempts == 1) {  // both hold their first row before either asks for its second
        ++locked_first;
        for (int i = 0; i < 6000 && locked_first < 2; ++i) {  // up to 60 s on a loaded machine
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
      return update(second);
    });
  };
  Side a, b;
  std::thread ta([&] { run(1, 2, a); });
  std::thread tb([&] { run(2, 1, b); });
  ta.join();
  tb.join();
  const std::string story = "a: " + std::to_string(a.attempts) + " attempts (" + a.sqlstates +
                            ") " + a.status.error().detail + "; b: " + std::to_string(b.attempts) +
                            " attempts (" + b.sqlstates + ") " + b.status.error().detail;
  EXPECT_TRUE(a.status.ok()) << story;
  EXPECT_TRUE(b.status.ok()) << story;
  EXPECT_EQ(a.attempts + b.attempts, 3) << story;  // one of them ran twice
  auto sum = setup.Query("SELECT sum(v)::bigint FROM pair");
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->Int64(0, 0), 4) << story;
}

TEST_F(PgTest, PoolLimitsWaitsAndReplacesLostConnections) {
  ConnectionPool pool(conninfo(), 2, std::chrono::milliseconds(200));
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(pool.open_connections(), 2u);
  auto c = pool.Acquire();  // none free within 200 ms
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kInternal);

  // One that comes back is handed to a waiting caller.
  std::thread giver([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto done = std::move(b).value();
  });
  auto d = pool.Acquire();
  giver.join();
  ASSERT_TRUE(d.ok()) << d.error().detail;
  EXPECT_EQ(pool.open_connections(), 2u);

  // Returned inside a transaction: rolled back, kept.
  ASSERT_TRUE((**d).Exec("BEGIN; CREATE TABLE left_open(k int)").ok());
  { auto done = std::move(d).value(); }
  auto e = pool.Acquire();
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((**e).transaction_status(), PQTRANS_IDLE);
  EXPECT_FALSE((**e).Exec("SELECT * FROM left_open").ok());

  // Lost: closed when it comes back, replaced on the next Acquire.
  auto pid = (**e).Query("SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.ok());
  Connection admin = Connect();
  ASSERT_TRUE(admin
                  .Query("SELECT pg_terminate_backend($1)",
                         Params().Int32(static_cast<int32_t>(pid->Int64(0, 0))))
                  .ok());
  for (int i = 0; i < 500 && (**e).healthy(); ++i) {
    (void)(**e).Exec("SELECT 1");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE((**e).healthy());
  { auto done = std::move(e).value(); }
  EXPECT_EQ(pool.open_connections(), 1u);
  auto f = pool.Acquire();
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE((**f).Exec("SELECT 1").ok());
}

TEST_F(PgTest, CopyLoadsBinaryAndTextRows) {
  Connection c = Connect();
  ASSERT_TRUE(
      c.Exec("CREATE TABLE rows(k bigint PRIMARY KEY, s smallint, v bytea, n bigint)").ok());
  {
    auto copy = CopyIn::Start(c, "COPY rows FROM STDIN (FORMAT binary)", CopyFormat::kBinary);
    ASSERT_TRUE(copy.ok()) << copy.error().detail;
    const std::string big(3 << 20, 'x');  // more than one piece sent
    for (int64_t k = 1; k <= 1000; ++k) {
      copy->BeginRow(4);
      copy->Int64(k);
      copy->Int16(static_cast<int16_t>(-k));
      copy->Bytes(k == 7 ? big : std::string("\0v", 2) + std::to_string(k));
      if (k % 2 == 0) {
        copy->Int64(k * 1'000'000'000'000);
      } else {
        copy->Null();
      }
    }
    auto done = copy->Finish();
    ASSERT_TRUE(done.ok()) << done.error().detail;
    EXPECT_EQ(*done, 1000);
  }
  {
    auto copy = CopyIn::Start(c, "COPY rows(k, s, v) FROM STDIN", CopyFormat::kText);
    ASSERT_TRUE(copy.ok()) << copy.error().detail;
    copy->Text("1001\t5\t\\\\x6869\n1002\t6\t\\N\n");
    auto done = copy->Finish();
    ASSERT_TRUE(done.ok()) << done.error().detail;
    EXPECT_EQ(*done, 2);
  }
  auto rows = c.Query(
      "SELECT count(*), sum(s)::bigint, sum(n)::bigint, length((SELECT v FROM rows WHERE k = 7)), "
      "(SELECT v FROM rows WHERE k = 10), (SELECT v FROM rows WHERE k = 1001) FROM rows");
  ASSERT_TRUE(rows.ok()) << rows.error().detail;
  EXPECT_EQ(rows->Int64(0, 0), 1002);
  EXPECT_EQ(rows->Int64(0, 1), -500500 + 11);
  EXPECT_EQ(rows->Int64(0, 2), 250500 * 1'000'000'000'000);
  EXPECT_EQ(rows->Int64(0, 3), 3 << 20);
  EXPECT_EQ(rows->Bytes(0, 4), std::string("\0v10", 4));
  EXPECT_EQ(rows->Bytes(0, 5), "hi");
}

TEST_F(PgTest, CopyConflictsAndAbandonedCopiesLeaveTheTableAsItWas) {
  Connection c = Connect();
  ASSERT_TRUE(c.Exec("CREATE TABLE keys(k bigint PRIMARY KEY); INSERT INTO keys VALUES (5)").ok());
  {
    Transaction tx(c);
    ASSERT_TRUE(tx.Begin().ok());
    auto copy = CopyIn::Start(c, "COPY keys FROM STDIN (FORMAT binary)", CopyFormat::kBinary);
    ASSERT_TRUE(copy.ok());
    for (int64_t k : {1, 2, 5, 6}) {
      copy->BeginRow(1);
      copy->Int64(k);
    }
    auto done = copy->Finish();
    ASSERT_FALSE(done.ok());
    EXPECT_EQ(done.error().code, ErrorCode::kInternal);
    EXPECT_EQ(c.last_error().sqlstate, kUniqueViolation);
    EXPECT_EQ(c.last_error().constraint, "keys_pkey");
  }
  {
    Transaction tx(c);
    ASSERT_TRUE(tx.Begin().ok());
    auto copy = CopyIn::Start(c, "COPY keys FROM STDIN (FORMAT binary)", CopyFormat::kBinary);
    ASSERT_TRUE(copy.ok());
    copy->BeginRow(1);
    copy->Int64(9);
  }  // abandoned, then rolled back
  EXPECT_EQ(c.transaction_status(), PQTRANS_IDLE);
  auto rows = c.Query("SELECT count(*), max(k) FROM keys");
  ASSERT_TRUE(rows.ok()) << rows.error().detail;
  EXPECT_EQ(rows->Int64(0, 0), 1);
  EXPECT_EQ(rows->Int64(0, 1), 5);
  auto bad = CopyIn::Start(c, "COPY nowhere FROM STDIN", CopyFormat::kText);
  EXPECT_FALSE(bad.ok());
}

TEST_F(PgTest, MigrationsRunOnceAllOrNothingAndRefuseNewerSchemas) {
  Connection c = Connect();
  const char* const steps[] = {"CREATE TABLE a(k int)", "CREATE TABLE b(k int)"};
  const char* const broken[] = {"CREATE TABLE a(k int)", "CREATE TABLE b(k int)",
                                "CREATE TABLE c(k int); SELECT 1/0"};
  ASSERT_TRUE(RunMigrations(c, std::span(steps, 1), "testen", 7).ok());
  ASSERT_TRUE(RunMigrations(c, steps, "testen", 7).ok());
  ASSERT_TRUE(RunMigrations(c, steps, "testen", 7).ok());  // nothing to do
  Status failed = RunMigrations(c, broken, "testen", 7);
  EXPECT_FALSE(failed.ok());
  auto version = c.Query("SELECT version FROM schema_version");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->Int64(0, 0), 2);
  EXPECT_FALSE(c.Exec("SELECT * FROM c").ok());
  Status older = RunMigrations(c, std::span(steps, 1), "testen", 7);
  ASSERT_FALSE(older.ok());
  EXPECT_NE(older.error().message.find("testen er laget av en nyere norreg"), std::string::npos);
}

}  // namespace
}  // namespace norreg::store::pg
