// `norreg import --data DIR [--db URI] FILE...`: person documents in the official JSON shape
// become new versions of those persons. All files are validated first; one invalid document
// stores nothing.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/register.hpp"
#include "service/person_import.hpp"

namespace norreg::cli {

void AddImportCommand(CLI::App& app, CommandContext& context) {
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* command = app.add_subcommand(
      "import", "Import person documents (Folkeregisterperson JSON, arrays, bulk answers, NDJSON)");
  AddDataOption(*command, context);
  AddDbOption(*command, context);
  command->add_option("files", *files, "Files to import ('-' for standard input)")->required();
  command->callback([&context, files] {
    context.run = [&context, files]() -> int {
      std::vector<std::string> documents, sources;
      for (const std::string& file : *files) {
        std::stringstream buffer;
        if (file == "-") {
          buffer << std::cin.rdbuf();
        } else {
          std::ifstream in(file, std::ios::binary);
          if (!in) {
            std::fprintf(stderr, "norreg import: kan ikke lese %s\n", file.c_str());
            return kExitInvalid;
          }
          buffer << in.rdbuf();
        }
        auto split = service::SplitDocuments(buffer.str(), file);
        if (!split.ok()) {
          std::fprintf(stderr, "norreg import: %s\n", split.error().message.c_str());
          return kExitInvalid;
        }
        for (size_t i = 0; i < split->size(); ++i) {
          sources.push_back(split->size() == 1 ? file
                                               : file + " dokument " + std::to_string(i + 1));
          documents.push_back(std::move((*split)[i]));
        }
      }
      auto store = OpenRegister(context.config);
      if (!store.ok()) {
        std::fprintf(stderr, "norreg import: %s: %s\n", DescribeRegister(context.config).c_str(),
                     store.error().message.c_str());
        return kExitFailure;
      }
      auto summary = service::ImportDocuments(**store, documents, sources);
      if (!summary.ok()) {
        std::fprintf(stderr, "norreg import: %s (ingenting ble lagret)\n",
                     summary.error().message.c_str());
        return summary.error().code == ErrorCode::kInvalidInput ? kExitInvalid : kExitFailure;
      }
      std::printf("imported %zu documents (%zu new persons), sekvensnummer %llu..%llu\n",
                  summary->documents, summary->new_persons,
                  static_cast<unsigned long long>(summary->first_seq),
                  static_cast<unsigned long long>(summary->last_seq));
      return 0;
    };
  });
}

}  // namespace norreg::cli
