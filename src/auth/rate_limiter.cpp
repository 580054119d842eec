#include "auth/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace norreg::auth {
namespace {

constexpr int64_t kIdleNs = 60'000'000'000;

int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

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

}  // namespace norreg::auth
