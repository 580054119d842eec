// PostgreSQL implementation of store::RegisterStore (contract: store/register_store.hpp).
//
// The tables are the SQLite store's, with the same meaning and the same stored bytes: one row per
// person holding its whole history as a compressed record (freg/record_codec + zstd with the
// register's dictionary from `meta`), every number the person has had in `identifiers`, and one
// row per version/event in `versions` with the sekvensnummer that superseded it, so that "every
// person as it stood at N" is one ordered read. Numbers are bigints, dokumentidentifikator is not
// stored (it is an encryption of the sekvensnummer under meta's document_key).
//
// One table is new: `register_sequence`, a single row with the last sekvensnummer and person_id
// given out. Several processes may write to one database; every write transaction starts by
// locking that row (SELECT ... FOR UPDATE), allocates its numbers from it and updates it before
// it commits. So writers are serialised by the database itself, numbers are given out in commit
// order without gaps (a rolled-back write gives nothing out), and person_id is assigned as in
// SQLite (the next integer) without a sequence object, whose numbers a rollback would lose.
#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <optional>

#include "common/compress.hpp"
#include "common/document_id.hpp"
#include "freg/person_search.hpp"
#include "freg/record_codec.hpp"
#include "store/postgres/pg.hpp"
#include "store/register_encoding.hpp"
#include "store/register_store.hpp"

namespace norreg::store {
namespace {

using common::Zstd;
using ids::DocumentIdCipher;
using pg::Connection;
using pg::Params;

constexpr const char* kInternalMessage = kStoreInternalMessage;

// Key of the advisory lock held while migrating (any constant: "norreg" and the schema's name).
constexpr int64_t kMigrationLockKey = 0x6e6f'7272'6567'0001;

// Schema migrations, applied in order; schema_version holds how many have run. Append only.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta(key text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE persons(
  person_id bigint PRIMARY KEY,
  fnr bigint NOT NULL,
  latest_seq bigint NOT NULL,
  record bytea NOT NULL);
-- Records are zstd-compressed already: TOAST's own compression would only spend CPU.
ALTER TABLE persons ALTER COLUMN record SET STORAGE EXTERNAL;
CREATE TABLE identifiers(fnr bigint PRIMARY KEY, person_id bigint NOT NULL);
CREATE TABLE versions(
  seq bigint PRIMARY KEY,
  person_id bigint NOT NULL,
  fnr bigint NOT NULL,
  type smallint NOT NULL,
  ajourhold bigint NOT NULL,
  superseded_seq bigint);
-- SnapshotScan reads the versions current at N in person_id order.
CREATE INDEX versions_person ON versions(person_id, seq);
CREATE TABLE register_sequence(
  id smallint PRIMARY KEY CHECK (id = 1),
  last_seq bigint NOT NULL,
  last_person_id bigint NOT NULL);
INSERT INTO register_sequence VALUES (1, 0, 0);
)sql",
    // 2: extract jobs shared by the nodes (store/postgres/postgres_uttrekk_jobs.cpp).
    R"sql(
CREATE TABLE uttrekk_jobs(
  id uuid PRIMARY KEY,
  orgnr text NOT NULL,
  kind smallint NOT NULL,          -- 0 komplett, 1 tilpasset
  seq bigint NOT NULL,             -- the snapshot's sekvensnummer
  criteria text,                   -- tailored only
  state smallint NOT NULL,         -- 0 queued, 1 running, 2 done
  batches bigint,                  -- when done
  ordered_ms bigint NOT NULL,
  expires_ms bigint NOT NULL,
  lease_owner text,                -- the node computing it (running)
  lease_until_ms bigint);          -- on the server's clock
CREATE INDEX uttrekk_jobs_unfinished ON uttrekk_jobs(orgnr) WHERE state <> 2;
CREATE INDEX uttrekk_jobs_claimable ON uttrekk_jobs(ordered_ms) WHERE state <> 2;
CREATE INDEX uttrekk_jobs_expires ON uttrekk_jobs(expires_ms);
CREATE TABLE uttrekk_batches(
  job_id uuid NOT NULL REFERENCES uttrekk_jobs(id) ON DELETE CASCADE,
  n bigint NOT NULL,
  ids integer NOT NULL,
  body bytea NOT NULL,
  PRIMARY KEY (job_id, n));
)sql",
    // 3: batch bodies stored as they are: pglz found nothing to gain in 100 000 hex ids (3.47 of
    // 3.5 MB) and trying cost 80 ms a batch, a third of a complete extract's time to ready.
    R"sql(
ALTER TABLE uttrekk_batches ALTER COLUMN body SET STORAGE EXTERNAL;
)sql",
    // 4: person search (freg/person_search.hpp): the index of (term, person) and the side table a
    // bulk load appends to (BeginBulkLoad/EndBulkLoad); filled by EnsureSearchIndex on open.
    // A term is a 32-bit hash stored as a signed integer.
    R"sql(
CREATE TABLE search_terms(term integer NOT NULL, person_id bigint NOT NULL,
                          PRIMARY KEY (term, person_id));
CREATE TABLE search_terms_load(term integer NOT NULL, person_id bigint NOT NULL);
)sql",
    // 5: the search terms move into the person's row, indexed by GIN: its compressed posting
    // lists take a tenth of the (term, person) table's bytes, and one query intersects the terms
    // and reads the records (docs/search.md). No fast-update list: every search would scan it.
    // Filled by EnsureSearchIndex on open.
    R"sql(
DROP TABLE search_terms;
DROP TABLE search_terms_load;
ALTER TABLE persons ADD COLUMN search_terms integer[] NOT NULL DEFAULT '{}';
CREATE INDEX persons_search ON persons USING gin (search_terms) WITH (fastupdate = off);
DELETE FROM meta WHERE key = 'search_terms_version';
)sql",
    // 6: an order counts its organisation's jobs, finished ones too (uttrekk_count_jobs): by an
    // index, not a scan of every organisation's jobs.
    R"sql(
CREATE INDEX IF NOT EXISTS uttrekk_jobs_orgnr ON uttrekk_jobs(orgnr);
)sql",
};

constexpr const char* kCreateSearchIndex =
    "CREATE INDEX IF NOT EXISTS persons_search ON persons USING gin (search_terms) "
    "WITH (fastupdate = off)";
constexpr const char* kDropSearchIndex = "DROP INDEX IF EXISTS persons_search";

// meta key: the freg::kSearchTermsVersion the index was built with ("0" while a bulk load runs).
constexpr std::string_view kSearchVersionKey = "search_terms_version";

// meta key, present from BeginBulkLoad until EndBulkLoad has built kBulkIndexes again: a store
// that opens and finds it (a load that never ended) builds them before it serves.
constexpr std::string_view kBulkLoadKey = "bulk_load";

// The B-tree indexes a bulk load drops and builds at its end. The generator's batches interleave
// their sekvensnumre, so each batch would insert into every leaf of versions' key; one sorted build
// costs a fraction of that (docs/deployment.md, "Loading"). A primary key is built as a unique
// index, then attached as the constraint, so that the builds need no more than a SHARE lock and can
// run side by side.
struct BulkIndex {
  const char* name;
  const char* drop;
  const char* create;
  const char* attach;  // nullptr: a plain index
  const char* conflict_message;
};
constexpr BulkIndex kBulkIndexes[] = {
    {"versions_pkey", "ALTER TABLE versions DROP CONSTRAINT IF EXISTS versions_pkey",
     "CREATE UNIQUE INDEX IF NOT EXISTS versions_pkey ON versions(seq)",
     "ALTER TABLE versions ADD CONSTRAINT versions_pkey PRIMARY KEY USING INDEX versions_pkey",
     "sekvensnummeret finnes allerede i registeret"},
    {"versions_person", "DROP INDEX IF EXISTS versions_person",
     "CREATE INDEX IF NOT EXISTS versions_person ON versions(person_id, seq)", nullptr, nullptr},
    {"identifiers_pkey", "ALTER TABLE identifiers DROP CONSTRAINT IF EXISTS identifiers_pkey",
     "CREATE UNIQUE INDEX IF NOT EXISTS identifiers_pkey ON identifiers(fnr)",
     "ALTER TABLE identifiers ADD CONSTRAINT identifiers_pkey PRIMARY KEY USING INDEX "
     "identifiers_pkey",
     "nummeret finnes allerede i registeret"},
};
// Whether the named constraint exists in the register's schema.
constexpr pg::Statement kHasConstraint{
    "has_constraint",
    "SELECT 1 FROM pg_constraint WHERE conname = $1 AND connamespace = "
    "current_schema()::regnamespace"};
constexpr pg::Statement kDeleteMeta{"delete_meta", "DELETE FROM meta WHERE key = $1"};

constexpr pg::Statement kByFnr{"by_fnr",
                               "SELECT p.person_id, p.latest_seq, p.record FROM identifiers i "
                               "JOIN persons p ON p.person_id = i.person_id WHERE i.fnr = $1"};
constexpr pg::Statement kBySeq{"by_seq",
                               "SELECT p.person_id, p.latest_seq, p.record FROM versions v "
                               "JOIN persons p ON p.person_id = v.person_id WHERE v.seq = $1"};
// Bulk lookups: every key of the array in one query, answered in the array's order (ord is the
// key's 1-based position; keys without a person have no row).
constexpr pg::Statement kByFnrs{
    "by_fnrs",
    "SELECT k.ord, p.person_id, p.latest_seq, p.record FROM unnest($1::bigint[]) WITH ORDINALITY "
    "AS k(fnr, ord) JOIN identifiers i ON i.fnr = k.fnr JOIN persons p ON p.person_id = "
    "i.person_id ORDER BY k.ord"};
constexpr pg::Statement kBySeqs{
    "by_seqs",
    "SELECT k.ord, p.person_id, p.latest_seq, p.record FROM unnest($1::bigint[]) WITH ORDINALITY "
    "AS k(seq, ord) JOIN versions v ON v.seq = k.seq JOIN persons p ON p.person_id = v.person_id "
    "ORDER BY k.ord"};
constexpr pg::Statement kPosting{
    "posting",
    "SELECT person_id FROM persons WHERE search_terms @> ARRAY[$1::integer] ORDER BY person_id "
    "LIMIT $2"};
constexpr pg::Statement kPutMeta{
    "put_meta",
    "INSERT INTO meta(key, value) VALUES($1, $2) ON CONFLICT (key) DO UPDATE SET value = "
    "excluded.value"};
constexpr pg::Statement kPersonsAfter{
    "persons_after",
    "SELECT person_id, latest_seq, record FROM persons WHERE person_id > $1 ORDER BY person_id "
    "LIMIT 2048"};
constexpr pg::Statement kLatest{"latest", "SELECT coalesce(max(seq), 0) FROM versions"};
constexpr pg::Statement kEvents{
    "events",
    "SELECT seq, person_id, fnr, type, ajourhold FROM versions WHERE seq >= $1 "
    "ORDER BY seq LIMIT $2"};
constexpr pg::Statement kStats{
    "stats",
    "SELECT (SELECT count(*) FROM persons), (SELECT count(*) FROM versions), "
    "(SELECT coalesce(max(seq), 0) FROM versions)"};
constexpr pg::Statement kBytesOnDisk{
    "bytes_on_disk",
    "SELECT pg_total_relation_size('meta') + pg_total_relation_size('persons') + "
    "pg_total_relation_size('identifiers') + pg_total_relation_size('versions') + "
    "pg_total_relation_size('register_sequence')"};
constexpr pg::Statement kGetMeta{"get_meta", "SELECT value FROM meta WHERE key = $1"};
constexpr pg::Statement kAddMeta{
    "add_meta", "INSERT INTO meta(key, value) VALUES($1, $2) ON CONFLICT (key) DO NOTHING"};
constexpr pg::Statement kLockSequence{
    "lock_sequence",
    "SELECT last_seq, last_person_id FROM register_sequence WHERE id = 1 FOR UPDATE"};
constexpr pg::Statement kSetSequence{
    "set_sequence", "UPDATE register_sequence SET last_seq = $1, last_person_id = $2 WHERE id = 1"};
constexpr pg::Statement kInsertPerson{
    "insert_person",
    "INSERT INTO persons(person_id, fnr, latest_seq, record, search_terms) "
    "VALUES($1, $2, $3, $4, $5)"};
constexpr pg::Statement kUpdatePerson{
    "update_person",
    "UPDATE persons SET fnr = $1, latest_seq = $2, record = $3, search_terms = $5 "
    "WHERE person_id = $4"};
constexpr pg::Statement kUpsertIdentifier{
    "upsert_identifier",
    "INSERT INTO identifiers(fnr, person_id) VALUES($1, $2) "
    "ON CONFLICT (fnr) DO UPDATE SET person_id = excluded.person_id"};
constexpr pg::Statement kInsertVersion{
    "insert_version",
    "INSERT INTO versions(seq, person_id, fnr, type, ajourhold, superseded_seq) "
    "VALUES($1, $2, $3, $4, $5, $6)"};
constexpr pg::Statement kSupersede{"supersede",
                                   "UPDATE versions SET superseded_seq = $1 WHERE seq = $2"};

constexpr const char* kCopyPersons =
    "COPY persons(person_id, fnr, latest_seq, record, search_terms) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyIdentifiers =
    "COPY identifiers(fnr, person_id) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyVersions =
    "COPY versions(seq, person_id, fnr, type, ajourhold, superseded_seq) FROM STDIN "
    "(FORMAT binary)";

// Rows per FETCH of a snapshot scan: records are a few KB compressed, so a chunk stays small.
constexpr int kScanChunkIds = 4096;
constexpr int kScanChunkRecords = 512;

Error Corrupt(std::string detail) {
  return MakeError(ErrorCode::kInternal, kInternalMessage, std::move(detail));
}

int64_t ToInt64(uint64_t v) { return static_cast<int64_t>(std::min<uint64_t>(v, INT64_MAX)); }

struct SequenceState {
  uint64_t last_seq = 0;
  int64_t last_person_id = 0;
};

// Locks the register's one sequence row until the transaction ends (serialising all writers of
// the database) and reads it.
Result<SequenceState> LockSequence(Connection& c) {
  auto r = c.Execute(kLockSequence);
  if (!r.ok()) return r.error();
  if (r->rows() != 1)
    return Corrupt("register_sequence has " + std::to_string(r->rows()) + " rows");
  return SequenceState{static_cast<uint64_t>(r->Int64(0, 0)), r->Int64(0, 1)};
}

Status SetSequence(Connection& c, const SequenceState& state) {
  auto r =
      c.Execute(kSetSequence,
                Params().Int64(static_cast<int64_t>(state.last_seq)).Int64(state.last_person_id));
  return r.ok() ? Status::Ok() : Status(r.error());
}

class PostgresStore final : public RegisterStore {
 public:
  explicit PostgresStore(PostgresOptions options)
      : options_(std::move(options)),
        readers_(options_.conninfo, static_cast<size_t>(std::max(1, options_.pool_size)),
                 std::chrono::milliseconds(std::max(0, options_.pool_wait_ms))) {}

  Status Init() {
    std::lock_guard lock(write_mutex_);
    auto writer = Writer();
    if (!writer.ok()) return writer.error();
    if (Status s = pg::RunMigrations(**writer, kMigrations, "registeret", kMigrationLockKey);
        !s.ok()) {
      return s;
    }
    if (Status s = LoadMeta(**writer); !s.ok()) return s;
    if (Status s = FinishInterruptedBulkLoad(**writer); !s.ok()) return s;
    return EnsureSearchIndex(**writer);
  }

  Status SearchPosting(uint32_t term, size_t limit, std::vector<int64_t>& out) override {
    out.clear();
    return WithReader([&](Connection& c) -> Status {
      auto rows =
          c.Execute(kPosting, Params()
                                  .Int32(static_cast<int32_t>(term))
                                  .Int64(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX))));
      if (!rows.ok()) return rows.error();
      out.reserve(static_cast<size_t>(rows->rows()));
      for (int r = 0; r < rows->rows(); ++r) out.push_back(rows->Int64(r, 0));
      return Status::Ok();
    });
  }

  static constexpr size_t kMaxOverlapGroups = 8;

  // The condition of a search with the `@>` of the groups of one term (when `every`, as $1) and
  // `overlaps` groups of several (`&&`, the next parameters).
  static std::string SearchWhere(bool every, size_t overlaps) {
    std::string where = every ? "search_terms @> $1::integer[]" : "";
    for (size_t i = 0; i < overlaps; ++i) {
      where += (where.empty() ? "" : " AND ") + std::string("search_terms && $") +
               std::to_string(i + (every ? 2 : 1)) + "::integer[]";
    }
    return where.empty() ? "false" : where;
  }

  // The prepared statement of such a search, with the row limit as its last parameter: one per
  // shape, prepared once per connection.
  static pg::Statement SearchStatement(bool every, size_t overlaps) {
    static const auto shapes = [] {
      std::vector<std::pair<std::string, std::string>> out;  // (name, sql)
      for (const bool e : {false, true}) {
        for (size_t k = 0; k <= kMaxOverlapGroups; ++k) {
          out.emplace_back("by_search_terms_" + std::to_string(e) + "_" + std::to_string(k),
                           "SELECT person_id, latest_seq, record FROM persons WHERE " +
                               SearchWhere(e, k) + " LIMIT $" + std::to_string(k + e + 1));
        }
      }
      return out;
    }();
    const auto& [name, sql] = shapes[(every ? kMaxOverlapGroups + 1 : 0) + overlaps];
    return pg::Statement{name.c_str(), sql.c_str()};
  }

  // One query: the GIN index intersects the terms' posting lists and the rows come back with
  // their records. The groups of one term are one `@>` (contains all); a group of several
  // (a criterion in several scopes) is an `&&` (overlaps) of its own, and beyond
  // kMaxOverlapGroups of those the rest are left to the caller's exact test. A search of more
  // than kSearchRows candidates (a broad one, which usually ends past the hit limit) reads them
  // again through a cursor, kScanChunkRecords at a time.
  Result<bool> FindRawBySearchTerms(std::span<const std::vector<uint32_t>> groups,
                                    std::string& buffer,
                                    const std::function<Status(const RawPerson&)>& each) override {
    constexpr int kSearchRows = 1024;
    std::vector<uint32_t> every;
    std::vector<std::string> overlaps;
    for (const std::vector<uint32_t>& group : groups) {
      if (group.size() == 1) {
        every.push_back(group.front());
      } else if (group.size() > 1 && overlaps.size() < kMaxOverlapGroups) {
        overlaps.push_back(TermArray(group));
      }
    }
    if (every.empty() && overlaps.empty()) return false;
    const std::string array = TermArray(every);
    // SearchWhere's parameters.
    auto bind = [&](Params& params) {
      if (!every.empty()) params.Int32Array(array);
      for (const std::string& o : overlaps) params.Int32Array(o);
    };
    auto visit = [&](Connection& c, const pg::QueryResult& rows) -> Status {
      for (int r = 0; r < rows.rows(); ++r) {
        RawPerson person{rows.Int64(r, 0), static_cast<uint64_t>(rows.Int64(r, 1))};
        if (Status s = Decompress(c, rows.Bytes(r, 2), buffer); !s.ok()) {
          return Corrupt("person " + std::to_string(person.person_id) + ": " + s.error().detail);
        }
        if (Status s = each(person); !s.ok()) return s;
      }
      return Status::Ok();
    };
    const std::string select = "SELECT person_id, latest_seq, record FROM persons WHERE " +
                               SearchWhere(!every.empty(), overlaps.size());
    Status searched = WithReader([&](Connection& c) -> Status {
      Params params;
      bind(params);
      params.Int64(kSearchRows + 1);
      auto rows = c.Execute(SearchStatement(!every.empty(), overlaps.size()), params);
      if (!rows.ok()) return rows.error();
      if (rows->rows() <= kSearchRows) return visit(c, *rows);
      pg::Transaction tx(c);
      if (Status s = tx.Begin(pg::Isolation::kRepeatableRead, true); !s.ok()) return s;
      Params cursor;
      bind(cursor);
      if (auto declared =
              c.Query(("DECLARE search NO SCROLL CURSOR FOR " + select).c_str(), cursor);
          !declared.ok()) {
        return declared.error();
      }
      const std::string fetch =
          "FETCH FORWARD " + std::to_string(kScanChunkRecords) + " FROM search";
      while (true) {
        auto chunk = c.Query(fetch.c_str());
        if (!chunk.ok()) return chunk.error();
        if (chunk->rows() == 0) break;
        if (Status s = visit(c, *chunk); !s.ok()) return s;
      }
      return tx.Commit();
    });
    if (!searched.ok()) return searched.error();
    return true;
  }

  // Drops the search index, and on an empty register kBulkIndexes too, in one transaction with
  // the meta rows that say so. Without kBulkIndexes, numbers and sekvensnumre are not checked as
  // they come: EndBulkLoad checks them all at once, and a duplicate there (a loader's fault) leaves
  // a register that holds nothing but that load's rows and does not open (kConflict).
  Status BeginBulkLoad() override {
    std::lock_guard lock(write_mutex_);
    auto writer = Writer();
    if (!writer.ok()) return writer.error();
    Connection& c = **writer;
    return pg::RunInTransaction(c, {}, [&]() -> Status {
      auto state = LockSequence(c);
      if (!state.ok()) return state.error();
      if (Status s = PutMeta(c, kSearchVersionKey, "0"); !s.ok()) return s;
      if (auto r = c.Query(kDropSearchIndex); !r.ok()) return r.error();
      if (state->last_seq != 0 || state->last_person_id != 0) return Status::Ok();
      if (Status s = PutMeta(c, kBulkLoadKey, "1"); !s.ok()) return s;
      for (const BulkIndex& index : kBulkIndexes) {
        if (auto r = c.Query(index.drop); !r.ok()) return r.error();
      }
      return Status::Ok();
    });
  }

  // The terms are in the rows already: the GIN index is built from them in one pass, on a
  // connection of its own, while the writer builds kBulkIndexes (the builds lock different tables).
  // Two half GIN builds side by side gained nothing here: the build is bound by memory latency,
  // and the two halves slowed each other down (docs/deployment.md, "Loading").
  Status EndBulkLoad() override {
    std::lock_guard lock(write_mutex_);
    auto writer = Writer();
    if (!writer.ok()) return writer.error();
    Connection& c = **writer;
    auto search = std::async(std::launch::async, [this]() -> Status {
      auto opened = Connection::Open(options_.conninfo);
      if (!opened.ok()) return opened.error();
      auto built = opened->Query(kCreateSearchIndex);
      return built.ok() ? Status::Ok() : Status(built.error());
    });
    Status built = BuildBulkIndexes(c);
    Status searchable = search.get();  // waited for whatever BuildBulkIndexes returned
    if (!built.ok()) return built;
    if (!searchable.ok()) return searchable;
    return pg::RunInTransaction(c, {}, [&]() -> Status {
      if (Status s = PutMeta(c, kSearchVersionKey, std::to_string(freg::kSearchTermsVersion));
          !s.ok()) {
        return s;
      }
      auto deleted = c.Execute(kDeleteMeta, Params().Text(kBulkLoadKey));
      return deleted.ok() ? Status::Ok() : Status(deleted.error());
    });
  }

  Result<StoredPerson> FindByFnr(std::string_view fnr) override {
    auto number = FnrToInt(fnr);
    if (!number) return MakeError(ErrorCode::kNotFound, "Fant ikke person");
    return WithReader(
        [&](Connection& c) -> Result<StoredPerson> { return ReadPerson(c, kByFnr, *number); });
  }

  Result<StoredPerson> FindByVersion(uint64_t seq) override {
    if (seq == 0 || seq > static_cast<uint64_t>(INT64_MAX)) {
      return MakeError(ErrorCode::kNotFound, "Fant ikke dokument");
    }
    return WithReader([&](Connection& c) -> Result<StoredPerson> {
      return ReadPerson(c, kBySeq, static_cast<int64_t>(seq));
    });
  }

  Result<RawPerson> FindRawByFnr(std::string_view fnr, std::string& buffer) override {
    auto number = FnrToInt(fnr);
    if (!number) return MakeError(ErrorCode::kNotFound, "Fant ikke person");
    return WithReader([&](Connection& c) { return ReadRaw(c, kByFnr, *number, buffer); });
  }

  Result<RawPerson> FindRawByVersion(uint64_t seq, std::string& buffer) override {
    if (seq == 0 || seq > static_cast<uint64_t>(INT64_MAX)) {
      return MakeError(ErrorCode::kNotFound, "Fant ikke dokument");
    }
    return WithReader(
        [&](Connection& c) { return ReadRaw(c, kBySeq, static_cast<int64_t>(seq), buffer); });
  }

  Status FindRawByFnrs(std::span<const std::string> fnrs, std::string& buffer,
                       const RawVisitor& each) override {
    std::vector<int64_t> keys;
    std::vector<size_t> positions;  // the entry of each key
    keys.reserve(fnrs.size());
    positions.reserve(fnrs.size());
    for (size_t i = 0; i < fnrs.size(); ++i) {
      if (auto number = FnrToInt(fnrs[i])) {
        keys.push_back(*number);
        positions.push_back(i);
      }
    }
    return ReadMany(kByFnrs, keys, positions, fnrs.size(), buffer, each);
  }

  Status FindRawByVersions(std::span<const uint64_t> seqs, std::string& buffer,
                           const RawVisitor& each) override {
    std::vector<int64_t> keys;
    std::vector<size_t> positions;
    keys.reserve(seqs.size());
    positions.reserve(seqs.size());
    for (size_t i = 0; i < seqs.size(); ++i) {
      if (seqs[i] != 0 && seqs[i] <= static_cast<uint64_t>(INT64_MAX)) {
        keys.push_back(static_cast<int64_t>(seqs[i]));
        positions.push_back(i);
      }
    }
    return ReadMany(kBySeqs, keys, positions, seqs.size(), buffer, each);
  }

  Status InReadSnapshot(const std::function<Status()>& fn) override {
    if (pinned_.store == this) return fn();
    auto lease = readers_.Acquire();
    if (!lease.ok()) return lease.error();
    Connection& c = **lease;
    pg::Transaction tx(c);
    if (Status s = tx.Begin(pg::Isolation::kRepeatableRead, true); !s.ok()) return s;
    pinned_ = {this, &c};
    Status result = fn();
    pinned_ = {};
    Status end = tx.Commit();  // a failed commit rolls back (here or when tx ends)
    return result.ok() ? end : result;
  }

  uint64_t LatestSeq() override {
    auto r = WithReader([&](Connection& c) -> Result<uint64_t> {
      auto rows = c.Execute(kLatest);
      if (!rows.ok()) return rows.error();
      return static_cast<uint64_t>(rows->Int64(0, 0));
    });
    return r.ok() ? *r : 0;
  }

  Result<std::vector<EventRow>> Events(uint64_t from_seq, size_t limit) override {
    return WithReader([&](Connection& c) -> Result<std::vector<EventRow>> {
      auto rows = c.Execute(
          kEvents, Params().Int64(ToInt64(from_seq)).Int64(ToInt64(static_cast<uint64_t>(limit))));
      if (!rows.ok()) return rows.error();
      std::vector<EventRow> out;
      out.reserve(static_cast<size_t>(rows->rows()));
      for (int i = 0; i < rows->rows(); ++i) {
        EventRow e;
        e.seq = static_cast<uint64_t>(rows->Int64(i, 0));
        e.person_id = rows->Int64(i, 1);
        e.fnr = FnrFromInt(rows->Int64(i, 2));
        e.type = static_cast<freg::Hendelsetype>(rows->Int64(i, 3));
        e.ajourholdstidspunkt = rows->Int64(i, 4);
        out.push_back(std::move(e));
      }
      return out;
    });
  }

  Result<RegisterStats> Stats() override {
    return WithReader([&](Connection& c) -> Result<RegisterStats> {
      auto rows = c.Execute(kStats);
      if (!rows.ok()) return rows.error();
      RegisterStats stats;
      stats.persons = static_cast<uint64_t>(rows->Int64(0, 0));
      stats.versions = static_cast<uint64_t>(rows->Int64(0, 1));
      stats.latest_seq = static_cast<uint64_t>(rows->Int64(0, 2));
      auto bytes = c.Execute(kBytesOnDisk);
      if (!bytes.ok()) return bytes.error();
      stats.bytes_on_disk = static_cast<uint64_t>(bytes->Int64(0, 0));
      return stats;
    });
  }

  Result<uint64_t> BytesOnDisk() override {
    return WithReader([&](Connection& c) -> Result<uint64_t> {
      auto bytes = c.Execute(kBytesOnDisk);
      if (!bytes.ok()) return bytes.error();
      return static_cast<uint64_t>(bytes->Int64(0, 0));
    });
  }

  // One query in a REPEATABLE READ READ ONLY transaction of its own connection: the versions
  // current at `seq` (seq <= N AND (superseded_seq IS NULL OR superseded_seq > N)) in person_id
  // order, joined with their persons when records are wanted, read through a cursor a chunk at a
  // time. LEFT JOIN: a version without its person is reported as corruption, as SQLite does.
  Status SnapshotScan(uint64_t seq, SnapshotRecords records,
                      const std::function<Status(const SnapshotEntry&)>& each) override {
    if (seq == 0) return Status::Ok();
    const bool with_records = records == SnapshotRecords::kInclude;
    auto opened = Connection::Open(options_.conninfo);
    if (!opened.ok()) return opened.error();
    Connection c = std::move(opened).value();
    pg::Transaction tx(c);
    if (Status s = tx.Begin(pg::Isolation::kRepeatableRead, true); !s.ok()) return s;
    // The cursor reads every current version: plan for all rows, not the first ones (a cursor's
    // default, 0.1, picks the index in person_id order and a heap fetch per version — twice as
    // slow on the 1 M register as reading the table in order and sorting it), with room to sort.
    if (Status s = c.Exec("SET LOCAL cursor_tuple_fraction = 1.0; SET LOCAL work_mem = '64MB'");
        !s.ok()) {
      return s;
    }
    const char* declare =
        with_records ? "DECLARE snapshot NO SCROLL CURSOR FOR "
                       "SELECT v.person_id, v.seq, v.fnr, p.record FROM versions v "
                       "LEFT JOIN persons p ON p.person_id = v.person_id "
                       "WHERE v.seq <= $1 AND (v.superseded_seq IS NULL OR v.superseded_seq > $1) "
                       "ORDER BY v.person_id"
                     : "DECLARE snapshot NO SCROLL CURSOR FOR "
                       "SELECT person_id, seq, fnr FROM versions "
                       "WHERE seq <= $1 AND (superseded_seq IS NULL OR superseded_seq > $1) "
                       "ORDER BY person_id";
    if (auto declared = c.Query(declare, Params().Int64(ToInt64(seq))); !declared.ok()) {
      return declared.error();
    }
    const std::string fetch = "FETCH FORWARD " +
                              std::to_string(with_records ? kScanChunkRecords : kScanChunkIds) +
                              " FROM snapshot";
    char fnr[11];
    SnapshotEntry entry;
    std::string raw;
    while (true) {
      auto chunk = c.Query(fetch.c_str());
      if (!chunk.ok()) return chunk.error();
      if (chunk->rows() == 0) break;
      for (int i = 0; i < chunk->rows(); ++i) {
        entry.person_id = chunk->Int64(i, 0);
        entry.version_seq = static_cast<uint64_t>(chunk->Int64(i, 1));
        FormatFnr(chunk->Int64(i, 2), fnr);
        entry.fnr = std::string_view(fnr, sizeof fnr);
        if (with_records) {
          if (chunk->IsNull(i, 3)) {
            return Corrupt("version " + std::to_string(entry.version_seq) + " without its person " +
                           std::to_string(entry.person_id));
          }
          if (Status s = Decompress(c, chunk->Bytes(i, 3), raw); !s.ok()) {
            return Corrupt("person " + std::to_string(entry.person_id) + ": " + s.error().detail);
          }
          entry.record = raw;
        }
        if (Status s = each(entry); !s.ok()) return s;
      }
    }
    return tx.Commit();
  }

  EncodedPersons EncodeForBulkInsert(std::span<const PersonWrite> persons) override {
    return EncodeRecords(*codec_.load(), persons);
  }

  Status BulkInsert(std::span<const PersonWrite> persons, const EncodedPersons* encoded) override {
    EncodedPersons own;
    if (encoded == nullptr || encoded->blobs.size() != persons.size() ||
        encoded->terms.size() != persons.size()) {
      own = EncodeForBulkInsert(persons);
      encoded = &own;
    }
    const std::vector<std::string>& blobs = encoded->blobs;

    auto sorted = SortedBulkRows(persons);
    if (!sorted.ok()) return sorted.error();
    // (Named references, not a structured binding: lambdas below capture them.)
    const auto& identifiers = sorted->identifiers;
    const auto& versions = sorted->versions;
    const auto& numbers = sorted->numbers;
    if (persons.empty()) return Status::Ok();

    std::lock_guard lock(write_mutex_);
    auto writer = Writer();
    if (!writer.ok()) return writer.error();
    Connection& c = **writer;
    bool seq_taken = false;
    // Pure in the database: safe to run again after a serialization failure or deadlock.
    Status inserted = pg::RunInTransaction(c, {}, [&]() -> Status {
      seq_taken = false;
      auto state = LockSequence(c);
      if (!state.ok()) return state.error();
      const int64_t first_id = state->last_person_id + 1;
      {
        auto copy = pg::CopyIn::Start(c, kCopyPersons, pg::CopyFormat::kBinary);
        if (!copy.ok()) return copy.error();
        for (size_t i = 0; i < persons.size(); ++i) {
          copy->BeginRow(5);
          copy->Int64(first_id + static_cast<int64_t>(i));
          copy->Int64(numbers[i]);
          copy->Int64(static_cast<int64_t>(persons[i].versions.back().seq));
          copy->Bytes(blobs[i]);
          copy->Bytes(TermArray(encoded->terms[i]));
        }
        if (auto done = copy->Finish(); !done.ok()) return done.error();
      }
      {
        auto copy = pg::CopyIn::Start(c, kCopyIdentifiers, pg::CopyFormat::kBinary);
        if (!copy.ok()) return copy.error();
        for (const auto& [number, i] : identifiers) {
          copy->BeginRow(2);
          copy->Int64(number);
          copy->Int64(first_id + static_cast<int64_t>(i));
        }
        if (auto done = copy->Finish(); !done.ok()) {
          Error e = done.error();
          if (c.last_error().sqlstate == pg::kUniqueViolation) {
            e.code = ErrorCode::kConflict;
            e.message = "nummeret finnes allerede i registeret";
          }
          return e;
        }
      }
      {
        auto copy = pg::CopyIn::Start(c, kCopyVersions, pg::CopyFormat::kBinary);
        if (!copy.ok()) return copy.error();
        for (const auto& [seq, at] : versions) {
          const PersonWrite& p = persons[at.first];
          const freg::Version& version = p.versions[at.second];
          copy->BeginRow(6);
          copy->Int64(static_cast<int64_t>(version.seq));
          copy->Int64(first_id + static_cast<int64_t>(at.first));
          copy->Int64(numbers[at.first]);
          copy->Int16(static_cast<int16_t>(version.type));
          copy->Int64(version.ajourholdstidspunkt);
          if (at.second + 1 < p.versions.size()) {
            copy->Int64(static_cast<int64_t>(p.versions[at.second + 1].seq));
          } else {
            copy->Null();
          }
        }
        if (auto done = copy->Finish(); !done.ok()) {
          seq_taken = c.last_error().sqlstate == pg::kUniqueViolation;
          return done.error();
        }
      }
      // The caller chose the numbers (the generator's batches interleave: each holds versions of
      // every round); the sequence row only has to stay at the highest number in use, so that
      // ApplyChanges continues after it.
      return SetSequence(c, {std::max(state->last_seq, versions.back().first),
                             state->last_person_id + static_cast<int64_t>(persons.size())});
    });
    if (inserted.ok() || !seq_taken) return inserted;
    Error e = inserted.error();
    e.code = ErrorCode::kConflict;
    e.message =
        "sekvensnummer " + std::to_string(FirstTakenSeq(c, versions)) + " er allerede brukt";
    return e;
  }

  // Not run again on a serialization failure (`change` runs once per entry); none is expected:
  // READ COMMITTED and the sequence row lock taken first.
  Result<uint64_t> ApplyChanges(std::span<const std::string> fnrs,
                                const ChangeFn& change) override {
    std::lock_guard lock(write_mutex_);
    auto writer = Writer();
    if (!writer.ok()) return writer.error();
    Connection& c = **writer;
    pg::Transaction tx(c);
    if (Status s = tx.Begin(); !s.ok()) return s.error();
    auto state = LockSequence(c);
    if (!state.ok()) return state.error();
    uint64_t next_seq = state->last_seq + 1;
    int64_t last_person_id = state->last_person_id;
    std::string raw, blob;
    for (size_t i = 0; i < fnrs.size(); ++i) {
      std::optional<StoredPerson> current;
      if (auto number = FnrToInt(fnrs[i])) {
        auto found = ReadPerson(c, kByFnr, *number);
        if (found.ok()) {
          current = std::move(found).value();
        } else if (found.error().code != ErrorCode::kNotFound) {
          return found.error();
        }
      }
      auto write = change(i, next_seq, current);
      if (!write.ok()) return write.error();
      const PersonWrite& p = *write;
      if (p.versions.empty()) continue;  // nothing changed for this person
      for (size_t v = 0; v < p.versions.size(); ++v) {
        if (p.versions[v].seq != next_seq + v) {
          return MakeError(ErrorCode::kInternal, kInternalMessage,
                           "change skipped a sekvensnummer");
        }
      }
      auto fnr = FnrToInt(p.record.fnr);
      if (!fnr) return MakeError(ErrorCode::kInvalidInput, "ugyldig nummer " + p.record.fnr);
      raw.clear();
      freg::EncodeRecord(p.record, raw);
      codec_.load()->Compress(raw, blob);
      const auto latest = static_cast<int64_t>(p.versions.back().seq);
      int64_t person_id = 0;
      const std::string terms = TermArray(freg::SearchTermsOf(p.record, p.versions.back().seq));
      if (current) {
        person_id = current->person_id;
        auto up = c.Execute(
            kUpdatePerson,
            Params().Int64(*fnr).Int64(latest).Bytes(blob).Int64(person_id).Int32Array(terms));
        if (!up.ok()) return up.error();
        auto sup = c.Execute(kSupersede, Params()
                                             .Int64(static_cast<int64_t>(p.versions.front().seq))
                                             .Int64(static_cast<int64_t>(current->latest_seq)));
        if (!sup.ok()) return sup.error();
      } else {
        person_id = ++last_person_id;
        auto in = c.Execute(
            kInsertPerson,
            Params().Int64(person_id).Int64(*fnr).Int64(latest).Bytes(blob).Int32Array(terms));
        if (!in.ok()) return in.error();
      }
      if (Status s = UpsertIdentifiers(c, p.record, person_id); !s.ok()) return s.error();
      for (size_t v = 0; v < p.versions.size(); ++v) {
        if (Status s = InsertVersion(c, p, v, person_id, *fnr); !s.ok()) return s.error();
      }
      next_seq = p.versions.back().seq + 1;
    }
    if (Status s = SetSequence(c, {next_seq - 1, last_person_id}); !s.ok()) return s.error();
    if (Status s = tx.Commit(); !s.ok()) return s.error();
    return next_seq - 1;
  }

  std::array<uint8_t, 16> DocumentKey() override { return document_key_; }

  Status InstallDictionary(const std::vector<std::string>& samples) override {
    std::lock_guard lock(write_mutex_);
    if (codec_.load()->DictionaryId() != 0) {
      return MakeError(ErrorCode::kConflict, "registeret har allerede en komprimeringsordbok");
    }
    auto dict = Zstd::TrainDictionary(samples);
    if (!dict.ok()) return dict.error();
    auto codec = Zstd::Create(*dict);
    if (!codec.ok()) return codec.error();
    auto writer = Writer();
    if (!writer.ok()) return writer.error();
    auto added = (*writer)->Execute(kAddMeta, Params().Text("dictionary").Bytes(*dict));
    if (!added.ok()) return added.error();
    if (added->affected() == 0) {
      // Another node installed one first: use that.
      (void)RefreshCodec(**writer);
      return MakeError(ErrorCode::kConflict, "registeret har allerede en komprimeringsordbok");
    }
    codec_.store(std::make_shared<const Zstd>(std::move(codec).value()));
    return Status::Ok();
  }

 private:
  // The write connection, (re)opened when needed. Call with write_mutex_ held.
  Result<Connection*> Writer() {
    if (writer_ && writer_->healthy()) return &*writer_;
    writer_.reset();
    auto opened = Connection::Open(options_.conninfo);
    if (!opened.ok()) return opened.error();
    writer_.emplace(std::move(opened).value());
    return &*writer_;
  }

  static Status PutMeta(Connection& c, std::string_view key, std::string_view value) {
    auto r = c.Execute(kPutMeta, Params().Text(key).Bytes(value));
    return r.ok() ? Status::Ok() : Status(r.error());
  }

  // A person's search terms as stored: integer[] of the hashes' bits as signed integers.
  static std::string TermArray(std::span<const uint32_t> terms) {
    thread_local std::vector<int32_t> stored;
    stored.assign(terms.begin(), terms.end());
    return pg::EncodeInt32Array(stored);
  }

  // Builds every one of kBulkIndexes that is missing and attaches the primary keys, statement by
  // statement (outside a transaction each commits alone, and a second call after a failure
  // resumes). A duplicate number or sekvensnummer is kConflict.
  static Status BuildBulkIndexes(Connection& c) {
    for (const BulkIndex& index : kBulkIndexes) {
      if (auto built = c.Query(index.create); !built.ok()) {
        Error e = built.error();
        if (c.last_error().sqlstate == pg::kUniqueViolation && index.conflict_message) {
          e.code = ErrorCode::kConflict;
          e.message = index.conflict_message;
        }
        return e;
      }
    }
    for (const BulkIndex& index : kBulkIndexes) {
      if (index.attach == nullptr) continue;
      auto exists = c.Execute(kHasConstraint, Params().Text(index.name));
      if (!exists.ok()) return exists.error();
      if (exists->rows() > 0) continue;
      if (auto attached = c.Query(index.attach); !attached.ok()) return attached.error();
    }
    return Status::Ok();
  }

  // A bulk load that never reached EndBulkLoad (the loader died) left kBulkIndexes out: they are
  // built now, before the store serves (the search index follows in EnsureSearchIndex). Under the
  // sequence row's lock, so that nodes opening at the same time build them once.
  Status FinishInterruptedBulkLoad(Connection& c) {
    auto marker = GetMeta(c, kBulkLoadKey);
    if (!marker.ok()) return marker.error();
    if (!*marker) return Status::Ok();
    return pg::RunInTransaction(c, {}, [&]() -> Status {
      if (auto state = LockSequence(c); !state.ok()) return state.error();
      auto again = GetMeta(c, kBulkLoadKey);
      if (!again.ok()) return again.error();
      if (!*again) return Status::Ok();
      if (Status s = BuildBulkIndexes(c); !s.ok()) {
        Error e = s.error();
        e.message =
            "registeret ble ikke ferdig lastet inn (" + e.message + "): generer det på nytt";
        return e;
      }
      auto deleted = c.Execute(kDeleteMeta, Params().Text(kBulkLoadKey));
      return deleted.ok() ? Status::Ok() : Status(deleted.error());
    });
  }

  // The GIN index over the rows' terms, built in one pass, and the meta row that says so. Inside
  // the caller's transaction.
  static Status BuildSearchIndex(Connection& c) {
    if (auto r = c.Query(kCreateSearchIndex); !r.ok()) return r.error();
    return PutMeta(c, kSearchVersionKey, std::to_string(freg::kSearchTermsVersion));
  }

  // Builds the search index from the records when it was built with another term definition,
  // never, or not finished (a bulk load that did not end): every row's terms are computed again
  // (into a side table, then one UPDATE) and the index built afresh. Under the sequence row's
  // lock, so writers and other nodes opening at the same time wait, and a node that waited finds
  // it built.
  Status EnsureSearchIndex(Connection& c) {
    auto version = GetMeta(c, kSearchVersionKey);
    if (!version.ok()) return version.error();
    const std::string current = std::to_string(freg::kSearchTermsVersion);
    if (*version && **version == current) return Status::Ok();
    return pg::RunInTransaction(c, {}, [&]() -> Status {
      if (auto state = LockSequence(c); !state.ok()) return state.error();
      auto again = GetMeta(c, kSearchVersionKey);
      if (!again.ok()) return again.error();
      if (*again && **again == current) return Status::Ok();
      for (const char* sql :
           {kDropSearchIndex,
            "CREATE TEMP TABLE search_rebuild(person_id bigint, terms integer[]) ON COMMIT DROP"}) {
        if (auto r = c.Query(sql); !r.ok()) return r.error();
      }
      std::string raw;
      freg::RecordView view;
      int64_t after = 0;
      while (true) {
        auto rows = c.Execute(kPersonsAfter, Params().Int64(after));
        if (!rows.ok()) return rows.error();
        if (rows->rows() == 0) break;
        auto copy = pg::CopyIn::Start(c,
                                      "COPY search_rebuild(person_id, terms) FROM STDIN "
                                      "(FORMAT binary)",
                                      pg::CopyFormat::kBinary);
        if (!copy.ok()) return copy.error();
        for (int r = 0; r < rows->rows(); ++r) {
          after = rows->Int64(r, 0);
          if (Status s = Decompress(c, rows->Bytes(r, 2), raw); !s.ok()) {
            return Corrupt("person " + std::to_string(after) + ": " + s.error().detail);
          }
          if (Status s = view.Parse(raw); !s.ok()) {
            return Corrupt("person " + std::to_string(after) + ": " + s.error().message);
          }
          copy->BeginRow(2);
          copy->Int64(after);
          copy->Bytes(
              TermArray(freg::SearchTermsOf(view, static_cast<uint64_t>(rows->Int64(r, 1)))));
        }
        if (auto done = copy->Finish(); !done.ok()) return done.error();
      }
      if (auto r = c.Query("UPDATE persons p SET search_terms = s.terms FROM search_rebuild s "
                           "WHERE p.person_id = s.person_id");
          !r.ok()) {
        return r.error();
      }
      return BuildSearchIndex(c);
    });
  }

  static Result<std::optional<std::string>> GetMeta(Connection& c, std::string_view key) {
    auto rows = c.Execute(kGetMeta, Params().Text(key));
    if (!rows.ok()) return rows.error();
    if (rows->rows() == 0) return std::optional<std::string>();
    return std::optional<std::string>(std::string(rows->Bytes(0, 0)));
  }

  // The document key is created by the first node to open the register; a node that loses the
  // race to create it reads the winner's.
  Status LoadMeta(Connection& c) {
    auto key = GetMeta(c, "document_key");
    if (!key.ok()) return key.error();
    if (!*key) {
      const auto fresh = DocumentIdCipher::NewKey();
      auto added = c.Execute(
          kAddMeta,
          Params()
              .Text("document_key")
              .Bytes(std::string_view(reinterpret_cast<const char*>(fresh.data()), fresh.size())));
      if (!added.ok()) return added.error();
      key = GetMeta(c, "document_key");
      if (!key.ok()) return key.error();
    }
    if (!*key || (*key)->size() != document_key_.size()) {
      return MakeError(ErrorCode::kInternal, "registeret har en ugyldig dokumentnøkkel");
    }
    std::copy((*key)->begin(), (*key)->end(), document_key_.begin());
    auto dict = GetMeta(c, "dictionary");
    if (!dict.ok()) return dict.error();
    auto codec = Zstd::Create(*dict ? **dict : std::string());
    if (!codec.ok()) return codec.error();
    codec_.store(std::make_shared<const Zstd>(std::move(codec).value()));
    return Status::Ok();
  }

  // Loads the dictionary from meta when this store has none yet (another node installed it after
  // this one opened the register). True when a dictionary is in use afterwards.
  Result<bool> RefreshCodec(Connection& c) {
    if (codec_.load()->HasDictionary()) return true;
    auto dict = GetMeta(c, "dictionary");
    if (!dict.ok()) return dict.error();
    if (!*dict) return false;
    auto codec = Zstd::Create(**dict);
    if (!codec.ok()) return codec.error();
    codec_.store(std::make_shared<const Zstd>(std::move(codec).value()));
    return true;
  }

  Status Decompress(Connection& c, std::string_view blob, std::string& out) {
    const std::shared_ptr<const Zstd> codec = codec_.load();
    Status s = codec->Decompress(blob, out);
    if (s.ok() || codec->HasDictionary()) return s;
    auto refreshed = RefreshCodec(c);
    if (!refreshed.ok() || !*refreshed) return s;
    return codec_.load()->Decompress(blob, out);
  }

  Result<RawPerson> ReadRaw(Connection& c, const pg::Statement& statement, int64_t key,
                            std::string& buffer) {
    auto rows = c.Execute(statement, Params().Int64(key));
    if (!rows.ok()) return rows.error();
    if (rows->rows() == 0) return MakeError(ErrorCode::kNotFound, "Fant ikke person");
    RawPerson person{rows->Int64(0, 0), static_cast<uint64_t>(rows->Int64(0, 1))};
    if (Status s = Decompress(c, rows->Bytes(0, 2), buffer); !s.ok()) {
      return Corrupt("person " + std::to_string(person.person_id) + ": " + s.error().detail);
    }
    return person;
  }

  // One query for `keys` (entry positions[k] of `total` is keys[k]; the other entries have no
  // valid key), then `each` for every entry in order.
  Status ReadMany(const pg::Statement& statement, const std::vector<int64_t>& keys,
                  const std::vector<size_t>& positions, size_t total, std::string& buffer,
                  const RawVisitor& each) {
    return WithReader([&](Connection& c) -> Status {
      std::optional<pg::QueryResult> rows;
      if (!keys.empty()) {
        const std::string array = pg::EncodeInt64Array(keys);
        auto answered = c.Execute(statement, Params().Int64Array(array));
        if (!answered.ok()) return answered.error();
        rows = std::move(*answered);
      }
      const int row_count = rows ? rows->rows() : 0;
      int row = 0;
      size_t k = 0;
      for (size_t i = 0; i < total; ++i) {
        Result<RawPerson> person = MakeError(ErrorCode::kNotFound, "Fant ikke person");
        if (k < positions.size() && positions[k] == i) {
          if (row < row_count && rows->Int64(row, 0) == static_cast<int64_t>(k + 1)) {
            RawPerson found{rows->Int64(row, 1), static_cast<uint64_t>(rows->Int64(row, 2))};
            if (Status s = Decompress(c, rows->Bytes(row, 3), buffer); !s.ok()) {
              return Corrupt("person " + std::to_string(found.person_id) + ": " + s.error().detail);
            }
            person = found;
            ++row;
          }
          ++k;
        }
        if (Status s = each(i, person); !s.ok()) return s;
      }
      return Status::Ok();
    });
  }

  Result<StoredPerson> ReadPerson(Connection& c, const pg::Statement& statement, int64_t key) {
    thread_local std::string raw;
    auto found = ReadRaw(c, statement, key, raw);
    if (!found.ok()) return found.error();
    auto record = freg::DecodeRecord(raw);
    if (!record.ok()) {
      return Corrupt("person " + std::to_string(found->person_id) + ": " + record.error().message);
    }
    return StoredPerson{found->person_id, found->latest_seq, std::move(record).value()};
  }

  static Status UpsertIdentifier(Connection& c, int64_t number, int64_t person_id) {
    auto r = c.Execute(kUpsertIdentifier, Params().Int64(number).Int64(person_id));
    return r.ok() ? Status::Ok() : Status(r.error());
  }

  static Status UpsertIdentifiers(Connection& c, const freg::PersonRecord& record,
                                  int64_t person_id) {
    auto number = FnrToInt(record.fnr);
    if (!number) return MakeError(ErrorCode::kInvalidInput, "ugyldig nummer " + record.fnr);
    if (Status s = UpsertIdentifier(c, *number, person_id); !s.ok()) return s;
    for (const auto& other : record.other_ids) {
      auto n = FnrToInt(other);
      if (!n) return MakeError(ErrorCode::kInvalidInput, "ugyldig nummer " + other);
      if (Status s = UpsertIdentifier(c, *n, person_id); !s.ok()) return s;
    }
    return Status::Ok();
  }

  // Inserts version `v` of `p`; superseded_seq is the person's next version (NULL for the last).
  static Status InsertVersion(Connection& c, const PersonWrite& p, size_t v, int64_t person_id,
                              int64_t fnr) {
    const freg::Version& version = p.versions[v];
    Params params;
    params.Int64(static_cast<int64_t>(version.seq))
        .Int64(person_id)
        .Int64(fnr)
        .Int16(static_cast<int16_t>(version.type))
        .Int64(version.ajourholdstidspunkt);
    if (v + 1 < p.versions.size()) {
      params.Int64(static_cast<int64_t>(p.versions[v + 1].seq));
    } else {
      params.Null(pg::Type::kInt8);
    }
    auto r = c.Execute(kInsertVersion, params);
    if (!r.ok()) {
      Error e = r.error();
      if (c.last_error().sqlstate == pg::kUniqueViolation) {
        e.code = ErrorCode::kConflict;
        e.message = "sekvensnummer " + std::to_string(version.seq) + " er allerede brukt";
      }
      return e;
    }
    return Status::Ok();
  }

  // The number SQLite names when a batch's versions collide: the smallest that is either stored
  // already or twice in the batch (`versions` ascend). Only asked after a refused batch.
  static uint64_t FirstTakenSeq(
      Connection& c, const std::vector<std::pair<uint64_t, std::pair<size_t, size_t>>>& versions) {
    uint64_t first = UINT64_MAX;
    for (size_t k = 1; k < versions.size(); ++k) {
      if (versions[k].first == versions[k - 1].first) {
        first = versions[k].first;
        break;
      }
    }
    std::vector<int64_t> seqs;
    seqs.reserve(versions.size());
    for (const auto& v : versions) seqs.push_back(static_cast<int64_t>(v.first));
    const std::string array = pg::EncodeInt64Array(seqs);
    auto stored = c.Query(
        "SELECT min(s) FROM unnest($1) AS s WHERE EXISTS (SELECT 1 FROM versions WHERE seq = s)",
        Params().Int64Array(array));
    if (stored.ok() && stored->rows() == 1 && !stored->IsNull(0, 0)) {
      first = std::min(first, static_cast<uint64_t>(stored->Int64(0, 0)));
    }
    return first;
  }

  // Runs `fn` with a pooled read connection, or with this thread's one of an InReadSnapshot.
  template <typename Fn>
  auto WithReader(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    if (pinned_.store == this) return fn(*pinned_.connection);
    auto lease = readers_.Acquire();
    if (!lease.ok()) return lease.error();
    return fn(**lease);
  }

  const PostgresOptions options_;
  std::array<uint8_t, 16> document_key_{};
  std::atomic<std::shared_ptr<const Zstd>> codec_;  // replaced when a dictionary is installed

  std::mutex write_mutex_;
  std::optional<Connection> writer_;
  pg::ConnectionPool readers_;

  // The connection of the InReadSnapshot running on this thread, if any.
  struct Pinned {
    const PostgresStore* store = nullptr;
    Connection* connection = nullptr;
  };
  static thread_local Pinned pinned_;
};

thread_local PostgresStore::Pinned PostgresStore::pinned_;

}  // namespace

Result<std::unique_ptr<RegisterStore>> OpenPostgresStore(const PostgresOptions& options) {
  if (options.conninfo.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "mangler tilkoblingsstreng til PostgreSQL");
  }
  auto store = std::make_unique<PostgresStore>(options);
  if (Status s = store->Init(); !s.ok()) return s.error();
  return std::unique_ptr<RegisterStore>(std::move(store));
}

}  // namespace norreg::store
