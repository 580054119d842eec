// The disclosure audit log's index in PostgreSQL (store/audit_index.hpp), shared by every server
// node: each node keeps recording into its own mapped journal (the durability point, as on
// SQLite) and its indexer moves the lines here, so that one query answers for the whole cluster.
//
// Tables (in the connection's search_path, migrations in audit_schema_version):
// - audit_nodes: one row per node (its <dir>/audit/node-id) with the cursor of that node's
//   journal. The cursor is updated in the transaction that stores the blocks it covers, as a
//   compare-and-set on the cursor the batch started from, so a batch is never stored twice, not
//   even by a second process that took the same node id; nodes never touch each other's rows.
// - audit_blocks: the blocks (node, id from the sequence audit_block_ids, least time, the running
//   max of that node's blocks, the zstd lines), keyed by (node, id): there is no index by id
//   alone, so the planner cannot read one node's newest blocks by scanning all nodes' (which,
//   for a node that stopped long ago, would be all other nodes' blocks). Ids are allocated when a
//   batch is stored, so one node's ids increase with its recording order; ids of different nodes
//   interleave. The running max is per node (nodes index concurrently), so a query scans each
//   node's blocks as a stream of its own, newest first, and stops each stream on its own.
// - audit_disclosed (person, node, block) and audit_block_orgs (org, node, block): which blocks
//   of a node name a person or an organisation, so a node's stream for one person is one range of
//   the primary key. Persons and orgs are bytea: the journal may hold any bytes (a hand-edited or
//   torn line) and one bad line must not stop the indexer on a text encoding error.
//
// Writing: a batch's blocks are kept in memory and stored at commit with one round trip for the
// ids and one COPY per table (binary format), then the cursor update: a transaction of a few
// round trips, however many blocks it holds, and no transaction stays open while the indexer reads
// the journal. A writer holds a session advisory lock on its node for as long as it lives; a
// second writer for the same node id is refused at open.
//
// Reading: one REPEATABLE READ READ ONLY transaction on a pooled connection per query, so that the
// cursor and the blocks are one snapshot; each stream is read in pages that grow (8 to 256
// blocks), since most queries stop after a block or two.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>
#include <vector>

#include "common/time.hpp"
#include "store/audit_index.hpp"
#include "store/postgres/pg.hpp"

namespace norreg::store::audit {
namespace {

using pg::Connection;
using pg::ConnectionPool;
using pg::CopyFormat;
using pg::CopyIn;
using pg::Params;

constexpr const char* kInternalMessage = "Feil i tjenesten. Vennligst prøv igjen senere.";

// Advisory lock keys: "norreg", 'A' for the audit log, then the purpose. A node's own lock is the
// two-key form, which PostgreSQL keeps apart from one-key locks: "norA" and a hash of the schema
// and the node id (advisory locks are per database, and several deployments may share one
// database in schemas of their own: a row id would clash across them).
constexpr int64_t kMigrationLockKey = 0x6e6f'7272'6567'4101;
constexpr int32_t kNodeLockClass = 0x6e6f'7241;

// Schema migrations, applied in order; audit_schema_version holds how many have run. Append only.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE audit_nodes(
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node_id text NOT NULL UNIQUE,
  created_ms bigint NOT NULL,
  cursor_segment bigint NOT NULL DEFAULT 0,
  cursor_offset bigint NOT NULL DEFAULT 0);
CREATE SEQUENCE audit_block_ids;
CREATE TABLE audit_blocks(
  node integer NOT NULL,
  id bigint NOT NULL,
  min_time_ms bigint NOT NULL,
  max_time_ms bigint NOT NULL,
  lines bytea NOT NULL,
  PRIMARY KEY(node, id));
ALTER TABLE audit_blocks ALTER COLUMN lines SET STORAGE EXTERNAL;
CREATE TABLE audit_disclosed(
  person bytea NOT NULL,
  node integer NOT NULL,
  block bigint NOT NULL,
  PRIMARY KEY(person, node, block));
CREATE TABLE audit_block_orgs(
  org bytea NOT NULL,
  node integer NOT NULL,
  block bigint NOT NULL,
  PRIMARY KEY(org, node, block));
)sql",
};

constexpr pg::Statement kRegisterNode{
    "audit_register_node",
    "INSERT INTO audit_nodes(node_id, created_ms) VALUES($1, $2) ON CONFLICT (node_id) DO NOTHING"};
constexpr pg::Statement kNodeRow{
    "audit_node_row", "SELECT id, cursor_segment, cursor_offset FROM audit_nodes WHERE node_id=$1"};
constexpr pg::Statement kLockNode{
    "audit_lock_node", "SELECT pg_try_advisory_lock($1, hashtext(current_schema() || ':' || $2))"};
constexpr pg::Statement kLastMax{
    "audit_last_max",
    "SELECT max_time_ms FROM audit_blocks WHERE node=$1 ORDER BY id DESC LIMIT 1"};
constexpr pg::Statement kBlockIds{
    "audit_block_ids", "SELECT nextval('audit_block_ids') FROM generate_series(1::bigint, $1)"};
constexpr pg::Statement kSetCursor{"audit_set_cursor",
                                   "UPDATE audit_nodes SET cursor_segment=$1, cursor_offset=$2 "
                                   "WHERE id=$3 AND cursor_segment=$4 AND cursor_offset=$5"};
constexpr pg::Statement kHasSchema{"audit_has_schema",
                                   "SELECT to_regclass('audit_schema_version') IS NOT NULL, "
                                   "to_regclass('audit_nodes') IS NOT NULL"};
constexpr pg::Statement kNodes{
    "audit_nodes",
    "SELECT id, node_id=$1, cursor_segment, cursor_offset FROM audit_nodes ORDER BY id"};
constexpr pg::Statement kScanAll{
    "audit_scan_all",
    "SELECT id, max_time_ms, lines FROM audit_blocks "
    "WHERE node=$1 AND id<$2 AND min_time_ms<=$3 ORDER BY id DESC LIMIT $4"};
constexpr pg::Statement kScanPerson{
    "audit_scan_person",
    "SELECT b.id, b.max_time_ms, b.lines FROM audit_disclosed k "
    "JOIN audit_blocks b ON b.node=k.node AND b.id=k.block WHERE k.person=$5 AND k.node=$1 AND "
    "k.block<$2 AND b.min_time_ms<=$3 "
    "ORDER BY k.block DESC LIMIT $4"};
constexpr pg::Statement kScanOrg{
    "audit_scan_org",
    "SELECT b.id, b.max_time_ms, b.lines FROM audit_block_orgs k JOIN audit_blocks b "
    "ON b.node=k.node AND b.id=k.block WHERE k.org=$5 AND k.node=$1 AND k.block<$2 AND "
    "b.min_time_ms<=$3 "
    "ORDER BY k.block DESC LIMIT $4"};

constexpr int64_t kFirstPage = 8;
constexpr int64_t kMaxPage = 256;

Error Internal(std::string detail) {
  return MakeError(ErrorCode::kInternal, kInternalMessage, std::move(detail));
}

class PostgresIndex final : public IndexBackend {
 public:
  explicit PostgresIndex(PostgresIndexOptions options)
      : options_(std::move(options)),
        pool_(options_.conninfo, std::max<size_t>(1, options_.reader_connections)) {}

  Status Init() {
    if (options_.read_only) {
      auto lease = pool_.Acquire();  // fail fast when the server cannot be reached
      if (!lease.ok()) return lease.error();
      auto has_schema = CheckSchema(**lease);  // a newer schema is an error at once
      return has_schema.ok() ? Status::Ok() : Status(has_schema.error());
    }
    if (options_.node_id.empty()) return Internal("audit index: no node id for writing");
    auto c = Connection::Open(options_.conninfo);
    if (!c.ok()) return c.error();
    if (Status s = pg::RunMigrations(*c, kMigrations, "revisjonsloggen", kMigrationLockKey,
                                     "audit_schema_version");
        !s.ok()) {
      return s;
    }
    writer_ = std::move(c).value();
    if (Status s = Attach(); !s.ok()) return s;
    schema_known_.store(true);
    return Status::Ok();
  }

  Result<int64_t> LastMaxTime() override {
    auto r = writer_.Execute(kLastMax, Params().Int32(node_));
    if (!r.ok()) return r.error();
    return r->rows() > 0 ? r->Int64(0, 0) : INT64_MIN;
  }

  Result<Cursor> BeginBatch() override {
    blocks_.clear();
    if (!writer_.healthy()) {
      // The server went away (restart, failover): a new session must take the node's lock again.
      auto c = Connection::Open(options_.conninfo);
      if (!c.ok()) return c.error();
      writer_ = std::move(c).value();
      cursor_.reset();
      if (Status s = Attach(); !s.ok()) return s.error();
    }
    if (!cursor_) {
      auto r = writer_.Execute(kNodeRow, Params().Text(options_.node_id));
      if (!r.ok()) return r.error();
      if (r->rows() != 1) return Internal("audit index: node row missing");
      cursor_ = Cursor{r->Int64(0, 1), r->Int64(0, 2)};
    }
    return *cursor_;
  }

  Status AddBlock(const NewBlock& block) override {
    Pending& p = blocks_.emplace_back();
    p.min_time_ms = block.min_time_ms;
    p.max_time_ms = block.max_time_ms;
    p.stored.assign(block.stored);
    p.persons.assign(block.persons.begin(), block.persons.end());
    p.orgs.assign(block.orgs.begin(), block.orgs.end());
    return Status::Ok();
  }

  Status CommitBatch(const Cursor& next) override {
    Status s = Store(next);
    blocks_.clear();
    if (s.ok()) {
      cursor_ = next;
    } else {
      cursor_.reset();  // a commit whose answer was lost may have happened: read it again
    }
    return s;
  }

  void AbortBatch() override { blocks_.clear(); }

  Result<Cursor> Scan(const IndexQuery& q, const BlockVisitor& visit) const override {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    Connection& c = **lease;
    auto has_schema = CheckSchema(c);
    if (!has_schema.ok()) return has_schema.error();
    if (!*has_schema) return Cursor{};
    pg::Transaction tx(c);
    if (Status s = tx.Begin(pg::Isolation::kRepeatableRead, true); !s.ok()) return s.error();
    auto nodes = c.Execute(kNodes, Params().Text(options_.node_id));
    if (!nodes.ok()) return nodes.error();
    Cursor cursor;
    const pg::Statement& scan =
        !q.person.empty() ? kScanPerson : (!q.org.empty() ? kScanOrg : kScanAll);
    const std::string_view key = !q.person.empty() ? q.person : q.org;
    for (int n = 0; n < nodes->rows(); ++n) {
      const auto node = static_cast<int32_t>(nodes->Int64(n, 0));
      if (nodes->Bool(n, 1)) cursor = {nodes->Int64(n, 2), nodes->Int64(n, 3)};
      int64_t before = INT64_MAX;
      bool more = true;
      for (int64_t page = kFirstPage; more; page = std::min(page * 4, kMaxPage)) {
        Params params;
        params.Int32(node).Int64(before).Int64(q.until_ms).Int64(page);
        if (!key.empty()) params.Bytes(key);
        auto rows = c.Execute(scan, params);
        if (!rows.ok()) return rows.error();
        more = rows->rows() == page;
        for (int i = 0; i < rows->rows(); ++i) {
          before = rows->Int64(i, 0);
          auto next =
              visit({.id = before, .max_time_ms = rows->Int64(i, 1), .stored = rows->Bytes(i, 2)});
          if (!next.ok()) return next.error();
          if (*next == Visit::kEndStream) {
            more = false;
            break;
          }
        }
      }
    }
    if (Status s = tx.Commit(); !s.ok()) return s.error();
    return cursor;
  }

  Result<Cursor> CommittedCursor() const override {
    if (options_.node_id.empty()) return Cursor{};
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.error();
    auto has_schema = CheckSchema(**lease);
    if (!has_schema.ok()) return has_schema.error();
    if (!*has_schema) return Cursor{};
    auto r = (*lease)->Execute(kNodeRow, Params().Text(options_.node_id));
    if (!r.ok()) return r.error();
    if (r->rows() == 0) return Cursor{};
    return Cursor{r->Int64(0, 1), r->Int64(0, 2)};
  }

 private:
  struct Pending {
    int64_t min_time_ms = 0;
    int64_t max_time_ms = 0;
    std::string stored;
    std::vector<std::string> persons;
    std::vector<std::string> orgs;
  };

  // Registers this node (once) and takes its lock on the writer's session.
  Status Attach() {
    if (auto r =
            writer_.Execute(kRegisterNode, Params().Text(options_.node_id).Int64(timefmt::NowMs()));
        !r.ok()) {
      return r.error();
    }
    auto row = writer_.Execute(kNodeRow, Params().Text(options_.node_id));
    if (!row.ok()) return row.error();
    if (row->rows() != 1) return Internal("audit index: node row missing after insert");
    node_ = static_cast<int32_t>(row->Int64(0, 0));
    auto locked = writer_.Execute(kLockNode, Params().Int32(kNodeLockClass).Text(options_.node_id));
    if (!locked.ok()) return locked.error();
    if (locked->rows() != 1 || !locked->Bool(0, 0)) {
      return Internal("audit index: node " + options_.node_id +
                      " is indexed by another process (a copied data folder? give each node "
                      "its own <data>/audit/node-id)");
    }
    return Status::Ok();
  }

  // Whether the tables exist (a reader may come before the first writer); kInternal for a schema
  // newer than this norreg knows. Once they exist they stay.
  Result<bool> CheckSchema(Connection& c) const {
    if (schema_known_.load(std::memory_order_acquire)) return true;
    auto r = c.Execute(kHasSchema);
    if (!r.ok()) return r.error();
    if (!r->Bool(0, 0) || !r->Bool(0, 1)) return false;
    auto version = c.Query("SELECT version FROM audit_schema_version");
    if (!version.ok()) return version.error();
    const int64_t known = static_cast<int64_t>(std::size(kMigrations));
    const int64_t v = version->rows() > 0 ? version->Int64(0, 0) : 0;
    if (v > known) {
      return MakeError(ErrorCode::kInternal, "revisjonsloggen er laget av en nyere norreg",
                       "audit_schema_version " + std::to_string(v));
    }
    if (v < known) return false;  // being created or migrated: nothing to read yet
    schema_known_.store(true, std::memory_order_release);
    return true;
  }

  Status Store(const Cursor& next) {
    pg::Transaction tx(writer_);
    if (Status s = tx.Begin(); !s.ok()) return s;
    if (!blocks_.empty()) {
      auto ids_result =
          writer_.Execute(kBlockIds, Params().Int64(static_cast<int64_t>(blocks_.size())));
      if (!ids_result.ok()) return ids_result.error();
      if (ids_result->rows() != static_cast<int>(blocks_.size())) {
        return Internal("audit index: wrong number of block ids");
      }
      std::vector<int64_t> ids;
      ids.reserve(blocks_.size());
      for (int i = 0; i < ids_result->rows(); ++i) ids.push_back(ids_result->Int64(i, 0));
      std::sort(ids.begin(), ids.end());  // recording order within this node

      auto blocks = CopyIn::Start(
          writer_,
          "COPY audit_blocks(node, id, min_time_ms, max_time_ms, lines) FROM STDIN (FORMAT binary)",
          CopyFormat::kBinary);
      if (!blocks.ok()) return blocks.error();
      std::vector<std::pair<std::string_view, int64_t>> persons;
      std::vector<std::pair<std::string_view, int64_t>> orgs;
      for (size_t i = 0; i < blocks_.size(); ++i) {
        const Pending& b = blocks_[i];
        blocks->BeginRow(5);
        blocks->Int32(node_);
        blocks->Int64(ids[i]);
        blocks->Int64(b.min_time_ms);
        blocks->Int64(b.max_time_ms);
        blocks->Bytes(b.stored);
        for (const std::string& p : b.persons) persons.emplace_back(p, ids[i]);
        for (const std::string& o : b.orgs) orgs.emplace_back(o, ids[i]);
      }
      if (auto r = blocks->Finish(); !r.ok()) return r.error();
      // In key order: each insert finds the B-tree page the previous one used.
      for (auto [table, pairs] :
           {std::pair{"COPY audit_disclosed(person, node, block) FROM STDIN (FORMAT binary)",
                      &persons},
            std::pair{"COPY audit_block_orgs(org, node, block) FROM STDIN (FORMAT binary)",
                      &orgs}}) {
        std::sort(pairs->begin(), pairs->end());
        auto copy = CopyIn::Start(writer_, table, CopyFormat::kBinary);
        if (!copy.ok()) return copy.error();
        for (const auto& [key, block] : *pairs) {
          copy->BeginRow(3);
          copy->Bytes(key);
          copy->Int32(node_);
          copy->Int64(block);
        }
        if (auto r = copy->Finish(); !r.ok()) return r.error();
      }
    }
    const Cursor from = cursor_.value_or(Cursor{});
    auto moved = writer_.Execute(kSetCursor, Params()
                                                 .Int64(next.segment)
                                                 .Int64(next.offset)
                                                 .Int32(node_)
                                                 .Int64(from.segment)
                                                 .Int64(from.offset));
    if (!moved.ok()) return moved.error();
    if (moved->affected() != 1) {
      return Internal("audit index: the cursor of node " + options_.node_id +
                      " moved under this writer");
    }
    return tx.Commit();
  }

  const PostgresIndexOptions options_;
  mutable ConnectionPool pool_;  // readers
  mutable std::atomic<bool> schema_known_{false};

  // Writer state (the indexer thread).
  Connection writer_;
  int32_t node_ = 0;  // audit_nodes.id
  std::optional<Cursor> cursor_;
  std::vector<Pending> blocks_;
};

}  // namespace

Result<std::unique_ptr<IndexBackend>> OpenPostgresIndex(const PostgresIndexOptions& options) {
  auto index = std::make_unique<PostgresIndex>(options);
  if (Status s = index->Init(); !s.ok()) return s.error();
  return std::unique_ptr<IndexBackend>(std::move(index));
}

}  // namespace norreg::store::audit
