// The disclosure audit log's index in SQLite (store/audit_index.hpp): <dir>/audit.db in the node's
// own folder, one stream of blocks in id order.
//
// Tables: `meta` (the cursor), `blocks` (id, least time, running max, the stored lines),
// `postings` (run, person, block) and `block_orgs` (org, block) naming the blocks that hold a
// person's or an organisation's disclosures, and `runs` (the postings' runs). A query reads those
// blocks newest first.
//
// The person postings are kept as sorted runs, as a log-structured merge tree keeps them
// (docs/design.md, "The disclosure log does not wait for a database"): each write of postings
// appends a new run at the end of the key space, and runs are merged `fanout` at a time into one
// of the next level. A posting table ordered by person alone had each commit rewrite nearly every
// page of it (persons come in no order): searches disclosing ten persons an answer made the
// indexer write about 16 MB/s, and the disk flushes the answers wait for queued behind it.
#include <sys/stat.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "store/audit_index.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace norreg::store::audit {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

// Schema migrations, applied in order; schema_version holds how many have run. Append only.
//
// Since migration 2 the index stores journal lines in blocks of up to 64 lines, as recorded, and
// indexes blocks, not lines: `disclosed` (person, block) and `block_orgs` (org, block) name the
// blocks holding a person's or an organisation's disclosures, and a query reads those blocks
// newest first and filters their lines. `blocks.max_time_ms` is the running max (the greatest
// time in this block and every earlier one). Indexing a line costs its share of one row plus one
// entry per person, where a row per disclosure with its own indexes cost three times as much
// (bench/security_bench BM_AuditIndexOnePerson). `lines` is a zstd frame (about a sixth of the
// bytes to write, and writing was half the cost) — or, for migration 1's rows, which become
// one-line blocks, the plain line (it starts with '{').
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta VALUES('cursor_segment', 0), ('cursor_offset', 0);
CREATE TABLE disclosures(
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  consumer_orgnr TEXT NOT NULL,
  client_id TEXT NOT NULL,
  supplier_orgnr TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  request_id TEXT NOT NULL,
  identifiers TEXT NOT NULL);
CREATE TABLE disclosed(
  person TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  disclosure_id INTEGER NOT NULL,
  PRIMARY KEY(person, time_ms, disclosure_id)) WITHOUT ROWID;
CREATE INDEX disclosures_by_org ON disclosures(consumer_orgnr, time_ms);
CREATE INDEX disclosures_by_time ON disclosures(time_ms);
)sql",
    R"sql(
CREATE TABLE blocks(
  id INTEGER PRIMARY KEY,
  min_time_ms INTEGER NOT NULL,
  max_time_ms INTEGER NOT NULL,
  lines BLOB NOT NULL);
INSERT INTO blocks
  SELECT id, time_ms, max(time_ms) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING),
         json_object('t', time_ms, 'org', consumer_orgnr, 'client', client_id,
                     'supplier', supplier_orgnr, 'endpoint', endpoint, 'rid', request_id,
                     'ids', json(identifiers)) || char(10)
  FROM disclosures;
CREATE TABLE block_orgs(
  org TEXT NOT NULL,
  block INTEGER NOT NULL,
  PRIMARY KEY(org, block)) WITHOUT ROWID;
INSERT INTO block_orgs SELECT consumer_orgnr, id FROM disclosures;
CREATE TABLE disclosed_by_block(
  person TEXT NOT NULL,
  block INTEGER NOT NULL,
  PRIMARY KEY(person, block)) WITHOUT ROWID;
INSERT OR IGNORE INTO disclosed_by_block SELECT person, disclosure_id FROM disclosed;
DROP TABLE disclosed;
DROP TABLE disclosures;
ALTER TABLE disclosed_by_block RENAME TO disclosed;
)sql",
    R"sql(
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  level INTEGER NOT NULL,
  postings INTEGER NOT NULL);
CREATE TABLE postings(
  run INTEGER NOT NULL,
  person TEXT NOT NULL,
  block INTEGER NOT NULL,
  PRIMARY KEY(run, person, block)) WITHOUT ROWID;
INSERT INTO runs SELECT 1, 1000, count(*) FROM disclosed HAVING count(*) > 0; -- kSealedLevel
INSERT INTO postings SELECT 1, person, block FROM disclosed;
DROP TABLE disclosed;
)sql",
};

// Runs merge `fanout` at a time (SqliteIndexOptions): a level holds fewer, so a person's query
// seeks at most fanout - 1 runs per level. Runs whose merge would pass max_merged_postings are
// sealed (kSealedLevel, as is the one run an index from before runs becomes, above): no merge
// rewrites more than that in one transaction, and a query seeks one more run per that many
// postings.
constexpr int kSealedLevel = 1000;

// (person, block) pairs sorted and inserted together (see WritePostings).
constexpr size_t kMaxPostings = 1 << 18;

Result<Cursor> ReadCursor(Connection& c) {
  Statement st =
      c.Prepare("SELECT key, value FROM meta WHERE key IN ('cursor_segment','cursor_offset')");
  Cursor cursor;
  while (true) {
    auto row = st.Step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    (st.Text(0) == "cursor_segment" ? cursor.segment : cursor.offset) = st.Int(1);
  }
  return cursor;
}

// A deferred read transaction: one snapshot for several SELECTs.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Connection& c) : c_(c) {}
  ~ReadSnapshot() {
    if (open_) (void)c_.Exec("ROLLBACK");
  }
  Status Begin() {
    Status s = c_.Exec("BEGIN");
    open_ = s.ok();
    return s;
  }
  Status End() {
    open_ = false;
    return c_.Exec("COMMIT");
  }

 private:
  Connection& c_;
  bool open_ = false;
};

class SqliteIndex final : public IndexBackend {
 public:
  SqliteIndex(std::string path, bool read_only, const SqliteIndexOptions& options)
      : path_(std::move(path)), read_only_(read_only), options_(options) {}

  Status Init() {
    if (read_only_) return Status::Ok();
    auto db = Connection::Open(path_, false, 64 << 20, 16 << 10);
    if (!db.ok()) return db.error();
    db_ = std::move(db).value();
    if (Status s = sqlite::RunMigrations(db_, kMigrations, "revisjonsloggen"); !s.ok()) return s;
    insert_block_ =
        db_.Prepare("INSERT INTO blocks(min_time_ms, max_time_ms, lines) VALUES(?,?,?)");
    insert_posting_ =
        db_.Prepare("INSERT OR IGNORE INTO postings(run, person, block) VALUES(?,?,?)");
    insert_run_ = db_.Prepare("INSERT INTO runs(level, postings) VALUES(?, 0)");
    set_run_postings_ = db_.Prepare("UPDATE runs SET postings=? WHERE id=?");
    level_runs_ = db_.Prepare("SELECT id, postings FROM runs WHERE level=? ORDER BY id LIMIT " +
                              std::to_string(options_.fanout));
    full_level_ =
        db_.Prepare("SELECT level FROM runs WHERE level<" + std::to_string(kSealedLevel) +
                    " GROUP BY level HAVING count(*)>=" + std::to_string(options_.fanout) +
                    " ORDER BY level LIMIT 1");
    insert_block_org_ = db_.Prepare("INSERT OR IGNORE INTO block_orgs(org, block) VALUES(?,?)");
    set_cursor_ = db_.Prepare("UPDATE meta SET value=? WHERE key=?");
    return Status::Ok();
  }

  Result<int64_t> LastMaxTime() override {
    Statement last_max = db_.Prepare("SELECT max_time_ms FROM blocks ORDER BY id DESC LIMIT 1");
    auto row = last_max.Step();
    if (!row.ok()) return row.error();
    return *row ? last_max.Int(0) : INT64_MIN;
  }

  Result<Cursor> BeginBatch() override {
    postings_.clear();
    tx_.emplace(db_);
    if (Status s = tx_->Begin(); !s.ok()) {
      tx_.reset();
      return s.error();
    }
    return ReadCursor(db_);
  }

  Status AddBlock(const NewBlock& block) override {
    insert_block_.Bind(1, block.min_time_ms);
    insert_block_.Bind(2, block.max_time_ms);
    insert_block_.BindBlob(3, block.stored);
    auto r = insert_block_.Step();
    insert_block_.Reset();
    if (!r.ok()) return r.error();
    const int64_t id = sqlite3_last_insert_rowid(db_.handle());
    for (const std::string& org : block.orgs) {
      if (Status s = InsertPair(insert_block_org_, org, id); !s.ok()) return s;
    }
    for (const std::string& person : block.persons) postings_.emplace_back(person, id);
    if (postings_.size() >= kMaxPostings) return WritePostings();
    return Status::Ok();
  }

  Status CommitBatch(const Cursor& next) override {
    if (Status s = WritePostings(); !s.ok()) return s;
    if (Status s = MergeFullLevels(); !s.ok()) return s;
    for (auto [key, value] : {std::pair{std::string_view("cursor_segment"), next.segment},
                              std::pair{std::string_view("cursor_offset"), next.offset}}) {
      set_cursor_.Bind(1, value);
      set_cursor_.Bind(2, key);
      auto r = set_cursor_.Step();
      set_cursor_.Reset();
      if (!r.ok()) return r.error();
    }
    Status s = tx_->Commit();
    tx_.reset();  // rolls back when the commit failed
    return s;
  }

  void AbortBatch() override {
    postings_.clear();
    tx_.reset();
  }

  Result<Cursor> Scan(const IndexQuery& q, const BlockVisitor& visit) const override {
    return WithReader([&](Reader* r) -> Result<Cursor> {
      if (r == nullptr) return Cursor{};
      Connection& c = r->connection;
      ReadSnapshot snapshot(c);
      if (Status s = snapshot.Begin(); !s.ok()) return s.error();
      auto cursor = ReadCursor(c);
      if (!cursor.ok()) return cursor.error();
      std::string sql = "SELECT b.id, b.max_time_ms, b.lines FROM ";
      if (!q.person.empty()) {
        if (!r->has_runs) {  // looked up until seen: migrations only go forward
          auto runs = HasRuns(c);
          if (!runs.ok()) return runs.error();
          r->has_runs = *runs;
        }
        // A seek per run (CROSS JOIN keeps runs the outer loop); a block is in one run (a
        // merge removes the runs it reads). A read-only log may meet an index that no writer
        // has migrated to runs yet (`norreg audit` before the server's first start on a new
        // version): its postings are still the one table of migration 2.
        sql += r->has_runs
                   ? "(SELECT k.block AS id FROM runs r CROSS JOIN postings k ON k.run=r.id AND "
                     "k.person=?3) AS m CROSS JOIN blocks b ON b.id=m.id WHERE "
                   : "disclosed k JOIN blocks b ON b.id=k.block WHERE k.person=?3 AND ";
      } else if (!q.org.empty()) {
        sql += "block_orgs k JOIN blocks b ON b.id=k.block WHERE k.org=?4 AND ";
      } else {
        sql += "blocks b WHERE ";
      }
      sql += "b.min_time_ms<=?2 ORDER BY b.id DESC";
      Statement st = c.Prepare(sql);
      st.Bind(2, q.until_ms);
      if (!q.person.empty()) st.Bind(3, q.person);
      if (!q.org.empty() && q.person.empty()) st.Bind(4, q.org);
      while (true) {
        auto row = st.Step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        auto next = visit({.id = st.Int(0), .max_time_ms = st.Int(1), .stored = st.Blob(2)});
        if (!next.ok()) return next.error();
        if (*next == Visit::kEndStream) break;  // the only stream
      }
      if (Status s = snapshot.End(); !s.ok()) return s.error();
      return *cursor;
    });
  }

  Result<Cursor> CommittedCursor() const override {
    return WithReader([](Reader* r) -> Result<Cursor> {
      if (r == nullptr) return Cursor{};
      return ReadCursor(r->connection);
    });
  }

 private:
  struct Reader {
    Connection connection;
    bool has_schema = false;
    bool has_runs = false;  // the index has migration 3's runs (see Scan)
  };

  // Writes the collected (person, block) pairs as a new run of level 0, in key order: appended
  // at the end of the postings' key space.
  Status WritePostings() {
    if (postings_.empty()) return Status::Ok();
    std::sort(postings_.begin(), postings_.end());
    postings_.erase(std::unique(postings_.begin(), postings_.end()), postings_.end());
    auto run = NewRun(0);
    if (!run.ok()) return run.error();
    for (const auto& [person, block] : postings_) {
      if (Status s = InsertPosting(*run, person, block); !s.ok()) return s;
    }
    Status s = SetRunPostings(*run, static_cast<int64_t>(postings_.size()));
    postings_.clear();
    return s;
  }

  // Merges the runs of every level that holds `fanout` of them into one run of the next level
  // (or seals them, see max_merged_postings), lowest level first, until none does.
  Status MergeFullLevels() {
    while (true) {
      full_level_.Reset();
      auto row = full_level_.Step();
      if (!row.ok()) return row.error();
      if (!*row) return Status::Ok();
      const int level = static_cast<int>(full_level_.Int(0));
      full_level_.Reset();
      std::vector<int64_t> inputs;
      int64_t total = 0;
      level_runs_.Reset();
      level_runs_.Bind(1, level);
      while (true) {
        auto r = level_runs_.Step();
        if (!r.ok()) return r.error();
        if (!*r) break;
        inputs.push_back(level_runs_.Int(0));
        total += level_runs_.Int(1);
      }
      level_runs_.Reset();
      if (total > options_.max_merged_postings) {
        if (Status s = db_.Exec("UPDATE runs SET level=" + std::to_string(kSealedLevel) +
                                " WHERE level=" + std::to_string(level));
            !s.ok()) {
          return s;
        }
        continue;
      }
      if (Status s = MergeRuns(inputs, level + 1); !s.ok()) return s;
    }
  }

  // Writes the union of `inputs` (each sorted) as one new run of `level`, in key order (a k-way
  // merge of one cursor per run: memory for `fanout` postings), then deletes the inputs.
  Status MergeRuns(const std::vector<int64_t>& inputs, int level) {
    auto run = NewRun(level);
    if (!run.ok()) return run.error();
    struct Input {
      Statement st;
      bool live = false;
    };
    std::vector<Input> in(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      in[i].st =
          db_.Prepare("SELECT person, block FROM postings WHERE run=? ORDER BY person, block");
      in[i].st.Bind(1, inputs[i]);
      auto r = in[i].st.Step();
      if (!r.ok()) return r.error();
      in[i].live = *r;
    }
    auto less = [](Input& a, Input& b) {
      const int c = a.st.Text(0).compare(b.st.Text(0));
      return c != 0 ? c < 0 : a.st.Int(1) < b.st.Int(1);
    };
    int64_t written = 0;
    while (true) {
      Input* next = nullptr;
      for (Input& i : in) {
        if (i.live && (next == nullptr || less(i, *next))) next = &i;
      }
      if (next == nullptr) break;
      if (Status s = InsertPosting(*run, next->st.Text(0), next->st.Int(1)); !s.ok()) return s;
      written += sqlite3_changes(db_.handle());  // 0 for a posting two runs had (none should)
      auto r = next->st.Step();
      if (!r.ok()) return r.error();
      next->live = *r;
    }
    in.clear();
    for (int64_t id : inputs) {
      const std::string n = std::to_string(id);
      if (Status s =
              db_.Exec("DELETE FROM postings WHERE run=" + n + "; DELETE FROM runs WHERE id=" + n);
          !s.ok()) {
        return s;
      }
    }
    return SetRunPostings(*run, written);
  }

  Result<int64_t> NewRun(int level) {
    insert_run_.Bind(1, level);
    auto r = insert_run_.Step();
    insert_run_.Reset();
    if (!r.ok()) return r.error();
    return static_cast<int64_t>(sqlite3_last_insert_rowid(db_.handle()));
  }

  Status SetRunPostings(int64_t run, int64_t postings) {
    set_run_postings_.Bind(1, postings);
    set_run_postings_.Bind(2, run);
    auto r = set_run_postings_.Step();
    set_run_postings_.Reset();
    return r.ok() ? Status::Ok() : Status(r.error());
  }

  Status InsertPosting(int64_t run, std::string_view person, int64_t block) {
    insert_posting_.Bind(1, run);
    insert_posting_.Bind(2, person);
    insert_posting_.Bind(3, block);
    auto r = insert_posting_.Step();
    insert_posting_.Reset();
    return r.ok() ? Status::Ok() : Status(r.error());
  }

  static Status InsertPair(Statement& st, std::string_view key, int64_t block) {
    st.Bind(1, key);
    st.Bind(2, block);
    auto r = st.Step();
    st.Reset();
    return r.ok() ? Status::Ok() : Status(r.error());
  }

  // Whether the index has the runs of migration 3.
  static Result<bool> HasRuns(Connection& c) {
    Statement st =
        c.Prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='runs'");
    auto row = st.Step();
    if (!row.ok()) return row.error();
    return *row && st.Int(0) > 0;
  }

  // Runs `fn(Reader*)` with a pooled read-only connection; the reader is nullptr while no index
  // database exists yet (a read-only log before the first writer).
  template <typename Fn>
  auto WithReader(Fn&& fn) const -> decltype(fn(std::declval<Reader*>())) {
    std::unique_ptr<Reader> reader;
    {
      std::lock_guard lock(readers_mu_);
      if (!readers_.empty()) {
        reader = std::move(readers_.back());
        readers_.pop_back();
      }
    }
    if (reader == nullptr || !reader->has_schema) {
      struct stat st {};
      if (::stat(path_.c_str(), &st) != 0) return fn(nullptr);
      if (reader == nullptr) {
        auto c = Connection::Open(path_, true, 64 << 20, 8 << 10);
        if (!c.ok()) return c.error();
        reader = std::make_unique<Reader>(Reader{std::move(c).value(), false});
      }
      // The writer creates the schema in one transaction; until then there is nothing indexed.
      Statement st_schema = reader->connection.Prepare(
          "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'");
      auto row = st_schema.Step();
      if (!row.ok()) return row.error();
      reader->has_schema = *row && st_schema.Int(0) > 0;
      if (!reader->has_schema) return fn(nullptr);
    }
    auto result = fn(reader.get());
    std::lock_guard lock(readers_mu_);
    readers_.push_back(std::move(reader));
    return result;
  }

  const std::string path_;
  const bool read_only_;
  const SqliteIndexOptions options_;

  // Writer state (the indexer thread).
  Connection db_;
  Statement insert_block_;
  Statement insert_posting_;
  Statement insert_run_;
  Statement set_run_postings_;
  Statement level_runs_;
  Statement full_level_;
  Statement insert_block_org_;
  Statement set_cursor_;
  std::optional<Transaction> tx_;
  std::vector<std::pair<std::string, int64_t>> postings_;  // (person, block) not yet inserted

  mutable std::mutex readers_mu_;
  mutable std::vector<std::unique_ptr<Reader>> readers_;
};

}  // namespace

Result<std::unique_ptr<IndexBackend>> OpenSqliteIndex(const std::string& path, bool read_only,
                                                      const SqliteIndexOptions& options) {
  if (options.fanout < 2 || options.max_merged_postings < 1) {
    return MakeError(ErrorCode::kInternal, "Feil i tjenesten. Vennligst prøv igjen senere.",
                     "audit index: fanout must be at least 2");
  }
  auto index = std::make_unique<SqliteIndex>(path, read_only, options);
  if (Status s = index->Init(); !s.ok()) return s.error();
  return std::unique_ptr<IndexBackend>(std::move(index));
}

}  // namespace norreg::store::audit
