// The disclosure audit log (store/audit_log.hpp): an append-only NDJSON journal in shared memory
// mappings of its segment files, and a background indexer that moves journal lines into the index:
// SQLite in the folder, or PostgreSQL shared by the server nodes. The journal, the blocks and the
// queries are here; what differs between the two indexes is behind audit::IndexBackend
// (store/audit_index.hpp), so both get the same journal, exactness and crash rules.
//
// Why mapped: a write(2) per disclosure serialised the io threads on the file's inode lock and
// cost a fifth of the lookups' throughput (bench/security.sh). Now a disclosure reserves its bytes
// with one atomic add and copies them into a MAP_SHARED mapping: the page cache holds them as soon
// as the copy is done, so they survive a crash of the process exactly as written bytes would.
// Segment files are preallocated (posix_fallocate: a full disk is an error when a segment is
// made, never a SIGBUS later) and truncated to their data when rolled.
//
// Journal line (compact JSON, one per disclosure):
//   {"t":1700000000000,"org":"…","client":"…","supplier":"…","endpoint":"…","rid":"…","ids":[…]}
//
// Invariants the code relies on:
// - One process writes a folder (an flock on <dir>/journal.lock); read-only logs take no lock.
// - A writer always starts a fresh segment (max + 1), so a torn tail left by a crash is never
//   continued; segments are numbered from 1, cursor segment 0 means "nothing indexed yet".
// - A segment is rolled under the exclusive side of `journal_mu_`; every write holds the shared
//   side. So once segment n + 1 exists, no write to segment n is in flight or will follow: the
//   indexer may treat n as complete when it saw n + 1 in the listing taken before reading n.
// - In the live (last) segment, bytes not yet written are NUL. A line's final '\n' is stored
//   last, with release order, so a reader that sees it sees the whole line; a reader of the live
//   segment stops at the first NUL (a line still being copied, or the unused end). In a complete
//   segment NUL runs are skipped: they are reservations a crash left unwritten.
// - The indexer's cursor (segment, offset) is committed in the same transaction as the blocks it
//   covers (on PostgreSQL: this node's cursor, keyed by <dir>/node-id). A segment is deleted only
//   after a committed cursor lies beyond it (or, at close, when the cursor stands at its end).
//   Query only needs the cursor's segment to stay the same while it opens the tail (see Query).
#include "store/audit_log.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <utility>

#include "common/compress.hpp"
#include "common/escape.hpp"
#include "common/files.hpp"
#include "common/ids.hpp"
#include "common/time.hpp"
#include "store/audit_index.hpp"

namespace norreg::store {
namespace {

using audit::Cursor;

constexpr const char* kInternalMessage = "Feil i tjenesten. Vennligst prøv igjen senere.";
// Lines per indexer transaction: large enough that SQLite's commit cost vanishes, small enough
// that readers and a shutdown never wait long behind one transaction.
constexpr size_t kMaxLinesPerTransaction = 50'000;
constexpr size_t kInitialReadChunk = 1 << 20;
// How often Query retries when the indexer moved its cursor to another segment meanwhile.
constexpr int kQueryAttempts = 8;
constexpr std::string_view kRecordStart = R"({"t":)";

Error Internal(std::string detail) {
  return MakeError(ErrorCode::kInternal, kInternalMessage, std::move(detail));
}

Error Errno(std::string_view what, const std::string& path) {
  return Internal(std::string(what) + " " + path + ": " + std::strerror(errno));
}

// A block holds at most this many journal lines, or about kBlockBytes: a query for one person
// reads and filters whole blocks, so they stay small.
constexpr size_t kLinesPerBlock = 64;
constexpr size_t kBlockBytes = 64 << 10;
constexpr int kBlockZstdLevel = 1;
constexpr std::string_view kZstdMagic = "\x28\xb5\x2f\xfd";

// The lines of a block as stored (a zstd frame, or plain lines: see audit_sqlite_index.cpp);
// kInternal when a frame is corrupt.
Status BlockLines(const common::Zstd& zstd, std::string_view stored, std::string& scratch,
                  std::string_view& lines) {
  if (!stored.starts_with(kZstdMagic)) {
    lines = stored;
    return Status::Ok();
  }
  if (Status s = zstd.Decompress(stored, scratch, 4 * kBlockBytes + (1 << 20)); !s.ok()) {
    return Internal("audit index: unreadable block: " + s.error().detail);
  }
  lines = scratch;
  return Status::Ok();
}

// "0192:923609016" and "923609016" name the same organisation.
std::string_view OrgDigits(std::string_view orgnr) {
  constexpr std::string_view kPrefix = "0192:";
  if (orgnr.substr(0, kPrefix.size()) == kPrefix) orgnr.remove_prefix(kPrefix.size());
  return orgnr;
}

std::string SegmentPath(const std::string& dir, int64_t n) {
  return dir + "/journal-" + std::to_string(n) + ".ndjson";
}

std::optional<int64_t> ParseSegmentName(std::string_view name) {
  constexpr std::string_view kPrefix = "journal-";
  constexpr std::string_view kSuffix = ".ndjson";
  if (name.size() <= kPrefix.size() + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  std::string_view digits =
      name.substr(kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n <= 0) return std::nullopt;
  return n;
}

// Segment numbers present in `dir`, ascending.
Result<std::vector<int64_t>> ListSegments(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Errno("opendir", dir);
  std::vector<int64_t> out;
  while (dirent* e = ::readdir(d)) {
    if (auto n = ParseSegmentName(e->d_name)) out.push_back(*n);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      Close();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Close(); }
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void AppendJsonArray(std::string& out, const std::vector<std::string>& items) {
  out.push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(out, items[i]);
  }
  out.push_back(']');
}

void AppendJournalLine(std::string& out, const Disclosure& d, int64_t time_ms) {
  out += kRecordStart;
  AppendInt(out, time_ms);
  out += ",\"org\":";
  AppendJsonString(out, OrgDigits(d.consumer_orgnr));
  out += ",\"client\":";
  AppendJsonString(out, d.client_id);
  out += ",\"supplier\":";
  AppendJsonString(out, OrgDigits(d.supplier_orgnr));
  out += ",\"endpoint\":";
  AppendJsonString(out, d.endpoint);
  out += ",\"rid\":";
  AppendJsonString(out, d.request_id);
  out += ",\"ids\":";
  AppendJsonArray(out, d.identifiers);
  out += "}\n";
}

// One journal line's fields as views of the line (or of the parser's own storage, for a line that
// needed the general JSON parser).
struct LineView {
  std::string_view record;  // the record's text: the line, or its whole record after a torn one
  int64_t time_ms = 0;
  std::string_view org, client, supplier, endpoint, rid;
  std::vector<std::string_view> ids;
};

// Parses journal lines. Not thread-safe: one per reading thread. Lines as AppendJournalLine
// writes them, with no escaped character, are read in place by a scanner for exactly that layout
// (a quarter of the general parser's cost); anything else goes through boost::json.
class LineParser {
 public:
  LineParser() { options_.allow_invalid_utf8 = true; }

  // False when the line is not a journal record. A line that holds a torn record followed by a
  // whole one (a write that failed half-way, then the next Record) yields the whole one. The views
  // stay valid until the next call and while the line does.
  bool Parse(std::string_view line, LineView& out) {
    if (ParseOne(line, out)) return true;
    size_t start = line.rfind(kRecordStart);
    return start != std::string_view::npos && start > 0 && ParseOne(line.substr(start), out);
  }

  bool Parse(std::string_view line, Disclosure& out) {
    if (!Parse(line, view_)) return false;
    out.time_ms = view_.time_ms;
    out.consumer_orgnr.assign(view_.org);
    out.client_id.assign(view_.client);
    out.supplier_orgnr.assign(view_.supplier);
    out.endpoint.assign(view_.endpoint);
    out.request_id.assign(view_.rid);
    out.identifiers.assign(view_.ids.begin(), view_.ids.end());
    return true;
  }

 private:
  bool ParseOne(std::string_view line, LineView& out) {
    if (!ParseInPlace(line, out) && !ParseGeneral(line, out)) return false;
    out.record = line;
    return true;
  }

  static bool ParseInPlace(std::string_view line, LineView& out) {
    std::string_view rest = line;
    auto literal = [&](std::string_view text) {
      if (!rest.starts_with(text)) return false;
      rest.remove_prefix(text.size());
      return true;
    };
    auto string = [&](std::string_view& field) {
      if (rest.empty() || rest[0] != '"') return false;
      for (size_t i = 1; i < rest.size(); ++i) {
        const auto c = static_cast<unsigned char>(rest[i]);
        if (c == '"') {
          field = rest.substr(1, i - 1);
          rest.remove_prefix(i + 1);
          return true;
        }
        if (c == '\\' || c < 0x20) return false;
      }
      return false;
    };
    if (!literal(kRecordStart)) return false;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), out.time_ms);
    if (ec != std::errc()) return false;
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    if (!(literal(",\"org\":") && string(out.org) && literal(",\"client\":") &&
          string(out.client) && literal(",\"supplier\":") && string(out.supplier) &&
          literal(",\"endpoint\":") && string(out.endpoint) && literal(",\"rid\":") &&
          string(out.rid) && literal(",\"ids\":"))) {
      return false;
    }
    if (!literal("[")) return false;
    out.ids.clear();
    if (!literal("]")) {
      do {
        if (!string(out.ids.emplace_back())) return false;
      } while (literal(","));
      if (!literal("]")) return false;
    }
    return rest == "}";
  }

  bool ParseGeneral(std::string_view line, LineView& out) {
    boost::json::monotonic_resource resource(buffer_, sizeof buffer_);
    boost::json::error_code ec;
    boost::json::value v = boost::json::parse(line, ec, &resource, options_);
    if (ec || !v.is_object()) return false;
    const boost::json::object& o = v.get_object();
    const boost::json::value* t = o.if_contains("t");
    const boost::json::value* ids = o.if_contains("ids");
    if (t == nullptr || !t->is_int64() || ids == nullptr || !ids->is_array()) return false;
    auto text = [&](std::string_view key, std::string& field) {
      const boost::json::value* f = o.if_contains(key);
      if (f != nullptr && f->is_string()) {
        field.assign(f->get_string().data(), f->get_string().size());
      } else {
        field.clear();
      }
    };
    text("org", owned_.consumer_orgnr);
    text("client", owned_.client_id);
    text("supplier", owned_.supplier_orgnr);
    text("endpoint", owned_.endpoint);
    text("rid", owned_.request_id);
    owned_.identifiers.clear();
    for (const boost::json::value& id : ids->get_array()) {
      if (!id.is_string()) return false;
      owned_.identifiers.emplace_back(id.get_string().data(), id.get_string().size());
    }
    out.time_ms = t->get_int64();
    out.org = owned_.consumer_orgnr;
    out.client = owned_.client_id;
    out.supplier = owned_.supplier_orgnr;
    out.endpoint = owned_.endpoint;
    out.rid = owned_.request_id;
    out.ids.assign(owned_.identifiers.begin(), owned_.identifiers.end());
    return true;
  }

  boost::json::parse_options options_;
  unsigned char buffer_[4096];
  Disclosure owned_;
  LineView view_;
};

struct ScanResult {
  int64_t end_offset = 0;     // just past the last complete line handled
  bool stopped = false;       // the callback asked to stop (line budget)
  bool partial_tail = false;  // bytes without a final newline follow end_offset
};

// Calls `line(text)` for each complete line of `fd` from `offset` on, until EOF or until it
// returns false (then the line it was given counts as handled). `buffer` is reused. In a `live`
// segment the scan ends at the first NUL byte (see the invariants above); otherwise NUL runs are
// skipped and a line holding NULs is passed on (LineParser recovers a whole record after them).
template <typename OnLine>
Result<ScanResult> ScanLines(int fd, int64_t offset, std::string& buffer, bool live,
                             OnLine&& line) {
  ScanResult r;
  r.end_offset = offset;
  size_t chunk = std::max(buffer.size(), kInitialReadChunk);
  while (true) {
    buffer.resize(chunk);
    size_t got = 0;
    while (got < chunk) {
      ssize_t n = ::pread(fd, buffer.data() + got, chunk - got,
                          static_cast<off_t>(r.end_offset + static_cast<int64_t>(got)));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Internal(std::string("read journal: ") + std::strerror(errno));
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    const bool eof = got < chunk;
    size_t start = 0;
    bool at_live_end = false;
    while (start < got) {
      if (buffer[start] == '\0') {
        if (live) {
          at_live_end = true;
          break;
        }
        while (start < got && buffer[start] == '\0') ++start;  // an unwritten reservation
        continue;
      }
      const void* nl = std::memchr(buffer.data() + start, '\n', got - start);
      if (nl == nullptr) break;
      const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - buffer.data());
      const std::string_view text(buffer.data() + start, end - start);
      if (live && text.find('\0') != std::string_view::npos) {
        at_live_end = true;  // an earlier line is still being copied
        break;
      }
      const bool go_on = line(text);
      start = end + 1;
      if (!go_on) {
        r.end_offset += static_cast<int64_t>(start);
        r.stopped = true;
        return r;
      }
    }
    r.end_offset += static_cast<int64_t>(start);
    if (at_live_end) return r;
    if (eof) {
      r.partial_tail = start < got;
      return r;
    }
    if (start == 0) chunk *= 2;  // one line longer than the chunk: read more at once
  }
}

// Newest-first accumulation of query results from the index and the journal tail, bounded to
// about twice the limit. Order: time descending; equal times by recording order, newest first.
class TopResults {
 public:
  explicit TopResults(size_t limit) : limit_(limit) {}
  void Add(int64_t order, Disclosure d) {
    items_.emplace_back(order, std::move(d));
    if (items_.size() > 2 * limit_ + 1024) Trim();
  }
  // The time a result must exceed to still enter a full set; nullopt while fewer than `limit`.
  std::optional<int64_t> Bar() {
    if (items_.size() < limit_) return std::nullopt;
    Trim();
    return items_.back().second.time_ms;
  }
  std::vector<Disclosure> Take() {
    Trim();
    std::vector<Disclosure> out;
    out.reserve(items_.size());
    for (auto& item : items_) out.push_back(std::move(item.second));
    return out;
  }

 private:
  void Trim() {
    auto newer = [](const auto& a, const auto& b) {
      if (a.second.time_ms != b.second.time_ms) return a.second.time_ms > b.second.time_ms;
      return a.first > b.first;
    };
    if (items_.size() > limit_) {
      std::partial_sort(items_.begin(), items_.begin() + static_cast<ptrdiff_t>(limit_),
                        items_.end(), newer);
      items_.resize(limit_);
    } else {
      std::sort(items_.begin(), items_.end(), newer);
    }
  }

  size_t limit_;
  std::vector<std::pair<int64_t, Disclosure>> items_;
};

bool Matches(const AuditQuery& q, std::string_view org_digits, Disclosure& d) {
  if (d.time_ms < q.since_ms || d.time_ms > q.until_ms) return false;
  if (!q.orgnr.empty() && OrgDigits(d.consumer_orgnr) != org_digits) return false;
  if (!q.person.empty()) {
    if (std::find(d.identifiers.begin(), d.identifiers.end(), q.person) == d.identifiers.end()) {
      return false;
    }
    d.identifiers.assign(1, q.person);
  }
  return true;
}

// The share of wall time since the last call that the syncer spent flushing, from the running
// total of its flushes' nanoseconds.
class FlushingMeter {
 public:
  double Sample(uint64_t flushed_ns) {
    const auto now = std::chrono::steady_clock::now();
    const double span = std::chrono::duration<double, std::nano>(now - at_).count();
    const double share = span > 0 ? static_cast<double>(flushed_ns - flushed_ns_) / span : 0;
    at_ = now;
    flushed_ns_ = flushed_ns;
    return share;
  }

 private:
  std::chrono::steady_clock::time_point at_ = std::chrono::steady_clock::now();
  uint64_t flushed_ns_ = 0;
};

// The share of the machine's CPU time that everything but the calling thread used over the last
// interval (from /proc/stat); nullopt before the first interval or when unreadable.
class CpuBusyMeter {
 public:
  std::optional<double> Sample() {
    std::ifstream in("/proc/stat");
    std::string cpu;
    uint64_t v[8] = {};  // user nice system idle iowait irq softirq steal
    in >> cpu;
    for (uint64_t& x : v) in >> x;
    if (!in || cpu != "cpu") return std::nullopt;
    uint64_t total = 0;
    for (uint64_t x : v) total += x;
    const uint64_t idle = v[3] + v[4];
    timespec own{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &own);
    const double own_ticks = (static_cast<double>(own.tv_sec) + own.tv_nsec / 1e9) *
                             static_cast<double>(::sysconf(_SC_CLK_TCK));
    // /proc/stat counts in ticks (10 ms): a shorter interval keeps the last figure and extends.
    if (total_ > 0 && total < total_ + kMinTicks) return busy_;
    if (total_ > 0) {
      const double span = static_cast<double>(total - total_);
      const double others = span - static_cast<double>(idle - idle_) - (own_ticks - own_ticks_);
      busy_ = std::clamp(others / span, 0.0, 1.0);
    }
    total_ = total;
    idle_ = idle;
    own_ticks_ = own_ticks;
    return busy_;
  }

 private:
  static constexpr uint64_t kMinTicks = 10;
  uint64_t total_ = 0;
  uint64_t idle_ = 0;
  double own_ticks_ = 0;
  std::optional<double> busy_;
};

// <dir>/node-id: this node's name in a shared index (a random UUID, made once and kept: the
// node's cursor in the index is keyed by it). "" when there is none and `create` is false.
Result<std::string> NodeId(const std::string& dir, bool create) {
  const std::string path = dir + "/node-id";
  auto text = ReadWholeFile(path);
  if (text.ok()) {
    std::string id = text->substr(0, text->find('\n'));
    while (!id.empty() && (id.back() == '\r' || id.back() == ' ')) id.pop_back();
    const bool printable =
        std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c < 127; });
    if (id.empty() || id.size() > 100 || !printable) {
      return Internal("unreadable node id in " + path + " (one line, up to 100 visible ASCII)");
    }
    return id;
  }
  if (text.error().code != ErrorCode::kNotFound) {
    return Internal("unreadable node id in " + path + ": " + text.error().detail);
  }
  if (!create) return std::string();
  const std::string id = ids::NewUuid();
  if (Status s = WriteFileAtomically(path, id + "\n", 0640); !s.ok()) return s.error();
  return id;
}

thread_local bool g_recorded = false;  // AuditLog::TakeThreadRecorded

class JournalAuditLog final : public AuditLog {
 public:
  explicit JournalAuditLog(AuditOptions options) : options_(std::move(options)) {}

  ~JournalAuditLog() override {
    if (syncer_.joinable()) {
      {
        std::lock_guard lock(sync_mu_);
        sync_stop_ = true;
      }
      sync_wake_.notify_all();
      syncer_.join();  // answers every waiter first
    }
    if (indexer_.joinable()) {
      {
        std::lock_guard lock(mu_);
        stop_ = true;
      }
      wake_.notify_all();
      indexer_.join();
      DeleteIndexedCurrentSegment();
    }
    CloseSegment();
  }

  Status Init() {
    const bool shared = !options_.db.empty();
    // Only a reader of the shared index may go without a folder (it then has no journal tail).
    if (options_.dir.empty() && !(shared && options_.read_only)) {
      return Internal("audit log folder not configured");
    }
    std::error_code ec;
    if (options_.read_only) {
      if (!options_.dir.empty() && !std::filesystem::is_directory(options_.dir, ec)) {
        return Internal("audit log folder missing: " + options_.dir);
      }
      if (!shared) {
        has_journal_ = true;
        return OpenIndex("");
      }
      std::string node_id;
      if (!options_.dir.empty()) {
        auto id = NodeId(options_.dir, false);
        if (!id.ok()) return id.error();
        node_id = *id;
      }
      has_journal_ = !node_id.empty();  // a folder that never wrote to this index has no tail
      return OpenIndex(node_id);
    }
    std::filesystem::create_directories(options_.dir, ec);
    if (ec || !std::filesystem::is_directory(options_.dir)) {
      return Internal("cannot create audit log folder " + options_.dir + ": " + ec.message());
    }
    const std::string lock_path = options_.dir + "/journal.lock";
    lock_fd_ = Fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640));
    if (lock_fd_.get() < 0) return Errno("open", lock_path);
    if (::flock(lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
      return Internal("audit log " + options_.dir + " is in use by another writer");
    }
    has_journal_ = true;
    std::string node_id;
    if (shared) {
      auto id = NodeId(options_.dir, true);
      if (!id.ok()) return id.error();
      node_id = *id;
    }
    if (Status s = OpenIndex(node_id); !s.ok()) return s;
    auto last_max = index_->LastMaxTime();
    if (!last_max.ok()) return last_max.error();
    block_.max_time = *last_max;

    auto cursor = index_->CommittedCursor();
    if (!cursor.ok()) return cursor.error();
    indexed_to_ = *cursor;
    auto segments = ListSegments(options_.dir);
    if (!segments.ok()) return segments.error();
    int64_t next = cursor->segment;
    if (!segments->empty()) next = std::max(next, segments->back());
    if (Status s = OpenSegment(next + 1, options_.segment_bytes); !s.ok()) return s;

    // Named, so that `top -H` and `ps -L` tell them from the io threads.
    indexer_ = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "audit-index");
      IndexerLoop();
    });
    syncer_ = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "audit-sync");
      SyncerLoop();
    });
    return Status::Ok();
  }

  FlushTimes SyncTimes() const override {
    std::lock_guard lock(sync_mu_);
    FlushTimes times = sync_times_;
    times.sum_s = static_cast<double>(sync_flushed_ns_.load(std::memory_order_relaxed)) / 1e9;
    return times;
  }

  void WhenDurable(std::function<void(bool)> done) override {
    {
      std::lock_guard lock(sync_mu_);
      if (syncer_.joinable() && !sync_stop_) {
        sync_waiters_.push_back(std::move(done));
        // A gathering syncer is woken only when enough have come (each wake costs a switch).
        if (!sync_gathering_ || sync_waiters_.size() >= kGatherEnough) sync_wake_.notify_one();
        return;
      }
    }
    done(true);  // read-only: nothing of this log to flush
  }

  Status Record(const Disclosure& disclosure) override {
    if (options_.read_only) return Internal("audit log opened read-only");
    thread_local std::string line;
    line.clear();
    AppendJournalLine(line, disclosure,
                      disclosure.time_ms != 0 ? disclosure.time_ms : timefmt::NowMs());
    const uint64_t size = line.size();
    while (true) {
      {
        std::shared_lock lock(journal_mu_);
        const uint64_t start = reserved_.fetch_add(size, std::memory_order_relaxed);
        if (start + size <= capacity_) {
          std::memcpy(base_ + start, line.data(), size - 1);
          std::atomic_ref<char>(base_[start + size - 1]).store('\n', std::memory_order_release);
          g_recorded = true;
          return Status::Ok();
        }
      }
      // The segment is full (the reservation that did not fit stays NUL and is skipped later).
      if (Status s = Roll(size); !s.ok()) return s;
    }
  }

  Status Flush() override {
    if (options_.read_only) return Status::Ok();
    std::unique_lock lock(mu_);
    const uint64_t target = ++flush_requested_;
    wake_.notify_all();
    done_.wait(lock, [&] { return flush_served_ >= target; });
    return last_status_;
  }

  Result<std::vector<Disclosure>> Query(const AuditQuery& query) const override {
    if (query.limit == 0) return std::vector<Disclosure>();
    for (int attempt = 1;; ++attempt) {
      TopResults top(query.limit);
      auto cursor = QueryIndex(query, top);
      if (!cursor.ok()) return cursor.error();
      if (!has_journal_) return top.Take();
      // Open the tail's segments before checking that the cursor still names the same segment:
      // then no segment from the cursor on has been deleted before it was opened.
      auto segments = ListSegments(options_.dir);
      if (!segments.ok()) return segments.error();
      std::vector<std::pair<int64_t, Fd>> tail;
      bool vanished = false;
      for (int64_t n : *segments) {
        if (n < cursor->segment) continue;
        const std::string path = SegmentPath(options_.dir, n);
        Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) {
          if (errno != ENOENT) return Errno("open", path);
          vanished = true;
          break;
        }
        tail.emplace_back(n, std::move(fd));
      }
      if (!vanished) {
        auto now = index_->CommittedCursor();
        if (!now.ok()) return now.error();
        vanished = now->segment != cursor->segment;
      }
      if (vanished && attempt < kQueryAttempts) continue;
      if (vanished) {
        spdlog::warn("audit query: the indexer kept moving; the answer may miss entries");
      }
      if (Status s = ScanTail(query, *cursor, tail, top); !s.ok()) return s.error();
      return top.Take();
    }
  }

 private:
  // The index: SQLite in the folder, or the shared PostgreSQL index as node `node_id`.
  Status OpenIndex(const std::string& node_id) {
    auto index =
        options_.db.empty()
            ? audit::OpenSqliteIndex(options_.dir + "/audit.db", options_.read_only)
            : audit::OpenPostgresIndex(
                  {.conninfo = options_.db, .node_id = node_id, .read_only = options_.read_only});
    if (!index.ok()) return index.error();
    index_ = std::move(index).value();
    return Status::Ok();
  }

  // Makes segment n (capacity bytes, preallocated and mapped) the current one. Caller holds the
  // exclusive side of journal_mu_ (or runs before any writer). The previous segment is truncated
  // to its data and unmapped.
  Status OpenSegment(int64_t n, uint64_t capacity) {
    const std::string path = SegmentPath(options_.dir, n);
    Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
    if (fd.get() < 0) return Errno("open", path);
    if (int err = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(capacity)); err != 0) {
      ::unlink(path.c_str());
      return Internal("preallocate " + path + ": " + std::strerror(err));
    }
    void* base = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (base == MAP_FAILED) {
      Status s = Errno("mmap", path);
      ::unlink(path.c_str());
      return s;
    }
    CloseSegment();
    fd_ = std::move(fd);
    base_ = static_cast<char*>(base);
    capacity_ = capacity;
    segment_ = n;
    reserved_.store(0, std::memory_order_relaxed);
    return Status::Ok();
  }

  // The bytes of the current segment that hold lines (the rest is unused NUL space).
  uint64_t DataEnd() const { return std::min(reserved_.load(), capacity_); }

  // Unmaps the current segment and cuts its file to the data, so readers of a complete segment
  // do not read the unused end. Caller as OpenSegment.
  void CloseSegment() {
    if (base_ == nullptr) return;
    (void)FlushCurrentSegment();  // its waiters may be in the syncer's next round
    ::munmap(base_, capacity_);
    base_ = nullptr;
    if (::ftruncate(fd_.get(), static_cast<off_t>(DataEnd())) != 0) {
      spdlog::warn("audit journal: cannot truncate segment {}: {}", segment_, std::strerror(errno));
    }
    fd_.Close();
  }

  // On close: a current segment the final pass indexed to its end is no longer needed (the
  // next writer starts a new one anyway).
  void DeleteIndexedCurrentSegment() {
    const int64_t end = static_cast<int64_t>(DataEnd());
    CloseSegment();
    if (!last_status_.ok()) return;
    if (indexed_to_.segment == segment_ && indexed_to_.offset == end) {
      (void)::unlink(SegmentPath(options_.dir, segment_).c_str());
    }
  }

  // Flushes the journal for the waiters of each round: the ones registered before the flush
  // began, whose lines were all copied before they registered (Record returned first). A line of
  // a segment closed since is on disk already: CloseSegment flushes before it unmaps.
  // After a round of several waiters the next round gathers (AuditOptions::sync_gather): on a
  // busy server each flush then serves more answers, and fewer flushes leave more CPU to them.
  void SyncerLoop() {
    std::vector<std::function<void(bool)>> batch;
    size_t last_round = 0;
    while (true) {
      {
        std::unique_lock lock(sync_mu_);
        sync_wake_.wait(lock, [&] { return sync_stop_ || !sync_waiters_.empty(); });
        if (sync_waiters_.empty()) return;  // stopping, nobody waits
        if (last_round > 1 && options_.sync_gather.count() > 0 && !sync_stop_) {
          sync_gathering_ = true;
          sync_wake_.wait_for(lock, options_.sync_gather,
                              [&] { return sync_stop_ || sync_waiters_.size() >= kGatherEnough; });
          sync_gathering_ = false;
        }
        batch.swap(sync_waiters_);
      }
      last_round = batch.size();
      bool ok = true;
      const auto start = std::chrono::steady_clock::now();
      {
        std::shared_lock lock(journal_mu_);
        ok = FlushCurrentSegment();
      }
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      {
        std::lock_guard lock(sync_mu_);
        for (size_t i = 0; i < FlushTimes::kBounds.size(); ++i) {
          sync_times_.at_most[i] += seconds <= FlushTimes::kBounds[i];
        }
        ++sync_times_.count;
      }
      sync_flushed_ns_.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
      for (auto& done : batch) done(ok);
      batch.clear();
    }
  }

  // msync of the current segment's data. Caller holds journal_mu_ (either side).
  bool FlushCurrentSegment() {
    if (base_ == nullptr) return true;
    const long page = ::sysconf(_SC_PAGESIZE);
    const uint64_t end = DataEnd();
    const uint64_t length = (end + static_cast<uint64_t>(page) - 1) / static_cast<uint64_t>(page) *
                            static_cast<uint64_t>(page);
    if (length == 0) return true;
    if (::msync(base_, std::min(length, capacity_), MS_SYNC) != 0) {
      spdlog::error("audit journal: cannot flush segment {}: {}", segment_, std::strerror(errno));
      return false;
    }
    return true;
  }

  // A new current segment when the current one cannot take `size` more bytes (another writer may
  // have rolled already). A line longer than segment_bytes gets a segment of its own size.
  Status Roll(uint64_t size) {
    std::unique_lock lock(journal_mu_);
    const uint64_t reserved = reserved_.load(std::memory_order_relaxed);
    if (reserved + size <= capacity_) return Status::Ok();  // rolled by another writer
    Status s = OpenSegment(segment_ + 1, std::max<uint64_t>(options_.segment_bytes, size));
    if (!s.ok()) spdlog::error("audit journal: cannot roll segment: {}", s.error().detail);
    return s;
  }

  void IndexerLoop() {
    // Indexing is deferred work: the journal already holds every disclosure durably. It runs as
    // SCHED_IDLE, and while the machine is busy it does not run at all (see AuditOptions): even
    // at idle priority it filled the CPUs' short idle gaps between requests and cost lookups a
    // tenth of their throughput (bench/security.sh).
    sched_param idle{};
    if (::sched_setscheduler(0, SCHED_IDLE, &idle) != 0) {
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
    }
    CpuBusyMeter meter;
    (void)meter.Sample();  // the first interval starts now
    FlushingMeter flushing;
    std::unique_lock lock(mu_);
    while (true) {
      const bool woken = wake_.wait_for(lock, options_.index_interval,
                                        [&] { return stop_ || flush_requested_ > flush_served_; });
      const bool stop = stop_;
      const uint64_t serving = flush_requested_;
      lock.unlock();
      const std::optional<double> busy = meter.Sample();
      const double flushed = flushing.Sample(sync_flushed_ns_.load(std::memory_order_relaxed));
      const bool deferring = (busy && *busy > options_.defer_above_cpu_busy) ||
                             flushed > options_.defer_above_flushing;
      if (!woken && deferring && UnindexedBytes() < options_.max_unindexed_bytes) {
        lock.lock();
        continue;
      }
      Status s = IndexAll();
      // A failure that lasts (the PostgreSQL server down) is logged once, not every interval; the
      // journal keeps every disclosure meanwhile and the indexer catches up when it recovers.
      if (!s.ok() && (failing_detail_ != s.error().detail)) {
        spdlog::error("audit indexer: {} ({})", s.error().message, s.error().detail);
        failing_detail_ = s.error().detail;
      } else if (s.ok() && !failing_detail_.empty()) {
        spdlog::info("audit indexer: indexing again");
        failing_detail_.clear();
      }
      lock.lock();
      last_status_ = s;
      flush_served_ = std::max(flush_served_, serving);
      done_.notify_all();
      if (stop) return;
    }
  }

  // How many journal bytes wait for the indexer: the rest of the cursor's segment, the segments
  // after it (a closed segment is cut to its data) and the current one's data. Cursor segment 0
  // (nothing indexed yet) and segments of earlier writers that ended early count their real size.
  uint64_t UnindexedBytes() {
    int64_t current = 0;
    uint64_t bytes = 0;
    {
      std::shared_lock lock(journal_mu_);
      current = segment_;
      bytes = DataEnd();
    }
    if (indexed_to_.segment == current) {
      return bytes - std::min<uint64_t>(bytes, static_cast<uint64_t>(indexed_to_.offset));
    }
    auto segments = ListSegments(options_.dir);  // the files there, however far apart
    if (!segments.ok()) return bytes;
    for (int64_t n : *segments) {
      if (n < indexed_to_.segment || n >= current) continue;
      struct stat st {};
      if (::stat(SegmentPath(options_.dir, n).c_str(), &st) != 0) continue;  // deleted since
      const int64_t from = n == indexed_to_.segment ? indexed_to_.offset : 0;
      bytes += static_cast<uint64_t>(std::max<int64_t>(st.st_size - from, 0));
    }
    return bytes;
  }

  // Indexes every complete line present when called, in transactions of at most
  // kMaxLinesPerTransaction lines.
  Status IndexAll() {
    while (true) {
      auto more = IndexBatch();
      if (!more.ok()) return more.error();
      if (!*more) return Status::Ok();
    }
  }

  // One transaction of the index. True when the line budget ran out before the journal's end.
  Result<bool> IndexBatch() {
    StartBlock();  // drops what a failed batch left: its lines are read again
    auto cursor = index_->BeginBatch();
    if (!cursor.ok()) return cursor.error();
    struct Abort {  // unless committed: a failure, or nothing to commit
      audit::IndexBackend* index;
      ~Abort() {
        if (index != nullptr) index->AbortBatch();
      }
    } abort{index_.get()};
    auto segments = ListSegments(options_.dir);
    if (!segments.ok()) return segments.error();

    std::vector<int64_t> indexed;  // segments wholly indexed: deleted after the commit
    size_t lines = 0;
    bool budget_out = false;
    Cursor next = *cursor;
    for (size_t i = 0; i < segments->size(); ++i) {
      const int64_t n = (*segments)[i];
      if (n < cursor->segment) {
        indexed.push_back(n);  // left over from a crash between commit and delete
        continue;
      }
      const bool complete = i + 1 < segments->size();
      const std::string path = SegmentPath(options_.dir, n);
      Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) return Errno("open", path);
      const int64_t offset = n == cursor->segment ? cursor->offset : 0;
      Status insert_status;
      auto scan = ScanLines(fd.get(), offset, read_buffer_, !complete, [&](std::string_view line) {
        if (!line.empty()) {
          if (parser_.Parse(line, line_)) {
            insert_status = Add(line_);
            if (!insert_status.ok()) return false;
          } else {
            spdlog::warn("audit indexer: skipped an unreadable line in {}", path);
          }
        }
        return ++lines < kMaxLinesPerTransaction;
      });
      if (!insert_status.ok()) return insert_status.error();
      if (!scan.ok()) return scan.error();
      next = {n, scan->end_offset};
      if (scan->stopped) {
        budget_out = true;
        break;
      }
      if (!complete) break;
      if (scan->partial_tail) {
        spdlog::warn("audit indexer: skipped a torn last line in {}", path);
      }
      indexed.push_back(n);
      next = {(*segments)[i + 1], 0};
    }
    if (Status s = WriteBlock(); !s.ok()) return s.error();
    // An idle journal costs the index nothing (no empty transaction every index_interval, which
    // on PostgreSQL would be a round trip per node each time).
    if (next != *cursor) {
      if (Status s = index_->CommitBatch(next); !s.ok()) return s.error();
      abort.index = nullptr;
    }
    indexed_to_ = next;
    for (int64_t n : indexed) {
      const std::string path = SegmentPath(options_.dir, n);
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        spdlog::warn("audit indexer: cannot delete {}: {}", path, std::strerror(errno));
      }
    }
    return budget_out;
  }

  // Adds one line to the block being built, writing the block out when full.
  Status Add(const LineView& d) {
    block_.lines += d.record;
    block_.lines += '\n';
    ++block_.count;
    block_.min_time = std::min(block_.min_time, d.time_ms);
    block_.max_time = std::max(block_.max_time, d.time_ms);
    block_.persons.insert(block_.persons.end(), d.ids.begin(), d.ids.end());
    const std::string_view org = OrgDigits(d.org);
    if (std::find(block_.orgs.begin(), block_.orgs.end(), org) == block_.orgs.end()) {
      block_.orgs.emplace_back(org);
    }
    if (block_.count >= kLinesPerBlock || block_.lines.size() >= kBlockBytes) return WriteBlock();
    return Status::Ok();
  }

  // Adds the block being built (if any) to the batch and starts the next one.
  Status WriteBlock() {
    if (block_.count == 0) return Status::Ok();
    zstd_.Compress(block_.lines, compressed_);
    std::sort(block_.persons.begin(), block_.persons.end());
    block_.persons.erase(std::unique(block_.persons.begin(), block_.persons.end()),
                         block_.persons.end());
    if (Status s = index_->AddBlock({.min_time_ms = block_.min_time,
                                     .max_time_ms = block_.max_time,
                                     .stored = compressed_,
                                     .persons = block_.persons,
                                     .orgs = block_.orgs});
        !s.ok()) {
      return s;
    }
    StartBlock();
    return Status::Ok();
  }

  void StartBlock() {
    block_.lines.clear();
    block_.count = 0;
    block_.min_time = INT64_MAX;  // max_time carries over: it bounds every earlier block too
    block_.persons.clear();
    block_.orgs.clear();
  }

  // Adds the indexed matches to `top` (order keys <= 0) and returns the cursor of that snapshot.
  Result<Cursor> QueryIndex(const AuditQuery& q, TopResults& top) const {
    if (q.since_ms > q.until_ms) return index_->CommittedCursor();
    const std::string_view org = OrgDigits(q.orgnr);
    LineParser parser;
    Disclosure d;
    std::string scratch;
    const audit::IndexQuery index_query{.person = q.person, .org = org, .until_ms = q.until_ms};
    return index_->Scan(index_query, [&](const audit::StoredBlock& b) -> Result<audit::Visit> {
      // Every line of this block and of the stream's older ones is at most max_time_ms old.
      const std::optional<int64_t> bar = top.Bar();
      if (b.max_time_ms < q.since_ms || (bar && b.max_time_ms < *bar)) {
        return audit::Visit::kEndStream;
      }
      std::string_view lines;
      if (Status s = BlockLines(zstd_, b.stored, scratch, lines); !s.ok()) return s.error();
      int64_t line_number = 0;
      for (size_t start = 0; start < lines.size();) {
        size_t end = lines.find('\n', start);
        if (end == std::string_view::npos) end = lines.size();
        if (parser.Parse(lines.substr(start, end - start), d) && Matches(q, org, d)) {
          // Order among equal times: block, then line; all below the tail's orders (> 0).
          top.Add(b.id * static_cast<int64_t>(kLinesPerBlock * 2) + line_number - INT64_MAX,
                  std::move(d));
          d = Disclosure();
        }
        ++line_number;
        start = end + 1;
      }
      return audit::Visit::kMore;
    });
  }

  // Adds the matching entries of the journal tail (from `cursor` on) to `top`.
  Status ScanTail(const AuditQuery& q, const Cursor& cursor,
                  const std::vector<std::pair<int64_t, Fd>>& tail, TopResults& top) const {
    if (q.limit == 0) return Status::Ok();
    const std::string_view org = OrgDigits(q.orgnr);
    LineParser parser;
    std::string buffer;
    Disclosure d;
    int64_t order = 1;
    for (size_t i = 0; i < tail.size(); ++i) {
      const auto& [n, fd] = tail[i];
      const int64_t offset = n == cursor.segment ? cursor.offset : 0;
      const bool live = i + 1 == tail.size();
      auto scan = ScanLines(fd.get(), offset, buffer, live, [&](std::string_view line) {
        if (!line.empty() && parser.Parse(line, d) && Matches(q, org, d)) {
          top.Add(order++, std::move(d));
          d = Disclosure();
        }
        return true;
      });
      if (!scan.ok()) return scan.error();
    }
    return Status::Ok();
  }

  const AuditOptions options_;
  Fd lock_fd_;
  bool has_journal_ = false;  // a folder whose journal tail queries read
  std::unique_ptr<audit::IndexBackend> index_;

  // Journal: the shared side for each write, the exclusive side to roll.
  std::shared_mutex journal_mu_;
  Fd fd_;
  int64_t segment_ = 0;
  char* base_ = nullptr;               // the current segment's mapping
  uint64_t capacity_ = 0;              // its size
  std::atomic<uint64_t> reserved_{0};  // bytes handed out (may pass capacity_ until a roll)

  // Indexer state (index_'s writer side belongs to the indexer thread once it runs).
  Cursor indexed_to_;  // the committed cursor
  const common::Zstd zstd_ = common::Zstd::Create("", kBlockZstdLevel).value();
  std::string compressed_;
  struct {
    std::string lines;
    size_t count = 0;
    int64_t min_time = INT64_MAX;
    int64_t max_time = INT64_MIN;
    std::vector<std::string> persons;  // short identifiers: no allocation each
    std::vector<std::string> orgs;
  } block_;
  LineParser parser_;
  LineView line_;
  std::string read_buffer_;
  // The syncer (WhenDurable).
  std::thread syncer_;
  mutable std::mutex sync_mu_;
  std::condition_variable sync_wake_;
  std::vector<std::function<void(bool)>> sync_waiters_;  // guarded by sync_mu_
  FlushTimes sync_times_;        // guarded by sync_mu_; its sum_s is read from sync_flushed_ns_
  bool sync_stop_ = false;       // guarded by sync_mu_
  bool sync_gathering_ = false;  // guarded by sync_mu_
  // The flushes' total time (FlushTimes::sum_s), read by the indexer without sync_mu_ (at idle
  // priority it must not hold a lock that the syncer and the io threads take).
  std::atomic<uint64_t> sync_flushed_ns_{0};
  // A gathering round flushes at once when this many wait: the flush is shared widely enough.
  static constexpr size_t kGatherEnough = 64;

  std::thread indexer_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  bool stop_ = false;
  uint64_t flush_requested_ = 0;
  uint64_t flush_served_ = 0;
  Status last_status_;
  std::string failing_detail_;  // of the failure last logged ("" while indexing succeeds)
};

}  // namespace

bool AuditLog::TakeThreadRecorded() { return std::exchange(g_recorded, false); }

Result<std::unique_ptr<AuditLog>> OpenAuditLog(const AuditOptions& options) {
  auto log = std::make_unique<JournalAuditLog>(options);
  if (Status s = log->Init(); !s.ok()) return s.error();
  return std::unique_ptr<AuditLog>(std::move(log));
}

}  // namespace norreg::store
