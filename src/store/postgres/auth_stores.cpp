// PostgreSQL implementations of auth::SigningKeyStore and auth::ReplayStore (contract:
// store/postgres/auth_stores.hpp).
#include "store/postgres/auth_stores.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "store/postgres/pg.hpp"
#include "store/register_encoding.hpp"

namespace norreg::store {
namespace {

using pg::Connection;
using pg::Params;

// Advisory locks: migrating the auth tables, and rotating the signing key.
constexpr int64_t kAuthMigrationLockKey = 0x6e6f'7272'6567'0002;
constexpr int64_t kRotateLockKey = 0x6e6f'7272'6567'0003;

// Append only; auth_schema_version holds how many have run.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE auth_signing_keys(
  generation bigint PRIMARY KEY,
  kid text NOT NULL UNIQUE,
  private_key text NOT NULL,
  created timestamptz NOT NULL DEFAULT now());
CREATE TABLE auth_jti(
  client_id text NOT NULL,
  jti text NOT NULL,
  exp bigint NOT NULL,
  PRIMARY KEY (client_id, jti));
CREATE INDEX auth_jti_exp ON auth_jti(exp);
)sql",
    R"sql(
CREATE TABLE auth_rate_buckets(
  key text PRIMARY KEY,
  tokens double precision NOT NULL,
  updated timestamptz NOT NULL,
  taken bigint NOT NULL);
)sql",
};

constexpr pg::Statement kLoadKeys{
    "auth_load_keys",
    "SELECT kid, private_key FROM auth_signing_keys ORDER BY generation DESC LIMIT 2"};
constexpr pg::Statement kCreateFirstKey{
    "auth_create_first_key",
    "INSERT INTO auth_signing_keys(generation, kid, private_key) SELECT 1, $1, $2 "
    "WHERE NOT EXISTS (SELECT 1 FROM auth_signing_keys) ON CONFLICT DO NOTHING"};
constexpr pg::Statement kAddKey{
    "auth_add_key",
    "INSERT INTO auth_signing_keys(generation, kid, private_key) "
    "SELECT coalesce(max(generation), 0) + 1, $1, $2 FROM auth_signing_keys"};
constexpr pg::Statement kDropOldKeys{"auth_drop_old_keys",
                                     "DELETE FROM auth_signing_keys WHERE generation < "
                                     "(SELECT max(generation) - 1 FROM auth_signing_keys)"};
// One round trip: the client's unexpired rows counted up to $5 (the per-client bound: a walk of
// at most that many entries of the key's range), and the pair inserted only below it. Columns:
// the count, and 1 when the pair was remembered (0: a replay, or the client is at its bound).
constexpr pg::Statement kRemember{
    "auth_remember_jti",
    "WITH live AS (SELECT count(*) AS n FROM (SELECT 1 FROM auth_jti WHERE client_id = $1 "
    "AND exp > $4 LIMIT $5) t), "
    "ins AS (INSERT INTO auth_jti AS j(client_id, jti, exp) SELECT $1, $2, $3 FROM live "
    "WHERE n < $5 ON CONFLICT (client_id, jti) DO UPDATE SET exp = excluded.exp "
    "WHERE j.exp <= $4 RETURNING 1) "
    "SELECT (SELECT n FROM live), (SELECT count(*) FROM ins)"};
constexpr pg::Statement kSweep{"auth_sweep_jti", "DELETE FROM auth_jti WHERE exp <= $1"};
// Rows are swept this long after their exp, so a node whose clock runs ahead of another's cannot
// delete a row the other still counts as unexpired (a replay window of the clocks' difference).
constexpr int64_t kSweepMarginS = 60;
// $1 key, $2 wanted (int8), $3 rate and $4 burst (text, as float8). The bucket as it stands now
// (refilled since `updated` on the database's clock, so the nodes' clocks do not matter) gives
// least(wanted, whole tokens); `taken` keeps that for RETURNING (which sees only the new row).
#define NORREG_RATE_AVAILABLE                                      \
  "least($4::float8, b.tokens + $3::float8 * greatest(0::float8, " \
  "extract(epoch FROM now() - b.updated)::float8))"
constexpr pg::Statement kTakeTokens{
    "auth_take_tokens",
    "INSERT INTO auth_rate_buckets AS b(key, tokens, updated, taken) "
    "VALUES($1, $4::float8 - least($2::float8, floor($4::float8)), now(), "
    "least($2::float8, floor($4::float8))) "
    "ON CONFLICT (key) DO UPDATE SET "
    "taken = least($2::float8, floor(" NORREG_RATE_AVAILABLE
    ")), "
    "tokens = " NORREG_RATE_AVAILABLE " - least($2::float8, floor(" NORREG_RATE_AVAILABLE
    ")), "
    "updated = greatest(b.updated, now()) "
    "RETURNING taken, CASE WHEN taken >= 1 THEN 0 "
    "ELSE greatest(1, ceil((1 - tokens) / $3::float8 * 1000)) END::int8"};
#undef NORREG_RATE_AVAILABLE

// The pool. Reads (and idempotent writes) get one more try on a fresh connection when the first
// one turns out to be lost (a server restart, an idle connection closed by a proxy); other writes
// do not, since the lost command may have committed.
class Database {
 public:
  explicit Database(const PostgresAuthOptions& options)
      : pool_(options.conninfo, static_cast<size_t>(std::max(1, options.pool_size)),
              options.pool_wait) {}

  template <typename Fn>
  auto With(bool idempotent, Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    for (int attempt = 0;; ++attempt) {
      auto lease = pool_.Acquire();
      if (!lease.ok()) return lease.error();
      auto result = fn(**lease);
      if (result.ok() || !idempotent || (*lease)->healthy() || attempt > 0) return result;
    }
  }

 private:
  pg::ConnectionPool pool_;
};

class PostgresSigningKeyStore final : public auth::SigningKeyStore {
 public:
  explicit PostgresSigningKeyStore(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  Result<std::vector<auth::StoredSigningKey>> Load() override {
    return db_->With(true, [](Connection& c) -> Result<std::vector<auth::StoredSigningKey>> {
      auto rows = c.Execute(kLoadKeys);
      if (!rows.ok()) return rows.error();
      std::vector<auth::StoredSigningKey> keys;
      for (int i = 0; i < rows->rows(); ++i) {
        keys.push_back({std::string(rows->Text(i, 0)), std::string(rows->Text(i, 1))});
      }
      return keys;
    });
  }

  Status CreateFirst(const auth::StoredSigningKey& key) override {
    return db_->With(true, [&](Connection& c) -> Status {
      auto r = c.Execute(kCreateFirstKey, Params().Text(key.kid).Text(key.private_pem));
      return r.ok() ? Status::Ok() : Status(r.error());
    });
  }

  Status Rotate(const auth::StoredSigningKey& key) override {
    return db_->With(false, [&](Connection& c) -> Status {
      return pg::RunInTransaction(c, {}, [&]() -> Status {
        // Rotations of several processes take turns: each adds max + 1 and trims to two.
        if (auto locked =
                c.Query("SELECT pg_advisory_xact_lock($1)", Params().Int64(kRotateLockKey));
            !locked.ok()) {
          return locked.error();
        }
        if (auto r = c.Execute(kAddKey, Params().Text(key.kid).Text(key.private_pem)); !r.ok()) {
          return r.error();
        }
        auto r = c.Execute(kDropOldKeys);
        return r.ok() ? Status::Ok() : Status(r.error());
      });
    });
  }

  std::string Describe() const override { return "PostgreSQL (--db)"; }

 private:
  std::shared_ptr<Database> db_;
};

class PostgresReplayStore final : public auth::ReplayStore {
 public:
  PostgresReplayStore(std::shared_ptr<Database> db, std::chrono::seconds sweep_interval)
      : db_(std::move(db)), sweep_interval_s_(std::max<int64_t>(1, sweep_interval.count())) {}

  Result<Outcome> Remember(std::string_view client_id, std::string_view jti, int64_t exp,
                           int64_t now) override {
    auto outcome = db_->With(false, [&](Connection& c) -> Result<Outcome> {
      // Nodes granting at once may each see one short of the bound: it holds within the number
      // of nodes' concurrent grants.
      auto r = c.Execute(kRemember, Params().Text(client_id).Text(jti).Int64(exp).Int64(now).Int64(
                                        static_cast<int64_t>(kMaxPerClient)));
      if (!r.ok()) return r.error();
      if (r->Int64(0, 1) == 1) return Outcome::kFresh;
      return r->Int64(0, 0) >= static_cast<int64_t>(kMaxPerClient) ? Outcome::kFull
                                                                   : Outcome::kReplay;
    });
    if (!outcome.ok()) return outcome;
    // One caller per interval sweeps (after its own answer is settled).
    int64_t last = last_sweep_.load(std::memory_order_relaxed);
    if (now - last >= sweep_interval_s_ && last_sweep_.compare_exchange_strong(last, now)) {
      (void)db_->With(true, [&](Connection& c) -> Status {
        auto r = c.Execute(kSweep, Params().Int64(now - kSweepMarginS));
        return r.ok() ? Status::Ok() : Status(r.error());
      });
    }
    return outcome;
  }

 private:
  std::shared_ptr<Database> db_;
  const int64_t sweep_interval_s_;
  std::atomic<int64_t> last_sweep_{0};
};

// A float8 literal that reads back as the same double.
std::string FormatDouble(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

class PostgresRateBuckets final : public auth::SharedRateBuckets {
 public:
  explicit PostgresRateBuckets(std::shared_ptr<Database> db) : db_(std::move(db)) {}

  Result<Taken> Take(std::string_view key, int64_t wanted, const auth::RateLimit& limit) override {
    const std::string rate = FormatDouble(limit.rate);
    const std::string burst = FormatDouble(std::max(1.0, limit.burst));
    return db_->With(false, [&](Connection& c) -> Result<Taken> {
      auto r =
          c.Execute(kTakeTokens,
                    Params().Text(key).Int64(std::max<int64_t>(1, wanted)).Text(rate).Text(burst));
      if (!r.ok()) return r.error();
      if (r->rows() != 1) return MakeError(ErrorCode::kInternal, kStoreInternalMessage, "no row");
      return Taken{r->Int64(0, 0), std::chrono::milliseconds(r->Int64(0, 1))};
    });
  }

 private:
  std::shared_ptr<Database> db_;
};

}  // namespace

Result<PostgresAuthStores> OpenPostgresAuthStores(const PostgresAuthOptions& options) {
  auto connection = Connection::Open(options.conninfo);
  if (!connection.ok()) return connection.error();
  if (Status s = pg::RunMigrations(*connection, kMigrations, "autorisasjonstjenerens tabeller",
                                   kAuthMigrationLockKey, "auth_schema_version");
      !s.ok()) {
    return s.error();
  }
  auto db = std::make_shared<Database>(options);
  // Leases are taken on the io threads: connections of their own, and a short wait for one, so
  // that a busy or unreachable database sends the limiter to its per-node fallback quickly.
  PostgresAuthOptions lease_options = options;
  lease_options.pool_wait = std::min(options.pool_wait, options.lease_pool_wait);
  auto lease_db = std::make_shared<Database>(lease_options);
  return PostgresAuthStores{std::make_shared<PostgresSigningKeyStore>(db),
                            std::make_shared<PostgresReplayStore>(db, options.sweep_interval),
                            std::make_shared<PostgresRateBuckets>(lease_db)};
}

}  // namespace norreg::store
