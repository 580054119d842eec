// TokenClient against the real grant logic of the development authorisation server
// (auth::AuthorizationServer behind a fake HTTP endpoint): what the client sends is what the
// server accepts, including supplier grants with consumer_org, and refusals arrive as errors.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "auth/authorization_server.hpp"
#include "auth/client_registry.hpp"
#include "auth/jwt.hpp"
#include "client/token_client.hpp"
#include "fake_http_server.hpp"

namespace norreg::client {
namespace {

namespace json = boost::json;

class AuthServerInteropTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = (std::filesystem::temp_directory_path() / "norreg-interop-XXXXXX");
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = new std::string(pattern);
    auto registry = auth::EnsureDemoClients(*dir_ + "/auth");
    ASSERT_TRUE(registry.ok()) << registry.error().message;
    auto keys = auth::SigningKeys::OpenOrCreate(*dir_ + "/auth");
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    // The issuer must be known before the server starts; the fake endpoint's port is not, so the
    // endpoint forwards to a server created lazily with the right issuer.
    endpoint_ = new testing::FakeHttpServer([](const testing::FakeRequest& request) {
      testing::FakeResponse response;
      response.headers = {{"Content-Type", "application/json"}};
      auto outcome = server_->IssueToken(testing::ParseForm(request.body));
      if (outcome.ok) {
        response.body = outcome.answer.ToJson();
      } else {
        response.status = outcome.error.status;
        response.body = outcome.error.ToJson();
      }
      return response;
    });
    server_ = new auth::AuthorizationServer({.issuer = endpoint_->Url("/")}, *registry, *keys);
    WriteServerJson();
  }
  static void TearDownTestSuite() {
    delete endpoint_;
    delete server_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  static void WriteServerJson() {
    std::ofstream out(*dir_ + "/auth/server.json");
    out << R"({"issuer":")" << endpoint_->Url("/") << R"(","token_endpoint":")"
        << endpoint_->Url("/token") << R"("})";
  }
  static json::object Claims(const std::string& token) {
    auto jwt = auth::ParseJwt(token);
    EXPECT_TRUE(jwt.ok());
    if (!jwt.ok()) return {};
    return json::parse(jwt->payload_json).as_object();
  }

  static std::string* dir_;
  static testing::FakeHttpServer* endpoint_;
  static auth::AuthorizationServer* server_;
};
std::string* AuthServerInteropTest::dir_ = nullptr;
testing::FakeHttpServer* AuthServerInteropTest::endpoint_ = nullptr;
auth::AuthorizationServer* AuthServerInteropTest::server_ = nullptr;

TEST_F(AuthServerInteropTest, DemoClientGetsTokenForItsOrg) {
  auto options = DemoTokenClientOptions(*dir_, auth::kFregScope, "", "");
  ASSERT_TRUE(options.ok()) << options.error().message;
  options->cache_file.clear();
  const std::string client_id = options->client_id;
  auto registry = auth::ClientRegistry::Load(*dir_ + "/auth");
  ASSERT_TRUE(registry.ok());
  TokenClient client(std::move(*options));
  auto token = client.Token(auth::kFregScope);
  ASSERT_TRUE(token.ok()) << token.error().message;
  json::object claims = Claims(*token);
  EXPECT_EQ(claims.at("iss").as_string(), endpoint_->Url("/"));
  EXPECT_EQ(claims.at("client_id").as_string(), client_id);
  EXPECT_EQ(claims.at("scope").as_string(), auth::kFregScope);
  EXPECT_EQ(claims.at("consumer").at("ID").as_string(), "0192:" + registry->Find(client_id)->orgnr);
  EXPECT_FALSE(claims.contains("supplier"));
  // The assertion's jti is fresh: a second grant (cache bypassed) is not a replay.
  client.Invalidate(auth::kFregScope);
  auto again = client.Token(auth::kFregScope);
  ASSERT_TRUE(again.ok()) << again.error().message;
}

TEST_F(AuthServerInteropTest, SupplierActsForConsumer) {
  auto registry = auth::ClientRegistry::Load(*dir_ + "/auth");
  ASSERT_TRUE(registry.ok());
  const auth::RegisteredClient* supplier = nullptr;
  for (const auto& c : registry->clients()) {
    if (!c.consumer_orgs.empty() && c.AllowsScope(auth::kFregScope)) supplier = &c;
  }
  ASSERT_NE(supplier, nullptr) << "demo clients have no supplier";
  auto key = auth::LoadClientPrivateKey(*dir_ + "/auth", supplier->client_id);
  ASSERT_TRUE(key.ok());
  TokenClientOptions options;
  options.issuer = endpoint_->Url("/");
  options.client_id = supplier->client_id;
  options.kid = supplier->keys.front().kid;
  options.key = *key;
  TokenClient client(options);
  const std::string consumer = supplier->consumer_orgs.front();
  auto token = client.Token(auth::kFregScope, "0192:" + consumer);
  ASSERT_TRUE(token.ok()) << token.error().message;
  json::object claims = Claims(*token);
  EXPECT_EQ(claims.at("consumer").at("ID").as_string(), "0192:" + consumer);
  EXPECT_EQ(claims.at("supplier").at("ID").as_string(), "0192:" + supplier->orgnr);
}

TEST_F(AuthServerInteropTest, RefusalsBecomeUnauthenticated) {
  auto options = DemoTokenClientOptions(*dir_, auth::kFregScope, "", "");
  ASSERT_TRUE(options.ok());
  options->cache_file.clear();
  {
    TokenClient client(*options);
    auto token = client.Token("norreg:register");  // not allowed to a consumer
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(token.error().message.find("invalid_scope"), std::string::npos)
        << token.error().message;
  }
  {
    TokenClientOptions wrong_kid = *options;
    wrong_kid.kid = "no-such-kid";
    TokenClient client(wrong_kid);
    auto token = client.Token(auth::kFregScope);
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(token.error().message.find("invalid_client"), std::string::npos)
        << token.error().message;
  }
  {
    TokenClientOptions wrong_aud = *options;
    wrong_aud.issuer = "http://elsewhere.example/";
    wrong_aud.token_endpoint = endpoint_->Url("/token");
    TokenClient client(wrong_aud);
    auto token = client.Token(auth::kFregScope);
    ASSERT_FALSE(token.ok());
    EXPECT_EQ(token.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(token.error().message.find("invalid_grant"), std::string::npos)
        << token.error().message;
  }
}

}  // namespace
}  // namespace norreg::client
