// The extract job store in PostgreSQL, shared by every node of one register (contract:
// store/uttrekk_job_store.hpp). Tables uttrekk_jobs and uttrekk_batches are created by the
// register's migration 2 (postgres_store.cpp).
//
// - The per-organisation limit: Create takes the transaction-scoped advisory lock of the
//   organisation (pg_advisory_xact_lock(kLockSpace, hashtext(orgnr))), counts its unfinished jobs
//   and inserts in the same transaction, so concurrent orders on any nodes are serialised per
//   organisation and never exceed the limit.
// - Leases: Claim takes the oldest claimable row with FOR UPDATE SKIP LOCKED (concurrent claims
//   never wait for each other nor take the same job) and sets lease_owner and lease_until_ms.
//   Lease times are on the server's clock (clock_timestamp()), so the nodes' clocks do not have
//   to agree; order and expiry times are the nodes' (they come from the service's clock).
// - Batches are inserted with ON CONFLICT DO NOTHING: the first body stays, and a node taking
//   over a job skips the batches it finds. A batch row is whole when it is visible (one INSERT),
//   so a batch is never served partial.
#include <algorithm>

#include "store/postgres/pg.hpp"
#include "store/register_encoding.hpp"
#include "store/uttrekk_job_store.hpp"

namespace norreg::store {
namespace {

using pg::Connection;
using pg::Params;

// The first key of the organisations' advisory locks ("norr"); the second is hashtext(orgnr).
constexpr int32_t kLockSpace = 0x6e6f7272;
constexpr std::string_view kForeignKeyViolation = "23503";

// Pieces of the statements below, pasted in by the preprocessor: pg::Statement needs one literal
// per statement that lives as long as the program.
#define NORREG_DB_NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
#define NORREG_JOB_COLUMNS \
  "id::text, orgnr, kind, seq, criteria, ordered_ms, expires_ms, state, batches"

constexpr pg::Statement kLockOrg{"uttrekk_lock_org",
                                 "SELECT pg_advisory_xact_lock($1, hashtext($2))"};
constexpr pg::Statement kCountUnfinished{
    "uttrekk_count_unfinished",
    "SELECT count(*) FROM uttrekk_jobs WHERE orgnr = $1 AND state <> 2"};
// The organisation's jobs not expired at $2, unfinished ones first (its jobs by the index
// uttrekk_jobs_orgnr: at most max_kept of them are alive, and the sweeper deletes the expired).
constexpr pg::Statement kCountJobs{
    "uttrekk_count_jobs",
    "SELECT count(*) FILTER (WHERE state <> 2), count(*) FILTER (WHERE expires_ms > $2) "
    "FROM uttrekk_jobs WHERE orgnr = $1"};
constexpr pg::Statement kInsertJob{
    "uttrekk_insert_job",
    "INSERT INTO uttrekk_jobs(id, orgnr, kind, seq, criteria, state, ordered_ms, expires_ms) "
    "VALUES($1::uuid, $2, $3, $4, $5, 0, $6, $7)"};
constexpr pg::Statement kFindJob{
    "uttrekk_find_job", "SELECT " NORREG_JOB_COLUMNS " FROM uttrekk_jobs WHERE id = $1::uuid"};
constexpr pg::Statement kClaimJob{
    "uttrekk_claim_job",
    "UPDATE uttrekk_jobs SET state = 1, lease_owner = $1, lease_until_ms = " NORREG_DB_NOW_MS
    " + $2 WHERE id = (SELECT id FROM uttrekk_jobs WHERE expires_ms > $3 AND (state = 0 OR "
    "(state = 1 AND lease_until_ms <= " NORREG_DB_NOW_MS
    ")) ORDER BY ordered_ms LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " NORREG_JOB_COLUMNS};
constexpr pg::Statement kHasClaimable{
    "uttrekk_has_claimable",
    "SELECT EXISTS(SELECT 1 FROM uttrekk_jobs WHERE expires_ms > $1 AND (state = 0 OR "
    "(state = 1 AND lease_until_ms <= " NORREG_DB_NOW_MS ")))"};
constexpr pg::Statement kStoredBatches{
    "uttrekk_stored_batches", "SELECT n FROM uttrekk_batches WHERE job_id = $1::uuid ORDER BY n"};
constexpr pg::Statement kRenew{"uttrekk_renew",
                               "UPDATE uttrekk_jobs SET lease_until_ms = " NORREG_DB_NOW_MS
                               " + $3 WHERE id = $1::uuid AND lease_owner = $2 AND state = 1"};
constexpr pg::Statement kRelease{
    "uttrekk_release",
    "UPDATE uttrekk_jobs SET state = 0, lease_owner = NULL, lease_until_ms = NULL "
    "WHERE id = $1::uuid AND lease_owner = $2 AND state = 1"};
constexpr pg::Statement kPutBatch{
    "uttrekk_put_batch",
    "INSERT INTO uttrekk_batches(job_id, n, ids, body) VALUES($1::uuid, $2, $3, $4) "
    "ON CONFLICT (job_id, n) DO NOTHING"};
constexpr pg::Statement kGetBatch{
    "uttrekk_get_batch", "SELECT body FROM uttrekk_batches WHERE job_id = $1::uuid AND n = $2"};
constexpr pg::Statement kFinish{
    "uttrekk_finish",
    "UPDATE uttrekk_jobs SET state = 2, batches = $2, lease_owner = NULL, lease_until_ms = NULL "
    "WHERE id = $1::uuid"};
constexpr pg::Statement kDelete{"uttrekk_delete", "DELETE FROM uttrekk_jobs WHERE id = $1::uuid"};
constexpr pg::Statement kDeleteExpired{
    "uttrekk_delete_expired", "DELETE FROM uttrekk_jobs WHERE expires_ms <= $1 RETURNING id::text"};

#undef NORREG_DB_NOW_MS
#undef NORREG_JOB_COLUMNS

Error Gone() { return MakeError(ErrorCode::kGone, "Uttrekksjobben finnes ikke"); }

int64_t Signed(uint64_t v) { return static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX)); }

UttrekkJob JobFromRow(const pg::QueryResult& r, int row) {
  UttrekkJob job;
  job.id = std::string(r.Text(row, 0));
  job.orgnr = std::string(r.Text(row, 1));
  job.kind = r.Int64(row, 2) == 1 ? UttrekkKind::kTilpasset : UttrekkKind::kKomplett;
  job.seq = static_cast<uint64_t>(r.Int64(row, 3));
  if (!r.IsNull(row, 4)) job.criteria_json = std::string(r.Text(row, 4));
  job.ordered_ms = r.Int64(row, 5);
  job.expires_ms = r.Int64(row, 6);
  job.done = r.Int64(row, 7) == 2;
  job.batches = job.done ? static_cast<uint64_t>(r.Int64(row, 8)) : 0;
  return job;
}

class PostgresJobStore final : public UttrekkJobStore {
 public:
  explicit PostgresJobStore(const PostgresOptions& options)
      : pool_(options.conninfo, static_cast<size_t>(std::max(1, options.pool_size)),
              std::chrono::milliseconds(std::max(0, options.pool_wait_ms))) {}

  Status Check() {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto rows = (*lease)->Query("SELECT count(*) FROM uttrekk_jobs");
    return rows.ok() ? Status::Ok() : Status(rows.error());
  }

  Status Create(const UttrekkJob& job, size_t max_unfinished, size_t max_kept) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    Connection& c = **lease;
    return pg::RunInTransaction(c, {}, [&]() -> Status {
      if (auto locked = c.Execute(kLockOrg, Params().Int32(kLockSpace).Text(job.orgnr));
          !locked.ok()) {
        return locked.error();
      }
      auto count = c.Execute(kCountJobs, Params().Text(job.orgnr).Int64(job.ordered_ms));
      if (!count.ok()) return count.error();
      if (static_cast<uint64_t>(count->Int64(0, 0)) >= max_unfinished) {
        return TooManyUnfinished();
      }
      if (static_cast<uint64_t>(count->Int64(0, 1)) >= max_kept) return TooManyKept(max_kept);
      Params params;
      params.Text(job.id)
          .Text(job.orgnr)
          .Int16(job.kind == UttrekkKind::kTilpasset ? 1 : 0)
          .Int64(Signed(job.seq));
      if (job.kind == UttrekkKind::kTilpasset) {
        params.Text(job.criteria_json);
      } else {
        params.Null(pg::Type::kText);
      }
      params.Int64(job.ordered_ms).Int64(job.expires_ms);
      auto inserted = c.Execute(kInsertJob, params);
      return inserted.ok() ? Status::Ok() : Status(inserted.error());
    });
  }

  Result<UttrekkJob> Find(std::string_view id) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto rows = (*lease)->Execute(kFindJob, Params().Text(id));
    if (!rows.ok()) return rows.error();
    if (rows->rows() == 0) return MakeError(ErrorCode::kNotFound, "Uttrekksjobben finnes ikke");
    return JobFromRow(*rows, 0);
  }

  Result<std::optional<ClaimedUttrekkJob>> Claim(std::string_view owner,
                                                 std::chrono::milliseconds lease_time,
                                                 int64_t now_ms) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    Connection& c = **lease;
    auto rows = c.Execute(kClaimJob, Params().Text(owner).Int64(lease_time.count()).Int64(now_ms));
    if (!rows.ok()) return rows.error();
    if (rows->rows() == 0) return std::optional<ClaimedUttrekkJob>();
    ClaimedUttrekkJob claimed{JobFromRow(*rows, 0), {}};
    auto stored = c.Execute(kStoredBatches, Params().Text(claimed.job.id));
    if (!stored.ok()) {
      // Claimed but unusable: give it back so that it is not stuck until the lease runs out.
      (void)c.Execute(kRelease, Params().Text(claimed.job.id).Text(owner));
      return stored.error();
    }
    for (int i = 0; i < stored->rows(); ++i) {
      claimed.stored.push_back(static_cast<uint64_t>(stored->Int64(i, 0)));
    }
    return std::optional<ClaimedUttrekkJob>(std::move(claimed));
  }

  Status Renew(std::string_view id, std::string_view owner,
               std::chrono::milliseconds lease_time) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto r = (*lease)->Execute(kRenew, Params().Text(id).Text(owner).Int64(lease_time.count()));
    if (!r.ok()) return r.error();
    return r->affected() == 1 ? Status::Ok() : Status(Gone());
  }

  Status Release(std::string_view id, std::string_view owner) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto r = (*lease)->Execute(kRelease, Params().Text(id).Text(owner));
    return r.ok() ? Status::Ok() : Status(r.error());
  }

  Status PutBatch(std::string_view id, uint64_t n, std::string_view body, size_t count) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    Connection& c = **lease;
    c.ClearLastError();
    auto r = c.Execute(
        kPutBatch,
        Params().Text(id).Int64(Signed(n)).Int32(static_cast<int32_t>(count)).Bytes(body));
    if (r.ok()) return Status::Ok();
    if (c.last_error().sqlstate == kForeignKeyViolation) return Gone();  // deleted meanwhile
    return r.error();
  }

  Result<std::optional<std::string>> GetBatch(std::string_view id, uint64_t n) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto rows = (*lease)->Execute(kGetBatch, Params().Text(id).Int64(Signed(n)));
    if (!rows.ok()) return rows.error();
    if (rows->rows() == 0) return std::optional<std::string>();
    return std::optional<std::string>(std::string(rows->Bytes(0, 0)));
  }

  Status Finish(std::string_view id, uint64_t batches) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto r = (*lease)->Execute(kFinish, Params().Text(id).Int64(Signed(batches)));
    if (!r.ok()) return r.error();
    return r->affected() == 1 ? Status::Ok() : Status(Gone());
  }

  Status Delete(std::string_view id) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto r = (*lease)->Execute(kDelete, Params().Text(id));
    return r.ok() ? Status::Ok() : Status(r.error());
  }

  Result<std::vector<std::string>> DeleteExpired(int64_t now_ms) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto rows = (*lease)->Execute(kDeleteExpired, Params().Int64(now_ms));
    if (!rows.ok()) return rows.error();
    std::vector<std::string> ids;
    for (int i = 0; i < rows->rows(); ++i) ids.emplace_back(rows->Text(i, 0));
    return ids;
  }

  Result<size_t> CountUnfinished(std::string_view orgnr) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto rows = (*lease)->Execute(kCountUnfinished, Params().Text(orgnr));
    if (!rows.ok()) return rows.error();
    return static_cast<size_t>(rows->Int64(0, 0));
  }

  Result<bool> HasClaimable(int64_t now_ms) override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto rows = (*lease)->Execute(kHasClaimable, Params().Int64(now_ms));
    if (!rows.ok()) return rows.error();
    return rows->Bool(0, 0);
  }

 private:
  pg::ConnectionPool pool_;
};

}  // namespace

Result<std::unique_ptr<UttrekkJobStore>> OpenPostgresUttrekkJobStore(
    const PostgresOptions& options) {
  if (options.conninfo.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "mangler tilkoblingsstreng til PostgreSQL");
  }
  auto store = std::make_unique<PostgresJobStore>(options);
  if (Status s = store->Check(); !s.ok()) return s.error();
  return std::unique_ptr<UttrekkJobStore>(std::move(store));
}

}  // namespace norreg::store
