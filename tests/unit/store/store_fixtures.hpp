#pragma once
// Test fixtures shared by the store tests: a temporary folder and a person built from versions.
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/register_store.hpp"

namespace norreg::store::testing {

// A temporary folder removed at destruction.
class TempFolder {
 public:
  TempFolder() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "norreg-store-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempFolder() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A person with versions at `seqs` (ascending): created at the first, renamed at each next one;
// one navn row per version, current until the next.
inline PersonWrite MakePerson(const std::string& fnr, const std::vector<uint64_t>& seqs) {
  PersonWrite p;
  p.record.fnr = fnr;
  for (size_t i = 0; i < seqs.size(); ++i) {
    p.versions.push_back(
        {seqs[i],
         i == 0 ? freg::Hendelsetype::kPersonErOpprettet : freg::Hendelsetype::kEndringINavn,
         1'600'000'000'000 + static_cast<int64_t>(seqs[i])});
    freg::Row row;
    row.property = freg::Property::kNavn;
    row.from_seq = seqs[i];
    row.current_until = i + 1 < seqs.size() ? seqs[i + 1] : freg::kOpen;
    row.json = R"({"fornavn":"N)" + std::to_string(seqs[i]) + R"(","etternavn":"E"})";
    p.record.rows.insert(p.record.rows.begin(), row);
  }
  return p;
}

}  // namespace norreg::store::testing
