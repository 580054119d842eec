#include "store/sqlite/sqlite_db.hpp"

#include <stdexcept>
#include <utility>

namespace norreg::store::sqlite {

Error SqliteError(sqlite3* db, std::string_view what) {
  std::string detail(what);
  if (db != nullptr) {
    detail += ": ";
    detail += sqlite3_errmsg(db);
  }
  return MakeError(ErrorCode::kInternal, "Feil i tjenesten. Vennligst prøv igjen senere.", detail);
}

Statement::Statement(sqlite3* db, std::string_view sql) {
  if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt_, nullptr) != SQLITE_OK) {
    throw std::runtime_error(std::string("sqlite prepare failed: ") + sqlite3_errmsg(db) +
                             " in: " + std::string(sql));
  }
}

Statement::Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::Bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void Statement::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
}

void Statement::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(sqlite3_db_handle(stmt_), sqlite3_sql(stmt_));
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string_view Statement::Blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return {static_cast<const char*>(data), static_cast<size_t>(size)};
}

std::string_view Statement::Text(int column) const {
  const unsigned char* data = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  return {reinterpret_cast<const char*>(data), static_cast<size_t>(size)};
}

Result<Connection> Connection::Open(const std::string& path, bool read_only, int64_t mmap_bytes,
                                    int cache_kib) {
  Connection c;
  int flags = SQLITE_OPEN_NOMUTEX | (read_only ? SQLITE_OPEN_READONLY
                                               : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &c.db_, flags, nullptr) != SQLITE_OK) {
    Error e = SqliteError(c.db_, "open " + path);
    return e;
  }
  sqlite3_busy_timeout(c.db_, 10000);
  std::string pragmas = "PRAGMA mmap_size=" + std::to_string(mmap_bytes) +
                        "; PRAGMA cache_size=-" + std::to_string(cache_kib) +
                        "; PRAGMA temp_store=MEMORY;";
  // A larger WAL between checkpoints: bulk loads checkpoint (and fsync) far less often.
  if (!read_only) {
    pragmas += "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=16384;";
  }
  if (Status s = c.Exec(pragmas); !s.ok()) return s.error();
  return c;
}

Connection::Connection(Connection&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Connection::~Connection() { sqlite3_close_v2(db_); }

Status Connection::Exec(std::string_view sql) {
  char* message = nullptr;
  std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string detail = message != nullptr ? message : "unknown";
    sqlite3_free(message);
    return MakeError(ErrorCode::kInternal, "Feil i tjenesten. Vennligst prøv igjen senere.",
                     detail + " in: " + text);
  }
  return Status::Ok();
}

Transaction::Transaction(Connection& connection) : connection_(connection) {}

Transaction::~Transaction() {
  if (open_) (void)connection_.Exec("ROLLBACK");
}

Status Transaction::Begin() {
  Status s = connection_.Exec("BEGIN IMMEDIATE");
  open_ = s.ok();
  return s;
}

Status Transaction::Commit() {
  Status s = connection_.Exec("COMMIT");
  if (s.ok()) open_ = false;
  return s;
}

Status RunMigrations(Connection& db, std::span<const char* const> migrations,
                     std::string_view what) {
  if (Status s = db.Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
      !s.ok()) {
    return s;
  }
  Statement get = db.Prepare("SELECT version FROM schema_version");
  auto row = get.Step();
  if (!row.ok()) return row.error();
  int64_t version = *row ? get.Int(0) : -1;
  get.Reset();
  const auto known = static_cast<int64_t>(migrations.size());
  if (version > known) {
    return MakeError(ErrorCode::kInternal, std::string(what) +
                                               " er laget av en nyere norreg (skjemaversjon " +
                                               std::to_string(version) + ")");
  }
  if (version == known) return Status::Ok();
  Transaction tx(db);
  if (Status s = tx.Begin(); !s.ok()) return s;
  if (version < 0) {
    if (Status s = db.Exec("INSERT INTO schema_version VALUES(0)"); !s.ok()) return s;
    version = 0;
  }
  for (int64_t v = version; v < known; ++v) {
    if (Status s = db.Exec(migrations[static_cast<size_t>(v)]); !s.ok()) return s;
  }
  if (Status s = db.Exec("UPDATE schema_version SET version=" + std::to_string(known)); !s.ok()) {
    return s;
  }
  return tx.Commit();
}

}  // namespace norreg::store::sqlite
