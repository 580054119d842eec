#include "client/local_copy.hpp"

#include <sqlite3.h>

#include <charconv>
#include <cstring>

#include "common/compress.hpp"

namespace norreg::client {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS persons(fnr TEXT PRIMARY KEY, document TEXT NOT NULL,"
    " seq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

// Resets a statement when leaving scope so it never holds a read lock.
struct StatementReset {
  sqlite3_stmt* stmt;
  ~StatementReset() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

void BindText(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void BindBlob(sqlite3_stmt* stmt, int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
}

std::string_view ColumnBytes(sqlite3_stmt* stmt, int column) {
  const void* data = sqlite3_column_blob(stmt, column);
  return {static_cast<const char*>(data), static_cast<size_t>(sqlite3_column_bytes(stmt, column))};
}

// A zstd frame starts with the magic number 0xFD2FB528 (little-endian); JSON never does.
bool IsZstdFrame(std::string_view bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), "\x28\xB5\x2F\xFD", 4) == 0;
}

constexpr int kCompressionLevel = 1;
constexpr size_t kDictionaryBytes = 64 * 1024;

}  // namespace

Result<std::unique_ptr<LocalCopy>> LocalCopy::Open(const std::string& path,
                                                   LocalCopyOptions options) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return MakeError(ErrorCode::kInternal, "cannot open local copy: " + message, path);
  }
  std::unique_ptr<LocalCopy> copy(new LocalCopy(path, db, options));
  sqlite3_busy_timeout(db, 5000);
  // 16 KB pages hold several ~2.5 KB documents without overflow chains and a 64 MB cache keeps the
  // fnr index's pages (a 1 M copy: 2.7 GB instead of 4.1 GB, written in 55 instead of 86 s). The
  // page size applies to a new file only.
  if (Status s =
          copy->Exec("PRAGMA page_size=16384;PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;"
                     "PRAGMA cache_size=-65536;");
      !s.ok()) {
    return s.error();
  }
  if (Status s = copy->Exec(kSchema); !s.ok()) return s.error();
  struct Prepared {
    sqlite3_stmt** stmt;
    const char* sql;
  };
  const Prepared statements[] = {
      {&copy->put_, "INSERT OR REPLACE INTO persons(fnr, document, seq) VALUES(?1, ?2, ?3)"},
      {&copy->remove_, "DELETE FROM persons WHERE fnr = ?1"},
      {&copy->get_, "SELECT document, seq FROM persons WHERE fnr = ?1"},
      {&copy->get_meta_, "SELECT value FROM meta WHERE key = ?1"},
      {&copy->set_meta_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)"},
  };
  for (const Prepared& p : statements) {
    if (sqlite3_prepare_v3(db, p.sql, -1, SQLITE_PREPARE_PERSISTENT, p.stmt, nullptr) !=
        SQLITE_OK) {
      return copy->SqlError("prepare");
    }
  }
  if (Status s = copy->LoadDictionary(); !s.ok()) return s.error();
  return copy;
}

LocalCopy::LocalCopy(std::string path, sqlite3* db, LocalCopyOptions options)
    : path_(std::move(path)), options_(options), db_(db) {}

Status LocalCopy::LoadDictionary() {
  auto dictionary = GetMeta(kMetaDocumentDictionary);
  if (!dictionary.ok()) return dictionary.error();
  if (!dictionary->has_value()) return {};
  auto zstd = common::Zstd::Create(std::move(**dictionary), kCompressionLevel);
  if (!zstd.ok()) {
    return MakeError(ErrorCode::kInternal,
                     "local copy: the stored compression dictionary is unusable", path_);
  }
  zstd_ = std::make_shared<const common::Zstd>(std::move(*zstd));
  return {};
}

Status LocalCopy::Sample(std::string_view document) {
  samples_.emplace_back(document);
  if (samples_.size() < kDictionarySamples) return {};
  auto dictionary = common::Zstd::TrainDictionary(samples_, kDictionaryBytes);
  samples_.clear();
  samples_.shrink_to_fit();
  auto zstd = dictionary.ok() ? common::Zstd::Create(*dictionary, kCompressionLevel)
                              : Result<common::Zstd>(dictionary.error());
  if (!zstd.ok()) {
    training_failed_ = true;  // documents stay plain; nothing is lost
    return {};
  }
  StatementReset reset{set_meta_};
  BindText(set_meta_, 1, kMetaDocumentDictionary);
  BindBlob(set_meta_, 2, *dictionary);
  if (sqlite3_step(set_meta_) != SQLITE_DONE) return SqlError("write meta");
  zstd_ = std::make_shared<const common::Zstd>(std::move(*zstd));
  dictionary_in_transaction_ = in_transaction_;
  return {};
}

Status LocalCopy::Decode(sqlite3_stmt* stmt, int column, std::string& out) const {
  std::string_view stored = ColumnBytes(stmt, column);
  if (!IsZstdFrame(stored)) {
    out.assign(stored);
    return {};
  }
  if (zstd_ == nullptr) {
    return MakeError(ErrorCode::kInternal,
                     "local copy: a compressed document but no compression dictionary", path_);
  }
  if (Status s = zstd_->Decompress(stored, out); !s.ok()) {
    return MakeError(ErrorCode::kInternal, "local copy: a stored document does not decompress",
                     path_ + ": " + s.error().message);
  }
  return {};
}

LocalCopy::~LocalCopy() {
  if (in_transaction_) Rollback();
  for (sqlite3_stmt* stmt : {put_, remove_, get_, get_meta_, set_meta_}) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Error LocalCopy::SqlError(std::string_view what) const {
  return MakeError(ErrorCode::kInternal,
                   "local copy: " + std::string(what) + " failed: " + sqlite3_errmsg(db_), path_);
}

Status LocalCopy::Exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return MakeError(ErrorCode::kInternal, "local copy: " + text, path_);
  }
  return {};
}

Status LocalCopy::Begin() {
  if (in_transaction_) return MakeError(ErrorCode::kInternal, "local copy: nested transaction");
  if (Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  in_transaction_ = true;
  return {};
}

Status LocalCopy::Commit() {
  if (!in_transaction_) return MakeError(ErrorCode::kInternal, "local copy: no transaction");
  Status s = Exec("COMMIT");
  if (!s.ok()) {
    Rollback();
    return s;
  }
  in_transaction_ = false;
  dictionary_in_transaction_ = false;
  return {};
}

void LocalCopy::Rollback() {
  if (!in_transaction_) return;
  (void)Exec("ROLLBACK");
  in_transaction_ = false;
  if (dictionary_in_transaction_) {
    zstd_.reset();  // its meta row is gone with the transaction: sample afresh
    dictionary_in_transaction_ = false;
  }
}

Status LocalCopy::Put(std::string_view fnr, std::string_view document, int64_t seq,
                      const Precompressed& precompressed) {
  if (options_.compress && zstd_ == nullptr && !training_failed_) {
    if (Status s = Sample(document); !s.ok()) return s;
  }
  StatementReset reset{put_};
  BindText(put_, 1, fnr);
  if (compressing() && precompressed.by == zstd_.get()) {
    BindBlob(put_, 2, precompressed.bytes);
  } else if (compressing()) {
    zstd_->Compress(document, encoded_);
    BindBlob(put_, 2, encoded_);
  } else {
    BindText(put_, 2, document);
  }
  sqlite3_bind_int64(put_, 3, seq);
  if (sqlite3_step(put_) != SQLITE_DONE) return SqlError("insert person");
  return {};
}

Result<bool> LocalCopy::Remove(std::string_view fnr) {
  StatementReset reset{remove_};
  BindText(remove_, 1, fnr);
  if (sqlite3_step(remove_) != SQLITE_DONE) return SqlError("delete person");
  return sqlite3_changes(db_) > 0;
}

Result<int> LocalCopy::Replace(std::string_view fnr, const std::vector<std::string>& old_numbers,
                               std::string_view document, int64_t seq,
                               const Precompressed& precompressed) {
  int removed = 0;
  for (const std::string& old : old_numbers) {
    if (old == fnr) continue;
    auto r = Remove(old);
    if (!r.ok()) return r.error();
    removed += *r ? 1 : 0;
  }
  if (Status s = Put(fnr, document, seq, precompressed); !s.ok()) return s.error();
  return removed;
}

Result<std::optional<std::string>> LocalCopy::Document(std::string_view fnr) {
  StatementReset reset{get_};
  BindText(get_, 1, fnr);
  int rc = sqlite3_step(get_);
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return SqlError("select person");
  std::string document;
  if (Status s = Decode(get_, 0, document); !s.ok()) return s.error();
  return std::optional<std::string>(std::move(document));
}

Status LocalCopy::ForEach(
    const std::function<Status(std::string_view fnr, std::string_view document, int64_t seq)>&
        visit) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT fnr, document, seq FROM persons ORDER BY fnr", -1, &stmt,
                         nullptr) != SQLITE_OK) {
    return SqlError("select persons");
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owned(stmt, &sqlite3_finalize);
  std::string document;
  while (true) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return {};
    if (rc != SQLITE_ROW) return SqlError("select persons");
    if (Status s = Decode(stmt, 1, document); !s.ok()) return s;
    if (Status s = visit(ColumnBytes(stmt, 0), document, sqlite3_column_int64(stmt, 2)); !s.ok()) {
      return s;
    }
  }
}

Result<std::optional<int64_t>> LocalCopy::Seq(std::string_view fnr) {
  StatementReset reset{get_};
  BindText(get_, 1, fnr);
  int rc = sqlite3_step(get_);
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  if (rc != SQLITE_ROW) return SqlError("select person");
  return std::optional<int64_t>(sqlite3_column_int64(get_, 1));
}

Result<int64_t> LocalCopy::Count() {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT COUNT(*) FROM persons", -1, &stmt, nullptr) != SQLITE_OK) {
    return SqlError("count");
  }
  int64_t count = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) count = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  if (count < 0) return SqlError("count");
  return count;
}

Status LocalCopy::Clear() {
  // The dictionary stays: rows written later in a rolled-back transaction may not need it, but
  // replacing it while any compressed row exists would make that row unreadable. The API path
  // stays: it was bound for this run (BindApiPath).
  return Exec(
      "DELETE FROM persons; DELETE FROM meta WHERE key NOT IN ('document_dictionary', "
      "'api_path');");
}

Result<std::optional<std::string>> LocalCopy::GetMeta(std::string_view key) {
  StatementReset reset{get_meta_};
  BindText(get_meta_, 1, key);
  int rc = sqlite3_step(get_meta_);
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return SqlError("select meta");
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(get_meta_, 0));
  return std::optional<std::string>(
      std::string(text, static_cast<size_t>(sqlite3_column_bytes(get_meta_, 0))));
}

Status LocalCopy::SetMeta(std::string_view key, std::string_view value) {
  StatementReset reset{set_meta_};
  BindText(set_meta_, 1, key);
  BindText(set_meta_, 2, value);
  if (sqlite3_step(set_meta_) != SQLITE_DONE) return SqlError("write meta");
  return {};
}

Status LocalCopy::DeleteMeta(std::string_view key) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM meta WHERE key = ?1", -1, &stmt, nullptr) != SQLITE_OK) {
    return SqlError("delete meta");
  }
  BindText(stmt, 1, key);
  int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return SqlError("delete meta");
  return {};
}

Status LocalCopy::BindApiPath(std::string_view api_path, std::string_view default_path) {
  auto recorded = GetMeta(kMetaApiPath);
  if (!recorded.ok()) return recorded.error();
  if (!recorded->has_value()) {
    // A copy with documents but no record was made before packages existed.
    auto cursor = GetMetaInt(kMetaFeedSekvensnummer);
    if (!cursor.ok()) return cursor.error();
    if (cursor->has_value() && api_path != default_path) {
      return MakeError(ErrorCode::kConflict, "den lokale kopien er laget gjennom " +
                                                 std::string(default_path) + ", ikke " +
                                                 std::string(api_path));
    }
    return SetMeta(kMetaApiPath, api_path);
  }
  if (**recorded != api_path) {
    return MakeError(ErrorCode::kConflict, "den lokale kopien er laget gjennom " + **recorded +
                                               ", ikke " + std::string(api_path));
  }
  return {};
}

Result<std::optional<int64_t>> LocalCopy::GetMetaInt(std::string_view key) {
  auto value = GetMeta(key);
  if (!value.ok()) return value.error();
  if (!value->has_value()) return std::optional<int64_t>();
  const std::string& text = **value;
  int64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return MakeError(ErrorCode::kInternal,
                     "local copy: meta " + std::string(key) + " is not a number: " + text);
  }
  return std::optional<int64_t>(number);
}

}  // namespace norreg::client
