#include "store/postgres/pg.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <climits>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

namespace norreg::store::pg {
namespace {

constexpr const char* kInternalMessage = "Feil i tjenesten. Vennligst prøv igjen senere.";
constexpr size_t kCopyChunk = size_t{1} << 20;

void PutBigEndian(char* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

uint64_t GetBigEndian(const char* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

std::string Trimmed(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Server notices ("relation already exists, skipping", ...) are not errors: debug log only.
void OnNotice(void*, const char* message) { spdlog::debug("postgres: {}", Trimmed(message)); }

}  // namespace

// --- Params ---

Params& Params::Add(Type type, const char* data, int length) {
  if (n_ == kMax) throw std::length_error("pg::Params: more than kMax parameters");
  types_[static_cast<size_t>(n_)] = static_cast<Oid>(type);
  values_[static_cast<size_t>(n_)] = data;
  lengths_[static_cast<size_t>(n_)] = length;
  formats_[static_cast<size_t>(n_)] = 1;
  ++n_;
  return *this;
}

char* Params::Scalar(Type type, int length) {
  if (n_ == kMax) throw std::length_error("pg::Params: more than kMax parameters");
  char* slot = scalars_[static_cast<size_t>(n_)].data();
  Add(type, slot, length);
  return slot;
}

Params& Params::Int64(int64_t value) {
  PutBigEndian(Scalar(Type::kInt8, 8), static_cast<uint64_t>(value), 8);
  return *this;
}

Params& Params::Int32(int32_t value) {
  PutBigEndian(Scalar(Type::kInt4, 4), static_cast<uint32_t>(value), 4);
  return *this;
}

Params& Params::Int16(int16_t value) {
  PutBigEndian(Scalar(Type::kInt2, 2), static_cast<uint16_t>(value), 2);
  return *this;
}

Params& Params::Bool(bool value) {
  *Scalar(Type::kBool, 1) = value ? 1 : 0;
  return *this;
}

Params& Params::Bytes(std::string_view bytes) {
  // libpq reads nothing through a null pointer of a non-null value: give empty values an address.
  return Add(Type::kBytea, bytes.data() != nullptr ? bytes.data() : "",
             static_cast<int>(bytes.size()));
}

Params& Params::Text(std::string_view text) {
  return Add(Type::kText, text.data() != nullptr ? text.data() : "", static_cast<int>(text.size()));
}

Params& Params::Int64Array(std::string_view encoded) {
  return Add(Type::kInt8Array, encoded.data(), static_cast<int>(encoded.size()));
}

Params& Params::Null(Type type) { return Add(type, nullptr, 0); }

Params& Params::Int32Array(std::string_view encoded) {
  return Add(Type::kInt4Array, encoded.data(), static_cast<int>(encoded.size()));
}

namespace {

// array_send's layout of a one-dimensional array without NULLs: dimensions, has-NULLs flag,
// element type; then size and lower bound of the dimension, then each element as its length and
// bytes. An empty array has no dimension.
template <typename T>
std::string EncodeArray(std::span<const T> values, Type element) {
  const size_t header = values.empty() ? 12 : 20;
  std::string out(header + (4 + sizeof(T)) * values.size(), '\0');
  char* p = out.data();
  PutBigEndian(p, values.empty() ? 0 : 1, 4);
  PutBigEndian(p + 4, 0, 4);
  PutBigEndian(p + 8, static_cast<uint32_t>(element), 4);
  if (values.empty()) return out;
  PutBigEndian(p + 12, static_cast<uint32_t>(values.size()), 4);
  PutBigEndian(p + 16, 1, 4);
  p += 20;
  for (T v : values) {
    PutBigEndian(p, sizeof(T), 4);
    PutBigEndian(p + 4, static_cast<std::make_unsigned_t<T>>(v), sizeof(T));
    p += 4 + sizeof(T);
  }
  return out;
}

}  // namespace

std::string EncodeInt64Array(std::span<const int64_t> values) {
  return EncodeArray(values, Type::kInt8);
}

std::string EncodeInt32Array(std::span<const int32_t> values) {
  return EncodeArray(values, Type::kInt4);
}

// --- QueryResult ---

QueryResult::QueryResult(QueryResult&& other) noexcept
    : result_(std::exchange(other.result_, nullptr)) {}

QueryResult& QueryResult::operator=(QueryResult&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = std::exchange(other.result_, nullptr);
  }
  return *this;
}

QueryResult::~QueryResult() { PQclear(result_); }

int64_t QueryResult::Int64(int row, int column) const {
  if (IsNull(row, column)) return 0;
  const char* value = PQgetvalue(result_, row, column);
  const int length = PQgetlength(result_, row, column);
  if (PQfformat(result_, column) == 1) {
    switch (length) {
      case 2:
        return static_cast<int16_t>(GetBigEndian(value, 2));
      case 4:
        return static_cast<int32_t>(GetBigEndian(value, 4));
      case 8:
        return static_cast<int64_t>(GetBigEndian(value, 8));
      default:
        return 0;
    }
  }
  int64_t parsed = 0;
  std::from_chars(value, value + length, parsed);
  return parsed;
}

bool QueryResult::Bool(int row, int column) const {
  if (IsNull(row, column)) return false;
  const char* value = PQgetvalue(result_, row, column);
  return PQfformat(result_, column) == 1 ? value[0] != 0 : value[0] == 't';
}

std::string_view QueryResult::Bytes(int row, int column) const {
  return {PQgetvalue(result_, row, column), static_cast<size_t>(PQgetlength(result_, row, column))};
}

int64_t QueryResult::affected() const {
  const char* tuples = result_ != nullptr ? PQcmdTuples(result_) : "";
  int64_t count = 0;
  std::from_chars(tuples, tuples + std::strlen(tuples), count);
  return count;
}

// --- Connection ---

Result<Connection> Connection::Open(const std::string& conninfo) {
  Connection c;
  c.conn_ = PQconnectdb(conninfo.c_str());
  if (c.conn_ == nullptr) {
    return MakeError(ErrorCode::kInternal, kInternalMessage, "postgres connect: out of memory");
  }
  if (PQstatus(c.conn_) != CONNECTION_OK) {
    return MakeError(ErrorCode::kInternal, kInternalMessage,
                     "postgres connect: " + Trimmed(PQerrorMessage(c.conn_)));
  }
  PQsetNoticeProcessor(c.conn_, OnNotice, nullptr);
  if (PQsetClientEncoding(c.conn_, "UTF8") != 0) {
    return MakeError(ErrorCode::kInternal, kInternalMessage,
                     "postgres client_encoding UTF8: " + Trimmed(PQerrorMessage(c.conn_)));
  }
  return c;
}

Connection::Connection(Connection&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)),
      prepared_(std::move(other.prepared_)),
      last_error_(std::move(other.last_error_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = std::exchange(other.conn_, nullptr);
    prepared_ = std::move(other.prepared_);
    last_error_ = std::move(other.last_error_);
  }
  return *this;
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Error Connection::Fail(const PGresult* result, std::string_view what) {
  last_error_ = {};
  std::string message;
  if (result != nullptr) {
    if (const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE)) {
      last_error_.sqlstate = state;
    }
    if (const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME)) {
      last_error_.constraint = constraint;
    }
    message = Trimmed(PQresultErrorMessage(result));
  }
  if (message.empty() && conn_ != nullptr) message = Trimmed(PQerrorMessage(conn_));
  std::string detail = "postgres: " + message;
  if (!last_error_.sqlstate.empty()) detail += " (SQLSTATE " + last_error_.sqlstate + ")";
  detail += " in: ";
  detail += what;
  return MakeError(ErrorCode::kInternal, kInternalMessage, std::move(detail));
}

Result<QueryResult> Connection::Check(PGresult* raw, std::string_view what) {
  QueryResult result(raw);
  if (raw == nullptr) return Fail(nullptr, what);
  const ExecStatusType status = PQresultStatus(raw);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Fail(raw, what);
  return result;
}

Status Connection::Exec(std::string_view sql) {
  const std::string text(sql);
  auto result = Check(PQexec(conn_, text.c_str()), text);
  return result.ok() ? Status::Ok() : Status(result.error());
}

Result<QueryResult> Connection::Query(const char* sql, const Params& params) {
  return Check(PQexecParams(conn_, sql, params.size(), params.types(), params.values(),
                            params.lengths(), params.formats(), 1),
               sql);
}

Result<QueryResult> Connection::Execute(const Statement& statement, const Params& params) {
  if (!prepared_.contains(statement.name)) {
    auto prepared =
        Check(PQprepare(conn_, statement.name, statement.sql, params.size(), params.types()),
              statement.sql);
    if (!prepared.ok()) return prepared.error();
    // Prepared statements belong to the session, not to the transaction: a later rollback keeps
    // them.
    prepared_.insert(statement.name);
  }
  return Check(PQexecPrepared(conn_, statement.name, params.size(), params.values(),
                              params.lengths(), params.formats(), 1),
               statement.sql);
}

// --- transactions ---

Transaction::~Transaction() {
  if (open_) (void)connection_.Exec("ROLLBACK");
}

Status Transaction::Begin(Isolation isolation, bool read_only) {
  std::string sql = "BEGIN ISOLATION LEVEL ";
  switch (isolation) {
    case Isolation::kReadCommitted:
      sql += "READ COMMITTED";
      break;
    case Isolation::kRepeatableRead:
      sql += "REPEATABLE READ";
      break;
    case Isolation::kSerializable:
      sql += "SERIALIZABLE";
      break;
  }
  if (read_only) sql += " READ ONLY";
  Status s = connection_.Exec(sql);
  open_ = s.ok();
  return s;
}

Status Transaction::Commit() {
  // COMMIT of a transaction that already failed "succeeds" as a ROLLBACK: refuse it here.
  if (connection_.transaction_status() == PQTRANS_INERROR) {
    return MakeError(ErrorCode::kInternal, kInternalMessage,
                     "postgres: commit of a failed transaction");
  }
  QueryResult result(PQexec(connection_.handle(), "COMMIT"));
  if (result.get() == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    open_ = connection_.transaction_status() != PQTRANS_IDLE;
    return connection_.Fail(result.get(), "COMMIT");
  }
  open_ = false;
  if (std::string_view(PQcmdStatus(result.get())) != "COMMIT") {
    return MakeError(ErrorCode::kInternal, kInternalMessage,
                     std::string("postgres: COMMIT ended as ") + PQcmdStatus(result.get()));
  }
  return Status::Ok();
}

bool IsRetryable(std::string_view sqlstate) {
  return sqlstate == kSerializationFailure || sqlstate == kDeadlockDetected;
}

Status RunInTransaction(Connection& connection, const TransactionOptions& options,
                        const std::function<Status()>& body) {
  const int attempts = std::max(1, options.max_attempts);
  for (int attempt = 1;; ++attempt) {
    connection.ClearLastError();
    Status s;
    std::string sqlstate;
    {
      Transaction tx(connection);
      s = tx.Begin(options.isolation, options.read_only);
      if (s.ok()) s = body();
      if (s.ok()) s = tx.Commit();
      sqlstate = connection.last_error().sqlstate;  // before the rollback can overwrite it
    }
    if (s.ok() || attempt >= attempts || !IsRetryable(sqlstate)) return s;
    // The transactions that collided would likely collide again at once: wait a little, longer
    // after each attempt, at random so that they do not meet again.
    thread_local std::minstd_rand rng(std::random_device{}());
    std::uniform_int_distribution<int> pause_ms(1, 5 * attempt);
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    spdlog::debug("postgres: transaction attempt {} failed with SQLSTATE {}, running it again",
                  attempt, sqlstate);
  }
}

// --- ConnectionPool ---

ConnectionPool::ConnectionPool(std::string conninfo, size_t max_connections,
                               std::chrono::milliseconds wait)
    : conninfo_(std::move(conninfo)),
      max_connections_(std::max<size_t>(1, max_connections)),
      wait_(wait) {}

ConnectionPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}

ConnectionPool::Lease& ConnectionPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    if (pool_ != nullptr && connection_) pool_->Release(std::move(connection_));
    pool_ = std::exchange(other.pool_, nullptr);
    connection_ = std::move(other.connection_);
  }
  return *this;
}

ConnectionPool::Lease::~Lease() {
  if (pool_ != nullptr && connection_) pool_->Release(std::move(connection_));
}

Result<ConnectionPool::Lease> ConnectionPool::Acquire() {
  {
    std::unique_lock lock(mutex_);
    if (!returned_.wait_for(lock, wait_,
                            [&] { return !idle_.empty() || open_ < max_connections_; })) {
      return MakeError(ErrorCode::kInternal, kInternalMessage,
                       "postgres pool: no free connection within " + std::to_string(wait_.count()) +
                           " ms (" + std::to_string(max_connections_) + " in use)");
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
    ++open_;  // reserved while connecting, outside the lock
  }
  auto opened = Connection::Open(conninfo_);
  if (!opened.ok()) {
    std::lock_guard lock(mutex_);
    --open_;
    returned_.notify_one();
    return opened.error();
  }
  return Lease(this, std::make_unique<Connection>(std::move(opened).value()));
}

void ConnectionPool::Release(std::unique_ptr<Connection> connection) {
  if (connection->healthy() && connection->transaction_status() != PQTRANS_IDLE) {
    (void)connection->Exec("ROLLBACK");
  }
  const bool keep = connection->healthy() && connection->transaction_status() == PQTRANS_IDLE;
  if (!keep) connection.reset();  // closed outside the lock
  std::lock_guard lock(mutex_);
  if (keep) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;
  }
  returned_.notify_one();
}

size_t ConnectionPool::open_connections() const {
  std::lock_guard lock(mutex_);
  return open_;
}

// --- CopyIn ---

Result<CopyIn> CopyIn::Start(Connection& connection, const char* copy_sql, CopyFormat format) {
  QueryResult result(PQexec(connection.handle(), copy_sql));
  if (result.get() == nullptr || PQresultStatus(result.get()) != PGRES_COPY_IN) {
    return connection.Fail(result.get(), copy_sql);
  }
  CopyIn copy(connection, format);
  copy.active_ = true;
  copy.buffer_.reserve(kCopyChunk + 64 * 1024);
  if (format == CopyFormat::kBinary) {
    // Signature, flags (no OIDs), header extension length.
    static constexpr char kHeader[19] = {'P',  'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n',
                                         '\0', 0,   0,   0,   0,   0,   0,    0,      0};
    copy.Append(kHeader, sizeof kHeader);
  }
  return copy;
}

CopyIn::CopyIn(CopyIn&& other) noexcept
    : connection_(other.connection_),
      format_(other.format_),
      buffer_(std::move(other.buffer_)),
      send_error_(std::move(other.send_error_)),
      active_(std::exchange(other.active_, false)) {}

CopyIn::~CopyIn() {
  if (!active_) return;
  PGconn* conn = connection_->handle();
  if (PQputCopyEnd(conn, "COPY abandoned by the client") == 1) {
    while (PGresult* r = PQgetResult(conn)) PQclear(r);
  }
}

void CopyIn::Append(const void* data, size_t size) {
  buffer_.append(static_cast<const char*>(data), size);
  if (buffer_.size() >= kCopyChunk) Flush(false);
}

void CopyIn::Flush(bool force) {
  if (!send_error_.empty()) {
    buffer_.clear();
    return;
  }
  if (buffer_.empty() || (!force && buffer_.size() < kCopyChunk)) return;
  // A blocking connection: PQputCopyData returns 1 once the data is queued, -1 on failure.
  size_t sent = 0;
  while (sent < buffer_.size()) {
    const size_t piece = std::min(buffer_.size() - sent, size_t{INT_MAX});
    if (PQputCopyData(connection_->handle(), buffer_.data() + sent, static_cast<int>(piece)) != 1) {
      send_error_ = Trimmed(PQerrorMessage(connection_->handle()));
      if (send_error_.empty()) send_error_ = "PQputCopyData failed";
      break;
    }
    sent += piece;
  }
  buffer_.clear();
}

void CopyIn::BeginRow(int16_t fields) {
  char out[2];
  PutBigEndian(out, static_cast<uint16_t>(fields), 2);
  Append(out, 2);
}

void CopyIn::Int64(int64_t value) {
  char out[12];
  PutBigEndian(out, 8, 4);
  PutBigEndian(out + 4, static_cast<uint64_t>(value), 8);
  Append(out, sizeof out);
}

void CopyIn::Int32(int32_t value) {
  char out[8];
  PutBigEndian(out, 4, 4);
  PutBigEndian(out + 4, static_cast<uint32_t>(value), 4);
  Append(out, sizeof out);
}

void CopyIn::Int16(int16_t value) {
  char out[6];
  PutBigEndian(out, 2, 4);
  PutBigEndian(out + 4, static_cast<uint16_t>(value), 2);
  Append(out, sizeof out);
}

void CopyIn::Bytes(std::string_view bytes) {
  char out[4];
  PutBigEndian(out, static_cast<uint32_t>(bytes.size()), 4);
  Append(out, sizeof out);
  Append(bytes.data(), bytes.size());
}

void CopyIn::Null() {
  static constexpr char kNull[4] = {'\377', '\377', '\377', '\377'};  // length -1
  Append(kNull, sizeof kNull);
}

void CopyIn::Text(std::string_view data) { Append(data.data(), data.size()); }

Result<int64_t> CopyIn::Finish() {
  if (!active_) {
    return MakeError(ErrorCode::kInternal, kInternalMessage, "postgres: COPY already finished");
  }
  if (format_ == CopyFormat::kBinary) {
    static constexpr char kTrailer[2] = {'\377', '\377'};  // field count -1
    Append(kTrailer, sizeof kTrailer);
  }
  Flush(true);
  active_ = false;
  PGconn* conn = connection_->handle();
  const bool failed_to_send = !send_error_.empty();
  if (PQputCopyEnd(conn, failed_to_send ? "client failed to send COPY data" : nullptr) != 1) {
    return connection_->Fail(nullptr, "COPY end");
  }
  QueryResult result(PQgetResult(conn));
  while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
  if (result.get() == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    Error e = connection_->Fail(result.get(), "COPY");
    if (failed_to_send) e.detail += " (sending: " + send_error_ + ")";
    return e;
  }
  if (failed_to_send) {
    return MakeError(ErrorCode::kInternal, kInternalMessage, "postgres COPY: " + send_error_);
  }
  return result.affected();
}

// --- migrations ---

Status RunMigrations(Connection& connection, std::span<const char* const> migrations,
                     std::string_view what, int64_t lock_key, std::string_view version_table) {
  const std::string table(version_table);
  // The transaction-scoped lock is released by COMMIT or ROLLBACK, and by the server if this
  // process dies: a failed start-up can never leave it held.
  Transaction tx(connection);
  if (Status s = tx.Begin(); !s.ok()) return s;
  if (auto locked = connection.Query("SELECT pg_advisory_xact_lock($1)", Params().Int64(lock_key));
      !locked.ok()) {
    return locked.error();
  }
  if (Status s =
          connection.Exec("CREATE TABLE IF NOT EXISTS " + table + "(version integer NOT NULL)");
      !s.ok()) {
    return s;
  }
  const std::string select = "SELECT version FROM " + table;
  auto current = connection.Query(select.c_str());
  if (!current.ok()) return current.error();
  int64_t version = current->rows() > 0 ? current->Int64(0, 0) : -1;
  const auto known = static_cast<int64_t>(migrations.size());
  if (version > known) {
    return MakeError(ErrorCode::kInternal, std::string(what) +
                                               " er laget av en nyere norreg (skjemaversjon " +
                                               std::to_string(version) + ")");
  }
  if (version == known) return tx.Commit();
  if (version < 0) {
    if (Status s = connection.Exec("INSERT INTO " + table + " VALUES(0)"); !s.ok()) return s;
    version = 0;
  }
  for (int64_t v = version; v < known; ++v) {
    if (Status s = connection.Exec(migrations[static_cast<size_t>(v)]); !s.ok()) return s;
  }
  if (Status s = connection.Exec("UPDATE " + table + " SET version=" + std::to_string(known));
      !s.ok()) {
    return s;
  }
  return tx.Commit();
}

}  // namespace norreg::store::pg
