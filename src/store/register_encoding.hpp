#pragma once
// What the register stores (SQLite and PostgreSQL alike) write, shared so that both keep exactly
// the same stored form and rendering code reads either: numbers as 64-bit integers and each
// person's record encoded (freg/record_codec) and zstd-compressed with the register's dictionary.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/compress.hpp"
#include "store/register_store.hpp"

namespace norreg::store {

// The client message of every store failure (kInternal); what happened goes into Error::detail.
inline constexpr const char* kStoreInternalMessage =
    "Feil i tjenesten. Vennligst prøv igjen senere.";

// An 11-digit fødselsnummer/d-nummer as an integer; nullopt for anything else.
std::optional<int64_t> FnrToInt(std::string_view fnr);
// The 11 digits of a stored number (leading zeros kept).
std::string FnrFromInt(int64_t value);
// Writes the 11 digits of `value` to out[0..10] (no allocation; for scans).
void FormatFnr(int64_t value, char (&out)[11]);

// The stored form of each person's record (EncodeRecord + codec.Compress) and its search terms
// at its latest version (freg::SearchTermsOf), in parallel on up to four threads for batches of
// 256 or more. Thread-safe; takes no lock.
EncodedPersons EncodeRecords(const common::Zstd& codec, std::span<const PersonWrite> persons);

// What an index update of one person must do: terms of `before` not in `after` (to delete) and
// terms of `after` not in `before` (to insert). Both inputs sorted and distinct.
struct SearchTermDiff {
  std::vector<uint32_t> removed, added;
};
SearchTermDiff DiffSearchTerms(std::span<const uint32_t> before, std::span<const uint32_t> after);

// The rows of a BulkInsert in key order (identifiers by number, versions by sekvensnummer): far
// fewer B-tree page splits and cache misses than the persons' order.
struct BulkRows {
  std::vector<std::pair<int64_t, size_t>> identifiers;                   // (number, person index)
  std::vector<std::pair<uint64_t, std::pair<size_t, size_t>>> versions;  // seq -> (person, v)
  std::vector<int64_t> numbers;                                          // each person's number
};
// kInvalidInput for a person without versions or with a number that is not 11 digits.
Result<BulkRows> SortedBulkRows(std::span<const PersonWrite> persons);

}  // namespace norreg::store
