#include "auth/stores.hpp"

#include <sys/stat.h>

#include <climits>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "auth/jwt.hpp"
#include "common/files.hpp"

namespace norreg::auth {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kCurrentFile = "current.pem";
constexpr std::string_view kPreviousFile = "previous.pem";

// The key in `path` with its kid; kNotFound when the file is missing.
Result<StoredSigningKey> ReadKeyFile(const fs::path& path) {
  auto text = ReadWholeFile(path.string());
  if (!text.ok()) return text.error();
  auto key = RsaKey::FromPem(*text);
  if (!key.ok() || !key->has_private()) {
    return MakeError(ErrorCode::kInvalidInput, path.string() + " holds no RSA private key");
  }
  return StoredSigningKey{key->Thumbprint(), std::move(*text)};
}

class FileSigningKeyStore final : public SigningKeyStore {
 public:
  explicit FileSigningKeyStore(fs::path folder) : folder_(std::move(folder)) {}

  Result<std::vector<StoredSigningKey>> Load() override {
    std::lock_guard lock(mutex_);
    std::vector<StoredSigningKey> keys;
    auto current = ReadKeyFile(folder_ / kCurrentFile);
    if (!current.ok()) {
      if (current.error().code == ErrorCode::kNotFound) return keys;
      return current.error();
    }
    keys.push_back(std::move(*current));
    auto previous = ReadKeyFile(folder_ / kPreviousFile);
    if (!previous.ok() && previous.error().code != ErrorCode::kNotFound) return previous.error();
    // A rotation interrupted between its two renames leaves the same key in both files.
    if (previous.ok() && previous->kid != keys[0].kid) keys.push_back(std::move(*previous));
    return keys;
  }

  Status CreateFirst(const StoredSigningKey& key) override {
    std::lock_guard lock(mutex_);
    std::error_code ec;
    if (fs::exists(folder_ / kCurrentFile, ec)) return Status::Ok();
    return WriteFileAtomically((folder_ / kCurrentFile).string(), key.private_pem, 0600);
  }

  Status Rotate(const StoredSigningKey& key) override {
    std::lock_guard lock(mutex_);
    auto current = ReadWholeFile((folder_ / kCurrentFile).string());
    if (!current.ok()) return current.error();
    // previous.pem first, then current.pem: after each rename both files hold a usable key, so
    // a crash in between loses nothing (Load drops a previous equal to current).
    if (Status s = WriteFileAtomically((folder_ / kPreviousFile).string(), *current, 0600);
        !s.ok()) {
      return s;
    }
    return WriteFileAtomically((folder_ / kCurrentFile).string(), key.private_pem, 0600);
  }

  std::string Describe() const override { return folder_.string(); }

 private:
  const fs::path folder_;
  std::mutex mutex_;  // one writer of the files per process
};

class MemoryReplayStore final : public ReplayStore {
 public:
  MemoryReplayStore(std::size_t max_entries, std::size_t max_per_client)
      : max_entries_(max_entries), max_per_client_(max_per_client) {}

  Result<Outcome> Remember(std::string_view client_id, std::string_view jti, int64_t exp,
                           int64_t now) override {
    std::string key(client_id);
    key.push_back('\n');  // cannot occur in a client_id
    key += jti;
    std::lock_guard lock(mutex_);
    if (++inserts_ % kPurgeEvery == 0) Purge(now);
    auto it = seen_.find(key);
    if (it != seen_.end()) {
      if (it->second > now) return Outcome::kReplay;
      it->second = exp;
      return Outcome::kFresh;
    }
    auto full = [&] {
      auto count = per_client_.find(client_id);
      return seen_.size() >= max_entries_ ||
             (count != per_client_.end() && count->second >= max_per_client_);
    };
    // A purge walks every entry: when full, at most one a second, so that a client knocking on a
    // full store costs a lookup per grant, not a walk.
    if (full() && now != last_full_purge_) {
      last_full_purge_ = now;
      Purge(now);
    }
    if (full()) return Outcome::kFull;
    seen_.emplace(std::move(key), exp);
    if (auto count = per_client_.find(client_id); count != per_client_.end()) {
      ++count->second;
    } else {
      per_client_.emplace(client_id, 1);
    }
    return Outcome::kFresh;
  }

 private:
  static constexpr uint64_t kPurgeEvery = 1024;

  void Purge(int64_t now) {
    for (auto it = seen_.begin(); it != seen_.end();) {
      if (it->second > now) {
        ++it;
        continue;
      }
      const std::string_view client = std::string_view(it->first).substr(0, it->first.find('\n'));
      if (auto count = per_client_.find(client);
          count != per_client_.end() && --count->second == 0) {
        per_client_.erase(count);
      }
      it = seen_.erase(it);
    }
  }

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // Bounds memory whatever the clients do; at 1000 tokens/s with 120 s assertions the store
  // holds ~120 000 entries.
  const std::size_t max_entries_;
  const std::size_t max_per_client_;
  std::mutex mutex_;
  std::unordered_map<std::string, int64_t> seen_;
  // Unexpired-or-unpurged entries per client (the keys of seen_ up to their '\n').
  std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> per_client_;
  uint64_t inserts_ = 0;
  int64_t last_full_purge_ = INT64_MIN;
};

}  // namespace

Result<std::unique_ptr<SigningKeyStore>> OpenFileSigningKeyStore(const std::string& dir) {
  const fs::path folder = fs::path(dir) / "signing";
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    fs::create_directories(folder, ec);
    if (ec || ::chmod(folder.c_str(), 0700) != 0) {
      return MakeError(ErrorCode::kInternal, "cannot create folder " + folder.string(),
                       ec ? ec.message() : std::string("chmod failed"));
    }
  }
  return std::unique_ptr<SigningKeyStore>(std::make_unique<FileSigningKeyStore>(folder));
}

std::unique_ptr<ReplayStore> MakeMemoryReplayStore(std::size_t max_entries,
                                                   std::size_t max_per_client) {
  return std::make_unique<MemoryReplayStore>(max_entries, max_per_client);
}

}  // namespace norreg::auth
