#pragma once
// Internal to the disclosure audit log (store/audit_log.hpp): the index its background indexer
// writes journal lines into and its queries read, behind one seam with two implementations —
// SQLite in the node's own folder (<dir>/audit.db, store/sqlite/audit_sqlite_index.cpp) and
// PostgreSQL shared by every node (store/postgres/audit_postgres_index.cpp). The journal, the
// block building, the line format and the query's merge with the journal tail stay in
// audit_log.cpp; a backend stores and finds blocks and keeps the journal cursor.
//
// A block is up to 64 journal lines as recorded (a zstd frame, or for old SQLite rows the plain
// lines), with the least time of its lines and the "running max": the greatest time in this block
// and in every earlier block of the same stream, so that it never decreases along a stream and a
// newest-first scan may stop at the first block whose running max is older than what it still
// needs. SQLite has one stream (its blocks in id order); PostgreSQL one per node (each node's
// blocks in id order), since nodes index concurrently and one node's running max says nothing
// about another's blocks.
//
// The cursor (segment, offset) says how far this node's journal is indexed. It is committed in the
// same transaction as the blocks it covers, so nothing is indexed twice or lost after a crash.
//
// Thread-safety: the writer functions are called by one thread (the indexer) at a time; Scan and
// CommittedCursor are thread-safe and may run beside the writer.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace norreg::store::audit {

struct Cursor {
  int64_t segment = 0;  // journal segment (from 1); 0 = nothing indexed yet
  int64_t offset = 0;   // bytes of that segment indexed
  bool operator==(const Cursor&) const = default;
};

// A block as the indexer made it.
struct NewBlock {
  int64_t min_time_ms = 0;
  int64_t max_time_ms = 0;               // the running max (see above)
  std::string_view stored;               // the zstd frame of the lines
  std::span<const std::string> persons;  // the identifiers in its lines: sorted, unique
  std::span<const std::string> orgs;     // the consumer organisations (digits): unique
};

// A block a query reads. The views are valid during the visit only.
struct StoredBlock {
  int64_t id = 0;  // increases with recording order within a stream; unique in the index
  int64_t max_time_ms = 0;
  std::string_view stored;
};

// What a query needs from the index. With `person` set only blocks naming that person are read;
// else with `org` set only blocks of that organisation; else all. Blocks whose least time is after
// `until_ms` are left out.
struct IndexQuery {
  std::string_view person;
  std::string_view org;  // the nine digits
  int64_t until_ms = INT64_MAX;
};

enum class Visit { kMore, kEndStream };
// Called for each block, newest first within its stream; kEndStream ends the current stream (the
// scan goes on with the next one). An error ends the scan and is returned by Scan.
using BlockVisitor = std::function<Result<Visit>(const StoredBlock&)>;

class IndexBackend {
 public:
  virtual ~IndexBackend() = default;

  // --- writer (a backend opened for writing; the indexer thread) ---
  // The running max of this node's newest block (INT64_MIN when it has none), which the next
  // block continues.
  virtual Result<int64_t> LastMaxTime() = 0;
  // Starts a batch: blocks added until CommitBatch become visible together with the cursor, or
  // not at all. Returns the committed cursor (the batch starts there).
  virtual Result<Cursor> BeginBatch() = 0;
  virtual Status AddBlock(const NewBlock& block) = 0;
  // Commits the batch's blocks with `next` as the cursor. On failure nothing of the batch is kept.
  virtual Status CommitBatch(const Cursor& next) = 0;
  // Drops the batch (after a failure, or when there is nothing to commit).
  virtual void AbortBatch() = 0;

  // --- readers ---
  // Visits the blocks that may hold matches of `query` (see IndexQuery, Visit) in one snapshot and
  // returns this node's cursor in that snapshot (Cursor{} when the index is empty or the node has
  // none): the journal from there on is what the index did not hold.
  virtual Result<Cursor> Scan(const IndexQuery& query, const BlockVisitor& visit) const = 0;
  // This node's committed cursor now.
  virtual Result<Cursor> CommittedCursor() const = 0;
};

// How the SQLite index keeps its person postings: sorted runs, `fanout` of a level merged into one
// of the next; runs whose merge would pass `max_merged_postings` are sealed, never merged
// (store/sqlite/audit_sqlite_index.cpp). Tests choose small values.
struct SqliteIndexOptions {
  int fanout = 8;
  int64_t max_merged_postings = int64_t{1} << 26;
};

// SQLite at `path` (created and migrated unless read_only; a read-only index that does not exist
// yet reads as empty). kInternal when it cannot be opened or migrated.
Result<std::unique_ptr<IndexBackend>> OpenSqliteIndex(const std::string& path, bool read_only,
                                                      const SqliteIndexOptions& options = {});

struct PostgresIndexOptions {
  std::string conninfo;  // a postgresql:// URI; tables in its search_path
  // This node's identity (<dir>/node-id): whose cursor is kept and read. Required for writing;
  // "" for a reader without a journal (the index of all nodes, no cursor).
  std::string node_id;
  bool read_only = false;  // no migrations, no node row; missing tables read as empty
  size_t reader_connections = 4;
};

// PostgreSQL, shared by every node (audit_* tables, migrations in audit_schema_version under an
// advisory lock). A writer registers its node and holds a session advisory lock for it as long
// as it lives, so two processes with the same node id (a copied data folder) cannot both index:
// the second is refused. kInternal when the server cannot be reached, the schema is newer than
// this norreg, or the node is in use.
Result<std::unique_ptr<IndexBackend>> OpenPostgresIndex(const PostgresIndexOptions& options);

}  // namespace norreg::store::audit
