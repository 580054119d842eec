#include "client/uttrekk.hpp"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "auth/jwt.hpp"
#include "client/local_copy.hpp"
#include "common/compress.hpp"
#include "common/files.hpp"

namespace norreg::client {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Error Cancelled() { return MakeError(ErrorCode::kInternal, "cancelled"); }

std::string_view TrimJson(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// A string token's content (ids never hold escapes); the token as is when it is not a string.
std::string_view StringToken(std::string_view token) {
  token = TrimJson(token);
  if (token.size() >= 2 && token.front() == '"' && token.back() == '"') {
    token = token.substr(1, token.size() - 2);
  }
  return token;
}

Error Malformed(std::string_view what, simdjson::error_code code) {
  return MakeError(ErrorCode::kInternal,
                   std::string(what) + ": malformed JSON: " + simdjson::error_message(code));
}

uint64_t Fnv1a(std::string_view text) {
  uint64_t hash = 1469598103934665603ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::minstd_rand& Random() {
  thread_local std::minstd_rand random(static_cast<unsigned>(
      std::random_device{}() ^ std::hash<std::thread::id>{}(std::this_thread::get_id())));
  return random;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Tokens

TokenSource TokenSourceFor(TokenClient& client, std::string scope, std::string org) {
  TokenSource source;
  source.get = [&client, scope, org] { return client.Token(scope, org); };
  source.invalidate = [&client, scope, org] { client.Invalidate(scope, org); };
  return source;
}

TokenSource StaticTokenSource(std::string token) {
  TokenSource source;
  source.get = [token]() -> Result<std::string> { return token; };
  return source;
}

Result<TokenClientOptions> ConsumerTokenOptions(const ConsumerAuthFlags& flags,
                                                std::string_view scope, std::string_view base_url) {
  if (flags.client_id.empty()) {
    auto options = DemoTokenClientOptions(flags.data_dir, scope, flags.org, "");
    if (!options.ok() && options.error().code == ErrorCode::kNotFound && !base_url.empty()) {
      // No server.json: the built-in authorisation server answers on the API's own root.
      auto with_url = DemoTokenClientOptions(flags.data_dir, scope, flags.org, base_url);
      if (with_url.ok()) return with_url;
    }
    return options;
  }
  if (flags.key_file.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "--client-id needs --key");
  }
  auto pem = ReadWholeFile(flags.key_file);
  if (!pem.ok())
    return MakeError(ErrorCode::kInvalidInput, "cannot read key file " + flags.key_file);
  auto key = auth::RsaKey::FromPem(*pem);
  if (!key.ok()) {
    return MakeError(ErrorCode::kInvalidInput, flags.key_file + ": " + key.error().message);
  }
  if (!key->has_private()) {
    return MakeError(ErrorCode::kInvalidInput, flags.key_file + " holds no private key");
  }
  TokenClientOptions options;
  options.issuer = flags.issuer.empty() ? std::string(base_url) : flags.issuer;
  if (!options.issuer.ends_with('/')) options.issuer += '/';
  options.client_id = flags.client_id;
  options.kid = flags.kid.empty() ? key->Thumbprint() : flags.kid;
  options.key = std::move(*key);
  options.consumer_org = flags.org;
  return options;
}

// ---------------------------------------------------------------------------------------------
// ApiCaller

const ApiDialect kFregDialect{kFregApiPath, "application/json", &ErrorForAnswer, nullptr};

ApiCaller::ApiCaller(std::string base_url, const ApiDialect& dialect, const TokenSource& tokens,
                     RetryPolicy retry, HttpClientOptions http, CallStats* stats,
                     const std::atomic<bool>* cancel, std::string_view path)
    : api_root_(std::move(base_url)),
      dialect_(dialect),
      tokens_(tokens),
      retry_(retry),
      http_(std::move(http)),
      stats_(stats),
      cancel_(cancel) {
  while (api_root_.ends_with('/')) api_root_.pop_back();
  api_root_ += path.empty() ? dialect.path : path;
}

std::string ApiCaller::Url(std::string_view path) const {
  while (path.starts_with('/')) path.remove_prefix(1);
  std::string url = api_root_;
  url += path;
  return url;
}

bool ApiCaller::cancelled() const {
  return cancel_ != nullptr && cancel_->load(std::memory_order_relaxed);
}

bool ApiCaller::SleepFor(milliseconds duration) {
  const auto until = Clock::now() + duration;
  while (!cancelled()) {
    auto now = Clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, milliseconds(20)));
  }
  return false;
}

milliseconds ApiCaller::Backoff(int retry) {
  int64_t d = retry_.initial_backoff.count();
  for (int i = 1; i < retry && d < retry_.max_backoff.count(); ++i) d *= 2;
  d = std::min<int64_t>(d, retry_.max_backoff.count());
  std::uniform_int_distribution<int64_t> jitter(d / 2, std::max<int64_t>(d, 1));
  return milliseconds(jitter(Random()));
}

Result<HttpResponse> ApiCaller::Call(std::string_view method, std::string_view path,
                                     std::string_view body, const HttpHeaders& extra) {
  const std::string url = Url(path);
  bool refreshed = false;
  int attempts = 0;
  HttpHeaders headers;
  while (true) {
    if (cancelled()) return Cancelled();
    headers = extra;
    if (!dialect_.accept.empty()) headers.emplace_back("Accept", std::string(dialect_.accept));
    Error failure;
    milliseconds wait{0};
    bool have_token = true;
    if (tokens_.get) {
      auto token = tokens_.get();
      if (!token.ok()) {
        if (!IsTransportError(token.error()) && token.error().code != ErrorCode::kRateLimited) {
          return token.error();
        }
        failure = token.error();
        have_token = false;
      } else {
        headers.emplace_back("Authorization", "Bearer " + *token);
      }
    }
    if (have_token) {
      if (stats_ != nullptr) ++stats_->requests;
      auto response = http_.Request(method, url, body, headers);
      if (!response.ok()) {
        if (!IsTransportError(response.error())) return response.error();
        failure = std::move(response.error());
      } else if (response->status == 401 && !refreshed && tokens_.invalidate) {
        // The token may have been revoked or expired early: one more try with a fresh one.
        tokens_.invalidate();
        refreshed = true;
        if (stats_ != nullptr) ++stats_->token_refreshes;
        continue;
      } else if (response->status == 429) {
        failure = dialect_.error_for(std::string(method) + " " + std::string(path), *response);
        if (auto after = response->Header("retry-after")) {
          int64_t ms = 0;
          auto [end, ec] = std::from_chars(after->data(), after->data() + after->size(), ms);
          if (ec == std::errc() && ms >= 0) {
            wait = std::min(milliseconds(ms), retry_.max_retry_after);
          }
        }
      } else if ((response->status == 500 || response->status == 502 || response->status == 503 ||
                  response->status == 504) &&
                 (dialect_.is_answer == nullptr || !dialect_.is_answer(*response))) {
        failure = dialect_.error_for(std::string(method) + " " + std::string(path), *response);
      } else {
        return std::move(*response);
      }
    }
    ++attempts;
    if (attempts >= retry_.max_attempts) {
      failure.message += " (after " + std::to_string(attempts) + " attempts)";
      return failure;
    }
    if (wait.count() == 0) wait = Backoff(attempts);
    if (stats_ != nullptr) ++stats_->retries;
    if (!SleepFor(wait)) return Cancelled();
  }
}

ErrorCode ErrorCodeForStatus(long status) {
  switch (status) {
    case 400:
      return ErrorCode::kInvalidInput;
    case 401:
      return ErrorCode::kUnauthenticated;
    case 403:
      return ErrorCode::kForbidden;
    case 404:
      return ErrorCode::kNotFound;
    case 406:
      return ErrorCode::kNotAcceptable;
    case 410:
      return ErrorCode::kGone;
    case 413:
      return ErrorCode::kTooLarge;
    case 415:
      return ErrorCode::kUnsupportedMedia;
    case 429:
      return ErrorCode::kRateLimited;
    default:
      return ErrorCode::kInternal;
  }
}

Error ErrorForAnswer(std::string_view what, const HttpResponse& response) {
  const ErrorCode code = ErrorCodeForStatus(response.status);
  std::string message = std::string(what) + " answered HTTP " + std::to_string(response.status);
  // The API's error body {kode, melding}; anything else is left out of the message.
  simdjson::padded_string padded(response.body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (!parser.iterate(padded).get(doc) && !doc.get_object().get(object)) {
    std::string kode;
    std::string melding;
    for (auto field : object) {
      std::string_view key;
      std::string_view value;
      if (field.unescaped_key().get(key)) break;
      if (key == "kode" && !field.value().get_string().get(value)) kode = value;
      if (key == "melding" && !field.value().get_string().get(value)) melding = value;
    }
    if (!kode.empty() || !melding.empty()) message += ": " + kode + " " + melding;
  }
  return MakeError(code, std::move(message));
}

// ---------------------------------------------------------------------------------------------
// Parsing

Result<std::vector<BulkPerson>> ParseBulkAnswer(std::string& body) {
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  auto error = parser.iterate(body.data(), body.size(), body.capacity()).get(doc);
  if (!error) error = doc.get_object().get(root);
  if (error) return Malformed("bulk lookup answer", error);
  std::vector<BulkPerson> persons;
  for (auto field : root) {
    std::string_view key;
    if ((error = field.unescaped_key().get(key))) return Malformed("bulk lookup answer", error);
    if (key != "oppslag") continue;
    simdjson::ondemand::array items;
    if ((error = field.value().get_array().get(items))) {
      return Malformed("bulk lookup answer", error);
    }
    for (auto item_result : items) {
      simdjson::ondemand::object item;
      if ((error = item_result.get_object().get(item))) {
        return Malformed("bulk lookup item", error);
      }
      BulkPerson person;
      for (auto item_field : item) {
        std::string_view name;
        if ((error = item_field.unescaped_key().get(name))) {
          return Malformed("bulk lookup item", error);
        }
        if (name == "folkeregisterperson") {
          simdjson::ondemand::object document;
          std::string_view raw;
          error = item_field.value().get_object().get(document);
          if (!error) error = document.raw_json().get(raw);
          if (error) return Malformed("folkeregisterperson", error);
          person.document = TrimJson(raw);
        } else if (name == "dokumentidentifikator" || name == "foedselsEllerDNummer") {
          std::string_view token;
          if ((error = item_field.value().raw_json_token().get(token))) {
            return Malformed("bulk lookup item", error);
          }
          person.key = StringToken(token);
        }
      }
      if (!person.document.empty()) persons.push_back(person);
    }
  }
  return persons;
}

Result<PersonNumbers> ParsePersonNumbers(std::string_view document, size_t padded_capacity) {
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object root;
  auto error = parser.iterate(document.data(), document.size(), padded_capacity).get(doc);
  if (!error) error = doc.get_object().get(root);
  if (error) return Malformed("folkeregisterperson", error);
  PersonNumbers numbers;
  for (auto field : root) {
    std::string_view key;
    if ((error = field.unescaped_key().get(key))) return Malformed("folkeregisterperson", error);
    if (key != "identifikasjonsnummer") continue;
    simdjson::ondemand::array rows;
    if ((error = field.value().get_array().get(rows))) {
      return Malformed("identifikasjonsnummer", error);
    }
    for (auto row_result : rows) {
      simdjson::ondemand::object row;
      if ((error = row_result.get_object().get(row))) {
        return Malformed("identifikasjonsnummer", error);
      }
      std::string number;
      bool current = false;
      for (auto row_field : row) {
        std::string_view name;
        if ((error = row_field.unescaped_key().get(name))) {
          return Malformed("identifikasjonsnummer", error);
        }
        if (name == "foedselsEllerDNummer") {
          std::string_view value;
          if ((error = row_field.value().get_string().get(value))) {
            return Malformed("foedselsEllerDNummer", error);
          }
          number = value;
        } else if (name == "erGjeldende") {
          if ((error = row_field.value().get_bool().get(current))) {
            return Malformed("erGjeldende", error);
          }
        }
      }
      if (number.empty()) continue;
      if (current && numbers.current.empty()) numbers.current = number;
      if (std::find(numbers.all.begin(), numbers.all.end(), number) == numbers.all.end()) {
        numbers.all.push_back(std::move(number));
      }
    }
    break;  // the rest of the document (already checked whole by the bulk answer's parse) is
            // not needed: skipping it costs as much as reading the numbers
  }
  if (numbers.current.empty() && !numbers.all.empty()) numbers.current = numbers.all.front();
  return numbers;
}

Result<int64_t> LatestSekvensnummer(FregCaller& caller) {
  auto response = caller.Call("GET", "hendelser/siste/sekvensnummer");
  if (!response.ok()) return response.error();
  if (response->status != 200) {
    return ErrorForAnswer("GET hendelser/siste/sekvensnummer", *response);
  }
  std::string_view text = TrimJson(response->body);
  int64_t seq = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (ec != std::errc() || end != text.data() + text.size() || seq < 0) {
    return MakeError(ErrorCode::kInternal,
                     "hendelser/siste/sekvensnummer: not a number: " + std::string(text));
  }
  return seq;
}

Result<std::string> IdListBody(std::string_view name, const std::vector<std::string>& ids,
                               size_t begin, size_t end) {
  std::string body;
  end = std::min(end, ids.size());
  body.reserve(name.size() + 8 + (end > begin ? (end - begin) * 36 : 0));
  body += "{\"";
  body += name;
  body += "\":[";
  for (size_t i = begin; i < end; ++i) {
    const std::string& id = ids[i];
    for (char c : id) {
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
        return MakeError(ErrorCode::kInvalidInput, "id with a character not allowed: " + id);
      }
    }
    if (i != begin) body += ',';
    body += '"';
    body += id;
    body += '"';
  }
  body += "]}";
  return body;
}

// ---------------------------------------------------------------------------------------------
// The extract

namespace {

// Where a run stands: saved after the output it covers was made durable (Pipeline::Sync).
struct Checkpoint {
  std::string jobb_id;
  std::string kind;  // "komplett" or "tilpasset-<hash of the criteria>"
  int64_t seq = 0;
  int64_t batch = 0;  // the next chunk to commit is (batch, chunk)
  int64_t chunk = 0;
  uint64_t bytes = 0;    // NDJSON length covered
  uint64_t persons = 0;  // persons written
  bool done = false;

  std::string Serialize() const {
    return "v1 " + jobb_id + " " + kind + " " + std::to_string(seq) + " " + std::to_string(batch) +
           " " + std::to_string(chunk) + " " + std::to_string(bytes) + " " +
           std::to_string(persons) + " " + (done ? "1" : "0");
  }
  static std::optional<Checkpoint> Parse(const std::string& text) {
    std::istringstream in(text);
    std::string version;
    Checkpoint c;
    int done = 0;
    if (!(in >> version >> c.jobb_id >> c.kind >> c.seq >> c.batch >> c.chunk >> c.bytes >>
          c.persons >> done) ||
        version != "v1") {
      return std::nullopt;
    }
    c.done = done != 0;
    return c;
  }
};

// The job a checkpoint belongs to: complete, or tailored with these criteria (through another
// access package than "offentlig med hjemmel": its path is part of the criteria's hash).
std::string KindOf(const UttrekkOptions& options) {
  if (!options.tilpasset) return "komplett";
  std::string identity(TrimJson(*options.tilpasset));
  if (options.api_path != kFregApiPath) identity += "\n" + options.api_path;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fnv1a(identity)));
  return std::string("tilpasset-") + hex;
}

Error IoError(std::string_view what, const std::string& path) {
  return MakeError(ErrorCode::kInternal, std::string(what) + " failed: " + std::strerror(errno),
                   path);
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("write", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

// One committed unit: the documents of one bulk lookup.
struct ChunkResult {
  uint64_t order = 0;
  int64_t batch = 0;
  int64_t chunk = 0;
  bool last_in_batch = false;
  uint64_t requested = 0;
  std::string lines;  // NDJSON lines of the documents
  struct Row {
    std::string fnr;
    size_t offset;
    size_t length;
    size_t packed_end = 0;  // end of the row's frame in `packed` (compressed ahead)
  };
  std::vector<Row> rows;  // for the local copy; views into `lines`
  // The rows' documents compressed by the worker with the copy's compressor at the time (none
  // when there was no compressor yet): the copy's writer then only writes.
  std::shared_ptr<const common::Zstd> compressor;
  std::string packed;
};

// The NDJSON file and/or the local copy, and the checkpoint.
class Output {
 public:
  Status Open(const UttrekkOptions& options) {
    if (!options.db_path.empty()) {
      auto copy = LocalCopy::Open(options.db_path, options.db_options);
      if (!copy.ok()) return copy.error();
      db_ = std::move(*copy);
      if (Status s = db_->BindApiPath(options.api_path, kFregApiPath); !s.ok()) return s;
    }
    if (!options.ndjson_path.empty()) {
      ndjson_path_ = options.ndjson_path;
      fd_ = ::open(ndjson_path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd_ < 0) return IoError("open", ndjson_path_);
      if (!db_) checkpoint_path_ = ndjson_path_ + ".checkpoint";
    }
    return {};
  }
  ~Output() {
    if (fd_ >= 0) ::close(fd_);
  }

  std::optional<Checkpoint> LoadCheckpoint() {
    if (db_) {
      auto text = db_->GetMeta(kMetaUttrekkCheckpoint);
      if (!text.ok() || !text->has_value()) return std::nullopt;
      return Checkpoint::Parse(**text);
    }
    std::ifstream in(checkpoint_path_);
    if (!in) return std::nullopt;
    std::string text;
    std::getline(in, text);
    return Checkpoint::Parse(text);
  }

  // Cuts the NDJSON back to what the checkpoint covers and positions at its end.
  Status Resume(const Checkpoint& checkpoint) {
    if (fd_ < 0) return {};
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return IoError("stat", ndjson_path_);
    if (static_cast<uint64_t>(st.st_size) < checkpoint.bytes) {
      return MakeError(ErrorCode::kInternal,
                       "NDJSON output is shorter than its checkpoint; remove it and the checkpoint "
                       "to start over",
                       ndjson_path_);
    }
    if (::ftruncate(fd_, static_cast<off_t>(checkpoint.bytes)) != 0) {
      return IoError("truncate", ndjson_path_);
    }
    if (::lseek(fd_, static_cast<off_t>(checkpoint.bytes), SEEK_SET) < 0) {
      return IoError("seek", ndjson_path_);
    }
    return {};
  }

  // Empties every output (a fresh extract).
  Status Reset() {
    if (fd_ >= 0) {
      if (::ftruncate(fd_, 0) != 0) return IoError("truncate", ndjson_path_);
      if (::lseek(fd_, 0, SEEK_SET) < 0) return IoError("seek", ndjson_path_);
    }
    if (db_) {
      if (Status s = db_->Clear(); !s.ok()) return s;
    }
    if (!checkpoint_path_.empty()) std::filesystem::remove(checkpoint_path_);
    return {};
  }

  // With the local copy: commits the rows appended since the last checkpoint together with this
  // one (so a crash loses both or neither).
  Status SaveCheckpoint(const Checkpoint& checkpoint) {
    if (!db_) return WriteCheckpointFile(checkpoint);
    if (!db_->in_transaction()) {
      if (Status s = db_->Begin(); !s.ok()) return s;
    }
    if (Status s = db_->SetMeta(kMetaUttrekkCheckpoint, checkpoint.Serialize()); !s.ok()) {
      db_->Rollback();
      return s;
    }
    return db_->Commit();
  }

  // Writes `result` (NDJSON lines, local-copy rows) and advances `next.bytes` over it. Durable,
  // and covered by the saved checkpoint, only after the next Sync: the local copy's rows go into
  // one transaction that the next checkpoint commits (a commit per chunk rewrote most of the
  // copy's fnr index every time: 1 000 random numbers touch ~1 000 of its pages). Rows written
  // again after a crash replace themselves, and the NDJSON is cut back to the checkpoint, so a
  // rerun from an older checkpoint still writes every person exactly once; so do the rows of a
  // chunk that failed half-way (the checkpoint committed later does not cover them).
  Status Append(const ChunkResult& result, Checkpoint& next, int64_t extract_seq) {
    if (fd_ >= 0) {
      if (Status s = WriteAll(fd_, result.lines, ndjson_path_); !s.ok()) return s;
      next.bytes += result.lines.size();
    }
    if (!db_) return {};
    if (!db_->in_transaction()) {
      if (Status s = db_->Begin(); !s.ok()) return s;
    }
    size_t packed_begin = 0;
    for (const auto& row : result.rows) {
      std::string_view document(result.lines.data() + row.offset, row.length);
      const Precompressed packed{
          result.compressor.get(),
          std::string_view(result.packed).substr(packed_begin, row.packed_end - packed_begin)};
      packed_begin = row.packed_end;
      if (Status s = db_->Put(row.fnr, document, extract_seq, packed); !s.ok()) return s;
    }
    std::lock_guard lock(compressor_mutex_);
    compressor_ = db_->compressor();
    return {};
  }

  // Makes everything appended durable, then saves `checkpoint` (which covers exactly that).
  Status Sync(const Checkpoint& checkpoint) {
    if (fd_ >= 0 && ::fdatasync(fd_) != 0) return IoError("fsync", ndjson_path_);
    return SaveCheckpoint(checkpoint);
  }

  // Records the finished extract's position for the feed follower.
  Status Finish(const Checkpoint& checkpoint) {
    if (!db_) return WriteCheckpointFile(checkpoint);
    if (!db_->in_transaction()) {
      if (Status s = db_->Begin(); !s.ok()) return s;
    }
    const std::string seq = std::to_string(checkpoint.seq);
    for (auto [key, value] :
         {std::pair{kMetaUttrekkCheckpoint, checkpoint.Serialize()},
          std::pair{kMetaUttrekkSekvensnummer, seq}, std::pair{kMetaFeedSekvensnummer, seq}}) {
      if (Status s = db_->SetMeta(key, value); !s.ok()) {
        db_->Rollback();
        return s;
      }
    }
    return db_->Commit();
  }

  bool wants_numbers() const { return db_ != nullptr; }
  // The local copy's compressor as of the last Append (nullptr before the dictionary exists);
  // any thread.
  std::shared_ptr<const common::Zstd> compressor() const {
    std::lock_guard lock(compressor_mutex_);
    return compressor_;
  }

 private:
  Status WriteCheckpointFile(const Checkpoint& checkpoint) {
    const std::string tmp = checkpoint_path_ + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return IoError("open", tmp);
    std::string text = checkpoint.Serialize() + "\n";
    Status s = WriteAll(fd, text, tmp);
    if (s.ok() && ::fdatasync(fd) != 0) s = IoError("fsync", tmp);
    ::close(fd);
    if (!s.ok()) return s;
    if (::rename(tmp.c_str(), checkpoint_path_.c_str()) != 0) return IoError("rename", tmp);
    return {};
  }

  std::unique_ptr<LocalCopy> db_;
  mutable std::mutex compressor_mutex_;
  std::shared_ptr<const common::Zstd> compressor_;  // guarded by compressor_mutex_
  int fd_ = -1;
  std::string ndjson_path_;
  std::string checkpoint_path_;
};

Result<std::string> Order(FregCaller& caller, const UttrekkOptions& options, int64_t seq) {
  Result<HttpResponse> response =
      options.tilpasset
          ? caller.Call("POST", "uttrekk/tilpasset", *options.tilpasset,
                        {{"Content-Type", "application/json"}})
          : caller.Call("GET", "uttrekk/komplett?feedsekvensnr=" + std::to_string(seq));
  if (!response.ok()) return response.error();
  const char* what = options.tilpasset ? "POST uttrekk/tilpasset" : "GET uttrekk/komplett";
  if (response->status != 200 && response->status != 201 && response->status != 202) {
    return ErrorForAnswer(what, *response);
  }
  simdjson::padded_string padded(response->body);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  std::string_view jobb;
  auto error = parser.iterate(padded).get(doc);
  if (!error) error = doc["jobbId"].get_string().get(jobb);
  if (error || jobb.empty()) {
    return MakeError(ErrorCode::kInternal, std::string(what) + ": answer without jobbId: " +
                                               response->body.substr(0, 200));
  }
  for (char c : jobb) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return MakeError(ErrorCode::kInternal, std::string(what) + ": malformed jobbId");
    }
  }
  return std::string(jobb);
}

// The ids of batch n; an empty list when the extract is done. Waits while the batch is not ready.
Result<std::vector<std::string>> FetchBatch(FregCaller& caller, const UttrekkOptions& options,
                                            const std::string& jobb, int64_t n) {
  const std::string path = "uttrekk/" + jobb + "/batch/" + std::to_string(n);
  const auto deadline = Clock::now() + options.not_ready_timeout;
  milliseconds wait = options.not_ready_initial;
  while (true) {
    auto response = caller.Call("GET", path);
    if (!response.ok()) return response.error();
    if (response->status == 404) {
      if (Clock::now() + wait > deadline) {
        return MakeError(ErrorCode::kInternal, "batch " + std::to_string(n) + " of job " + jobb +
                                                   " was not ready in time");
      }
      if (!caller.SleepFor(wait)) return Cancelled();
      wait = std::min(wait * 2, options.not_ready_max);
      continue;
    }
    if (response->status != 200) return ErrorForAnswer("GET " + path, *response);
    std::vector<std::string> ids;
    std::string& body = response->body;
    if (TrimJson(body).empty()) return ids;
    body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document doc;
    auto error = parser.iterate(body.data(), body.size(), body.capacity()).get(doc);
    simdjson::ondemand::json_type type;
    if (!error) error = doc.type().get(type);
    if (error) return Malformed("GET " + path, error);
    simdjson::ondemand::array list;
    bool have_list = false;
    if (type == simdjson::ondemand::json_type::array) {
      if ((error = doc.get_array().get(list))) return Malformed("GET " + path, error);
      have_list = true;
    } else if (type == simdjson::ondemand::json_type::object) {
      simdjson::ondemand::object object;
      if ((error = doc.get_object().get(object))) return Malformed("GET " + path, error);
      for (auto field : object) {
        std::string_view key;
        if ((error = field.unescaped_key().get(key))) return Malformed("GET " + path, error);
        if (key == "dokumentidentifikator" || key == "foedselsEllerDNummer") {
          if ((error = field.value().get_array().get(list))) {
            return Malformed("GET " + path, error);
          }
          have_list = true;
          break;
        }
      }
    }
    if (!have_list) return ids;
    for (auto item : list) {
      std::string_view id;
      if ((error = item.get_string().get(id))) return Malformed("GET " + path, error);
      ids.emplace_back(id);
    }
    return ids;
  }
}

// The pipeline of one job: a producer fetching batches, workers doing bulk lookups, the calling
// thread committing chunks in order.
class Pipeline {
 public:
  Pipeline(const UttrekkOptions& options, Progress& progress, Output& output, CallStats& stats,
           Checkpoint& checkpoint, UttrekkSummary& summary)
      : options_(options),
        progress_(progress),
        output_(output),
        stats_(stats),
        checkpoint_(checkpoint),
        summary_(summary),
        window_(static_cast<uint64_t>(options.concurrency) * 3),
        synced_(checkpoint),
        last_sync_(Clock::now()) {}

  // Ok when the job finished or was stopped (summary.completed tells); errors as RunUttrekk.
  Status Run() {
    std::thread producer([this] { Produce(); });
    std::vector<std::thread> workers;
    for (int i = 0; i < options_.concurrency; ++i) workers.emplace_back([this] { Work(); });
    Status status = Commit();
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    producer.join();
    for (auto& t : workers) t.join();
    if (!status.ok()) return status;
    std::lock_guard lock(mutex_);
    if (failure_) return *failure_;
    return {};
  }

 private:
  struct Task {
    uint64_t order;
    int64_t batch;
    int64_t chunk;
    bool last_in_batch;
    std::shared_ptr<const std::vector<std::string>> ids;
    size_t begin;
    size_t end;
  };

  void Fail(Error error) {
    {
      std::lock_guard lock(mutex_);
      if (!failure_ && !stop_) failure_ = std::move(error);
      stop_ = true;
    }
    cv_.notify_all();
  }

  void Produce() {
    FregCaller caller(options_.base_url, options_.tokens, options_.retry, options_.http, &stats_,
                      &stop_, options_.api_path);
    int64_t n = checkpoint_.batch;
    int64_t skip = checkpoint_.chunk;
    progress_.SetTotalIsEstimate(true);
    while (true) {
      auto ids = FetchBatch(caller, options_, checkpoint_.jobb_id, n);
      if (!ids.ok()) {
        if (!caller.cancelled()) Fail(std::move(ids.error()));
        break;
      }
      if (ids->empty()) break;
      ++summary_.batches;
      auto shared = std::make_shared<const std::vector<std::string>>(std::move(*ids));
      const size_t size = shared->size();
      const auto chunks =
          static_cast<int64_t>((size + options_.chunk_size - 1) / options_.chunk_size);
      const size_t skipped = std::min(size, static_cast<size_t>(skip) * options_.chunk_size);
      progress_.AddTotal(size - skipped);
      for (int64_t c = skip; c < chunks; ++c) {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || next_order_ - next_commit_ < window_; });
        if (stop_) return;
        const size_t begin = static_cast<size_t>(c) * options_.chunk_size;
        tasks_.push_back(Task{next_order_++, n, c, c + 1 == chunks, shared, begin,
                              std::min(size, begin + options_.chunk_size)});
        lock.unlock();
        cv_.notify_all();
      }
      skip = 0;
      ++n;
    }
    {
      std::lock_guard lock(mutex_);
      producer_done_ = true;
    }
    progress_.SetTotalIsEstimate(false);
    cv_.notify_all();
  }

  void Work() {
    FregCaller caller(options_.base_url, options_.tokens, options_.retry, options_.http, &stats_,
                      &stop_, options_.api_path);
    const bool tailored = options_.tilpasset.has_value();
    const std::string path = tailored ? "personer/bulkoppslag" : "personer/bulkoppslag/arkiv";
    const std::string_view id_name = tailored ? "foedselsEllerDNummer" : "dokumentidentifikator";
    const bool numbers = output_.wants_numbers();
    while (true) {
      Task task;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || !tasks_.empty() || producer_done_; });
        if (stop_ || tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      auto body = IdListBody(id_name, *task.ids, task.begin, task.end);
      if (!body.ok()) return Fail(std::move(body.error()));
      auto response = caller.Call("POST", path, *body, {{"Content-Type", "application/json"}});
      if (!response.ok()) {
        if (!caller.cancelled()) Fail(std::move(response.error()));
        return;
      }
      if (response->status != 200) return Fail(ErrorForAnswer("POST " + path, *response));
      std::string& answer = response->body;
      auto persons = ParseBulkAnswer(answer);
      if (!persons.ok()) return Fail(std::move(persons.error()));

      ChunkResult result;
      result.order = task.order;
      result.batch = task.batch;
      result.chunk = task.chunk;
      result.last_in_batch = task.last_in_batch;
      result.requested = task.end - task.begin;
      size_t total = 0;
      for (const BulkPerson& p : *persons) total += p.document.size() + 1;
      result.lines.reserve(total);
      if (numbers) result.rows.reserve(persons->size());
      const char* buffer_end = answer.data() + answer.capacity();
      for (const BulkPerson& p : *persons) {
        const size_t offset = result.lines.size();
        result.lines += p.document;
        // One document per line: raw whitespace newlines (never inside JSON strings) become
        // blanks.
        // (Two memchr scans: find_first_of with a set calls memchr once per character.)
        if (std::memchr(p.document.data(), '\n', p.document.size()) != nullptr ||
            std::memchr(p.document.data(), '\r', p.document.size()) != nullptr) {
          std::replace_if(
              result.lines.begin() + static_cast<std::ptrdiff_t>(offset), result.lines.end(),
              [](char c) { return c == '\n' || c == '\r'; }, ' ');
        }
        result.lines += '\n';
        if (numbers) {
          auto parsed =
              ParsePersonNumbers(p.document, static_cast<size_t>(buffer_end - p.document.data()));
          if (!parsed.ok()) return Fail(std::move(parsed.error()));
          std::string fnr = parsed->current.empty() ? std::string(p.key) : parsed->current;
          if (fnr.empty()) {
            return Fail(
                MakeError(ErrorCode::kInternal, "person document without identifikasjonsnummer"));
          }
          result.rows.push_back({std::move(fnr), offset, p.document.size()});
        }
      }
      if (numbers) result.compressor = output_.compressor();
      if (result.compressor != nullptr) {
        thread_local std::string frame;
        result.packed.reserve(result.lines.size() / 6);
        for (auto& row : result.rows) {
          result.compressor->Compress(std::string_view(result.lines).substr(row.offset, row.length),
                                      frame);
          result.packed += frame;
          row.packed_end = result.packed.size();
        }
      }
      {
        std::lock_guard lock(mutex_);
        missing_ += result.requested - std::min<uint64_t>(result.requested, persons->size());
        results_.emplace(result.order, std::move(result));
      }
      cv_.notify_all();
    }
  }

  // Appends results in order; syncs and saves the checkpoint every checkpoint_interval and on
  // every way out (done, stopped, failed), covering exactly what was appended.
  Status Commit() {
    Status status = AppendAll();
    Status synced = Sync(true);
    if (!status.ok()) return status;
    if (!synced.ok()) Fail(synced.error());
    return synced;
  }

  // Makes what was appended durable and saves the checkpoint, when something was appended since
  // the last time and `force` or checkpoint_interval has passed.
  Status Sync(bool force) {
    const bool advanced = checkpoint_.batch != synced_.batch || checkpoint_.chunk != synced_.chunk;
    if (!advanced || (!force && Clock::now() - last_sync_ < options_.checkpoint_interval)) {
      return {};
    }
    if (Status s = output_.Sync(checkpoint_); !s.ok()) return s;
    synced_ = checkpoint_;
    last_sync_ = Clock::now();
    return {};
  }

  Status AppendAll() {
    uint64_t committed = 0;
    while (true) {
      ChunkResult result;
      {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, milliseconds(200), [&] {
          return stop_ || results_.contains(next_commit_) ||
                 (producer_done_ && next_commit_ == next_order_);
        });
        summary_.missing = missing_;
        if (stop_) return {};  // failure_ is reported by Run
        if (options_.cancel != nullptr && options_.cancel->load()) return {};
        if (producer_done_ && next_commit_ == next_order_) {
          summary_.completed = true;
          return {};
        }
        auto it = results_.find(next_commit_);
        if (it == results_.end()) {
          lock.unlock();
          progress_.SetRetries(stats_.retries.load());
          progress_.Tick();
          continue;
        }
        result = std::move(it->second);
        results_.erase(it);
      }
      Checkpoint next = checkpoint_;
      if (result.last_in_batch) {
        next.batch = result.batch + 1;
        next.chunk = 0;
      } else {
        next.batch = result.batch;
        next.chunk = result.chunk + 1;
      }
      const uint64_t persons =
          result.rows.empty()
              ? static_cast<uint64_t>(std::count(result.lines.begin(), result.lines.end(), '\n'))
              : result.rows.size();
      next.persons += persons;
      if (Status s = output_.Append(result, next, checkpoint_.seq); !s.ok()) {
        Fail(s.error());
        return s;
      }
      checkpoint_ = next;
      if (Status s = Sync(false); !s.ok()) {
        Fail(s.error());
        return s;
      }
      ++summary_.chunks;
      progress_.Add(persons);
      progress_.SetRetries(stats_.retries.load());
      progress_.Tick();
      {
        std::lock_guard lock(mutex_);
        ++next_commit_;
      }
      cv_.notify_all();
      if (options_.stop_after_chunks > 0 && ++committed >= options_.stop_after_chunks) return {};
    }
  }

  const UttrekkOptions& options_;
  Progress& progress_;
  Output& output_;
  CallStats& stats_;
  Checkpoint& checkpoint_;
  UttrekkSummary& summary_;
  const uint64_t window_;
  Checkpoint synced_;  // what the saved checkpoint covers
  Clock::time_point last_sync_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};  // written under mutex_, read lock-free by the callers
  std::optional<Error> failure_;
  std::deque<Task> tasks_;
  std::map<uint64_t, ChunkResult> results_;
  uint64_t next_order_ = 0;
  uint64_t next_commit_ = 0;
  uint64_t missing_ = 0;
  bool producer_done_ = false;
};

Status ValidateOptions(const UttrekkOptions& options) {
  if (options.base_url.empty()) return MakeError(ErrorCode::kInvalidInput, "no server URL");
  if (options.ndjson_path.empty() && options.db_path.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "no output: give an NDJSON file or a local copy");
  }
  if (options.concurrency < 1 || options.concurrency > 64) {
    return MakeError(ErrorCode::kInvalidInput, "concurrency must be 1..64");
  }
  if (options.chunk_size < 1 || options.chunk_size > 1000) {
    return MakeError(ErrorCode::kInvalidInput, "chunk size must be 1..1000");
  }
  if (options.tilpasset) {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    auto error = parser.parse(*options.tilpasset).get(root);
    if (!error && !root.is_object()) error = simdjson::INCORRECT_TYPE;
    if (error) {
      return MakeError(
          ErrorCode::kInvalidInput,
          std::string("the criteria are not a JSON object: ") + simdjson::error_message(error));
    }
  }
  return {};
}

}  // namespace

Result<UttrekkSummary> RunUttrekk(const UttrekkOptions& options, Progress& progress) {
  if (Status s = ValidateOptions(options); !s.ok()) return s.error();
  const auto start = Clock::now();
  Output output;
  if (Status s = output.Open(options); !s.ok()) return s.error();
  CallStats stats;
  UttrekkSummary summary;
  const std::string kind = KindOf(options);
  FregCaller caller(options.base_url, options.tokens, options.retry, options.http, &stats,
                    options.cancel, options.api_path);

  auto start_fresh = [&]() -> Result<Checkpoint> {
    if (Status s = output.Reset(); !s.ok()) return s.error();
    auto seq = LatestSekvensnummer(caller);
    if (!seq.ok()) return seq.error();
    auto jobb = Order(caller, options, *seq);
    if (!jobb.ok()) return jobb.error();
    Checkpoint checkpoint;
    checkpoint.jobb_id = std::move(*jobb);
    checkpoint.kind = kind;
    checkpoint.seq = *seq;
    if (Status s = output.SaveCheckpoint(checkpoint); !s.ok()) return s.error();
    return checkpoint;
  };

  Checkpoint checkpoint;
  if (auto saved = output.LoadCheckpoint(); saved && !saved->done && saved->kind == kind) {
    if (Status s = output.Resume(*saved); !s.ok()) return s.error();
    checkpoint = *saved;
    summary.resumed = true;
  } else {
    auto fresh = start_fresh();
    if (!fresh.ok()) return fresh.error();
    checkpoint = std::move(*fresh);
  }

  while (true) {
    progress.SetDone(checkpoint.persons);
    Pipeline pipeline(options, progress, output, stats, checkpoint, summary);
    Status status = pipeline.Run();
    if (status.ok()) break;
    if (status.error().code == ErrorCode::kGone && summary.resumed && !summary.restarted) {
      // The resumed job expired on the server: order a new one and start the output over.
      summary.restarted = true;
      summary.batches = summary.chunks = summary.missing = 0;
      auto fresh = start_fresh();
      if (!fresh.ok()) return fresh.error();
      checkpoint = std::move(*fresh);
      continue;
    }
    return status.error();
  }

  if (summary.completed) {
    checkpoint.done = true;
    if (Status s = output.Finish(checkpoint); !s.ok()) return s.error();
  }
  summary.jobb_id = checkpoint.jobb_id;
  summary.sekvensnummer = checkpoint.seq;
  summary.persons = checkpoint.persons;
  summary.retries = stats.retries.load();
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  progress.SetRetries(summary.retries);
  progress.Finish();
  return summary;
}

}  // namespace norreg::client
