#include "auth/jwks.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace norreg::auth {
namespace {

const RsaKey& Key(int i) {
  static const std::vector<RsaKey> keys = [] {
    std::vector<RsaKey> v;
    for (int k = 0; k < 3; ++k) v.push_back(RsaKey::Generate(2048).value());
    return v;
  }();
  return keys[static_cast<std::size_t>(i)];
}

std::string Jwks(const std::vector<std::string>& jwks) {
  std::string out = R"({"keys":[)";
  for (std::size_t i = 0; i < jwks.size(); ++i) {
    if (i > 0) out += ",";
    out += jwks[i];
  }
  return out + "]}";
}

TEST(ParseJwksTest, KeepsRsaSigningKeysOnly) {
  const std::string n = Key(0).N();
  const std::string jwks = Jwks({
      Key(0).PublicJwkJson("a"),
      Key(1).PublicJwkJson("b", JwsAlg::kRs512),
      R"({"kty":"RSA","kid":"no-use","n":")" + n + R"(","e":"AQAB"})",
      R"({"kty":"RSA","kid":"enc","use":"enc","n":")" + n + R"(","e":"AQAB"})",
      R"({"kty":"RSA","kid":"oaep","alg":"RSA-OAEP","n":")" + n + R"(","e":"AQAB"})",
      R"({"kty":"EC","kid":"ec","crv":"P-256","x":"AA","y":"AA"})",
      R"({"kty":"RSA","kid":"small","n":"AQAB","e":"AQAB"})",
      R"({"kty":"RSA","kid":"bad-n","n":"***","e":"AQAB"})",
      R"({"kty":"RSA","kid":7,"n":")" + n + R"(","e":"AQAB"})",
      R"("not an object")",
  });
  auto keys = ParseJwks(jwks);
  ASSERT_TRUE(keys.ok()) << keys.error().detail;
  std::vector<std::string> kids;
  for (const auto& [kid, key] : *keys) kids.push_back(kid);
  EXPECT_EQ(kids, (std::vector<std::string>{"a", "b", "no-use"}));
  EXPECT_TRUE((*keys)[0].second.SamePublicKey(Key(0)));
  EXPECT_TRUE((*keys)[1].second.SamePublicKey(Key(1)));
}

TEST(ParseJwksTest, RejectsNonJwksDocuments) {
  for (const char* bad :
       {"", "[]", "{}", R"({"keys":{}})", R"({"keys":"x"})", "{\"keys\":[", "null"}) {
    auto keys = ParseJwks(bad);
    ASSERT_FALSE(keys.ok()) << bad;
    EXPECT_EQ(keys.error().code, ErrorCode::kInvalidInput);
  }
  auto empty = ParseJwks(R"({"keys":[]})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// A fetcher serving whatever `text` holds now and counting its calls.
struct CountingSource {
  std::string text;
  std::atomic<int> calls{0};
  bool fail = false;
  JwksFetcher Fetcher() {
    return [this]() -> Result<std::string> {
      ++calls;
      if (fail) return MakeError(ErrorCode::kInternal, "x", "source down");
      return text;
    };
  }
};

TEST(JwksCacheTest, LoadsOnFirstUseAndFindsByKid) {
  CountingSource src;
  src.text = Jwks({Key(0).PublicJwkJson("a"), Key(1).PublicJwkJson("b")});
  JwksCache cache(src.Fetcher(), std::chrono::hours(1));
  EXPECT_EQ(src.calls, 0);
  auto a = cache.Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->SamePublicKey(Key(0)));
  ASSERT_NE(cache.Find("b"), nullptr);
  EXPECT_EQ(src.calls, 1);
  EXPECT_EQ(cache.key_count(), 2u);
}

TEST(JwksCacheTest, UnknownKidRefreshesOnceThenRateLimits) {
  CountingSource src;
  src.text = Jwks({Key(0).PublicJwkJson("a")});
  JwksCache cache(src.Fetcher(), std::chrono::hours(1));
  ASSERT_NE(cache.Find("a"), nullptr);
  EXPECT_EQ(src.calls, 1);
  // The issuer rotated in "b" but the first load was just now: no refetch within the interval.
  src.text = Jwks({Key(0).PublicJwkJson("a"), Key(1).PublicJwkJson("b")});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(cache.Find("b"), nullptr);
  EXPECT_EQ(cache.Find("garbage"), nullptr);
  EXPECT_EQ(src.calls, 1);
  // A forced refresh ignores the interval.
  ASSERT_TRUE(cache.Refresh().ok());
  EXPECT_EQ(src.calls, 2);
  EXPECT_NE(cache.Find("b"), nullptr);
  EXPECT_EQ(src.calls, 2);
}

TEST(JwksCacheTest, UnknownKidRefreshesAfterTheInterval) {
  CountingSource src;
  src.text = Jwks({Key(0).PublicJwkJson("a")});
  JwksCache cache(src.Fetcher(), std::chrono::milliseconds(0));
  ASSERT_NE(cache.Find("a"), nullptr);
  src.text = Jwks({Key(0).PublicJwkJson("a"), Key(2).PublicJwkJson("c")});
  auto c = cache.Find("c");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->SamePublicKey(Key(2)));
  EXPECT_EQ(src.calls, 2);
  // Still unknown after a refresh: nullptr, one fetch per lookup at interval 0.
  EXPECT_EQ(cache.Find("zzz"), nullptr);
  EXPECT_EQ(src.calls, 3);
}

// Keys older than max_age are fetched again on the next lookup, so a key the issuer withdrew
// stops being trusted; a failed refresh keeps the keys it has.
TEST(JwksCacheTest, KeysPastTheirAgeAreFetchedAgainAndAWithdrawnKeyStopsWorking) {
  using std::chrono::milliseconds;
  CountingSource src;
  src.text = Jwks({Key(0).PublicJwkJson("a"), Key(1).PublicJwkJson("b")});
  JwksCache cache(src.Fetcher(), milliseconds(0), milliseconds(300));
  ASSERT_NE(cache.Find("a"), nullptr);
  EXPECT_EQ(src.calls, 1);
  src.text = Jwks({Key(1).PublicJwkJson("b")});  // the issuer withdraws "a"
  EXPECT_NE(cache.Find("a"), nullptr);           // young keys are not fetched again
  EXPECT_EQ(src.calls, 1);
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(cache.Find("a"), nullptr);
  EXPECT_EQ(src.calls, 2);
  EXPECT_NE(cache.Find("b"), nullptr);
  EXPECT_EQ(src.calls, 2);
  std::this_thread::sleep_for(milliseconds(500));
  src.fail = true;
  EXPECT_NE(cache.Find("b"), nullptr);
  EXPECT_EQ(src.calls, 3);
}

TEST(JwksCacheTest, FailedRefreshKeepsPreviousKeys) {
  CountingSource src;
  src.text = Jwks({Key(0).PublicJwkJson("a")});
  JwksCache cache(src.Fetcher(), std::chrono::milliseconds(0));
  ASSERT_NE(cache.Find("a"), nullptr);
  src.fail = true;
  Status s = cache.Refresh();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().detail, "source down");
  EXPECT_NE(cache.Find("a"), nullptr);
  src.fail = false;
  src.text = "not json";
  EXPECT_FALSE(cache.Refresh().ok());
  EXPECT_NE(cache.Find("a"), nullptr);
  EXPECT_EQ(cache.key_count(), 1u);
}

TEST(JwksCacheTest, FailedFirstLoadIsRateLimitedToo) {
  CountingSource src;
  src.fail = true;
  JwksCache cache(src.Fetcher(), std::chrono::hours(1));
  EXPECT_EQ(cache.Find("a"), nullptr);
  EXPECT_EQ(cache.Find("a"), nullptr);
  EXPECT_EQ(src.calls, 1);
  EXPECT_EQ(cache.key_count(), 0u);
}

TEST(JwksCacheTest, ConcurrentUnknownKidsFetchOnce) {
  CountingSource src;
  src.text = Jwks({Key(0).PublicJwkJson("a")});
  JwksCache cache(src.Fetcher(), std::chrono::hours(1));
  std::vector<std::thread> threads;
  std::atomic<int> found{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (cache.Find(t % 2 == 0 ? "a" : "unknown") != nullptr) ++found;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(src.calls, 1);
  EXPECT_EQ(found, 4 * 50);
}

TEST(JwksCacheTest, FileFetcherReadsAndRereadsTheFile) {
  const std::string path =
      ::testing::TempDir() + "/jwks_test_" + std::to_string(::getpid()) + ".json";
  { std::ofstream(path) << Jwks({Key(0).PublicJwkJson("a")}); }
  JwksCache cache(JwksCache::FileFetcher(path), std::chrono::milliseconds(0));
  EXPECT_NE(cache.Find("a"), nullptr);
  EXPECT_EQ(cache.Find("b"), nullptr);
  { std::ofstream(path) << Jwks({Key(1).PublicJwkJson("b")}); }
  EXPECT_NE(cache.Find("b"), nullptr);
  std::remove(path.c_str());
  Status missing = cache.Refresh();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().detail.find(path), std::string::npos);
  EXPECT_NE(cache.Find("b"), nullptr);  // previous keys kept
}

}  // namespace
}  // namespace norreg::auth
