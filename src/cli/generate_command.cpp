// `norreg generate --data DIR [--db URI] --persons N --seed S`: a synthetic register in an empty
// data folder (or empty PostgreSQL register).
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/populate.hpp"
#include "cli/register.hpp"

namespace norreg::cli {

void AddGenerateCommand(CLI::App& app, CommandContext& context) {
  struct Options {
    uint64_t persons = 10000;
    uint64_t seed = 1;
    int threads = 0;
    bool quiet = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = app.add_subcommand("generate", "Generate a synthetic register");
  AddDataOption(*command, context);
  AddDbOption(*command, context);
  command->add_option("--persons", options->persons, "Number of persons")
      ->check(CLI::Range(1ULL, 20'000'000ULL));
  command->add_option("--seed", options->seed, "Seed: the same seed gives the same register");
  command->add_option("--threads", options->threads, "Generator threads (0 = cores)");
  command->add_flag("--quiet", options->quiet, "No progress output");
  command->callback([&context, options] {
    context.run = [&context, options]() -> int {
      auto store = OpenRegister(context.config);
      if (!store.ok()) {
        std::fprintf(stderr, "norreg generate: %s: %s\n", DescribeRegister(context.config).c_str(),
                     store.error().message.c_str());
        return kExitFailure;
      }
      auto summary =
          Populate(**store, options->persons, options->seed, options->threads, !options->quiet);
      if (!summary.ok()) {
        std::fprintf(stderr, "norreg generate: %s\n", summary.error().message.c_str());
        return summary.error().code == ErrorCode::kConflict ? kExitInvalid : kExitFailure;
      }
      auto bytes = (*store)->BytesOnDisk();
      std::printf(
          "generated %llu persons, %llu document versions in %.2f s (%.0f persons/s; the "
          "indexes took %.2f s of it)",
          static_cast<unsigned long long>(summary->persons),
          static_cast<unsigned long long>(summary->versions), summary->seconds,
          summary->seconds > 0 ? static_cast<double>(summary->persons) / summary->seconds : 0.0,
          summary->index_seconds);
      if (bytes.ok() && summary->versions > 0) {
        std::printf("; %llu bytes on disk (%.0f bytes per document version)",
                    static_cast<unsigned long long>(*bytes),
                    static_cast<double>(*bytes) / static_cast<double>(summary->versions));
      }
      std::printf("\n");
      return 0;
    };
  });
}

}  // namespace norreg::cli
