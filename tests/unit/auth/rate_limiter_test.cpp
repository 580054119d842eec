#include "auth/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace norreg::auth {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(RateLimiterTest, AllowsTheBurstThenAsksToWait) {
  RateLimiter limiter({.rate = 10, .burst = 3});
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.AcquireAt("org", kSecond).has_value()) << i;
  auto wait = limiter.AcquireAt("org", kSecond);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(wait->count(), 100);  // one token per 100 ms at 10/s
}

TEST(RateLimiterTest, RefillsWithTime) {
  RateLimiter limiter({.rate = 10, .burst = 1});
  EXPECT_FALSE(limiter.AcquireAt("org", kSecond));
  EXPECT_TRUE(limiter.AcquireAt("org", kSecond + kSecond / 20));   // 50 ms: half a token
  EXPECT_FALSE(limiter.AcquireAt("org", kSecond + kSecond / 10));  // 100 ms: one token
}

TEST(RateLimiterTest, KeysAreIndependent) {
  RateLimiter limiter({.rate = 1, .burst = 1});
  EXPECT_FALSE(limiter.AcquireAt("a", kSecond));
  EXPECT_TRUE(limiter.AcquireAt("a", kSecond));
  EXPECT_FALSE(limiter.AcquireAt("b", kSecond));
}

TEST(RateLimiterTest, ZeroRateDisables) {
  RateLimiter limiter({.rate = 0, .burst = 1});
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(limiter.AcquireAt("org", kSecond));
}

TEST(RateLimiterTest, IdleBucketsAreForgottenAndStartFull) {
  RateLimiter limiter({.rate = 1, .burst = 2});
  EXPECT_FALSE(limiter.AcquireAt("org", kSecond));
  EXPECT_FALSE(limiter.AcquireAt("org", kSecond));
  EXPECT_TRUE(limiter.AcquireAt("org", kSecond));
  const int64_t later = kSecond + 120 * kSecond;
  EXPECT_FALSE(limiter.AcquireAt("org", later));
  EXPECT_FALSE(limiter.AcquireAt("org", later));
  EXPECT_TRUE(limiter.AcquireAt("org", later));
}

// Counts the leases asked of the shared buckets, and fails them on demand.
class CountingBuckets final : public SharedRateBuckets {
 public:
  explicit CountingBuckets(std::shared_ptr<SharedRateBuckets> inner) : inner_(std::move(inner)) {}
  Result<Taken> Take(std::string_view key, int64_t wanted, const RateLimit& limit) override {
    ++takes;
    if (fail) return MakeError(ErrorCode::kInternal, "down");
    return inner_->Take(key, wanted, limit);
  }
  int takes = 0;
  bool fail = false;

 private:
  std::shared_ptr<SharedRateBuckets> inner_;
};

struct SharedFixture {
  int64_t now = kSecond;
  std::shared_ptr<CountingBuckets> buckets =
      std::make_shared<CountingBuckets>(MakeMemoryRateBuckets([this] { return now; }));
};

TEST(SharedRateLimiterTest, NodesTogetherGetTheBurstAndTakeLeasesNotTokens) {
  SharedFixture f;
  const RateLimit limit{.rate = 100, .burst = 10};
  SharedRateLimiter a(limit, f.buckets), b(limit, f.buckets);
  EXPECT_EQ(a.lease_size(), 5);  // 1/20 s of 100/s
  int allowed = 0;
  for (int i = 0; i < 20; ++i) {
    if (!(i % 2 == 0 ? a : b).AcquireAt("org", f.now)) ++allowed;
  }
  EXPECT_EQ(allowed, 10);          // the burst, for both nodes together
  EXPECT_LE(f.buckets->takes, 6);  // a lease per 5 calls and node, and one refusal per node
  const int takes = f.buckets->takes;
  auto wait = a.AcquireAt("org", f.now);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(wait->count(), 10);        // one token per 10 ms
  EXPECT_EQ(f.buckets->takes, takes);  // a refusal is remembered: no round trip
  // Other organisations have buckets of their own.
  EXPECT_FALSE(b.AcquireAt("other", f.now));
  // 100 ms later the bucket holds 10 again: at most that many in sum.
  f.now += kSecond / 10;
  allowed = 0;
  for (int i = 0; i < 20; ++i) {
    if (!(i % 2 == 0 ? b : a).AcquireAt("org", f.now)) ++allowed;
  }
  EXPECT_EQ(allowed, 10);
}

TEST(SharedRateLimiterTest, LeasesExpireUnspent) {
  SharedFixture f;
  SharedRateLimiter a({.rate = 100, .burst = 5}, f.buckets,
                      {.lease_ttl = std::chrono::milliseconds(100)});
  SharedRateLimiter b({.rate = 100, .burst = 5}, f.buckets);
  EXPECT_FALSE(a.AcquireAt("org", f.now));  // A leases all 5, spends 1
  EXPECT_TRUE(b.AcquireAt("org", f.now));   // B gets none: A holds them (the price of leases)
  f.now += kSecond / 5;                     // A's lease has expired; the bucket is full again
  EXPECT_FALSE(a.AcquireAt("org", f.now));
  EXPECT_EQ(f.buckets->takes, 3);
}

TEST(SharedRateLimiterTest, FailingBucketsFallBackToTheNodesOwnLimit) {
  SharedFixture f;
  f.buckets->fail = true;
  SharedRateLimiter a({.rate = 1, .burst = 3}, f.buckets, {.fallback = std::chrono::seconds(5)});
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(a.AcquireAt("org", f.now)) << i;
  EXPECT_TRUE(a.AcquireAt("org", f.now));
  EXPECT_EQ(f.buckets->takes, 1);  // not again until the fallback has passed
  f.buckets->fail = false;
  f.now += 6 * kSecond;
  EXPECT_FALSE(a.AcquireAt("org", f.now));
  EXPECT_EQ(f.buckets->takes, 2);
}

TEST(SharedRateLimiterTest, ZeroRateDisables) {
  SharedFixture f;
  SharedRateLimiter a({.rate = 0, .burst = 1}, f.buckets);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(a.AcquireAt("org", f.now));
  EXPECT_EQ(f.buckets->takes, 0);
}

}  // namespace
}  // namespace norreg::auth
