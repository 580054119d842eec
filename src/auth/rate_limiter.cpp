#include "auth/rate_limiter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace norreg::auth {
namespace {

constexpr int64_t kIdleNs = 60'000'000'000;

}  // namespace

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

RateLimiter::RateLimiter(RateLimit limit) : limit_(limit) {
  limit_.burst = std::max(1.0, limit_.burst);
}

std::optional<std::chrono::milliseconds> RateLimiter::Acquire(std::string_view key) {
  return AcquireAt(key, MonotonicNs());
}

std::optional<std::chrono::milliseconds> RateLimiter::AcquireAt(std::string_view key,
                                                                int64_t now_ns) {
  if (limit_.rate <= 0) return std::nullopt;
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % 16];
  std::lock_guard lock(shard.mutex);
  if (now_ns - shard.swept_ns > kIdleNs) {
    // Idle buckets are full again anyway: forgetting them changes no answer.
    std::erase_if(shard.buckets,
                  [&](const auto& entry) { return now_ns - entry.second.updated_ns > kIdleNs; });
    shard.swept_ns = now_ns;
  }
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    it = shard.buckets.emplace(std::string(key), Bucket{limit_.burst, now_ns}).first;
  }
  Bucket& bucket = it->second;
  const double elapsed_s =
      static_cast<double>(std::max<int64_t>(0, now_ns - bucket.updated_ns)) / 1e9;
  bucket.tokens = std::min(limit_.burst, bucket.tokens + elapsed_s * limit_.rate);
  bucket.updated_ns = std::max(bucket.updated_ns, now_ns);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait_ms = std::ceil((1.0 - bucket.tokens) / limit_.rate * 1000.0);
  return std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(wait_ms)));
}

namespace {

class MemoryRateBuckets final : public SharedRateBuckets {
 public:
  explicit MemoryRateBuckets(std::function<int64_t()> now_ns) : now_ns_(std::move(now_ns)) {}

  Result<Taken> Take(std::string_view key, int64_t wanted, const RateLimit& limit) override {
    const int64_t now = now_ns_ ? now_ns_() : MonotonicNs();
    std::lock_guard lock(mutex_);
    auto it = buckets_.find(key);
    if (it == buckets_.end())
      it = buckets_.emplace(std::string(key), Bucket{limit.burst, now}).first;
    Bucket& b = it->second;
    const double elapsed_s = static_cast<double>(std::max<int64_t>(0, now - b.updated_ns)) / 1e9;
    b.tokens = std::min(limit.burst, b.tokens + elapsed_s * limit.rate);
    b.updated_ns = std::max(b.updated_ns, now);
    Taken taken;
    taken.tokens = std::min<int64_t>(wanted, static_cast<int64_t>(std::floor(b.tokens)));
    b.tokens -= static_cast<double>(taken.tokens);
    if (taken.tokens == 0) {
      taken.wait = std::chrono::milliseconds(std::max<int64_t>(
          1, static_cast<int64_t>(std::ceil((1.0 - b.tokens) / limit.rate * 1000.0))));
    }
    return taken;
  }

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ns;
  };
  std::function<int64_t()> now_ns_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>> buckets_;
};

}  // namespace

std::shared_ptr<SharedRateBuckets> MakeMemoryRateBuckets(std::function<int64_t()> now_ns) {
  return std::make_shared<MemoryRateBuckets>(std::move(now_ns));
}

SharedRateLimiter::SharedRateLimiter(RateLimit limit, std::shared_ptr<SharedRateBuckets> buckets,
                                     LeaseOptions options)
    : limit_{limit.rate, std::max(1.0, limit.burst)},
      buckets_(std::move(buckets)),
      options_(options),
      lease_(std::max<int64_t>(1, static_cast<int64_t>(limit.rate * options.lease_seconds))),
      local_(limit) {}

std::optional<std::chrono::milliseconds> SharedRateLimiter::Acquire(std::string_view key) {
  return AcquireAt(key, MonotonicNs());
}

std::optional<std::chrono::milliseconds> SharedRateLimiter::AcquireAt(std::string_view key,
                                                                      int64_t now_ns) {
  if (limit_.rate <= 0) return std::nullopt;
  if (now_ns < fallback_until_ns_.load(std::memory_order_relaxed)) {
    return local_.AcquireAt(key, now_ns);
  }
  std::shared_ptr<Entry> entry;
  {
    Shard& shard = shards_[std::hash<std::string_view>{}(key) % 16];
    std::lock_guard lock(shard.mutex);
    if (now_ns - shard.swept_ns > kIdleNs) {
      // An idle entry's lease has expired and its refusal passed: forgetting it changes nothing.
      std::erase_if(shard.entries, [&](const auto& e) {
        return now_ns - e.second->used_ns.load(std::memory_order_relaxed) > kIdleNs;
      });
      shard.swept_ns = now_ns;
    }
    auto it = shard.entries.find(key);
    if (it == shard.entries.end()) {
      it = shard.entries.emplace(std::string(key), std::make_shared<Entry>()).first;
    }
    entry = it->second;
  }
  entry->used_ns.store(now_ns, std::memory_order_relaxed);
  std::lock_guard lock(entry->mutex);
  if (entry->tokens >= 1 && now_ns < entry->lease_until_ns) {
    --entry->tokens;
    return std::nullopt;
  }
  if (now_ns < entry->denied_until_ns) {
    const int64_t wait_ms = (entry->denied_until_ns - now_ns + 999'999) / 1'000'000;
    return std::chrono::milliseconds(std::max<int64_t>(1, wait_ms));
  }
  auto taken = buckets_->Take(key, lease_, limit_);
  if (!taken.ok()) {
    spdlog::warn("rate_limit shared buckets failed, limiting per node for {} ms: {} {}",
                 options_.fallback.count(), taken.error().message, taken.error().detail);
    fallback_until_ns_.store(now_ns + options_.fallback.count() * 1'000'000,
                             std::memory_order_relaxed);
    return local_.AcquireAt(key, now_ns);
  }
  if (taken->tokens >= 1) {
    entry->tokens = taken->tokens - 1;
    entry->lease_until_ns = now_ns + options_.lease_ttl.count() * 1'000'000;
    return std::nullopt;
  }
  entry->tokens = 0;
  const auto wait = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(1), taken->wait);
  entry->denied_until_ns = now_ns + wait.count() * 1'000'000;
  return wait;
}

}  // namespace norreg::auth
