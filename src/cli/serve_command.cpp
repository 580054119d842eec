// `norreg serve`: the register server on the embedded default (SQLite in --data) or on
// PostgreSQL (--db).
#include "cli/app.hpp"
#include "cli/commands.hpp"

namespace norreg::cli {

void AddServeCommand(CLI::App& app, CommandContext& context) {
  CLI::App* command = app.add_subcommand("serve", "Serve the register over HTTP");
  AddDataOption(*command, context);
  AddDbOption(*command, context);
  Config& c = context.config;
  command->add_option("--listen", c.listen, "HOST:PORT to listen on (default 127.0.0.1:8080)");
  command->add_option("--admin-listen", c.admin_listen,
                      "HOST:PORT of a listener for /metrics and /health only (then not on "
                      "--listen)");
  command->add_option("--demo-persons", c.demo_persons,
                      "Demo population generated into an empty data folder (default 10000)");
  command->add_option("--seed", c.seed, "Seed of the demo population");
  command->add_option("--threads", c.threads, "io threads (0 = cores; twice the cores with --db)");
  command->add_option("--read-timeout", c.read_timeout_s, "Seconds for a request to arrive");
  command->add_option("--min-body-rate", c.min_body_rate,
                      "Bytes/s a request body keeps on average after --read-timeout's grace "
                      "(0 = the whole body within --read-timeout; default 4096)");
  command->add_option("--idle-timeout", c.idle_timeout_s, "Seconds an idle connection is kept");
  command->add_option("--max-body-bytes", c.max_body_bytes, "Largest request body");
  command->add_option("--max-connections", c.max_connections,
                      "Open connections at most, then 503 (0 = no cap; default 10000)");
  command->add_option(
      "--max-connections-per-client", c.max_connections_per_client,
      "Open connections from one client address at most (0 = no cap; default 1000)");
  command->add_option("--shutdown-grace", c.shutdown_grace_s,
                      "Seconds in-flight requests get after SIGTERM");
  command->add_option("--log-level", c.log_level, "trace, debug, info, warn, error, off");
  command->add_option("--access-log", c.access_log, "Log one line per request (true/false)");
  command->add_option_function<bool>(
      "--auth-server", [&c](const bool& on) { c.auth_server = on; },
      "Built-in development authorisation server (true/false; default: on unless "
      "--trust-issuer is given)");
  command->add_option("--issuer", c.issuer,
                      "Issuer of the built-in server (default http://LISTEN/)");
  command->add_option("--trust-issuer", c.trusted_issuers,
                      "Also trust ISSUER=JWKS (file or URL); repeatable");
  command->add_option("--token-leeway", c.token_leeway_s, "Clock skew allowed on tokens (s)");
  command->add_option("--token-lifetime", c.token_lifetime_s, "Lifetime of issued tokens (s)");
  command->add_option("--jwks-refresh", c.jwks_refresh_s, "Minimum seconds between JWKS refreshes");
  command->add_option("--signing-key-reload", c.signing_key_reload_s,
                      "With --db: seconds between reads of the shared signing keys");
  command->add_option("--insecure-no-auth", c.insecure_no_auth,
                      "Serve the APIs without tokens (benchmarks only)");
  command->add_option("--rate-limit", c.rate_limit_per_s, "Calls/s per organisation (0 = off)");
  command->add_option("--rate-limit-burst", c.rate_limit_burst, "Burst per organisation");
  command->add_option("--audit", c.audit, "Record every disclosure (true/false)");
  command->add_option("--audit-sync", c.audit_sync,
                      "Answers wait until their disclosure records are on disk (true/false; "
                      "default true)");
  command->add_option(
      "--mottak-auto-receipt", c.mottak_auto_receipt,
      "Answer every mottak upload with an Applikasjonskvittering reply (true/false)");
  command->add_option("--uttrekk-ttl", c.uttrekk_ttl_h, "Hours extract results are kept");
  command->add_option("--uttrekk-kept-per-org", c.uttrekk_kept_per_org,
                      "Unexpired extract jobs one organisation may have, then 429 (default 20)");
  command->add_option("--mottak-retention", c.mottak_retention_h,
                      "Hours confirmed mottak replies are kept (0: until the next sweep)");
  command->add_option("--uttrekk-workers", c.uttrekk_workers, "Threads computing extracts");
  command->add_option(
      "--uttrekk-lease", c.uttrekk_lease_s,
      "Seconds a node's claim on an extract job lasts unrenewed (--db; default 30)");
  command->add_option("--uttrekk-test-batch-size", c.uttrekk_test_batch_size,
                      "TEST ONLY: ids per extract batch (0 = 100000/10000 as the API says)");
  command->add_option("--uttrekk-test-batch-delay", c.uttrekk_test_batch_delay_ms,
                      "TEST ONLY: milliseconds a worker pauses after each extract batch");
  command->callback([&context] { context.run = [&context] { return RunServer(context.config); }; });
}

}  // namespace norreg::cli
