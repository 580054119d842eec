#pragma once
// Per-key token buckets (key = the consumer organisation): `rate` requests per second on average,
// bursts up to `burst`. SPEC 2.1: an exceeded limit is answered 429 with Retry-After in ms.
//
// Thread-safety: Acquire is thread-safe (16 shards, one mutex each). Memory: one small entry per
// key seen; entries idle longer than a minute are dropped as the shard is swept.
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace norreg::auth {

struct RateLimit {
  double rate = 1000;   // tokens per second; <= 0 disables the limiter
  double burst = 2000;  // bucket size (>= 1)
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit);

  // Takes one token for `key`. nullopt = allowed; otherwise the wait until one token is available.
  std::optional<std::chrono::milliseconds> Acquire(std::string_view key);
  // For tests: `now_ns` replaces the monotonic clock.
  std::optional<std::chrono::milliseconds> AcquireAt(std::string_view key, int64_t now_ns);

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ns;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>{}(key);
    }
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>> buckets;
    int64_t swept_ns = 0;
  };
  RateLimit limit_;
  Shard shards_[16];
};

}  // namespace norreg::auth
