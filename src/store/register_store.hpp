#pragma once
// The register store: persons with their full history (freg::PersonRecord), the global event
// sequence and the register's metadata. This interface is what every caller uses; SQLite
// (store/sqlite/) is the embedded implementation, PostgreSQL (store/postgres/) the one several
// server nodes share. Both store the same encoded, compressed records and behave the same.
//
// Thread-safety: every method may be called concurrently from any thread. Readers never block
// the writer (SQLite WAL, PostgreSQL MVCC); writes are serialised inside the store (PostgreSQL:
// in the database, so also across processes).
#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "freg/person_record.hpp"

namespace norreg::store {

// One person with the versions (events) that created its documents, as written by the generator
// or an import. `versions` ascend; every row's from_seq/current_until/removed_at is one of them.
struct PersonWrite {
  freg::PersonRecord record;
  std::vector<freg::Version> versions;
};

// A person read back: the record, its internal id and the latest version's sekvensnummer.
struct StoredPerson {
  int64_t person_id = 0;
  uint64_t latest_seq = 0;
  freg::PersonRecord record;
};

struct RawPerson {
  int64_t person_id = 0;
  uint64_t latest_seq = 0;
};

// One event of the global sequence (the feed's row).
struct EventRow {
  uint64_t seq = 0;
  int64_t person_id = 0;
  std::string fnr;  // folkeregisteridentifikator at the time of the event
  freg::Hendelsetype type = freg::Hendelsetype::kPersonErOpprettet;
  timefmt::EpochMs ajourholdstidspunkt = 0;
};

// One person as its document stood at a snapshot sekvensnummer (RegisterStore::SnapshotScan).
// The views point into buffers of the scan and are valid only during the callback.
struct SnapshotEntry {
  int64_t person_id = 0;
  uint64_t version_seq = 0;  // the person's newest version with seq <= the snapshot
  std::string_view fnr;      // folkeregisteridentifikator at that version (11 digits)
  // With SnapshotRecords::kInclude: the person's decompressed encoded record (the whole history;
  // parse with freg::RecordView and evaluate at version_seq). Empty with kSkip.
  std::string_view record;
};

enum class SnapshotRecords { kSkip, kInclude };

// Persons prepared for BulkInsert by EncodeForBulkInsert: each one's stored form and its search
// index terms (freg::SearchTermsOf), index for index with the persons.
struct EncodedPersons {
  std::vector<std::string> blobs;
  std::vector<std::vector<uint32_t>> terms;
};

struct RegisterStats {
  uint64_t persons = 0;
  uint64_t versions = 0;
  uint64_t latest_seq = 0;
  uint64_t bytes_on_disk = 0;
};

class RegisterStore {
 public:
  virtual ~RegisterStore() = default;

  // --- reading ---
  // The person that `fnr` (current or earlier number) identifies. kNotFound when unknown.
  virtual Result<StoredPerson> FindByFnr(std::string_view fnr) = 0;
  // The person whose event `seq` produced a document version. kNotFound when no such version.
  virtual Result<StoredPerson> FindByVersion(uint64_t seq) = 0;
  // Hot-path variants: the person's encoded record (freg/record_codec.hpp) is decompressed into
  // `buffer`, which the caller reuses; parse it with freg::RecordView without copying rows.
  virtual Result<RawPerson> FindRawByFnr(std::string_view fnr, std::string& buffer) = 0;
  virtual Result<RawPerson> FindRawByVersion(uint64_t seq, std::string& buffer) = 0;
  // Runs `fn` with every read this thread makes of this store inside one read snapshot: a bulk
  // answer's documents all come from one state of the register, and the lookups share one
  // transaction instead of taking and releasing the database's read lock each (SQLite: two
  // fcntl and an fstat per lookup, a tenth of a bulk lookup's CPU). Nests (inner calls just run).
  virtual Status InReadSnapshot(const std::function<Status()>& fn) = 0;
  // Bulk lookups: the person of every entry of `fnrs` (as FindRawByFnr) or of `seqs` (as
  // FindRawByVersion), all from one read snapshot. `each(index, person)` is called once per entry,
  // in order, with the person — its record decompressed into `buffer`, valid until the next call
  // — or kNotFound; the first non-OK status it returns stops the lookups and is returned, as is a
  // store failure (kInternal). The default runs FindRaw* per entry inside InReadSnapshot (SQLite:
  // in process, nothing to gain); PostgreSQL answers every entry with one query instead of a
  // round trip each.
  using RawVisitor = std::function<Status(size_t index, const Result<RawPerson>& person)>;
  virtual Status FindRawByFnrs(std::span<const std::string> fnrs, std::string& buffer,
                               const RawVisitor& each);
  virtual Status FindRawByVersions(std::span<const uint64_t> seqs, std::string& buffer,
                                   const RawVisitor& each);
  // Latest sekvensnummer (0 for an empty register).
  virtual uint64_t LatestSeq() = 0;
  // Up to `limit` events with seq >= from_seq, ascending.
  virtual Result<std::vector<EventRow>> Events(uint64_t from_seq, size_t limit) = 0;
  // Counts every row (a scan of the register: seconds at millions of persons).
  virtual Result<RegisterStats> Stats() = 0;
  // RegisterStats::bytes_on_disk alone, without counting rows.
  virtual Result<uint64_t> BytesOnDisk() = 0;
  // A consistent snapshot at `seq` (extracts, SPEC 2.5): calls `each` once for every person that
  // existed at `seq`, with the person's version current at `seq` (the newest version with
  // version seq <= `seq`), in ascending person_id order (stable across calls and restarts).
  // Versions written after `seq`, even while the scan runs, never show. Runs on a dedicated read
  // connection inside one read transaction, so it neither blocks writers nor takes a pooled
  // reader; it allocates per scan (one array of 24 bytes per person), not per person. The first
  // non-OK status from `each` stops the scan and is returned; store failures are kInternal.
  // seq 0 visits nobody.
  virtual Status SnapshotScan(uint64_t seq, SnapshotRecords records,
                              const std::function<Status(const SnapshotEntry&)>& each) = 0;

  // --- writing ---
  // --- person search (freg/person_search.hpp; kept current by every write below) ---
  // The persons whose search terms include `term`, ascending person_id, at most `limit` of them,
  // into `out` (cleared first): out.size() == limit means there may be more. Inside
  // InReadSnapshot it reads that snapshot.
  virtual Status SearchPosting(uint32_t term, size_t limit, std::vector<int64_t>& out) = 0;
  // Visits, each with its record in `buffer`, the persons whose search terms include, for every
  // one of `groups` (given most selective first), one of the group's terms (a criterion's term in
  // each scope it may match in, freg::TermScope), in one read snapshot, until `each` returns
  // non-OK (that status is returned). It may also visit persons lacking a group — a store may
  // leave out a group too common to narrow by; the caller tests every person exactly — and
  // answers false, having visited nobody, when no group narrows enough to be worth reading: the
  // caller then scans.
  virtual Result<bool> FindRawBySearchTerms(
      std::span<const std::vector<uint32_t>> groups, std::string& buffer,
      const std::function<Status(const RawPerson&)>& each) = 0;

  // Appends new persons whose versions carry sekvensnummer above LatestSeq() as their caller
  // chose them (the generator assigns them round by round across its batches, so one batch may
  // leave gaps that the next fills: a loader must fill every gap before the register is served).
  // All-or-nothing. kConflict if a number or a sekvensnummer is taken.
  // `encoded` (optional) is EncodeForBulkInsert's result for the same persons; without it the
  // records are encoded here. The persons' search terms are stored in the same transaction
  // (between BeginBulkLoad and EndBulkLoad: kept aside, and indexed by EndBulkLoad).
  virtual Status BulkInsert(std::span<const PersonWrite> persons,
                            const EncodedPersons* encoded = nullptr) = 0;
  // The stored form (encoded, compressed) of each person's record and its search terms, computed
  // in parallel and without any lock, so that a caller can prepare the next batch while one is
  // being inserted.
  virtual EncodedPersons EncodeForBulkInsert(std::span<const PersonWrite> persons) = 0;
  // A load of many BulkInserts into a register nobody searches meanwhile (the generator): between
  // the two calls the search terms are kept aside (SQLite: a side table; PostgreSQL: the rows,
  // without their index) and EndBulkLoad indexes them in one sorted pass (one transaction), which
  // is many times faster than inserting them in random order as they come. Until EndBulkLoad has
  // committed, the index counts as out of date: a store opened after a crash in between rebuilds
  // it from the records. PostgreSQL, loading into an empty register, also builds the keys of
  // versions and identifiers at the end: a duplicate number or sekvensnummer is then kConflict
  // from EndBulkLoad, not from BulkInsert.
  virtual Status BeginBulkLoad() = 0;
  virtual Status EndBulkLoad() = 0;
  // Runs `change` once per entry of `fnrs`, in order, inside ONE write transaction: each call
  // gets the entry's index, the next free sekvensnummer and the current person (nullopt for a new
  // one) and returns the person's new record plus the versions it added. The first error aborts
  // the transaction and is returned: nothing of the batch is stored (imports are all-or-nothing).
  // Returns the last sekvensnummer written.
  using ChangeFn = std::function<Result<PersonWrite>(size_t index, uint64_t next_seq,
                                                     const std::optional<StoredPerson>& current)>;
  virtual Result<uint64_t> ApplyChanges(std::span<const std::string> fnrs,
                                        const ChangeFn& change) = 0;

  // --- metadata ---
  // The 16-byte key that maps sekvensnummer <-> dokumentidentifikator (created on first open).
  virtual std::array<uint8_t, 16> DocumentKey() = 0;
  // Trains/installs the compression dictionary from sample records (done by the generator on a
  // fresh register). Records written before keep their own (or no) dictionary.
  virtual Status InstallDictionary(const std::vector<std::string>& samples) = 0;
};

struct SqliteOptions {
  std::string data_dir = "./data";  // register.db lives here (created if missing)
  bool read_only = false;
  // PRAGMA mmap_size. 0 by default: mapped pages count as the server's resident memory, while
  // the kernel's page cache (used by plain reads) does not, and the register may be far larger
  // than memory. Mapped, searches that read many records run faster (BENCHMARKS.md);
  // `sqlite_mmap_mb` lets an operator choose that.
  int64_t mmap_bytes = 0;
  int cache_kib = 32 * 1024;         // page cache of each read connection
  int writer_cache_kib = 64 * 1024;  // page cache of the write connection (bulk loads)
};

// Opens (creating and migrating when needed) the SQLite register in options.data_dir.
Result<std::unique_ptr<RegisterStore>> OpenSqliteStore(const SqliteOptions& options);

struct PostgresOptions {
  // A libpq connection string: "host=/run/pg dbname=norreg" or "postgresql://user@host/norreg"
  // (https://www.postgresql.org/docs/15/libpq-connect.html). The register's tables live in the
  // connection's search_path (normally the schema `public`). Required.
  std::string conninfo;
  // Connections kept for reads (lookups, feed, InReadSnapshot). The store also holds one write
  // connection and opens one per running SnapshotScan, so a store uses at most pool_size + 1 +
  // (concurrent scans) server connections.
  int pool_size = 8;
  // How long a read waits for a pooled connection when all pool_size are busy (then kInternal).
  int pool_wait_ms = 10'000;
};

// Opens the PostgreSQL register that options.conninfo names, creating its tables and migrating
// them when needed (under an advisory lock: several nodes may start at once against one
// database). kInternal when the server cannot be reached, the schema is newer than this norreg
// (the message says "nyere") or migrating fails; kInvalidInput for an empty conninfo.
//
// The PostgreSQL store behaves as the SQLite one (same errors, order and snapshots) with these
// properties of its own:
//  - Every write transaction first locks the one row of table register_sequence, which holds the
//    highest sekvensnummer and person_id in use. Writers of all processes sharing the database
//    are thereby serialised. ApplyChanges gives out the numbers after it, in commit order: they
//    stay gap-free and strictly increasing across processes, and a failed write gives none out.
//    BulkInsert stores the numbers its caller chose, as SQLite does (kConflict for a taken one,
//    e.g. after a stale LatestSeq(): read it again and retry); a loader whose batches interleave
//    their numbers, as the generator's do, must fill every gap before the register is served.
//  - BulkInsert loads its rows with COPY (binary); writes run in READ COMMITTED and are never
//    run twice on their own (ApplyChanges' `change` runs once per entry).
//  - SnapshotScan and InReadSnapshot read inside one REPEATABLE READ READ ONLY transaction.
//    SnapshotScan reads through a server-side cursor in chunks (memory per chunk, not per
//    register) on a connection of its own.
//  - A compression dictionary installed by another node is loaded when a record needs it.
//  - Stats().bytes_on_disk is the size of the register's tables with their indexes and TOAST.
Result<std::unique_ptr<RegisterStore>> OpenPostgresStore(const PostgresOptions& options);

}  // namespace norreg::store
