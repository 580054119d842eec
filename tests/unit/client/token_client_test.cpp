#include "client/token_client.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "auth/jwt.hpp"
#include "common/ids.hpp"
#include "fake_http_server.hpp"

namespace norreg::client {
namespace {

namespace json = boost::json;
using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;
using testing::FormValue;
using testing::ParseForm;

constexpr std::string_view kScope = "folkeregister:deling/offentligmedhjemmel";
constexpr std::string_view kOrg = "974760673";  // valid orgnr

const auth::RsaKey& TestKey() {
  static const auth::RsaKey key = [] {
    auto generated = auth::RsaKey::Generate(2048);
    if (!generated.ok()) throw std::runtime_error("key generation failed");
    return *generated;
  }();
  return key;
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A token endpoint: answers `answer_status`/`answer_body` when set, else a fresh token
// "token-<n>" with `expires_in`.
struct FakeTokenEndpoint {
  std::atomic<int> expires_in{120};
  std::atomic<int> issued{0};
  std::atomic<int> delay_ms{0};
  std::mutex mutex;
  int answer_status = 0;
  std::string answer_body;
  FakeHttpServer server{[this](const FakeRequest& request) { return Handle(request); }};

  FakeResponse Handle(const FakeRequest& request) {
    if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
    FakeResponse response;
    response.headers = {{"Content-Type", "application/json"}};
    {
      std::lock_guard lock(mutex);
      if (answer_status != 0) {
        response.status = answer_status;
        response.body = answer_body;
        return response;
      }
    }
    if (request.method != "POST" || request.target != "/token") {
      response.status = 404;
      return response;
    }
    int n = ++issued;
    response.body = R"({"access_token":"token-)" + std::to_string(n) +
                    R"(","token_type":"Bearer","expires_in":)" + std::to_string(expires_in) +
                    R"(,"scope":"x"})";
    return response;
  }
  void Answer(int status, std::string body) {
    std::lock_guard lock(mutex);
    answer_status = status;
    answer_body = std::move(body);
  }
  std::string Issuer() const { return server.Url("/"); }
};

TokenClientOptions Options(const FakeTokenEndpoint& endpoint) {
  TokenClientOptions options;
  options.issuer = endpoint.Issuer();
  options.client_id = "test-client";
  options.kid = "test-kid";
  options.key = TestKey();
  return options;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "norreg-client-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(TokenClientTest, PostsJwtBearerGrantWithSignedAssertion) {
  FakeTokenEndpoint endpoint;
  TokenClient client(Options(endpoint));
  int64_t before = Now();
  auto token = client.Token(kScope);
  int64_t after = Now();
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(*token, "token-1");

  auto received = endpoint.server.received();
  ASSERT_EQ(received.size(), 1u);
  const FakeRequest& request = received[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/token");
  EXPECT_EQ(request.Header("content-type"), "application/x-www-form-urlencoded");
  auto form = ParseForm(request.body);
  ASSERT_EQ(form.size(), 2u);
  EXPECT_EQ(form[0].first, "grant_type");
  EXPECT_EQ(form[0].second, "urn:ietf:params:oauth:grant-type:jwt-bearer");
  EXPECT_EQ(form[1].first, "assertion");

  auto jwt = auth::ParseJwt(form[1].second);
  ASSERT_TRUE(jwt.ok()) << jwt.error().message;
  EXPECT_EQ(jwt->alg, auth::JwsAlg::kRs256);
  EXPECT_EQ(jwt->kid, "test-kid");
  EXPECT_TRUE(auth::VerifySignature(TestKey(), jwt->alg, jwt->signing_input, jwt->signature));
  json::object claims = json::parse(jwt->payload_json).as_object();
  EXPECT_EQ(claims.at("aud").as_string(), endpoint.Issuer());
  EXPECT_EQ(claims.at("iss").as_string(), "test-client");
  EXPECT_EQ(claims.at("scope").as_string(), kScope);
  int64_t iat = claims.at("iat").as_int64();
  EXPECT_GE(iat, before);
  EXPECT_LE(iat, after);
  EXPECT_EQ(claims.at("exp").as_int64(), iat + 60);
  EXPECT_TRUE(ids::IsUuid(claims.at("jti").as_string()));
  EXPECT_FALSE(claims.contains("consumer_org"));
  EXPECT_FALSE(claims.contains("sub"));
}

TEST(TokenClientTest, SendsConsumerOrgAndFreshJti) {
  FakeTokenEndpoint endpoint;
  TokenClient client(Options(endpoint));
  ASSERT_TRUE(client.Token(kScope, std::string("0192:") + std::string(kOrg)).ok());
  ASSERT_TRUE(client.Token(kScope).ok());  // different cache entry: a second request
  auto received = endpoint.server.received();
  ASSERT_EQ(received.size(), 2u);
  std::vector<json::object> claims;
  for (const auto& request : received) {
    auto jwt = auth::ParseJwt(FormValue(ParseForm(request.body), "assertion"));
    ASSERT_TRUE(jwt.ok());
    claims.push_back(json::parse(jwt->payload_json).as_object());
  }
  EXPECT_EQ(claims[0].at("consumer_org").as_string(), kOrg);
  EXPECT_FALSE(claims[1].contains("consumer_org"));
  EXPECT_NE(claims[0].at("jti").as_string(), claims[1].at("jti").as_string());
}

TEST(TokenClientTest, KidDefaultsToThumbprintAndEndpointToIssuerToken) {
  FakeTokenEndpoint endpoint;
  TokenClientOptions options = Options(endpoint);
  options.kid.clear();
  TokenClient client(options);
  EXPECT_EQ(client.options().token_endpoint, endpoint.Issuer() + "token");
  ASSERT_TRUE(client.Token(kScope).ok());
  auto jwt = auth::ParseJwt(FormValue(ParseForm(endpoint.server.received()[0].body), "assertion"));
  ASSERT_TRUE(jwt.ok());
  EXPECT_EQ(jwt->kid, TestKey().Thumbprint());
}

TEST(TokenClientTest, ReturnsCachedTokenWithoutRequest) {
  FakeTokenEndpoint endpoint;
  TokenClient client(Options(endpoint));
  auto first = client.Token(kScope);
  auto second = client.Token(kScope);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(endpoint.server.requests(), 1);
  EXPECT_EQ(client.requests_made(), 1u);
  // Another scope is another token.
  auto other = client.Token("brreg:mottak");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *first);
  EXPECT_EQ(endpoint.server.requests(), 2);
}

TEST(TokenClientTest, RefreshesTokenCloseToExpiry) {
  FakeTokenEndpoint endpoint;
  endpoint.expires_in = 10;  // less than the 15 s refresh margin
  TokenClient client(Options(endpoint));
  auto first = client.Token(kScope);
  auto second = client.Token(kScope);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
  EXPECT_EQ(endpoint.server.requests(), 2);

  endpoint.expires_in = 120;
  TokenClientOptions options = Options(endpoint);
  options.refresh_margin = std::chrono::seconds(200);  // a margin longer than any token
  TokenClient eager(options);
  ASSERT_TRUE(eager.Token(kScope).ok());
  ASSERT_TRUE(eager.Token(kScope).ok());
  EXPECT_EQ(endpoint.server.requests(), 4);
}

TEST(TokenClientTest, InvalidateForcesNewRequest) {
  FakeTokenEndpoint endpoint;
  TokenClient client(Options(endpoint));
  auto first = client.Token(kScope);
  client.Invalidate(kScope);
  auto second = client.Token(kScope);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
  EXPECT_EQ(endpoint.server.requests(), 2);
}

TEST(TokenClientTest, ConcurrentCallersShareOneRequest) {
  FakeTokenEndpoint endpoint;
  endpoint.delay_ms = 100;
  TokenClient client(Options(endpoint));
  std::vector<std::thread> threads;
  std::vector<std::string> tokens(8);
  for (size_t i = 0; i < tokens.size(); ++i) {
    threads.emplace_back([&, i] {
      auto token = client.Token(kScope);
      tokens[i] = token.ok() ? *token : "error: " + token.error().message;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& token : tokens) EXPECT_EQ(token, "token-1");
  EXPECT_EQ(endpoint.server.requests(), 1);
}

TEST(TokenClientTest, FileCacheIsSharedBetweenInstances) {
  TempDir dir;
  const std::string cache = dir.path() + "/token-cache.json";
  // An expired entry from earlier is dropped when the file is written.
  {
    std::ofstream out(cache);
    out << R"({"old":{"token":"stale","exp":1},"junk":3})";
  }
  FakeTokenEndpoint endpoint;
  TokenClientOptions options = Options(endpoint);
  options.cache_file = cache;
  std::string first_token;
  {
    TokenClient first(options);
    auto token = first.Token(kScope);
    ASSERT_TRUE(token.ok()) << token.error().message;
    first_token = *token;
  }
  struct stat st {};
  ASSERT_EQ(::stat(cache.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  json::object file = json::parse(ReadText(cache)).as_object();
  EXPECT_FALSE(file.contains("old"));
  EXPECT_FALSE(file.contains("junk"));
  ASSERT_EQ(file.size(), 1u);
  const json::object& entry = file.begin()->value().as_object();
  EXPECT_EQ(entry.at("token").as_string(), first_token);
  EXPECT_NEAR(static_cast<double>(entry.at("exp").as_int64()), static_cast<double>(Now() + 120), 5);
  EXPECT_EQ(file.begin()->key().size(), 64u);  // SHA-256 hex

  TokenClient second(options);
  auto token = second.Token(kScope);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, first_token);
  EXPECT_EQ(endpoint.server.requests(), 1);
  EXPECT_EQ(second.requests_made(), 0u);

  // A different client id must not see that token.
  options.client_id = "other-client";
  TokenClient third(options);
  auto other = third.Token(kScope);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, first_token);
  EXPECT_EQ(json::parse(ReadText(cache)).as_object().size(), 2u);

  // Invalidate removes the entry from the file too.
  second.Invalidate(kScope);
  EXPECT_EQ(json::parse(ReadText(cache)).as_object().size(), 1u);
}

TEST(TokenClientTest, CorruptCacheFileIsIgnored) {
  TempDir dir;
  const std::string cache = dir.path() + "/token-cache.json";
  {
    std::ofstream out(cache);
    out << "not json {";
  }
  FakeTokenEndpoint endpoint;
  TokenClientOptions options = Options(endpoint);
  options.cache_file = cache;
  TokenClient client(options);
  ASSERT_TRUE(client.Token(kScope).ok());
  EXPECT_EQ(json::parse(ReadText(cache)).as_object().size(), 1u);
}

TEST(TokenClientTest, ErrorAnswersBecomeErrors) {
  struct Case {
    int status;
    std::string body;
    ErrorCode code;
    std::vector<std::string> message_parts;
  };
  const std::vector<Case> cases = {
      {400,
       R"({"error":"invalid_scope","error_description":"scope x not allowed"})",
       ErrorCode::kUnauthenticated,
       {"invalid_scope", "scope x not allowed"}},
      {401, R"({"error":"invalid_client"})", ErrorCode::kUnauthenticated, {"invalid_client"}},
      {400, "not json", ErrorCode::kUnauthenticated, {"HTTP 400"}},
      {429, R"({"error":"slow_down"})", ErrorCode::kRateLimited, {"slow_down"}},
      {503, "", ErrorCode::kInternal, {"503"}},
      {200, R"({"token_type":"Bearer"})", ErrorCode::kInternal, {"access_token"}},
      {200, R"({"access_token":"t"})", ErrorCode::kInternal, {"expires_in"}},
      {200, R"([1,2])", ErrorCode::kInternal, {"JSON"}},
  };
  for (const Case& c : cases) {
    FakeTokenEndpoint endpoint;
    endpoint.Answer(c.status, c.body);
    TokenClient client(Options(endpoint));
    auto token = client.Token(kScope);
    ASSERT_FALSE(token.ok()) << c.status << " " << c.body;
    EXPECT_EQ(token.error().code, c.code) << c.status << " " << c.body;
    EXPECT_FALSE(IsTransportError(token.error()));
    for (const auto& part : c.message_parts) {
      EXPECT_NE(token.error().message.find(part), std::string::npos)
          << token.error().message << " lacks " << part;
    }
  }
}

TEST(TokenClientTest, TransportErrorsPassThrough) {
  TokenClientOptions options;
  options.issuer = "http://127.0.0.1:" + std::to_string(testing::ClosedPort()) + "/";
  options.client_id = "c";
  options.key = TestKey();
  TokenClient client(options);
  auto token = client.Token(kScope);
  ASSERT_FALSE(token.ok());
  EXPECT_TRUE(IsTransportError(token.error()));
}

TEST(TokenClientTest, RejectsIncompleteOptionsAndBadInput) {
  FakeTokenEndpoint endpoint;
  {
    TokenClientOptions options = Options(endpoint);
    options.key.reset();
    TokenClient client(options);
    auto token = client.Token(kScope);
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.error().code, ErrorCode::kInvalidInput);
  }
  {
    TokenClientOptions options = Options(endpoint);
    auto public_only = auth::RsaKey::FromPem(TestKey().PublicPem());
    ASSERT_TRUE(public_only.ok());
    options.key = *public_only;
    TokenClient client(options);
    EXPECT_EQ(client.Token(kScope).error().code, ErrorCode::kInvalidInput);
  }
  TokenClient client(Options(endpoint));
  EXPECT_EQ(client.Token("").error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(client.Token(kScope, "0192:123456789").error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(endpoint.server.requests(), 0);
}

TEST(NormalizeOrgTest, AcceptsPrefixedAndPlainOrgnr) {
  EXPECT_EQ(NormalizeOrg("0192:974760673"), "974760673");
  EXPECT_EQ(NormalizeOrg("974760673"), "974760673");
  EXPECT_FALSE(NormalizeOrg("974760674").has_value());
  EXPECT_FALSE(NormalizeOrg("0192:").has_value());
  EXPECT_FALSE(NormalizeOrg("9908:974760673").has_value());
}

}  // namespace
}  // namespace norreg::client
