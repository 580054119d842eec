#pragma once
// Which register (and mottak) store a command opens: SQLite in the data folder (the default) or,
// when Config::db is set, the PostgreSQL database it names (several server nodes may share it).
#include <memory>
#include <string>

#include "auth/authorization_server.hpp"
#include "auth/rate_limiter.hpp"
#include "auth/stores.hpp"
#include "cli/config.hpp"
#include "store/mottak_store.hpp"
#include "store/register_store.hpp"

namespace norreg::cli {

// Opens the register `config` names (creating and migrating it when needed): PostgreSQL when
// config.db is set, else SQLite in config.data. Errors as store::OpenPostgresStore /
// store::OpenSqliteStore return them.
Result<std::unique_ptr<store::RegisterStore>> OpenRegister(const Config& config);

// Opens the mottak store beside the register: in the same PostgreSQL database when config.db is
// set (spills in <data>/mottak/tmp, so each node needs a data folder of its own), else SQLite in
// <data>/mottak. Errors as store::OpenPostgresMottakStore / store::OpenSqliteMottakStore.
Result<std::unique_ptr<store::MottakStore>> OpenMottak(const Config& config);

// Where the register is, for messages: the SQLite data folder, or "PostgreSQL (--db)" (never the
// connection string, which may hold a password).
std::string DescribeRegister(const Config& config);

// Where the built-in authorisation server keeps its signing keys and the jti of accepted grants,
// and where the per-organisation rate limits are counted.
struct AuthState {
  std::shared_ptr<auth::SigningKeys> keys;  // null unless `with_keys`
  std::shared_ptr<auth::ReplayStore> replay;
  std::shared_ptr<auth::SharedRateBuckets> rate_buckets;  // null: count in this process
  bool shared = false;  // in PostgreSQL: other nodes may change the keys (reload them)
};

// With config.db: all in that PostgreSQL database (store::OpenPostgresAuthStores), shared by
// every node on it; else the keys in <data>/auth/signing, the jti and the rate limits in this
// process's memory. With `with_keys` the signing keys are opened (the first made when there is
// none). Errors as the stores return them.
Result<AuthState> OpenAuthState(const Config& config, bool with_keys = true);

}  // namespace norreg::cli
