#pragma once
// A thin RAII layer over the sqlite3 C API: connections and prepared statements. Errors become
// norreg::Error values (code kInternal, SQL text in `detail` for the log only).
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <span>
#include <string_view>

#include "common/result.hpp"

namespace norreg::store::sqlite {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);  // throws std::runtime_error on bad SQL (a bug)
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  void Bind(int index, int64_t value);
  void Bind(int index, std::string_view text);
  void BindBlob(int index, std::string_view bytes);
  void BindNull(int index);
  // Steps once: true when a row is available, false when done; errors -> Error value.
  Result<bool> Step();
  // Resets for the next use and clears bindings.
  void Reset();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string_view Blob(int column) const;
  std::string_view Text(int column) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class Connection {
 public:
  // Opens `path`; read_only connections never write. Applies the pragmas every connection needs
  // (WAL, busy timeout, mmap).
  static Result<Connection> Open(const std::string& path, bool read_only, int64_t mmap_bytes,
                                 int cache_kib);
  Connection() = default;
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  Status Exec(std::string_view sql);
  Statement Prepare(std::string_view sql) { return Statement(db_, sql); }
  sqlite3* handle() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// RAII transaction: BEGIN IMMEDIATE on construction, ROLLBACK unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& connection);
  ~Transaction();
  Status Begin();
  Status Commit();

 private:
  Connection& connection_;
  bool open_ = false;
};

Error SqliteError(sqlite3* db, std::string_view what);

// Brings a database to the newest schema: `migrations[i]` takes it from version i to i + 1, the
// version is kept in table schema_version, and all pending steps run in one transaction.
// kInternal when the database is newer than `migrations` (the message names `what`, e.g.
// "registeret") or a step fails.
Status RunMigrations(Connection& db, std::span<const char* const> migrations,
                     std::string_view what);

}  // namespace norreg::store::sqlite
