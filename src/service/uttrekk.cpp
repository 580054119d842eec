// Extract jobs: see uttrekk.hpp for the contract and docs/design.md for the design.
//
// jobb.json (one per job folder, rewritten atomically when the job finishes):
//   {"jobbId":"<uuid>","orgnr":"<orgnr>","type":"komplett"|"tilpasset","feedsekvensnr":N,
//    "bestilt":<epoch ms>,"status":"running"|"done","batcher":<batches when done>,
//    "kriterier":"<UttrekkCriteria::ToJson(), tailored only>"}
#include "service/uttrekk.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/document_id.hpp"
#include "common/files.hpp"
#include "common/ids.hpp"
#include "freg/record_codec.hpp"

namespace norreg::service {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kInternalMessage = "Feil i tjenesten. Vennligst prøv igjen senere.";
constexpr const char* kGoneMessage = "Uttrekksjobben eller batchen finnes ikke";
constexpr const char* kMetaFile = "jobb.json";
constexpr unsigned kFileMode = 0600;

Error Internal(std::string detail) {
  return MakeError(ErrorCode::kInternal, kInternalMessage, std::move(detail));
}

const std::shared_ptr<const std::string>& EmptyBody() {
  static const auto* body =
      new std::shared_ptr<const std::string>(std::make_shared<const std::string>("{}"));
  return *body;
}

std::string_view FieldOf(UttrekkKind kind) {
  return kind == UttrekkKind::kKomplett ? "dokumentidentifikator" : "foedselsEllerDNummer";
}

// Whole file of any size (batches may exceed ReadWholeFile's limit when configured large).
Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, kGoneMessage, "cannot open " + path);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Internal("cannot stat " + path + ": " + ec.message());
  std::string out(size, '\0');
  if (!in.read(out.data(), static_cast<std::streamsize>(size))) {
    return Internal("cannot read " + path);
  }
  return out;
}

// A byte-bounded LRU of batch bodies keyed "<jobbId>/<n>".
class BatchCache {
 public:
  explicit BatchCache(size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const std::string> Get(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }

  void Put(const std::string& key, std::shared_ptr<const std::string> body) {
    if (body->size() > capacity_) return;
    std::lock_guard lock(mutex_);
    if (auto it = index_.find(key); it != index_.end()) {
      bytes_ -= it->second->second->size();
      lru_.erase(it->second);
      index_.erase(it);
    }
    bytes_ += body->size();
    lru_.emplace_front(key, std::move(body));
    index_[key] = lru_.begin();
    while (bytes_ > capacity_ && !lru_.empty()) {
      bytes_ -= lru_.back().second->size();
      index_.erase(lru_.back().first);
      lru_.pop_back();
    }
  }

  void EraseJob(std::string_view job_id) {
    std::lock_guard lock(mutex_);
    for (auto it = lru_.begin(); it != lru_.end();) {
      std::string_view key = it->first;
      if (key.size() > job_id.size() && key.substr(0, job_id.size()) == job_id &&
          key[job_id.size()] == '/') {
        bytes_ -= it->second->size();
        index_.erase(it->first);
        it = lru_.erase(it);
      } else {
        ++it;
      }
    }
  }

  size_t bytes() {
    std::lock_guard lock(mutex_);
    return bytes_;
  }

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const std::string>>;
  std::mutex mutex_;
  size_t capacity_;
  size_t bytes_ = 0;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

enum class JobState { kQueued, kRunning, kDone };

struct Job {
  std::string id;
  std::string orgnr;
  UttrekkKind kind = UttrekkKind::kKomplett;
  uint64_t seq = 0;
  std::string criteria_json;  // tailored only
  freg::UttrekkCriteria criteria;
  int64_t ordered_ms = 0;
  std::string folder;

  JobState state = JobState::kQueued;  // guarded by State::mutex
  std::atomic<bool> cancelled{false};  // expired while queued/running: abandon and delete
  std::atomic<uint64_t> ready{0};      // batches 0..ready-1 are on disk
  std::atomic<bool> done{false};       // all batches are on disk; `total` is final
  uint64_t total = 0;                  // written before done is set

  std::string BatchPath(uint64_t n) const { return folder + "/" + std::to_string(n) + ".json"; }
  std::string CacheKey(uint64_t n) const { return id + "/" + std::to_string(n); }
};

std::string MetaJson(const Job& job, bool done) {
  json::object o;
  o["jobbId"] = job.id;
  o["orgnr"] = job.orgnr;
  o["type"] = job.kind == UttrekkKind::kKomplett ? "komplett" : "tilpasset";
  o["feedsekvensnr"] = job.seq;
  o["bestilt"] = job.ordered_ms;
  o["status"] = done ? "done" : "running";
  o["batcher"] = done ? job.total : 0;
  if (job.kind == UttrekkKind::kTilpasset) o["kriterier"] = job.criteria_json;
  return json::serialize(o);
}

// Reads jobb.json into a new Job; an error describes what is wrong (for the log).
Result<std::shared_ptr<Job>> ParseMeta(const std::string& text, const std::string& folder) {
  try {
    json::object o = json::parse(text).as_object();
    auto job = std::make_shared<Job>();
    job->id = std::string(o.at("jobbId").as_string());
    job->orgnr = std::string(o.at("orgnr").as_string());
    const std::string_view type = o.at("type").as_string();
    if (type == "komplett") {
      job->kind = UttrekkKind::kKomplett;
    } else if (type == "tilpasset") {
      job->kind = UttrekkKind::kTilpasset;
      job->criteria_json = std::string(o.at("kriterier").as_string());
      auto criteria = freg::ParseUttrekkCriteria(job->criteria_json);
      if (!criteria.ok()) return Internal("bad criteria: " + criteria.error().message);
      job->criteria = std::move(criteria).value();
    } else {
      return Internal("unknown type");
    }
    job->seq = o.at("feedsekvensnr").to_number<uint64_t>();
    job->ordered_ms = o.at("bestilt").to_number<int64_t>();
    job->folder = folder;
    if (o.at("status").as_string() == "done") {
      job->total = o.at("batcher").to_number<uint64_t>();
      job->ready = job->total;
      job->done = true;
      job->state = JobState::kDone;
    }
    if (!ids::IsUuid(job->id)) return Internal("bad jobbId");
    return job;
  } catch (const std::exception& e) {
    return Internal(e.what());
  }
}

}  // namespace

void ForEachBatchId(std::string_view body, const std::function<void(std::string_view)>& each) {
  size_t pos = body.find('[');
  if (pos == std::string_view::npos) return;
  while (true) {
    size_t open = body.find('"', pos + 1);
    if (open == std::string_view::npos) return;
    size_t close = body.find('"', open + 1);
    if (close == std::string_view::npos) return;
    each(body.substr(open + 1, close - open - 1));
    pos = close;
  }
}

struct UttrekkService::State {
  store::RegisterStore& store;
  UttrekkOptions options;
  ids::DocumentIdCipher cipher;
  BatchCache cache;

  std::mutex mutex;
  std::condition_variable work_cv;   // a job was queued, or stop
  std::condition_variable idle_cv;   // a job finished
  std::condition_variable sweep_cv;  // stop
  bool stop = false;
  std::atomic<bool> stopping{false};
  size_t running = 0;
  std::unordered_map<std::string, std::shared_ptr<Job>> jobs;
  std::deque<std::shared_ptr<Job>> queue;
  std::vector<std::thread> workers;
  std::thread sweeper;

  State(store::RegisterStore& s, UttrekkOptions o)
      : store(s), options(std::move(o)), cipher(s.DocumentKey()), cache(options.cache_bytes) {}

  int64_t Now() const {
    if (options.now_ms) return options.now_ms();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  bool Expired(const Job& job) const { return Now() >= job.ordered_ms + options.ttl.count(); }

  void RemoveFolder(const Job& job) {
    std::error_code ec;
    fs::remove_all(job.folder, ec);
    if (ec) spdlog::warn("uttrekk: cannot delete {}: {}", job.folder, ec.message());
    cache.EraseJob(job.id);
  }

  Result<std::string> Order(std::string_view orgnr, UttrekkKind kind, uint64_t seq,
                            const freg::UttrekkCriteria* criteria) {
    auto job = std::make_shared<Job>();
    job->id = ids::NewUuid();
    job->orgnr = std::string(orgnr);
    job->kind = kind;
    job->seq = seq;
    if (criteria) {
      job->criteria = *criteria;
      job->criteria_json = criteria->ToJson();
    }
    job->ordered_ms = Now();
    job->folder = (fs::path(options.dir) / job->id).string();
    {
      std::lock_guard lock(mutex);
      size_t unfinished = 0;
      for (const auto& [id, j] : jobs) unfinished += j->orgnr == orgnr && !j->done;
      if (unfinished >= options.max_running_per_org) {
        return MakeError(ErrorCode::kRateLimited,
                         "For mange uttrekksjobber pågår for virksomheten; prøv igjen senere");
      }
      jobs[job->id] = job;  // holds the slot while the metadata is written
    }
    std::error_code ec;
    fs::create_directories(job->folder, ec);
    Status s =
        ec ? Status(Internal("cannot create " + job->folder + ": " + ec.message()))
           : WriteFileAtomically(job->folder + "/" + kMetaFile, MetaJson(*job, false), kFileMode);
    std::lock_guard lock(mutex);
    if (!s.ok()) {
      jobs.erase(job->id);
      fs::remove_all(job->folder, ec);
      return s.error();
    }
    queue.push_back(job);
    work_cv.notify_one();
    return job->id;
  }

  void WorkerLoop() {
    while (true) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock lock(mutex);
        work_cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (stop) return;
        job = std::move(queue.front());
        queue.pop_front();
        if (job->cancelled) {
          idle_cv.notify_all();
          continue;
        }
        job->state = JobState::kRunning;
        ++running;
      }
      Status s = Compute(*job);
      std::lock_guard lock(mutex);
      --running;
      if (s.ok()) {
        job->state = JobState::kDone;
      } else if (stopping) {
        // Left as "running" on disk: computed again at the next Open.
      } else {
        if (!job->cancelled) {
          spdlog::error("uttrekk: job {} failed: {} {}", job->id, s.error().message,
                        s.error().detail);
        }
        // Expired while running, or failed: gone (clients get 410).
        if (auto it = jobs.find(job->id); it != jobs.end() && it->second == job) jobs.erase(it);
        RemoveFolder(*job);
      }
      idle_cv.notify_all();
    }
  }

  // Computes every batch of `job` from one snapshot scan and marks it done.
  Status Compute(Job& job) {
    const bool komplett = job.kind == UttrekkKind::kKomplett;
    const size_t batch_size =
        std::max<size_t>(1, komplett ? options.komplett_batch_size : options.tilpasset_batch_size);
    const size_t id_bytes = komplett ? 35 : 14;  // "<32 hex>", or "<11 digits>",
    const std::string head = "{\"" + std::string(FieldOf(job.kind)) + "\":[";
    std::string body;
    size_t in_batch = 0;
    uint64_t n = 0;
    auto begin = [&] {
      body.clear();
      body.reserve(head.size() + batch_size * id_bytes + 2);
      body += head;
      in_batch = 0;
    };
    auto flush = [&]() -> Status {
      body += "]}";
      if (Status s = WriteFileAtomically(job.BatchPath(n), body, kFileMode); !s.ok()) return s;
      if (body.capacity() > 2 * body.size()) body.shrink_to_fit();
      cache.Put(job.CacheKey(n), std::make_shared<const std::string>(std::move(body)));
      job.ready.store(++n, std::memory_order_release);
      body = std::string();
      begin();
      return Status::Ok();
    };
    begin();
    thread_local freg::RecordView view;
    const Error abandoned = MakeError(ErrorCode::kGone, kGoneMessage, "job abandoned");
    Status s = store.SnapshotScan(
        job.seq, komplett ? store::SnapshotRecords::kSkip : store::SnapshotRecords::kInclude,
        [&](const store::SnapshotEntry& e) -> Status {
          if (job.cancelled.load(std::memory_order_relaxed) ||
              stopping.load(std::memory_order_relaxed)) {
            return abandoned;
          }
          if (!komplett) {
            if (Status p = view.Parse(e.record); !p.ok()) {
              return Internal("person " + std::to_string(e.person_id) + ": " + p.error().message);
            }
            if (!freg::Matches(job.criteria, view, job.seq)) return Status::Ok();
          }
          if (in_batch > 0) body += ',';
          body += '"';
          if (komplett) {
            cipher.AppendEncoded(body, ids::DocumentKind::kPerson, e.version_seq);
          } else {
            body += e.fnr;
          }
          body += '"';
          if (++in_batch == batch_size) return flush();
          return Status::Ok();
        });
    if (!s.ok()) return s;
    if (in_batch > 0) {
      if (Status f = flush(); !f.ok()) return f;
    }
    job.total = n;
    if (Status m =
            WriteFileAtomically(job.folder + "/" + kMetaFile, MetaJson(job, true), kFileMode);
        !m.ok()) {
      return m;
    }
    job.done.store(true, std::memory_order_release);
    return Status::Ok();
  }

  size_t Sweep() {
    std::vector<std::shared_ptr<Job>> gone;
    {
      std::lock_guard lock(mutex);
      for (auto it = jobs.begin(); it != jobs.end();) {
        Job& job = *it->second;
        if (!Expired(job)) {
          ++it;
          continue;
        }
        job.cancelled = true;
        if (job.state == JobState::kRunning) {
          ++it;  // the worker abandons it and deletes it
          continue;
        }
        gone.push_back(it->second);
        it = jobs.erase(it);
      }
    }
    for (const auto& job : gone) RemoveFolder(*job);
    return gone.size();
  }

  Status Load() {
    std::error_code ec;
    fs::create_directories(options.dir, ec);
    if (ec) return Internal("cannot create " + options.dir + ": " + ec.message());
    std::error_code list_ec;
    for (const auto& entry : fs::directory_iterator(options.dir, list_ec)) {
      if (!entry.is_directory()) continue;
      const std::string folder = entry.path().string();
      auto text = ReadWholeFile(folder + "/" + kMetaFile);
      Result<std::shared_ptr<Job>> job =
          text.ok() ? ParseMeta(*text, folder) : Result<std::shared_ptr<Job>>(text.error());
      if (!job.ok() || (*job)->id != entry.path().filename().string()) {
        spdlog::warn("uttrekk: deleting unreadable job folder {}: {}", folder,
                     job.ok() ? "jobbId differs" : job.error().detail);
        fs::remove_all(folder, ec);
        continue;
      }
      if (Expired(**job)) {
        fs::remove_all(folder, ec);
        continue;
      }
      jobs[(*job)->id] = *job;
      if (!(*job)->done) queue.push_back(*job);
    }
    if (list_ec) return Internal("cannot list " + options.dir + ": " + list_ec.message());
    if (!queue.empty()) spdlog::info("uttrekk: {} unfinished job(s) queued again", queue.size());
    return Status::Ok();
  }
};

UttrekkService::UttrekkService(std::unique_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<UttrekkService>> UttrekkService::Open(store::RegisterStore& store,
                                                             UttrekkOptions options) {
  auto state = std::make_unique<State>(store, std::move(options));
  if (Status s = state->Load(); !s.ok()) return s.error();
  State* st = state.get();
  for (unsigned i = 0; i < st->options.workers; ++i) {
    st->workers.emplace_back([st] { st->WorkerLoop(); });
  }
  st->sweeper = std::thread([st] {
    std::unique_lock lock(st->mutex);
    while (!st->stop) {
      st->sweep_cv.wait_for(lock, st->options.sweep_interval, [st] { return st->stop; });
      if (st->stop) break;
      lock.unlock();
      st->Sweep();
      lock.lock();
    }
  });
  return std::unique_ptr<UttrekkService>(new UttrekkService(std::move(state)));
}

UttrekkService::~UttrekkService() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
    state_->stopping = true;
  }
  state_->work_cv.notify_all();
  state_->sweep_cv.notify_all();
  for (auto& t : state_->workers) t.join();
  if (state_->sweeper.joinable()) state_->sweeper.join();
}

Result<std::string> UttrekkService::OrderKomplett(std::string_view orgnr, uint64_t feedsekvensnr) {
  const uint64_t seq = std::min(feedsekvensnr, state_->store.LatestSeq());
  return state_->Order(orgnr, UttrekkKind::kKomplett, seq, nullptr);
}

Result<std::string> UttrekkService::OrderTilpasset(std::string_view orgnr,
                                                   const freg::UttrekkCriteria& criteria) {
  return state_->Order(orgnr, UttrekkKind::kTilpasset, state_->store.LatestSeq(), &criteria);
}

Result<UttrekkBatch> UttrekkService::Batch(std::string_view orgnr, std::string_view jobb_id,
                                           uint64_t batchnr) {
  const Error gone = MakeError(ErrorCode::kGone, kGoneMessage);
  if (!ids::IsUuid(jobb_id)) return gone;
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->jobs.find(std::string(jobb_id));
    if (it == state_->jobs.end()) return gone;
    job = it->second;
  }
  if (job->orgnr != orgnr || job->cancelled || state_->Expired(*job)) return gone;
  UttrekkBatch batch;
  batch.kind = job->kind;
  const bool done = job->done.load(std::memory_order_acquire);
  if (batchnr >= job->ready.load(std::memory_order_acquire)) {
    if (!done) {
      return MakeError(ErrorCode::kNotReady, "Batchen er ikke klar ennå; prøv igjen senere");
    }
    batch.body = EmptyBody();
    return batch;
  }
  const std::string key = job->CacheKey(batchnr);
  batch.body = state_->cache.Get(key);
  if (!batch.body) {
    auto text = ReadFile(job->BatchPath(batchnr));
    if (!text.ok()) {
      // Deleted by the sweeper in between: gone.
      if (text.error().code == ErrorCode::kNotFound) return gone;
      return text.error();
    }
    batch.body = std::make_shared<const std::string>(std::move(text).value());
    state_->cache.Put(key, batch.body);
  }
  // Ids are fixed width: count them without parsing.
  const size_t head = FieldOf(job->kind).size() + 5;  // {"<field>":[  and  ]}
  const size_t id = job->kind == UttrekkKind::kKomplett ? 35 : 14;
  batch.count = batch.body->size() > head + 2 ? (batch.body->size() - head - 2 + 1) / id : 0;
  return batch;
}

size_t UttrekkService::SweepExpired() { return state_->Sweep(); }

bool UttrekkService::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mutex);
  return state_->idle_cv.wait_for(lock, timeout,
                                  [&] { return state_->queue.empty() && state_->running == 0; });
}

size_t UttrekkService::UnfinishedJobs(std::string_view orgnr) {
  std::lock_guard lock(state_->mutex);
  size_t n = 0;
  for (const auto& [id, job] : state_->jobs) n += job->orgnr == orgnr && !job->done;
  return n;
}

size_t UttrekkService::CachedBytes() { return state_->cache.bytes(); }

}  // namespace norreg::service
