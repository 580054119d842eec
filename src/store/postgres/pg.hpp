#pragma once
// A thin RAII layer over libpq, PostgreSQL's C client: connections, query results, prepared
// statements with typed parameters (sent in binary), a small connection pool, transactions that
// are run again after a serialization failure or deadlock, COPY FROM STDIN for bulk loads, and
// schema migrations under an advisory lock.
//
// Errors are norreg::Error values with code kInternal and the generic client message; the
// server's message, the SQLSTATE and the statement go into Error::detail, which is for the log
// only (SQL text never reaches a client). A failed command also leaves its SQLSTATE and the name
// of the violated constraint on the Connection (last_error()), so that a caller can tell a unique
// violation (23505) or a serialization failure (40001) from other failures.
//
// Thread-safety: a Connection (and a QueryResult or CopyIn made from it) is used by one thread at
// a time; ConnectionPool is thread-safe.
#include <libpq-fe.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/result.hpp"

namespace norreg::store::pg {

// SQLSTATEs the callers look at.
inline constexpr std::string_view kUniqueViolation = "23505";
inline constexpr std::string_view kSerializationFailure = "40001";
inline constexpr std::string_view kDeadlockDetected = "40P01";

// The types of the parameters sent (their OIDs: libpq-dev ships no pg_type.h for clients).
enum class Type : Oid {
  kBool = 16,
  kBytea = 17,
  kInt8 = 20,
  kInt2 = 21,
  kInt4 = 23,
  kText = 25,
  kInt4Array = 1007,
  kInt8Array = 1016,
};

// The binary form of a one-dimensional bigint[] without NULLs (for Params::Int64Array).
std::string EncodeInt64Array(std::span<const int64_t> values);
// The same for integer[] (Params::Int32Array, or a COPY field through CopyIn::Bytes).
std::string EncodeInt32Array(std::span<const int32_t> values);

// The parameters of one statement, all sent in binary format (integers in network byte order,
// bytea and text as their bytes), each with its type so that the server never has to guess.
// Holds pointers to the bytes of Bytes()/Text() arguments: they must outlive the call that uses
// the Params. At most kMax parameters (more is a programming error: std::length_error). Neither
// copyable nor movable (the values point into the object); build it in the call expression.
class Params {
 public:
  static constexpr int kMax = 16;
  Params() = default;
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;

  Params& Int64(int64_t value);
  Params& Int32(int32_t value);
  Params& Int16(int16_t value);
  Params& Bool(bool value);
  Params& Bytes(std::string_view bytes);         // bytea
  Params& Text(std::string_view text);           // text (the connection's encoding, UTF-8)
  Params& Int64Array(std::string_view encoded);  // bigint[] made by EncodeInt64Array
  Params& Int32Array(std::string_view encoded);  // integer[] made by EncodeInt32Array
  Params& Null(Type type);

  int size() const { return n_; }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  char* Scalar(Type type, int length);
  Params& Add(Type type, const char* data, int length);

  int n_ = 0;
  std::array<Oid, kMax> types_{};
  std::array<const char*, kMax> values_{};
  std::array<int, kMax> lengths_{};
  std::array<int, kMax> formats_{};
  std::array<std::array<char, 8>, kMax> scalars_{};
};

// The rows of one command (owns the PGresult; PQclear at destruction). Columns of statements run
// through Connection::Query/Execute come in binary format; Int64 also reads text format.
class QueryResult {
 public:
  QueryResult() = default;
  explicit QueryResult(PGresult* result) : result_(result) {}
  QueryResult(QueryResult&& other) noexcept;
  QueryResult& operator=(QueryResult&& other) noexcept;
  QueryResult(const QueryResult&) = delete;
  QueryResult& operator=(const QueryResult&) = delete;
  ~QueryResult();

  int rows() const { return result_ != nullptr ? PQntuples(result_) : 0; }
  int columns() const { return result_ != nullptr ? PQnfields(result_) : 0; }
  bool IsNull(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
  // An int2/int4/int8 column (binary or text); 0 for NULL.
  int64_t Int64(int row, int column) const;
  bool Bool(int row, int column) const;
  // The value's bytes: bytea content in binary format, text as is. Valid while this lives.
  std::string_view Bytes(int row, int column) const;
  std::string_view Text(int row, int column) const { return Bytes(row, column); }
  // Rows affected by an INSERT/UPDATE/DELETE/COPY (PQcmdTuples), 0 when not applicable.
  int64_t affected() const;
  PGresult* get() const { return result_; }

 private:
  PGresult* result_ = nullptr;
};

// A named statement, prepared on each connection the first time it runs there (with the
// parameter types of that first call) and then executed by name. `name` must be unique among the
// statements run on one connection; both strings must live as long as the program (literals).
struct Statement {
  const char* name;
  const char* sql;
};

// What the last failed command on a connection reported (empty after success of the next one is
// NOT implied: it is reset only by ClearLastError()).
struct LastError {
  std::string sqlstate;    // e.g. "23505"; empty for client-side failures (lost connection)
  std::string constraint;  // the violated constraint, when the server names one
};

class Connection {
 public:
  // Connects with a libpq connection string (key=value pairs or a postgresql:// URI). kInternal
  // when the server cannot be reached or refuses; libpq's reason is in Error::detail (never the
  // connection string itself, which may hold a password). Notices go to the debug log.
  static Result<Connection> Open(const std::string& conninfo);

  Connection() = default;
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one or more SQL commands without parameters (simple query protocol), dropping any rows.
  Status Exec(std::string_view sql);
  // One statement with parameters ($1, $2, ...); result columns in binary format.
  Result<QueryResult> Query(const char* sql, const Params& params = Params());
  // A prepared statement (prepared here on first use); result columns in binary format.
  Result<QueryResult> Execute(const Statement& statement, const Params& params = Params());

  // False once the connection is lost (the pool then drops it).
  bool healthy() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }
  PGTransactionStatusType transaction_status() const { return PQtransactionStatus(conn_); }
  const LastError& last_error() const { return last_error_; }
  void ClearLastError() { last_error_ = {}; }
  PGconn* handle() { return conn_; }

  // An Error for a failed command (records its SQLSTATE and constraint in last_error()).
  // `result` may be null (the connection's message is used); `what` names the operation or SQL.
  Error Fail(const PGresult* result, std::string_view what);

 private:
  Result<QueryResult> Check(PGresult* result, std::string_view what);

  PGconn* conn_ = nullptr;
  std::unordered_set<std::string> prepared_;
  LastError last_error_;
};

// --- transactions ---

enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

// RAII transaction: Begin() starts it, the destructor rolls back unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& connection) : connection_(connection) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Status Begin(Isolation isolation = Isolation::kReadCommitted, bool read_only = false);
  Status Commit();

 private:
  Connection& connection_;
  bool open_ = false;
};

struct TransactionOptions {
  Isolation isolation = Isolation::kReadCommitted;
  bool read_only = false;
  int max_attempts = 5;  // in all, counting the first; 1 = never run again
};

// True for the SQLSTATEs after which running the whole transaction again may succeed
// (serialization_failure 40001, deadlock_detected 40P01).
bool IsRetryable(std::string_view sqlstate);

// Runs `body` inside a transaction and commits. When `body` or the commit fails with a retryable
// SQLSTATE (IsRetryable, read from the connection's last_error()), the transaction is rolled back
// and run again after a short randomised pause, at most options.max_attempts times in all; the
// last failure is returned. Any other failure rolls back and is returned at once. `body` must
// have no effects outside the transaction, since it may run more than once.
Status RunInTransaction(Connection& connection, const TransactionOptions& options,
                        const std::function<Status()>& body);

// --- connection pool ---

// Up to `max_connections` connections to one server, opened when needed and kept for reuse.
// Acquire() hands out an idle connection, opens a new one while below the limit, or waits up to
// `wait` for one to come back (then kInternal). A connection comes back when its Lease ends: one
// left inside a transaction is rolled back, one that is lost or cannot be rolled back is closed
// (and a fresh one opened on a later Acquire). Thread-safe; every Lease must end before the pool.
class ConnectionPool {
 public:
  ConnectionPool(std::string conninfo, size_t max_connections,
                 std::chrono::milliseconds wait = std::chrono::seconds(30));
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

   private:
    friend class ConnectionPool;
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    ConnectionPool* pool_ = nullptr;
    std::unique_ptr<Connection> connection_;
  };

  Result<Lease> Acquire();
  size_t open_connections() const;

 private:
  void Release(std::unique_ptr<Connection> connection);

  const std::string conninfo_;
  const size_t max_connections_;
  const std::chrono::milliseconds wait_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  size_t open_ = 0;  // idle + leased + being opened
};

// --- COPY FROM STDIN ---

enum class CopyFormat { kText, kBinary };

// Streams rows to `COPY table(columns) FROM STDIN` in text or binary format, buffered and sent in
// pieces of about 1 MB. For kBinary the file header and trailer are written here and rows are
// built with BeginRow and one call per field; for kText the caller passes the data (rows ending
// in '\n', fields separated by '\t', values escaped as COPY's text format demands). A failure
// while sending is remembered and returned by Finish(); the server's verdict (constraint
// violations included, with their SQLSTATE on the connection) arrives at Finish(). A CopyIn that
// is destroyed unfinished aborts the COPY (the command then fails: roll the transaction back).
class CopyIn {
 public:
  // Sends `copy_sql` (a COPY ... FROM STDIN matching `format`) and enters COPY mode.
  static Result<CopyIn> Start(Connection& connection, const char* copy_sql, CopyFormat format);
  CopyIn(CopyIn&& other) noexcept;
  CopyIn& operator=(CopyIn&&) = delete;
  CopyIn(const CopyIn&) = delete;
  CopyIn& operator=(const CopyIn&) = delete;
  ~CopyIn();

  // kBinary rows: BeginRow(number of fields), then exactly that many field calls.
  void BeginRow(int16_t fields);
  void Int64(int64_t value);
  void Int32(int32_t value);
  void Int16(int16_t value);
  void Bytes(std::string_view bytes);  // bytea or text
  void Null();
  // kText data.
  void Text(std::string_view data);

  // Sends the rest, ends the COPY and returns the number of rows the server stored.
  Result<int64_t> Finish();

 private:
  CopyIn(Connection& connection, CopyFormat format) : connection_(&connection), format_(format) {}
  void Append(const void* data, size_t size);
  void Flush(bool force);

  Connection* connection_ = nullptr;
  CopyFormat format_ = CopyFormat::kText;
  std::string buffer_;
  std::string send_error_;  // libpq's message of the first failed send
  bool active_ = false;
};

// --- schema migrations ---

// Brings the connected database's schema to the newest version: `migrations[i]` takes it from
// version i to i + 1 and the version is kept in table `version_table` (schema_version, as the
// SQLite stores do; a store with tables of its own in the same database, like the mottak store,
// keeps its migrations apart with a table of its own).
// Everything runs in one transaction holding the transaction-scoped advisory lock `lock_key`, so
// concurrent start-ups of several nodes migrate once: the others wait for the lock and then find
// the schema current. A failed step leaves the schema as it was. kInternal when the database is
// newer than `migrations` (the message names `what`, e.g. "registeret") or a step fails.
// `version_table` names the version table, so that parts of norreg sharing one database (the
// register, the authorisation server's state) migrate independently; a plain identifier.
Status RunMigrations(Connection& connection, std::span<const char* const> migrations,
                     std::string_view what, int64_t lock_key,
                     std::string_view version_table = "schema_version");

}  // namespace norreg::store::pg
