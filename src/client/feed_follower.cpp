#include "client/feed_follower.hpp"

#include <simdjson.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/compress.hpp"

namespace norreg::client {
namespace {

constexpr size_t kMaxIdsPerLookup = 1000;
constexpr std::string_view kDublett = "personErOpphoertSomDublett";
constexpr std::string_view kNewNumber = "endringIIdentifikasjonsnummer";
constexpr std::string_view kLookupPath = "personer/bulkoppslag/arkiv";
constexpr std::string_view kCurrentPath = "personer/bulkoppslag";
constexpr std::string_view kHistoryQuery = "?part=identifikasjonsnummer&part=historikk";

struct FeedEvent {
  int64_t seq = 0;
  std::string fnr;
  std::string type;
  std::string persondokument;
  // kVersions: superseded by a later event of the same number in the window; kLatest: covered by
  // a document fetched before.
  bool skip = false;
};

// Whether the event's person has a document after it: its persondokument, or on a thin feed
// (no document ids) any event but a dublett's.
bool HasDocument(const FeedEvent& e, bool thin_feed) {
  return !e.persondokument.empty() || (thin_feed && e.type != kDublett);
}

// One document out of a lookup answer, its numbers parsed by the worker.
struct FetchedDocument {
  std::string_view key;  // dokumentidentifikator (kVersions) or the number asked for (kLatest)
  std::string_view document;
  PersonNumbers numbers;
  Precompressed stored;  // the document as the local copy stores it, when compressed ahead
};

// One POST of up to 1000 ids; filled in by whoever runs it.
struct LookupTask {
  std::string path;
  std::string request;
  bool history = false;
  // The local copy's compressor when the lookup was planned: the worker compresses the documents
  // with it, off the thread that writes the copy.
  std::shared_ptr<const common::Zstd> compressor;
  std::string answer;  // owns the bytes `documents` point into
  std::string packed;  // owns the compressed documents
  std::vector<FetchedDocument> documents;
  std::optional<Error> error;
};

Error Malformed(simdjson::error_code code) {
  return MakeError(ErrorCode::kInternal,
                   std::string("feed page: malformed JSON: ") + simdjson::error_message(code));
}

// The events of one page, and how many the page held before any filtering.
Result<std::vector<FeedEvent>> ParsePage(std::string& body) {
  std::vector<FeedEvent> events;
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  thread_local simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array list;
  auto error = parser.iterate(body.data(), body.size(), body.capacity()).get(doc);
  if (!error) error = doc.get_array().get(list);
  if (error) return Malformed(error);
  for (auto item_result : list) {
    simdjson::ondemand::object item;
    if ((error = item_result.get_object().get(item))) return Malformed(error);
    FeedEvent event;
    for (auto field : item) {
      std::string_view key;
      if ((error = field.unescaped_key().get(key))) return Malformed(error);
      if (key == "sekvensnummer") {
        if ((error = field.value().get_int64().get(event.seq))) return Malformed(error);
      } else if (key == "hendelse") {
        simdjson::ondemand::object hendelse;
        if ((error = field.value().get_object().get(hendelse))) return Malformed(error);
        for (auto h : hendelse) {
          std::string_view name;
          if ((error = h.unescaped_key().get(name))) return Malformed(error);
          std::string* target = name == "folkeregisteridentifikator" ? &event.fnr
                                : name == "hendelsetype"             ? &event.type
                                : name == "persondokument"           ? &event.persondokument
                                                                     : nullptr;
          if (target == nullptr) continue;
          simdjson::ondemand::value value;
          if ((error = h.value().get(value))) return Malformed(error);
          bool is_null = false;
          if ((error = value.is_null().get(is_null))) return Malformed(error);
          if (is_null) continue;
          std::string_view text;
          if ((error = value.get_string().get(text))) return Malformed(error);
          *target = text;
        }
      }
    }
    if (event.seq <= 0) {
      return MakeError(ErrorCode::kInternal, "feed page: event without sekvensnummer");
    }
    events.push_back(std::move(event));
  }
  return events;
}

// One feed page as fetched (by the follower's thread or a pool worker).
struct FeedPage {
  int64_t seq = 0;  // asked for
  int status = 0;
  std::string etag;
  std::vector<FeedEvent> events;  // at or after `seq`, ascending
  size_t received = 0;            // events on the page as answered (a full page: more may follow)
  std::optional<Error> error;
};

// GET hendelser/feed?seq=page.seq (with If-None-Match when `etag` is given) into `page`.
void FetchPage(FregCaller& caller, FeedPage& page, const std::string& etag) {
  const std::string path = "hendelser/feed?seq=" + std::to_string(page.seq);
  HttpHeaders headers;
  if (!etag.empty()) headers.emplace_back("If-None-Match", etag);
  auto response = caller.Call("GET", path, {}, headers);
  if (!response.ok()) {
    page.error = std::move(response.error());
    return;
  }
  page.status = response->status;
  if (response->status == 304) return;
  if (response->status != 200) {
    page.error = ErrorForAnswer("GET " + path, *response);
    return;
  }
  if (auto value = response->Header("etag")) page.etag = *value;
  auto parsed = ParsePage(response->body);
  if (!parsed.ok()) {
    page.error = std::move(parsed.error());
    return;
  }
  page.events = std::move(*parsed);
  page.received = page.events.size();
  // Only what lies at or after the requested seq, in order (the server answers ascending).
  std::erase_if(page.events, [&](const FeedEvent& e) { return e.seq < page.seq; });
  std::stable_sort(page.events.begin(), page.events.end(),
                   [](const FeedEvent& a, const FeedEvent& b) { return a.seq < b.seq; });
}

// Jobs that fetch `pages` (each given its sekvensnummer: from, from + page_size, ...).
std::vector<std::function<void(FregCaller&)>> PageJobs(std::vector<FeedPage>& pages, int64_t from,
                                                       size_t page_size) {
  std::vector<std::function<void(FregCaller&)>> jobs;
  jobs.reserve(pages.size());
  for (size_t k = 0; k < pages.size(); ++k) {
    pages[k].seq = from + static_cast<int64_t>(k * page_size);
    jobs.emplace_back([&page = pages[k]](FregCaller& caller) { FetchPage(caller, page, {}); });
  }
  return jobs;
}

// Runs one lookup on `caller`: the POST, the answer's documents and (for documents, not history)
// each document's numbers; the history lookups keep the numbers only.
void RunTask(FregCaller& caller, LookupTask& task) {
  auto answer =
      caller.Call("POST", task.path, task.request, {{"Content-Type", "application/json"}});
  if (!answer.ok()) {
    task.error = std::move(answer.error());
    return;
  }
  if (answer->status != 200) {
    task.error = ErrorForAnswer("POST " + task.path, *answer);
    return;
  }
  task.answer = std::move(answer->body);
  auto persons = ParseBulkAnswer(task.answer);
  if (!persons.ok()) {
    task.error = std::move(persons.error());
    return;
  }
  const char* padded_end = task.answer.data() + task.answer.capacity();
  task.documents.reserve(persons->size());
  for (const BulkPerson& p : *persons) {
    auto numbers =
        ParsePersonNumbers(p.document, static_cast<size_t>(padded_end - p.document.data()));
    if (!numbers.ok()) {
      task.error = std::move(numbers.error());
      return;
    }
    task.documents.push_back({p.key, p.document, std::move(*numbers), {}});
  }
  if (task.compressor == nullptr || task.history) return;
  thread_local std::string frame;
  std::vector<size_t> ends;
  ends.reserve(task.documents.size());
  task.packed.reserve(task.answer.size() / 6);
  for (const FetchedDocument& d : task.documents) {
    task.compressor->Compress(d.document, frame);
    task.packed += frame;
    ends.push_back(task.packed.size());
  }
  size_t begin = 0;
  for (size_t i = 0; i < task.documents.size(); ++i) {
    task.documents[i].stored = {task.compressor.get(),
                                std::string_view(task.packed).substr(begin, ends[i] - begin)};
    begin = ends[i];
  }
}

void Unique(std::vector<std::string>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

// A number of up to 19 digits as an integer (the key of the covered map); nullopt otherwise.
std::optional<uint64_t> NumberKey(std::string_view fnr) {
  if (fnr.empty() || fnr.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : fnr) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// Lookup tasks of up to 1000 ids each, appended to `batch`; a bad id becomes the task's error
// (reported by Finish, never sent). Documents (not history) are compressed with `compressor`
// when it is set.
void AddTasks(std::deque<LookupTask>& batch, std::string_view path, std::string_view id_name,
              const std::vector<std::string>& ids, bool history,
              const std::shared_ptr<const common::Zstd>& compressor) {
  for (size_t begin = 0; begin < ids.size(); begin += kMaxIdsPerLookup) {
    LookupTask& task = batch.emplace_back();
    task.history = history;
    if (!history) task.compressor = compressor;
    task.path = std::string(path) + std::string(history ? kHistoryQuery : "");
    auto body = IdListBody(id_name, ids, begin, begin + kMaxIdsPerLookup);
    if (body.ok()) {
      task.request = std::move(*body);
    } else {
      task.error = std::move(body.error());
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The lookup workers: each with its own FregCaller (one connection), taking tasks from a queue.

class FeedFollower::LookupPool {
 public:
  // A set of jobs submitted together; Wait() returns when all have run.
  struct Batch {
    std::deque<LookupTask> tasks;  // lookups (stable addresses while queued)
    size_t pending = 0;            // guarded by the pool's mutex
    bool submitted = false;
  };
  using Job = std::function<void(FregCaller&)>;

  LookupPool(const FeedFollowerOptions& options, CallStats* stats,
             const std::atomic<bool>* cancel) {
    threads_.reserve(static_cast<size_t>(options.concurrency));
    for (int i = 0; i < options.concurrency; ++i) {
      threads_.emplace_back([this, &options, stats, cancel] {
        FregCaller caller(options.base_url, options.tokens, options.retry, options.http, stats,
                          cancel, options.api_path);
        Work(caller);
      });
    }
  }
  ~LookupPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  LookupPool(const LookupPool&) = delete;
  LookupPool& operator=(const LookupPool&) = delete;

  // Runs the batch's lookup tasks.
  void Submit(Batch& batch) {
    std::vector<Job> jobs;
    jobs.reserve(batch.tasks.size());
    for (LookupTask& task : batch.tasks) {
      jobs.emplace_back([&task](FregCaller& caller) { RunTask(caller, task); });
    }
    Submit(batch, std::move(jobs));
  }
  // Runs `jobs` as part of `batch`; `first` puts them ahead of everything queued (in order).
  void Submit(Batch& batch, std::vector<Job> jobs, bool first = false) {
    {
      std::lock_guard lock(mutex_);
      batch.submitted = true;
      batch.pending = jobs.size();
      if (first) {
        for (auto job = jobs.rbegin(); job != jobs.rend(); ++job) {
          queue_.emplace_front(&batch, std::move(*job));
        }
      } else {
        for (Job& job : jobs) queue_.emplace_back(&batch, std::move(job));
      }
    }
    work_cv_.notify_all();
  }
  void Wait(Batch& batch) {
    std::unique_lock lock(mutex_);
    done_cv_.wait(lock, [&] { return batch.pending == 0; });
  }

 private:
  void Work(FregCaller& caller) {
    while (true) {
      std::pair<Batch*, Job> item;
      {
        std::unique_lock lock(mutex_);
        work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping (queued work is always finished first)
        item = std::move(queue_.front());
        queue_.pop_front();
      }
      item.second(caller);
      {
        std::lock_guard lock(mutex_);
        --item.first->pending;
      }
      done_cv_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::pair<Batch*, Job>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

// One window of events and its lookups. Must not be destroyed while a batch is in flight: the
// destructor waits for them.
struct FeedFollower::Window {
  explicit Window(LookupPool* p) : pool(p) {}
  ~Window() {
    if (pool == nullptr) return;
    if (first.submitted) pool->Wait(first);
    if (second.submitted) pool->Wait(second);
  }
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  LookupPool* pool;
  std::vector<FeedEvent> events;
  int64_t head = 0;    // kLatest: the latest sekvensnummer, read before the lookups
  uint64_t pages = 0;  // non-empty pages
  bool more = false;   // ended at the read-ahead limit on a full page: more may follow
  LookupPool::Batch first;
  LookupPool::Batch second;  // the documents of skipped events whose later event did not cover
  // kVersions: by FetchedDocument::key (the dokumentidentifikator).
  std::unordered_map<std::string_view, const FetchedDocument*> documents;
  // kLatest: the documents in the order received, and their index by NumberKey(key) (by the key
  // itself for the rare key that is no number).
  std::vector<const FetchedDocument*> current;
  NumberMap current_index;
  std::unordered_map<std::string_view, size_t> current_other;

  // kLatest: the index in `current` of the document fetched for `fnr`.
  std::optional<size_t> Current(std::string_view fnr) const {
    if (auto key = NumberKey(fnr)) {
      const int64_t* index = current_index.Find(*key);
      if (index == nullptr) return std::nullopt;
      return static_cast<size_t>(*index);
    }
    auto it = current_other.find(fnr);
    if (it == current_other.end()) return std::nullopt;
    return it->second;
  }
  void AddCurrent(const FetchedDocument& d) {
    const size_t next = current.size();
    size_t index = next;
    if (auto key = NumberKey(d.key)) {
      index =
          static_cast<size_t>(*current_index.TryEmplace(*key, static_cast<int64_t>(next)).first);
    } else {
      index = current_other.try_emplace(d.key, next).first->second;
    }
    if (index == next) {
      current.push_back(&d);
    } else {
      current[index] = &d;  // a later answer for the same number
    }
  }
  std::unordered_map<std::string_view, const std::vector<std::string>*> history;
};

FeedFollower::FeedFollower(FeedFollowerOptions options, LocalCopy& copy)
    : options_(std::move(options)),
      copy_(copy),
      caller_(options_.base_url, options_.tokens, options_.retry, options_.http, &call_stats_,
              options_.stop != nullptr ? options_.stop : &never_, options_.api_path) {}

FeedFollower::~FeedFollower() { DropPrefetch(); }

FeedStats FeedFollower::stats() const {
  FeedStats s = stats_;
  s.retries = call_stats_.retries.load();
  return s;
}

Status FeedFollower::Init() {
  if (initialised_) return {};
  if (options_.concurrency < 1 || options_.concurrency > 64) {
    return MakeError(ErrorCode::kInvalidInput, "concurrency must be 1..64");
  }
  if (options_.read_ahead_pages < 1 || options_.page_size < 1) {
    return MakeError(ErrorCode::kInvalidInput, "read_ahead_pages and page_size must be >= 1");
  }
  if (Status s = copy_.BindApiPath(options_.api_path, kFregApiPath); !s.ok()) return s;
  auto cursor = copy_.GetMetaInt(kMetaFeedSekvensnummer);
  if (!cursor.ok()) return cursor.error();
  if (options_.from) {
    if (*options_.from < 1) return MakeError(ErrorCode::kInvalidInput, "--from must be >= 1");
    next_ = *options_.from;
  } else if (cursor->has_value()) {
    next_ = **cursor + 1;
  } else {
    return MakeError(ErrorCode::kInvalidInput,
                     "the local copy has no recorded sekvensnummer: run an extract first or give "
                     "a starting sekvensnummer");
  }
  if (options_.concurrency > 1) {
    pool_ = std::make_unique<LookupPool>(options_, &call_stats_,
                                         options_.stop != nullptr ? options_.stop : &never_);
  }
  stats_.cursor = next_ - 1;
  initialised_ = true;
  return {};
}

// Pages asked for before they are needed: the window after the one just read.
struct FeedFollower::Prefetch {
  int64_t from = 0;
  std::vector<FeedPage> pages;
  LookupPool::Batch batch;
};

void FeedFollower::StartPrefetch(int64_t from) {
  DropPrefetch();
  if (pool_ == nullptr) return;
  auto prefetch = std::make_unique<Prefetch>();
  prefetch->from = from;
  prefetch->pages.resize(options_.read_ahead_pages);
  pool_->Submit(prefetch->batch, PageJobs(prefetch->pages, from, options_.page_size),
                /*first=*/true);
  prefetch_ = std::move(prefetch);
}

void FeedFollower::DropPrefetch() {
  if (prefetch_ == nullptr) return;
  pool_->Wait(prefetch_->batch);  // its jobs write into its pages
  prefetch_.reset();
}

Result<std::unique_ptr<FeedFollower::Window>> FeedFollower::ReadWindow(int64_t from) {
  auto window = std::make_unique<Window>(pool_.get());
  int64_t seq = from;
  // Takes in the next page; false when the window ends with it.
  auto accept = [&](FeedPage& page) -> Result<bool> {
    if (page.error) return *page.error;
    if (page.status == 304) {
      ++stats_.not_modified;
      return false;
    }
    if (page.etag.empty()) {
      etag_.clear();
    } else {
      etag_ = std::move(page.etag);
      etag_seq_ = page.seq;
    }
    if (page.events.empty()) return false;
    ++window->pages;
    seq = page.events.back().seq + 1;
    if (window->events.empty()) {
      window->events = std::move(page.events);
    } else {
      window->events.insert(window->events.end(), std::make_move_iterator(page.events.begin()),
                            std::make_move_iterator(page.events.end()));
    }
    return page.received >= options_.page_size;
  };
  // Pages asked for in parallel, assuming gap-free numbering (a full page then spans exactly
  // page_size sekvensnummer): each is used only if it starts where the one before ended, so a
  // server with gaps gets the same window, just one page at a time. Returns false when the window
  // ended among them.
  size_t pages = 0;
  auto take = [&](std::vector<FeedPage>& speculative) -> Result<bool> {
    for (FeedPage& page : speculative) {
      if (page.seq != seq || pages == options_.read_ahead_pages) break;
      auto more = accept(page);
      if (!more.ok()) return more.error();
      if (!*more) return false;
      ++pages;
    }
    return true;
  };
  if (prefetch_ != nullptr && prefetch_->from == from) {
    pool_->Wait(prefetch_->batch);
    std::unique_ptr<Prefetch> ready = std::move(prefetch_);
    auto more = take(ready->pages);
    if (!more.ok()) return more.error();
    if (!*more) return window;
  }
  DropPrefetch();  // asked for another place (a gap, or a window that failed)
  while (pages < options_.read_ahead_pages) {
    const size_t left = options_.read_ahead_pages - pages;
    if (pages == 0 || pool_ == nullptr || left == 1) {
      FeedPage page;
      page.seq = seq;
      FetchPage(caller_, page, etag_seq_ == seq ? etag_ : std::string());
      auto more = accept(page);
      if (!more.ok()) return more.error();
      if (!*more) return window;
      ++pages;
      continue;
    }
    // Ahead of the lookups already queued (the previous window's): this window can then be
    // planned, and its lookups queued, as soon as those lookups are done.
    std::vector<FeedPage> speculative(left);
    LookupPool::Batch batch;
    pool_->Submit(batch, PageJobs(speculative, seq, options_.page_size), /*first=*/true);
    pool_->Wait(batch);
    auto more = take(speculative);
    if (!more.ok()) return more.error();
    if (!*more) return window;
  }
  window->more = true;
  // The next window's pages are read while this one is planned, looked up and applied.
  StartPrefetch(seq);
  return window;
}

bool FeedFollower::Covered(std::string_view fnr, int64_t seq) const {
  auto key = NumberKey(fnr);
  if (!key) return false;
  const int64_t* head = covered_.Find(*key);
  return head != nullptr && *head >= seq;
}

void FeedFollower::Cover(std::string_view fnr, int64_t head) {
  auto key = NumberKey(fnr);
  if (!key) return;
  if (int64_t* known = covered_.Find(*key)) {
    *known = std::max(*known, head);
  } else if (covered_.size() < options_.max_covered) {
    covered_.TryEmplace(*key, head);
  }  // else full: this number is simply fetched again when it next changes
}

Status FeedFollower::PlanLatest(Window& window) {
  std::vector<std::string> wanted;
  std::vector<std::string> history_wanted;
  constexpr size_t kPrefetchAhead = 16;
  std::vector<FeedEvent>& events = window.events;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i + kPrefetchAhead < events.size()) {
      if (auto key = NumberKey(events[i + kPrefetchAhead].fnr)) covered_.Prefetch(*key);
    }
    FeedEvent& e = events[i];
    if (e.fnr.empty() || !HasDocument(e, options_.thin_feed) || e.type == kDublett) continue;
    const bool new_number = e.type == kNewNumber;
    if (!new_number && Covered(e.fnr, e.seq)) {
      e.skip = true;  // coverage only grows (but for a failed window, which ends the run)
      continue;
    }
    wanted.push_back(e.fnr);
    if (new_number) history_wanted.push_back(e.fnr);
  }
  if (wanted.empty()) return {};
  auto head = LatestSekvensnummer(caller_);
  if (!head.ok()) return head.error();
  window.head = std::max(*head, window.events.back().seq);
  Unique(wanted);
  Unique(history_wanted);
  AddTasks(window.first.tasks, kCurrentPath, "foedselsEllerDNummer", wanted, false,
           copy_.compressor());
  AddTasks(window.first.tasks, kCurrentPath, "foedselsEllerDNummer", history_wanted, true, nullptr);
  return {};
}

Status FeedFollower::Plan(Window& window) {
  if (options_.documents == FeedDocuments::kLatest) return PlanLatest(window);
  std::vector<FeedEvent>& events = window.events;
  if (options_.skip_superseded) {
    // The last event of each number; numbers touched by a number change or a dublett keep
    // every event (their rows move between numbers).
    std::unordered_map<std::string_view, size_t> last_of;
    std::unordered_set<std::string_view> unsafe;
    last_of.reserve(events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      const FeedEvent& e = events[i];
      if (e.fnr.empty()) continue;
      last_of[e.fnr] = i;
      if (e.type == kNewNumber || e.type == kDublett) unsafe.insert(e.fnr);
    }
    for (size_t i = 0; i < events.size(); ++i) {
      FeedEvent& e = events[i];
      if (e.fnr.empty() || e.persondokument.empty() || e.type == kNewNumber || e.type == kDublett ||
          unsafe.contains(e.fnr)) {
        continue;
      }
      const FeedEvent& last = events[last_of[e.fnr]];
      e.skip = &last != &e && !last.persondokument.empty();
    }
  }
  std::vector<std::string> wanted;
  std::vector<std::string> history_wanted;
  for (const FeedEvent& e : events) {
    if (e.skip || e.persondokument.empty() || e.type == kDublett) continue;
    wanted.push_back(e.persondokument);
    if (e.type == kNewNumber) history_wanted.push_back(e.persondokument);
  }
  Unique(wanted);
  Unique(history_wanted);
  AddTasks(window.first.tasks, kLookupPath, "dokumentidentifikator", wanted, false,
           copy_.compressor());
  AddTasks(window.first.tasks, kLookupPath, "dokumentidentifikator", history_wanted, true, nullptr);
  return {};
}

void FeedFollower::Submit(Window& window, bool second_round) {
  LookupPool::Batch& batch = second_round ? window.second : window.first;
  if (pool_ == nullptr || batch.tasks.empty()) return;  // run by Finish on this thread
  for (LookupTask& task : batch.tasks) {
    if (task.error) return;  // a bad id: Finish reports it without sending anything
  }
  pool_->Submit(batch);
}

Status FeedFollower::Finish(Window& window) {
  auto complete = [&](LookupPool::Batch& batch) -> Status {
    if (batch.submitted) {
      pool_->Wait(batch);
    } else {
      for (LookupTask& task : batch.tasks) {
        if (task.error) return *task.error;
        RunTask(caller_, task);
        if (task.error) return *task.error;
      }
    }
    for (LookupTask& task : batch.tasks) {
      if (task.error) return *task.error;
      for (const FetchedDocument& d : task.documents) {
        if (task.history) {
          window.history[d.key] = &d.numbers.all;
        } else if (options_.documents == FeedDocuments::kVersions) {
          window.documents[d.key] = &d;
        } else {
          window.AddCurrent(d);
        }
      }
    }
    return {};
  };
  if (Status s = complete(window.first); !s.ok()) return s;
  if (options_.documents == FeedDocuments::kLatest) {
    // Every number these documents show (and the number asked for) is current up to the head:
    // later windows planned before this one is applied already skip them.
    for (const FetchedDocument* d : window.current) {
      Cover(d->key, window.head);
      for (const std::string& n : d->numbers.all) {
        if (n != d->key) Cover(n, window.head);  // `current` is one of `all`
      }
    }
    return {};
  }
  if (!options_.skip_superseded) return {};

  // A skipped event is covered only when the last event of its number has a document that is
  // current under that number; otherwise fetch the skipped documents after all.
  std::unordered_map<std::string_view, const FeedEvent*> last_of;
  for (const FeedEvent& e : window.events) {
    if (!e.fnr.empty()) last_of[e.fnr] = &e;
  }
  std::vector<std::string> wanted;
  for (FeedEvent& e : window.events) {
    if (!e.skip) continue;
    const FeedEvent& last = *last_of[e.fnr];
    auto it = window.documents.find(last.persondokument);
    const bool covered = it != window.documents.end() && (it->second->numbers.current.empty() ||
                                                          it->second->numbers.current == last.fnr);
    if (covered) continue;
    e.skip = false;
    if (!window.documents.contains(e.persondokument)) wanted.push_back(e.persondokument);
  }
  if (wanted.empty()) return {};
  Unique(wanted);
  AddTasks(window.second.tasks, kLookupPath, "dokumentidentifikator", wanted, false,
           copy_.compressor());
  Submit(window, /*second_round=*/true);
  return complete(window.second);
}

Status FeedFollower::ApplyLatest(Window& window, FeedStats& delta) {
  std::vector<bool> applied(window.current.size());  // by document: written into its row
  std::vector<std::string> old;
  for (const FeedEvent& e : window.events) {
    if (e.fnr.empty()) continue;
    if (e.type == kDublett) {
      if (Covered(e.fnr, e.seq)) continue;  // a document fetched after it showed the number
      auto removed = copy_.Remove(e.fnr);
      if (!removed.ok()) return removed.error();
      delta.removed += *removed ? 1 : 0;
      continue;
    }
    if (!HasDocument(e, options_.thin_feed)) continue;
    if (e.skip) {
      ++delta.superseded;
      continue;
    }
    const std::optional<size_t> found = window.Current(e.fnr);
    if (!found) {
      if (Covered(e.fnr, e.seq)) {
        ++delta.superseded;
      } else {
        ++delta.missing;
      }
      continue;
    }
    auto history = window.history.find(e.fnr);
    if (applied[*found] && history == window.history.end()) {
      ++delta.superseded;
      continue;
    }
    const FetchedDocument& d = *window.current[*found];
    const std::string& current = d.numbers.current.empty() ? e.fnr : d.numbers.current;
    old.assign(d.numbers.all.begin(), d.numbers.all.end());
    old.push_back(e.fnr);
    if (history != window.history.end()) {
      old.insert(old.end(), history->second->begin(), history->second->end());
    }
    Unique(old);
    auto removed = copy_.Replace(current, old, d.document, window.head, d.stored);
    if (!removed.ok()) return removed.error();
    delta.removed += static_cast<uint64_t>(*removed);
    ++delta.upserted;
    applied[*found] = true;
  }
  return {};
}

Status FeedFollower::ApplyVersions(Window& window, FeedStats& delta) {
  std::vector<std::string> old;
  for (const FeedEvent& e : window.events) {
    if (e.skip) {
      ++delta.superseded;
      continue;
    }
    if (e.type == kDublett) {
      if (!e.fnr.empty()) {
        auto removed = copy_.Remove(e.fnr);
        if (!removed.ok()) return removed.error();
        delta.removed += *removed ? 1 : 0;
      }
      continue;
    }
    if (e.persondokument.empty()) continue;
    auto it = window.documents.find(e.persondokument);
    if (it == window.documents.end()) {
      ++delta.missing;
      continue;
    }
    const FetchedDocument& d = *it->second;
    const std::string& current = d.numbers.current.empty() ? e.fnr : d.numbers.current;
    if (current.empty()) {
      ++delta.missing;
      continue;
    }
    old.assign(d.numbers.all.begin(), d.numbers.all.end());
    if (!e.fnr.empty()) old.push_back(e.fnr);
    if (auto h = window.history.find(e.persondokument); h != window.history.end()) {
      old.insert(old.end(), h->second->begin(), h->second->end());
    }
    Unique(old);
    auto removed = copy_.Replace(current, old, d.document, e.seq, d.stored);
    if (!removed.ok()) return removed.error();
    delta.removed += static_cast<uint64_t>(*removed);
    ++delta.upserted;
  }
  return {};
}

Status FeedFollower::Apply(Window& window) {
  FeedStats delta;
  if (Status s = copy_.Begin(); !s.ok()) return s;
  auto fail = [&](Error error) -> Status {
    copy_.Rollback();
    covered_.Clear();  // it described rows this window would have written
    return error;
  };
  Status applied = options_.documents == FeedDocuments::kLatest ? ApplyLatest(window, delta)
                                                                : ApplyVersions(window, delta);
  if (!applied.ok()) return fail(applied.error());
  const int64_t last = window.events.back().seq;
  if (Status s = copy_.SetMeta(kMetaFeedSekvensnummer, std::to_string(last)); !s.ok()) {
    return fail(s.error());
  }
  if (Status s = copy_.Commit(); !s.ok()) return fail(s.error());
  if (covered_.size() > options_.max_covered / 2) {
    // What the cursor has passed can cover no later event.
    covered_.EraseIf([&](uint64_t, int64_t head) { return head <= last; });
  }
  stats_.cursor = last;
  stats_.pages += window.pages;
  ++stats_.windows;
  stats_.events += window.events.size();
  stats_.upserted += delta.upserted;
  stats_.superseded += delta.superseded;
  stats_.removed += delta.removed;
  stats_.missing += delta.missing;
  next_ = last + 1;
  return {};
}

Result<size_t> FeedFollower::Step() {
  if (Status s = Init(); !s.ok()) return s.error();
  auto window = ReadWindow(next_);
  if (!window.ok()) return window.error();
  Window& w = **window;
  if (w.events.empty()) return size_t{0};
  if (Status s = Plan(w); !s.ok()) return s.error();
  Submit(w, /*second_round=*/false);
  if (Status s = Finish(w); !s.ok()) return s.error();
  if (Status s = Apply(w); !s.ok()) return s.error();
  return w.events.size();
}

Result<FeedStats> FeedFollower::Run() {
  if (Status s = Init(); !s.ok()) return s.error();
  auto stopped = [&] { return options_.stop != nullptr && options_.stop->load(); };
  // `current` is read and (once planned) has its lookups submitted; while they run the next
  // window is read, and while `current` is applied the next window's lookups run.
  std::unique_ptr<Window> current;
  bool current_submitted = false;
  while (!stopped()) {
    if (current == nullptr) {
      auto read = ReadWindow(next_);
      if (!read.ok()) {
        if (stopped()) break;  // a cancelled call, not a failure
        return read.error();
      }
      current = std::move(*read);
      current_submitted = false;
    }
    if (current->events.empty()) {
      current.reset();
      if (options_.once) break;
      if (!caller_.SleepFor(options_.interval)) break;
      continue;
    }
    if (!current_submitted) {
      if (Status s = Plan(*current); !s.ok()) {
        if (stopped()) break;
        return s.error();
      }
      Submit(*current, /*second_round=*/false);
    }
    std::unique_ptr<Window> ahead;
    std::optional<Error> ahead_error;
    if (current->more) {
      auto read = ReadWindow(current->events.back().seq + 1);
      if (read.ok()) {
        ahead = std::move(*read);
      } else {
        ahead_error = std::move(read.error());
      }
    }
    if (Status s = Finish(*current); !s.ok()) {
      if (stopped()) break;
      return s.error();
    }
    bool ahead_submitted = false;
    if (ahead != nullptr && !ahead->events.empty()) {
      if (Status s = Plan(*ahead); s.ok()) {
        Submit(*ahead, /*second_round=*/false);
        ahead_submitted = true;
      } else {
        ahead_error = std::move(s.error());  // reported after `current` is applied
        ahead.reset();
      }
    }
    if (Status s = Apply(*current); !s.ok()) return s.error();
    if (options_.on_page) options_.on_page(stats());
    if (ahead_error) {
      if (stopped()) break;
      return *ahead_error;
    }
    current = std::move(ahead);
    current_submitted = ahead_submitted;
  }
  return stats();
}

}  // namespace norreg::client
