#pragma once
// Failed authentications per client address (docs/limits.md, "Bearer tokens"). A token that is
// not among the verified ones costs a signature verification; an address whose tokens keep
// failing is refused that verification — answered 429 with a Retry-After — until its bucket of
// failures (RateLimit: `rate` per second, bursts of `burst`) has room again. Tokens already
// verified and cached are not affected, so a client behind the same address keeps working.
//
// Thread-safety: both calls are thread-safe (16 shards, one mutex each). Memory: one bucket per
// address seen (dropped after a minute idle, as RateLimiter does) and one entry per address
// refused at the moment, at most kMaxBlocked.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/rate_limiter.hpp"

namespace norreg::auth {

class FailureGate {
 public:
  // The default: ten failures a second from one address, after a burst of a hundred.
  static constexpr RateLimit kDefaultLimit{10, 100};
  // Addresses refused at once that are remembered; past it, more are let through to verification.
  static constexpr std::size_t kMaxBlocked = 100'000;

  explicit FailureGate(RateLimit limit = kDefaultLimit) : failures_(limit) {}

  // The wait before a token from `address` may be verified again; nullopt: verify it.
  std::optional<std::chrono::milliseconds> Blocked(std::string_view address);
  // Counts one failed authentication from `address`.
  void Failed(std::string_view address);

  // For tests: `now_ns` replaces the monotonic clock.
  std::optional<std::chrono::milliseconds> BlockedAt(std::string_view address, int64_t now_ns);
  void FailedAt(std::string_view address, int64_t now_ns);

 private:
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, int64_t, KeyHash, std::equal_to<>> until_ns;
  };
  Shard& ShardOf(std::string_view address);

  RateLimiter failures_;
  Shard shards_[16];
};

// The address part of Request::remote ("ip:port", "[v6]:port" or "v6:port"): the text before the
// last ':'; the whole text when there is none.
std::string_view AddressOf(std::string_view remote);

}  // namespace norreg::auth
