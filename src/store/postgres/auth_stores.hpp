#pragma once
// The built-in authorisation server's state in PostgreSQL (`--db`), shared by every node on the
// database: the signing keys (auth/stores.hpp SigningKeyStore), the jti replay store
// (ReplayStore) and the per-organisation rate-limit buckets (auth/rate_limiter.hpp). Tables
// auth_signing_keys, auth_jti and auth_rate_buckets, migrated on open under an advisory lock with
// their own version table (auth_schema_version), independent of the register's.
//
// Signing keys: one row per key generation; the newest is the current key, the one before it the
// previous key, older rows are deleted by Rotate. CreateFirst inserts generation 1 only while the
// table is empty (the primary key settles nodes starting at once); Rotate inserts max + 1 under a
// transaction-scoped advisory lock. Private keys are stored as PKCS#8 PEM text: whoever can read
// the table can sign tokens, so grant it to norreg's role only (as the 0600 files are norreg's).
//
// Replay: one INSERT ... ON CONFLICT DO UPDATE ... WHERE exp <= now per grant (one round trip; a
// row whose exp has passed counts as absent, so a sweep that has not run yet changes no answer).
// Rows whose exp passed more than a minute ago (a margin for the nodes' clocks) are deleted by the
// first Remember after each `sweep_interval` on each node (a DELETE by exp over an index; nodes
// sweeping at once only wait for each other's row locks). Only registered clients with valid
// signatures reach the store, and one client has at most ReplayStore::kMaxPerClient unexpired
// rows (kFull beyond; counted before each insert, at most that many index entries).
//
// Rate limits (auth::SharedRateBuckets for auth::SharedRateLimiter): one row per organisation in
// auth_rate_buckets; a lease is one INSERT ... ON CONFLICT DO UPDATE that refills the bucket on
// the database's clock and takes what it can (the row lock orders concurrent leases). Rows are
// few (one per organisation seen) and never deleted. A lease runs on the caller's thread (an io
// thread): a connection is waited for at most lease_pool_wait; a statement the server does not
// answer is not bounded here.
//
// Errors: kInternal with the generic message; the server's message is in Error::detail (log only).
// Thread-safety: all methods are thread-safe (a pool of up to `pool_size` connections).
#include <chrono>
#include <memory>
#include <string>

#include "auth/rate_limiter.hpp"
#include "auth/stores.hpp"
#include "common/result.hpp"

namespace norreg::store {

struct PostgresAuthOptions {
  std::string conninfo;                         // libpq connection string (postgresql://...)
  int pool_size = 4;                            // connections at most
  std::chrono::seconds sweep_interval{60};      // expired jti rows deleted at most this often
  std::chrono::milliseconds pool_wait{10'000};  // wait for a free connection, then kInternal
  // The rate-limit buckets have a pool of their own (pool_size connections) with this wait.
  std::chrono::milliseconds lease_pool_wait{200};
};

struct PostgresAuthStores {
  std::shared_ptr<auth::SigningKeyStore> signing_keys;
  std::shared_ptr<auth::ReplayStore> replay;
  std::shared_ptr<auth::SharedRateBuckets> rate_buckets;
};

// Connects, migrates the auth tables and returns both stores (sharing one connection pool).
// kInternal when the database cannot be reached or migrated.
Result<PostgresAuthStores> OpenPostgresAuthStores(const PostgresAuthOptions& options);

}  // namespace norreg::store
