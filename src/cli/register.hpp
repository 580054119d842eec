#pragma once
// Which register (and mottak) store a command opens: SQLite in the data folder (the default) or,
// when Config::db is set, the PostgreSQL database it names (several server nodes may share it).
#include <memory>
#include <string>

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

}  // namespace norreg::cli
