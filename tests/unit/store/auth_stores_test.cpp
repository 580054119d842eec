// The authorisation server's state stores (auth/stores.hpp) on both backings: files and memory
// (one node, the default) and PostgreSQL (store/postgres/auth_stores.hpp, several nodes; skipped
// when NORREG_TEST_PG is unset). Each "node" is a store opened on its own, as another process
// would open it; the local backing's nodes share the folder (keys) and the one in-memory store.
#include "store/postgres/auth_stores.hpp"

#include <gtest/gtest.h>

#include <barrier>
#include <boost/json.hpp>
#include <set>
#include <thread>

#include "auth/authorization_server.hpp"
#include "auth/jwt.hpp"
#include "auth/rate_limiter.hpp"
#include "auth/stores.hpp"
#include "store/postgres/pg.hpp"
#include "store_fixtures.hpp"

namespace norreg::store {
namespace {

using testing::Backend;
using testing::TestRegister;
using Outcome = auth::ReplayStore::Outcome;

constexpr int64_t kNow = 1'700'000'000;

// Keys made once (generation is slow under the sanitizers).
const std::vector<auth::StoredSigningKey>& TestKeys() {
  static const auto* keys = [] {
    auto* out = new std::vector<auth::StoredSigningKey>();
    for (int i = 0; i < 3; ++i) {
      auto key = auth::RsaKey::Generate(2048).value();
      out->push_back({key.Thumbprint(), key.PrivatePem()});
    }
    return out;
  }();
  return *keys;
}

std::vector<std::string> Kids(const std::vector<auth::StoredSigningKey>& keys) {
  std::vector<std::string> kids;
  for (const auto& k : keys) kids.push_back(k.kid);
  return kids;
}

std::vector<std::string> JwksKids(const auth::SigningKeys& keys) {
  std::vector<std::string> kids;
  auto jwks = boost::json::parse(keys.JwksJson());
  for (const auto& k : jwks.at("keys").as_array()) kids.emplace_back(k.at("kid").as_string());
  return kids;
}

// The backings of the authorisation server's state.
enum class Backing { kLocal, kPostgres };
std::string BackingName(const ::testing::TestParamInfo<Backing>& info) {
  return info.param == Backing::kLocal ? "local" : "postgres";
}
void PrintTo(Backing backing, std::ostream* out) {
  *out << (backing == Backing::kLocal ? "local" : "postgres");
}

class AuthStoresTest : public ::testing::TestWithParam<Backing> {
 protected:
  void SetUp() override {
    // The local backing uses the register's temporary folder only (for the key files).
    register_ = std::make_unique<TestRegister>(GetParam() == Backing::kLocal ? Backend::kSqlite
                                                                             : Backend::kPostgres);
    if (!register_->unavailable().empty()) GTEST_SKIP() << register_->unavailable();
    memory_replay_ = auth::MakeMemoryReplayStore();
    memory_buckets_ = auth::MakeMemoryRateBuckets();
  }
  bool postgres() const { return GetParam() == Backing::kPostgres; }

  // One node's stores.
  PostgresAuthStores Node(std::chrono::seconds sweep = std::chrono::seconds(60)) const {
    if (!postgres()) {
      auto files = auth::OpenFileSigningKeyStore(register_->folder());
      EXPECT_TRUE(files.ok());
      return {std::move(files).value(), memory_replay_, memory_buckets_};
    }
    auto stores =
        OpenPostgresAuthStores({.conninfo = register_->conninfo(), .sweep_interval = sweep});
    EXPECT_TRUE(stores.ok()) << stores.error().detail;
    return std::move(stores).value();
  }
  int64_t Count(const char* sql) const {
    auto c = pg::Connection::Open(register_->conninfo());
    EXPECT_TRUE(c.ok());
    auto rows = c->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.error().detail;
    return rows.ok() && rows->rows() > 0 ? rows->Int64(0, 0) : -1;
  }

  std::unique_ptr<TestRegister> register_;
  std::shared_ptr<auth::ReplayStore> memory_replay_;
  std::shared_ptr<auth::SharedRateBuckets> memory_buckets_;
};

TEST_P(AuthStoresTest, FirstKeyIsKeptAndRotationKeepsThePreviousOne) {
  const auto& k = TestKeys();
  auto a = Node().signing_keys;
  auto b = Node().signing_keys;
  auto empty = a->Load();
  ASSERT_TRUE(empty.ok()) << empty.error().detail;
  EXPECT_TRUE(empty->empty());
  ASSERT_TRUE(a->CreateFirst(k[0]).ok());
  ASSERT_TRUE(b->CreateFirst(k[1]).ok());  // too late: the first key stays
  EXPECT_EQ(Kids(b->Load().value()), std::vector<std::string>{k[0].kid});
  ASSERT_TRUE(b->Rotate(k[1]).ok());
  EXPECT_EQ(Kids(a->Load().value()), (std::vector<std::string>{k[1].kid, k[0].kid}));
  ASSERT_TRUE(a->Rotate(k[2]).ok());
  auto loaded = b->Load().value();
  EXPECT_EQ(Kids(loaded), (std::vector<std::string>{k[2].kid, k[1].kid}));
  EXPECT_EQ(loaded[0].private_pem, k[2].private_pem);
  EXPECT_FALSE(b->Describe().empty());
  if (postgres()) {
    EXPECT_EQ(Count("SELECT count(*) FROM auth_signing_keys"), 2);  // older rows deleted
    EXPECT_EQ(b->Describe().find("postgres"), std::string::npos);   // never the conninfo
  }
}

TEST_P(AuthStoresTest, NodesSignWithTheSameKeyAndSeeARotationOnReload) {
  auto a = auth::SigningKeys::Open(Node().signing_keys);
  ASSERT_TRUE(a.ok()) << a.error().message << " " << a.error().detail;
  auto b = auth::SigningKeys::Open(Node().signing_keys);
  ASSERT_TRUE(b.ok());
  const std::string first = (*a)->current().kid;
  EXPECT_EQ((*b)->current().kid, first);
  EXPECT_EQ((*b)->JwksJson(), (*a)->JwksJson());

  ASSERT_TRUE((*a)->Rotate().ok());
  const std::string second = (*a)->current().kid;
  EXPECT_NE(second, first);
  EXPECT_EQ(JwksKids(**a), (std::vector<std::string>{second, first}));
  EXPECT_EQ((*b)->current().kid, first);  // held in memory until reloaded
  ASSERT_TRUE((*b)->Reload().ok());
  EXPECT_EQ((*b)->current().kid, second);
  EXPECT_EQ((*b)->JwksJson(), (*a)->JwksJson());
  EXPECT_TRUE((*b)->current().key.has_private());
  ASSERT_TRUE((*b)->Reload().ok());  // nothing changed: the same answer
  EXPECT_EQ(JwksKids(**b), (std::vector<std::string>{second, first}));
}

TEST_P(AuthStoresTest, ReplayIsRefusedOnEveryNodeUntilExp) {
  auto a = Node().replay;
  auto b = Node().replay;
  EXPECT_EQ(a->Remember("client-1", "jti-1", kNow + 120, kNow).value(), Outcome::kFresh);
  EXPECT_EQ(a->Remember("client-1", "jti-1", kNow + 120, kNow + 1).value(), Outcome::kReplay);
  EXPECT_EQ(b->Remember("client-1", "jti-1", kNow + 60, kNow + 2).value(), Outcome::kReplay);
  // Per client: another client may use the same jti; the pair is not confused by separators.
  EXPECT_EQ(b->Remember("client-2", "jti-1", kNow + 120, kNow).value(), Outcome::kFresh);
  EXPECT_EQ(b->Remember("client-1\njti", "-1", kNow + 120, kNow).value(), Outcome::kFresh);
  // Once the exp has passed the jti is forgotten (an assertion is refused after its exp anyway).
  EXPECT_EQ(b->Remember("client-1", "jti-1", kNow + 300, kNow + 120).value(), Outcome::kFresh);
  EXPECT_EQ(a->Remember("client-1", "jti-1", kNow + 300, kNow + 121).value(), Outcome::kReplay);
}

// One client may keep ReplayStore::kMaxPerClient unexpired assertions at most: past it its
// grants are kFull (503) until some expire, and other clients are not affected.
TEST_P(AuthStoresTest, OneClientCannotFillTheReplayStoreForTheOthers) {
  auto a = Node().replay;
  constexpr auto kMax = static_cast<int>(auth::ReplayStore::kMaxPerClient);
  if (postgres()) {
    // The rows as kMaxPerClient grants would leave them, in one statement.
    auto c = pg::Connection::Open(register_->conninfo());
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c->Exec("INSERT INTO auth_jti(client_id, jti, exp) SELECT 'flood', 'j' || n, " +
                        std::to_string(kNow + 120) + " FROM generate_series(1, " +
                        std::to_string(kMax) + ") n")
                    .ok());
  } else {
    for (int i = 0; i < kMax; ++i) {
      ASSERT_EQ(a->Remember("flood", "j" + std::to_string(i), kNow + 120, kNow).value(),
                Outcome::kFresh);
    }
  }
  EXPECT_EQ(a->Remember("flood", "one-more", kNow + 120, kNow).value(), Outcome::kFull);
  EXPECT_EQ(a->Remember("flood", "one-more", kNow + 120, kNow + 5).value(), Outcome::kFull);
  EXPECT_EQ(a->Remember("other", "j1", kNow + 120, kNow).value(), Outcome::kFresh);
  // Once they expire the client may go on.
  EXPECT_EQ(a->Remember("flood", "one-more", kNow + 300, kNow + 120).value(), Outcome::kFresh);
}

TEST_P(AuthStoresTest, ConcurrentGrantsWithOneJtiOnSeveralNodesAcceptOne) {
  constexpr int kNodes = 4;
  constexpr int kJtis = 20;
  std::vector<std::shared_ptr<auth::ReplayStore>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(Node().replay);
  std::barrier start(kNodes);
  std::atomic<int> fresh{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      for (int j = 0; j < kJtis; ++j) {
        auto r = nodes[static_cast<size_t>(i)]->Remember("c", "jti-" + std::to_string(j),
                                                         kNow + 100, kNow);
        if (!r.ok()) ++failed;
        if (r.ok() && *r == Outcome::kFresh) ++fresh;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(fresh.load(), kJtis);
}

// A bucket gives its burst, whole tokens at a time, then asks to wait; buckets are per key. The
// rate is tiny, so refill during the test (whatever the machine's speed) is below one token.
TEST_P(AuthStoresTest, SharedRateBucketsGiveTheBurstThenAskToWait) {
  auto buckets = postgres() ? Node().rate_buckets : memory_buckets_;
  const auth::RateLimit limit{.rate = 0.0001, .burst = 10};
  EXPECT_EQ(buckets->Take("org", 4, limit).value().tokens, 4);
  EXPECT_EQ(buckets->Take("org", 4, limit).value().tokens, 4);
  EXPECT_EQ(buckets->Take("org", 4, limit).value().tokens, 2);
  auto refused = buckets->Take("org", 4, limit).value();
  EXPECT_EQ(refused.tokens, 0);
  EXPECT_GT(refused.wait.count(), 1'000'000);  // ~10 000 s until one token
  EXPECT_EQ(buckets->Take("other", 4, limit).value().tokens, 4);
}

// Nodes sharing the buckets together get the burst, not a burst each.
TEST_P(AuthStoresTest, SharedRateLimitHoldsForTheSumOverNodes) {
  const auth::RateLimit limit{.rate = 0.0001, .burst = 20};
  std::vector<std::unique_ptr<auth::SharedRateLimiter>> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(std::make_unique<auth::SharedRateLimiter>(
        limit, postgres() ? Node().rate_buckets : memory_buckets_));
  }
  int allowed = 0;
  for (int i = 0; i < 60; ++i) {
    if (!nodes[static_cast<size_t>(i % 3)]->Acquire("org")) ++allowed;
  }
  EXPECT_EQ(allowed, 20);
}

INSTANTIATE_TEST_SUITE_P(AuthStores, AuthStoresTest,
                         ::testing::Values(Backing::kLocal, Backing::kPostgres), BackingName);

class PostgresAuthStoresTest : public testing::PostgresTest {
 protected:
  int64_t Count(const char* sql) const {
    auto c = pg::Connection::Open(conninfo());
    EXPECT_TRUE(c.ok());
    auto rows = c->Query(sql);
    EXPECT_TRUE(rows.ok()) << rows.error().detail;
    return rows.ok() && rows->rows() > 0 ? rows->Int64(0, 0) : -1;
  }
};

// Nodes starting at once on an empty database: the tables are made once and every node ends up
// signing with the one key stored first.
TEST_F(PostgresAuthStoresTest, NodesStartingAtOnceAgreeOnTheFirstKey) {
  constexpr int kNodes = 4;
  std::vector<std::string> kids(kNodes);
  std::barrier start(kNodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto stores = OpenPostgresAuthStores({.conninfo = conninfo()});
      ASSERT_TRUE(stores.ok()) << stores.error().detail;
      auto keys = auth::SigningKeys::Open(stores->signing_keys);
      ASSERT_TRUE(keys.ok()) << keys.error().detail;
      kids[static_cast<size_t>(i)] = (*keys)->current().kid;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(kids.begin(), kids.end()).size(), 1u);
  EXPECT_FALSE(kids[0].empty());
  EXPECT_EQ(Count("SELECT count(*) FROM auth_signing_keys"), 1);
  EXPECT_EQ(Count("SELECT version FROM auth_schema_version"), 2);
}

// Rows expired for more than the sweep margin (a minute) are deleted by a later grant once the
// sweep interval has passed; the others stay.
TEST_F(PostgresAuthStoresTest, ExpiredJtiRowsAreSwept) {
  auto stores =
      OpenPostgresAuthStores({.conninfo = conninfo(), .sweep_interval = std::chrono::seconds(10)});
  ASSERT_TRUE(stores.ok());
  auto& replay = *stores->replay;
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(replay.Remember("c", "old-" + std::to_string(i), kNow + 5, kNow).value(),
              Outcome::kFresh);
  }
  ASSERT_EQ(replay.Remember("c", "long", kNow + 500, kNow + 1).value(), Outcome::kFresh);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_jti"), 6);  // within the interval: no sweep
  ASSERT_EQ(replay.Remember("c", "soon", kNow + 30, kNow + 20).value(), Outcome::kFresh);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_jti"), 7);  // swept, but within the margin
  ASSERT_EQ(replay.Remember("c", "new", kNow + 200, kNow + 100).value(), Outcome::kFresh);
  EXPECT_EQ(Count("SELECT count(*) FROM auth_jti"), 2);  // old-* and soon gone: long, new
  EXPECT_EQ(replay.Remember("c", "long", kNow + 500, kNow + 101).value(), Outcome::kReplay);
  EXPECT_EQ(replay.Remember("c", "soon", kNow + 500, kNow + 101).value(), Outcome::kFresh);
}

// A database that cannot be reached is an error (the grant is refused with 503), not a replay.
TEST(PostgresAuthStoresOpenTest, UnreachableDatabaseIsAnError) {
  auto stores = OpenPostgresAuthStores(
      {.conninfo = "postgresql://u:secretpw@/none?host=/nonexistent-norreg&port=1"});
  ASSERT_FALSE(stores.ok());
  EXPECT_EQ(stores.error().code, ErrorCode::kInternal);
  EXPECT_EQ(stores.error().message.find("secretpw"), std::string::npos);
  EXPECT_EQ(stores.error().detail.find("secretpw"), std::string::npos);
}

}  // namespace
}  // namespace norreg::store
