#include "cli/register.hpp"

namespace norreg::cli {

Result<std::unique_ptr<store::RegisterStore>> OpenRegister(const Config& config) {
  if (!config.db.empty()) return store::OpenPostgresStore({.conninfo = config.db});
  return store::OpenSqliteStore({.data_dir = config.data});
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

}  // namespace norreg::cli
