#include "auth/client_registry.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/ids.hpp"

namespace norreg::auth {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "norreg-registry-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = pattern;
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

// Key generation is slow (more so under the sanitizers): one demo folder for the whole file.
class DemoClientsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    demo_dir_ = dir_->path() + "/data/auth";
    auto registry = EnsureDemoClients(demo_dir_);
    ASSERT_TRUE(registry.ok()) << registry.error().message << " " << registry.error().detail;
    registry_ = new ClientRegistry(std::move(*registry));
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete dir_;
  }
  static inline TempDir* dir_ = nullptr;
  static inline std::string demo_dir_;
  static inline ClientRegistry* registry_ = nullptr;
};

TEST(DemoOrgnrTest, AreValidSyntheticAndDistinct) {
  std::vector<std::string> orgs = DemoConsumerOrgnrs();
  ASSERT_EQ(orgs.size(), 3u);
  orgs.emplace_back(kDemoSupplierOrgnr);
  orgs.emplace_back(kDemoProducerOrgnr);
  std::set<std::string> distinct(orgs.begin(), orgs.end());
  EXPECT_EQ(distinct.size(), orgs.size());
  for (const std::string& org : orgs) {
    EXPECT_TRUE(ids::ValidOrgnr(org)) << org;
    EXPECT_EQ(org.front(), '3') << org;  // no real organisasjonsnummer starts with 3
  }
  EXPECT_EQ(DemoConsumerOrgnrs(),
            (std::vector<std::string>{"310000019", "310000027", "310000035"}));
}

TEST(ValidClientIdTest, AcceptsSafeNamesOnly) {
  struct Case {
    std::string id;
    bool valid;
  };
  const Case cases[] = {
      {"demo-konsument-1", true},
      {"0b9a2f5e-1c3d-4e5f-8a7b-123456789abc", true},
      {"a.b_c:d", true},
      {std::string(128, 'x'), true},
      {std::string(129, 'x'), false},
      {"", false},
      {".hidden", false},
      {"../etc/passwd", false},
      {"a/b", false},
      {"a b", false},
      {"a\nb", false},
      {"æøå", false},
  };
  for (const Case& c : cases) EXPECT_EQ(ValidClientId(c.id), c.valid) << c.id;
}

TEST_F(DemoClientsTest, CreatesTheDocumentedClientsInOrder) {
  const auto& clients = registry_->clients();
  ASSERT_EQ(clients.size(), 5u);
  const std::vector<std::string> consumers = DemoConsumerOrgnrs();
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(clients[i].client_id, kDemoConsumerClientIds[i]);
    EXPECT_EQ(clients[i].orgnr, consumers[i]);
    EXPECT_EQ(clients[i].scopes,
              (std::vector<std::string>{std::string(kFregScope), std::string(kMottakScope)}));
    EXPECT_TRUE(clients[i].consumer_orgs.empty());
  }
  EXPECT_EQ(clients[3].client_id, kDemoSupplierClientId);
  EXPECT_EQ(clients[3].orgnr, kDemoSupplierOrgnr);
  EXPECT_TRUE(clients[3].AllowsScope(kFregScope));
  EXPECT_EQ(clients[3].consumer_orgs, std::vector<std::string>{consumers[0]});
  EXPECT_EQ(clients[4].client_id, kDemoProducerClientId);
  EXPECT_EQ(clients[4].orgnr, kDemoProducerOrgnr);
  EXPECT_TRUE(clients[4].AllowsScope(kRegisterProducerScope));
  EXPECT_TRUE(clients[4].AllowsScope(kMottakProducerScope));
  EXPECT_FALSE(clients[4].AllowsScope(kFregScope));
  EXPECT_FALSE(clients[0].AllowsScope(kRegisterProducerScope));
  EXPECT_FALSE(clients[0].AllowsScope("folkeregister:deling"));  // whole scopes only

  std::set<std::string> kids;
  for (const RegisteredClient& client : clients) {
    ASSERT_EQ(client.keys.size(), 1u) << client.client_id;
    const ClientKey& key = client.keys[0];
    EXPECT_EQ(key.kid, key.key.Thumbprint());
    EXPECT_FALSE(key.key.has_private()) << "the registry holds public keys only";
    EXPECT_EQ(client.FindKey(key.kid), &key);
    EXPECT_EQ(client.FindKey("other"), nullptr);
    kids.insert(key.kid);
    EXPECT_EQ(registry_->Find(client.client_id), &client);

    const std::string key_path = demo_dir_ + "/clients/" + client.client_id + ".pem";
    EXPECT_EQ(Mode(key_path), 0600u) << key_path;
    auto private_key = LoadClientPrivateKey(demo_dir_, client.client_id);
    ASSERT_TRUE(private_key.ok()) << private_key.error().message;
    EXPECT_TRUE(private_key->has_private());
    EXPECT_TRUE(private_key->SamePublicKey(key.key));
  }
  EXPECT_EQ(kids.size(), 5u);
  EXPECT_EQ(Mode(demo_dir_ + "/clients"), 0700u);
  EXPECT_EQ(registry_->Find("nobody"), nullptr);
}

TEST_F(DemoClientsTest, SecondCallReusesTheExistingClientsAndKeys) {
  const std::string before = ReadText(demo_dir_ + "/clients.json");
  const std::string key_before = ReadText(demo_dir_ + "/clients/demo-konsument-1.pem");
  auto again = EnsureDemoClients(demo_dir_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  ASSERT_EQ(again->clients().size(), registry_->clients().size());
  for (std::size_t i = 0; i < again->clients().size(); ++i) {
    EXPECT_EQ(again->clients()[i].client_id, registry_->clients()[i].client_id);
    EXPECT_EQ(again->clients()[i].keys[0].kid, registry_->clients()[i].keys[0].kid);
  }
  EXPECT_EQ(ReadText(demo_dir_ + "/clients.json"), before);
  EXPECT_EQ(ReadText(demo_dir_ + "/clients/demo-konsument-1.pem"), key_before);
}

TEST_F(DemoClientsTest, LoadClientPrivateKeyRefusesUnknownAndUnsafeIds) {
  auto missing = LoadClientPrivateKey(demo_dir_, "nobody");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  for (const char* bad : {"../clients", "a/b", "", ".pem"}) {
    auto refused = LoadClientPrivateKey(demo_dir_, bad);
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidInput) << bad;
  }
  // A file that is not a private key.
  WriteText(demo_dir_ + "/clients/garbage.pem", "not a key");
  auto garbage = LoadClientPrivateKey(demo_dir_, "garbage");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().code, ErrorCode::kInvalidInput);
  fs::remove(demo_dir_ + "/clients/garbage.pem");
}

TEST_F(DemoClientsTest, SaveAndLoadRoundTrip) {
  TempDir other;
  const std::string dir = other.path() + "/nested/auth";
  std::vector<RegisteredClient> clients = registry_->clients();
  clients[1].name = "Navn med \"sitat\", æøå og \\ skråstrek\n";
  clients[1].consumer_orgs = {"310000035", std::string(kDemoSupplierOrgnr)};
  // A second key for one client.
  clients[2].keys.push_back(ClientKey{"second-kid", clients[0].keys[0].key});
  ClientRegistry original(clients);
  ASSERT_TRUE(original.Save(dir).ok());
  EXPECT_FALSE(fs::exists(dir + "/clients.json.tmp." + std::to_string(::getpid())));

  auto loaded = ClientRegistry::Load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->clients().size(), clients.size());
  for (std::size_t i = 0; i < clients.size(); ++i) {
    const RegisteredClient& a = clients[i];
    const RegisteredClient& b = loaded->clients()[i];
    EXPECT_EQ(a.client_id, b.client_id);
    EXPECT_EQ(a.orgnr, b.orgnr);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.scopes, b.scopes);
    EXPECT_EQ(a.consumer_orgs, b.consumer_orgs);
    ASSERT_EQ(a.keys.size(), b.keys.size());
    for (std::size_t k = 0; k < a.keys.size(); ++k) {
      EXPECT_EQ(a.keys[k].kid, b.keys[k].kid);
      EXPECT_TRUE(a.keys[k].key.SamePublicKey(b.keys[k].key));
    }
  }
  // Saving what was loaded gives the same file (stable, deterministic output).
  const std::string first = ReadText(dir + "/clients.json");
  ASSERT_TRUE(loaded->Save(dir).ok());
  EXPECT_EQ(ReadText(dir + "/clients.json"), first);
  EXPECT_NE(first.find('\n'), std::string::npos) << "indented for people";
}

TEST(ClientRegistryTest, MissingFileIsNotFound) {
  TempDir dir;
  auto loaded = ClientRegistry::Load(dir.path());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, ErrorCode::kNotFound);
}

// A valid registry document, mutated per case.
json::object ValidDocument(const RsaKey& key) {
  json::object k;
  k["kid"] = "k1";
  k["public_key_pem"] = key.PublicPem();
  json::object client;
  client["client_id"] = "client-a";
  client["orgnr"] = "310000019";
  client["name"] = "A";
  client["scopes"] = json::array{"brreg:mottak"};
  client["consumer_orgs"] = json::array{"310000027"};
  client["keys"] = json::array{k};
  json::object root;
  root["clients"] = json::array{client};
  return root;
}

json::object& FirstClient(json::object& root) { return root["clients"].as_array()[0].as_object(); }

TEST(ClientRegistryTest, RefusesMalformedFilesNamingTheField) {
  const RsaKey key = RsaKey::Generate(2048).value();
  using Mutate = std::function<void(json::object&)>;
  struct Case {
    std::string name;
    Mutate mutate;        // applied to a valid document
    std::string raw;      // used instead when non-empty
    std::string message;  // expected in the error message
  };
  const std::vector<Case> cases = {
      {"not json", nullptr, "{\"clients\":[", "not JSON"},
      {"array at top", nullptr, "[]", "must be a JSON object"},
      {"unknown top key", [](json::object& r) { r["extra"] = 1; }, "", "unknown key \"extra\""},
      {"clients missing", [](json::object& r) { r.erase("clients"); }, "",
       "\"clients\" must be an array"},
      {"client not object", [](json::object& r) { r["clients"].as_array()[0] = 5; }, "",
       "clients[0]: must be an object"},
      {"unknown client key", [](json::object& r) { FirstClient(r)["colour"] = "red"; }, "",
       "clients[0] (client-a): unknown key \"colour\""},
      {"client_id missing", [](json::object& r) { FirstClient(r).erase("client_id"); }, "",
       "\"client_id\" is missing"},
      {"client_id unsafe", [](json::object& r) { FirstClient(r)["client_id"] = "../x"; }, "",
       "\"client_id\" must be"},
      {"orgnr check digit", [](json::object& r) { FirstClient(r)["orgnr"] = "310000018"; }, "",
       "(client-a): \"orgnr\" is not a valid organisasjonsnummer"},
      {"orgnr number", [](json::object& r) { FirstClient(r)["orgnr"] = 310000019; }, "",
       "\"orgnr\" is not a valid"},
      {"orgnr missing", [](json::object& r) { FirstClient(r).erase("orgnr"); }, "",
       "\"orgnr\" is missing"},
      {"name not string", [](json::object& r) { FirstClient(r)["name"] = json::array{}; }, "",
       "\"name\" must be a string"},
      {"scopes not array", [](json::object& r) { FirstClient(r)["scopes"] = "brreg:mottak"; }, "",
       "\"scopes\" must be an array"},
      {"scopes with number", [](json::object& r) { FirstClient(r)["scopes"] = json::array{1}; }, "",
       "\"scopes\" must be an array"},
      {"scope with space", [](json::object& r) { FirstClient(r)["scopes"] = json::array{"a b"}; },
       "", "\"scopes\" entry \"a b\" contains whitespace"},
      {"scopes missing", [](json::object& r) { FirstClient(r).erase("scopes"); }, "",
       "\"scopes\" is missing"},
      {"consumer_orgs bad",
       [](json::object& r) { FirstClient(r)["consumer_orgs"] = json::array{"123"}; }, "",
       "\"consumer_orgs\" entry \"123\" is not a valid orgnr"},
      {"keys empty", [](json::object& r) { FirstClient(r)["keys"] = json::array{}; }, "",
       "\"keys\" must be a non-empty array"},
      {"keys missing", [](json::object& r) { FirstClient(r).erase("keys"); }, "",
       "\"keys\" is missing"},
      {"key unknown member",
       [](json::object& r) { FirstClient(r)["keys"].as_array()[0].as_object()["d"] = "secret"; },
       "", "\"keys\"[0] has unknown key \"d\""},
      {"kid missing",
       [](json::object& r) { FirstClient(r)["keys"].as_array()[0].as_object().erase("kid"); }, "",
       "\"keys\"[0].kid must be a non-empty string"},
      {"pem garbage",
       [](json::object& r) {
         FirstClient(r)["keys"].as_array()[0].as_object()["public_key_pem"] = "garbage";
       },
       "", "\"keys\"[0].public_key_pem is not an RSA key"},
      {"pem private",
       [&key](json::object& r) {
         FirstClient(r)["keys"].as_array()[0].as_object()["public_key_pem"] = key.PrivatePem();
       },
       "", "\"keys\"[0].public_key_pem holds a private key"},
      {"duplicate kid",
       [](json::object& r) {
         auto& keys = FirstClient(r)["keys"].as_array();
         keys.push_back(keys[0]);
       },
       "", "\"keys\"[1].kid \"k1\" is a duplicate"},
      {"duplicate client_id",
       [](json::object& r) {
         auto& clients = r["clients"].as_array();
         clients.push_back(clients[0]);
       },
       "", "clients[1] (client-a): \"client_id\" is a duplicate"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    std::string text = c.raw;
    if (c.mutate) {
      json::object doc = ValidDocument(key);
      c.mutate(doc);
      text = json::serialize(doc);
    }
    WriteText(dir.path() + "/clients.json", text);
    auto loaded = ClientRegistry::Load(dir.path());
    ASSERT_FALSE(loaded.ok()) << c.name;
    EXPECT_EQ(loaded.error().code, ErrorCode::kInvalidInput) << c.name;
    EXPECT_NE(loaded.error().message.find(c.message), std::string::npos)
        << c.name << ": " << loaded.error().message;
  }
  // The unmutated document loads: every case above fails for its own reason.
  TempDir dir;
  WriteText(dir.path() + "/clients.json", json::serialize(ValidDocument(key)));
  auto loaded = ClientRegistry::Load(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_EQ(loaded->clients().size(), 1u);
  EXPECT_EQ(loaded->clients()[0].consumer_orgs, std::vector<std::string>{"310000027"});
}

TEST(ClientRegistryTest, OptionalFieldsDefaultToEmpty) {
  const RsaKey key = RsaKey::Generate(2048).value();
  json::object doc = ValidDocument(key);
  FirstClient(doc).erase("name");
  FirstClient(doc).erase("consumer_orgs");
  TempDir dir;
  WriteText(dir.path() + "/clients.json", json::serialize(doc));
  auto loaded = ClientRegistry::Load(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->clients()[0].name, "");
  EXPECT_TRUE(loaded->clients()[0].consumer_orgs.empty());
}

}  // namespace
}  // namespace norreg::auth
