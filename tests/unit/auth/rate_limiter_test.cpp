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

}  // namespace
}  // namespace norreg::auth
