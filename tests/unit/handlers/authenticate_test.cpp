// The before-step every protected API runs, and the one mapping of refused tokens to each API's
// answer (SPEC 2.1 and 3.2).
#include <gtest/gtest.h>

#include <ctime>

#include "auth/client_registry.hpp"
#include "auth/failure_gate.hpp"
#include "auth/jwt.hpp"
#include "auth/rate_limiter.hpp"
#include "auth/token_validator.hpp"
#include "http/handlers/auth/auth_api.hpp"

namespace norreg::http::auth_api {
namespace {

constexpr std::string_view kIssuer = "http://issuer.test/";

class AuthenticateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static const auth::RsaKey key = auth::RsaKey::Generate().value();
    key_ = key;
    const std::string jwks = "{\"keys\":[" + key_.PublicJwkJson("k1") + "]}";
    validator_.AddIssuer(
        std::string(kIssuer),
        std::make_shared<auth::JwksCache>([jwks]() -> Result<std::string> { return jwks; }));
  }

  std::string Token(std::string_view scope, std::string_view orgnr = "974760673") const {
    const long now = static_cast<long>(std::time(nullptr));
    std::string payload = "{\"scope\":\"" + std::string(scope) + "\",\"iss\":\"" +
                          std::string(kIssuer) +
                          "\",\"client_amr\":\"private_key_jwt\",\"token_type\":\"Bearer\","
                          "\"exp\":" +
                          std::to_string(now + 120) + ",\"iat\":" + std::to_string(now) +
                          ",\"client_id\":\"c1\",\"jti\":\"j1\",\"consumer\":{\"authority\":"
                          "\"iso6523-actorid-upis\",\"ID\":\"0192:" +
                          std::string(orgnr) + "\"}}";
    return auth::SignJwt(key_, auth::JwsAlg::kRs256, "k1", payload).value();
  }

  static std::string HeaderOf(const Request& request, std::string_view name) {
    for (const auto& [k, v] : request.response_headers) {
      if (EqualsIgnoreCase(k, name)) return v;
    }
    return "";
  }

  auth::RsaKey key_ = auth::RsaKey::Generate().value();
  auth::TokenValidator validator_;
};

TEST(BearerTokenTest, ParsesOnlyWellFormedHeaders) {
  struct Case {
    const char* header;
    const char* token;  // nullptr = refused
  };
  const Case cases[] = {
      {"Bearer abc.def.ghi", "abc.def.ghi"},
      {"bearer abc", "abc"},
      {"BEARER abc", "abc"},
      {"Bearer", nullptr},
      {"Bearer ", nullptr},
      {"Basic abc", nullptr},
      {"Bearer a b", nullptr},
      {"Bearerabc", nullptr},
      {"", nullptr},
  };
  for (const Case& c : cases) {
    Request request;
    request.AddHeader("Authorization", c.header);
    auto token = BearerToken(request);
    if (c.token == nullptr) {
      EXPECT_FALSE(token.has_value()) << c.header;
    } else {
      ASSERT_TRUE(token.has_value()) << c.header;
      EXPECT_EQ(*token, c.token);
    }
  }
  Request none;
  EXPECT_FALSE(BearerToken(none).has_value());
}

TEST(MapAuthFailureTest, FregAnswers401And403) {
  Request request;
  Error e = MapAuthFailure(FailureStyle::kFreg, true, MakeError(ErrorCode::kUnauthenticated, "x"),
                           request);
  EXPECT_EQ(e.code, ErrorCode::kUnauthenticated);
  Request forbidden;
  e = MapAuthFailure(FailureStyle::kFreg, false, MakeError(ErrorCode::kForbidden, "x"), forbidden);
  EXPECT_EQ(e.code, ErrorCode::kForbidden);
}

TEST(MapAuthFailureTest, BrregAnswers401WithTheExactHeaders) {
  Request missing;
  Error e = MapAuthFailure(FailureStyle::kBrreg, true, MakeError(ErrorCode::kUnauthenticated, "x"),
                           missing);
  EXPECT_EQ(e.code, ErrorCode::kUnauthenticated);
  ASSERT_EQ(missing.response_headers.size(), 1u);
  EXPECT_EQ(missing.response_headers[0].second,
            "Bearer realm=\"unspecified\", error=\"unauthorized\", error_description=\"Full "
            "authentication is required to access this resource\"");
  Request wrong_scope;
  e = MapAuthFailure(FailureStyle::kBrreg, false, MakeError(ErrorCode::kForbidden, "x"),
                     wrong_scope);
  EXPECT_EQ(e.code, ErrorCode::kUnauthenticated);  // 401, not 403, at Brreg
  EXPECT_EQ(wrong_scope.response_headers[0].second,
            "Bearer realm=\"unspecified\", error=\"invalid_token\", error_description=\"invalid "
            "bearer token or wrong scope for bearer token\"");
}

TEST_F(AuthenticateTest, AcceptsAValidTokenAndExposesThePrincipal) {
  auto step = Authenticate({&validator_, nullptr}, "s:a", FailureStyle::kFreg);
  Request request;
  request.AddHeader("Authorization", "Bearer " + Token("s:a s:b"));
  EXPECT_FALSE(step(request).has_value());
  const auth::Principal* principal = PrincipalOf(request);
  ASSERT_NE(principal, nullptr);
  EXPECT_EQ(principal->consumer_orgnr, "974760673");
  EXPECT_EQ(principal->client_id, "c1");
}

TEST_F(AuthenticateTest, RefusesMissingMalformedAndWrongScope) {
  auto freg = Authenticate({&validator_, nullptr}, "s:a", FailureStyle::kFreg);
  auto brreg = Authenticate({&validator_, nullptr}, "s:a", FailureStyle::kBrreg);
  struct Case {
    std::string header;  // "" = no Authorization header
    ErrorCode freg;
    std::string brreg_header;
  };
  const Case cases[] = {
      {"", ErrorCode::kUnauthenticated, std::string(kBrregNoToken)},
      {"Bearer", ErrorCode::kUnauthenticated, std::string(kBrregInvalidToken)},
      {"Bearer not.a.token", ErrorCode::kUnauthenticated, std::string(kBrregInvalidToken)},
      {"Bearer " + Token("s:ab"), ErrorCode::kForbidden, std::string(kBrregInvalidToken)},
      {"Bearer " + Token("s:a", "974760674"), ErrorCode::kUnauthenticated,
       std::string(kBrregInvalidToken)},  // bad orgnr check digit in consumer
  };
  for (const Case& c : cases) {
    Request a, b;
    if (!c.header.empty()) {
      a.AddHeader("Authorization", c.header);
      b.AddHeader("Authorization", c.header);
    }
    auto fe = freg(a);
    ASSERT_TRUE(fe.has_value()) << c.header;
    EXPECT_EQ(fe->code, c.freg) << c.header;
    EXPECT_EQ(PrincipalOf(a), nullptr);
    auto be = brreg(b);
    ASSERT_TRUE(be.has_value()) << c.header;
    EXPECT_EQ(be->code, ErrorCode::kUnauthenticated) << c.header;
    EXPECT_EQ(HeaderOf(b, "WWW-Authenticate"), c.brreg_header) << c.header;
  }
}

TEST_F(AuthenticateTest, RateLimitsPerOrganisationWithRetryAfterInMs) {
  auth::RateLimiter limiter({.rate = 1, .burst = 2});
  auto step = Authenticate({&validator_, &limiter}, "s:a", FailureStyle::kFreg);
  const std::string header = "Bearer " + Token("s:a");
  for (int i = 0; i < 2; ++i) {
    Request request;
    request.AddHeader("Authorization", header);
    EXPECT_FALSE(step(request).has_value());
  }
  Request limited;
  limited.AddHeader("Authorization", header);
  auto error = step(limited);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, ErrorCode::kRateLimited);
  const std::string retry = HeaderOf(limited, "Retry-After");
  ASSERT_FALSE(retry.empty());
  EXPECT_GT(std::stoi(retry), 0);
  EXPECT_LE(std::stoi(retry), 1000);
  // Another organisation is not affected.
  Request other;
  other.AddHeader("Authorization", "Bearer " + Token("s:a", "889640782"));
  EXPECT_FALSE(step(other).has_value());
}

// Failed tokens count against the client's address: past the gate's burst, a token that needs a
// signature verification is refused 429 with Retry-After and not verified, while a token verified
// before still passes and another address is not affected.
TEST_F(AuthenticateTest, AnAddressWhoseTokensKeepFailingIsRefusedVerification) {
  auth::FailureGate gate(auth::RateLimit{1, 3});
  auto step = Authenticate({&validator_, nullptr, &gate}, "s:a", FailureStyle::kFreg);
  auto call = [&](std::string remote, const std::string& token, Request& request) {
    request.remote = std::move(remote);
    request.AddHeader("Authorization", "Bearer " + token);
    return step(request);
  };
  const std::string cached = Token("s:a");
  Request first;
  EXPECT_FALSE(call("10.0.0.1:4000", cached, first).has_value());
  for (int i = 0; i < 4; ++i) {  // the fourth failure empties the bucket
    Request bad;
    auto refused = call("10.0.0.1:" + std::to_string(4001 + i), "a.b.c", bad);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->code, ErrorCode::kUnauthenticated) << i;
  }
  const std::string fresh = Token("s:a", "889640782");
  Request blocked;
  auto refused = call("10.0.0.1:4100", fresh, blocked);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ErrorCode::kRateLimited);
  EXPECT_GT(std::stol(HeaderOf(blocked, "Retry-After")), 0);
  EXPECT_EQ(PrincipalOf(blocked), nullptr);
  Request again;
  EXPECT_FALSE(call("10.0.0.1:4101", cached, again).has_value());  // verified before: served
  Request elsewhere;
  EXPECT_FALSE(call("10.0.0.2:4000", fresh, elsewhere).has_value());
}

TEST(FailureGateTest, BlocksAnAddressUntilItsBucketHasRoomAgain) {
  auth::FailureGate gate(auth::RateLimit{10, 2});
  const int64_t t0 = 1'000'000'000;
  EXPECT_FALSE(gate.BlockedAt("a", t0));
  gate.FailedAt("a", t0);
  gate.FailedAt("a", t0);
  EXPECT_FALSE(gate.BlockedAt("a", t0));  // the burst is spent, not exceeded
  gate.FailedAt("a", t0);
  auto wait = gate.BlockedAt("a", t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->count(), 100);  // one failure's worth at 10 a second
  EXPECT_FALSE(gate.BlockedAt("b", t0));
  EXPECT_FALSE(gate.BlockedAt("a", t0 + 100'000'000));
}

TEST(FailureGateTest, AddressOfDropsThePort) {
  EXPECT_EQ(auth::AddressOf("10.1.2.3:443"), "10.1.2.3");
  EXPECT_EQ(auth::AddressOf("::1:5555"), "::1");
  EXPECT_EQ(auth::AddressOf("[2001:db8::1]:80"), "2001:db8::1");
  EXPECT_EQ(auth::AddressOf(""), "");
}

TEST_F(AuthenticateTest, UnprotectedApiLetsEverythingThrough) {
  auto step = Authenticate({}, "s:a", FailureStyle::kFreg);
  Request request;
  EXPECT_FALSE(step(request).has_value());
  EXPECT_EQ(PrincipalOf(request), nullptr);
}

}  // namespace
}  // namespace norreg::http::auth_api
