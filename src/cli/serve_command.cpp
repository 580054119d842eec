// `norreg serve`: the register server on the embedded default (SQLite in --data).
#include "cli/app.hpp"
#include "cli/commands.hpp"

namespace norreg::cli {

void AddServeCommand(CLI::App& app, CommandContext& context) {
  CLI::App* command = app.add_subcommand("serve", "Serve the register over HTTP");
  AddDataOption(*command, context);
  Config& c = context.config;
  command->add_option("--listen", c.listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  command->add_option("--demo-persons", c.demo_persons,
                      "Demo population generated into an empty data folder (default 10000)");
  command->add_option("--seed", c.seed, "Seed of the demo population");
  command->add_option("--threads", c.threads, "io threads (0 = cores)");
  command->add_option("--read-timeout", c.read_timeout_s, "Seconds for a request to arrive");
  command->add_option("--idle-timeout", c.idle_timeout_s, "Seconds an idle connection is kept");
  command->add_option("--max-body-bytes", c.max_body_bytes, "Largest request body");
  command->add_option("--shutdown-grace", c.shutdown_grace_s,
                      "Seconds in-flight requests get after SIGTERM");
  command->add_option("--log-level", c.log_level, "trace, debug, info, warn, error, off");
  command->add_option("--access-log", c.access_log, "Log one line per request (true/false)");
  command->callback([&context] { context.run = [&context] { return RunServer(context.config); }; });
}

}  // namespace norreg::cli
