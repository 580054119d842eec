#include "cli/commands.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

namespace norreg::cli {

void AddDataOption(CLI::App& command, CommandContext& context) {
  command.add_option("--data", context.config.data, "SQLite data folder (default ./data)");
}

void AddDbOption(CLI::App& command, CommandContext& context) {
  command.add_option("--db", context.config.db,
                     "Register in PostgreSQL: a postgresql:// connection string (default: SQLite "
                     "in --data)");
}

void AddPakkeOption(CLI::App& command, std::string& pakke) {
  std::string ids;
  for (const freg::Package& package : freg::Packages()) {
    if (!ids.empty()) ids += ", ";
    ids += package.id;
  }
  command.add_option(
      "--pakke", pakke,
      "Access package (rettighetspakke): " + ids + " (default offentlig-med-hjemmel)");
}

Result<const freg::Package*> PackageFromFlag(const std::string& pakke) {
  if (pakke.empty()) return &freg::OffentligMedHjemmel();
  if (const freg::Package* package = freg::PackageById(pakke)) return package;
  std::string ids;
  for (const freg::Package& package : freg::Packages()) {
    if (!ids.empty()) ids += ", ";
    ids += package.id;
  }
  return MakeError(ErrorCode::kInvalidInput,
                   "ukjent rettighetspakke: " + pakke + " (kjente: " + ids + ")");
}

std::string ApiPathOf(const freg::Package& package) { return std::string(package.base_path) + "/"; }

void AddConsumerAuthOptions(CLI::App& command, client::ConsumerAuthFlags& auth) {
  command.add_option("--org", auth.org,
                     "Organisation the token is for (0192:NNN or NNN); default: the first demo "
                     "client allowed the scope");
  CLI::Option* client_id =
      command.add_option("--client-id", auth.client_id, "A real Maskinporten client (needs --key)");
  CLI::Option* key = command.add_option("--key", auth.key_file, "The client's key (PEM)");
  command.add_option("--kid", auth.kid, "Registered key id (default: RFC 7638 thumbprint)")
      ->needs(client_id);
  command
      .add_option("--issuer", auth.issuer, "The real client's Maskinporten issuer (default: --url)")
      ->needs(client_id);
  client_id->needs(key);
  key->needs(client_id);
}

int Main(int argc, char** argv) {
  CommandContext context;
  CLI::App app{"norreg — Folkeregisteret and Brreg mottak register server and client"};
  app.set_version_flag("--version", "norreg 0.1.0");
  app.require_subcommand(1);
  app.add_option("--config", context.config_file, "JSON configuration file");
  AddServeCommand(app, context);
  AddGenerateCommand(app, context);
  AddImportCommand(app, context);
  AddTokenCommand(app, context);
  AddAuditCommand(app, context);
  AddRotateKeyCommand(app, context);
  AddUttrekkCommand(app, context);
  AddFeedCommand(app, context);
  AddMottakCommand(app, context);
  AddCopyCommand(app, context);
  AddSoekCommand(app, context);

  // Two passes: find --config first, apply file + environment, then let flags override.
  {
    CLI::App pre{"pre"};
    pre.allow_extras();
    pre.add_option("--config", context.config_file);
    try {
      pre.parse(argc, argv);
    } catch (const CLI::ParseError&) {
    }
    if (!context.config_file.empty()) {
      if (Status s = ApplyConfigFile(context.config_file, context.config); !s.ok()) {
        std::cerr << "norreg: " << s.error().message << "\n";
        return kExitInvalid;
      }
    }
    if (Status s = ApplyEnvironment(context.config); !s.ok()) {
      std::cerr << "norreg: " << s.error().message << "\n";
      return kExitInvalid;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitInvalid;
  }
  if (Status s = Validate(context.config); !s.ok()) {
    std::cerr << "norreg: " << s.error().message << "\n";
    return kExitInvalid;
  }
  spdlog::set_level(spdlog::level::from_str(context.config.log_level));
  if (!context.run) return kExitInvalid;
  try {
    return context.run();
  } catch (const std::exception& e) {
    std::cerr << "norreg: intern feil: " << e.what() << "\n";
    return kExitFailure;
  }
}

}  // namespace norreg::cli
