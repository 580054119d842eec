#pragma once
// The SQLite store's person search index (docs/search.md, "The index"): every term's posting —
// its persons, ascending — in blocks of up to kMaxBlockIds ids (store/posting_block.hpp), one row
// per block keyed by (term, the block's last id):
//
//   search_postings(term, last_id, ids)   term = the hash's bits as a signed 32-bit integer
//   search_terms_load(run, chunk, pairs)  a bulk load's sorted runs of (term, person) pairs
//
// Readers: ReadPosting and Contains on their own prepared statements. Writers (one, under the
// store's write lock, inside its transaction): PostingWriter adds and removes single pairs,
// appends new persons, and builds the index from sorted runs in one ordered pass (bulk loads and
// rebuilds), so the B-tree is written front to back instead of in hash order.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace norreg::store::sqlite {

// A term as the index stores it.
inline int64_t StoredTerm(uint32_t term) { return static_cast<int32_t>(term); }

// (term, person id), ordered as the index orders them: by StoredTerm, then person.
struct TermPair {
  uint32_t term;
  int64_t person_id;
};
void SortPairs(std::vector<TermPair>& pairs);

// SQL of the readers' statements (one each per reader connection).
inline constexpr const char* kPostingSql =
    "SELECT ids FROM search_postings WHERE term = ? ORDER BY last_id";
inline constexpr const char* kContainsSql =
    "SELECT ids FROM search_postings WHERE term = ? AND last_id >= ? ORDER BY last_id LIMIT 1";

// The persons with `term`, ascending, at most `limit`, into `out` (cleared first). `st` is a
// statement of kPostingSql.
Status ReadPosting(Statement& st, uint32_t term, size_t limit, std::vector<int64_t>& out);
// Whether `person_id` has `term`. `st` is a statement of kContainsSql.
Result<bool> Contains(Statement& st, uint32_t term, int64_t person_id);

class PostingWriter {
 public:
  PostingWriter() = default;
  explicit PostingWriter(Connection& writer);

  Status Add(uint32_t term, int64_t person_id);
  Status Remove(uint32_t term, int64_t person_id);
  // Adds `pairs` (any order) of persons new to the index.
  Status AddNew(std::vector<TermPair> pairs);

  // Bulk loads: pairs are kept aside as sorted runs, then merged into the index in one pass.
  Status AddRun(std::vector<TermPair> pairs);
  Status MergeRuns();
  // Empties the index and the runs (before a rebuild).
  Status Clear();

 private:
  struct Block {
    int64_t last_id = 0;
    std::vector<int64_t> ids;
  };
  // The block holding `person_id`'s place in `term` (the first whose last id is >= it), or the
  // term's last block when `person_id` is past them all; nullopt when the term has none.
  Result<std::optional<Block>> Find(uint32_t term, int64_t person_id, bool* past_end);
  Status Put(uint32_t term, std::span<const int64_t> ids);
  Status Delete(uint32_t term, int64_t last_id);
  // Writes `ids` (ascending) as full blocks; the term must hold none of them.
  Status PutAll(uint32_t term, std::span<const int64_t> ids);
  // Appends ascending `ids`, all past the term's last id (or Adds each when they are not).
  Status Append(uint32_t term, std::span<const int64_t> ids);

  Connection* writer_ = nullptr;
  Statement at_, last_, put_, delete_, put_run_;
  std::string block_;
};

}  // namespace norreg::store::sqlite
