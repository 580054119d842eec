#include "auth/token_validator.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <boost/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace norreg::auth {
namespace {

namespace json = boost::json;

constexpr std::string_view kIssuer = "https://test.maskinporten.no/";
constexpr std::string_view kIssuer2 = "https://maskinporten.no/";
constexpr std::string_view kScope = "folkeregister:deling/offentligmedhjemmel";
constexpr std::string_view kConsumer = "974760673";  // valid check digit
constexpr std::string_view kSupplier = "991825827";  // valid check digit
constexpr int64_t kNow = 1'700'000'000;

const RsaKey& Key1() {  // kIssuer, kid "k1"
  static const RsaKey key = RsaKey::Generate(2048).value();
  return key;
}
const RsaKey& Key2() {  // kIssuer2, kid "k2"
  static const RsaKey key = RsaKey::Generate(2048).value();
  return key;
}
const RsaKey& OtherKey() {  // in no JWKS until a test rotates it in as "k3"
  static const RsaKey key = RsaKey::Generate(2048).value();
  return key;
}

std::string Jwks(const std::vector<std::string>& jwks) {
  std::string out = R"({"keys":[)";
  for (std::size_t i = 0; i < jwks.size(); ++i) out += (i > 0 ? "," : "") + jwks[i];
  return out + "]}";
}

// A JWKS source whose text the test changes, counting fetches.
struct Source {
  std::string text;
  std::atomic<int> calls{0};
  JwksFetcher Fetcher() {
    return [this]() -> Result<std::string> {
      ++calls;
      return text;
    };
  }
};

// The claims of a typical Maskinporten access token at kNow.
json::object BaseClaims() {
  return json::parse(R"({
    "iss": "https://test.maskinporten.no/",
    "scope": "folkeregister:deling/offentligmedhjemmel brreg:mottak",
    "consumer": {"authority": "iso6523-actorid-upis", "ID": "0192:974760673"},
    "client_id": "c-123", "client_amr": "private_key_jwt", "token_type": "Bearer",
    "aud": "unspecified", "iat": 1699999990, "exp": 1700000110, "jti": "jti-1"
  })")
      .as_object();
}

std::string Sign(const json::object& claims, const RsaKey& key = Key1(),
                 std::string_view kid = "k1", JwsAlg alg = JwsAlg::kRs256) {
  return SignJwt(key, alg, kid, json::serialize(claims)).value();
}

std::string Mutated(const std::function<void(json::object&)>& mutate) {
  json::object claims = BaseClaims();
  mutate(claims);
  return Sign(claims);
}

class TokenValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src1_.text = Jwks({Key1().PublicJwkJson("k1")});
    src2_.text = Jwks({Key2().PublicJwkJson("k2", JwsAlg::kRs512)});
    keys1_ = std::make_shared<JwksCache>(src1_.Fetcher(), std::chrono::hours(1));
    keys2_ = std::make_shared<JwksCache>(src2_.Fetcher(), std::chrono::hours(1));
    validator_.AddIssuer(std::string(kIssuer), keys1_);
    validator_.AddIssuer(std::string(kIssuer2), keys2_);
  }

  Source src1_, src2_;
  std::shared_ptr<JwksCache> keys1_, keys2_;
  TokenValidator validator_;
};

TEST_F(TokenValidatorTest, AcceptsValidTokenAndFillsPrincipal) {
  auto p = validator_.ValidateAt(Sign(BaseClaims()), kScope, kNow);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  const Principal& principal = **p;
  EXPECT_EQ(principal.issuer, kIssuer);
  EXPECT_EQ(principal.consumer_orgnr, kConsumer);
  EXPECT_EQ(principal.supplier_orgnr, "");
  EXPECT_EQ(principal.client_id, "c-123");
  EXPECT_EQ(principal.scope, "folkeregister:deling/offentligmedhjemmel brreg:mottak");
  EXPECT_EQ(principal.jti, "jti-1");
  EXPECT_EQ(principal.exp, 1700000110);
  EXPECT_TRUE(validator_.ValidateAt(Sign(BaseClaims()), "brreg:mottak", kNow).ok());
  EXPECT_TRUE(validator_.ValidateAt(Sign(BaseClaims()), "", kNow).ok());
  EXPECT_EQ(validator_.issuers(),
            (std::vector<std::string>{std::string(kIssuer), std::string(kIssuer2)}));
}

TEST_F(TokenValidatorTest, AcceptsEveryRsAlgorithm) {
  for (JwsAlg alg : {JwsAlg::kRs256, JwsAlg::kRs384, JwsAlg::kRs512}) {
    json::object claims = BaseClaims();
    claims["jti"] = std::string(AlgName(alg));
    auto p = validator_.ValidateAt(Sign(claims, Key1(), "k1", alg), kScope, kNow);
    EXPECT_TRUE(p.ok()) << AlgName(alg) << ": " << p.error().detail;
  }
}

TEST_F(TokenValidatorTest, AcceptsSupplier) {
  std::string token = Mutated([](json::object& c) {
    c["supplier"] = {{"authority", "iso6523-actorid-upis"}, {"ID", "0192:991825827"}};
  });
  auto p = validator_.ValidateAt(token, kScope, kNow);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ((*p)->supplier_orgnr, kSupplier);
  EXPECT_EQ((*p)->consumer_orgnr, kConsumer);
}

TEST_F(TokenValidatorTest, ExpAndIatLeeway) {
  struct Case {
    int64_t exp;
    std::optional<int64_t> iat;
    bool ok;
  };
  for (const Case& c : std::vector<Case>{{kNow + 1, kNow, true},
                                         {kNow - 5, kNow - 100, true},   // within 10 s leeway
                                         {kNow - 10, kNow - 100, true},  // at the edge
                                         {kNow - 11, kNow - 100, false},
                                         {kNow + 100, kNow + 10, true},  // iat skew allowed
                                         {kNow + 100, kNow + 11, false},
                                         {kNow + 100, std::nullopt, true}}) {
    std::string token = Mutated([&](json::object& claims) {
      claims["exp"] = c.exp;
      if (c.iat) {
        claims["iat"] = *c.iat;
      } else {
        claims.erase("iat");
      }
    });
    auto p = validator_.ValidateAt(token, kScope, kNow);
    EXPECT_EQ(p.ok(), c.ok) << "exp " << c.exp - kNow << " iat " << (c.iat ? *c.iat - kNow : 0)
                            << ": " << (p.ok() ? "" : p.error().detail);
  }
}

// Every way a token is refused with 401, with the reason the log gets.
TEST_F(TokenValidatorTest, RefusesBadTokens) {
  const std::string good = Sign(BaseClaims());
  const std::string payload_b64 = Base64UrlEncode(json::serialize(BaseClaims()));
  const std::string good_sig = good.substr(good.rfind('.') + 1);

  // HS256 with the RSA public key PEM as the HMAC secret: the classic key-confusion attack.
  const std::string hs_input = Base64UrlEncode(R"({"alg":"HS256","kid":"k1"})") + "." + payload_b64;
  const std::string pem = Key1().PublicPem();
  unsigned char mac[64];
  std::size_t mac_len = 0;
  ASSERT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, pem.data(), pem.size(),
                      reinterpret_cast<const unsigned char*>(hs_input.data()), hs_input.size(), mac,
                      sizeof mac, &mac_len),
            nullptr);
  const std::string hs256 =
      hs_input + "." + Base64UrlEncode(std::string_view(reinterpret_cast<char*>(mac), mac_len));

  struct Case {
    std::string name;
    std::string token;
    std::string detail;
  };
  auto with = [](const std::function<void(json::object&)>& m) { return Mutated(m); };
  auto org = [](std::string_view authority, std::string_view id) {
    return json::value{{"authority", authority}, {"ID", id}};
  };
  const std::vector<Case> cases = {
      {"missing", "", "token missing"},
      {"garbage", "Basic dXNlcjpwYXNz", "three"},
      {"with Bearer prefix", "Bearer " + good, "base64url"},
      {"bad base64", "ey*." + payload_b64 + "." + good_sig, "header is not base64url"},
      {"payload not json",
       SignJwt(Key1(), JwsAlg::kRs256, "k1", R"({"iss":"https://test.maskinporten.no/")").value(),
       "payload is not a JSON object"},
      {"signed by another key", Sign(BaseClaims(), OtherKey(), "k1"), "signature does not verify"},
      {"tampered payload",
       good.substr(0, good.find('.') + 1) +
           Base64UrlEncode(json::serialize(
               json::object{{"iss", kIssuer},
                            {"scope", kScope},
                            {"exp", kNow + 100},
                            {"consumer", org("iso6523-actorid-upis", "0192:991825827")}})) +
           "." + good_sig,
       "signature does not verify"},
      {"unknown kid", Sign(BaseClaims(), Key1(), "nope"),
       "unknown kid nope for issuer https://test.maskinporten.no/"},
      {"no kid", Sign(BaseClaims(), Key1(), ""), "kid missing"},
      {"alg none", Base64UrlEncode(R"({"alg":"none","kid":"k1"})") + "." + payload_b64 + ".",
       "empty signature"},
      {"alg none with signature",
       Base64UrlEncode(R"({"alg":"none","kid":"k1"})") + "." + payload_b64 + "." + good_sig,
       "alg none not allowed"},
      {"HS256 with public key as secret", hs256, "alg HS256 not allowed"},
      {"expired", with([](json::object& c) { c["exp"] = kNow - 60; }), "exp passed"},
      {"exp missing", with([](json::object& c) { c.erase("exp"); }), "exp missing"},
      {"exp string", with([](json::object& c) { c["exp"] = "1700000110"; }), "exp is not"},
      {"iat in future", with([](json::object& c) { c["iat"] = kNow + 3600; }), "iat in the future"},
      {"wrong issuer", with([](json::object& c) { c["iss"] = "https://evil.example/"; }),
       "unknown issuer https://evil.example/"},
      {"issuer without trailing slash",
       with([](json::object& c) { c["iss"] = "https://test.maskinporten.no"; }), "unknown issuer"},
      {"issuer missing", with([](json::object& c) { c.erase("iss"); }), "iss missing"},
      {"consumer missing", with([](json::object& c) { c.erase("consumer"); }), "consumer missing"},
      {"consumer string", with([](json::object& c) { c["consumer"] = "0192:974760673"; }),
       "consumer is not an object"},
      {"consumer wrong authority",
       with([&](json::object& c) { c["consumer"] = org("iso6523", "0192:974760673"); }),
       "consumer.authority"},
      {"consumer without 0192 prefix",
       with([&](json::object& c) { c["consumer"] = org("iso6523-actorid-upis", "974760673"); }),
       "consumer.ID"},
      {"consumer other prefix", with([&](json::object& c) {
         c["consumer"] = org("iso6523-actorid-upis", "0191:974760673");
       }),
       "consumer.ID"},
      {"consumer bad check digit", with([&](json::object& c) {
         c["consumer"] = org("iso6523-actorid-upis", "0192:974760672");
       }),
       "consumer.ID 0192:974760672"},
      {"consumer orgnr with suffix", with([&](json::object& c) {
         c["consumer"] = org("iso6523-actorid-upis", "0192:974760673 ");
       }),
       "consumer.ID"},
      {"supplier malformed", with([&](json::object& c) {
         c["supplier"] = org("iso6523-actorid-upis", "0192:991825828");
       }),
       "supplier.ID"},
      {"scope missing", with([](json::object& c) { c.erase("scope"); }), "scope missing"},
      {"scope array", with([](json::object& c) { c["scope"] = json::array{kScope}; }),
       "scope missing"},
      {"token_type DPoP", with([](json::object& c) { c["token_type"] = "DPoP"; }), "token_type"},
      {"client_id number", with([](json::object& c) { c["client_id"] = 5; }), "client_id"},
      {"oversized", with([](json::object& c) { c["pad"] = std::string(kMaxJwtBytes, 'x'); }),
       "exceeds"},
      // A token of the second issuer signed with the first issuer's key and kid.
      {"key of another issuer", with([](json::object& c) { c["iss"] = kIssuer2; }),
       "unknown kid k1 for issuer https://maskinporten.no/"},
  };
  for (const Case& c : cases) {
    auto p = validator_.ValidateAt(c.token, kScope, kNow);
    ASSERT_FALSE(p.ok()) << c.name;
    EXPECT_EQ(p.error().code, ErrorCode::kUnauthenticated) << c.name;
    EXPECT_EQ(p.error().message, "Ugyldig eller manglende tilgangstoken.") << c.name;
    EXPECT_NE(p.error().detail.find(c.detail), std::string::npos)
        << c.name << ": " << p.error().detail;
  }
}

TEST_F(TokenValidatorTest, MissingScopeIsForbidden) {
  struct Case {
    std::string scope;
    bool ok;
  };
  for (const Case& c : std::vector<Case>{
           {"folkeregister:deling/offentligmedhjemmel", true},
           {"a folkeregister:deling/offentligmedhjemmel b", true},
           {"brreg:mottak", false},
           {"", false},
           {"folkeregister:deling/offentligmedhjemmelX", false},
           {"xfolkeregister:deling/offentligmedhjemmel", false},
           {"folkeregister:deling", false},
           {"folkeregister:deling/offentligmedhjemmel/x", false},
       }) {
    std::string token = Mutated([&](json::object& claims) { claims["scope"] = c.scope; });
    auto p = validator_.ValidateAt(token, kScope, kNow);
    ASSERT_EQ(p.ok(), c.ok) << c.scope;
    if (!c.ok) {
      EXPECT_EQ(p.error().code, ErrorCode::kForbidden) << c.scope;
      EXPECT_EQ(p.error().message,
                "Tilgangstokenet mangler scope folkeregister:deling/offentligmedhjemmel.");
      EXPECT_NE(p.error().detail.find("not in token scope"), std::string::npos);
    }
  }
}

TEST_F(TokenValidatorTest, SecondIssuerUsesItsOwnKeys) {
  json::object claims = BaseClaims();
  claims["iss"] = kIssuer2;
  auto p = validator_.ValidateAt(Sign(claims, Key2(), "k2", JwsAlg::kRs512), kScope, kNow);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ((*p)->issuer, kIssuer2);
  // The first issuer's name with the second issuer's key is refused.
  auto cross = validator_.ValidateAt(Sign(BaseClaims(), Key2(), "k2"), kScope, kNow);
  ASSERT_FALSE(cross.ok());
  EXPECT_NE(cross.error().detail.find("unknown kid k2"), std::string::npos);
  // An issuer nobody configured, even with a known key and kid.
  claims["iss"] = "https://ver2.maskinporten.no/";
  auto other = validator_.ValidateAt(Sign(claims, Key2(), "k2"), kScope, kNow);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().detail.find("unknown issuer"), std::string::npos);
}

TEST_F(TokenValidatorTest, UnknownKidRefreshesJwksOnceWithinInterval) {
  // Loaded once on first use.
  ASSERT_TRUE(validator_.ValidateAt(Sign(BaseClaims()), kScope, kNow).ok());
  EXPECT_EQ(src1_.calls, 1);
  // The issuer rotates in k3, but the last fetch is within the 1 h interval: refused, no fetch.
  src1_.text = Jwks({Key1().PublicJwkJson("k1"), OtherKey().PublicJwkJson("k3")});
  const std::string rotated = Sign(BaseClaims(), OtherKey(), "k3");
  for (int i = 0; i < 3; ++i) {
    auto p = validator_.ValidateAt(rotated, kScope, kNow);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().detail.find("unknown kid k3"), std::string::npos);
  }
  EXPECT_EQ(src1_.calls, 1);
  EXPECT_EQ(src2_.calls, 0);
}

TEST(TokenValidatorRefreshTest, UnknownKidTriggersRefreshAfterInterval) {
  Source src;
  src.text = Jwks({Key1().PublicJwkJson("k1")});
  auto keys = std::make_shared<JwksCache>(src.Fetcher(), std::chrono::milliseconds(0));
  TokenValidator validator;
  validator.AddIssuer(std::string(kIssuer), keys);
  ASSERT_TRUE(validator.ValidateAt(Sign(BaseClaims()), kScope, kNow).ok());
  EXPECT_EQ(src.calls, 1);
  src.text = Jwks({Key1().PublicJwkJson("k1"), OtherKey().PublicJwkJson("k3")});
  auto p = validator.ValidateAt(Sign(BaseClaims(), OtherKey(), "k3"), kScope, kNow);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_EQ(src.calls, 2);
  // A known kid never fetches.
  json::object claims = BaseClaims();
  claims["jti"] = "another";
  ASSERT_TRUE(validator.ValidateAt(Sign(claims), kScope, kNow).ok());
  EXPECT_EQ(src.calls, 2);
}

// The cache is observed by taking the signing key away: only a cached token can still pass.
TEST_F(TokenValidatorTest, CachedTokenIsNotReverifiedUntilExp) {
  const std::string token = Sign(BaseClaims());  // exp kNow + 110
  ASSERT_TRUE(validator_.ValidateAt(token, kScope, kNow).ok());

  src1_.text = Jwks({OtherKey().PublicJwkJson("k3")});
  ASSERT_TRUE(keys1_->Refresh().ok());
  ASSERT_EQ(keys1_->Find("k1"), nullptr);
  const int calls = src1_.calls;

  // Same token: served from the cache, same principal object.
  auto first = validator_.ValidateAt(token, kScope, kNow + 50);
  ASSERT_TRUE(first.ok()) << first.error().detail;
  auto second = validator_.ValidateAt(token, "brreg:mottak", kNow + 60);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get());
  // The scope is checked on every call, cached or not.
  auto forbidden = validator_.ValidateAt(token, "other:scope", kNow + 60);
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().code, ErrorCode::kForbidden);
  // Within the leeway after exp the entry still serves; past it, it does not.
  EXPECT_TRUE(validator_.ValidateAt(token, kScope, kNow + 120).ok());
  auto expired = validator_.ValidateAt(token, kScope, kNow + 121);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(src1_.calls, calls);

  // A different token signed by the removed key is refused: the key really is gone.
  json::object claims = BaseClaims();
  claims["jti"] = "fresh";
  auto fresh = validator_.ValidateAt(Sign(claims), kScope, kNow + 50);
  ASSERT_FALSE(fresh.ok());
  EXPECT_NE(fresh.error().detail.find("unknown kid k1"), std::string::npos);
}

TEST(TokenValidatorCacheTest, ZeroEntriesDisablesTheCache) {
  Source src;
  src.text = Jwks({Key1().PublicJwkJson("k1")});
  auto keys = std::make_shared<JwksCache>(src.Fetcher(), std::chrono::hours(1));
  TokenValidator validator(
      ValidatorOptions{.leeway = std::chrono::seconds(10), .cache_entries = 0});
  validator.AddIssuer(std::string(kIssuer), keys);
  const std::string token = Sign(BaseClaims());
  ASSERT_TRUE(validator.ValidateAt(token, kScope, kNow).ok());
  src.text = Jwks({});
  ASSERT_TRUE(keys->Refresh().ok());
  EXPECT_FALSE(validator.ValidateAt(token, kScope, kNow).ok());
}

TEST(TokenValidatorCacheTest, FullCacheDropsEarliestExpiringEntries) {
  Source src;
  src.text = Jwks({Key1().PublicJwkJson("k1")});
  auto keys = std::make_shared<JwksCache>(src.Fetcher(), std::chrono::hours(1));
  // One entry per shard (16 shards).
  TokenValidator validator(
      ValidatorOptions{.leeway = std::chrono::seconds(10), .cache_entries = 1});
  validator.AddIssuer(std::string(kIssuer), keys);
  json::object claims = BaseClaims();
  claims["exp"] = kNow + 100;
  const std::string early = Sign(claims);
  ASSERT_TRUE(validator.ValidateAt(early, kScope, kNow).ok());
  // 300 later-expiring tokens: at least one lands in `early`'s shard and evicts it (the chance
  // that none does is (15/16)^300 < 1e-8). All of them stay valid.
  std::vector<std::string> later;
  for (int i = 0; i < 300; ++i) {
    claims["exp"] = kNow + 1000;
    claims["jti"] = "t" + std::to_string(i);
    later.push_back(Sign(claims));
    ASSERT_TRUE(validator.ValidateAt(later.back(), kScope, kNow).ok());
  }
  src.text = Jwks({});
  ASSERT_TRUE(keys->Refresh().ok());
  EXPECT_FALSE(validator.ValidateAt(early, kScope, kNow).ok());
  // The most recent token is the one entry of its shard.
  EXPECT_TRUE(validator.ValidateAt(later.back(), kScope, kNow).ok());
}

TEST_F(TokenValidatorTest, ConcurrentValidation) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) {
    json::object claims = BaseClaims();
    claims["jti"] = "c" + std::to_string(i);
    tokens.push_back(Sign(claims));
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round) {
        for (const auto& token : tokens) {
          if (validator_.ValidateAt(token, kScope, kNow).ok()) ++ok;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok, 4 * 20 * 8);
  EXPECT_EQ(src1_.calls, 1);
}

TEST(PrincipalTest, HasScopeMatchesWholeTokens) {
  Principal p;
  p.scope = "a/b c:d  e";
  for (std::string_view yes : {"a/b", "c:d", "e"}) EXPECT_TRUE(p.HasScope(yes)) << yes;
  for (std::string_view no : {"", "a", "a/bX", "xa/b", "b", "c", "a/b c:d", " ", "d  e"}) {
    EXPECT_FALSE(p.HasScope(no)) << no;
  }
}

}  // namespace
}  // namespace norreg::auth
