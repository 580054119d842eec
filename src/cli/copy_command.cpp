// `norreg copy get --db COPY.db FNR…` and `norreg copy export --db COPY.db [--out FILE]`
// Read a local copy (made by `norreg uttrekk --db` and kept current by `norreg feed follow`): the
// documents are stored compressed (client/local_copy.hpp), these print them as JSON, one per
// line. `get` exits 1 when a number has no row (the others are still printed); `export` writes
// every person in fnr order to FILE (atomically: a temporary file renamed at the end) or stdout.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "client/local_copy.hpp"

namespace norreg::cli {
namespace {

struct CopyFlags {
  std::string db;
  std::vector<std::string> numbers;
  std::string out;
};

Result<std::unique_ptr<client::LocalCopy>> OpenExisting(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    return MakeError(ErrorCode::kInvalidInput, "no local copy at " + path);
  }
  return client::LocalCopy::Open(path);
}

int Get(const CopyFlags& flags) {
  auto copy = OpenExisting(flags.db);
  if (!copy.ok()) {
    std::fprintf(stderr, "norreg copy get: %s\n", copy.error().message.c_str());
    return ExitCodeFor(copy.error());
  }
  int exit_code = 0;
  for (const std::string& number : flags.numbers) {
    auto document = (*copy)->Document(number);
    if (!document.ok()) {
      std::fprintf(stderr, "norreg copy get: %s\n", document.error().message.c_str());
      return kExitFailure;
    }
    if (!document->has_value()) {
      std::fprintf(stderr, "norreg copy get: %s is not in the copy\n", number.c_str());
      exit_code = kExitFailure;
      continue;
    }
    std::fwrite((*document)->data(), 1, (*document)->size(), stdout);
    std::fputc('\n', stdout);
  }
  return std::fflush(stdout) == 0 ? exit_code : kExitFailure;
}

int Export(const CopyFlags& flags) {
  auto copy = OpenExisting(flags.db);
  if (!copy.ok()) {
    std::fprintf(stderr, "norreg copy export: %s\n", copy.error().message.c_str());
    return ExitCodeFor(copy.error());
  }
  const std::string temp = flags.out.empty() ? std::string() : flags.out + ".partial";
  std::FILE* out = flags.out.empty() ? stdout : std::fopen(temp.c_str(), "wb");
  if (out == nullptr) {
    std::fprintf(stderr, "norreg copy export: cannot write %s\n", temp.c_str());
    return kExitFailure;
  }
  uint64_t persons = 0;
  Status written = (*copy)->ForEach([&](std::string_view, std::string_view document, int64_t) {
    if (std::fwrite(document.data(), 1, document.size(), out) != document.size() ||
        std::fputc('\n', out) == EOF) {
      return Status(MakeError(ErrorCode::kInternal, "write failed"));
    }
    ++persons;
    return Status::Ok();
  });
  const bool flushed = std::fflush(out) == 0;
  if (out != stdout) {
    const bool closed = std::fclose(out) == 0;
    if (written.ok() && flushed && closed) {
      std::error_code ec;
      std::filesystem::rename(temp, flags.out, ec);
      if (ec) written = MakeError(ErrorCode::kInternal, "rename failed: " + ec.message());
    }
    if (!written.ok() || !flushed || !closed) std::filesystem::remove(temp);
  }
  if (!written.ok() || !flushed) {
    std::fprintf(stderr, "norreg copy export: %s\n",
                 written.ok() ? "write failed" : written.error().message.c_str());
    return kExitFailure;
  }
  std::fprintf(stderr, "norreg copy export: %llu persons\n",
               static_cast<unsigned long long>(persons));
  return 0;
}

}  // namespace

void AddCopyCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<CopyFlags>();
  CLI::App* copy = app.add_subcommand("copy", "Read a local copy (documents as JSON)");
  copy->require_subcommand(1);

  CLI::App* get = copy->add_subcommand("get", "Print the documents of the given numbers");
  get->add_option("--db", flags->db, "The local copy")->required();
  get->add_option("numbers", flags->numbers, "foedselsEllerDNummer")->required();
  get->callback([&context, flags] { context.run = [flags] { return Get(*flags); }; });

  CLI::App* all = copy->add_subcommand("export", "Every document, one JSON per line");
  all->add_option("--db", flags->db, "The local copy")->required();
  all->add_option("--out", flags->out, "NDJSON file (default: standard output)");
  all->callback([&context, flags] { context.run = [flags] { return Export(*flags); }; });
}

}  // namespace norreg::cli
