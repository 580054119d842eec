// Functional tests of Maskinporten security against the real binary (SPEC 4, issue 3): the
// built-in authorisation server, `norreg token`, token checks in front of every API, the producer
// scope, a second trusted issuer, the per-organisation rate limit and the disclosure audit log.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <ctime>
#include <fstream>
#include <memory>

#include "auth/jwt.hpp"
#include "client/token_client.hpp"
#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";
std::string Api(const std::string& path) { return std::string(kApi) + path; }

json::object Claims(const std::string& token) {
  auto first = token.find('.');
  auto second = token.find('.', first + 1);
  auto payload = auth::Base64UrlDecode(token.substr(first + 1, second - first - 1));
  EXPECT_TRUE(payload.has_value());
  return json::parse(payload.value_or("{}")).as_object();
}

void ExpectFregError(const HttpResponse& r, long status) {
  EXPECT_EQ(r.status, status) << r.body;
  auto body = json::parse(r.body).as_object();
  EXPECT_EQ(body.at("kode").as_string(), "FREG-001");
  EXPECT_FALSE(body.at("melding").as_string().empty());
}

std::string ClaimsJson(const std::string& issuer, const std::string& scope, long exp_offset,
                       const std::string& consumer = "0192:974760673") {
  const long now = static_cast<long>(std::time(nullptr));
  return "{\"scope\":\"" + scope + "\",\"iss\":\"" + issuer +
         "\",\"client_amr\":\"private_key_jwt\",\"token_type\":\"Bearer\",\"exp\":" +
         std::to_string(now + exp_offset) + ",\"iat\":" + std::to_string(now) +
         ",\"client_id\":\"test-client\",\"jti\":\"t-1\",\"consumer\":{\"authority\":"
         "\"iso6523-actorid-upis\",\"ID\":\"" +
         consumer + "\"}}";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The orgnr of every demo client, in registry order (consumers first).
std::vector<std::string> DemoOrgs(const std::string& data_dir) {
  std::vector<std::string> orgs;
  auto clients = json::parse(ReadFile(data_dir + "/auth/clients.json")).as_object();
  for (const auto& c : clients.at("clients").as_array()) {
    orgs.push_back(std::string(c.at("orgnr").as_string()));
  }
  return orgs;
}

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    server_ = std::make_unique<ServerProcess>(dir_->path(),
                                              std::vector<std::string>{"--demo-persons", "60"});
    auto page = server_->Get(Api("/hendelser/feed?seq=1"));
    ASSERT_EQ(page.status, 200) << page.body;
    fnr_ = std::string(json::parse(page.body)
                           .as_array()
                           .at(0)
                           .at("hendelse")
                           .at("folkeregisteridentifikator")
                           .as_string());
    orgs_ = DemoOrgs(dir_->path());
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }
  static HttpResponse GetPerson(const std::string& authorization) {
    return server_->Get(Api("/personer/" + fnr_), {{"Authorization", authorization}});
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::string fnr_;
  static inline std::vector<std::string> orgs_;
};

TEST_F(AuthTest, MetadataAndKeysDescribeTheBuiltInIssuer) {
  auto metadata = server_->Get("/.well-known/oauth-authorization-server", {{"Authorization", ""}});
  ASSERT_EQ(metadata.status, 200) << metadata.body;
  auto m = json::parse(metadata.body).as_object();
  const std::string issuer = server_->base_url() + "/";
  EXPECT_EQ(m.at("issuer").as_string(), issuer);
  EXPECT_EQ(m.at("token_endpoint").as_string(), issuer + "token");
  EXPECT_EQ(m.at("jwks_uri").as_string(), issuer + "jwk");
  auto jwk = server_->Get("/jwk", {{"Authorization", ""}});
  ASSERT_EQ(jwk.status, 200);
  auto keys = json::parse(jwk.body).at("keys").as_array();
  ASSERT_FALSE(keys.empty());
  EXPECT_EQ(keys[0].at("kty").as_string(), "RSA");
  EXPECT_FALSE(keys[0].as_object().contains("d"));  // never the private part
}

TEST_F(AuthTest, TokenCommandPrintsOnlyAWorkingMaskinportenToken) {
  std::string token;
  ASSERT_EQ(RunNorregStdout({"token", "--data", dir_->path(), "--scope", kFregScope}, &token), 0)
      << token;
  ASSERT_FALSE(token.empty());
  ASSERT_EQ(token.back(), '\n');
  token.pop_back();
  EXPECT_EQ(token.find_first_of(" \n"), std::string::npos) << token;
  json::object claims = Claims(token);
  EXPECT_EQ(claims.at("iss").as_string(), server_->base_url() + "/");
  EXPECT_EQ(claims.at("scope").as_string(), kFregScope);
  EXPECT_EQ(claims.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(claims.at("client_amr").as_string(), "private_key_jwt");
  EXPECT_EQ(claims.at("consumer").at("authority").as_string(), "iso6523-actorid-upis");
  EXPECT_EQ(claims.at("consumer").at("ID").as_string(), "0192:" + orgs_.at(0));
  for (const char* absent : {"aud", "sub", "nbf"}) EXPECT_FALSE(claims.contains(absent)) << absent;
  EXPECT_EQ(GetPerson("Bearer " + token).status, 200);

  // --org picks that organisation's own client.
  std::string second;
  ASSERT_EQ(RunNorregStdout({"token", "--data", dir_->path(), "--scope", kFregScope, "--org",
                             "0192:" + orgs_.at(1)},
                            &second),
            0);
  second.pop_back();
  EXPECT_EQ(Claims(second).at("consumer").at("ID").as_string(), "0192:" + orgs_.at(1));
  EXPECT_EQ(GetPerson("Bearer " + second).status, 200);

  std::string out;
  EXPECT_NE(
      RunNorreg({"token", "--data", dir_->path(), "--scope", kFregScope, "--org", "0192:123456789"},
                &out),
      0);
}

TEST_F(AuthTest, FregRefusesMissingAndInvalidTokensWith401And403ForTheWrongScope) {
  auto missing = server_->Get(Api("/personer/" + fnr_), {{"Authorization", ""}});
  ExpectFregError(missing, 401);
  EXPECT_FALSE(missing.Header("www-authenticate").empty());
  ExpectFregError(GetPerson("Bearer"), 401);
  ExpectFregError(GetPerson("Bearer x.y.z"), 401);
  ExpectFregError(GetPerson("Basic dXNlcjpwYXNz"), 401);
  // Oversized: past the server's 16 KB header limit the connection-level 431 answers; below it
  // the token is parsed and refused.
  EXPECT_EQ(GetPerson("Bearer " + std::string(20000, 'a')).status, 431);
  ExpectFregError(
      GetPerson("Bearer " + std::string(7000, 'a') + "." + std::string(7000, 'a') + ".c2ln"), 401);

  // alg none: the real token's claims, no signature.
  const std::string real = server_->Token();
  const std::string payload = real.substr(real.find('.') + 1, real.rfind('.') - real.find('.') - 1);
  ExpectFregError(
      GetPerson("Bearer " + auth::Base64UrlEncode(R"({"alg":"none"})") + "." + payload + "."), 401);
  // The signature of another token.
  const std::string other = server_->Token("brreg:mottak");
  ExpectFregError(
      GetPerson("Bearer " + real.substr(0, real.rfind('.')) + other.substr(other.rfind('.'))), 401);
  // Valid token, wrong scope -> 403.
  ExpectFregError(GetPerson("Bearer " + other), 403);
  // The producer scope does not open the consumer API either.
  ExpectFregError(GetPerson("Bearer " + server_->Token("norreg:register")), 403);
  // Every endpoint is protected, including the feed, errors and unknown paths' siblings.
  for (const std::string path : {"/hendelser/feed?seq=1", "/hendelser/siste/sekvensnummer",
                                 "/personer/arkiv/00000000000000000000000000000000"}) {
    ExpectFregError(server_->Get(Api(path), {{"Authorization", ""}}), 401);
  }
  ExpectFregError(server_->Post(Api("/personer/bulkoppslag"), R"({"foedselsEllerDNummer":[]})",
                                {{"Content-Type", "application/json"}, {"Authorization", ""}}),
                  401);
  // The server still serves after all of it.
  EXPECT_EQ(GetPerson("Bearer " + real).status, 200);
}

TEST_F(AuthTest, TokenEndpointRefusesBadGrantsInOAuthShape) {
  struct Case {
    std::string body;
    std::string error;
  };
  const Case cases[] = {
      {"grant_type=client_credentials&assertion=x", "unsupported_grant_type"},
      {"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer", "invalid_request"},
      {"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b.c",
       "invalid_grant"},
  };
  for (const Case& c : cases) {
    auto r = server_->Request(
        "POST", "/token", c.body,
        {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", ""}});
    EXPECT_EQ(r.status, 400) << c.body << " " << r.body;
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("error").as_string(), c.error) << r.body;
    EXPECT_TRUE(body.contains("error_description"));
  }
  auto wrong_type = server_->Request("POST", "/token", "{}",
                                     {{"Content-Type", "application/json"}, {"Authorization", ""}});
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_EQ(json::parse(wrong_type.body).at("error").as_string(), "invalid_request");
}

// The token endpoint needs no token: a body larger than a grant (64 KiB) is refused from its
// Content-Length with 413 in the OAuth shape, before a byte of it is read.
TEST_F(AuthTest, TokenEndpointRefusesABodyLargerThanAGrantFromItsHeaders) {
  const std::string answer = RawExchange(
      server_->port(),
      "POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: 70000\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 413", 0), 0u) << answer.substr(0, 200);
  EXPECT_NE(answer.find("\"error\":\"invalid_request\""), std::string::npos) << answer;
  // A grant of ordinary size is still read and judged.
  auto r = server_->Request(
      "POST", "/token", "grant_type=client_credentials&assertion=" + std::string(40000, 'a'),
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", ""}});
  EXPECT_EQ(r.status, 400);
}

TEST_F(AuthTest, TokenEndpointRefusesAReplayedGrant) {
  auto options = client::DemoTokenClientOptions(dir_->path(), kFregScope, "", "");
  ASSERT_TRUE(options.ok()) << options.error().message;
  if (options->kid.empty()) options->kid = options->key->Thumbprint();
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  auto form = client::MakeGrantForm(*options, kFregScope, "", now);
  ASSERT_TRUE(form.ok());
  const std::map<std::string, std::string> headers{
      {"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", ""}};
  auto first = server_->Request("POST", "/token", *form, headers);
  ASSERT_EQ(first.status, 200) << first.body;
  auto answer = json::parse(first.body).as_object();
  EXPECT_EQ(answer.at("token_type").as_string(), "Bearer");
  EXPECT_EQ(answer.at("scope").as_string(), kFregScope);
  EXPECT_GT(answer.at("expires_in").as_int64(), 0);
  EXPECT_EQ(first.Header("cache-control"), "no-store");
  auto replay = server_->Request("POST", "/token", *form, headers);
  EXPECT_EQ(replay.status, 400) << replay.body;
  EXPECT_EQ(json::parse(replay.body).at("error").as_string(), "invalid_grant");
  // An assertion valid for longer than 120 s is refused too.
  options->assertion_lifetime = std::chrono::seconds(121);
  auto long_lived = client::MakeGrantForm(*options, kFregScope, "", now);
  auto refused = server_->Request("POST", "/token", *long_lived, headers);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(json::parse(refused.body).at("error").as_string(), "invalid_grant");
}

TEST_F(AuthTest, ProducerScopeWritesTheRegisterAndConsumersCannot) {
  // Take an existing person's document and post it back as a new version.
  auto person = GetPerson("Bearer " + server_->Token());
  ASSERT_EQ(person.status, 200);
  const std::string path = "/norreg/register/v1/personer";
  auto refused = server_->Post(
      path, person.body,
      {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + server_->Token()}});
  ExpectFregError(refused, 403);
  auto anonymous = server_->Post(path, person.body,
                                 {{"Content-Type", "application/json"}, {"Authorization", ""}});
  ExpectFregError(anonymous, 401);
  auto latest_before = server_->Get(Api("/hendelser/siste/sekvensnummer"));
  const std::string producer = "Bearer " + server_->Token("norreg:register");
  auto written = server_->Post(path, person.body,
                               {{"Content-Type", "application/json"}, {"Authorization", producer}});
  ASSERT_EQ(written.status, 200) << written.body;
  auto summary = json::parse(written.body).as_object();
  EXPECT_EQ(summary.at("dokumenter").as_int64(), 1);
  EXPECT_EQ(summary.at("nyePersoner").as_int64(), 0);
  auto latest_after = server_->Get(Api("/hendelser/siste/sekvensnummer"));
  EXPECT_EQ(std::stoll(latest_after.body), std::stoll(latest_before.body) + 1);
  auto invalid = server_->Post(path, R"({"identifikasjonsnummer":"nope"})",
                               {{"Content-Type", "application/json"}, {"Authorization", producer}});
  ExpectFregError(invalid, 400);
}

TEST_F(AuthTest, AuditLogAnswersWhoLookedAPersonUp) {
  const std::string org = orgs_.at(2);
  ASSERT_EQ(GetPerson("Bearer " + server_->Token(kFregScope, "0192:" + org)).status, 200);
  auto bulk =
      server_->Post(Api("/personer/bulkoppslag"), "{\"foedselsEllerDNummer\":[\"" + fnr_ + "\"]}",
                    {{"Content-Type", "application/json"},
                     {"Authorization", "Bearer " + server_->Token(kFregScope, org)}});
  ASSERT_EQ(bulk.status, 200);
  std::string out;
  ASSERT_EQ(RunNorregStdout(
                {"audit", "--data", dir_->path(), "--person", fnr_, "--org", org, "--json"}, &out),
            0)
      << out;
  size_t lines = 0, lookups = 0, bulks = 0;
  for (size_t start = 0; start < out.size();) {
    size_t end = out.find('\n', start);
    auto entry = json::parse(out.substr(start, end - start)).as_object();
    ++lines;
    const std::string text = json::serialize(entry);
    EXPECT_NE(text.find(org), std::string::npos) << text;
    EXPECT_NE(text.find(fnr_), std::string::npos) << text;
    lookups += text.find("freg_person\"") != std::string::npos;
    bulks += text.find("freg_bulkoppslag\"") != std::string::npos;
    start = end == std::string::npos ? out.size() : end + 1;
  }
  EXPECT_EQ(lines, 2u) << out;
  EXPECT_EQ(lookups, 1u) << out;
  EXPECT_EQ(bulks, 1u) << out;
}

TEST(AuthServerTest, SecondIssuerIsTrustedOnlyWhenConfigured) {
  TempDir dir;
  auto key = auth::RsaKey::Generate().value();
  const std::string jwks_path = dir.path() + "/other-jwks.json";
  std::ofstream(jwks_path) << "{\"keys\":[" << key.PublicJwkJson("other-1") << "]}";
  const std::string issuer = "https://other-issuer.test/";
  const std::string token =
      auth::SignJwt(key, auth::JwsAlg::kRs256, "other-1", ClaimsJson(issuer, kFregScope, 120))
          .value();
  const std::string expired =
      auth::SignJwt(key, auth::JwsAlg::kRs256, "other-1", ClaimsJson(issuer, kFregScope, -60))
          .value();
  const std::string impostor = auth::SignJwt(key, auth::JwsAlg::kRs256, "other-1",
                                             ClaimsJson("https://third.test/", kFregScope, 120))
                                   .value();
  ServerProcess trusting(dir.path(), {"--demo-persons", "5", "--trust-issuer",
                                      issuer + "=" + jwks_path, "--auth-server", "true"});
  const std::string path = Api("/hendelser/siste/sekvensnummer");
  EXPECT_EQ(trusting.Get(path, {{"Authorization", "Bearer " + token}}).status, 200);
  EXPECT_EQ(trusting.Get(path, {{"Authorization", "Bearer " + expired}}).status, 401);
  EXPECT_EQ(trusting.Get(path, {{"Authorization", "Bearer " + impostor}}).status, 401);
  EXPECT_EQ(trusting.Get(path).status, 200);  // the built-in issuer is still trusted
  const std::string builtin = trusting.Token();
  trusting.Stop();

  // Trusting another issuer without asking for the development server turns it off: no token
  // endpoint, no key set, and its tokens (issued before) are not trusted.
  ServerProcess production(dir.path(),
                           {"--demo-persons", "5", "--trust-issuer", issuer + "=" + jwks_path});
  EXPECT_EQ(production.Get(path, {{"Authorization", "Bearer " + token}}).status, 200);
  EXPECT_EQ(production.Get(path, {{"Authorization", "Bearer " + builtin}}).status, 401);
  EXPECT_EQ(production.Get("/jwk", {{"Authorization", ""}}).status, 404);
  production.Stop();

  ServerProcess plain(dir.path(), {"--demo-persons", "5"});
  EXPECT_EQ(plain.Get(path, {{"Authorization", "Bearer " + token}}).status, 401);
}

TEST(AuthServerTest, SigningKeysSurviveARestartAndRotate) {
  TempDir dir;
  std::string token;
  {
    ServerProcess first(dir.path(), {"--demo-persons", "5", "--issuer", "http://norreg.test/"});
    token = first.Token();
    EXPECT_EQ(Claims(token).at("iss").as_string(), "http://norreg.test/");
  }
  // Rotation: the new key signs, the previous one still verifies tokens it signed.
  std::string out;
  ASSERT_EQ(RunNorreg({"rotate-signing-key", "--data", dir.path()}, &out), 0) << out;
  ServerProcess second(dir.path(), {"--demo-persons", "5", "--issuer", "http://norreg.test/"});
  const std::string path = Api("/hendelser/siste/sekvensnummer");
  EXPECT_EQ(second.Get(path, {{"Authorization", "Bearer " + token}}).status, 200);
  const std::string fresh = second.Token();
  auto kid_of = [](const std::string& t) {
    return std::string(
        json::parse(auth::Base64UrlDecode(t.substr(0, t.find('.'))).value()).at("kid").as_string());
  };
  EXPECT_NE(kid_of(fresh), kid_of(token));
  EXPECT_EQ(second.Get(path, {{"Authorization", "Bearer " + fresh}}).status, 200);
  auto keys = json::parse(second.Get("/jwk").body).at("keys").as_array();
  EXPECT_EQ(keys.size(), 2u);
}

TEST(AuthServerTest, RateLimitAnswers429WithRetryAfterInMilliseconds) {
  TempDir dir;
  ServerProcess server(dir.path(),
                       {"--demo-persons", "5", "--rate-limit", "2", "--rate-limit-burst", "3"});
  const std::string path = Api("/hendelser/siste/sekvensnummer");
  const std::string token = "Bearer " + server.Token();
  int ok = 0;
  HttpResponse limited;
  for (int i = 0; i < 6; ++i) {
    auto r = server.Get(path, {{"Authorization", token}});
    if (r.status == 200) ++ok;
    if (r.status == 429) limited = r;
  }
  EXPECT_GE(ok, 3);
  ASSERT_EQ(limited.status, 429) << limited.body;
  ExpectFregError(limited, 429);
  const int retry_ms = std::stoi(limited.Header("retry-after"));
  EXPECT_GT(retry_ms, 0);
  EXPECT_LE(retry_ms, 500);  // milliseconds: at 2/s one token takes at most 500 ms
  // Another organisation has its own budget.
  const std::string second = "Bearer " + server.Token(kFregScope, DemoOrgs(dir.path()).at(1));
  EXPECT_EQ(server.Get(path, {{"Authorization", second}}).status, 200);
}

}  // namespace
}  // namespace norreg::testing
