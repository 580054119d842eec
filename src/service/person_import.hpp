#pragma once
// Importing person documents in the official JSON shape (Folkeregisterperson, e.g. saved from the
// real test environment) as new versions of those persons. Shared by `norreg import` and the
// producer endpoint.
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "store/register_store.hpp"

namespace norreg::service {

// Splits an input text into person documents. Accepted shapes: one Folkeregisterperson object;
// a JSON array of them; a bulk lookup answer {"oppslag":[{"folkeregisterperson":{...}}, ...]};
// newline-delimited JSON with one of the former per line. Each document is returned as its own
// JSON text. kInvalidInput (naming `source` and the position) when the text is not one of these.
Result<std::vector<std::string>> SplitDocuments(std::string_view text, std::string_view source);

struct ImportSummary {
  size_t documents = 0;
  size_t new_persons = 0;
  uint64_t first_seq = 0;  // 0 when nothing was written
  uint64_t last_seq = 0;
};

// Validates every document first; if any is invalid nothing is stored and the error names the
// document (by index and `sources[i]`) and the field. Otherwise all documents are stored as new
// versions (one event each) in ONE transaction. Thread-safe (the store serialises writers).
Result<ImportSummary> ImportDocuments(store::RegisterStore& store,
                                      const std::vector<std::string>& documents,
                                      const std::vector<std::string>& sources);

// ImportDocuments into one register, for the handlers (which hold services, not stores).
class PersonImporter {
 public:
  explicit PersonImporter(store::RegisterStore& store) : store_(store) {}
  Result<ImportSummary> Import(const std::vector<std::string>& documents,
                               const std::vector<std::string>& sources) {
    return ImportDocuments(store_, documents, sources);
  }

 private:
  store::RegisterStore& store_;
};

}  // namespace norreg::service
