#include "cli/register.hpp"

namespace norreg::cli {

Result<std::unique_ptr<store::RegisterStore>> OpenRegister(const Config& config) {
  if (!config.db.empty()) return store::OpenPostgresStore({.conninfo = config.db});
  return store::OpenSqliteStore({.data_dir = config.data});
}

std::string DescribeRegister(const Config& config) {
  return config.db.empty() ? config.data : "PostgreSQL (--db)";
}

}  // namespace norreg::cli
