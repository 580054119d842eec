// The embedded extract job store: one folder per job (contract: store/uttrekk_job_store.hpp).
//
// <dir>/<jobbId>/jobb.json (rewritten atomically when the job finishes):
//   {"jobbId":"<uuid>","orgnr":"<orgnr>","type":"komplett"|"tilpasset","feedsekvensnr":N,
//    "bestilt":<epoch ms>,"status":"running"|"done","batcher":<batches when done>,
//    "kriterier":"<UttrekkCriteria::ToJson(), tailored only>"}
// <dir>/<jobbId>/<n>.json: batch n, written atomically (renamed into place) as its final body.
//
// One process owns the folder, so the jobs' state is kept in memory and the folder is only its
// durable copy: a job that was running when the process stopped is "running" on disk and queued
// again at the next open, and its batch files from before are not served until they are written
// again (GetBatch serves only what this process wrote, or what a finished job lists).
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/files.hpp"
#include "common/ids.hpp"
#include "store/register_encoding.hpp"
#include "store/uttrekk_job_store.hpp"

namespace norreg::store {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr const char* kMetaFile = "jobb.json";
constexpr unsigned kFileMode = 0600;

Error Internal(std::string detail) {
  return MakeError(ErrorCode::kInternal, kStoreInternalMessage, std::move(detail));
}

Error Gone() { return MakeError(ErrorCode::kGone, "Uttrekksjobben finnes ikke"); }

std::string MetaJson(const UttrekkJob& job) {
  json::object o;
  o["jobbId"] = job.id;
  o["orgnr"] = job.orgnr;
  o["type"] = job.kind == UttrekkKind::kKomplett ? "komplett" : "tilpasset";
  o["feedsekvensnr"] = job.seq;
  o["bestilt"] = job.ordered_ms;
  o["status"] = job.done ? "done" : "running";
  o["batcher"] = job.done ? job.batches : 0;
  if (job.kind == UttrekkKind::kTilpasset) o["kriterier"] = job.criteria_json;
  return json::serialize(o);
}

Result<UttrekkJob> ParseMeta(const std::string& text, std::chrono::milliseconds ttl) {
  try {
    json::object o = json::parse(text).as_object();
    UttrekkJob job;
    job.id = std::string(o.at("jobbId").as_string());
    job.orgnr = std::string(o.at("orgnr").as_string());
    const std::string_view type = o.at("type").as_string();
    if (type == "komplett") {
      job.kind = UttrekkKind::kKomplett;
    } else if (type == "tilpasset") {
      job.kind = UttrekkKind::kTilpasset;
      job.criteria_json = std::string(o.at("kriterier").as_string());
    } else {
      return Internal("unknown type");
    }
    job.seq = o.at("feedsekvensnr").to_number<uint64_t>();
    job.ordered_ms = o.at("bestilt").to_number<int64_t>();
    job.expires_ms = job.ordered_ms + ttl.count();
    if (o.at("status").as_string() == "done") {
      job.done = true;
      job.batches = o.at("batcher").to_number<uint64_t>();
    }
    if (!ids::IsUuid(job.id)) return Internal("bad jobbId");
    return job;
  } catch (const std::exception& e) {
    return Internal(e.what());
  }
}

// Whole file of any size (batches may exceed ReadWholeFile's limit when configured large).
// nullopt when it does not exist.
Result<std::optional<std::string>> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::optional<std::string>();
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Internal("cannot stat " + path + ": " + ec.message());
  std::string out(size, '\0');
  if (!in.read(out.data(), static_cast<std::streamsize>(size))) {
    return Internal("cannot read " + path);
  }
  return std::optional<std::string>(std::move(out));
}

class FileJobStore final : public UttrekkJobStore {
 public:
  FileJobStore(std::string dir, std::chrono::milliseconds ttl) : dir_(std::move(dir)), ttl_(ttl) {}

  Status Load() {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return Internal("cannot create " + dir_ + ": " + ec.message());
    std::error_code list_ec;
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir_, list_ec)) {
      if (!entry.is_directory()) continue;
      const std::string folder = entry.path().string();
      auto text = ReadWholeFile(folder + "/" + kMetaFile);
      Result<UttrekkJob> job =
          text.ok() ? ParseMeta(*text, ttl_) : Result<UttrekkJob>(text.error());
      if (!job.ok() || job->id != entry.path().filename().string()) {
        spdlog::warn("uttrekk: deleting unreadable job folder {}: {}", folder,
                     job.ok() ? "jobbId differs" : job.error().detail);
        fs::remove_all(folder, ec);
        continue;
      }
      Entry e;
      e.job = std::move(job).value();
      if (!e.job.done) queue_.push_back(e.job.id);
      AddLocked(std::move(e));
    }
    if (list_ec) return Internal("cannot list " + dir_ + ": " + list_ec.message());
    if (!queue_.empty()) spdlog::info("uttrekk: {} unfinished job(s) queued again", queue_.size());
    return Status::Ok();
  }

  Status Create(const UttrekkJob& job, size_t max_unfinished, size_t max_kept) override {
    const std::string folder = Folder(job.id);
    {
      std::lock_guard lock(mutex_);
      size_t unfinished = 0;
      size_t kept = 0;
      ForOrgLocked(job.orgnr, [&](const Entry& e) {
        unfinished += !e.job.done;
        kept += e.job.expires_ms > job.ordered_ms;
      });
      if (unfinished >= max_unfinished) return TooManyUnfinished();
      if (kept >= max_kept) return TooManyKept(max_kept);
      Entry e;
      e.job = job;
      e.job.done = false;
      e.creating = true;  // holds the slot while the metadata is written; not claimable yet
      AddLocked(std::move(e));
    }
    std::error_code ec;
    fs::create_directories(folder, ec);
    Status s = ec ? Status(Internal("cannot create " + folder + ": " + ec.message()))
                  : WriteFileAtomically(folder + "/" + kMetaFile, MetaJson(job), kFileMode);
    std::lock_guard lock(mutex_);
    auto created = jobs_.find(job.id);
    if (!s.ok()) {
      if (created != jobs_.end()) EraseLocked(created);
      fs::remove_all(folder, ec);
      return s;
    }
    if (created == jobs_.end()) return Status::Ok();  // deleted meanwhile
    created->second.creating = false;
    queue_.push_back(job.id);
    return Status::Ok();
  }

  Result<UttrekkJob> Find(std::string_view id) override {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(std::string(id));
    if (it == jobs_.end() || it->second.creating) {
      return MakeError(ErrorCode::kNotFound, "Uttrekksjobben finnes ikke");
    }
    return it->second.job;
  }

  Result<std::optional<ClaimedUttrekkJob>> Claim(std::string_view owner,
                                                 std::chrono::milliseconds /*lease*/,
                                                 int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end();) {
      auto job = jobs_.find(*it);
      if (job == jobs_.end() || job->second.job.done || job->second.running) {
        it = queue_.erase(it);  // deleted, or queued twice
        continue;
      }
      if (job->second.job.expires_ms <= now_ms) {  // the sweeper deletes it
        ++it;
        continue;
      }
      job->second.running = true;
      job->second.owner = std::string(owner);
      job->second.written.clear();
      queue_.erase(it);
      return std::optional<ClaimedUttrekkJob>(ClaimedUttrekkJob{job->second.job, {}});
    }
    return std::optional<ClaimedUttrekkJob>();
  }

  Status Renew(std::string_view id, std::string_view owner,
               std::chrono::milliseconds /*lease*/) override {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(std::string(id));
    if (it == jobs_.end() || !it->second.running || it->second.owner != owner) return Gone();
    return Status::Ok();
  }

  Status Release(std::string_view id, std::string_view owner) override {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(std::string(id));
    if (it == jobs_.end() || !it->second.running || it->second.owner != owner) {
      return Status::Ok();
    }
    it->second.running = false;
    it->second.written.clear();
    queue_.push_front(it->first);
    return Status::Ok();
  }

  Status PutBatch(std::string_view id, uint64_t n, std::string_view body,
                  size_t /*count*/) override {
    {
      std::lock_guard lock(mutex_);
      auto it = jobs_.find(std::string(id));
      if (it == jobs_.end()) return Gone();
      // Stored already (by this computation, or the job is finished): a batch never changes.
      if (it->second.job.done || it->second.written.contains(n)) return Status::Ok();
    }
    if (Status s = WriteFileAtomically(BatchPath(id, n), body, kFileMode); !s.ok()) {
      return Exists(id) ? s : Status(Gone());  // deleted (swept) meanwhile
    }
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(std::string(id));
    if (it == jobs_.end()) return Gone();
    it->second.written.insert(n);
    return Status::Ok();
  }

  Result<std::optional<std::string>> GetBatch(std::string_view id, uint64_t n) override {
    {
      std::lock_guard lock(mutex_);
      auto it = jobs_.find(std::string(id));
      if (it == jobs_.end()) return std::optional<std::string>();
      const bool stored =
          it->second.job.done ? n < it->second.job.batches : it->second.written.contains(n);
      if (!stored) return std::optional<std::string>();
    }
    return ReadFile(BatchPath(id, n));
  }

  Status Finish(std::string_view id, uint64_t batches) override {
    UttrekkJob job;
    {
      std::lock_guard lock(mutex_);
      auto it = jobs_.find(std::string(id));
      if (it == jobs_.end()) return Gone();
      job = it->second.job;
    }
    job.done = true;
    job.batches = batches;
    if (Status s = WriteFileAtomically(Folder(id) + "/" + kMetaFile, MetaJson(job), kFileMode);
        !s.ok()) {
      return Exists(id) ? s : Status(Gone());
    }
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(std::string(id));
    if (it == jobs_.end()) return Gone();
    it->second.job = job;
    it->second.running = false;
    return Status::Ok();
  }

  Status Delete(std::string_view id) override {
    {
      std::lock_guard lock(mutex_);
      if (auto it = jobs_.find(std::string(id)); it != jobs_.end()) EraseLocked(it);
    }
    RemoveFolder(id);
    return Status::Ok();
  }

  Result<std::vector<std::string>> DeleteExpired(int64_t now_ms) override {
    std::vector<std::string> gone;
    {
      std::lock_guard lock(mutex_);
      for (auto it = jobs_.begin(); it != jobs_.end();) {
        if (it->second.creating || it->second.job.expires_ms > now_ms) {
          ++it;
          continue;
        }
        gone.push_back(it->first);
        it = EraseLocked(it);
      }
    }
    for (const auto& id : gone) RemoveFolder(id);
    return gone;
  }

  Result<size_t> CountUnfinished(std::string_view orgnr) override {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    ForOrgLocked(orgnr, [&](const Entry& e) { n += !e.job.done; });
    return n;
  }

  Result<bool> HasClaimable(int64_t now_ms) override {
    std::lock_guard lock(mutex_);
    for (const auto& id : queue_) {
      auto it = jobs_.find(id);
      if (it != jobs_.end() && !it->second.job.done && !it->second.running &&
          it->second.job.expires_ms > now_ms) {
        return true;
      }
    }
    return false;
  }

 private:
  struct Entry {
    UttrekkJob job;
    bool creating = false;       // metadata being written by Create
    bool running = false;        // claimed by a worker of this process
    std::string owner;           // the claim's owner while running
    std::set<uint64_t> written;  // batches written by the current computation
  };

  using Jobs = std::unordered_map<std::string, Entry>;
  // Under mutex_: the only ways jobs come and go, so that by_org_ stays the index of jobs_.
  void AddLocked(Entry e) {
    std::string id = e.job.id;
    by_org_[e.job.orgnr].insert(id);
    jobs_[std::move(id)] = std::move(e);
  }
  Jobs::iterator EraseLocked(Jobs::iterator it) {
    if (auto org = by_org_.find(it->second.job.orgnr); org != by_org_.end()) {
      org->second.erase(it->first);
      if (org->second.empty()) by_org_.erase(org);
    }
    return jobs_.erase(it);
  }
  // Calls `fn` for each job of `orgnr` (an order reads its organisation's jobs only).
  template <typename Fn>
  void ForOrgLocked(std::string_view orgnr, Fn&& fn) {
    auto org = by_org_.find(std::string(orgnr));
    if (org == by_org_.end()) return;
    for (const std::string& id : org->second) {
      if (auto it = jobs_.find(id); it != jobs_.end()) fn(it->second);
    }
  }

  std::string Folder(std::string_view id) const { return (fs::path(dir_) / id).string(); }
  std::string BatchPath(std::string_view id, uint64_t n) const {
    return Folder(id) + "/" + std::to_string(n) + ".json";
  }
  bool Exists(std::string_view id) {
    std::lock_guard lock(mutex_);
    return jobs_.contains(std::string(id));
  }
  void RemoveFolder(std::string_view id) {
    std::error_code ec;
    fs::remove_all(Folder(id), ec);
    if (ec) spdlog::warn("uttrekk: cannot delete {}: {}", Folder(id), ec.message());
  }

  const std::string dir_;
  const std::chrono::milliseconds ttl_;
  std::mutex mutex_;
  Jobs jobs_;
  std::unordered_map<std::string, std::unordered_set<std::string>> by_org_;  // orgnr -> job ids
  std::deque<std::string>
      queue_;  // unfinished jobs in order of arrival (stale ids dropped by Claim)
};

}  // namespace

Result<std::unique_ptr<UttrekkJobStore>> OpenFileUttrekkJobStore(const std::string& dir,
                                                                 std::chrono::milliseconds ttl) {
  auto store = std::make_unique<FileJobStore>(dir, ttl);
  if (Status s = store->Load(); !s.ok()) return s.error();
  return std::unique_ptr<UttrekkJobStore>(std::move(store));
}

}  // namespace norreg::store
