#include "client/feed_follower.hpp"

#include <simdjson.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace norreg::client {
namespace {

constexpr size_t kMaxIdsPerLookup = 1000;
constexpr std::string_view kDublett = "personErOpphoertSomDublett";
constexpr std::string_view kNewNumber = "endringIIdentifikasjonsnummer";
constexpr std::string_view kLookupPath = "personer/bulkoppslag/arkiv";
constexpr std::string_view kHistoryQuery = "?part=identifikasjonsnummer&part=historikk";

struct FeedEvent {
  int64_t seq = 0;
  std::string fnr;
  std::string type;
  std::string persondokument;
  bool skip = false;  // superseded by a later event of the same number in the window
};

// One document out of a lookup answer, its numbers parsed by the worker.
struct FetchedDocument {
  std::string_view key;  // dokumentidentifikator
  std::string_view document;
  PersonNumbers numbers;
};

// One POST of up to 1000 ids; filled in by whoever runs it.
struct LookupTask {
  std::string path;
  std::string request;
  bool history = false;
  std::string answer;  // owns the bytes `documents` point into
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
    task.documents.push_back({p.key, p.document, std::move(*numbers)});
  }
}

void Unique(std::vector<std::string>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The lookup workers: each with its own FregCaller (one connection), taking tasks from a queue.

class FeedFollower::LookupPool {
 public:
  // A set of tasks submitted together; Wait() returns when all have run.
  struct Batch {
    std::deque<LookupTask> tasks;  // stable addresses while queued
    size_t pending = 0;            // guarded by the pool's mutex
    bool submitted = false;
  };

  LookupPool(const FeedFollowerOptions& options, CallStats* stats,
             const std::atomic<bool>* cancel) {
    threads_.reserve(static_cast<size_t>(options.concurrency));
    for (int i = 0; i < options.concurrency; ++i) {
      threads_.emplace_back([this, &options, stats, cancel] {
        FregCaller caller(options.base_url, options.tokens, options.retry, options.http, stats,
                          cancel);
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

  void Submit(Batch& batch) {
    {
      std::lock_guard lock(mutex_);
      batch.submitted = true;
      batch.pending = batch.tasks.size();
      for (LookupTask& task : batch.tasks) queue_.push_back({&batch, &task});
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
      std::pair<Batch*, LookupTask*> item;
      {
        std::unique_lock lock(mutex_);
        work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping (queued work is always finished first)
        item = queue_.front();
        queue_.pop_front();
      }
      RunTask(caller, *item.second);
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
  std::deque<std::pair<Batch*, LookupTask*>> queue_;
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
  uint64_t pages = 0;  // non-empty pages
  bool more = false;   // ended at the read-ahead limit on a full page: more may follow
  LookupPool::Batch first;
  LookupPool::Batch second;  // the documents of skipped events whose later event did not cover
  std::unordered_map<std::string_view, const FetchedDocument*> documents;  // by dokumentid
  std::unordered_map<std::string_view, const std::vector<std::string>*> history;
};

FeedFollower::FeedFollower(FeedFollowerOptions options, LocalCopy& copy)
    : options_(std::move(options)),
      copy_(copy),
      caller_(options_.base_url, options_.tokens, options_.retry, options_.http, &call_stats_,
              options_.stop != nullptr ? options_.stop : &never_) {}

FeedFollower::~FeedFollower() = default;

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

Result<std::unique_ptr<FeedFollower::Window>> FeedFollower::ReadWindow(int64_t from) {
  auto window = std::make_unique<Window>(pool_.get());
  int64_t seq = from;
  for (size_t page = 0; page < options_.read_ahead_pages; ++page) {
    const std::string path = "hendelser/feed?seq=" + std::to_string(seq);
    HttpHeaders headers;
    if (etag_seq_ == seq && !etag_.empty()) headers.emplace_back("If-None-Match", etag_);
    auto response = caller_.Call("GET", path, {}, headers);
    if (!response.ok()) return response.error();
    if (response->status == 304) {
      ++stats_.not_modified;
      break;
    }
    if (response->status != 200) return ErrorForAnswer("GET " + path, *response);
    if (auto etag = response->Header("etag")) {
      etag_ = *etag;
      etag_seq_ = seq;
    } else {
      etag_.clear();
    }
    auto parsed = ParsePage(response->body);
    if (!parsed.ok()) return parsed.error();
    std::vector<FeedEvent>& events = *parsed;
    const bool full = events.size() >= options_.page_size;
    // Only what lies at or after the requested seq, in order (the server answers ascending).
    std::erase_if(events, [&](const FeedEvent& e) { return e.seq < seq; });
    std::stable_sort(events.begin(), events.end(),
                     [](const FeedEvent& a, const FeedEvent& b) { return a.seq < b.seq; });
    if (events.empty()) break;
    ++window->pages;
    seq = events.back().seq + 1;
    if (window->events.empty()) {
      window->events = std::move(events);
    } else {
      window->events.insert(window->events.end(), std::make_move_iterator(events.begin()),
                            std::make_move_iterator(events.end()));
    }
    if (!full) break;
    if (page + 1 == options_.read_ahead_pages) window->more = true;
  }
  return window;
}

void FeedFollower::Plan(Window& window) {
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
  auto add = [&](const std::vector<std::string>& ids, bool history) {
    for (size_t begin = 0; begin < ids.size(); begin += kMaxIdsPerLookup) {
      LookupTask& task = window.first.tasks.emplace_back();
      task.history = history;
      task.path = std::string(kLookupPath) + std::string(history ? kHistoryQuery : "");
      auto body = IdListBody("dokumentidentifikator", ids, begin, begin + kMaxIdsPerLookup);
      if (body.ok()) {
        task.request = std::move(*body);
      } else {
        task.error = std::move(body.error());  // reported by Finish, never sent
      }
    }
  };
  add(wanted, false);
  add(history_wanted, true);
}

void FeedFollower::Submit(Window& window, bool second_round) {
  LookupPool::Batch& batch = second_round ? window.second : window.first;
  if (pool_ == nullptr || batch.tasks.size() <= 1) return;  // run by Finish on this thread
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
        } else {
          window.documents[d.key] = &d;
        }
      }
    }
    return {};
  };
  if (Status s = complete(window.first); !s.ok()) return s;
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
  for (size_t begin = 0; begin < wanted.size(); begin += kMaxIdsPerLookup) {
    LookupTask& task = window.second.tasks.emplace_back();
    task.path = std::string(kLookupPath);
    auto body = IdListBody("dokumentidentifikator", wanted, begin, begin + kMaxIdsPerLookup);
    if (!body.ok()) return body.error();
    task.request = std::move(*body);
  }
  Submit(window, /*second_round=*/true);
  return complete(window.second);
}

Status FeedFollower::Apply(Window& window) {
  const std::vector<FeedEvent>& events = window.events;
  FeedStats delta;
  if (Status s = copy_.Begin(); !s.ok()) return s;
  auto fail = [&](Error error) -> Status {
    copy_.Rollback();
    return error;
  };
  std::vector<std::string> old;
  for (const FeedEvent& e : events) {
    if (e.skip) {
      ++delta.superseded;
      continue;
    }
    if (e.type == kDublett) {
      if (!e.fnr.empty()) {
        auto removed = copy_.Remove(e.fnr);
        if (!removed.ok()) return fail(removed.error());
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
    auto removed = copy_.Replace(current, old, d.document, e.seq);
    if (!removed.ok()) return fail(removed.error());
    delta.removed += static_cast<uint64_t>(*removed);
    ++delta.upserted;
  }
  const int64_t last = events.back().seq;
  if (Status s = copy_.SetMeta(kMetaFeedSekvensnummer, std::to_string(last)); !s.ok()) {
    return fail(s.error());
  }
  if (Status s = copy_.Commit(); !s.ok()) return s;
  stats_.cursor = last;
  stats_.pages += window.pages;
  ++stats_.windows;
  stats_.events += events.size();
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
  Plan(w);
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
      Plan(*current);
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
      Plan(*ahead);
      Submit(*ahead, /*second_round=*/false);
      ahead_submitted = true;
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
