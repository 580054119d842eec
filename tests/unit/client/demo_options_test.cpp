// DemoTokenClientOptions: zero-configuration discovery of the dev server and its demo clients.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "auth/client_registry.hpp"
#include "client/token_client.hpp"

namespace norreg::client {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "norreg-demo-XXXXXX");
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// One data folder with the real demo clients for all tests (key generation is slow under ASan).
class DemoOptionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auto registry = auth::EnsureDemoClients(dir_->path() + "/auth");
    ASSERT_TRUE(registry.ok()) << registry.error().message;
    registry_ = new auth::ClientRegistry(*registry);
    WriteText(
        dir_->path() + "/auth/server.json",
        R"({"issuer":"http://127.0.0.1:18080/","token_endpoint":"http://127.0.0.1:18080/token"})");
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete dir_;
  }
  static const std::string& data() { return dir_->path(); }

  static TempDir* dir_;
  static auth::ClientRegistry* registry_;
};
TempDir* DemoOptionsTest::dir_ = nullptr;
auth::ClientRegistry* DemoOptionsTest::registry_ = nullptr;

TEST_F(DemoOptionsTest, ReadsServerJsonAndPicksFirstClientWithScope) {
  auto options = DemoTokenClientOptions(data(), auth::kFregScope, "", "");
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->issuer, "http://127.0.0.1:18080/");
  EXPECT_EQ(options->token_endpoint, "http://127.0.0.1:18080/token");
  EXPECT_EQ(options->cache_file, data() + "/auth/token-cache.json");
  EXPECT_TRUE(options->consumer_org.empty());

  const auth::RegisteredClient* expected = nullptr;
  for (const auto& client : registry_->clients()) {
    if (client.AllowsScope(auth::kFregScope)) {
      expected = &client;
      break;
    }
  }
  ASSERT_NE(expected, nullptr);
  EXPECT_EQ(options->client_id, expected->client_id);
  ASSERT_TRUE(options->key.has_value());
  EXPECT_TRUE(options->key->has_private());
  const auth::ClientKey* registered = expected->FindKey(options->kid);
  ASSERT_NE(registered, nullptr) << options->kid;
  EXPECT_TRUE(registered->key.SamePublicKey(*options->key));
}

TEST_F(DemoOptionsTest, PicksClientOfTheOrg) {
  for (const auto& client : registry_->clients()) {
    for (const std::string& scope : client.scopes) {
      for (const std::string& org : {client.orgnr, "0192:" + client.orgnr}) {
        auto options = DemoTokenClientOptions(data(), scope, org, "");
        ASSERT_TRUE(options.ok()) << org << " " << scope << ": " << options.error().message;
        const auth::RegisteredClient* chosen = registry_->Find(options->client_id);
        ASSERT_NE(chosen, nullptr);
        EXPECT_EQ(chosen->orgnr, client.orgnr) << scope;
        EXPECT_TRUE(chosen->AllowsScope(scope));
        EXPECT_TRUE(options->consumer_org.empty());
      }
    }
  }
}

TEST_F(DemoOptionsTest, UrlOverridesServerJson) {
  struct Case {
    std::string url, issuer;
  };
  for (const Case& c : std::vector<Case>{{"http://localhost:9999", "http://localhost:9999/"},
                                         {"http://localhost:9999/", "http://localhost:9999/"}}) {
    auto options = DemoTokenClientOptions(data(), auth::kMottakScope, "", c.url);
    ASSERT_TRUE(options.ok()) << options.error().message;
    EXPECT_EQ(options->issuer, c.issuer);
    EXPECT_EQ(options->token_endpoint, c.issuer + "token");
  }
}

TEST_F(DemoOptionsTest, ClearErrors) {
  auto unknown_org = DemoTokenClientOptions(data(), auth::kFregScope, "0192:974760673", "");
  ASSERT_FALSE(unknown_org.ok());
  EXPECT_EQ(unknown_org.error().code, ErrorCode::kNotFound);
  EXPECT_NE(unknown_org.error().message.find("no demo client for org 0192:974760673 with scope " +
                                             std::string(auth::kFregScope)),
            std::string::npos)
      << unknown_org.error().message;
  EXPECT_NE(unknown_org.error().message.find("known: "), std::string::npos);
  EXPECT_NE(unknown_org.error().message.find(registry_->clients().front().orgnr),
            std::string::npos);

  auto unknown_scope = DemoTokenClientOptions(data(), "no:such-scope", "", "");
  ASSERT_FALSE(unknown_scope.ok());
  EXPECT_EQ(unknown_scope.error().code, ErrorCode::kNotFound);

  auto bad_org = DemoTokenClientOptions(data(), auth::kFregScope, "12345", "");
  ASSERT_FALSE(bad_org.ok());
  EXPECT_EQ(bad_org.error().code, ErrorCode::kInvalidInput);

  EXPECT_EQ(DemoTokenClientOptions(data(), "", "", "").error().code, ErrorCode::kInvalidInput);

  TempDir empty;
  auto no_server = DemoTokenClientOptions(empty.path(), auth::kFregScope, "", "");
  ASSERT_FALSE(no_server.ok());
  EXPECT_EQ(no_server.error().code, ErrorCode::kNotFound);
  EXPECT_NE(no_server.error().message.find("server.json"), std::string::npos);
  auto no_clients = DemoTokenClientOptions(empty.path(), auth::kFregScope, "", "http://x/");
  ASSERT_FALSE(no_clients.ok());
  EXPECT_EQ(no_clients.error().code, ErrorCode::kNotFound);
}

// A supplier may act for an organisation that has no client of its own: the token request then
// carries consumer_org.
TEST(DemoOptionsSupplierTest, SupplierActsForConsumerOrg) {
  TempDir dir;
  const std::string auth_dir = dir.path() + "/auth";
  std::filesystem::create_directories(auth_dir + "/clients");
  auto key = auth::RsaKey::Generate(2048);
  ASSERT_TRUE(key.ok());
  auth::RegisteredClient supplier;
  supplier.client_id = "supplier";
  supplier.orgnr = "974760673";
  supplier.name = "Leverandør AS";
  supplier.scopes = {std::string(auth::kFregScope)};
  supplier.consumer_orgs = {"923609016"};
  supplier.keys = {auth::ClientKey{"supplier-kid", *key}};
  ASSERT_TRUE(auth::ClientRegistry({supplier}).Save(auth_dir).ok());
  WriteText(auth_dir + "/clients/supplier.pem", key->PrivatePem());
  WriteText(auth_dir + "/server.json", R"({"issuer":"http://127.0.0.1:1/"})");

  auto options = DemoTokenClientOptions(dir.path(), auth::kFregScope, "0192:923609016", "");
  ASSERT_TRUE(options.ok()) << options.error().message;
  EXPECT_EQ(options->client_id, "supplier");
  EXPECT_EQ(options->kid, "supplier-kid");
  EXPECT_EQ(options->consumer_org, "923609016");
  EXPECT_EQ(options->token_endpoint, "http://127.0.0.1:1/token");  // default from the issuer

  auto own = DemoTokenClientOptions(dir.path(), auth::kFregScope, "974760673", "");
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->consumer_org.empty());

  // The supplier may not act for it with a scope it lacks.
  auto other_scope = DemoTokenClientOptions(dir.path(), auth::kMottakScope, "923609016", "");
  ASSERT_FALSE(other_scope.ok());
  EXPECT_EQ(other_scope.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace norreg::client
