#pragma once
// The `norreg` command line: one subcommand per file (serve_command.cpp, generate_command.cpp,
// import_command.cpp, ...). Each file adds its subcommand to the CLI11 app and runs it.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "cli/config.hpp"
#include "client/uttrekk.hpp"
#include "common/result.hpp"
#include "freg/packages.hpp"

namespace norreg::cli {

// What every subcommand shares: the resolved configuration. `--config FILE` and NORREG_*
// variables are applied before the subcommand runs; the subcommand's own flags last.
struct CommandContext {
  Config config;
  std::string config_file;
  // Set by the chosen subcommand; returns the process exit code.
  std::function<int()> run;
};

// Adds the common `--data DIR` flag (the SQLite data folder).
void AddDataOption(CLI::App& command, CommandContext& context);
// Adds `--db postgresql://...` (the register in PostgreSQL instead of SQLite in --data).
void AddDbOption(CLI::App& command, CommandContext& context);
// Adds the token flags of the consumer commands: --org (demo clients of --data), or a real
// Maskinporten client with --client-id, --key, --kid and --issuer.
void AddConsumerAuthOptions(CLI::App& command, client::ConsumerAuthFlags& auth);
// Adds `--pakke ID`: the access package (rettighetspakke) a consumer command goes through
// (docs/packages.md); "" = offentlig-med-hjemmel.
void AddPakkeOption(CLI::App& command, std::string& pakke);
// The package named by `--pakke` ("" = offentlig-med-hjemmel); kInvalidInput naming the known
// ones when unknown.
Result<const freg::Package*> PackageFromFlag(const std::string& pakke);
// The client's API path of `package`: its base path with a trailing '/'.
std::string ApiPathOf(const freg::Package& package);

void AddServeCommand(CLI::App& app, CommandContext& context);
void AddGenerateCommand(CLI::App& app, CommandContext& context);
void AddImportCommand(CLI::App& app, CommandContext& context);
void AddTokenCommand(CLI::App& app, CommandContext& context);
void AddAuditCommand(CLI::App& app, CommandContext& context);
void AddRotateKeyCommand(CLI::App& app, CommandContext& context);
void AddUttrekkCommand(CLI::App& app, CommandContext& context);
void AddFeedCommand(CLI::App& app, CommandContext& context);
void AddMottakCommand(CLI::App& app, CommandContext& context);
void AddCopyCommand(CLI::App& app, CommandContext& context);
void AddSoekCommand(CLI::App& app, CommandContext& context);

// Parses the command line and runs the chosen subcommand; returns the exit code.
int Main(int argc, char** argv);

// Exit codes: 0 ok, 1 runtime failure, 2 usage or invalid input.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitInvalid = 2;

// kExitInvalid for kInvalidInput, kExitFailure otherwise.
inline int ExitCodeFor(const Error& error) {
  return error.code == ErrorCode::kInvalidInput ? kExitInvalid : kExitFailure;
}

}  // namespace norreg::cli
