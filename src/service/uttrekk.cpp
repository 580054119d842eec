// Extract jobs: see uttrekk.hpp for the contract and docs/design.md for the design. Where the
// jobs and their batches are kept (folders, or tables shared by the nodes) is the business of
// store::UttrekkJobStore; this file computes them, renews the leases and serves the batches.
#include "service/uttrekk.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/document_id.hpp"
#include "common/ids.hpp"
#include "freg/record_codec.hpp"

namespace norreg::service {
namespace {

constexpr const char* kInternalMessage = "Feil i tjenesten. Vennligst prøv igjen senere.";
constexpr const char* kGoneMessage = "Uttrekksjobben eller batchen finnes ikke";

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

// A job being computed by a worker of this node.
struct Running {
  store::UttrekkJob job;
  std::atomic<bool> cancelled{false};  // lease lost (taken over) or job deleted: abandon it
};

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
  std::unique_ptr<store::UttrekkJobStore> jobs;
  UttrekkOptions options;
  std::string owner;  // this node's name on its leases
  ids::DocumentIdCipher cipher;
  BatchCache cache;

  std::mutex mutex;
  std::condition_variable work_cv;  // an order on this node, or stop
  std::condition_variable idle_cv;  // a worker finished a job or found none
  std::condition_variable stop_cv;  // stop (heartbeat, sweeper, test delays)
  bool stop = false;
  std::atomic<bool> stopping{false};
  uint64_t orders = 0;  // orders placed on this node: wakes idle workers
  size_t busy = 0;      // workers claiming or computing a job
  std::unordered_map<std::string, std::shared_ptr<Running>> running;
  // Metadata of finished jobs seen here: immutable until expiry, so a cached batch of a finished
  // job is served without asking the job store.
  std::unordered_map<std::string, store::UttrekkJob> finished;
  std::vector<std::thread> workers;
  std::thread heartbeat;
  std::thread sweeper;

  State(store::RegisterStore& s, std::unique_ptr<store::UttrekkJobStore> j, UttrekkOptions o)
      : store(s),
        jobs(std::move(j)),
        options(std::move(o)),
        owner(options.node_id.empty() ? ids::NewUuid() : options.node_id),
        cipher(s.DocumentKey()),
        cache(options.cache_bytes) {}

  int64_t Now() const {
    if (options.now_ms) return options.now_ms();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  Result<std::string> Order(std::string_view orgnr, UttrekkKind kind, uint64_t seq,
                            const freg::UttrekkCriteria* criteria) {
    store::UttrekkJob job;
    job.id = ids::NewUuid();
    job.orgnr = std::string(orgnr);
    job.kind = kind;
    job.seq = seq;
    if (criteria) job.criteria_json = criteria->ToJson();
    job.ordered_ms = Now();
    job.expires_ms = job.ordered_ms + options.ttl.count();
    if (Status s = jobs->Create(job, options.max_running_per_org, options.max_kept_per_org);
        !s.ok()) {
      if (s.error().code != ErrorCode::kRateLimited) {
        spdlog::error("uttrekk: cannot store a new job: {} {}", s.error().message,
                      s.error().detail);
      }
      return s.error();
    }
    {
      std::lock_guard lock(mutex);
      ++orders;
    }
    work_cv.notify_one();
    return job.id;
  }

  void WorkerLoop() {
    while (true) {
      uint64_t seen = 0;
      {
        std::lock_guard lock(mutex);
        if (stop) return;
        seen = orders;
        ++busy;
      }
      auto claimed = jobs->Claim(owner, options.lease, Now());
      if (!claimed.ok() || !claimed->has_value()) {
        if (!claimed.ok()) {
          spdlog::error("uttrekk: cannot claim a job: {} {}", claimed.error().message,
                        claimed.error().detail);
        }
        std::unique_lock lock(mutex);
        --busy;
        idle_cv.notify_all();
        work_cv.wait_for(lock, options.poll_interval, [&] { return stop || orders != seen; });
        continue;
      }
      auto run = std::make_shared<Running>();
      run->job = std::move((*claimed)->job);
      const std::string id = run->job.id;
      if (!(*claimed)->stored.empty()) {
        spdlog::info("uttrekk: taking over job {} ({} batch(es) stored already)", id,
                     (*claimed)->stored.size());
      }
      {
        std::lock_guard lock(mutex);
        running[id] = run;
      }
      Status s = Compute(*run, (*claimed)->stored);
      {
        std::lock_guard lock(mutex);
        running.erase(id);
      }
      if (s.ok()) {
        // Done.
      } else if (stopping) {
        // Another node (or this one after a restart) takes it over at once.
        if (Status r = jobs->Release(id, owner); !r.ok()) {
          spdlog::warn("uttrekk: cannot release job {}: {}", id, r.error().detail);
        }
      } else if (run->cancelled || s.error().code == ErrorCode::kGone) {
        // Expired and deleted, or taken over by another node: nothing of ours to clean up.
      } else {
        spdlog::error("uttrekk: job {} failed: {} {}", id, s.error().message, s.error().detail);
        // Failed: gone (clients get 410).
        if (Status d = jobs->Delete(id); !d.ok()) {
          spdlog::warn("uttrekk: cannot delete job {}: {}", id, d.error().detail);
        }
        cache.EraseJob(id);
      }
      {
        std::lock_guard lock(mutex);
        --busy;
      }
      idle_cv.notify_all();
    }
  }

  // Computes every batch of `run.job` from one snapshot scan, stores the ones not in `stored`
  // (ascending) and marks the job done.
  Status Compute(Running& run, const std::vector<uint64_t>& stored) {
    const store::UttrekkJob& job = run.job;
    const bool komplett = job.kind == UttrekkKind::kKomplett;
    freg::UttrekkCriteria criteria;
    if (!komplett) {
      auto parsed = freg::ParseUttrekkCriteria(job.criteria_json, /*stored=*/true);
      if (!parsed.ok()) return Internal("bad criteria: " + parsed.error().message);
      criteria = std::move(parsed).value();
    }
    const size_t batch_size =
        std::max<size_t>(1, komplett ? options.komplett_batch_size : options.tilpasset_batch_size);
    const size_t id_bytes = komplett ? 35 : 14;  // "<32 hex>", or "<11 digits>",
    const std::string head = "{\"" + std::string(FieldOf(job.kind)) + "\":[";
    const Error abandoned = MakeError(ErrorCode::kGone, kGoneMessage, "job abandoned");
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
      if (!std::binary_search(stored.begin(), stored.end(), n)) {
        if (Status s = jobs->PutBatch(job.id, n, body, in_batch); !s.ok()) return s;
      }
      if (body.capacity() > 2 * body.size()) body.shrink_to_fit();
      cache.Put(job.id + "/" + std::to_string(n),
                std::make_shared<const std::string>(std::move(body)));
      ++n;
      body = std::string();
      begin();
      if (options.test_batch_delay.count() > 0) {
        std::unique_lock lock(mutex);
        stop_cv.wait_for(lock, options.test_batch_delay, [&] { return stop; });
      }
      if (run.cancelled.load(std::memory_order_relaxed) ||
          stopping.load(std::memory_order_relaxed)) {
        return abandoned;
      }
      return Status::Ok();
    };
    begin();
    thread_local freg::RecordView view;
    Status s = store.SnapshotScan(
        job.seq, komplett ? store::SnapshotRecords::kSkip : store::SnapshotRecords::kInclude,
        [&](const store::SnapshotEntry& e) -> Status {
          if (run.cancelled.load(std::memory_order_relaxed) ||
              stopping.load(std::memory_order_relaxed)) {
            return abandoned;
          }
          if (!komplett) {
            if (Status p = view.Parse(e.record); !p.ok()) {
              return Internal("person " + std::to_string(e.person_id) + ": " + p.error().message);
            }
            if (!freg::Matches(criteria, view, job.seq)) return Status::Ok();
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
    return jobs->Finish(job.id, n);
  }

  // Renews the leases of the jobs computed here every lease/3 until stop; a job whose lease is
  // lost is cancelled (its worker abandons it).
  void HeartbeatLoop() {
    const auto every =
        std::max<std::chrono::milliseconds>(options.lease / 3, std::chrono::milliseconds(10));
    std::unique_lock lock(mutex);
    while (!stop) {
      stop_cv.wait_for(lock, every, [&] { return stop; });
      if (stop) break;
      std::vector<std::shared_ptr<Running>> now;
      now.reserve(running.size());
      for (const auto& [id, run] : running) now.push_back(run);
      lock.unlock();
      for (const auto& run : now) {
        Status s = jobs->Renew(run->job.id, owner, options.lease);
        if (s.ok()) continue;
        if (s.error().code == ErrorCode::kGone) {
          spdlog::info("uttrekk: job {} is no longer this node's (lease lost or deleted)",
                       run->job.id);
          run->cancelled = true;
        } else {
          spdlog::warn("uttrekk: cannot renew the lease of job {}: {}", run->job.id,
                       s.error().detail);
        }
      }
      lock.lock();
    }
  }

  void SweeperLoop() {
    std::unique_lock lock(mutex);
    while (!stop) {
      stop_cv.wait_for(lock, options.sweep_interval, [&] { return stop; });
      if (stop) break;
      lock.unlock();
      Sweep();
      lock.lock();
    }
  }

  size_t Sweep() {
    const int64_t now = Now();
    auto gone = jobs->DeleteExpired(now);
    if (!gone.ok()) {
      spdlog::error("uttrekk: cannot delete expired jobs: {} {}", gone.error().message,
                    gone.error().detail);
    }
    std::vector<std::string> forget = gone.ok() ? *gone : std::vector<std::string>();
    {
      std::lock_guard lock(mutex);
      for (const auto& id : forget) {
        if (auto it = running.find(id); it != running.end()) it->second->cancelled = true;
        finished.erase(id);
      }
      // Finished jobs another node deleted: their cached batches go too.
      for (auto it = finished.begin(); it != finished.end();) {
        if (it->second.expires_ms > now) {
          ++it;
          continue;
        }
        forget.push_back(it->first);
        it = finished.erase(it);
      }
    }
    for (const auto& id : forget) cache.EraseJob(id);
    return gone.ok() ? gone->size() : 0;
  }

  Result<UttrekkBatch> Batch(std::string_view orgnr, std::string_view jobb_id, uint64_t batchnr) {
    const Error gone = MakeError(ErrorCode::kGone, kGoneMessage);
    if (!ids::IsUuid(jobb_id)) return gone;
    const std::string id(jobb_id);
    store::UttrekkJob job;
    bool known = false;
    {
      std::lock_guard lock(mutex);
      if (auto it = finished.find(id); it != finished.end()) {
        job = it->second;
        known = true;
      }
    }
    const int64_t now = Now();
    if (!known) {
      auto found = jobs->Find(id);
      if (!found.ok()) {
        if (found.error().code == ErrorCode::kNotFound) return gone;
        return found.error();
      }
      job = std::move(found).value();
      if (job.done && now < job.expires_ms) {
        std::lock_guard lock(mutex);
        finished.emplace(id, job);
      }
    }
    // The id exactly as handed out: PostgreSQL's uuid type would also match other spellings
    // (upper case), which the folder store does not know.
    if (job.id != id || job.orgnr != orgnr || now >= job.expires_ms) return gone;
    UttrekkBatch batch;
    batch.kind = job.kind;
    if (job.done && batchnr >= job.batches) {
      batch.body = EmptyBody();
      return batch;
    }
    const std::string key = id + "/" + std::to_string(batchnr);
    batch.body = cache.Get(key);
    if (!batch.body) {
      auto stored = jobs->GetBatch(id, batchnr);
      if (!stored.ok()) return stored.error();
      if (!stored->has_value()) {
        // A finished job's batch is missing only when the job was deleted in between.
        if (job.done) return gone;
        return MakeError(ErrorCode::kNotReady, "Batchen er ikke klar ennå; prøv igjen senere");
      }
      batch.body = std::make_shared<const std::string>(std::move(**stored));
      cache.Put(key, batch.body);
    }
    // Ids are fixed width: count them without parsing.
    const size_t head = FieldOf(job.kind).size() + 5;  // {"<field>":[  and  ]}
    const size_t width = job.kind == UttrekkKind::kKomplett ? 35 : 14;
    batch.count = batch.body->size() > head + 2 ? (batch.body->size() - head - 2 + 1) / width : 0;
    return batch;
  }

  bool WaitIdle(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      bool idle = false;
      {
        std::lock_guard lock(mutex);
        idle = busy == 0;
      }
      if (idle) {
        auto claimable = jobs->HasClaimable(Now());
        std::lock_guard lock(mutex);
        // busy is read again: a worker may have claimed the last job meanwhile.
        if (claimable.ok() && !*claimable && busy == 0) return true;
      }
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) return false;
      std::unique_lock lock(mutex);
      idle_cv.wait_for(
          lock, std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(10)));
    }
  }
};

UttrekkService::UttrekkService(std::unique_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<UttrekkService>> UttrekkService::Open(store::RegisterStore& store,
                                                             UttrekkOptions options) {
  auto jobs = store::OpenFileUttrekkJobStore(options.dir, options.ttl);
  if (!jobs.ok()) return jobs.error();
  return Open(store, std::move(jobs).value(), std::move(options));
}

Result<std::unique_ptr<UttrekkService>> UttrekkService::Open(
    store::RegisterStore& store, std::unique_ptr<store::UttrekkJobStore> jobs,
    UttrekkOptions options) {
  if (jobs == nullptr) return Internal("no job store");
  auto state = std::make_unique<State>(store, std::move(jobs), std::move(options));
  State* st = state.get();
  st->Sweep();  // expired jobs left from before are gone before anything is computed
  for (unsigned i = 0; i < st->options.workers; ++i) {
    st->workers.emplace_back([st] { st->WorkerLoop(); });
  }
  st->heartbeat = std::thread([st] { st->HeartbeatLoop(); });
  st->sweeper = std::thread([st] { st->SweeperLoop(); });
  return std::unique_ptr<UttrekkService>(new UttrekkService(std::move(state)));
}

UttrekkService::~UttrekkService() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
    state_->stopping = true;
  }
  state_->work_cv.notify_all();
  state_->stop_cv.notify_all();
  for (auto& t : state_->workers) t.join();
  if (state_->heartbeat.joinable()) state_->heartbeat.join();
  if (state_->sweeper.joinable()) state_->sweeper.join();
}

Result<std::string> UttrekkService::OrderKomplett(std::string_view orgnr, uint64_t feedsekvensnr) {
  const uint64_t seq = std::min(feedsekvensnr, state_->store.LatestSeq());
  return state_->Order(orgnr, UttrekkKind::kKomplett, seq, nullptr);
}

Result<std::string> UttrekkService::OrderTilpasset(std::string_view orgnr,
                                                   freg::UttrekkCriteria criteria,
                                                   const freg::Package& package) {
  criteria.withhold_confidential = package.confidential == freg::Confidential::kNone;
  return state_->Order(orgnr, UttrekkKind::kTilpasset, state_->store.LatestSeq(), &criteria);
}

Result<UttrekkBatch> UttrekkService::Batch(std::string_view orgnr, std::string_view jobb_id,
                                           uint64_t batchnr) {
  return state_->Batch(orgnr, jobb_id, batchnr);
}

size_t UttrekkService::SweepExpired() { return state_->Sweep(); }

bool UttrekkService::WaitIdle(std::chrono::milliseconds timeout) {
  return state_->WaitIdle(timeout);
}

size_t UttrekkService::UnfinishedJobs(std::string_view orgnr) {
  auto n = state_->jobs->CountUnfinished(orgnr);
  return n.ok() ? *n : 0;
}

size_t UttrekkService::CachedBytes() { return state_->cache.bytes(); }

}  // namespace norreg::service
