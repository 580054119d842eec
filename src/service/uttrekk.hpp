#pragma once
// Extract jobs (uttrekk, SPEC 2.5): a complete extract (every person's dokumentidentifikator as
// the register stood at a sekvensnummer) or a tailored one (the fødselsnumre of the persons that
// match freg::UttrekkCriteria at the latest sekvensnummer), computed in the background and served
// batch by batch.
//
// How (docs/design.md "Extracts"):
// - Ordering stores the job in a store::UttrekkJobStore (the per-organisation limit is checked
//   there, atomically) and wakes this node's workers. Workers claim jobs from the job store
//   (queued ones, and ones whose lease ran out: their node died) and compute each with one
//   RegisterStore::SnapshotScan. Every batch is stored ONCE as its final JSON body
//   ({"dokumentidentifikator":[...]} or {"foedselsEllerDNummer":[...]}) and is served as soon as
//   it is stored, before the whole job is done.
// - While a worker computes a job, a heartbeat renews its lease every lease/3; a job whose lease
//   is lost (taken over, or deleted by expiry) is abandoned. Idle workers look for claimable jobs
//   every poll_interval (jobs ordered on other nodes, leases run out) and at once after an order
//   on this node.
// - Serving hands out the body as an immutable shared buffer (no copy, no rebuild) from a
//   byte-bounded LRU cache; a batch just computed is put in the cache at once. Finished jobs'
//   metadata is cached too, so serving a cached batch of a finished job touches no store.
// - Job stores: the folder store (store::OpenFileUttrekkJobStore, options.dir: one folder per job,
//   jobs survive a restart, unfinished ones are computed again) when the register is SQLite; the
//   PostgreSQL store shared by every node of a PostgreSQL register. Recomputing is deterministic
//   (the same snapshot gives the same batches), so a job taken over gives the same bytes.
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
#include "freg/packages.hpp"
#include "freg/uttrekk_criteria.hpp"
#include "store/register_store.hpp"
#include "store/uttrekk_job_store.hpp"

namespace norreg::service {

using UttrekkKind = store::UttrekkKind;

struct UttrekkOptions {
  // Job folders live here (created if missing) when Open is given no job store.
  std::string dir = "./data/uttrekk";
  std::chrono::milliseconds ttl = std::chrono::hours(24);  // results expire this long after order
  std::chrono::milliseconds sweep_interval = std::chrono::minutes(1);  // how often expired jobs
                                                                       // are deleted
  // Worker threads computing jobs. 0 = none: jobs are queued and never computed (tests of
  // limits and of recomputation after a restart).
  unsigned workers = 2;
  size_t max_running_per_org = 10;          // unfinished (queued or running) jobs per organisation
  size_t max_kept_per_org = 20;             // jobs per organisation not yet expired, any state
  size_t cache_bytes = 128u * 1024 * 1024;  // LRU cache of batch bodies
  size_t komplett_batch_size = 100000;      // ids per batch of a complete extract (SPEC 2.5)
  size_t tilpasset_batch_size = 10000;      // ids per batch of a tailored extract (SPEC 2.5)
  // A claimed job stays this node's for `lease` after its last renewal (renewed every lease/3);
  // then any node may take it over. PostgreSQL job store only (the folder store has one process).
  std::chrono::milliseconds lease = std::chrono::seconds(30);
  // How often idle workers look for jobs they were not told about (ordered on other nodes, or
  // whose lease ran out).
  std::chrono::milliseconds poll_interval = std::chrono::seconds(1);
  // This node's name as lease owner; "" = a new UUID per Open.
  std::string node_id;
  // TEST ONLY (0 in production): a worker pauses this long after storing each batch, so that
  // tests can stop or kill a node while it computes a job.
  std::chrono::milliseconds test_batch_delay{0};
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
  // Opens the job folder options.dir (store::OpenFileUttrekkJobStore: finished jobs are served
  // at once, unfinished ones are queued again, unreadable ones deleted), deletes the expired
  // jobs and starts the workers, the heartbeat and the sweeper. `store` must outlive the
  // service. kInternal when options.dir cannot be created or read.
  static Result<std::unique_ptr<UttrekkService>> Open(store::RegisterStore& store,
                                                      UttrekkOptions options);
  // The same with the jobs in `jobs` (e.g. store::OpenPostgresUttrekkJobStore; options.dir is
  // then unused). `jobs` must not be null.
  static Result<std::unique_ptr<UttrekkService>> Open(store::RegisterStore& store,
                                                      std::unique_ptr<store::UttrekkJobStore> jobs,
                                                      UttrekkOptions options);
  // Stops the workers (a running job is abandoned: its lease is released so that another node
  // takes it over at once; the folder store computes it again at the next Open), the heartbeat
  // and the sweeper. Blocks until they have stopped.
  ~UttrekkService();
  UttrekkService(const UttrekkService&) = delete;
  UttrekkService& operator=(const UttrekkService&) = delete;

  // Orders a complete extract as of `feedsekvensnr` (capped to the latest sekvensnummer; the
  // handler refuses 0). Returns the jobbId (a UUID). kRateLimited when `orgnr` already has
  // max_running_per_org unfinished jobs or max_kept_per_org unexpired ones; kInternal when the
  // job cannot be stored.
  Result<std::string> OrderKomplett(std::string_view orgnr, uint64_t feedsekvensnr);
  // Orders a tailored extract at the latest sekvensnummer, through `package`: without confidential
  // data (freg::Confidential::kNone) its criteria never match a protected address
  // (UttrekkCriteria::withhold_confidential). Same results as OrderKomplett.
  Result<std::string> OrderTilpasset(std::string_view orgnr, freg::UttrekkCriteria criteria,
                                     const freg::Package& package = freg::OffentligMedHjemmel());

  // Batch `batchnr` (from 0) of job `jobb_id`, ordered on any node sharing the job store. kGone
  // for a malformed, unknown or expired jobbId and for another organisation's job; kNotReady
  // while that batch is not stored yet; "{}" (count 0) past the last batch of a finished job;
  // kInternal when the job store fails.
  Result<UttrekkBatch> Batch(std::string_view orgnr, std::string_view jobb_id, uint64_t batchnr);

  // Deletes the expired jobs now (the sweeper calls this every sweep_interval); returns how many.
  size_t SweepExpired();
  // Waits until no job is claimable (queued, or with its lease run out) and none runs on this
  // node, at most `timeout`; false on timeout. Always false (after the timeout) while a job is
  // queued and there are no workers. Jobs running on other nodes are not waited for.
  bool WaitIdle(std::chrono::milliseconds timeout);

  // Tests and metrics: unfinished jobs of `orgnr` (in the job store: all nodes'; 0 when it
  // fails), and the bytes held by this node's batch cache.
  size_t UnfinishedJobs(std::string_view orgnr);
  size_t CachedBytes();

 private:
  struct State;
  explicit UttrekkService(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace norreg::service
