#pragma once
// Extract jobs (uttrekk, SPEC 2.5): a complete extract (every person's dokumentidentifikator as
// the register stood at a sekvensnummer) or a tailored one (the fødselsnumre of the persons that
// match freg::UttrekkCriteria at the latest sekvensnummer), computed in the background and served
// batch by batch.
//
// How (docs/design.md "Extracts"):
// - Ordering writes the job's metadata and queues it; a small worker pool computes jobs with one
//   RegisterStore::SnapshotScan each. Every batch is written ONCE as its final JSON body
//   ({"dokumentidentifikator":[...]} or {"foedselsEllerDNummer":[...]}) to its own file,
//   atomically, and is served as soon as it exists, before the whole job is done.
// - Serving hands out the body as an immutable shared buffer (no copy, no rebuild) from a
//   byte-bounded LRU cache; a batch just computed is put in the cache at once.
// - On disk, under options.dir, one folder per job: <jobbId>/jobb.json (metadata, see
//   uttrekk.cpp) and <jobbId>/<n>.json (batch n). Jobs survive a restart: finished jobs are served
//   as before; unfinished ones are computed again (deterministic: the same snapshot gives the same
//   batches, and a batch file is never partial because it is renamed into place).
// - Jobs expire `ttl` after they were ordered; a sweeper deletes them (then kGone).
//
// Thread-safety: every public method may be called concurrently from any thread.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "freg/uttrekk_criteria.hpp"
#include "store/register_store.hpp"

namespace norreg::service {

enum class UttrekkKind { kKomplett, kTilpasset };

struct UttrekkOptions {
  std::string dir = "./data/uttrekk";  // job folders live here (created if missing)
  std::chrono::milliseconds ttl = std::chrono::hours(24);  // results expire this long after order
  std::chrono::milliseconds sweep_interval = std::chrono::minutes(1);  // how often expired jobs
                                                                       // are deleted
  // Worker threads computing jobs. 0 = none: jobs are queued and never computed (tests of
  // limits and of recomputation after a restart).
  unsigned workers = 2;
  size_t max_running_per_org = 10;          // unfinished (queued or running) jobs per organisation
  size_t cache_bytes = 128u * 1024 * 1024;  // LRU cache of batch bodies
  size_t komplett_batch_size = 100000;      // ids per batch of a complete extract (SPEC 2.5)
  size_t tilpasset_batch_size = 10000;      // ids per batch of a tailored extract (SPEC 2.5)
  // The clock (milliseconds since the epoch); empty = the system clock. Tests replace it.
  std::function<int64_t()> now_ms;
};

// One batch as served.
struct UttrekkBatch {
  UttrekkKind kind = UttrekkKind::kKomplett;
  // The JSON answer: {"dokumentidentifikator":[...]} (complete) or {"foedselsEllerDNummer":[...]}
  // (tailored); "{}" past the last batch of a finished job. Immutable; never null.
  std::shared_ptr<const std::string> body;
  size_t count = 0;  // ids in the batch; 0 past the end
};

// The ids of a batch body (the strings of its one array), for the disclosure log and for XML.
// `each` gets views into `body`.
void ForEachBatchId(std::string_view body, const std::function<void(std::string_view)>& each);

class UttrekkService {
 public:
  // Opens the job folder: loads the jobs found there (finished ones are served at once,
  // unfinished ones are queued again; expired or unreadable ones are deleted) and starts the
  // workers and the sweeper. `store` must outlive the service. kInternal when options.dir cannot
  // be created or read.
  static Result<std::unique_ptr<UttrekkService>> Open(store::RegisterStore& store,
                                                      UttrekkOptions options);
  // Stops the workers (a running job is abandoned and computed again at the next Open) and the
  // sweeper. Blocks until they have stopped.
  ~UttrekkService();
  UttrekkService(const UttrekkService&) = delete;
  UttrekkService& operator=(const UttrekkService&) = delete;

  // Orders a complete extract as of `feedsekvensnr` (capped to the latest sekvensnummer; the
  // handler refuses 0). Returns the jobbId (a UUID). kRateLimited when `orgnr` already has
  // max_running_per_org unfinished jobs; kInternal when the job cannot be stored.
  Result<std::string> OrderKomplett(std::string_view orgnr, uint64_t feedsekvensnr);
  // Orders a tailored extract at the latest sekvensnummer. Same results as OrderKomplett.
  Result<std::string> OrderTilpasset(std::string_view orgnr, const freg::UttrekkCriteria& criteria);

  // Batch `batchnr` (from 0) of job `jobb_id`. kGone for a malformed, unknown or expired jobbId
  // and for another organisation's job; kNotReady while that batch is still being computed;
  // "{}" (count 0) past the last batch of a finished job; kInternal when a stored batch cannot be
  // read.
  Result<UttrekkBatch> Batch(std::string_view orgnr, std::string_view jobb_id, uint64_t batchnr);

  // Deletes the expired jobs now (the sweeper calls this every sweep_interval); returns how many.
  size_t SweepExpired();
  // Waits until no job is queued or running, at most `timeout`; false on timeout. Always false
  // (after the timeout) while a job is queued and there are no workers.
  bool WaitIdle(std::chrono::milliseconds timeout);

  // Tests and metrics: unfinished jobs of `orgnr`, and the bytes held by the batch cache.
  size_t UnfinishedJobs(std::string_view orgnr);
  size_t CachedBytes();

 private:
  struct State;
  explicit UttrekkService(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace norreg::service
