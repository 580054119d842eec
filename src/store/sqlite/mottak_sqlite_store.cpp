// SQLite implementation of store::MottakStore (store/mottak_store.hpp, SPEC 3): <dir>/mottak.db.
//
// Schema (migration 1):
// - inbound: one row per upload. `id` is the rowid the attachment rows point at; `mottak_id` (the
//   public UUID) is unique; UNIQUE(orgnr, melding_id) makes a client's retry find the first upload.
// - inbound_files / outbound_files: the attachments of an upload / a reply, (parent id, seq) keyed,
//   in upload order.
// - outbound: one row per reply, with the optimistic lock counter `version`, `confirmed`,
//   `oppdatert_ms` (last publish/confirm) and `confirmed_ms` (first confirm, for retention).
// - Every content column (payload, henvendelse, file content) has its SHA-256 beside it, checked on
//   every read. Content columns come last in their rows: a read of the small columns never touches
//   a large value's overflow pages.
// - outbound_available: a partial covering index over the unconfirmed replies, (orgnr,
//   oppdatert_ms, id) first, so outbound/available is one range scan that never visits the table
//   and needs no sort (oldest first, ties in publish order); a confirm drops the reply from it.
// - outbound_confirmed: a partial index over the confirmed replies by confirm time (retention).
// Migration 2 (large content out of the database):
// - inbound_files.file/size: an attachment that arrived as a spill is kept as <dir>/blobs/<file>
//   (content then empty), its digest in the row as before;
// - outbound_zips: each reply's ZIP, built once at publish: `zip` inline when small, else
//   <dir>/blobs/<file>; with its size and SHA-256. outbound_files keeps each attachment's name,
//   type and digest (content empty: the bytes are in the ZIP). Replies published before
//   migration 2 get their ZIP built when the store opens.
// A blob file is fsynced and renamed into blobs/ (and the folder fsynced) before the row that
// names it commits; a crash in between leaves a file no row names, removed at the next open.
//
// Writes: the database is synchronous=FULL (an answer means the data survives a power loss), so a
// commit costs an fsync (~0.6 ms on this kind of disk): alone that caps confirms at ~1 600/s.
// Writers therefore group-commit as leveldb does: each write queues a job; the job at the head of
// the queue leads, runs every queued job (up to kMaxBatch) in one transaction, each under its own
// savepoint, commits once and wakes the others with their results. A single writer runs jobs
// one at a time exactly as before; concurrent ones share the fsync. Jobs in a batch run in queue
// order and see each other's effects, so they behave exactly as if committed one by one (two
// identical uploads: the second is the repeat; two confirms of one version: the second conflicts).
//
// Reads use pooled read-only connections (WAL: they never wait for the writer), each read in one
// read transaction so that a reply and its attachments come from the same snapshot.
#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <limits>
#include <mutex>
#include <type_traits>
#include <unordered_set>
#include <utility>

#include "common/ids.hpp"
#include "mottak/zip.hpp"
#include "store/blob_file.hpp"
#include "store/mottak_store.hpp"
#include "store/mottak_store_common.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace norreg::store {

namespace sqlite {
// The SQL of MottakStore::Available (?1 orgnr, ?2 since, ?3 until, ?4 tjeneste or '', ?5 limit),
// exposed so that a test can check its query plan. Not part of the store's interface.
const char* MottakAvailableSql();
}  // namespace sqlite

namespace {

using mottak_common::BuildInlineReplyZip;
using mottak_common::Corrupt;
using mottak_common::FileDigests;
using mottak_common::Intact;
using mottak_common::Internal;
using mottak_common::kConflictMessage;
using mottak_common::LowerId;
using mottak_common::NotFound;
using mottak_common::Org;
using mottak_common::ReplyZipFileEntries;
using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

// Jobs per group commit: bounds how long the last job of a batch waits for the ones before it.
constexpr size_t kMaxBatch = 256;
// No memory mapping: the file grows with every checkpoint, and each connection then remaps it
// (munmap + page faults took a fifth of the CPU of a confirm run); pread through the page cache
// serves these small rows as fast.
constexpr int64_t kMmapBytes = 0;
constexpr int kWriterCacheKib = 16 << 10;
constexpr int kReaderCacheKib = 8 << 10;

// Schema migrations, applied in order; schema_version holds how many have run. Append only.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE inbound(
  id INTEGER PRIMARY KEY,
  mottak_id TEXT NOT NULL UNIQUE,
  orgnr TEXT NOT NULL,
  melding_id TEXT NOT NULL,
  tjeneste TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  antall_vedlegg INTEGER NOT NULL,
  payload_sha256 BLOB NOT NULL,
  payload BLOB NOT NULL,
  UNIQUE(orgnr, melding_id));
CREATE TABLE inbound_files(
  inbound_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  sha256 BLOB NOT NULL,
  content BLOB NOT NULL,
  PRIMARY KEY(inbound_id, seq));
CREATE TABLE outbound(
  id INTEGER PRIMARY KEY,
  mottak_id TEXT NOT NULL UNIQUE,
  dokument_id TEXT NOT NULL,
  orgnr TEXT NOT NULL,
  tjeneste TEXT NOT NULL,
  melding_referanse TEXT NOT NULL,
  version INTEGER NOT NULL,
  confirmed INTEGER NOT NULL,
  oppdatert_ms INTEGER NOT NULL,
  confirmed_ms INTEGER,
  henvendelse_sha256 BLOB NOT NULL,
  henvendelse BLOB NOT NULL);
CREATE TABLE outbound_files(
  outbound_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  content_type TEXT NOT NULL,
  sha256 BLOB NOT NULL,
  content BLOB NOT NULL,
  PRIMARY KEY(outbound_id, seq));
CREATE INDEX outbound_available ON outbound(orgnr, oppdatert_ms, id, tjeneste, mottak_id, version,
  dokument_id, melding_referanse, confirmed) WHERE confirmed = 0;
CREATE INDEX outbound_confirmed ON outbound(confirmed_ms) WHERE confirmed = 1;
)sql",
    R"sql(
ALTER TABLE inbound_files ADD COLUMN size INTEGER;
ALTER TABLE inbound_files ADD COLUMN file TEXT;
CREATE TABLE outbound_zips(
  outbound_id INTEGER PRIMARY KEY,
  size INTEGER NOT NULL,
  sha256 BLOB NOT NULL,
  file TEXT,
  zip BLOB NOT NULL);
)sql",
};

constexpr const char* kAvailableSql =
    "SELECT mottak_id, version, dokument_id, tjeneste, melding_referanse, oppdatert_ms "
    "FROM outbound WHERE orgnr = ?1 AND confirmed = 0 AND oppdatert_ms >= ?2 AND oppdatert_ms < ?3 "
    "AND (?4 = '' OR tjeneste = ?4) ORDER BY oppdatert_ms, id LIMIT ?5";

using Digest = Sha256Digest;

std::string_view View(const Digest& d) { return DigestView(d); }

Status StepDone(Statement& st) {
  auto r = st.Step();
  st.Reset();
  return r.ok() ? Status::Ok() : Status(r.error());
}

// Reads the (name, content_type, sha256, content, size, file) rows of one parent, verifying each;
// a row with a file reads it from `blobs`.
Status ReadFiles(Statement& st, int64_t parent, std::string_view what, std::string_view id,
                 const std::string& blobs, std::vector<MottakFile>& out) {
  st.Bind(1, parent);
  while (true) {
    auto row = st.Step();
    if (!row.ok()) {
      st.Reset();
      return row.error();
    }
    if (!*row) break;
    MottakFile f;
    f.name = st.Text(0);
    f.content_type = st.Text(1);
    bool intact = false;
    if (!st.IsNull(5)) {
      auto content = BlobReader::ReadAll(blobs + "/" + std::string(st.Text(5)),
                                         static_cast<uint64_t>(st.Int(4)), st.Blob(2));
      intact = content.ok();
      if (intact) f.content = std::move(content).value();
    } else {
      f.content = st.Blob(3);
      intact = Intact(f.content, st.Blob(2));
    }
    if (!intact) {
      st.Reset();
      return Corrupt(std::string(what) + " file " + f.name, id);
    }
    out.push_back(std::move(f));
  }
  st.Reset();
  return Status::Ok();
}

// Moves finished spills into `blobs` as <mottak_id>-<seq>; returns the file name of each file
// ("" for content in memory). On failure, whatever it moved is removed again.
Result<std::vector<std::string>> KeepSpills(const std::vector<MottakFile>& files,
                                            const std::string& blobs, std::string_view mottak_id) {
  std::vector<std::string> names(files.size());
  // Spills may arrive sealed but not yet on disk (an upload's parts): all of them are flushed at
  // once before the first is moved in.
  std::vector<BlobWriter*> spills;
  for (const MottakFile& f : files) {
    if (f.spilled) spills.push_back(f.spilled.get());
  }
  if (Status s = BlobWriter::SyncAll(spills); !s.ok()) return s.error();
  bool any = false;
  for (size_t i = 0; i < files.size(); ++i) {
    if (!files[i].spilled) continue;
    names[i] = std::string(mottak_id) + "-" + std::to_string(i);
    if (Status s = files[i].spilled->MoveTo(blobs + "/" + names[i]); !s.ok()) {
      names[i].clear();
      for (const std::string& n : names) {
        if (!n.empty()) std::filesystem::remove(blobs + "/" + n);
      }
      return s.error();
    }
    any = true;
  }
  if (any) {
    if (Status s = SyncDirectory(blobs); !s.ok()) return s.error();
  }
  return names;
}

void RemoveBlobs(const std::string& blobs, const std::vector<std::string>& names) {
  std::error_code ec;
  for (const std::string& n : names) {
    if (!n.empty()) std::filesystem::remove(blobs + "/" + n, ec);
  }
}

// A pooled read-only connection with its prepared statements.
struct Reader {
  Connection connection;
  Statement begin, commit;
  Statement inbound, inbound_files, reply, reply_files, reply_info, reply_zip, available;
};

class SqliteMottakStore final : public MottakStore {
 public:
  explicit SqliteMottakStore(std::string dir)
      : dir_(std::move(dir)),
        path_((std::filesystem::path(dir_) / "mottak.db").string()),
        blobs_(dir_ + "/blobs"),
        tmp_(dir_ + "/tmp") {}

  Status Init() {
    std::error_code ec;
    for (const std::string& d : {dir_, blobs_, tmp_}) {
      std::filesystem::create_directories(d, ec);
      if (ec) return Internal("cannot create " + d + ": " + ec.message());
    }
    auto c = Connection::Open(path_, false, kMmapBytes, kWriterCacheKib);
    if (!c.ok()) return c.error();
    writer_ = std::move(c).value();
    // Connection::Open sets NORMAL for every writer; here an answer promises durability.
    if (Status s = writer_.Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
    if (Status s = sqlite::RunMigrations(writer_, kMigrations, "mottaksdatabasen"); !s.ok()) {
      return s;
    }
    w_find_inbound_ = writer_.Prepare(
        "SELECT mottak_id, received_ms, antall_vedlegg FROM inbound "
        "WHERE orgnr = ?1 AND melding_id = ?2");
    w_insert_inbound_ = writer_.Prepare(
        "INSERT INTO inbound(mottak_id, orgnr, melding_id, tjeneste, received_ms, antall_vedlegg, "
        "payload_sha256, payload) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    w_insert_inbound_file_ = writer_.Prepare(
        "INSERT INTO inbound_files(inbound_id, seq, name, content_type, sha256, content, size, "
        "file) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    w_insert_reply_ = writer_.Prepare(
        "INSERT INTO outbound(mottak_id, dokument_id, orgnr, tjeneste, melding_referanse, version, "
        "confirmed, oppdatert_ms, confirmed_ms, henvendelse_sha256, henvendelse) "
        "VALUES(?1, ?2, ?3, ?4, ?5, 0, 0, ?6, NULL, ?7, ?8)");
    w_insert_reply_file_ = writer_.Prepare(
        "INSERT INTO outbound_files(outbound_id, seq, name, content_type, sha256, content) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    w_insert_zip_ = writer_.Prepare(
        "INSERT INTO outbound_zips(outbound_id, size, sha256, file, zip) VALUES(?1, ?2, ?3, ?4, "
        "?5)");
    w_purged_zips_ = writer_.Prepare(
        "SELECT file FROM outbound_zips WHERE file IS NOT NULL AND outbound_id IN "
        "(SELECT id FROM outbound WHERE confirmed = 1 AND confirmed_ms < ?1)");
    w_purge_zips_ = writer_.Prepare(
        "DELETE FROM outbound_zips WHERE outbound_id IN "
        "(SELECT id FROM outbound WHERE confirmed = 1 AND confirmed_ms < ?1)");
    // The compare-and-set of outbound/confirm: the version check and the change are one statement.
    w_confirm_ = writer_.Prepare(
        "UPDATE outbound SET version = version + 1, confirmed = 1, oppdatert_ms = ?1, "
        "confirmed_ms = coalesce(confirmed_ms, ?1) "
        "WHERE mottak_id = ?2 AND orgnr = ?3 AND version = ?4");
    w_reply_exists_ = writer_.Prepare("SELECT 1 FROM outbound WHERE mottak_id = ?1 AND orgnr = ?2");
    w_purge_files_ = writer_.Prepare(
        "DELETE FROM outbound_files WHERE outbound_id IN "
        "(SELECT id FROM outbound WHERE confirmed = 1 AND confirmed_ms < ?1)");
    w_purge_ = writer_.Prepare("DELETE FROM outbound WHERE confirmed = 1 AND confirmed_ms < ?1");
    w_savepoint_ = writer_.Prepare("SAVEPOINT job");
    w_release_ = writer_.Prepare("RELEASE job");
    w_rollback_to_ = writer_.Prepare("ROLLBACK TO job");
    if (Status st = ZipOldReplies(); !st.ok()) return st;
    return SweepFiles();
  }

  Result<std::unique_ptr<BlobWriter>> NewSpill() override { return BlobWriter::Create(tmp_); }

  Result<InboundReceipt> StoreInbound(const InboundMessage& m, int64_t now_ms) override {
    const std::string_view org = Org(m.orgnr);
    // An empty key would make every later upload without one a "repeat" of the first.
    if (org.empty() || m.melding_id.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "Meldingen mangler avsender eller id");
    }
    // Digests, the id and the files' moves happen before queueing: the writer's time is the
    // scarce one.
    auto payload_digest = Sha256::Of(m.payload);
    if (!payload_digest.ok()) return payload_digest.error();
    auto file_digests = FileDigests(m.attachments);
    if (!file_digests.ok()) return file_digests.error();
    const std::string mottak_id = m.mottak_id.empty() ? ids::NewUuid() : m.mottak_id;
    std::optional<PreparedReply> receipt_reply;
    if (m.receipt) {
      auto prepared = PrepareReply(*m.receipt, now_ms);
      if (!prepared.ok()) return prepared.error();
      receipt_reply = std::move(prepared).value();
    }
    auto kept = KeepSpills(m.attachments, blobs_, mottak_id);
    if (!kept.ok()) {
      if (receipt_reply) RemoveBlobs(blobs_, {receipt_reply->zip.file});
      return kept.error();
    }
    InboundReceipt receipt;
    Status s = Write([&]() -> Status {
      w_find_inbound_.Bind(1, org);
      w_find_inbound_.Bind(2, std::string_view(m.melding_id));
      auto row = w_find_inbound_.Step();
      if (row.ok() && *row) {
        receipt.mottak_id = w_find_inbound_.Text(0);
        receipt.received_ms = w_find_inbound_.Int(1);
        receipt.antall_vedlegg = static_cast<int>(w_find_inbound_.Int(2));
        receipt.repeated = true;
      }
      w_find_inbound_.Reset();
      if (!row.ok()) return row.error();
      if (receipt.repeated) return Status::Ok();

      Statement& ins = w_insert_inbound_;
      ins.Bind(1, std::string_view(mottak_id));
      ins.Bind(2, org);
      ins.Bind(3, std::string_view(m.melding_id));
      ins.Bind(4, std::string_view(m.tjeneste));
      ins.Bind(5, now_ms);
      ins.Bind(6, static_cast<int64_t>(m.attachments.size()));
      ins.BindBlob(7, View(*payload_digest));
      ins.BindBlob(8, m.payload);
      if (Status st = StepDone(ins); !st.ok()) return st;
      const int64_t id = sqlite3_last_insert_rowid(writer_.handle());
      if (Status st = InsertFiles(w_insert_inbound_file_, id, m.attachments, *file_digests, &*kept);
          !st.ok()) {
        return st;
      }
      if (receipt_reply) {
        if (Status st = InsertReply(*m.receipt, *receipt_reply); !st.ok()) return st;
      }
      receipt = {mottak_id, now_ms, static_cast<int>(m.attachments.size()), false};
      return Status::Ok();
    });
    // A repeat keeps the first upload's files (and has no new receipt); a failure keeps none.
    if (!s.ok() || receipt.repeated) {
      RemoveBlobs(blobs_, *kept);
      if (receipt_reply) RemoveBlobs(blobs_, {receipt_reply->zip.file});
    }
    if (!s.ok()) return s.error();
    return receipt;
  }

  // Steps `st` bound to (mottak id, org) onto its row; kNotFound (st reset) when there is none.
  static Status FindRow(Statement& st, std::string_view id, std::string_view org) {
    st.Bind(1, id);
    st.Bind(2, org);
    auto row = st.Step();
    if (row.ok() && *row) return Status::Ok();
    st.Reset();
    if (!row.ok()) return row.error();
    return NotFound();
  }

  Result<StoredInbound> GetInbound(std::string_view orgnr, std::string_view mottak_id) override {
    const std::string id = LowerId(mottak_id);
    const std::string_view org = Org(orgnr);
    return WithReader([&](Reader& r) -> Result<StoredInbound> {
      Statement& st = r.inbound;
      if (Status found = FindRow(st, id, org); !found.ok()) return found.error();
      StoredInbound out;
      const int64_t rowid = st.Int(0);
      out.receipt = {id, st.Int(1), static_cast<int>(st.Int(2)), false};
      out.message.orgnr = org;
      out.message.melding_id = st.Text(3);
      out.message.tjeneste = st.Text(4);
      out.message.payload = st.Blob(6);
      const bool intact = Intact(out.message.payload, st.Blob(5));
      st.Reset();
      if (!intact) return Corrupt("inbound payload", id);
      if (Status s =
              ReadFiles(r.inbound_files, rowid, "inbound", id, blobs_, out.message.attachments);
          !s.ok()) {
        return s.error();
      }
      return out;
    });
  }

  Result<OutboundInfo> PublishReply(const OutboundReply& reply, int64_t now_ms) override {
    auto prepared = PrepareReply(reply, now_ms);
    if (!prepared.ok()) return prepared.error();
    Status s = Write([&]() -> Status { return InsertReply(reply, *prepared); });
    if (!s.ok()) {
      RemoveBlobs(blobs_, {prepared->zip.file});
      return s.error();
    }
    return prepared->info;
  }

  Result<std::vector<OutboundInfo>> Available(const AvailableQuery& q) override {
    const std::string_view org = Org(q.orgnr);
    return WithReader([&](Reader& r) -> Result<std::vector<OutboundInfo>> {
      Statement& st = r.available;
      st.Bind(1, org);
      st.Bind(2, q.since_ms.value_or(std::numeric_limits<int64_t>::min()));
      st.Bind(3, q.until_ms.value_or(std::numeric_limits<int64_t>::max()));
      st.Bind(4, std::string_view(q.tjeneste));
      st.Bind(5,
              static_cast<int64_t>(std::min<size_t>(q.limit, std::numeric_limits<int64_t>::max())));
      std::vector<OutboundInfo> out;
      while (true) {
        auto row = st.Step();
        if (!row.ok()) {
          st.Reset();
          return row.error();
        }
        if (!*row) break;
        OutboundInfo& info = out.emplace_back();
        info.mottak_id = st.Text(0);
        info.version = st.Int(1);
        info.orgnr = org;
        info.dokument_id = st.Text(2);
        info.tjeneste = st.Text(3);
        info.melding_referanse = st.Text(4);
        info.confirmed = false;
        info.oppdatert_ms = st.Int(5);
      }
      st.Reset();
      return out;
    });
  }

  Result<StoredReply> GetReply(std::string_view orgnr, std::string_view mottak_id) override {
    const std::string id = LowerId(mottak_id);
    auto zip = OpenReplyZip(orgnr, id);
    if (!zip.ok()) return zip.error();
    std::string bytes;
    if (zip->bytes) {
      bytes = *zip->bytes;
    } else {
      while (true) {
        auto piece = zip->file->Next();
        if (!piece.ok()) return piece.error();
        if (piece->empty()) break;
        bytes.append(*piece);
      }
    }
    auto entries = mottak::ReadZip(bytes, std::numeric_limits<uint64_t>::max());
    if (!entries.ok() || entries->empty() || (*entries)[0].name != "henvendelse.xml") {
      return Corrupt("reply ZIP", id);
    }
    const std::string_view org = Org(orgnr);
    return WithReader([&](Reader& r) -> Result<StoredReply> {
      Statement& st = r.reply;
      if (Status found = FindRow(st, id, org); !found.ok()) return found.error();
      StoredReply out;
      const int64_t rowid = st.Int(0);
      out.info = zip->info;
      out.henvendelse_xml = st.Blob(8);
      const bool intact =
          Intact(out.henvendelse_xml, st.Blob(7)) && out.henvendelse_xml == (*entries)[0].content;
      st.Reset();
      if (!intact) return Corrupt("henvendelse", id);
      // Each attachment row names an entry of the ZIP and holds its digest.
      Statement& files = r.reply_files;
      files.Bind(1, rowid);
      Status read = Status::Ok();
      while (read.ok()) {
        auto row = files.Step();
        if (!row.ok()) {
          read = row.error();
          break;
        }
        if (!*row) break;
        MottakFile f;
        f.name = files.Text(0);
        f.content_type = files.Text(1);
        const size_t n = out.attachments.size() + 1;
        if (n >= entries->size() || (*entries)[n].name != f.name ||
            !Intact((*entries)[n].content, files.Blob(2))) {
          read = Corrupt("reply file " + f.name, id);
          break;
        }
        f.content = std::move((*entries)[n].content);
        out.attachments.push_back(std::move(f));
      }
      files.Reset();
      if (!read.ok()) return read.error();
      if (out.attachments.size() + 1 != entries->size()) return Corrupt("reply ZIP", id);
      return out;
    });
  }

  Result<OutboundInfo> GetReplyInfo(std::string_view orgnr, std::string_view mottak_id) override {
    const std::string id = LowerId(mottak_id);
    const std::string_view org = Org(orgnr);
    return WithReader([&](Reader& r) -> Result<OutboundInfo> {
      Statement& st = r.reply_info;
      if (Status found = FindRow(st, id, org); !found.ok()) return found.error();
      OutboundInfo info = InfoFrom(st, id, org);
      st.Reset();
      return info;
    });
  }

  Result<ReplyZip> OpenReplyZip(std::string_view orgnr, std::string_view mottak_id) override {
    const std::string id = LowerId(mottak_id);
    const std::string_view org = Org(orgnr);
    ReplyZip out;
    std::string file;
    std::string digest;
    Status read = WithReader([&](Reader& r) -> Status {
      Statement& st = r.reply_zip;
      if (Status found = FindRow(st, id, org); !found.ok()) return found;
      out.info = InfoFrom(st, id, org);
      out.size = static_cast<uint64_t>(st.Int(6));
      digest = st.Blob(7);
      bool intact = true;
      if (!st.IsNull(8)) {
        file = st.Text(8);
      } else {
        auto bytes = std::make_shared<std::string>(st.Blob(9));
        intact = bytes->size() == out.size && Intact(*bytes, digest);
        out.bytes = std::move(bytes);
      }
      st.Reset();
      return intact ? Status::Ok() : Status(Corrupt("reply ZIP", id));
    });
    if (!read.ok()) return read.error();
    if (!file.empty()) {
      // Opened after the read transaction: a purge that removes the file in between makes this
      // a kInternal for a reply that was just confirmed and retention-expired, never wrong bytes.
      auto reader = BlobReader::Open(blobs_ + "/" + file, out.size, digest);
      if (!reader.ok()) return reader.error();
      out.file = std::move(reader).value();
    }
    return out;
  }

  Result<int64_t> Confirm(std::string_view orgnr, std::string_view mottak_id,
                          int64_t expected_version, int64_t now_ms) override {
    const std::string id = LowerId(mottak_id);
    const std::string_view org = Org(orgnr);
    bool changed = false;
    bool exists = false;
    Status s = Write([&]() -> Status {
      w_confirm_.Bind(1, now_ms);
      w_confirm_.Bind(2, std::string_view(id));
      w_confirm_.Bind(3, org);
      w_confirm_.Bind(4, expected_version);
      if (Status st = StepDone(w_confirm_); !st.ok()) return st;
      changed = sqlite3_changes(writer_.handle()) > 0;
      if (changed) return Status::Ok();
      w_reply_exists_.Bind(1, std::string_view(id));
      w_reply_exists_.Bind(2, org);
      auto row = w_reply_exists_.Step();
      w_reply_exists_.Reset();
      if (!row.ok()) return row.error();
      exists = *row;
      return Status::Ok();
    });
    if (!s.ok()) return s.error();
    if (changed) return expected_version + 1;
    if (exists) return MakeError(ErrorCode::kConflict, kConflictMessage);
    return NotFound();
  }

  Result<int64_t> PurgeConfirmed(int64_t before_ms) override {
    int64_t purged = 0;
    std::vector<std::string> files;
    Status s = Write([&]() -> Status {
      files.clear();
      w_purged_zips_.Bind(1, before_ms);
      while (true) {
        auto row = w_purged_zips_.Step();
        if (!row.ok()) {
          w_purged_zips_.Reset();
          return row.error();
        }
        if (!*row) break;
        files.emplace_back(w_purged_zips_.Text(0));
      }
      w_purged_zips_.Reset();
      w_purge_zips_.Bind(1, before_ms);
      if (Status st = StepDone(w_purge_zips_); !st.ok()) return st;
      w_purge_files_.Bind(1, before_ms);
      if (Status st = StepDone(w_purge_files_); !st.ok()) return st;
      w_purge_.Bind(1, before_ms);
      if (Status st = StepDone(w_purge_); !st.ok()) return st;
      purged = sqlite3_changes(writer_.handle());
      return Status::Ok();
    });
    if (!s.ok()) return s.error();
    RemoveBlobs(blobs_, files);  // after the commit (a crash before: swept at the next open)
    return purged;
  }

 private:
  // A queued write: `run` calls the caller's function (which lives on the caller's stack).
  struct Job {
    Status (*run)(void*) = nullptr;
    void* fn = nullptr;
    Status status;
    bool done = false;
    std::condition_variable cv;
  };

  // Runs `fn` (writer statements only) in a committed transaction, possibly together with other
  // threads' jobs (see the file comment). `fn`'s error rolls back only its own changes. When the
  // commit fails every job of the batch gets that error.
  template <typename Fn>
  Status Write(Fn&& fn) {
    using F = std::remove_reference_t<Fn>;
    Job job;
    job.run = [](void* f) -> Status { return (*static_cast<F*>(f))(); };
    job.fn = &fn;
    std::unique_lock lock(queue_mu_);
    queue_.push_back(&job);
    job.cv.wait(lock, [&] { return job.done || queue_.front() == &job; });
    if (job.done) return job.status;
    // This job leads: the queue's head stays in place until the batch is done, so no other
    // thread touches the writer meanwhile.
    const size_t n = std::min(queue_.size(), kMaxBatch);
    batch_.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    RunBatch(batch_);
    lock.lock();
    for (size_t i = 0; i < n; ++i) {
      Job* j = queue_.front();
      queue_.pop_front();
      if (j != &job) {
        j->done = true;
        j->cv.notify_one();
      }
    }
    if (!queue_.empty()) queue_.front()->cv.notify_one();
    return job.status;
  }

  void RunBatch(const std::vector<Job*>& batch) {
    Transaction tx(writer_);
    Status begin = tx.Begin();
    if (!begin.ok()) {
      for (Job* j : batch) j->status = begin;
      return;
    }
    for (Job* j : batch) j->status = RunJob(*j);
    if (Status commit = tx.Commit(); !commit.ok()) {
      for (Job* j : batch) {
        if (j->status.ok()) j->status = commit;
      }
    }
  }

  Status RunJob(Job& job) {
    if (Status s = StepDone(w_savepoint_); !s.ok()) return s;
    Status result;
    try {
      result = job.run(job.fn);
    } catch (const std::exception& e) {
      result = Internal(std::string("mottak write failed: ") + e.what());
    }
    if (!result.ok()) {
      // Undo whatever the job wrote before it failed; the batch's other jobs stay.
      (void)StepDone(w_rollback_to_);
    }
    if (Status s = StepDone(w_release_); !s.ok() && result.ok()) return s;
    return result;
  }

  // Inserts one row per file. `kept` (inbound only): each file's name in blobs/ ("" = content
  // inline). content = false: the rows hold only name, type and digest (a reply's bytes are in
  // its ZIP).
  static Status InsertFiles(Statement& st, int64_t parent, const std::vector<MottakFile>& files,
                            const std::vector<Digest>& digests,
                            const std::vector<std::string>* kept, bool content = true) {
    for (size_t i = 0; i < files.size(); ++i) {
      const bool in_file = kept != nullptr && !(*kept)[i].empty();
      st.Bind(1, parent);
      st.Bind(2, static_cast<int64_t>(i));
      st.Bind(3, std::string_view(files[i].name));
      st.Bind(4, std::string_view(files[i].content_type));
      st.BindBlob(5, View(digests[i]));
      // An empty blob, not NULL ("" has a non-null pointer; a default string_view would bind NULL).
      st.BindBlob(6,
                  content && !in_file ? std::string_view(files[i].content) : std::string_view(""));
      if (kept != nullptr) {
        st.Bind(7, static_cast<int64_t>(files[i].size()));
        if (in_file) {
          st.Bind(8, std::string_view((*kept)[i]));
        } else {
          st.BindNull(8);
        }
      }
      if (Status s = StepDone(st); !s.ok()) return s;
    }
    return Status::Ok();
  }

  // A reply's ZIP, built: in memory, or as a finished file already moved into blobs/.
  struct BuiltZip {
    uint64_t size = 0;
    Digest sha256{};
    std::string bytes;  // inline
    std::string file;   // name in blobs/ ("" = inline)
  };

  Result<BuiltZip> BuildReplyZip(const OutboundReply& reply, std::string_view mottak_id) {
    BuiltZip out;
    auto inline_zip = BuildInlineReplyZip(reply);
    if (!inline_zip.ok()) return inline_zip.error();
    if (*inline_zip) {
      out.size = (*inline_zip)->bytes.size();
      out.sha256 = (*inline_zip)->sha256;
      out.bytes = std::move((*inline_zip)->bytes);
      return out;
    }
    auto entries = ReplyZipFileEntries(reply);
    if (!entries.ok()) return entries.error();
    const std::string target = tmp_ + "/" + ids::NewUuid() + ".zip";
    if (Status s = mottak::WriteZipFile(target, *entries); !s.ok()) {
      std::error_code ec;
      std::filesystem::remove(target, ec);
      return s.error();
    }
    auto zip = BlobWriter::Adopt(target);
    if (!zip.ok()) {
      std::error_code ec;
      std::filesystem::remove(target, ec);
      return zip.error();
    }
    if (Status s = (*zip)->Finish(); !s.ok()) return s.error();
    out.file = std::string(mottak_id) + ".zip";
    if (Status s = (*zip)->MoveTo(blobs_ + "/" + out.file); !s.ok()) return s.error();
    if (Status s = SyncDirectory(blobs_); !s.ok()) {
      RemoveBlobs(blobs_, {out.file});
      return s.error();
    }
    out.size = (*zip)->size();
    out.sha256 = (*zip)->sha256();
    return out;
  }

  // What a reply needs before its transaction: ids, digests and its ZIP (a file is in blobs/
  // already: the caller removes it when the reply is not kept).
  struct PreparedReply : mottak_common::ReplyDigests {
    BuiltZip zip;
  };

  Result<PreparedReply> PrepareReply(const OutboundReply& reply, int64_t now_ms) {
    auto digests = mottak_common::DigestReply(reply, now_ms);
    if (!digests.ok()) return digests.error();
    PreparedReply out{std::move(digests).value(), {}};
    auto zip = BuildReplyZip(reply, out.info.mottak_id);
    if (!zip.ok()) return zip.error();
    out.zip = std::move(zip).value();
    return out;
  }

  // The reply's rows. Inside the writer's transaction.
  Status InsertReply(const OutboundReply& reply, const PreparedReply& prepared) {
    const OutboundInfo& info = prepared.info;
    Statement& ins = w_insert_reply_;
    ins.Bind(1, std::string_view(info.mottak_id));
    ins.Bind(2, std::string_view(info.dokument_id));
    ins.Bind(3, std::string_view(info.orgnr));
    ins.Bind(4, std::string_view(info.tjeneste));
    ins.Bind(5, std::string_view(info.melding_referanse));
    ins.Bind(6, info.oppdatert_ms);
    ins.BindBlob(7, View(prepared.digest));
    ins.BindBlob(8, reply.henvendelse_xml);
    if (Status st = StepDone(ins); !st.ok()) return st;
    const int64_t id = sqlite3_last_insert_rowid(writer_.handle());
    // The attachments' names, types and digests; their bytes are in the ZIP.
    if (Status st = InsertFiles(w_insert_reply_file_, id, reply.attachments, prepared.file_digests,
                                nullptr, /*content=*/false);
        !st.ok()) {
      return st;
    }
    return InsertZip(id, prepared.zip);
  }

  Status InsertZip(int64_t outbound_id, const BuiltZip& zip) {
    Statement& st = w_insert_zip_;
    st.Bind(1, outbound_id);
    st.Bind(2, static_cast<int64_t>(zip.size));
    st.BindBlob(3, View(zip.sha256));
    if (zip.file.empty()) {
      st.BindNull(4);
    } else {
      st.Bind(4, std::string_view(zip.file));
    }
    st.BindBlob(5, zip.file.empty() ? std::string_view(zip.bytes) : std::string_view(""));
    return StepDone(st);
  }

  // Replies published before migration 2 have no ZIP yet: built here from their stored
  // henvendelse and attachments (as downloads built them then), in one transaction.
  Status ZipOldReplies() {
    Statement old = writer_.Prepare(
        "SELECT id, mottak_id, henvendelse_sha256, henvendelse FROM outbound WHERE id NOT IN "
        "(SELECT outbound_id FROM outbound_zips)");
    Statement files = writer_.Prepare(
        "SELECT name, content_type, sha256, content, NULL, NULL FROM outbound_files "
        "WHERE outbound_id = ?1 ORDER BY seq");
    Transaction tx(writer_);
    if (Status s = tx.Begin(); !s.ok()) return s;
    size_t upgraded = 0;
    while (true) {
      auto row = old.Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      const int64_t id = old.Int(0);
      const std::string mottak_id(old.Text(1));
      OutboundReply reply;
      reply.henvendelse_xml = old.Blob(3);
      if (!Intact(reply.henvendelse_xml, old.Blob(2))) return Corrupt("henvendelse", mottak_id);
      if (Status s = ReadFiles(files, id, "reply", mottak_id, blobs_, reply.attachments); !s.ok()) {
        return s;
      }
      std::vector<mottak::ZipEntry> entries;
      entries.push_back({"henvendelse.xml", reply.henvendelse_xml});
      for (const MottakFile& f : reply.attachments) entries.push_back({f.name, f.content});
      auto bytes = mottak::BuildZip(entries);
      if (!bytes.ok()) return bytes.error();
      auto digest = Sha256::Of(*bytes);
      if (!digest.ok()) return digest.error();
      BuiltZip zip{bytes->size(), *digest, std::move(bytes).value(), ""};
      if (Status s = InsertZip(id, zip); !s.ok()) return s;
      ++upgraded;
    }
    old.Reset();
    if (upgraded == 0) return Status::Ok();
    return tx.Commit();
  }

  // Removes spills left in tmp/ and blobs no row names (see the file comment).
  Status SweepFiles() {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(tmp_, ec)) {
      std::filesystem::remove(entry.path(), ec);
    }
    std::unordered_set<std::string> named;
    Statement st = writer_.Prepare(
        "SELECT file FROM inbound_files WHERE file IS NOT NULL "
        "UNION ALL SELECT file FROM outbound_zips WHERE file IS NOT NULL");
    while (true) {
      auto row = st.Step();
      if (!row.ok()) return row.error();
      if (!*row) break;
      named.emplace(st.Text(0));
    }
    for (const auto& entry : std::filesystem::directory_iterator(blobs_, ec)) {
      if (!named.contains(entry.path().filename().string())) {
        std::filesystem::remove(entry.path(), ec);
      }
    }
    return Status::Ok();
  }

  static OutboundInfo InfoFrom(Statement& st, std::string_view id, std::string_view org) {
    OutboundInfo info;
    info.mottak_id = id;
    info.version = st.Int(0);
    info.orgnr = org;
    info.dokument_id = st.Text(1);
    info.tjeneste = st.Text(2);
    info.melding_referanse = st.Text(3);
    info.confirmed = st.Int(4) != 0;
    info.oppdatert_ms = st.Int(5);
    return info;
  }

  // Runs `fn(Reader&)` inside a read transaction on a pooled read-only connection.
  template <typename Fn>
  auto WithReader(Fn&& fn) -> decltype(fn(std::declval<Reader&>())) {
    std::unique_ptr<Reader> reader;
    {
      std::lock_guard lock(pool_mu_);
      if (!pool_.empty()) {
        reader = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    if (!reader) {
      auto c = Connection::Open(path_, true, kMmapBytes, kReaderCacheKib);
      if (!c.ok()) return c.error();
      reader = std::make_unique<Reader>();
      Connection& rc = reader->connection;
      rc = std::move(c).value();
      reader->begin = rc.Prepare("BEGIN");
      reader->commit = rc.Prepare("COMMIT");
      reader->inbound = rc.Prepare(
          "SELECT id, received_ms, antall_vedlegg, melding_id, tjeneste, payload_sha256, payload "
          "FROM inbound WHERE mottak_id = ?1 AND orgnr = ?2");
      reader->inbound_files = rc.Prepare(
          "SELECT name, content_type, sha256, content, size, file FROM inbound_files "
          "WHERE inbound_id = ?1 ORDER BY seq");
      reader->reply = rc.Prepare(
          "SELECT id, version, dokument_id, tjeneste, melding_referanse, confirmed, oppdatert_ms, "
          "henvendelse_sha256, henvendelse FROM outbound WHERE mottak_id = ?1 AND orgnr = ?2");
      reader->reply_files = rc.Prepare(
          "SELECT name, content_type, sha256 FROM outbound_files WHERE outbound_id = ?1 "
          "ORDER BY seq");
      reader->reply_info = rc.Prepare(
          "SELECT version, dokument_id, tjeneste, melding_referanse, confirmed, oppdatert_ms "
          "FROM outbound WHERE mottak_id = ?1 AND orgnr = ?2");
      reader->reply_zip = rc.Prepare(
          "SELECT o.version, o.dokument_id, o.tjeneste, o.melding_referanse, o.confirmed, "
          "o.oppdatert_ms, z.size, z.sha256, z.file, z.zip FROM outbound o "
          "JOIN outbound_zips z ON z.outbound_id = o.id WHERE o.mottak_id = ?1 AND o.orgnr = ?2");
      reader->available = rc.Prepare(kAvailableSql);
    }
    if (Status s = StepDone(reader->begin); !s.ok()) return s.error();
    auto result = fn(*reader);
    if (Status s = StepDone(reader->commit); !s.ok()) {
      // A read transaction that cannot end leaves the connection unusable: drop it.
      return s.error();
    }
    std::lock_guard lock(pool_mu_);
    pool_.push_back(std::move(reader));
    return result;
  }

  const std::string dir_;
  const std::string path_;
  const std::string blobs_;
  const std::string tmp_;

  // The writer: used only by the leader of a batch (see Write).
  Connection writer_;
  Statement w_find_inbound_, w_insert_inbound_, w_insert_inbound_file_, w_insert_reply_,
      w_insert_reply_file_, w_insert_zip_, w_purged_zips_, w_purge_zips_, w_confirm_,
      w_reply_exists_, w_purge_files_, w_purge_, w_savepoint_, w_release_, w_rollback_to_;
  std::mutex queue_mu_;
  std::deque<Job*> queue_;
  std::vector<Job*> batch_;  // the leader's copy of its batch (only the leader touches it)

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Reader>> pool_;
};

}  // namespace

namespace sqlite {
const char* MottakAvailableSql() { return kAvailableSql; }
}  // namespace sqlite

Result<std::unique_ptr<MottakStore>> OpenSqliteMottakStore(const std::string& dir) {
  // SQLite's memory statistics take a process-wide mutex on every allocation; norreg does not
  // read them. Must happen before SQLite initialises (later calls are refused and harmless); the
  // register store does the same, whichever store opens first.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  auto store = std::make_unique<SqliteMottakStore>(dir);
  if (Status s = store->Init(); !s.ok()) return s.error();
  return std::unique_ptr<MottakStore>(std::move(store));
}

}  // namespace norreg::store
