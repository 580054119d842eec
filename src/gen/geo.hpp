#pragma once
// Norwegian geography for the generator: kommuner with their real numbers, population weights and
// real postnummer/poststed pairs (resources/kommuner.tsv, embedded in the binary), plus
// deterministic synthetic streets per kommune. Immutable after construction: thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace norreg::gen {

struct Poststed {
  std::string postnummer;  // 4 digits
  std::string navn;        // upper case, e.g. "OSLO"
};

struct Kommune {
  std::string nummer;  // 4 digits, e.g. "0301"
  std::string navn;    // e.g. "Oslo"
  uint32_t innbyggere = 0;
  std::vector<Poststed> poststeder;  // at least one
  uint32_t streets = 0;              // synthetic streets in this kommune (from the population)
};

class Geography {
 public:
  // Parses the TSV format of resources/kommuner.tsv: `nummer<TAB>navn<TAB>innbyggere<TAB>
  // NNNN POSTSTED;NNNN POSTSTED...`, '#' comment lines and blank lines ignored.
  // kInvalidInput (message names the line) on a malformed line, a duplicate kommunenummer or an
  // empty table.
  static Result<Geography> Parse(std::string_view tsv);
  // The embedded table (parsed once; the first call pays). Never fails for the shipped file;
  // a broken build resource gives the parse error.
  static const Result<Geography>& Embedded();

  const std::vector<Kommune>& kommuner() const { return kommuner_; }
  // Index of a kommune drawn by population weight, from a uniform value in [0, total_weight()).
  size_t PickKommune(uint64_t u) const;
  uint64_t total_weight() const { return cumulative_.empty() ? 0 : cumulative_.back(); }
  // Index of a kommune by number, or -1.
  int Find(std::string_view nummer) const;

  // The street `street` (< streets) of kommune `k`: a stable name and adressekode.
  std::string_view StreetName(size_t k, uint32_t street) const;
  uint32_t Adressekode(size_t k, uint32_t street) const;

 private:
  std::vector<Kommune> kommuner_;
  std::vector<uint64_t> cumulative_;
  std::vector<std::string> street_names_;  // all kommuner, concatenated
  std::vector<uint32_t> street_offset_;    // per kommune into street_names_
};

}  // namespace norreg::gen
