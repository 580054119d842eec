// `norreg feed follow --url BASE --db COPY.db [--from SEQ] [--once] [--interval S]
//  [--documents latest|versions] [--plain-documents] [--concurrency N] [--data DIR]
//  [--org 0192:NNN]
//  [--client-id ID --key FILE.pem [--kid KID] [--issuer URL]]`
// Keeps a local copy (made by `norreg uttrekk --db`) current from the event feed (SPEC 2.4):
// continues after the recorded sekvensnummer (or from --from), applies each page in one
// transaction with the cursor, and when caught up polls every --interval seconds (ETag / 304)
// until Ctrl-C, or stops with --once. --documents: `latest` (default) fetches each changed
// person's current document and skips the person's further events it already covers;
// `versions` fetches the version each event names, so the copy is always the register as it
// stood at the cursor (see client/feed_follower.hpp). A line per applied window and a summary go
// to stderr.
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "auth/client_registry.hpp"
#include "cli/commands.hpp"
#include "client/feed_follower.hpp"

namespace norreg::cli {
namespace {

std::atomic<bool> g_stop{false};

void OnStop(int) { g_stop.store(true); }

struct FeedFlags {
  std::string url;
  std::string db;
  int64_t from = 0;
  bool once = false;
  double interval_s = 2.0;
  std::string documents = "latest";
  bool plain = false;
  int concurrency = 4;
  client::ConsumerAuthFlags auth;
  std::string pakke;
};

}  // namespace

void AddFeedCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<FeedFlags>();
  CLI::App* feed = app.add_subcommand("feed", "The event feed (hendelsesliste)");
  feed->require_subcommand(1);
  CLI::App* command =
      feed->add_subcommand("follow", "Keep a local copy current from the event feed");
  AddDataOption(*command, context);
  command->add_option("--url", flags->url, "Server root, e.g. http://127.0.0.1:8080")->required();
  command->add_option("--db", flags->db, "The local copy (from `norreg uttrekk --db`)")->required();
  command
      ->add_option("--from", flags->from,
                   "First sekvensnummer to fetch (default: the recorded one + 1)")
      ->check(CLI::PositiveNumber);
  command->add_flag("--once", flags->once, "Stop when caught up");
  command
      ->add_option("--concurrency", flags->concurrency,
                   "Parallel page reads and document lookups (default 4)")
      ->check(CLI::Range(1, 64));
  command
      ->add_option("--interval", flags->interval_s,
                   "Seconds between polls when caught up (default 2)")
      ->check(CLI::Range(0.01, 3600.0));
  command
      ->add_option("--documents", flags->documents,
                   "latest: each changed person's current document (fast catch-up); versions: "
                   "the version each event names (the copy is the register as at the cursor)")
      ->check(CLI::IsMember({"latest", "versions"}));
  command->add_flag("--plain-documents", flags->plain,
                    "Store documents as JSON text, not compressed (read them with `norreg copy`)");
  AddConsumerAuthOptions(*command, flags->auth);
  AddPakkeOption(*command, flags->pakke);

  command->callback([&context, flags] {
    context.run = [&context, flags]() -> int {
      auto package = PackageFromFlag(flags->pakke);
      if (!package.ok()) {
        std::fprintf(stderr, "norreg feed follow: %s\n", package.error().message.c_str());
        return kExitInvalid;
      }
      // The follower looks changed persons up by number, with their identifier history.
      const freg::Package& pkg = **package;
      if (!pkg.Has(freg::Endpoint::kFeed) || !pkg.Has(freg::Endpoint::kBulkoppslag) ||
          pkg.identifiers != freg::Identifiers::kDefault) {
        std::fprintf(stderr,
                     "norreg feed follow: rettighetspakken %s har ikke oppslag på nummer, som "
                     "en lokal kopi trenger\n",
                     std::string(pkg.id).c_str());
        return kExitInvalid;
      }
      const bool thin = pkg.feed == freg::FeedShape::kThin;
      if (thin && flags->documents == "versions") {
        std::fprintf(stderr,
                     "norreg feed follow: --documents versions trenger dokumentidentifikatorer, "
                     "som hendelseslisten til %s ikke har\n",
                     std::string(pkg.id).c_str());
        return kExitInvalid;
      }
      const std::string scope(pkg.scope);
      auto copy = client::LocalCopy::Open(flags->db, {.compress = !flags->plain});
      if (!copy.ok()) {
        std::fprintf(stderr, "norreg feed follow: %s\n", copy.error().message.c_str());
        return kExitFailure;
      }
      flags->auth.data_dir = context.config.data;
      auto token_options = client::ConsumerTokenOptions(flags->auth, scope, flags->url);
      if (!token_options.ok()) {
        std::fprintf(stderr, "norreg feed follow: %s\n", token_options.error().message.c_str());
        return ExitCodeFor(token_options.error());
      }
      client::TokenClient tokens(std::move(*token_options));

      client::FeedFollowerOptions options;
      options.base_url = flags->url;
      options.api_path = ApiPathOf(pkg);
      options.thin_feed = thin;
      options.tokens = client::TokenSourceFor(tokens, scope);
      if (flags->from > 0) options.from = flags->from;
      options.once = flags->once;
      options.concurrency = flags->concurrency;
      options.documents = flags->documents == "versions" ? client::FeedDocuments::kVersions
                                                         : client::FeedDocuments::kLatest;
      options.interval =
          std::chrono::milliseconds(static_cast<int64_t>(flags->interval_s * 1000.0));
      g_stop = false;
      options.stop = &g_stop;
      options.on_page = [](const client::FeedStats& stats) {
        std::fprintf(stderr, "feed: sekvensnummer %lld, %llu events, %llu persons updated\n",
                     static_cast<long long>(stats.cursor),
                     static_cast<unsigned long long>(stats.events),
                     static_cast<unsigned long long>(stats.upserted));
      };
      auto previous_int = std::signal(SIGINT, OnStop);
      auto previous_term = std::signal(SIGTERM, OnStop);
      client::FeedFollower follower(std::move(options), **copy);
      auto stats = follower.Run();
      std::signal(SIGINT, previous_int);
      std::signal(SIGTERM, previous_term);
      if (!stats.ok()) {
        std::fprintf(stderr, "norreg feed follow: %s\n", stats.error().message.c_str());
        return ExitCodeFor(stats.error());
      }
      std::fprintf(stderr,
                   "norreg feed follow: at sekvensnummer %lld: %llu pages, %llu events, %llu "
                   "persons updated, %llu events already covered, %llu rows removed, %llu "
                   "missing documents, %llu retries\n",
                   static_cast<long long>(stats->cursor),
                   static_cast<unsigned long long>(stats->pages),
                   static_cast<unsigned long long>(stats->events),
                   static_cast<unsigned long long>(stats->upserted),
                   static_cast<unsigned long long>(stats->superseded),
                   static_cast<unsigned long long>(stats->removed),
                   static_cast<unsigned long long>(stats->missing),
                   static_cast<unsigned long long>(stats->retries));
      return 0;
    };
  });
}

}  // namespace norreg::cli
