#pragma once
// Fills an empty register with a generated synthetic population (used by `norreg generate` and by
// `norreg serve` on an empty data folder).
#include <cstdint>

#include "common/result.hpp"
#include "store/register_store.hpp"

namespace norreg::cli {

struct PopulateSummary {
  uint64_t persons = 0;
  uint64_t versions = 0;
  double seconds = 0;        // in all
  double index_seconds = 0;  // of which building the indexes after the load (EndBulkLoad)
};

// Generates `persons` persons with `seed` into `store`, which must be empty (kConflict
// otherwise). Trains the register's compression dictionary from the first records. Reports
// progress on stderr when `progress` is set. All batches are committed in order; on failure the
// batches already committed stay (the register is then partial: the error says so).
Result<PopulateSummary> Populate(store::RegisterStore& store, uint64_t persons, uint64_t seed,
                                 int threads, bool progress);

}  // namespace norreg::cli
