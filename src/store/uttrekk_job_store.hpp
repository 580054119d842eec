#pragma once
// Where extract jobs (uttrekk, SPEC 2.5) and their batches live: the job's metadata, its state
// (queued, running under a lease, done with its batch count) and every batch body once written.
// service::UttrekkService computes and serves the jobs on top of this interface.
//
// Two implementations:
//  - OpenFileUttrekkJobStore: one process, folders under a directory (the embedded default used
//    with the SQLite register): <dir>/<jobbId>/jobb.json and <dir>/<jobbId>/<n>.json.
//  - OpenPostgresUttrekkJobStore: tables uttrekk_jobs and uttrekk_batches in the PostgreSQL
//    register (created by the register's migrations), shared by every node using that register.
//    Jobs are claimed with SELECT ... FOR UPDATE SKIP LOCKED under a lease the claiming node
//    renews; a job whose lease ran out (its node died) is claimed again by any node.
//
// Contract shared by both (tests/unit/service/uttrekk_job_store_test.cpp runs it on both):
//  - A batch is stored whole or not at all and never changes once stored (PutBatch of a batch
//    already there keeps the first body: the computation is deterministic). GetBatch returns a
//    batch only once it is stored by the current computation (the file store ignores batch files
//    left by an unfinished computation before a restart; PostgreSQL keeps them, since they are
//    whole and identical).
//  - Errors: kNotFound for an unknown job (Find), kGone when a job was deleted (or its lease lost:
//    Renew) under the caller, kRateLimited from Create at the per-organisation limit, kInternal
//    for storage failures (detail for the log only).
//
// Thread-safety: every method may be called concurrently from any thread.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "store/register_store.hpp"

namespace norreg::store {

enum class UttrekkKind { kKomplett, kTilpasset };

// One job's metadata and state.
struct UttrekkJob {
  std::string id;     // jobbId: a UUID in lower case
  std::string orgnr;  // the ordering organisation
  UttrekkKind kind = UttrekkKind::kKomplett;
  uint64_t seq = 0;           // the snapshot's sekvensnummer
  std::string criteria_json;  // freg::UttrekkCriteria::ToJson() (tailored only)
  int64_t ordered_ms = 0;     // epoch ms of the order
  int64_t expires_ms = 0;     // epoch ms from which the job is gone
  bool done = false;          // every batch is stored; `batches` is final
  uint64_t batches = 0;       // number of batches (when done)
};

// A job claimed for computing, with the batches already stored by an earlier computation (by a
// node that died mid-job): the new computation need not store them again.
struct ClaimedUttrekkJob {
  UttrekkJob job;
  std::vector<uint64_t> stored;  // ascending
};

// The refusals of UttrekkJobStore::Create, the same from both stores.
inline Error TooManyUnfinished() {
  return MakeError(ErrorCode::kRateLimited,
                   "For mange uttrekksjobber pågår for virksomheten; prøv igjen senere");
}
inline Error TooManyKept(size_t max_kept) {
  return MakeError(ErrorCode::kRateLimited,
                   "Virksomheten har allerede " + std::to_string(max_kept) +
                       " uttrekk som ikke er utløpt; prøv igjen når et er utløpt");
}

class UttrekkJobStore {
 public:
  virtual ~UttrekkJobStore() = default;

  // Stores a new, queued job unless job.orgnr already has `max_unfinished` unfinished (queued or
  // running) jobs, or `max_kept` jobs in any state that have not expired at job.ordered_ms (each
  // holds its batches until it expires: a complete extract is ~35 MB per million persons):
  // kRateLimited (the counts and the insert are atomic, across nodes too).
  virtual Status Create(const UttrekkJob& job, size_t max_unfinished, size_t max_kept) = 0;
  // The job `id` (any state, expired or not). kNotFound when there is none.
  virtual Result<UttrekkJob> Find(std::string_view id) = 0;
  // Claims the oldest job that is queued, or running under a lease that has run out, and is not
  // expired at `now_ms`: it becomes running under `owner`'s lease of `lease` (measured on the
  // store's clock: PostgreSQL's, so nodes' clocks need not agree). nullopt when there is none.
  // The file store has no leases (one process): a running job is never claimed again.
  virtual Result<std::optional<ClaimedUttrekkJob>> Claim(std::string_view owner,
                                                         std::chrono::milliseconds lease,
                                                         int64_t now_ms) = 0;
  // Extends `owner`'s lease on running job `id` to `lease` from now. kGone when the job is gone
  // or no longer `owner`'s (another node took it over): stop computing it.
  virtual Status Renew(std::string_view id, std::string_view owner,
                       std::chrono::milliseconds lease) = 0;
  // Gives up `owner`'s lease (this node stops): the job is queued again at once.
  virtual Status Release(std::string_view id, std::string_view owner) = 0;
  // Stores batch `n` of job `id` (`count` ids) unless it is stored already. kGone when the job
  // is gone.
  virtual Status PutBatch(std::string_view id, uint64_t n, std::string_view body, size_t count) = 0;
  // Batch `n` of job `id`, or nullopt when it is not stored (yet).
  virtual Result<std::optional<std::string>> GetBatch(std::string_view id, uint64_t n) = 0;
  // Marks job `id` done with `batches` batches (0..batches-1 are stored). kGone when it is gone.
  virtual Status Finish(std::string_view id, uint64_t batches) = 0;
  // Deletes job `id` and its batches (a failed job: its client gets kGone). Ok when absent.
  virtual Status Delete(std::string_view id) = 0;
  // Deletes every job with expires_ms <= now_ms and returns their ids. Safe to run on several
  // nodes at once: each job is deleted (and reported) once.
  virtual Result<std::vector<std::string>> DeleteExpired(int64_t now_ms) = 0;
  // Unfinished (queued or running) jobs of `orgnr`.
  virtual Result<size_t> CountUnfinished(std::string_view orgnr) = 0;
  // True when Claim(…, now_ms) would find a job.
  virtual Result<bool> HasClaimable(int64_t now_ms) = 0;
};

// Opens (creating) the job folder `dir`: loads the jobs found there (a job's expiry is its order
// time + `ttl`); unfinished ones are queued again; unreadable folders are deleted (logged).
// kInternal when `dir` cannot be created or listed.
Result<std::unique_ptr<UttrekkJobStore>> OpenFileUttrekkJobStore(const std::string& dir,
                                                                 std::chrono::milliseconds ttl);

// Opens the job tables of the PostgreSQL register `options.conninfo` names. The register must
// have been opened once (OpenPostgresStore creates the tables in its migrations). Uses a pool of
// options.pool_size connections. kInternal when the server cannot be reached.
Result<std::unique_ptr<UttrekkJobStore>> OpenPostgresUttrekkJobStore(
    const PostgresOptions& options);

}  // namespace norreg::store
