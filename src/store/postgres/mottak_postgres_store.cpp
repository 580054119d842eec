// PostgreSQL implementation of store::MottakStore (contract and differences from SQLite:
// store/mottak_store.hpp, OpenPostgresMottakStore), so that several server nodes serve one mailbox.
//
// The tables are the SQLite store's (same names, same meaning), beside the register's in the
// connection's search_path, with their own migrations (table mottak_schema_version):
// - inbound / inbound_files: uploads and their attachments; UNIQUE(orgnr, melding_id) makes a
//   retry find the first upload, across nodes too (INSERT ... ON CONFLICT DO NOTHING waits for a
//   concurrent insert of the same key to commit or roll back).
// - outbound / outbound_files / outbound_zips: replies with their version, their attachments'
//   names and digests, and the ZIP built once at publish (inline when small).
// - mottak_blob_chunks: content that SQLite keeps as files (attachments that arrived as spills,
//   large ZIPs), as (blob_id, seq, data) pieces of kChunkBytes (the last one shorter). The row that
//   names a blob holds its size and SHA-256; readers check each piece's length and the digest of
//   the whole (the last piece is handed out only after it matched). Pieces are written with COPY
//   inside the transaction that stores the row naming them, so a blob never outlives a rollback
//   and there is nothing to sweep. Stored EXTERNAL: PDFs and ZIPs do not compress.
// - outbound_available: a partial index over the unconfirmed replies by (orgnr, oppdatert_ms, id)
//   that covers the listing (Available is one index range scan in its order, no sort).
// - outbound_confirmed: the confirmed replies by first confirm time (retention).
//
// Each write is one READ COMMITTED transaction on a pooled connection; reads that must see one
// state (a reply with its ZIP and files) run in one REPEATABLE READ READ ONLY transaction.
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <utility>

#include "common/ids.hpp"
#include "mottak/zip.hpp"
#include "store/blob_file.hpp"
#include "store/mottak_store.hpp"
#include "store/mottak_store_common.hpp"
#include "store/postgres/pg.hpp"

namespace norreg::store {

namespace postgres {
// The SQL of MottakStore::Available, exposed so that a test can check its query plan. Not part of
// the store's interface.
const char* MottakAvailableSql();
}  // namespace postgres

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
using pg::Connection;
using pg::ConnectionPool;
using pg::Params;

// Advisory lock keys ("norreg", 'M' for mottak, then the purpose).
constexpr int64_t kMigrationLockKey = 0x6e6f'7272'6567'4d01;
constexpr int64_t kPurgeLockKey = 0x6e6f'7272'6567'4d02;

// The size of a blob piece: a 35 MB attachment is 70 rows; a streamed download holds one piece.
constexpr uint64_t kChunkBytes = 512 * 1024;

// Schema migrations, applied in order; mottak_schema_version holds how many have run. Append only.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE inbound(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mottak_id text NOT NULL UNIQUE,
  orgnr text NOT NULL,
  melding_id text NOT NULL,
  tjeneste text NOT NULL,
  received_ms bigint NOT NULL,
  antall_vedlegg integer NOT NULL,
  payload_sha256 bytea NOT NULL,
  payload bytea NOT NULL,
  UNIQUE(orgnr, melding_id));
CREATE TABLE inbound_files(
  inbound_id bigint NOT NULL,
  seq integer NOT NULL,
  name text NOT NULL,
  content_type text NOT NULL,
  sha256 bytea NOT NULL,
  size bigint NOT NULL,
  blob_id bigint,
  content bytea NOT NULL,
  PRIMARY KEY(inbound_id, seq));
CREATE TABLE outbound(
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mottak_id text NOT NULL UNIQUE,
  dokument_id text NOT NULL,
  orgnr text NOT NULL,
  tjeneste text NOT NULL,
  melding_referanse text NOT NULL,
  version bigint NOT NULL,
  confirmed boolean NOT NULL,
  oppdatert_ms bigint NOT NULL,
  confirmed_ms bigint,
  henvendelse_sha256 bytea NOT NULL,
  henvendelse bytea NOT NULL);
CREATE TABLE outbound_files(
  outbound_id bigint NOT NULL,
  seq integer NOT NULL,
  name text NOT NULL,
  content_type text NOT NULL,
  sha256 bytea NOT NULL,
  PRIMARY KEY(outbound_id, seq));
CREATE TABLE outbound_zips(
  outbound_id bigint PRIMARY KEY,
  size bigint NOT NULL,
  sha256 bytea NOT NULL,
  blob_id bigint,
  zip bytea NOT NULL);
CREATE SEQUENCE mottak_blob_ids;
CREATE TABLE mottak_blob_chunks(
  blob_id bigint NOT NULL,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY(blob_id, seq));
ALTER TABLE mottak_blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
ALTER TABLE inbound_files ALTER COLUMN content SET STORAGE EXTERNAL;
ALTER TABLE outbound_zips ALTER COLUMN zip SET STORAGE EXTERNAL;
CREATE INDEX outbound_available ON outbound(orgnr, oppdatert_ms, id)
  INCLUDE (tjeneste, mottak_id, version, dokument_id, melding_referanse) WHERE NOT confirmed;
CREATE INDEX outbound_confirmed ON outbound(confirmed_ms) WHERE confirmed;
)sql",
};

constexpr const char* kAvailableSql =
    "SELECT mottak_id, version, dokument_id, tjeneste, melding_referanse, oppdatert_ms "
    "FROM outbound WHERE orgnr = $1 AND NOT confirmed AND oppdatert_ms >= $2 AND oppdatert_ms < $3 "
    "AND ($4 = '' OR tjeneste = $4) ORDER BY oppdatert_ms, id LIMIT $5";

constexpr pg::Statement kInsertInbound{
    "mottak_insert_inbound",
    "INSERT INTO inbound(mottak_id, orgnr, melding_id, tjeneste, received_ms, antall_vedlegg, "
    "payload_sha256, payload) VALUES($1, $2, $3, $4, $5, $6, $7, $8) "
    "ON CONFLICT (orgnr, melding_id) DO NOTHING RETURNING id"};
constexpr pg::Statement kFindInbound{
    "mottak_find_inbound",
    "SELECT mottak_id, received_ms, antall_vedlegg FROM inbound WHERE orgnr = $1 AND "
    "melding_id = $2"};
constexpr pg::Statement kInsertInboundFile{
    "mottak_insert_inbound_file",
    "INSERT INTO inbound_files(inbound_id, seq, name, content_type, sha256, size, blob_id, "
    "content) VALUES($1, $2, $3, $4, $5, $6, $7, $8)"};
constexpr pg::Statement kNextBlob{"mottak_next_blob", "SELECT nextval('mottak_blob_ids')"};
constexpr pg::Statement kInsertReply{
    "mottak_insert_reply",
    "INSERT INTO outbound(mottak_id, dokument_id, orgnr, tjeneste, melding_referanse, version, "
    "confirmed, oppdatert_ms, confirmed_ms, henvendelse_sha256, henvendelse) "
    "VALUES($1, $2, $3, $4, $5, 0, false, $6, NULL, $7, $8) RETURNING id"};
constexpr pg::Statement kInsertReplyFile{
    "mottak_insert_reply_file",
    "INSERT INTO outbound_files(outbound_id, seq, name, content_type, sha256) "
    "VALUES($1, $2, $3, $4, $5)"};
constexpr pg::Statement kInsertZip{"mottak_insert_zip",
                                   "INSERT INTO outbound_zips(outbound_id, size, sha256, blob_id, "
                                   "zip) VALUES($1, $2, $3, $4, $5)"};
constexpr pg::Statement kInbound{
    "mottak_inbound",
    "SELECT id, received_ms, antall_vedlegg, melding_id, tjeneste, payload_sha256, payload "
    "FROM inbound WHERE mottak_id = $1 AND orgnr = $2"};
constexpr pg::Statement kInboundFiles{
    "mottak_inbound_files",
    "SELECT name, content_type, sha256, size, blob_id, content FROM inbound_files "
    "WHERE inbound_id = $1 ORDER BY seq"};
constexpr pg::Statement kReply{
    "mottak_reply",
    "SELECT id, henvendelse_sha256, henvendelse FROM outbound WHERE mottak_id = $1 AND orgnr = $2"};
constexpr pg::Statement kReplyFiles{
    "mottak_reply_files",
    "SELECT name, content_type, sha256 FROM outbound_files WHERE outbound_id = $1 ORDER BY seq"};
constexpr pg::Statement kReplyInfo{
    "mottak_reply_info",
    "SELECT version, dokument_id, tjeneste, melding_referanse, confirmed, oppdatert_ms "
    "FROM outbound WHERE mottak_id = $1 AND orgnr = $2"};
constexpr pg::Statement kReplyZip{
    "mottak_reply_zip",
    "SELECT o.version, o.dokument_id, o.tjeneste, o.melding_referanse, o.confirmed, "
    "o.oppdatert_ms, z.size, z.sha256, z.blob_id, z.zip FROM outbound o "
    "JOIN outbound_zips z ON z.outbound_id = o.id WHERE o.mottak_id = $1 AND o.orgnr = $2"};
constexpr pg::Statement kAvailable{"mottak_available", kAvailableSql};
constexpr pg::Statement kChunk{
    "mottak_chunk", "SELECT data FROM mottak_blob_chunks WHERE blob_id = $1 AND seq = $2"};
// The compare-and-set of outbound/confirm in one statement: the version check and the change are
// one UPDATE (a concurrent one waits for the row and then re-checks the version on the row as the
// winner left it), and whether the reply exists at all is read in the same statement.
constexpr pg::Statement kConfirm{
    "mottak_confirm",
    "WITH changed AS (UPDATE outbound SET version = version + 1, confirmed = true, "
    "oppdatert_ms = $1, confirmed_ms = coalesce(confirmed_ms, $1) "
    "WHERE mottak_id = $2 AND orgnr = $3 AND version = $4 RETURNING version) "
    "SELECT (SELECT version FROM changed), "
    "EXISTS(SELECT 1 FROM outbound WHERE mottak_id = $2 AND orgnr = $3)"};
constexpr pg::Statement kPurge{
    "mottak_purge",
    "WITH gone AS (DELETE FROM outbound WHERE confirmed AND confirmed_ms < $1 RETURNING id), "
    "files AS (DELETE FROM outbound_files WHERE outbound_id IN (SELECT id FROM gone)), "
    "zips AS (DELETE FROM outbound_zips WHERE outbound_id IN (SELECT id FROM gone) "
    "RETURNING blob_id), "
    "chunks AS (DELETE FROM mottak_blob_chunks WHERE blob_id IN "
    "(SELECT blob_id FROM zips WHERE blob_id IS NOT NULL)) "
    "SELECT count(*) FROM gone"};
constexpr const char* kCopyChunks =
    "COPY mottak_blob_chunks(blob_id, seq, data) FROM STDIN (FORMAT binary)";

int64_t ChunkCount(uint64_t size) {
  return static_cast<int64_t>((size + kChunkBytes - 1) / kChunkBytes);
}

// Reads the file at `path` kChunkBytes at a time into `copy` as the pieces of blob `blob_id`,
// hashing it on the way; returns its size and digest.
struct Copied {
  uint64_t size = 0;
  Sha256Digest sha256{};
};
Result<Copied> CopyFile(pg::CopyIn& copy, const std::string& path, int64_t blob_id) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  std::string buffer(kChunkBytes, '\0');
  Sha256 hash;
  Copied out;
  int32_t seq = 0;
  Status status = Status::Ok();
  while (status.ok()) {
    size_t got = 0;
    while (got < buffer.size()) {
      const ssize_t n = ::read(fd, buffer.data() + got, buffer.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = Internal("cannot read " + path + ": " + std::strerror(errno));
        break;
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    if (!status.ok() || got == 0) break;
    const std::string_view piece(buffer.data(), got);
    hash.Update(piece);
    copy.BeginRow(3);
    copy.Int64(blob_id);
    copy.Int32(seq++);
    copy.Bytes(piece);
    out.size += got;
    if (got < buffer.size()) break;
  }
  ::close(fd);
  if (!status.ok()) return status.error();
  auto digest = hash.Final();
  if (!digest.ok()) return digest.error();
  out.sha256 = *digest;
  return out;
}

// The pieces of one blob, read back one piece (and one pooled connection) at a time and verified:
// each piece must have its length, and the whole its digest, before the last piece is handed out.
class ChunkReader final : public PieceReader {
 public:
  ChunkReader(std::shared_ptr<ConnectionPool> pool, int64_t blob_id, uint64_t size,
              std::string sha256, std::string what)
      : pool_(std::move(pool)),
        blob_id_(blob_id),
        size_(size),
        expected_(std::move(sha256)),
        what_(std::move(what)) {}

  uint64_t size() const override { return size_; }

  Result<std::string_view> Next() override {
    if (offset_ == size_) return std::string_view();
    auto lease = pool_->Acquire();
    if (!lease.ok()) return lease.error();
    return Read(**lease);
  }

  // The next piece, read on `c` (which may be inside a transaction).
  Result<std::string_view> Read(Connection& c) {
    if (offset_ == size_) return std::string_view();
    auto rows = c.Execute(kChunk, Params().Int64(blob_id_).Int32(seq_));
    if (!rows.ok()) return rows.error();
    const uint64_t want = std::min<uint64_t>(kChunkBytes, size_ - offset_);
    if (rows->rows() != 1 || rows->Bytes(0, 0).size() != want) {
      return Internal("stored content is corrupt: " + what_ + " (piece " + std::to_string(seq_) +
                      " of blob " + std::to_string(blob_id_) + " missing or of the wrong size)");
    }
    current_ = std::move(rows).value();
    const std::string_view piece = current_.Bytes(0, 0);
    hash_.Update(piece);
    offset_ += piece.size();
    ++seq_;
    if (offset_ == size_) {
      auto digest = hash_.Final();
      if (!digest.ok()) return digest.error();
      if (DigestView(*digest) != expected_) {
        return Internal("stored content is corrupt: " + what_ + " (SHA-256 differs)");
      }
    }
    return piece;
  }

  // The whole blob on `c`, verified.
  Result<std::string> ReadAll(Connection& c) {
    std::string out;
    out.reserve(static_cast<size_t>(size_));
    while (true) {
      auto piece = Read(c);
      if (!piece.ok()) return piece.error();
      if (piece->empty()) break;
      out.append(*piece);
    }
    return out;
  }

 private:
  std::shared_ptr<ConnectionPool> pool_;
  const int64_t blob_id_;
  const uint64_t size_;
  const std::string expected_;
  const std::string what_;
  uint64_t offset_ = 0;
  int32_t seq_ = 0;
  pg::QueryResult current_;  // holds the piece handed out last
  Sha256 hash_;
};

OutboundInfo InfoFrom(const pg::QueryResult& r, std::string_view id, std::string_view org) {
  OutboundInfo info;
  info.mottak_id = id;
  info.version = r.Int64(0, 0);
  info.orgnr = org;
  info.dokument_id = r.Text(0, 1);
  info.tjeneste = r.Text(0, 2);
  info.melding_referanse = r.Text(0, 3);
  info.confirmed = r.Bool(0, 4);
  info.oppdatert_ms = r.Int64(0, 5);
  return info;
}

class PostgresMottakStore final : public MottakStore {
 public:
  explicit PostgresMottakStore(PostgresMottakOptions options)
      : options_(std::move(options)),
        pool_(std::make_shared<ConnectionPool>(
            options_.conninfo, static_cast<size_t>(std::max(1, options_.pool_size)),
            std::chrono::milliseconds(std::max(0, options_.pool_wait_ms)))) {}

  Status Init() {
    std::error_code ec;
    std::filesystem::create_directories(options_.spill_dir, ec);
    if (ec) return Internal("cannot create " + options_.spill_dir + ": " + ec.message());
    // Spills a killed process left behind (this node's own folder).
    for (const auto& entry : std::filesystem::directory_iterator(options_.spill_dir, ec)) {
      std::filesystem::remove(entry.path(), ec);
    }
    auto lease = pool_->Acquire();
    if (!lease.ok()) return lease.error();
    if (Status s = pg::RunMigrations(**lease, kMigrations, "mottaket", kMigrationLockKey,
                                     "mottak_schema_version");
        !s.ok()) {
      return s;
    }
    // An answer promises that the data survives a crash of the database server: only true when
    // commits wait for the WAL flush.
    if (auto sync = (*lease)->Query("SELECT current_setting('synchronous_commit')");
        sync.ok() && sync->rows() == 1 && sync->Text(0, 0) == "off") {
      spdlog::warn(
          "mottak: PostgreSQL has synchronous_commit=off; an answered upload or confirm "
          "may be lost if the database server crashes");
    }
    return Status::Ok();
  }

  Result<std::unique_ptr<BlobWriter>> NewSpill() override {
    return BlobWriter::Create(options_.spill_dir);
  }

  Result<InboundReceipt> StoreInbound(const InboundMessage& m, int64_t now_ms) override {
    const std::string_view org = Org(m.orgnr);
    if (org.empty() || m.melding_id.empty()) {
      return MakeError(ErrorCode::kInvalidInput, "Meldingen mangler avsender eller id");
    }
    auto payload_digest = Sha256::Of(m.payload);
    if (!payload_digest.ok()) return payload_digest.error();
    auto digests = FileDigests(m.attachments);
    if (!digests.ok()) return digests.error();
    const std::string mottak_id = m.mottak_id.empty() ? ids::NewUuid() : m.mottak_id;
    const auto count = static_cast<int32_t>(m.attachments.size());
    std::optional<PreparedReply> receipt_reply;
    if (m.receipt) {
      auto prepared = PrepareReply(*m.receipt, now_ms);
      if (!prepared.ok()) return prepared.error();
      receipt_reply = std::move(prepared).value();
    }
    InboundReceipt receipt;
    Status s = Write([&](Connection& c) -> Status {
      receipt = {};
      auto inserted = c.Execute(kInsertInbound, Params()
                                                    .Text(mottak_id)
                                                    .Text(org)
                                                    .Text(m.melding_id)
                                                    .Text(m.tjeneste)
                                                    .Int64(now_ms)
                                                    .Int32(count)
                                                    .Bytes(DigestView(*payload_digest))
                                                    .Bytes(m.payload));
      if (!inserted.ok()) return inserted.error();
      if (inserted->rows() == 0) {
        // A repeat (perhaps committed by another node a moment ago): its receipt, nothing stored.
        auto first = c.Execute(kFindInbound, Params().Text(org).Text(m.melding_id));
        if (!first.ok()) return first.error();
        if (first->rows() != 1) return Internal("inbound conflict without a row");
        receipt.mottak_id = first->Text(0, 0);
        receipt.received_ms = first->Int64(0, 1);
        receipt.antall_vedlegg = static_cast<int>(first->Int64(0, 2));
        receipt.repeated = true;
        return Status::Ok();
      }
      const int64_t id = inserted->Int64(0, 0);
      for (size_t i = 0; i < m.attachments.size(); ++i) {
        const MottakFile& f = m.attachments[i];
        std::optional<int64_t> blob;
        if (f.spilled) {
          auto stored = StoreSpill(c, *f.spilled, f.name);
          if (!stored.ok()) return stored.error();
          blob = *stored;
        }
        Params p;
        p.Int64(id)
            .Int32(static_cast<int32_t>(i))
            .Text(f.name)
            .Text(f.content_type)
            .Bytes(DigestView((*digests)[i]))
            .Int64(static_cast<int64_t>(f.size()));
        if (blob) {
          p.Int64(*blob).Bytes("");
        } else {
          p.Null(pg::Type::kInt8).Bytes(f.content);
        }
        auto row = c.Execute(kInsertInboundFile, p);
        if (!row.ok()) return row.error();
      }
      if (receipt_reply) {
        if (Status st = InsertReply(c, *m.receipt, *receipt_reply); !st.ok()) return st;
      }
      receipt = {mottak_id, now_ms, static_cast<int>(count), false};
      return Status::Ok();
    });
    if (!s.ok()) return s.error();
    return receipt;
  }

  Result<StoredInbound> GetInbound(std::string_view orgnr, std::string_view mottak_id) override {
    const std::string id = LowerId(mottak_id);
    const std::string_view org = Org(orgnr);
    return Read([&](Connection& c) -> Result<StoredInbound> {
      auto row = c.Execute(kInbound, Params().Text(id).Text(org));
      if (!row.ok()) return row.error();
      if (row->rows() == 0) return NotFound();
      StoredInbound out;
      const int64_t rowid = row->Int64(0, 0);
      out.receipt = {id, row->Int64(0, 1), static_cast<int>(row->Int64(0, 2)), false};
      out.message.orgnr = org;
      out.message.melding_id = row->Text(0, 3);
      out.message.tjeneste = row->Text(0, 4);
      out.message.payload = row->Bytes(0, 6);
      if (!Intact(out.message.payload, row->Bytes(0, 5))) return Corrupt("inbound payload", id);
      auto files = c.Execute(kInboundFiles, Params().Int64(rowid));
      if (!files.ok()) return files.error();
      for (int i = 0; i < files->rows(); ++i) {
        MottakFile f;
        f.name = files->Text(i, 0);
        f.content_type = files->Text(i, 1);
        const std::string digest(files->Bytes(i, 2));
        bool intact = false;
        if (!files->IsNull(i, 4)) {
          ChunkReader reader(pool_, files->Int64(i, 4), static_cast<uint64_t>(files->Int64(i, 3)),
                             digest, "inbound file " + f.name + " of " + id);
          auto content = reader.ReadAll(c);
          intact = content.ok();
          if (intact) f.content = std::move(content).value();
        } else {
          f.content = files->Bytes(i, 5);
          intact = Intact(f.content, digest);
        }
        if (!intact) return Corrupt("inbound file " + f.name, id);
        out.message.attachments.push_back(std::move(f));
      }
      return out;
    });
  }

  Result<OutboundInfo> PublishReply(const OutboundReply& reply, int64_t now_ms) override {
    auto prepared = PrepareReply(reply, now_ms);
    if (!prepared.ok()) return prepared.error();
    Status s = Write([&](Connection& c) -> Status { return InsertReply(c, reply, *prepared); });
    if (!s.ok()) return s.error();
    return prepared->info;
  }

  Result<std::vector<OutboundInfo>> Available(const AvailableQuery& q) override {
    const std::string_view org = Org(q.orgnr);
    return WithConnection([&](Connection& c) -> Result<std::vector<OutboundInfo>> {
      auto rows =
          c.Execute(kAvailable, Params()
                                    .Text(org)
                                    .Int64(q.since_ms.value_or(std::numeric_limits<int64_t>::min()))
                                    .Int64(q.until_ms.value_or(std::numeric_limits<int64_t>::max()))
                                    .Text(q.tjeneste)
                                    .Int64(static_cast<int64_t>(std::min<size_t>(
                                        q.limit, std::numeric_limits<int64_t>::max()))));
      if (!rows.ok()) return rows.error();
      std::vector<OutboundInfo> out;
      out.reserve(static_cast<size_t>(rows->rows()));
      for (int i = 0; i < rows->rows(); ++i) {
        OutboundInfo& info = out.emplace_back();
        info.mottak_id = rows->Text(i, 0);
        info.version = rows->Int64(i, 1);
        info.orgnr = org;
        info.dokument_id = rows->Text(i, 2);
        info.tjeneste = rows->Text(i, 3);
        info.melding_referanse = rows->Text(i, 4);
        info.confirmed = false;
        info.oppdatert_ms = rows->Int64(i, 5);
      }
      return out;
    });
  }

  Result<StoredReply> GetReply(std::string_view orgnr, std::string_view mottak_id) override {
    const std::string id = LowerId(mottak_id);
    const std::string_view org = Org(orgnr);
    return Read([&](Connection& c) -> Result<StoredReply> {
      auto zip = OpenZip(c, id, org);
      if (!zip.ok()) return zip.error();
      std::string bytes;
      if (zip->bytes) {
        bytes = *zip->bytes;
      } else {
        auto all = static_cast<ChunkReader&>(*zip->file).ReadAll(c);
        if (!all.ok()) return all.error();
        bytes = std::move(all).value();
      }
      auto entries = mottak::ReadZip(bytes, std::numeric_limits<uint64_t>::max());
      if (!entries.ok() || entries->empty() || (*entries)[0].name != "henvendelse.xml") {
        return Corrupt("reply ZIP", id);
      }
      auto row = c.Execute(kReply, Params().Text(id).Text(org));
      if (!row.ok()) return row.error();
      if (row->rows() == 0) return NotFound();
      StoredReply out;
      out.info = zip->info;
      out.henvendelse_xml = row->Bytes(0, 2);
      if (!Intact(out.henvendelse_xml, row->Bytes(0, 1)) ||
          out.henvendelse_xml != (*entries)[0].content) {
        return Corrupt("henvendelse", id);
      }
      auto files = c.Execute(kReplyFiles, Params().Int64(row->Int64(0, 0)));
      if (!files.ok()) return files.error();
      for (int i = 0; i < files->rows(); ++i) {
        MottakFile f;
        f.name = files->Text(i, 0);
        f.content_type = files->Text(i, 1);
        const size_t n = static_cast<size_t>(i) + 1;
        if (n >= entries->size() || (*entries)[n].name != f.name ||
            !Intact((*entries)[n].content, files->Bytes(i, 2))) {
          return Corrupt("reply file " + f.name, id);
        }
        f.content = std::move((*entries)[n].content);
        out.attachments.push_back(std::move(f));
      }
      if (out.attachments.size() + 1 != entries->size()) return Corrupt("reply ZIP", id);
      return out;
    });
  }

  Result<OutboundInfo> GetReplyInfo(std::string_view orgnr, std::string_view mottak_id) override {
    const std::string id = LowerId(mottak_id);
    const std::string_view org = Org(orgnr);
    return WithConnection([&](Connection& c) -> Result<OutboundInfo> {
      auto row = c.Execute(kReplyInfo, Params().Text(id).Text(org));
      if (!row.ok()) return row.error();
      if (row->rows() == 0) return NotFound();
      return InfoFrom(*row, id, org);
    });
  }

  Result<ReplyZip> OpenReplyZip(std::string_view orgnr, std::string_view mottak_id) override {
    const std::string id = LowerId(mottak_id);
    const std::string_view org = Org(orgnr);
    return WithConnection([&](Connection& c) { return OpenZip(c, id, org); });
  }

  Result<int64_t> Confirm(std::string_view orgnr, std::string_view mottak_id,
                          int64_t expected_version, int64_t now_ms) override {
    const std::string id = LowerId(mottak_id);
    const std::string_view org = Org(orgnr);
    return WithConnection([&](Connection& c) -> Result<int64_t> {
      // One statement outside an explicit transaction: it commits on its own.
      auto row =
          c.Execute(kConfirm, Params().Int64(now_ms).Text(id).Text(org).Int64(expected_version));
      if (!row.ok()) return row.error();
      if (!row->IsNull(0, 0)) return row->Int64(0, 0);
      if (row->Bool(0, 1)) return MakeError(ErrorCode::kConflict, kConflictMessage);
      return NotFound();
    });
  }

  Result<int64_t> PurgeConfirmed(int64_t before_ms) override {
    int64_t purged = 0;
    Status s = Write([&](Connection& c) -> Status {
      // One node at a time: a second purge waits, then finds what the first left.
      auto locked = c.Query("SELECT pg_advisory_xact_lock($1)", Params().Int64(kPurgeLockKey));
      if (!locked.ok()) return locked.error();
      auto row = c.Execute(kPurge, Params().Int64(before_ms));
      if (!row.ok()) return row.error();
      purged = row->Int64(0, 0);
      return Status::Ok();
    });
    if (!s.ok()) return s.error();
    return purged;
  }

 private:
  // A reply's ZIP: in memory when small, else a finished file in the spill folder (removed when
  // `file` goes).
  struct BuiltZip {
    std::string bytes;
    Sha256Digest sha256{};
    std::unique_ptr<BlobWriter> file;
  };

  Result<BuiltZip> BuildReplyZip(const OutboundReply& reply) {
    BuiltZip out;
    auto inline_zip = BuildInlineReplyZip(reply);
    if (!inline_zip.ok()) return inline_zip.error();
    if (*inline_zip) {
      out.bytes = std::move((*inline_zip)->bytes);
      out.sha256 = (*inline_zip)->sha256;
      return out;
    }
    auto entries = ReplyZipFileEntries(reply);
    if (!entries.ok()) return entries.error();
    const std::string target = options_.spill_dir + "/" + ids::NewUuid() + ".zip";
    Status written = mottak::WriteZipFile(target, *entries);
    if (!written.ok()) {
      std::error_code ec;
      std::filesystem::remove(target, ec);
      return written.error();
    }
    // From here the writer owns the file: every way out removes it.
    auto adopted = BlobWriter::Adopt(target);
    if (!adopted.ok()) {
      std::error_code ec;
      std::filesystem::remove(target, ec);
      return adopted.error();
    }
    out.file = std::move(adopted).value();
    return out;
  }

  // What a reply needs before its transaction: ids, digests and its ZIP.
  struct PreparedReply : mottak_common::ReplyDigests {
    BuiltZip zip;
  };

  Result<PreparedReply> PrepareReply(const OutboundReply& reply, int64_t now_ms) {
    auto digests = mottak_common::DigestReply(reply, now_ms);
    if (!digests.ok()) return digests.error();
    PreparedReply out{std::move(digests).value(), {}};
    auto zip = BuildReplyZip(reply);
    if (!zip.ok()) return zip.error();
    out.zip = std::move(zip).value();
    return out;
  }

  // The reply's rows (and its ZIP's bytes). Inside a write transaction; may run again after a
  // serialization failure.
  Status InsertReply(Connection& c, const OutboundReply& reply, const PreparedReply& prepared) {
    const OutboundInfo& info = prepared.info;
    auto inserted = c.Execute(kInsertReply, Params()
                                                .Text(info.mottak_id)
                                                .Text(info.dokument_id)
                                                .Text(info.orgnr)
                                                .Text(info.tjeneste)
                                                .Text(info.melding_referanse)
                                                .Int64(info.oppdatert_ms)
                                                .Bytes(DigestView(prepared.digest))
                                                .Bytes(reply.henvendelse_xml));
    if (!inserted.ok()) return inserted.error();
    const int64_t id = inserted->Int64(0, 0);
    for (size_t i = 0; i < reply.attachments.size(); ++i) {
      const MottakFile& f = reply.attachments[i];
      auto row = c.Execute(kInsertReplyFile, Params()
                                                 .Int64(id)
                                                 .Int32(static_cast<int32_t>(i))
                                                 .Text(f.name)
                                                 .Text(f.content_type)
                                                 .Bytes(DigestView(prepared.file_digests[i])));
      if (!row.ok()) return row.error();
    }
    const BuiltZip& zip = prepared.zip;
    uint64_t size = zip.bytes.size();
    Sha256Digest sha = zip.sha256;
    std::optional<int64_t> blob;
    if (zip.file) {
      auto copied = CopyFileAsBlob(c, zip.file->path());
      if (!copied.ok()) return copied.error();
      blob = copied->first;
      size = copied->second.size;
      sha = copied->second.sha256;
    }
    Params p;
    p.Int64(id).Int64(static_cast<int64_t>(size)).Bytes(DigestView(sha));
    if (blob) {
      p.Int64(*blob).Bytes("");
    } else {
      p.Null(pg::Type::kInt8).Bytes(zip.bytes);
    }
    auto row = c.Execute(kInsertZip, p);
    return row.ok() ? Status::Ok() : Status(row.error());
  }

  // Copies a finished spill into blob pieces (checking it against its digest as it is read).
  Result<int64_t> StoreSpill(Connection& c, const BlobWriter& spill, const std::string& name) {
    auto copied = CopyFileAsBlob(c, spill.path());
    if (!copied.ok()) return copied.error();
    if (copied->second.size != spill.size() ||
        DigestView(copied->second.sha256) != DigestView(spill.sha256())) {
      return Internal("spill of " + name + " changed before it was stored");
    }
    return copied->first;
  }

  // A new blob holding the file at `path`: its id, size and digest.
  Result<std::pair<int64_t, Copied>> CopyFileAsBlob(Connection& c, const std::string& path) {
    auto next = c.Execute(kNextBlob);
    if (!next.ok()) return next.error();
    const int64_t blob = next->Int64(0, 0);
    auto copy = pg::CopyIn::Start(c, kCopyChunks, pg::CopyFormat::kBinary);
    if (!copy.ok()) return copy.error();
    auto copied = CopyFile(*copy, path, blob);
    if (!copied.ok()) return copied.error();  // the CopyIn aborts when it goes
    auto rows = copy->Finish();
    if (!rows.ok()) return rows.error();
    if (*rows != ChunkCount(copied->size)) return Internal("blob pieces not all stored");
    return std::pair{blob, *copied};
  }

  Result<ReplyZip> OpenZip(Connection& c, const std::string& id, std::string_view org) {
    auto row = c.Execute(kReplyZip, Params().Text(id).Text(org));
    if (!row.ok()) return row.error();
    if (row->rows() == 0) return NotFound();
    ReplyZip out;
    out.info = InfoFrom(*row, id, org);
    out.size = static_cast<uint64_t>(row->Int64(0, 6));
    const std::string digest(row->Bytes(0, 7));
    if (!row->IsNull(0, 8)) {
      out.file = std::make_unique<ChunkReader>(pool_, row->Int64(0, 8), out.size, digest,
                                               "reply ZIP of " + id);
      return out;
    }
    auto bytes = std::make_shared<std::string>(row->Bytes(0, 9));
    if (bytes->size() != out.size || !Intact(*bytes, digest)) return Corrupt("reply ZIP", id);
    out.bytes = std::move(bytes);
    return out;
  }

  // Runs `fn(Connection&)` on a pooled connection.
  template <typename Fn>
  auto WithConnection(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    auto lease = pool_->Acquire();
    if (!lease.ok()) return lease.error();
    return fn(**lease);
  }

  // Runs `fn(Connection&)` in one REPEATABLE READ READ ONLY transaction (one state of the data).
  template <typename Fn>
  auto Read(Fn&& fn) -> decltype(fn(std::declval<Connection&>())) {
    auto lease = pool_->Acquire();
    if (!lease.ok()) return lease.error();
    pg::Transaction tx(**lease);
    if (Status s = tx.Begin(pg::Isolation::kRepeatableRead, true); !s.ok()) return s.error();
    auto result = fn(**lease);
    if (Status s = tx.Commit(); !s.ok() && result.ok()) return s.error();
    return result;
  }

  // Runs `fn(Connection&)` (a Status) in a committed READ COMMITTED transaction; run again after
  // a deadlock or serialization failure (so `fn` must have no effect outside the database but
  // for what it sets again on each run).
  template <typename Fn>
  Status Write(Fn&& fn) {
    auto lease = pool_->Acquire();
    if (!lease.ok()) return lease.error();
    Connection& c = **lease;
    return pg::RunInTransaction(c, {}, [&]() -> Status { return fn(c); });
  }

  const PostgresMottakOptions options_;
  std::shared_ptr<ConnectionPool> pool_;  // shared with the ChunkReaders of downloads
};

}  // namespace

namespace postgres {
const char* MottakAvailableSql() { return kAvailableSql; }
}  // namespace postgres

Result<std::unique_ptr<MottakStore>> OpenPostgresMottakStore(const PostgresMottakOptions& options) {
  if (options.conninfo.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "mangler tilkoblingsstreng til PostgreSQL");
  }
  if (options.spill_dir.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "mangler mappe for mottakets mellomlagring");
  }
  auto store = std::make_unique<PostgresMottakStore>(options);
  if (Status s = store->Init(); !s.ok()) return s.error();
  return std::unique_ptr<MottakStore>(std::move(store));
}

}  // namespace norreg::store
