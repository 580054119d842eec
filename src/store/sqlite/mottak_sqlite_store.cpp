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
#include <openssl/evp.h>

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
#include <utility>

#include "common/ids.hpp"
#include "store/mottak_store.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace norreg::store {

namespace sqlite {
// The SQL of MottakStore::Available (?1 orgnr, ?2 since, ?3 until, ?4 tjeneste or '', ?5 limit),
// exposed so that a test can check its query plan. Not part of the store's interface.
const char* MottakAvailableSql();
}  // namespace sqlite

namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::Transaction;

constexpr const char* kInternalMessage = "Feil i tjenesten. Vennligst prøv igjen senere.";
constexpr const char* kNotFoundMessage = "Fant ingen melding med denne mottakId";
constexpr const char* kConflictMessage = "Simultaneous attempt to confirm same file";
constexpr std::string_view kOrgPrefix = "0192:";
// Jobs per group commit: bounds how long the last job of a batch waits for the ones before it.
constexpr size_t kMaxBatch = 256;
constexpr int64_t kMmapBytes = 256LL << 20;
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
};

constexpr const char* kAvailableSql =
    "SELECT mottak_id, version, dokument_id, tjeneste, melding_referanse, oppdatert_ms "
    "FROM outbound WHERE orgnr = ?1 AND confirmed = 0 AND oppdatert_ms >= ?2 AND oppdatert_ms < ?3 "
    "AND (?4 = '' OR tjeneste = ?4) ORDER BY oppdatert_ms, id LIMIT ?5";

Error Internal(std::string detail) {
  return MakeError(ErrorCode::kInternal, kInternalMessage, std::move(detail));
}

Error NotFound() { return MakeError(ErrorCode::kNotFound, kNotFoundMessage); }

std::string_view Org(std::string_view orgnr) {
  if (orgnr.starts_with(kOrgPrefix)) orgnr.remove_prefix(kOrgPrefix.size());
  return orgnr;
}

// UUIDs are case-insensitive (RFC 4122); they are stored in lower case.
std::string LowerId(std::string_view id) {
  std::string out(id);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

using Digest = std::array<unsigned char, 32>;

Result<Digest> Sha256(std::string_view data) {
  static EVP_MD* const kMd = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  Digest d{};
  unsigned int len = 0;
  if (kMd == nullptr || EVP_Digest(data.data(), data.size(), d.data(), &len, kMd, nullptr) != 1 ||
      len != d.size()) {
    return Internal("SHA-256 failed");
  }
  return d;
}

std::string_view View(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// True when `content` still has the digest stored beside it (false also when hashing fails).
bool Intact(std::string_view content, std::string_view stored) {
  auto d = Sha256(content);
  return d.ok() && stored == View(*d);
}

Error Corrupt(std::string_view what, std::string_view id) {
  return Internal("stored content is corrupt: " + std::string(what) + " of " + std::string(id));
}

Result<std::vector<Digest>> FileDigests(const std::vector<MottakFile>& files) {
  std::vector<Digest> out;
  out.reserve(files.size());
  for (const MottakFile& f : files) {
    auto d = Sha256(f.content);
    if (!d.ok()) return d.error();
    out.push_back(*d);
  }
  return out;
}

Status StepDone(Statement& st) {
  auto r = st.Step();
  st.Reset();
  return r.ok() ? Status::Ok() : Status(r.error());
}

// Reads the (name, content_type, sha256, content) rows of one parent, verifying each.
Status ReadFiles(Statement& st, int64_t parent, std::string_view what, std::string_view id,
                 std::vector<MottakFile>& out) {
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
    f.content = st.Blob(3);
    if (!Intact(f.content, st.Blob(2))) {
      st.Reset();
      return Corrupt(std::string(what) + " file " + f.name, id);
    }
    out.push_back(std::move(f));
  }
  st.Reset();
  return Status::Ok();
}

// A pooled read-only connection with its prepared statements.
struct Reader {
  Connection connection;
  Statement begin, commit;
  Statement inbound, inbound_files, reply, reply_files, available;
};

class SqliteMottakStore final : public MottakStore {
 public:
  explicit SqliteMottakStore(std::string dir)
      : dir_(std::move(dir)), path_((std::filesystem::path(dir_) / "mottak.db").string()) {}

  Status Init() {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    if (ec) return Internal("cannot create " + dir_ + ": " + ec.message());
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
        "INSERT INTO inbound_files(inbound_id, seq, name, content_type, sha256, content) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    w_insert_reply_ = writer_.Prepare(
        "INSERT INTO outbound(mottak_id, dokument_id, orgnr, tjeneste, melding_referanse, version, "
        "confirmed, oppdatert_ms, confirmed_ms, henvendelse_sha256, henvendelse) "
        "VALUES(?1, ?2, ?3, ?4, ?5, 0, 0, ?6, NULL, ?7, ?8)");
    w_insert_reply_file_ = writer_.Prepare(
        "INSERT INTO outbound_files(outbound_id, seq, name, content_type, sha256, content) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
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
    return Status::Ok();
  }

  Result<InboundReceipt> StoreInbound(const InboundMessage& m, int64_t now_ms) override {
    const std::string_view org = Org(m.orgnr);
    // An empty key would make every later upload without one a "repeat" of the first.
    if (org.empty() || m.melding_id.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "Meldingen mangler avsender eller id");
    }
    // Digests and the id are computed before queueing: the writer's time is the scarce one.
    auto payload_digest = Sha256(m.payload);
    if (!payload_digest.ok()) return payload_digest.error();
    auto file_digests = FileDigests(m.attachments);
    if (!file_digests.ok()) return file_digests.error();
    const std::string mottak_id = ids::NewUuid();
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
      if (Status st = InsertFiles(w_insert_inbound_file_, id, m.attachments, *file_digests);
          !st.ok()) {
        return st;
      }
      receipt = {mottak_id, now_ms, static_cast<int>(m.attachments.size()), false};
      return Status::Ok();
    });
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
      if (Status s = ReadFiles(r.inbound_files, rowid, "inbound", id, out.message.attachments);
          !s.ok()) {
        return s.error();
      }
      return out;
    });
  }

  Result<OutboundInfo> PublishReply(const OutboundReply& reply, int64_t now_ms) override {
    auto digest = Sha256(reply.henvendelse_xml);
    if (!digest.ok()) return digest.error();
    auto file_digests = FileDigests(reply.attachments);
    if (!file_digests.ok()) return file_digests.error();
    OutboundInfo info;
    info.mottak_id = ids::NewUuid();
    info.dokument_id = ids::NewUuid();
    info.orgnr = Org(reply.orgnr);
    info.tjeneste = reply.tjeneste;
    info.melding_referanse = reply.melding_referanse;
    info.oppdatert_ms = now_ms;
    Status s = Write([&]() -> Status {
      Statement& ins = w_insert_reply_;
      ins.Bind(1, std::string_view(info.mottak_id));
      ins.Bind(2, std::string_view(info.dokument_id));
      ins.Bind(3, std::string_view(info.orgnr));
      ins.Bind(4, std::string_view(info.tjeneste));
      ins.Bind(5, std::string_view(info.melding_referanse));
      ins.Bind(6, now_ms);
      ins.BindBlob(7, View(*digest));
      ins.BindBlob(8, reply.henvendelse_xml);
      if (Status st = StepDone(ins); !st.ok()) return st;
      const int64_t id = sqlite3_last_insert_rowid(writer_.handle());
      return InsertFiles(w_insert_reply_file_, id, reply.attachments, *file_digests);
    });
    if (!s.ok()) return s.error();
    return info;
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
    const std::string_view org = Org(orgnr);
    return WithReader([&](Reader& r) -> Result<StoredReply> {
      Statement& st = r.reply;
      if (Status found = FindRow(st, id, org); !found.ok()) return found.error();
      StoredReply out;
      const int64_t rowid = st.Int(0);
      out.info.mottak_id = id;
      out.info.version = st.Int(1);
      out.info.orgnr = org;
      out.info.dokument_id = st.Text(2);
      out.info.tjeneste = st.Text(3);
      out.info.melding_referanse = st.Text(4);
      out.info.confirmed = st.Int(5) != 0;
      out.info.oppdatert_ms = st.Int(6);
      out.henvendelse_xml = st.Blob(8);
      const bool intact = Intact(out.henvendelse_xml, st.Blob(7));
      st.Reset();
      if (!intact) return Corrupt("henvendelse", id);
      if (Status s = ReadFiles(r.reply_files, rowid, "reply", id, out.attachments); !s.ok()) {
        return s.error();
      }
      return out;
    });
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
    Status s = Write([&]() -> Status {
      w_purge_files_.Bind(1, before_ms);
      if (Status st = StepDone(w_purge_files_); !st.ok()) return st;
      w_purge_.Bind(1, before_ms);
      if (Status st = StepDone(w_purge_); !st.ok()) return st;
      purged = sqlite3_changes(writer_.handle());
      return Status::Ok();
    });
    if (!s.ok()) return s.error();
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

  static Status InsertFiles(Statement& st, int64_t parent, const std::vector<MottakFile>& files,
                            const std::vector<Digest>& digests) {
    for (size_t i = 0; i < files.size(); ++i) {
      st.Bind(1, parent);
      st.Bind(2, static_cast<int64_t>(i));
      st.Bind(3, std::string_view(files[i].name));
      st.Bind(4, std::string_view(files[i].content_type));
      st.BindBlob(5, View(digests[i]));
      st.BindBlob(6, files[i].content);
      if (Status s = StepDone(st); !s.ok()) return s;
    }
    return Status::Ok();
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
          "SELECT name, content_type, sha256, content FROM inbound_files WHERE inbound_id = ?1 "
          "ORDER BY seq");
      reader->reply = rc.Prepare(
          "SELECT id, version, dokument_id, tjeneste, melding_referanse, confirmed, oppdatert_ms, "
          "henvendelse_sha256, henvendelse FROM outbound WHERE mottak_id = ?1 AND orgnr = ?2");
      reader->reply_files = rc.Prepare(
          "SELECT name, content_type, sha256, content FROM outbound_files WHERE outbound_id = ?1 "
          "ORDER BY seq");
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

  // The writer: used only by the leader of a batch (see Write).
  Connection writer_;
  Statement w_find_inbound_, w_insert_inbound_, w_insert_inbound_file_, w_insert_reply_,
      w_insert_reply_file_, w_confirm_, w_reply_exists_, w_purge_files_, w_purge_, w_savepoint_,
      w_release_, w_rollback_to_;
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
