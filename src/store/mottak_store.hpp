#pragma once
// Storage of Brreg elektronisk mottak (SPEC 3): uploaded messages (inbound) and the replies
// published for organisations (outbound), with the optimistic lock of outbound/confirm.
//
// Large content never has to be in memory whole: an upload's attachments can arrive as spilled
// files (NewSpill, written and hashed as they arrive), which the store keeps as files in
// <dir>/blobs; a reply's ZIP (henvendelse.xml + attachments) is built once when it is published
// and kept (in the database when small, else as a file), and OpenReplyZip hands it out piece by
// piece, verified as it is read.
//
// Durability: every call that answers ok has committed (SQLite WAL, synchronous=FULL for this
// database: an upload answered 200 or a confirm answered 200 survives a power loss). Content
// (payloads, attachments, henvendelse.xml) is stored with its SHA-256 and verified on every read:
// a mismatch is kInternal ("stored content is corrupt"), never wrong bytes.
//
// Organisations are 9-digit orgnr strings ("0192:" prefixes are dropped on the way in). A
// mottakId of another organisation is reported exactly like one that does not exist (kNotFound);
// mottakIds are matched case-insensitively.
//
// Files (the SQLite store; see OpenPostgresMottakStore for PostgreSQL): <dir>/mottak.db (created
// when missing; schema migrations as the register store's), <dir>/blobs/ (large content),
// <dir>/tmp/ (spills not yet stored; emptied when the store opens, as are blobs no row refers to,
// which a crash between a file's rename and its commit can leave). One process opens a store folder
// at a time. Thread-safety: all methods are thread-safe (one writer at a time, readers in
// parallel).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "store/blob_file.hpp"

namespace norreg::store {

struct MottakFile {
  std::string name;          // file name as uploaded / as it appears in the ZIP
  std::string content_type;  // e.g. "application/pdf"
  std::string content;       // the bytes, unless `spilled` holds them
  // Instead of `content`: the bytes in a sealed spill (MottakStore::NewSpill; BlobWriter::Seal or
  // Finish). The store makes it durable and moves it into its folder when it keeps it (shared: a
  // MottakFile stays copyable).
  std::shared_ptr<BlobWriter> spilled;

  uint64_t size() const { return spilled ? spilled->size() : content.size(); }
};

struct OutboundReply;

struct InboundMessage {
  std::string orgnr;       // the sender (the token's organisation)
  std::string melding_id;  // Melding/@id
  std::string tjeneste;    // Melding/@tjeneste
  std::string payload;     // the Melding XML exactly as uploaded
  std::vector<MottakFile> attachments;
  // The mottakId the upload gets when it is new (a lower-case UUID); "" = one is made. Given by a
  // caller whose receipt names it.
  std::string mottak_id;
  // A reply published in the same transaction as the upload when the upload is new (not a
  // repeat): the receipt. The upload and its receipt are stored together or not at all.
  std::shared_ptr<const OutboundReply> receipt;
};

struct InboundReceipt {
  std::string mottak_id;    // UUID (lower case, 36 characters)
  int64_t received_ms = 0;  // when it was first stored
  int antall_vedlegg = 0;
  bool repeated = false;  // true: an earlier upload with the same (orgnr, melding_id)
};

struct StoredInbound {
  InboundReceipt receipt;
  InboundMessage message;
};

// A reply for an organisation (the register side's `svarmelding`).
struct OutboundReply {
  std::string orgnr;  // the receiving organisation
  std::string tjeneste;
  std::string melding_referanse;  // the original Melding id it answers; "" when none
  std::string henvendelse_xml;    // the reply Melding (henvendelse.xml in the ZIP)
  std::vector<MottakFile> attachments;
};

// One line of outbound/available (and the state of a reply).
struct OutboundInfo {
  std::string mottak_id;
  int64_t version = 0;  // optimistic lock counter; 0 when published
  std::string orgnr;
  std::string dokument_id;  // UUID
  std::string tjeneste;
  std::string melding_referanse;
  bool confirmed = false;
  int64_t oppdatert_ms = 0;  // last change (publish or confirm)
};

struct StoredReply {
  OutboundInfo info;
  std::string henvendelse_xml;
  std::vector<MottakFile> attachments;
};

// A reply's ZIP as published, for download: small ones in memory (verified), large ones as a
// reader that verifies them as it goes (see PieceReader::Next).
struct ReplyZip {
  OutboundInfo info;
  uint64_t size = 0;
  std::shared_ptr<const std::string> bytes;  // set for a small ZIP, kept in its row
  // Set for a large ZIP: read from its file (SQLite) or from its chunks in the database
  // (PostgreSQL), piece by piece.
  std::unique_ptr<PieceReader> file;
};

struct AvailableQuery {
  std::string orgnr;
  std::string tjeneste;             // "" = any
  std::optional<int64_t> since_ms;  // oppdatert >= since (inclusive)
  std::optional<int64_t> until_ms;  // oppdatert < until (exclusive)
  size_t limit = 10'000;
};

class MottakStore {
 public:
  virtual ~MottakStore() = default;

  // A new spill: a temporary file in the store's folder for content that arrives in pieces.
  // Append to it, Seal or Finish it, then hand it over in a MottakFile; dropped unstored, it is
  // removed.
  virtual Result<std::unique_ptr<BlobWriter>> NewSpill() = 0;

  // Stores an upload in one transaction and returns its receipt. An upload with the same
  // (orgnr, melding_id) as an earlier one stores nothing and returns the earlier receipt with
  // repeated = true (a client's retry after a lost answer). A new upload's `receipt` is published
  // (as PublishReply) in the same transaction; when it cannot be, nothing is stored. kInvalidInput
  // when orgnr or melding_id is empty.
  virtual Result<InboundReceipt> StoreInbound(const InboundMessage& message, int64_t now_ms) = 0;
  // An upload of `orgnr`; kNotFound when unknown or another organisation's.
  virtual Result<StoredInbound> GetInbound(std::string_view orgnr, std::string_view mottak_id) = 0;

  // Publishes a reply: a new mottakId and dokumentId, version 0, not confirmed. Its ZIP
  // (henvendelse.xml first, then the attachments in order; see mottak/zip.hpp) is built here,
  // once. kInvalidInput for an attachment name a ZIP cannot hold or a repeated one.
  virtual Result<OutboundInfo> PublishReply(const OutboundReply& reply, int64_t now_ms) = 0;
  // The unconfirmed replies of query.orgnr matching the filters, oldest first.
  virtual Result<std::vector<OutboundInfo>> Available(const AvailableQuery& query) = 0;
  // A reply of `orgnr` (confirmed or not, until purged); kNotFound when unknown or another
  // organisation's.
  // The content comes out of the stored ZIP, each file checked against its own digest too.
  virtual Result<StoredReply> GetReply(std::string_view orgnr, std::string_view mottak_id) = 0;
  // The state of a reply without its content (one small row); errors as GetReply.
  virtual Result<OutboundInfo> GetReplyInfo(std::string_view orgnr, std::string_view mottak_id) = 0;
  // The reply's stored ZIP; errors as GetReply (kInternal when a kept ZIP fails its digest).
  virtual Result<ReplyZip> OpenReplyZip(std::string_view orgnr, std::string_view mottak_id) = 0;
  // Marks the reply confirmed if its version is still `expected_version` (compare-and-set:
  // version + 1, oppdatert = now). Returns the new version. kConflict when the version moved on
  // (another confirm won); kNotFound when unknown or another organisation's. Confirming a
  // confirmed reply again with its current version succeeds (it stays confirmed).
  virtual Result<int64_t> Confirm(std::string_view orgnr, std::string_view mottak_id,
                                  int64_t expected_version, int64_t now_ms) = 0;
  // Deletes replies confirmed before `before_ms` (retention). Returns how many.
  virtual Result<int64_t> PurgeConfirmed(int64_t before_ms) = 0;
};

// Opens (creating when missing) the mottak store in `dir`. kInternal when it cannot.
Result<std::unique_ptr<MottakStore>> OpenSqliteMottakStore(const std::string& dir);

struct PostgresMottakOptions {
  // A libpq connection string (as PostgresOptions::conninfo); the mottak tables live in the
  // connection's search_path beside the register's. Required.
  std::string conninfo;
  // A folder of this node for spills (uploads on their way in, reply ZIPs being built): created
  // when missing and emptied when the store opens, so each node needs one of its own. Required.
  std::string spill_dir;
  // Connections kept for reads and writes; a streamed download borrows one per piece only.
  int pool_size = 8;
  // How long a call waits for a pooled connection when all are busy (then kInternal).
  int pool_wait_ms = 10'000;
};

// Opens the mottak store in the PostgreSQL database options.conninfo names, creating and
// migrating its tables when needed (under an advisory lock: several nodes may start at once).
// Several processes may share one database, i.e. one mailbox. kInvalidInput for an empty
// conninfo or spill_dir; kInternal when the server cannot be reached or migrating fails.
//
// Behaves as the SQLite store (same errors, order, versions, receipts, retention), except:
//  - All content is in the database, none in node-local files: attachments that arrived as
//    spills and large reply ZIPs are copied, inside the storing transaction, into table
//    mottak_blob_chunks as pieces of at most 512 KiB; the blob's size and SHA-256 are in the row
//    that names it and are checked as the pieces are read back (a ZIP is streamed one piece, and
//    one pooled connection, at a time).
//  - Each write is a transaction of its own on a pooled connection (PostgreSQL commits
//    concurrent transactions with shared WAL flushes itself: there is no group-commit queue).
//    Durability is the server's synchronous_commit (on by default; opening warns when it is off).
//  - Confirm is one UPDATE ... WHERE version = expected: across all nodes exactly one of
//    concurrent confirms of a version commits, the others get kConflict.
//  - PurgeConfirmed holds a transaction-scoped advisory lock, so nodes purge one at a time.
//  - A download in progress whose reply is purged meanwhile fails (kInternal) at its next piece,
//    where SQLite would finish reading the removed file.
//  - Available's ties (equal oppdatert) are in the order the replies' row ids were given out,
//    which with several nodes publishing at once may differ from their commit order.
//  - StoreInbound copies a spill and leaves the file to its MottakFile (removed when that goes);
//    SQLite moves it into its blobs/ folder.
Result<std::unique_ptr<MottakStore>> OpenPostgresMottakStore(const PostgresMottakOptions& options);

}  // namespace norreg::store
