// SQLite implementation of store::RegisterStore.
//
// Layout (see docs/design.md): one row per person holding its whole history as a compressed
// record (freg/record_codec + zstd with a register-trained dictionary), an identifier table
// (every fødselsnummer/d-nummer the person has had -> person), and one row per version/event in
// sekvensnummer order with the sekvensnummer that superseded it, so that "the document of every
// person as it stood at N" is one ordered scan. Numbers are stored as integers (11 digits fit in
// 64 bits), dokumentidentifikator is not stored at all: it is an encryption of the sekvensnummer.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iterator>
#include <mutex>

#include "common/compress.hpp"
#include "common/document_id.hpp"
#include "freg/person_search.hpp"
#include "freg/record_codec.hpp"
#include "store/register_encoding.hpp"
#include "store/register_store.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_postings.hpp"

namespace norreg::store {
namespace {

using common::Zstd;
using ids::DocumentIdCipher;

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

constexpr const char* kInternalMessage = kStoreInternalMessage;

// Schema migrations, applied in order; schema_version holds how many have run. Append only.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE persons(
  person_id INTEGER PRIMARY KEY,
  fnr INTEGER NOT NULL,
  latest_seq INTEGER NOT NULL,
  record BLOB NOT NULL);
CREATE TABLE identifiers(fnr INTEGER PRIMARY KEY, person_id INTEGER NOT NULL);
CREATE TABLE versions(
  seq INTEGER PRIMARY KEY,
  person_id INTEGER NOT NULL,
  fnr INTEGER NOT NULL,
  type INTEGER NOT NULL,
  ajourhold INTEGER NOT NULL,
  superseded_seq INTEGER);
)sql",
    // Person search (freg/person_search.hpp): the index of (term, person), and the side table a
    // bulk load appends to (BeginBulkLoad/EndBulkLoad). Filled by EnsureSearchIndex on open.
    R"sql(
CREATE TABLE search_terms(term INTEGER NOT NULL, person_id INTEGER NOT NULL,
                          PRIMARY KEY(term, person_id)) WITHOUT ROWID;
CREATE TABLE search_terms_load(term INTEGER NOT NULL, person_id INTEGER NOT NULL);
)sql",
    // Person search in posting blocks (store/sqlite/sqlite_postings.hpp): a row per block of a
    // term's persons instead of a row per (term, person), a sixth of the bytes; a bulk load keeps
    // sorted runs aside. The index is rebuilt on open.
    R"sql(
DROP TABLE search_terms;
DROP TABLE search_terms_load;
CREATE TABLE search_postings(term INTEGER NOT NULL, last_id INTEGER NOT NULL, ids BLOB NOT NULL,
                             PRIMARY KEY(term, last_id)) WITHOUT ROWID;
CREATE TABLE search_terms_load(run INTEGER NOT NULL, chunk INTEGER NOT NULL, pairs BLOB NOT NULL,
                               PRIMARY KEY(run, chunk)) WITHOUT ROWID;
DELETE FROM meta WHERE key = 'search_terms_version';
)sql",
};

// meta key: the freg::kSearchTermsVersion the index was built with ("0" while a bulk load runs).
constexpr std::string_view kSearchVersionKey = "search_terms_version";

Error Corrupt(std::string detail) {
  return MakeError(ErrorCode::kInternal, kInternalMessage, std::move(detail));
}

// A reader connection with its prepared statements (one per concurrently reading thread).
struct Reader {
  Connection connection;
  Statement by_fnr;
  Statement by_seq;
  Statement by_person;
  Statement latest;
  Statement events;
  Statement posting;
  Statement has_term;
};

class SqliteStore final : public RegisterStore {
 public:
  explicit SqliteStore(SqliteOptions options) : options_(std::move(options)) {
    path_ = (std::filesystem::path(options_.data_dir) / "register.db").string();
  }

  Status Init() {
    std::error_code ec;
    std::filesystem::create_directories(options_.data_dir, ec);
    if (ec) {
      return MakeError(ErrorCode::kInternal, "kan ikke opprette datakatalogen " + options_.data_dir,
                       ec.message());
    }
    auto writer =
        Connection::Open(path_, options_.read_only, options_.mmap_bytes, options_.writer_cache_kib);
    if (!writer.ok()) return writer.error();
    writer_ = std::move(writer).value();
    if (!options_.read_only) {
      // Every commit syncs the log: an answered sekvensnummer survives a power loss and is never
      // given out again (docs/design.md, `src/store/`). A bulk load relaxes it until its end.
      if (Status s = writer_.Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
      if (Status s = Migrate(); !s.ok()) return s;
    }
    if (Status s = LoadMeta(); !s.ok()) return s;
    return options_.read_only ? Status::Ok() : EnsureSearchIndex();
  }

  Status SearchPosting(uint32_t term, size_t limit, std::vector<int64_t>& out) override {
    return WithReader([&](Reader& r) { return sqlite::ReadPosting(r.posting, term, limit, out); });
  }

  // The first group's posting (the union of its terms') of at most kMaxDriverPosting persons
  // gives the candidates. A next group of one term is checked per candidate (one index seek
  // each) while at most kProbeBelow remain; otherwise its posting is read and intersected if it
  // is at most kPostingPerCandidate times the candidates, or at most kProbeBelow (a longer one
  // costs more to read than to check). A group of several terms (a criterion in several scopes)
  // would cost a seek per term and candidate, so it is read that way even for few candidates.
  // The groups left are checked per candidate before its record is read (docs/search.md).
  Result<bool> FindRawBySearchTerms(std::span<const std::vector<uint32_t>> groups,
                                    std::string& buffer,
                                    const std::function<Status(const RawPerson&)>& each) override {
    constexpr size_t kMaxDriverPosting = 50'000;
    constexpr size_t kProbeBelow = 64;
    constexpr size_t kPostingPerCandidate = 4;
    bool narrowed = false;
    Status searched = InReadSnapshot([&]() -> Status {
      return WithReader([&](Reader& r) -> Status {
        std::optional<std::vector<int64_t>> candidates;
        std::vector<const std::vector<uint32_t>*> probes;
        std::vector<int64_t> posting;
        for (const std::vector<uint32_t>& group : groups) {
          if (group.empty()) continue;
          if (!candidates) {
            Status s = ReadGroupPosting(r.posting, group, kMaxDriverPosting + 1, posting);
            if (!s.ok()) return s;
            if (posting.size() <= kMaxDriverPosting) candidates = std::move(posting);
          } else if (group.size() == 1 && candidates->size() <= kProbeBelow) {
            probes.push_back(&group);
          } else {
            const size_t cap = std::max(candidates->size() * kPostingPerCandidate, kProbeBelow);
            if (Status s = ReadGroupPosting(r.posting, group, cap + 1, posting); !s.ok()) {
              return s;
            }
            if (posting.size() > cap) {
              probes.push_back(&group);
            } else {
              std::vector<int64_t> both;
              std::set_intersection(candidates->begin(), candidates->end(), posting.begin(),
                                    posting.end(), std::back_inserter(both));
              candidates->swap(both);
            }
          }
        }
        if (!candidates) return Status::Ok();
        narrowed = true;
        for (int64_t person_id : *candidates) {
          auto has_terms = HasGroups(r.has_term, person_id, probes);
          if (!has_terms.ok()) return has_terms.error();
          if (!*has_terms) continue;
          auto person = ReadRaw(r.by_person, person_id, buffer);
          if (!person.ok()) {
            if (person.error().code == ErrorCode::kNotFound) continue;
            return person.error();
          }
          if (Status s = each(*person); !s.ok()) return s;
        }
        return Status::Ok();
      });
    });
    if (!searched.ok()) return searched.error();
    return narrowed;
  }

  Result<StoredPerson> FindByFnr(std::string_view fnr) override {
    auto number = FnrToInt(fnr);
    if (!number) return MakeError(ErrorCode::kNotFound, "Fant ikke person");
    return WithReader(
        [&](Reader& r) -> Result<StoredPerson> { return ReadPerson(r.by_fnr, *number); });
  }

  Result<StoredPerson> FindByVersion(uint64_t seq) override {
    if (seq == 0 || seq > static_cast<uint64_t>(INT64_MAX)) {
      return MakeError(ErrorCode::kNotFound, "Fant ikke dokument");
    }
    return WithReader([&](Reader& r) -> Result<StoredPerson> {
      return ReadPerson(r.by_seq, static_cast<int64_t>(seq));
    });
  }

  Result<RawPerson> FindRawByFnr(std::string_view fnr, std::string& buffer) override {
    auto number = FnrToInt(fnr);
    if (!number) return MakeError(ErrorCode::kNotFound, "Fant ikke person");
    return WithReader([&](Reader& r) { return ReadRaw(r.by_fnr, *number, buffer); });
  }

  Result<RawPerson> FindRawByVersion(uint64_t seq, std::string& buffer) override {
    if (seq == 0 || seq > static_cast<uint64_t>(INT64_MAX)) {
      return MakeError(ErrorCode::kNotFound, "Fant ikke dokument");
    }
    return WithReader(
        [&](Reader& r) { return ReadRaw(r.by_seq, static_cast<int64_t>(seq), buffer); });
  }

  uint64_t LatestSeq() override {
    auto r = WithReader([&](Reader& reader) -> Result<uint64_t> {
      reader.latest.Reset();
      auto row = reader.latest.Step();
      if (!row.ok()) return row.error();
      uint64_t seq =
          *row && !reader.latest.IsNull(0) ? static_cast<uint64_t>(reader.latest.Int(0)) : 0;
      reader.latest.Reset();
      return seq;
    });
    return r.ok() ? *r : 0;
  }

  Result<std::vector<EventRow>> Events(uint64_t from_seq, size_t limit) override {
    return WithReader([&](Reader& r) -> Result<std::vector<EventRow>> {
      std::vector<EventRow> out;
      Statement& st = r.events;
      st.Reset();
      st.Bind(1, static_cast<int64_t>(std::min<uint64_t>(from_seq, INT64_MAX)));
      st.Bind(2, static_cast<int64_t>(limit));
      while (true) {
        auto row = st.Step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        EventRow e;
        e.seq = static_cast<uint64_t>(st.Int(0));
        e.person_id = st.Int(1);
        e.fnr = FnrFromInt(st.Int(2));
        e.type = static_cast<freg::Hendelsetype>(st.Int(3));
        e.ajourholdstidspunkt = st.Int(4);
        out.push_back(std::move(e));
      }
      st.Reset();
      return out;
    });
  }

  Result<RegisterStats> Stats() override {
    std::lock_guard lock(write_mutex_);
    RegisterStats stats;
    auto persons = Number("SELECT count(*) FROM persons");
    auto versions = Number("SELECT count(*) FROM versions");
    auto latest = Number("SELECT max(seq) FROM versions");
    for (auto* r : {&persons, &versions, &latest}) {
      if (!r->ok()) return r->error();
    }
    stats.persons = *persons;
    stats.versions = *versions;
    stats.latest_seq = *latest;
    auto bytes = BytesOnDiskLocked();
    if (!bytes.ok()) return bytes.error();
    stats.bytes_on_disk = *bytes;
    return stats;
  }

  Result<uint64_t> BytesOnDisk() override {
    std::lock_guard lock(write_mutex_);
    return BytesOnDiskLocked();
  }

  // The first column of `sql`'s first row on the writer (0 for no row or NULL). Call with
  // write_mutex_ held.
  Result<uint64_t> Number(const char* sql) {
    Statement st = writer_.Prepare(sql);
    auto row = st.Step();
    if (!row.ok()) return row.error();
    return *row && !st.IsNull(0) ? static_cast<uint64_t>(st.Int(0)) : 0;
  }

  // The database's pages and its write-ahead log. Call with write_mutex_ held.
  Result<uint64_t> BytesOnDiskLocked() {
    auto pages = Number("PRAGMA page_count");
    if (!pages.ok()) return pages.error();
    auto page_size = Number("PRAGMA page_size");
    if (!page_size.ok()) return page_size.error();
    uint64_t bytes = *pages * *page_size;
    std::error_code ec;
    auto wal = std::filesystem::file_size(path_ + "-wal", ec);
    if (!ec) bytes += wal;
    return bytes;
  }

  // Two queries in one read transaction (so both see the same committed state):
  //  1. the versions current at `seq`: a range scan of the versions table in seq order
  //     (seq <= N AND (superseded_seq IS NULL OR superseded_seq > N)), collected into one array
  //     and sorted by person_id here. Measured on a 1 M-person register (2.85 M versions): the
  //     scan takes 0.23 s; letting SQLite ORDER BY person_id added 0.55 s (temp B-tree), an
  //     std::sort of the array ~0.05 s. No index needed; the rowid order of versions is the seq.
  //  2. with records: the persons table in rowid (= person_id) order, merged with the array, so
  //     each record is read sequentially and only snapshot members are decompressed.
  Status SnapshotScan(uint64_t seq, SnapshotRecords records,
                      const std::function<Status(const SnapshotEntry&)>& each) override {
    if (seq == 0) return Status::Ok();
    const int64_t n = static_cast<int64_t>(std::min<uint64_t>(seq, INT64_MAX));
    // A scan reads each page once: a small page cache is enough.
    auto opened = Connection::Open(path_, true, options_.mmap_bytes, 4 * 1024);
    if (!opened.ok()) return opened.error();
    Connection connection = std::move(opened).value();
    if (Status s = connection.Exec("BEGIN"); !s.ok()) return s;
    struct Item {
      int64_t person_id;
      int64_t seq;
      int64_t fnr;
    };
    std::vector<Item> items;
    {
      // Reserve for everyone once (max(person_id) is one B-tree descent) instead of growing.
      Statement count = connection.Prepare("SELECT max(person_id) FROM persons");
      auto row = count.Step();
      if (!row.ok()) return row.error();
      if (*row && !count.IsNull(0)) items.reserve(static_cast<size_t>(count.Int(0)));
    }
    {
      Statement st = connection.Prepare(
          "SELECT person_id, seq, fnr FROM versions "
          "WHERE seq <= ?1 AND (superseded_seq IS NULL OR superseded_seq > ?1)");
      st.Bind(1, n);
      while (true) {
        auto row = st.Step();
        if (!row.ok()) return row.error();
        if (!*row) break;
        items.push_back({st.Int(0), st.Int(1), st.Int(2)});
      }
    }
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.person_id < b.person_id; });

    char fnr[11];
    auto format_fnr = [&fnr](int64_t v) { FormatFnr(v, fnr); };
    SnapshotEntry entry;
    if (records == SnapshotRecords::kSkip) {
      for (const Item& item : items) {
        format_fnr(item.fnr);
        entry.person_id = item.person_id;
        entry.version_seq = static_cast<uint64_t>(item.seq);
        entry.fnr = std::string_view(fnr, sizeof fnr);
        if (Status s = each(entry); !s.ok()) return s;
      }
      return connection.Exec("COMMIT");
    }

    const std::shared_ptr<const Zstd> codec = codec_.load();
    std::string raw;
    Statement st = connection.Prepare("SELECT person_id, record FROM persons ORDER BY person_id");
    size_t next = 0;
    while (next < items.size()) {
      auto row = st.Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      const int64_t person_id = st.Int(0);
      if (person_id < items[next].person_id) continue;  // created after the snapshot
      if (person_id > items[next].person_id) break;     // a version without its person
      const Item& item = items[next++];
      if (Status s = codec->Decompress(st.Blob(1), raw); !s.ok()) {
        return Corrupt("person " + std::to_string(person_id) + ": " + s.error().detail);
      }
      format_fnr(item.fnr);
      entry.person_id = item.person_id;
      entry.version_seq = static_cast<uint64_t>(item.seq);
      entry.fnr = std::string_view(fnr, sizeof fnr);
      entry.record = raw;
      if (Status s = each(entry); !s.ok()) return s;
    }
    if (next != items.size()) {
      return Corrupt("version " + std::to_string(items[next].seq) + " without its person " +
                     std::to_string(items[next].person_id));
    }
    st = Statement();
    return connection.Exec("COMMIT");
  }

  EncodedPersons EncodeForBulkInsert(std::span<const PersonWrite> persons) override {
    return EncodeRecords(*codec_.load(), persons);
  }

  Status BeginBulkLoad() override {
    if (options_.read_only) return ReadOnly();
    std::lock_guard lock(write_mutex_);
    if (Status s = PutMeta(kSearchVersionKey, "0"); !s.ok()) return s;
    // Nothing of a bulk load is answered before its end: its commits need not sync one by one.
    if (Status s = writer_.Exec("PRAGMA synchronous=NORMAL"); !s.ok()) return s;
    bulk_loading_ = true;
    return Status::Ok();
  }

  // The load's sorted runs are merged into the index in one ordered pass.
  Status EndBulkLoad() override {
    if (options_.read_only) return ReadOnly();
    std::lock_guard lock(write_mutex_);
    // This commit syncs the log, and with it every frame the load wrote before.
    if (Status s = writer_.Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
    Transaction tx(writer_);
    if (Status s = tx.Begin(); !s.ok()) return s;
    if (Status s = postings_.MergeRuns(); !s.ok()) return s;
    if (Status s = PutMeta(kSearchVersionKey, std::to_string(freg::kSearchTermsVersion)); !s.ok()) {
      return s;
    }
    if (Status s = tx.Commit(); !s.ok()) return s;
    bulk_loading_ = false;
    return Status::Ok();
  }

  Status BulkInsert(std::span<const PersonWrite> persons, const EncodedPersons* encoded) override {
    if (options_.read_only) return ReadOnly();
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

    std::lock_guard lock(write_mutex_);
    Transaction tx(writer_);
    if (Status s = tx.Begin(); !s.ok()) return s;
    std::vector<int64_t> person_ids(persons.size());
    for (size_t i = 0; i < persons.size(); ++i) {
      auto person_id = InsertPerson(numbers[i], persons[i].versions.back().seq, blobs[i]);
      if (!person_id.ok()) return person_id.error();
      person_ids[i] = *person_id;
    }
    for (const auto& [number, i] : identifiers) {
      Statement& st = w_bulk_identifier_;
      st.Reset();
      st.Bind(1, number);
      st.Bind(2, person_ids[i]);
      if (auto r = st.Step(); !r.ok()) {
        Error e = r.error();
        if (sqlite3_extended_errcode(writer_.handle()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
          e.code = ErrorCode::kConflict;
          e.message = "nummeret finnes allerede i registeret";
        }
        return e;
      }
    }
    for (const auto& [seq, at] : versions) {
      const PersonWrite& p = persons[at.first];
      if (Status s = InsertVersion(p, at.second, person_ids[at.first], numbers[at.first]);
          !s.ok()) {
        return s;
      }
    }
    std::vector<sqlite::TermPair> pairs;
    for (size_t i = 0; i < persons.size(); ++i) {
      for (uint32_t term : encoded->terms[i]) pairs.push_back({term, person_ids[i]});
    }
    Status indexed =
        bulk_loading_ ? postings_.AddRun(std::move(pairs)) : postings_.AddNew(std::move(pairs));
    if (!indexed.ok()) return indexed;
    return tx.Commit();
  }

  Result<uint64_t> ApplyChanges(std::span<const std::string> fnrs,
                                const ChangeFn& change) override {
    if (options_.read_only) return ReadOnly();
    std::lock_guard lock(write_mutex_);
    Transaction tx(writer_);
    if (Status s = tx.Begin(); !s.ok()) return s.error();
    auto latest = WriterLatestSeq();
    if (!latest.ok()) return latest.error();
    uint64_t next_seq = *latest + 1;
    std::string raw, blob;
    for (size_t i = 0; i < fnrs.size(); ++i) {
      std::optional<StoredPerson> current;
      if (auto number = FnrToInt(fnrs[i])) {
        auto found = ReadPerson(w_by_fnr_, *number);
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
      if (p.versions.front().seq != next_seq) {
        return MakeError(ErrorCode::kInternal, kInternalMessage, "change skipped a sekvensnummer");
      }
      auto fnr = FnrToInt(p.record.fnr);
      if (!fnr) return MakeError(ErrorCode::kInvalidInput, "ugyldig nummer " + p.record.fnr);
      raw.clear();
      freg::EncodeRecord(p.record, raw);
      codec_.load()->Compress(raw, blob);
      int64_t person_id = 0;
      if (current) {
        person_id = current->person_id;
        Statement& up = w_update_person_;
        up.Reset();
        up.Bind(1, *fnr);
        up.Bind(2, static_cast<int64_t>(p.versions.back().seq));
        up.BindBlob(3, blob);
        up.Bind(4, person_id);
        if (auto r = up.Step(); !r.ok()) return r.error();
        Statement& sup = w_supersede_;
        sup.Reset();
        sup.Bind(1, static_cast<int64_t>(p.versions.front().seq));
        sup.Bind(2, static_cast<int64_t>(current->latest_seq));
        if (auto r = sup.Step(); !r.ok()) return r.error();
      } else {
        auto id = InsertPerson(*fnr, p.versions.back().seq, blob);
        if (!id.ok()) return id.error();
        person_id = *id;
      }
      if (Status s = InsertIdentifiers(p.record, person_id); !s.ok()) return s.error();
      for (size_t v = 0; v < p.versions.size(); ++v) {
        if (Status s = InsertVersion(p, v, person_id, *fnr); !s.ok()) return s.error();
      }
      if (Status s = UpdateSearchTerms(current, p, person_id); !s.ok()) return s.error();
      next_seq = p.versions.back().seq + 1;
    }
    if (Status s = tx.Commit(); !s.ok()) return s.error();
    return next_seq - 1;
  }

  std::array<uint8_t, 16> DocumentKey() override { return document_key_; }

  Status InstallDictionary(const std::vector<std::string>& samples) override {
    if (options_.read_only) return ReadOnly();
    std::lock_guard lock(write_mutex_);
    if (codec_.load()->DictionaryId() != 0) {
      return MakeError(ErrorCode::kConflict, "registeret har allerede en komprimeringsordbok");
    }
    auto dict = Zstd::TrainDictionary(samples);
    if (!dict.ok()) return dict.error();
    auto codec = Zstd::Create(*dict);
    if (!codec.ok()) return codec.error();
    if (Status s = PutMeta("dictionary", *dict); !s.ok()) return s;
    codec_.store(std::make_shared<const Zstd>(std::move(codec).value()));
    return Status::Ok();
  }

 private:
  static Error ReadOnly() {
    return MakeError(ErrorCode::kInternal, kInternalMessage, "store opened read-only");
  }

  Status Migrate() { return RunMigrations(writer_, kMigrations, "registeret"); }

  Result<std::optional<std::string>> GetMeta(std::string_view key) {
    Statement st = writer_.Prepare("SELECT value FROM meta WHERE key=?");
    st.Bind(1, key);
    auto row = st.Step();
    if (!row.ok()) return row.error();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>(std::string(st.Blob(0)));
  }

  Status PutMeta(std::string_view key, std::string_view value) {
    Statement st = writer_.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
    st.Bind(1, key);
    st.BindBlob(2, value);
    auto r = st.Step();
    return r.ok() ? Status::Ok() : Status(r.error());
  }

  Status LoadMeta() {
    auto key = GetMeta("document_key");
    if (!key.ok()) return key.error();
    if (*key && (*key)->size() == 16) {
      std::copy((*key)->begin(), (*key)->end(), document_key_.begin());
    } else if (options_.read_only) {
      return MakeError(ErrorCode::kInternal, "registeret mangler dokumentnøkkel");
    } else {
      document_key_ = DocumentIdCipher::NewKey();
      if (Status s = PutMeta("document_key",
                             std::string_view(reinterpret_cast<const char*>(document_key_.data()),
                                              document_key_.size()));
          !s.ok()) {
        return s;
      }
    }
    auto dict = GetMeta("dictionary");
    if (!dict.ok()) return dict.error();
    auto codec = Zstd::Create(*dict ? **dict : std::string());
    if (!codec.ok()) return codec.error();
    codec_.store(std::make_shared<const Zstd>(std::move(codec).value()));
    if (!options_.read_only) {
      w_by_fnr_ = writer_.Prepare(kByFnrSql);
      w_insert_person_ =
          writer_.Prepare("INSERT INTO persons(fnr, latest_seq, record) VALUES(?, ?, ?)");
      w_update_person_ =
          writer_.Prepare("UPDATE persons SET fnr=?, latest_seq=?, record=? WHERE person_id=?");
      w_insert_identifier_ = writer_.Prepare(
          "INSERT INTO identifiers(fnr, person_id) VALUES(?, ?) "
          "ON CONFLICT(fnr) DO UPDATE SET person_id=excluded.person_id");
      w_bulk_identifier_ = writer_.Prepare("INSERT INTO identifiers(fnr, person_id) VALUES(?, ?)");
      w_insert_version_ = writer_.Prepare(
          "INSERT INTO versions(seq, person_id, fnr, type, ajourhold, superseded_seq) "
          "VALUES(?, ?, ?, ?, ?, ?)");
      w_supersede_ = writer_.Prepare("UPDATE versions SET superseded_seq=? WHERE seq=?");
      w_latest_ = writer_.Prepare("SELECT max(seq) FROM versions");
      postings_ = sqlite::PostingWriter(writer_);
    }
    return Status::Ok();
  }

  // Brings the index of one person from its stored record (`before`, none for a new person) to
  // the record written now, in the write transaction.
  Status UpdateSearchTerms(const std::optional<StoredPerson>& before, const PersonWrite& after,
                           int64_t person_id) {
    std::vector<uint32_t> old_terms;
    if (before) old_terms = freg::SearchTermsOf(before->record, before->latest_seq);
    const auto diff =
        DiffSearchTerms(old_terms, freg::SearchTermsOf(after.record, after.versions.back().seq));
    for (uint32_t term : diff.removed) {
      if (Status s = postings_.Remove(term, person_id); !s.ok()) return s;
    }
    for (uint32_t term : diff.added) {
      if (Status s = postings_.Add(term, person_id); !s.ok()) return s;
    }
    return Status::Ok();
  }

  // Builds the search index from the records when it was built with another term definition,
  // never, or not finished (a bulk load that did not end). One transaction: the records' terms
  // are set aside as sorted runs of a few million, then merged into the index.
  Status EnsureSearchIndex() {
    auto version = GetMeta(kSearchVersionKey);
    if (!version.ok()) return version.error();
    if (*version && **version == std::to_string(freg::kSearchTermsVersion)) return Status::Ok();
    std::lock_guard lock(write_mutex_);
    Transaction tx(writer_);
    if (Status s = tx.Begin(); !s.ok()) return s;
    if (Status s = postings_.Clear(); !s.ok()) return s;
    constexpr size_t kRunPairs = 4'000'000;
    std::vector<sqlite::TermPair> pairs;
    Statement st = writer_.Prepare("SELECT person_id, latest_seq, record FROM persons");
    const std::shared_ptr<const Zstd> codec = codec_.load();
    std::string raw;
    freg::RecordView view;
    while (true) {
      auto row = st.Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      const int64_t person_id = st.Int(0);
      if (Status s = codec->Decompress(st.Blob(2), raw); !s.ok()) {
        return Corrupt("person " + std::to_string(person_id) + ": " + s.error().detail);
      }
      if (Status s = view.Parse(raw); !s.ok()) {
        return Corrupt("person " + std::to_string(person_id) + ": " + s.error().message);
      }
      for (uint32_t term : freg::SearchTermsOf(view, static_cast<uint64_t>(st.Int(1)))) {
        pairs.push_back({term, person_id});
      }
      if (pairs.size() >= kRunPairs) {
        if (Status s = postings_.AddRun(std::exchange(pairs, {})); !s.ok()) return s;
      }
    }
    st = Statement();
    if (Status s = postings_.AddRun(std::move(pairs)); !s.ok()) return s;
    if (Status s = postings_.MergeRuns(); !s.ok()) return s;
    if (Status s = PutMeta(kSearchVersionKey, std::to_string(freg::kSearchTermsVersion)); !s.ok()) {
      return s;
    }
    return tx.Commit();
  }

  static constexpr const char* kByFnrSql =
      "SELECT p.person_id, p.latest_seq, p.record FROM identifiers i "
      "JOIN persons p ON p.person_id = i.person_id WHERE i.fnr = ?";
  static constexpr const char* kByPersonSql =
      "SELECT person_id, latest_seq, record FROM persons WHERE person_id = ?";
  static constexpr const char* kBySeqSql =
      "SELECT p.person_id, p.latest_seq, p.record FROM versions v "
      "JOIN persons p ON p.person_id = v.person_id WHERE v.seq = ?";

  // The persons with any term of `group`, ascending, at most `limit` (ReadPosting's contract).
  static Status ReadGroupPosting(Statement& st, std::span<const uint32_t> group, size_t limit,
                                 std::vector<int64_t>& out) {
    if (group.size() == 1) return sqlite::ReadPosting(st, group.front(), limit, out);
    out.clear();
    std::vector<int64_t> one, both;
    for (uint32_t term : group) {
      if (Status s = sqlite::ReadPosting(st, term, limit, one); !s.ok()) return s;
      both.clear();
      std::set_union(out.begin(), out.end(), one.begin(), one.end(), std::back_inserter(both));
      out.swap(both);
      if (out.size() >= limit) {
        out.resize(limit);
        break;
      }
    }
    return Status::Ok();
  }

  // Whether person `person_id`'s search terms include a term of every one of `groups` (one index
  // seek per term).
  static Result<bool> HasGroups(Statement& st, int64_t person_id,
                                std::span<const std::vector<uint32_t>* const> groups) {
    for (const std::vector<uint32_t>* group : groups) {
      bool any = false;
      for (uint32_t term : *group) {
        auto has = sqlite::Contains(st, term, person_id);
        if (!has.ok()) return has;
        if (*has) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    return true;
  }

  Result<RawPerson> ReadRaw(Statement& st, int64_t key, std::string& buffer) {
    st.Reset();
    st.Bind(1, key);
    auto row = st.Step();
    if (!row.ok()) return row.error();
    if (!*row) {
      st.Reset();
      return MakeError(ErrorCode::kNotFound, "Fant ikke person");
    }
    RawPerson person{st.Int(0), static_cast<uint64_t>(st.Int(1))};
    Status s = codec_.load()->Decompress(st.Blob(2), buffer);
    st.Reset();
    if (!s.ok()) {
      return Corrupt("person " + std::to_string(person.person_id) + ": " + s.error().detail);
    }
    return person;
  }

  Result<StoredPerson> ReadPerson(Statement& st, int64_t key) {
    thread_local std::string raw;
    auto found = ReadRaw(st, key, raw);
    if (!found.ok()) return found.error();
    auto record = freg::DecodeRecord(raw);
    if (!record.ok()) {
      return Corrupt("person " + std::to_string(found->person_id) + ": " + record.error().message);
    }
    return StoredPerson{found->person_id, found->latest_seq, std::move(record).value()};
  }

  Result<uint64_t> WriterLatestSeq() {
    w_latest_.Reset();
    auto row = w_latest_.Step();
    if (!row.ok()) return row.error();
    uint64_t seq = *row && !w_latest_.IsNull(0) ? static_cast<uint64_t>(w_latest_.Int(0)) : 0;
    w_latest_.Reset();
    return seq;
  }

  Result<int64_t> InsertPerson(int64_t fnr, uint64_t latest_seq, std::string_view blob) {
    Statement& st = w_insert_person_;
    st.Reset();
    st.Bind(1, fnr);
    st.Bind(2, static_cast<int64_t>(latest_seq));
    st.BindBlob(3, blob);
    if (auto r = st.Step(); !r.ok()) return r.error();
    return sqlite3_last_insert_rowid(writer_.handle());
  }

  Status InsertIdentifier(int64_t number, int64_t person_id) {
    Statement& st = w_insert_identifier_;
    st.Reset();
    st.Bind(1, number);
    st.Bind(2, person_id);
    auto r = st.Step();
    return r.ok() ? Status::Ok() : Status(r.error());
  }

  Status InsertIdentifiers(const freg::PersonRecord& record, int64_t person_id) {
    auto number = FnrToInt(record.fnr);
    if (!number) return MakeError(ErrorCode::kInvalidInput, "ugyldig nummer " + record.fnr);
    if (Status s = InsertIdentifier(*number, person_id); !s.ok()) return s;
    for (const auto& other : record.other_ids) {
      auto n = FnrToInt(other);
      if (!n) return MakeError(ErrorCode::kInvalidInput, "ugyldig nummer " + other);
      if (Status s = InsertIdentifier(*n, person_id); !s.ok()) return s;
    }
    return Status::Ok();
  }

  // Inserts version `v` of `p`; superseded_seq is the person's next version (NULL for the last).
  Status InsertVersion(const PersonWrite& p, size_t v, int64_t person_id, int64_t fnr) {
    Statement& st = w_insert_version_;
    const freg::Version& version = p.versions[v];
    st.Reset();
    st.Bind(1, static_cast<int64_t>(version.seq));
    st.Bind(2, person_id);
    st.Bind(3, fnr);
    st.Bind(4, static_cast<int64_t>(version.type));
    st.Bind(5, version.ajourholdstidspunkt);
    if (v + 1 < p.versions.size()) {
      st.Bind(6, static_cast<int64_t>(p.versions[v + 1].seq));
    } else {
      st.BindNull(6);
    }
    auto r = st.Step();
    if (!r.ok()) {
      Error e = r.error();
      if (sqlite3_extended_errcode(writer_.handle()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
        e.code = ErrorCode::kConflict;
        e.message = "sekvensnummer " + std::to_string(version.seq) + " er allerede brukt";
      }
      return e;
    }
    return Status::Ok();
  }

  Status InReadSnapshot(const std::function<Status()>& fn) override {
    if (pinned_.store == this) return fn();
    return WithReader([&](Reader& reader) -> Status {
      if (Status s = reader.connection.Exec("BEGIN"); !s.ok()) return s;
      pinned_ = {this, &reader};
      Status result = fn();
      pinned_ = {};
      Status end = reader.connection.Exec("COMMIT");
      if (!end.ok()) (void)reader.connection.Exec("ROLLBACK");
      return result.ok() ? end : result;
    });
  }

  // Runs `fn` with a pooled reader, or with this thread's reader of an InReadSnapshot.
  template <typename Fn>
  auto WithReader(Fn&& fn) -> decltype(fn(std::declval<Reader&>())) {
    if (pinned_.store == this) return fn(*pinned_.reader);
    std::unique_ptr<Reader> reader;
    {
      std::lock_guard lock(pool_mutex_);
      if (!pool_.empty()) {
        reader = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    if (!reader) {
      auto c = Connection::Open(path_, true, options_.mmap_bytes, options_.cache_kib);
      if (!c.ok()) return c.error();
      reader = std::make_unique<Reader>();
      reader->connection = std::move(c).value();
      reader->by_fnr = reader->connection.Prepare(kByFnrSql);
      reader->by_seq = reader->connection.Prepare(kBySeqSql);
      reader->by_person = reader->connection.Prepare(kByPersonSql);
      reader->posting = reader->connection.Prepare(sqlite::kPostingSql);
      reader->has_term = reader->connection.Prepare(sqlite::kContainsSql);
      reader->latest = reader->connection.Prepare("SELECT max(seq) FROM versions");
      reader->events = reader->connection.Prepare(
          "SELECT seq, person_id, fnr, type, ajourhold FROM versions WHERE seq >= ? "
          "ORDER BY seq LIMIT ?");
    }
    auto result = fn(*reader);
    std::lock_guard lock(pool_mutex_);
    pool_.push_back(std::move(reader));
    return result;
  }

  SqliteOptions options_;
  std::string path_;
  std::array<uint8_t, 16> document_key_{};
  std::atomic<std::shared_ptr<const Zstd>> codec_;  // replaced once by InstallDictionary

  std::mutex write_mutex_;
  Connection writer_;
  Statement w_by_fnr_, w_insert_person_, w_update_person_, w_insert_identifier_, w_bulk_identifier_,
      w_insert_version_, w_supersede_, w_latest_;
  sqlite::PostingWriter postings_;  // the search index's writer (on writer_)
  bool bulk_loading_ = false;       // between BeginBulkLoad and EndBulkLoad (under write_mutex_)

  // The reader of the InReadSnapshot running on this thread, if any.
  struct Pinned {
    const SqliteStore* store = nullptr;
    Reader* reader = nullptr;
  };
  static thread_local Pinned pinned_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<Reader>> pool_;
};

thread_local SqliteStore::Pinned SqliteStore::pinned_;

}  // namespace

Result<std::unique_ptr<RegisterStore>> OpenSqliteStore(const SqliteOptions& options) {
  // SQLite's memory statistics take a process-wide mutex on every allocation; norreg does not
  // read them. Must happen before SQLite initialises (later calls are refused and harmless).
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  auto store = std::make_unique<SqliteStore>(options);
  if (Status s = store->Init(); !s.ok()) return s.error();
  return std::unique_ptr<RegisterStore>(std::move(store));
}

}  // namespace norreg::store
