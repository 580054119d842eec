// `norreg uttrekk --url BASE [--tilpasset criteria.json] [--out FILE.ndjson] [--db COPY.db]
//  [--plain-documents] [--concurrency N] [--checkpoint-interval S] [--data DIR] [--org 0192:NNN]
//  [--client-id ID --key FILE.pem [--kid KID] [--issuer URL]] [--quiet]`
// Fetches a complete (or, with --tilpasset, a tailored) extract from a Folkeregisteret server
// (SPEC 2.5) into an NDJSON file and/or a SQLite local copy; a rerun after an interruption
// continues the same job. Progress and the summary go to stderr. Ctrl-C stops cleanly (the
// checkpoint stays for the rerun).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "auth/client_registry.hpp"
#include "cli/commands.hpp"
#include "client/uttrekk.hpp"

namespace norreg::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) { g_interrupted.store(true); }

struct UttrekkFlags {
  std::string url;
  std::string tilpasset_file;
  std::string pakke;
  std::string out;
  std::string db;
  bool plain = false;
  int concurrency = 4;
  double checkpoint_s = 2.0;
  bool quiet = false;
  client::ConsumerAuthFlags auth;
};

}  // namespace

void AddUttrekkCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<UttrekkFlags>();
  CLI::App* command = app.add_subcommand(
      "uttrekk", "Fetch a complete or tailored extract into NDJSON and/or a local copy");
  AddDataOption(*command, context);
  command->add_option("--url", flags->url, "Server root, e.g. http://127.0.0.1:8080")->required();
  command->add_option("--tilpasset", flags->tilpasset_file,
                      "Tailored extract: a JSON file with the criteria (POST uttrekk/tilpasset)");
  command->add_option("--out", flags->out, "NDJSON output (one person document per line)");
  command->add_option("--db", flags->db, "SQLite local copy (persons + feed cursor)");
  command->add_flag("--plain-documents", flags->plain,
                    "Store the copy's documents as JSON text, not compressed (read them with "
                    "`norreg copy`)");
  command->add_option("--concurrency", flags->concurrency, "Parallel bulk lookups (default 4)")
      ->check(CLI::Range(1, 64));
  command
      ->add_option("--checkpoint-interval", flags->checkpoint_s,
                   "Seconds between checkpoints: how much a killed run writes again (default 2)")
      ->check(CLI::Range(0.0, 3600.0));
  AddConsumerAuthOptions(*command, flags->auth);
  command->add_flag("--quiet", flags->quiet, "No progress lines");
  AddPakkeOption(*command, flags->pakke);

  command->callback([&context, flags] {
    context.run = [&context, flags]() -> int {
      if (flags->out.empty() && flags->db.empty()) {
        std::fprintf(stderr, "norreg uttrekk: give --out FILE.ndjson and/or --db COPY.db\n");
        return kExitInvalid;
      }
      auto package = PackageFromFlag(flags->pakke);
      if (!package.ok()) {
        std::fprintf(stderr, "norreg uttrekk: %s\n", package.error().message.c_str());
        return kExitInvalid;
      }
      const freg::Endpoint order = flags->tilpasset_file.empty()
                                       ? freg::Endpoint::kUttrekkKomplett
                                       : freg::Endpoint::kUttrekkTilpasset;
      if (!(*package)->Has(order)) {
        std::fprintf(stderr, "norreg uttrekk: rettighetspakken %s har ikke %s uttrekk%s\n",
                     std::string((*package)->id).c_str(),
                     flags->tilpasset_file.empty() ? "komplett" : "tilpasset",
                     (*package)->Has(freg::Endpoint::kUttrekkTilpasset)
                         ? " (bruk --tilpasset kriterier.json)"
                         : "");
        return kExitInvalid;
      }
      const std::string scope((*package)->scope);
      client::UttrekkOptions options;
      options.base_url = flags->url;
      options.api_path = ApiPathOf(**package);
      options.ndjson_path = flags->out;
      options.db_path = flags->db;
      options.db_options.compress = !flags->plain;
      options.concurrency = flags->concurrency;
      options.checkpoint_interval =
          std::chrono::milliseconds(static_cast<int64_t>(flags->checkpoint_s * 1000.0));
      if (!flags->tilpasset_file.empty()) {
        std::ifstream in(flags->tilpasset_file, std::ios::binary);
        if (!in) {
          std::fprintf(stderr, "norreg uttrekk: cannot read %s\n", flags->tilpasset_file.c_str());
          return kExitInvalid;
        }
        std::stringstream criteria;
        criteria << in.rdbuf();
        options.tilpasset = criteria.str();
      }
      flags->auth.data_dir = context.config.data;
      auto token_options = client::ConsumerTokenOptions(flags->auth, scope, flags->url);
      if (!token_options.ok()) {
        std::fprintf(stderr, "norreg uttrekk: %s\n", token_options.error().message.c_str());
        return ExitCodeFor(token_options.error());
      }
      client::TokenClient tokens(std::move(*token_options));
      options.tokens = client::TokenSourceFor(tokens, scope);

      g_interrupted = false;
      options.cancel = &g_interrupted;
      auto previous_int = std::signal(SIGINT, OnInterrupt);
      auto previous_term = std::signal(SIGTERM, OnInterrupt);
      client::Progress progress(
          client::ProgressOptions{.out = flags->quiet ? nullptr : stderr, .label = "uttrekk"});
      auto summary = client::RunUttrekk(options, progress);
      std::signal(SIGINT, previous_int);
      std::signal(SIGTERM, previous_term);
      if (!summary.ok()) {
        std::fprintf(stderr, "norreg uttrekk: %s\n", summary.error().message.c_str());
        return ExitCodeFor(summary.error());
      }
      if (!summary->completed) {
        std::fprintf(stderr,
                     "norreg uttrekk: stopped after %llu persons; run the same command again to "
                     "continue job %s\n",
                     static_cast<unsigned long long>(summary->persons), summary->jobb_id.c_str());
        return kExitFailure;
      }
      std::fprintf(
          stderr,
          "norreg uttrekk: job %s, sekvensnummer %lld, %llu persons%s%s in %.1f s "
          "(%.0f persons/s), %llu retries\n",
          summary->jobb_id.c_str(), static_cast<long long>(summary->sekvensnummer),
          static_cast<unsigned long long>(summary->persons), summary->resumed ? " (resumed)" : "",
          summary->restarted ? " (job expired: started over)" : "", summary->seconds,
          summary->seconds > 0 ? static_cast<double>(summary->persons) / summary->seconds : 0.0,
          static_cast<unsigned long long>(summary->retries));
      if (summary->missing > 0) {
        std::fprintf(stderr, "norreg uttrekk: warning: %llu ids had no document\n",
                     static_cast<unsigned long long>(summary->missing));
      }
      return 0;
    };
  });
}

}  // namespace norreg::cli
