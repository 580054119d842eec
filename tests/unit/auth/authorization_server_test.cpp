#include "auth/authorization_server.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.hpp"

namespace norreg::auth {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

constexpr int64_t kNow = 1'700'000'000;
constexpr std::string_view kIssuer = "http://norreg.test/";
constexpr std::string_view kGrant = "urn:ietf:params:oauth:grant-type:jwt-bearer";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "norreg-authserver-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = pattern;
  }
  ~TempDir() { fs::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

unsigned Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

std::string B64(std::string_view s) { return Base64UrlEncode(s); }

// A compact JWS with exactly the header given (so tests can put x5c, odd algs, no kid ...).
std::string Jws(const json::object& header, const json::object& claims, const RsaKey& key,
                const EVP_MD* md = EVP_sha256()) {
  std::string input = B64(json::serialize(header)) + "." + B64(json::serialize(claims));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, md, nullptr, key.get());
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  EVP_MD_CTX_free(ctx);
  sig.resize(len);
  return input + "." + B64(sig);
}

// A self-signed certificate for `key`, as an x5c entry (standard base64 DER).
std::string SelfSignedX5c(const RsaKey& key) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("norreg test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key.get(), EVP_sha256());
  const int len = i2d_X509(cert, nullptr);
  std::string der(static_cast<std::size_t>(len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert, &p);
  X509_free(cert);
  std::string b64(static_cast<std::size_t>(4 * ((len + 2) / 3) + 1), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(der.data()), len);
  b64.resize(static_cast<std::size_t>(n));
  return b64;
}

json::object Decode(std::string_view part) {
  auto text = Base64UrlDecode(part);
  if (!text) return {};
  return json::parse(*text).as_object();
}

std::vector<std::string> Keys(const json::object& o) {
  std::vector<std::string> keys;
  for (const auto& member : o) keys.emplace_back(member.key());
  return keys;
}

using Form = std::vector<std::pair<std::string, std::string>>;

Form GrantForm(std::string assertion) {
  return {{"grant_type", std::string(kGrant)}, {"assertion", std::move(assertion)}};
}

// Demo clients, their private keys and the signing keys, made once for the file (key generation
// is slow under the sanitizers).
class AuthServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    auth_dir_ = dir_->path() + "/auth";
    auto registry = EnsureDemoClients(auth_dir_);
    ASSERT_TRUE(registry.ok()) << registry.error().message;
    registry_ = new ClientRegistry(std::move(*registry));
    private_keys_ = new std::map<std::string, RsaKey>();
    for (const RegisteredClient& client : registry_->clients()) {
      auto key = LoadClientPrivateKey(auth_dir_, client.client_id);
      ASSERT_TRUE(key.ok());
      private_keys_->emplace(client.client_id, *key);
    }
    auto keys = SigningKeys::OpenOrCreate(auth_dir_);
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    signing_ = new std::shared_ptr<SigningKeys>(*keys);
    stranger_ = new RsaKey(RsaKey::Generate(2048).value());
  }
  static void TearDownTestSuite() {
    delete stranger_;
    delete signing_;
    delete private_keys_;
    delete registry_;
    delete dir_;
  }

  void SetUp() override {
    AuthServerOptions options;
    options.issuer = std::string(kIssuer);
    server_ = std::make_unique<AuthorizationServer>(options, *registry_, *signing_);
  }

  static const RsaKey& PrivateKey(const std::string& client_id) {
    return private_keys_->at(client_id);
  }
  static std::string Kid(const std::string& client_id) {
    return registry_->Find(client_id)->keys[0].kid;
  }

  // Claims of a valid assertion for `client_id`; each call a fresh jti.
  static json::object Claims(const std::string& client_id, std::string_view scope = kFregScope) {
    json::object c;
    c["aud"] = kIssuer;
    c["iss"] = client_id;
    c["scope"] = scope;
    c["iat"] = kNow;
    c["exp"] = kNow + 120;
    c["jti"] = ids::NewUuid();
    return c;
  }
  static json::object Header(const std::string& client_id, std::string_view alg = "RS256") {
    json::object h;
    h["alg"] = alg;
    h["kid"] = Kid(client_id);
    return h;
  }
  static std::string Assertion(const std::string& client_id, const json::object& claims) {
    return Jws(Header(client_id), claims, PrivateKey(client_id));
  }

  TokenOutcome Issue(const std::string& assertion, int64_t now = kNow) const {
    return server_->IssueTokenAt(GrantForm(assertion), now);
  }

  static inline TempDir* dir_ = nullptr;
  static inline std::string auth_dir_;
  static inline ClientRegistry* registry_ = nullptr;
  static inline std::map<std::string, RsaKey>* private_keys_ = nullptr;
  static inline std::shared_ptr<SigningKeys>* signing_ = nullptr;
  static inline RsaKey* stranger_ = nullptr;
  std::unique_ptr<AuthorizationServer> server_;
};

const std::string kConsumer1 = "demo-konsument-1";
const std::string kConsumer2 = "demo-konsument-2";
const std::string kSupplier = "demo-leverandor";
const std::string kProducer = "demo-register";

TEST_F(AuthServerTest, IssuesAMaskinportenShapedToken) {
  TokenOutcome outcome = Issue(Assertion(kConsumer1, Claims(kConsumer1)));
  ASSERT_TRUE(outcome.ok) << outcome.error.error << ": " << outcome.error.description;
  EXPECT_EQ(outcome.answer.expires_in, 120);
  EXPECT_EQ(outcome.answer.scope, kFregScope);

  const std::string& token = outcome.answer.access_token;
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = token.find('.', dot1 + 1);
  json::object header = Decode(token.substr(0, dot1));
  EXPECT_EQ(Keys(header), (std::vector<std::string>{"alg", "kid"}));
  EXPECT_EQ(header.at("alg").as_string(), "RS256");
  EXPECT_EQ(header.at("kid").as_string(), (*signing_)->current().kid);

  json::object claims = Decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  EXPECT_EQ(Keys(claims), (std::vector<std::string>{"scope", "iss", "client_amr", "token_type",
                                                    "exp", "iat", "client_id", "jti", "consumer"}));
  EXPECT_EQ(claims.at("scope").as_string(), kFregScope);
  EXPECT_EQ(claims.at("iss").as_string(), kIssuer);
  EXPECT_EQ(claims.at("client_amr").as_string(), "private_key_jwt");
  EXPECT_EQ(claims.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(claims.at("iat").as_int64(), kNow);
  EXPECT_EQ(claims.at("exp").as_int64(), kNow + 120);
  EXPECT_EQ(claims.at("client_id").as_string(), kConsumer1);
  EXPECT_TRUE(ids::IsUuid(claims.at("jti").as_string()));
  const json::object& consumer = claims.at("consumer").as_object();
  EXPECT_EQ(Keys(consumer), (std::vector<std::string>{"authority", "ID"}));
  EXPECT_EQ(consumer.at("authority").as_string(), "iso6523-actorid-upis");
  EXPECT_EQ(consumer.at("ID").as_string(), "0192:" + DemoConsumerOrgnrs()[0]);

  // It verifies with the key published in the JWKS.
  json::object jwks = json::parse(server_->JwksJson()).as_object();
  const json::object& jwk = jwks.at("keys").as_array().at(0).as_object();
  EXPECT_EQ(jwk.at("kid").as_string(), header.at("kid").as_string());
  EXPECT_FALSE(jwk.contains("d"));
  auto public_key = RsaKey::FromJwk(jwk.at("n").as_string(), jwk.at("e").as_string());
  ASSERT_TRUE(public_key.ok());
  auto parsed = ParseJwt(token);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(VerifySignature(*public_key, parsed->alg, parsed->signing_input, parsed->signature));

  // Answer JSON.
  json::object answer = json::parse(outcome.answer.ToJson()).as_object();
  EXPECT_EQ(Keys(answer),
            (std::vector<std::string>{"access_token", "token_type", "expires_in", "scope"}));
  EXPECT_EQ(answer.at("access_token").as_string(), token);
  EXPECT_EQ(answer.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(answer.at("expires_in").as_int64(), 120);

  // Each token has its own jti.
  TokenOutcome second = Issue(Assertion(kConsumer1, Claims(kConsumer1)));
  ASSERT_TRUE(second.ok);
  EXPECT_NE(Decode(second.answer.access_token.substr(second.answer.access_token.find('.') + 1,
                                                     second.answer.access_token.rfind('.') -
                                                         second.answer.access_token.find('.') - 1))
                .at("jti"),
            claims.at("jti"));
}

TEST_F(AuthServerTest, AcceptsTheVariantsMaskinportenAccepts) {
  struct Case {
    std::string name;
    std::function<std::string()> assertion;
    std::string scope;  // expected in the answer
  };
  const std::vector<Case> cases = {
      {"two scopes, duplicates and extra spaces dropped",
       [] {
         auto c = Claims(kConsumer1, std::string(kFregScope) + "  " + std::string(kMottakScope) +
                                         " " + std::string(kFregScope));
         return Assertion(kConsumer1, c);
       },
       std::string(kFregScope) + " " + std::string(kMottakScope)},
      {"aud as array containing the issuer",
       [] {
         auto c = Claims(kConsumer1);
         c["aud"] = json::array{"https://other/", kIssuer};
         return Assertion(kConsumer1, c);
       },
       std::string(kFregScope)},
      {"iat 10 s in the future",
       [] {
         auto c = Claims(kConsumer1);
         c["iat"] = kNow + 10;
         c["exp"] = kNow + 130;
         return Assertion(kConsumer1, c);
       },
       std::string(kFregScope)},
      {"iat 10 s in the past",
       [] {
         auto c = Claims(kConsumer1);
         c["iat"] = kNow - 10;
         c["exp"] = kNow + 110;
         return Assertion(kConsumer1, c);
       },
       std::string(kFregScope)},
      {"exp one second after now",
       [] {
         auto c = Claims(kConsumer1);
         c["exp"] = kNow + 1;
         return Assertion(kConsumer1, c);
       },
       std::string(kFregScope)},
      {"RS512",
       [] {
         return Jws(Header(kConsumer1, "RS512"), Claims(kConsumer1), PrivateKey(kConsumer1),
                    EVP_sha512());
       },
       std::string(kFregScope)},
      {"x5c certificate of a registered key instead of kid",
       [] {
         json::object h;
         h["alg"] = "RS256";
         h["x5c"] = json::array{SelfSignedX5c(PrivateKey(kConsumer1))};
         return Jws(h, Claims(kConsumer1), PrivateKey(kConsumer1));
       },
       std::string(kFregScope)},
      {"consumer_org equal to the client's own org",
       [] {
         auto c = Claims(kConsumer1);
         c["consumer_org"] = DemoConsumerOrgnrs()[0];
         return Assertion(kConsumer1, c);
       },
       std::string(kFregScope)},
      {"producer scopes for the register",
       [] {
         return Assertion(kProducer, Claims(kProducer, std::string(kRegisterProducerScope) + " " +
                                                           std::string(kMottakProducerScope)));
       },
       std::string(kRegisterProducerScope) + " " + std::string(kMottakProducerScope)},
      {"unknown claims and typ header are ignored",
       [] {
         auto c = Claims(kConsumer1);
         c["resource"] = "https://api.example/";
         auto h = Header(kConsumer1);
         h["typ"] = "JWT";
         return Jws(h, c, PrivateKey(kConsumer1));
       },
       std::string(kFregScope)},
  };
  for (const Case& c : cases) {
    TokenOutcome outcome = Issue(c.assertion());
    EXPECT_TRUE(outcome.ok) << c.name << ": " << outcome.error.error << " "
                            << outcome.error.description;
    EXPECT_EQ(outcome.answer.scope, c.scope) << c.name;
  }
}

TEST_F(AuthServerTest, SupplierActsForItsConsumerOnly) {
  auto claims = Claims(kSupplier);
  claims["consumer_org"] = DemoConsumerOrgnrs()[0];
  TokenOutcome outcome = Issue(Assertion(kSupplier, claims));
  ASSERT_TRUE(outcome.ok) << outcome.error.description;
  const std::string& token = outcome.answer.access_token;
  json::object payload =
      Decode(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1));
  EXPECT_EQ(Keys(payload),
            (std::vector<std::string>{"scope", "iss", "client_amr", "token_type", "exp", "iat",
                                      "client_id", "jti", "consumer", "supplier"}));
  EXPECT_EQ(payload.at("consumer").at("ID").as_string(), "0192:" + DemoConsumerOrgnrs()[0]);
  EXPECT_EQ(payload.at("supplier").at("ID").as_string(), "0192:" + std::string(kDemoSupplierOrgnr));
  EXPECT_EQ(payload.at("supplier").at("authority").as_string(), "iso6523-actorid-upis");
  EXPECT_EQ(payload.at("client_id").as_string(), kSupplier);

  // Without consumer_org the supplier acts for itself.
  TokenOutcome own = Issue(Assertion(kSupplier, Claims(kSupplier)));
  ASSERT_TRUE(own.ok);
  const std::string& own_token = own.answer.access_token;
  json::object own_payload = Decode(
      own_token.substr(own_token.find('.') + 1, own_token.rfind('.') - own_token.find('.') - 1));
  EXPECT_EQ(own_payload.at("consumer").at("ID").as_string(),
            "0192:" + std::string(kDemoSupplierOrgnr));
  EXPECT_FALSE(own_payload.contains("supplier"));

  struct Case {
    std::string client;
    std::string org;
  };
  const Case refused[] = {
      {kSupplier, DemoConsumerOrgnrs()[1]},          // not its consumer
      {kSupplier, std::string(kDemoProducerOrgnr)},  // not its consumer
      {kConsumer2, DemoConsumerOrgnrs()[0]},         // a consumer is no supplier
      {kProducer, DemoConsumerOrgnrs()[0]},
  };
  for (const Case& c : refused) {
    auto refused_claims =
        Claims(c.client, c.client == kProducer ? kRegisterProducerScope : kFregScope);
    refused_claims["consumer_org"] = c.org;
    TokenOutcome r = Issue(Assertion(c.client, refused_claims));
    EXPECT_FALSE(r.ok) << c.client << " for " << c.org;
    EXPECT_EQ(r.error.error, "invalid_grant") << c.client << " for " << c.org;
    EXPECT_EQ(r.error.status, 400);
  }
}

TEST_F(AuthServerTest, RefusesWhatMaskinportenRefuses) {
  struct Case {
    std::string name;
    std::function<Form()> form;
    std::string error;
  };
  // A valid assertion with one change to its claims.
  const auto with_claims = [](std::function<void(json::object&)> change) {
    return [change] {
      auto c = Claims(kConsumer1);
      change(c);
      return GrantForm(Assertion(kConsumer1, c));
    };
  };
  const auto with_header = [](std::function<void(json::object&)> change) {
    return [change] {
      auto h = Header(kConsumer1);
      change(h);
      return GrantForm(Jws(h, Claims(kConsumer1), PrivateKey(kConsumer1)));
    };
  };
  const auto valid = [] { return Assertion(kConsumer1, Claims(kConsumer1)); };
  const std::vector<Case> cases = {
      // Form parameters.
      {"wrong grant_type",
       [valid] {
         return Form{{"grant_type", "client_credentials"}, {"assertion", valid()}};
       },
       "unsupported_grant_type"},
      {"missing grant_type",
       [valid] {
         return Form{{"assertion", valid()}};
       },
       "invalid_request"},
      {"empty grant_type",
       [valid] {
         return Form{{"grant_type", ""}, {"assertion", valid()}};
       },
       "invalid_request"},
      {"missing assertion",
       [] {
         return Form{{"grant_type", std::string(kGrant)}};
       },
       "invalid_request"},
      {"empty assertion",
       [] {
         return Form{{"grant_type", std::string(kGrant)}, {"assertion", ""}};
       },
       "invalid_request"},
      {"duplicate grant_type",
       [valid] {
         Form f = GrantForm(valid());
         f.emplace_back("grant_type", std::string(kGrant));
         return f;
       },
       "invalid_request"},
      {"duplicate assertion",
       [valid] {
         Form f = GrantForm(valid());
         f.emplace_back("assertion", valid());
         return f;
       },
       "invalid_request"},
      {"assertion not a JWT", [] { return GrantForm("a.b.c"); }, "invalid_grant"},
      // Client and key.
      {"unknown client (iss)",
       [] {
         auto c = Claims(kConsumer1);
         c["iss"] = "nobody";
         return GrantForm(Assertion(kConsumer1, c));
       },
       "invalid_client"},
      {"iss missing", with_claims([](json::object& c) { c.erase("iss"); }), "invalid_grant"},
      {"iss not a string", with_claims([](json::object& c) { c["iss"] = 5; }), "invalid_grant"},
      {"unknown kid", with_header([](json::object& h) { h["kid"] = "unknown"; }), "invalid_client"},
      {"kid of another client", with_header([](json::object& h) { h["kid"] = Kid(kConsumer2); }),
       "invalid_client"},
      {"neither kid nor x5c", with_header([](json::object& h) { h.erase("kid"); }),
       "invalid_client"},
      {"x5c of an unregistered key",
       [] {
         json::object h;
         h["alg"] = "RS256";
         h["x5c"] = json::array{SelfSignedX5c(*stranger_)};
         return GrantForm(Jws(h, Claims(kConsumer1), *stranger_));
       },
       "invalid_client"},
      {"signed by another key",
       [] { return GrantForm(Jws(Header(kConsumer1), Claims(kConsumer1), *stranger_)); },
       "invalid_grant"},
      {"signed by another client's key",
       [] {
         return GrantForm(Jws(Header(kConsumer1), Claims(kConsumer1), PrivateKey(kConsumer2)));
       },
       "invalid_grant"},
      {"header alg RS384 but RS256 signature",
       with_header([](json::object& h) { h["alg"] = "RS384"; }), "invalid_grant"},
      {"alg HS256",
       [] {
         auto h = Header(kConsumer1, "HS256");
         return GrantForm(B64(json::serialize(h)) + "." + B64(json::serialize(Claims(kConsumer1))) +
                          "." + B64("mac-bytes"));
       },
       "invalid_grant"},
      {"alg none",
       [] {
         auto h = Header(kConsumer1, "none");
         return GrantForm(B64(json::serialize(h)) + "." + B64(json::serialize(Claims(kConsumer1))) +
                          ".");
       },
       "invalid_grant"},
      {"claims tampered after signing",
       [] {
         std::string token = Assertion(kConsumer1, Claims(kConsumer1));
         auto c = Claims(kConsumer1, kMottakScope);
         const std::size_t dot1 = token.find('.');
         const std::size_t dot2 = token.find('.', dot1 + 1);
         return GrantForm(token.substr(0, dot1 + 1) + B64(json::serialize(c)) + token.substr(dot2));
       },
       "invalid_grant"},
      // aud.
      {"aud wrong", with_claims([](json::object& c) { c["aud"] = "https://maskinporten.no/"; }),
       "invalid_grant"},
      {"aud missing", with_claims([](json::object& c) { c.erase("aud"); }), "invalid_grant"},
      {"aud without trailing slash",
       with_claims([](json::object& c) { c["aud"] = "http://norreg.test"; }), "invalid_grant"},
      {"aud array without the issuer",
       with_claims([](json::object& c) { c["aud"] = json::array{"http://norreg.test"}; }),
       "invalid_grant"},
      {"aud a number", with_claims([](json::object& c) { c["aud"] = 1; }), "invalid_grant"},
      // iat / exp.
      {"iat 11 s in the future", with_claims([](json::object& c) {
         c["iat"] = kNow + 11;
         c["exp"] = kNow + 120;
       }),
       "invalid_grant"},
      {"iat 11 s in the past", with_claims([](json::object& c) {
         c["iat"] = kNow - 11;
         c["exp"] = kNow + 100;
       }),
       "invalid_grant"},
      {"iat missing", with_claims([](json::object& c) { c.erase("iat"); }), "invalid_grant"},
      {"iat a string", with_claims([](json::object& c) { c["iat"] = std::to_string(kNow); }),
       "invalid_grant"},
      {"iat fractional", with_claims([](json::object& c) { c["iat"] = kNow + 0.5; }),
       "invalid_grant"},
      {"exp - iat = 121 s", with_claims([](json::object& c) { c["exp"] = kNow + 121; }),
       "invalid_grant"},
      {"exp in the past", with_claims([](json::object& c) { c["exp"] = kNow - 1; }),
       "invalid_grant"},
      {"exp equal to now", with_claims([](json::object& c) { c["exp"] = kNow; }), "invalid_grant"},
      {"exp missing", with_claims([](json::object& c) { c.erase("exp"); }), "invalid_grant"},
      {"exp huge", with_claims([](json::object& c) { c["exp"] = UINT64_MAX; }), "invalid_grant"},
      {"exp most negative", with_claims([](json::object& c) { c["exp"] = INT64_MIN; }),
       "invalid_grant"},
      {"iat most negative", with_claims([](json::object& c) { c["iat"] = INT64_MIN; }),
       "invalid_grant"},
      // jti.
      {"jti missing", with_claims([](json::object& c) { c.erase("jti"); }), "invalid_grant"},
      {"jti empty", with_claims([](json::object& c) { c["jti"] = ""; }), "invalid_grant"},
      {"jti a number", with_claims([](json::object& c) { c["jti"] = 7; }), "invalid_grant"},
      {"jti too long", with_claims([](json::object& c) { c["jti"] = std::string(257, 'j'); }),
       "invalid_grant"},
      // scope.
      {"scope not allowed",
       with_claims([](json::object& c) { c["scope"] = kRegisterProducerScope; }), "invalid_scope"},
      {"one of two scopes not allowed", with_claims([](json::object& c) {
         c["scope"] = std::string(kFregScope) + " " + std::string(kMottakProducerScope);
       }),
       "invalid_scope"},
      {"scope empty", with_claims([](json::object& c) { c["scope"] = ""; }), "invalid_scope"},
      {"scope only spaces", with_claims([](json::object& c) { c["scope"] = "   "; }),
       "invalid_scope"},
      {"scope missing", with_claims([](json::object& c) { c.erase("scope"); }), "invalid_scope"},
      {"scope an array", with_claims([](json::object& c) { c["scope"] = json::array{kFregScope}; }),
       "invalid_scope"},
      {"scope prefix of an allowed one",
       with_claims([](json::object& c) { c["scope"] = "folkeregister:deling"; }), "invalid_scope"},
      // consumer_org.
      {"consumer_org bad check digit",
       with_claims([](json::object& c) { c["consumer_org"] = "310000018"; }), "invalid_grant"},
      {"consumer_org with 0192 prefix",
       with_claims([](json::object& c) { c["consumer_org"] = "0192:310000019"; }), "invalid_grant"},
      {"consumer_org a number", with_claims([](json::object& c) { c["consumer_org"] = 310000019; }),
       "invalid_grant"},
      {"consumer_org empty", with_claims([](json::object& c) { c["consumer_org"] = ""; }),
       "invalid_grant"},
  };
  for (const Case& c : cases) {
    TokenOutcome outcome = server_->IssueTokenAt(c.form(), kNow);
    EXPECT_FALSE(outcome.ok) << c.name;
    EXPECT_EQ(outcome.error.error, c.error) << c.name << ": " << outcome.error.description;
    EXPECT_EQ(outcome.error.status, 400) << c.name;
    EXPECT_FALSE(outcome.error.description.empty()) << c.name;
    EXPECT_TRUE(outcome.answer.access_token.empty()) << c.name;
  }
}

TEST_F(AuthServerTest, RefusesAReplayedJtiPerClient) {
  auto claims = Claims(kConsumer1);
  claims["jti"] = "same-jti";
  const std::string assertion = Assertion(kConsumer1, claims);
  ASSERT_TRUE(Issue(assertion).ok);
  TokenOutcome replay = Issue(assertion);
  EXPECT_FALSE(replay.ok);
  EXPECT_EQ(replay.error.error, "invalid_grant");
  // A new assertion reusing the jti is refused too.
  auto fresh = Claims(kConsumer1);
  fresh["jti"] = "same-jti";
  fresh["exp"] = kNow + 60;
  EXPECT_EQ(Issue(Assertion(kConsumer1, fresh), kNow + 5).error.error, "invalid_grant");

  // Another client may use the same jti.
  auto other = Claims(kConsumer2);
  other["jti"] = "same-jti";
  EXPECT_TRUE(Issue(Assertion(kConsumer2, other)).ok);

  // A refused assertion does not burn its jti.
  auto bad_scope = Claims(kConsumer1, kRegisterProducerScope);
  bad_scope["jti"] = "kept-jti";
  EXPECT_EQ(Issue(Assertion(kConsumer1, bad_scope)).error.error, "invalid_scope");
  auto good = Claims(kConsumer1);
  good["jti"] = "kept-jti";
  EXPECT_TRUE(Issue(Assertion(kConsumer1, good)).ok);

  // Once the first assertion has expired, its jti is forgotten (any replay of it fails on exp).
  auto later = Claims(kConsumer1);
  later["jti"] = "same-jti";
  later["iat"] = kNow + 200;
  later["exp"] = kNow + 300;
  EXPECT_TRUE(Issue(Assertion(kConsumer1, later), kNow + 200).ok);
}

TEST_F(AuthServerTest, ReplayStoreForgetsExpiredEntriesUnderManyRequests) {
  // Enough distinct accepted assertions to trigger the periodic purge; all succeed, and a jti
  // accepted before the purge is still refused while its assertion is valid.
  auto first = Claims(kConsumer1);
  first["jti"] = "before-purge";
  first["exp"] = kNow + 120;
  const std::string kept = Assertion(kConsumer1, first);
  ASSERT_TRUE(Issue(kept).ok);
  const RsaKey& key = PrivateKey(kConsumer1);
  const json::object header = Header(kConsumer1);
  for (int i = 0; i < 1100; ++i) {
    auto c = Claims(kConsumer1);
    c["iat"] = kNow + 1;
    c["exp"] = kNow + 2;
    TokenOutcome outcome = server_->IssueTokenAt(GrantForm(Jws(header, c, key)), kNow + 1);
    ASSERT_TRUE(outcome.ok) << i << " " << outcome.error.description;
  }
  EXPECT_EQ(Issue(kept, kNow + 3).error.error, "invalid_grant");
}

TEST_F(AuthServerTest, IssuesConcurrentlyAndAcceptsEachAssertionOnce) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 15;
  constexpr int kTotal = kThreads * kPerThread;
  std::vector<std::string> assertions;
  for (int i = 0; i < kTotal; ++i) assertions.push_back(Assertion(kConsumer1, Claims(kConsumer1)));
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread offers its own assertions and its neighbour's: every assertion is offered
      // twice at about the same time.
      for (int i = 0; i < kPerThread; ++i) {
        for (int owner : {t, (t + 1) % kThreads}) {
          if (Issue(assertions[static_cast<std::size_t>(owner * kPerThread + i)]).ok) ++accepted;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(accepted.load(), kTotal);
  for (const std::string& a : assertions) EXPECT_FALSE(Issue(a).ok);
}

// A replay store that cannot be reached (a database) refuses the grant as temporarily unavailable,
// never as a replay and never with a token.
TEST_F(AuthServerTest, UnreachableReplayStoreIsTemporarilyUnavailable) {
  class DownStore final : public ReplayStore {
   public:
    Result<Outcome> Remember(std::string_view, std::string_view, int64_t, int64_t) override {
      return MakeError(ErrorCode::kInternal, "down", "connection refused");
    }
  };
  AuthServerOptions options;
  options.issuer = std::string(kIssuer);
  AuthorizationServer server(options, *registry_, *signing_, std::make_shared<DownStore>());
  TokenOutcome outcome =
      server.IssueTokenAt(GrantForm(Assertion(kConsumer1, Claims(kConsumer1))), kNow);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.error.status, 503);
  EXPECT_EQ(outcome.error.error, "temporarily_unavailable");
  EXPECT_EQ(outcome.error.description.find("connection"), std::string::npos);
  EXPECT_TRUE(outcome.answer.access_token.empty());
}

// A full memory store (its bound reached by unexpired assertions) answers 503 too.
TEST_F(AuthServerTest, FullReplayStoreIsTemporarilyUnavailable) {
  AuthServerOptions options;
  options.issuer = std::string(kIssuer);
  AuthorizationServer server(options, *registry_, *signing_, MakeMemoryReplayStore(2));
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(server.IssueTokenAt(GrantForm(Assertion(kConsumer1, Claims(kConsumer1))), kNow).ok);
  }
  TokenOutcome full =
      server.IssueTokenAt(GrantForm(Assertion(kConsumer1, Claims(kConsumer1))), kNow);
  EXPECT_EQ(full.error.status, 503);
  EXPECT_EQ(full.error.error, "temporarily_unavailable");
  // Once the first assertions have expired there is room again.
  EXPECT_TRUE(server
                  .IssueTokenAt(GrantForm(Assertion(kConsumer1,
                                                    [] {
                                                      auto c = Claims(kConsumer1);
                                                      c["iat"] = kNow + 200;
                                                      c["exp"] = kNow + 300;
                                                      return c;
                                                    }())),
                                kNow + 200)
                  .ok);
}

TEST_F(AuthServerTest, MetadataDescribesTheIssuer) {
  json::object m = json::parse(server_->MetadataJson()).as_object();
  EXPECT_EQ(m.at("issuer").as_string(), kIssuer);
  EXPECT_EQ(m.at("token_endpoint").as_string(), std::string(kIssuer) + "token");
  EXPECT_EQ(m.at("jwks_uri").as_string(), std::string(kIssuer) + "jwk");
  EXPECT_EQ(m.at("token_endpoint_auth_methods_supported"), json::array{"private_key_jwt"});
  EXPECT_EQ(m.at("grant_types_supported"), json::array{kGrant});
  EXPECT_EQ(m.at("token_endpoint_auth_signing_alg_values_supported"),
            (json::array{"RS256", "RS384", "RS512"}));
  EXPECT_EQ(server_->issuer(), kIssuer);
}

TEST(OAuthJsonTest, EscapesEverything) {
  OAuthError error{400, "invalid_grant", "quote \" backslash \\ newline \n tab \t ctl \x01 æ"};
  json::object e = json::parse(error.ToJson()).as_object();
  EXPECT_EQ(Keys(e), (std::vector<std::string>{"error", "error_description"}));
  EXPECT_EQ(e.at("error").as_string(), "invalid_grant");
  EXPECT_EQ(e.at("error_description").as_string(), error.description);

  TokenAnswer answer{"a.b.c", 120, "x \"y\""};
  json::object a = json::parse(answer.ToJson()).as_object();
  EXPECT_EQ(a.at("access_token").as_string(), "a.b.c");
  EXPECT_EQ(a.at("expires_in").as_int64(), 120);
  EXPECT_EQ(a.at("scope").as_string(), "x \"y\"");
}

TEST(SigningKeysTest, PersistsReloadsAndRotates) {
  TempDir dir;
  auto keys = SigningKeys::OpenOrCreate(dir.path());
  ASSERT_TRUE(keys.ok()) << keys.error().message;
  const std::string first_kid = (*keys)->current().kid;
  EXPECT_EQ(first_kid, (*keys)->current().key.Thumbprint());
  EXPECT_TRUE((*keys)->current().key.has_private());
  EXPECT_EQ(Mode(dir.path() + "/signing/current.pem"), 0600u);
  EXPECT_EQ(Mode(dir.path() + "/signing"), 0700u);
  EXPECT_FALSE(fs::exists(dir.path() + "/signing/previous.pem"));
  auto kids = [](const SigningKeys& k) {
    std::vector<std::string> out;
    json::object jwks = json::parse(k.JwksJson()).as_object();
    for (const json::value& key : jwks.at("keys").as_array()) {
      const json::object& o = key.as_object();
      EXPECT_EQ(o.at("kty").as_string(), "RSA");
      EXPECT_EQ(o.at("alg").as_string(), "RS256");
      EXPECT_EQ(o.at("use").as_string(), "sig");
      EXPECT_FALSE(o.contains("d"));
      out.emplace_back(o.at("kid").as_string());
    }
    return out;
  };
  EXPECT_EQ(kids(**keys), std::vector<std::string>{first_kid});

  // Reopened: the same key.
  auto reopened = SigningKeys::OpenOrCreate(dir.path());
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->current().kid, first_kid);

  // Rotation: a new current key, the old one still published.
  ASSERT_TRUE((*keys)->Rotate().ok());
  const std::string second_kid = (*keys)->current().kid;
  EXPECT_NE(second_kid, first_kid);
  EXPECT_EQ(kids(**keys), (std::vector<std::string>{second_kid, first_kid}));
  EXPECT_EQ(Mode(dir.path() + "/signing/previous.pem"), 0600u);
  auto after_rotation = SigningKeys::OpenOrCreate(dir.path());
  ASSERT_TRUE(after_rotation.ok());
  EXPECT_EQ(kids(**after_rotation), (std::vector<std::string>{second_kid, first_kid}));

  // A second rotation drops the oldest key.
  ASSERT_TRUE((*keys)->Rotate().ok());
  const std::string third_kid = (*keys)->current().kid;
  EXPECT_EQ(kids(**keys), (std::vector<std::string>{third_kid, second_kid}));

  // A rotation interrupted after its first rename (both files hold the same key) loads as one.
  fs::copy_file(dir.path() + "/signing/current.pem", dir.path() + "/signing/previous.pem",
                fs::copy_options::overwrite_existing);
  auto interrupted = SigningKeys::OpenOrCreate(dir.path());
  ASSERT_TRUE(interrupted.ok());
  EXPECT_EQ(kids(**interrupted), std::vector<std::string>{third_kid});

  // A corrupt key file is an error, not silently replaced.
  std::ofstream(dir.path() + "/signing/current.pem", std::ios::trunc) << "garbage";
  auto corrupt = SigningKeys::OpenOrCreate(dir.path());
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.error().code, ErrorCode::kInvalidInput);
}

TEST_F(AuthServerTest, TokensAfterRotationUseTheNewKey) {
  TempDir dir;
  auto keys = SigningKeys::OpenOrCreate(dir.path());
  ASSERT_TRUE(keys.ok());
  AuthServerOptions options;
  options.issuer = std::string(kIssuer);
  options.token_lifetime = std::chrono::seconds(60);
  AuthorizationServer server(options, *registry_, *keys);
  auto kid_of = [](const TokenOutcome& o) {
    const std::string& t = o.answer.access_token;
    return std::string(Decode(t.substr(0, t.find('.'))).at("kid").as_string());
  };
  TokenOutcome before =
      server.IssueTokenAt(GrantForm(Assertion(kConsumer1, Claims(kConsumer1))), kNow);
  ASSERT_TRUE(before.ok);
  EXPECT_EQ(before.answer.expires_in, 60);
  EXPECT_EQ(kid_of(before), (*keys)->current().kid);
  ASSERT_TRUE((*keys)->Rotate().ok());
  TokenOutcome after =
      server.IssueTokenAt(GrantForm(Assertion(kConsumer1, Claims(kConsumer1))), kNow);
  ASSERT_TRUE(after.ok);
  EXPECT_EQ(kid_of(after), (*keys)->current().kid);
  EXPECT_NE(kid_of(after), kid_of(before));
  EXPECT_NE(server.JwksJson().find(kid_of(before)), std::string::npos);
}

}  // namespace
}  // namespace norreg::auth
