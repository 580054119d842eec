#pragma once
// The composition root of `norreg serve`: config -> store -> services -> handlers -> server.
// Nothing below reads globals; everything is passed by reference from here.
#include "cli/config.hpp"

namespace norreg::cli {

// Opens (or creates) the register (SQLite in config.data, or PostgreSQL at config.db), generates
// the demo population into an empty register, serves until SIGTERM/SIGINT and returns the process
// exit code. Several nodes may serve one PostgreSQL register; populate it before starting more
// than one (`norreg generate --db`), since two nodes that find it empty would both generate.
int RunServer(const Config& config);

}  // namespace norreg::cli
