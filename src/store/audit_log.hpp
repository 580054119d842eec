#pragma once
// The disclosure audit log: every disclosure of person data (lookup, bulk lookup, extract batch,
// mottak download) is recorded with who (consumer org, client, supplier), what (the identifiers)
// and when — so the register can answer "who looked me up" (SPEC 2.1).
//
// Design (why it does not slow lookups): Record() reserves room in a journal segment with one
// atomic add and copies one line into a shared mapping of the segment file; once Record() returns
// the entry is in the page cache and survives a crash of the process. To survive a power loss too
// before the data leaves, the caller asks WhenDurable: a syncer thread flushes the journal to disk
// (msync) for every waiter that came before the flush began, so many answers share one flush, and
// no thread of the caller waits meanwhile (docs/design.md, "Disclosure log"). A background indexer
// at idle priority moves journal lines into an index (by time, by person, by organisation) in large
// transactions and records how far it got (the cursor) in the same transaction, so nothing is
// indexed twice or lost; fully indexed journal segments are deleted. A torn line (a crash
// mid-copy) is skipped. Details in audit_log.cpp.
//
// The index is SQLite in the folder (<dir>/audit.db: this node's disclosures), or, with
// `AuditOptions::db`, PostgreSQL shared by every server node (store/audit_index.hpp): each node
// still records into its own journal, its indexer moves the lines to the shared tables under the
// node's identity (<dir>/node-id, a UUID made once; the cursor is kept per node), and a query
// answers for all nodes. Other nodes' disclosures appear once their indexer has moved them (within
// index_interval, unless a node defers under load); this node's own journal tail is always read.
//
// Files: <dir>/journal-<n>.ndjson (segments, rolled at `segment_bytes`), <dir>/journal.lock,
// <dir>/audit.db (SQLite) or <dir>/node-id (PostgreSQL). A folder keeps one index: moving a
// node between SQLite and PostgreSQL starts a new index there (the old one stays readable with
// its own option); let the writer close first, so that its journal is fully indexed.
// Thread-safety: Record and Query are thread-safe.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace norreg::store {

struct Disclosure {
  int64_t time_ms = 0;         // ms since the epoch; 0 = now
  std::string consumer_orgnr;  // the organisation the data is for (a "0192:" prefix is dropped
                               // when recorded; queries accept either form)
  std::string client_id;
  std::string supplier_orgnr;  // "" when none (the "0192:" prefix dropped too)
  std::string endpoint;        // route name, e.g. "freg.person"
  std::string request_id;
  std::vector<std::string> identifiers;  // fødsels-/d-numre (or mottakId) disclosed
};

struct AuditOptions {
  std::string dir;  // e.g. <data>/audit (created if missing); may be "" for a read-only log on db
  // "" = the index is SQLite in `dir`; else a postgresql:// URI: the index shared by the nodes
  // (tables in its search_path, created by the first writer). A read-only log on db reads every
  // node's indexed disclosures, plus the journal tail of `dir` when that folder has a node-id.
  std::string db;
  bool read_only = false;                         // query only: no journal, no indexer
  std::chrono::milliseconds index_interval{200};  // indexer wakes at least this often
  uint64_t segment_bytes = 64ull << 20;           // journal segment size before rolling
  // Indexing waits while the machine's CPUs are busier than this (by everything but the indexer),
  // unless more than max_unindexed_bytes of journal wait: under load the journal takes the
  // disclosures and the index catches up when the load drops. 1.0 = never wait for the CPUs.
  // Flush() and closing always index everything; queries always see the unindexed journal too.
  double defer_above_cpu_busy = 0.85;
  // Indexing also waits while the syncer spent more than this share of the last interval flushing
  // for answers that wait (WhenDurable): the indexer's writes would queue before their flushes at
  // the disk. 1.0 = never wait for that.
  double defer_above_flushing = 0.5;
  uint64_t max_unindexed_bytes = 64ull << 20;
  // When the last flush served more than one waiter (answers come at once), the syncer waits up to
  // this long for more waiters before it flushes, so that more answers share a flush; a lone
  // waiter is flushed at once. 0 = never wait.
  std::chrono::microseconds sync_gather{250};
};

struct AuditQuery {
  std::string orgnr;             // "" = any consumer organisation
  std::string person;            // "" = any identifier
  int64_t since_ms = 0;          // inclusive
  int64_t until_ms = INT64_MAX;  // inclusive
  std::size_t limit = 1000;      // newest first
};

// How long the syncer's flushes took (WhenDurable): a cumulative histogram, for /metrics.
struct FlushTimes {
  static constexpr std::array<double, 8> kBounds{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 1};
  std::array<uint64_t, kBounds.size()> at_most{};  // flushes of at most kBounds[i] seconds
  uint64_t count = 0;
  double sum_s = 0;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Appends to the journal (see above). kInternal when the journal cannot be written: the caller
  // must not disclose then.
  virtual Status Record(const Disclosure& disclosure) = 0;
  // Whether this thread called Record (of any log) since the last call; resets that. A server asks
  // after each handler whether the answer must wait for WhenDurable.
  static bool TakeThreadRecorded();
  // Calls `done(true)` once every line recorded before this call is on disk, `done(false)` when
  // flushing failed (the caller must not disclose then). From the syncer thread, or at once (a
  // read-only log; a log that is closing flushes first).
  virtual void WhenDurable(std::function<void(bool)> done) = 0;
  // Indexes everything recorded so far (waits for the indexer). For tests and shutdown.
  virtual Status Flush() = 0;
  // Disclosures matching the query, newest first. Includes entries still only in the journal
  // (also for a read-only log opened while a server is writing); on db, every node's indexed
  // disclosures and this folder's journal tail. With `person` set, each result's identifiers list
  // only that person; otherwise all identifiers of the disclosure.
  virtual Result<std::vector<Disclosure>> Query(const AuditQuery& query) const = 0;
  // The flushes made for WhenDurable's waiters so far.
  virtual FlushTimes SyncTimes() const = 0;
};

// Opens (creating when missing, unless read_only) the audit log in options.dir and starts the
// indexer. kInternal when the folder or database cannot be opened, the PostgreSQL server cannot be
// reached, its schema is newer than this norreg, or another process indexes as the same node (a
// copied folder). A read-only log creates nothing: before the first writer it reads as empty.
Result<std::unique_ptr<AuditLog>> OpenAuditLog(const AuditOptions& options);

}  // namespace norreg::store
