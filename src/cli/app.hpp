#pragma once
// The composition root of `norreg serve`: config -> store -> services -> handlers -> server.
// Nothing below reads globals; everything is passed by reference from here.
#include "cli/config.hpp"

namespace norreg::cli {

// Opens (or creates) the register in config.data, generates the demo population into an empty
// register, serves until SIGTERM/SIGINT and returns the process exit code.
int RunServer(const Config& config);

}  // namespace norreg::cli
