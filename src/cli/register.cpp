#include "cli/register.hpp"

#include "store/postgres/auth_stores.hpp"

namespace norreg::cli {

Result<std::unique_ptr<store::RegisterStore>> OpenRegister(const Config& config) {
  if (!config.db.empty()) return store::OpenPostgresStore({.conninfo = config.db});
  return store::OpenSqliteStore(
      {.data_dir = config.data, .mmap_bytes = static_cast<int64_t>(config.sqlite_mmap_mb << 20)});
}

Result<std::unique_ptr<store::MottakStore>> OpenMottak(const Config& config) {
  if (!config.db.empty()) {
    return store::OpenPostgresMottakStore(
        {.conninfo = config.db, .spill_dir = config.data + "/mottak/tmp"});
  }
  return store::OpenSqliteMottakStore(config.data + "/mottak");
}

std::string DescribeRegister(const Config& config) {
  return config.db.empty() ? config.data : "PostgreSQL (--db)";
}

Result<AuthState> OpenAuthState(const Config& config, bool with_keys) {
  AuthState state;
  std::shared_ptr<auth::SigningKeyStore> key_store;
  if (!config.db.empty()) {
    auto stores = store::OpenPostgresAuthStores({.conninfo = config.db});
    if (!stores.ok()) return stores.error();
    key_store = std::move(stores->signing_keys);
    state.replay = std::move(stores->replay);
    state.rate_buckets = std::move(stores->rate_buckets);
    state.shared = true;
  } else {
    if (!with_keys) {
      state.replay = auth::MakeMemoryReplayStore();
      return state;
    }
    auto files = auth::OpenFileSigningKeyStore(config.data + "/auth");
    if (!files.ok()) return files.error();
    key_store = std::move(files).value();
    state.replay = auth::MakeMemoryReplayStore();
  }
  if (!with_keys) return state;
  auto keys = auth::SigningKeys::Open(std::move(key_store));
  if (!keys.ok()) return keys.error();
  state.keys = std::move(keys).value();
  return state;
}

}  // namespace norreg::cli
