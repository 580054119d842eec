#pragma once
// Per-key token buckets (key = the consumer organisation): `rate` requests per second on average,
// bursts up to `burst`. SPEC 2.1: an exceeded limit is answered 429 with Retry-After in ms.
//
// RateLimiter holds the buckets in this process (one node). SharedRateLimiter enforces one limit
// for the sum over several nodes whose buckets live in a database (SharedRateBuckets, e.g. the
// PostgreSQL one in store/postgres/auth_stores.hpp) without a round trip per request: a node takes
// a *lease* of tokens from the shared bucket (rate × lease_seconds, 1/20 s worth by default) and
// spends it locally; only when the lease is spent (or older than lease_ttl) does it go back.
//
// Accuracy and latency of the shared limiter:
// - Never more than the limit: every token spent was taken from the shared bucket first, so over
//   any interval T the nodes together allow at most burst + rate × T.
// - Sometimes less: tokens leased by one node and not yet spent are unavailable to the others,
//   so an organisation spread over N nodes may see 429 up to N leases (N × rate × lease_seconds
//   tokens) early, and unspent tokens of a lease older than lease_ttl are dropped, not returned.
// - Cost: one database round trip per lease (with 5 000/s and 1/20 s leases: one per 250 calls
//   and node, at most ~20 per second and node and organisation); the calls in between cost a
//   mutex and a hash lookup, as RateLimiter. A refusal is remembered for its Retry-After, so an
//   organisation over its limit causes no round trips until the bucket can give again.
// - When the database fails, the node limits on its own (RateLimiter with the same limit) for
//   `fallback` before it tries the database again: the limit then holds per node, not in sum.
//
// Thread-safety: Acquire is thread-safe (16 shards, one mutex each). Memory: one small entry per
// key seen; entries idle longer than a minute are dropped as the shard is swept.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.hpp"

namespace norreg::auth {

// The steady clock in nanoseconds: the time every limiter here counts in (the *At calls' now_ns).
int64_t MonotonicNs();

struct RateLimit {
  double rate = 1000;   // tokens per second; <= 0 disables the limiter
  double burst = 2000;  // bucket size (>= 1)
};

// What the authentication before-step calls once per request.
class Limiter {
 public:
  virtual ~Limiter() = default;
  // Takes one token for `key`. nullopt = allowed; otherwise the wait until one token is available.
  virtual std::optional<std::chrono::milliseconds> Acquire(std::string_view key) = 0;
};

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};

class RateLimiter final : public Limiter {
 public:
  explicit RateLimiter(RateLimit limit);

  std::optional<std::chrono::milliseconds> Acquire(std::string_view key) override;
  // For tests: `now_ns` replaces the monotonic clock.
  std::optional<std::chrono::milliseconds> AcquireAt(std::string_view key, int64_t now_ns);

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ns;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>> buckets;
    int64_t swept_ns = 0;
  };
  RateLimit limit_;
  Shard shards_[16];
};

// Token buckets shared by several processes, one per key, each refilled at limit.rate up to
// limit.burst (full when first used), on the store's clock.
class SharedRateBuckets {
 public:
  struct Taken {
    int64_t tokens = 0;                 // taken, 0..wanted
    std::chrono::milliseconds wait{0};  // when tokens == 0: until the bucket holds one (>= 1 ms)
  };
  virtual ~SharedRateBuckets() = default;
  // Takes up to `wanted` (>= 1) whole tokens from `key`'s bucket; as many as it holds when fewer.
  // kInternal when the store cannot be reached.
  virtual Result<Taken> Take(std::string_view key, int64_t wanted, const RateLimit& limit) = 0;
};

struct LeaseOptions {
  double lease_seconds = 0.05;                // a lease is rate × this tokens (at least 1)
  std::chrono::milliseconds lease_ttl{1000};  // unspent leased tokens are dropped after this
  std::chrono::milliseconds fallback{1000};   // after a store failure, limit locally this long
};

// Shared buckets held in this process (for tests: several SharedRateLimiters standing for nodes).
// `now_ns` is their clock (default: the monotonic clock).
std::shared_ptr<SharedRateBuckets> MakeMemoryRateBuckets(std::function<int64_t()> now_ns = {});

class SharedRateLimiter final : public Limiter {
 public:
  SharedRateLimiter(RateLimit limit, std::shared_ptr<SharedRateBuckets> buckets,
                    LeaseOptions options = {});

  std::optional<std::chrono::milliseconds> Acquire(std::string_view key) override;
  // For tests: `now_ns` replaces the monotonic clock (the shared buckets keep their own).
  std::optional<std::chrono::milliseconds> AcquireAt(std::string_view key, int64_t now_ns);
  int64_t lease_size() const { return lease_; }

 private:
  struct Entry {
    std::mutex mutex;  // held across a lease's round trip: the key's other callers wait for it
    int64_t tokens = 0;
    int64_t lease_until_ns = 0;
    int64_t denied_until_ns = 0;
    std::atomic<int64_t> used_ns{0};
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<Entry>, KeyHash, std::equal_to<>> entries;
    int64_t swept_ns = 0;
  };
  const RateLimit limit_;
  const std::shared_ptr<SharedRateBuckets> buckets_;
  const LeaseOptions options_;
  const int64_t lease_;
  RateLimiter local_;  // while the shared buckets fail
  std::atomic<int64_t> fallback_until_ns_{0};
  Shard shards_[16];
};

}  // namespace norreg::auth
