#include "cli/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace norreg::cli {
namespace {

std::string WriteTemp(const std::string& text) {
  static int counter = 0;
  std::string path =
      (std::filesystem::temp_directory_path() /
       ("norreg-config-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".json"))
          .string();
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigTest, DefaultsAreValid) {
  Config config;
  EXPECT_TRUE(Validate(config).ok());
  EXPECT_EQ(config.data, "./data");
  EXPECT_EQ(config.listen, "127.0.0.1:8080");
}

TEST(ConfigTest, FileSetsKeys) {
  Config config;
  std::string path = WriteTemp(R"({"data":"/srv/reg","listen":"0.0.0.0:9000","demo_persons":5,
                                   "access_log":false,"threads":4})");
  ASSERT_TRUE(ApplyConfigFile(path, config).ok());
  EXPECT_EQ(config.data, "/srv/reg");
  EXPECT_EQ(config.listen, "0.0.0.0:9000");
  EXPECT_EQ(config.demo_persons, 5u);
  EXPECT_FALSE(config.access_log);
  EXPECT_EQ(config.threads, 4);
  std::filesystem::remove(path);
}

// The extract lease (jobs shared by the nodes of a PostgreSQL register) and the test-only knobs:
// defaults, file, environment, ranges.
TEST(ConfigTest, UttrekkLeaseAndTestKnobs) {
  Config config;
  EXPECT_EQ(config.uttrekk_lease_s, 30);
  EXPECT_EQ(config.uttrekk_test_batch_size, 0);
  EXPECT_EQ(config.uttrekk_test_batch_delay_ms, 0);
  std::string path = WriteTemp(
      R"({"uttrekk_lease_s":5,"uttrekk_test_batch_size":150,"uttrekk_test_batch_delay_ms":20})");
  ASSERT_TRUE(ApplyConfigFile(path, config).ok());
  std::filesystem::remove(path);
  EXPECT_EQ(config.uttrekk_lease_s, 5);
  EXPECT_EQ(config.uttrekk_test_batch_size, 150);
  EXPECT_EQ(config.uttrekk_test_batch_delay_ms, 20);
  setenv("NORREG_UTTREKK_LEASE_S", "7", 1);
  EXPECT_TRUE(ApplyEnvironment(config).ok());
  EXPECT_EQ(config.uttrekk_lease_s, 7);
  setenv("NORREG_UTTREKK_LEASE_S", "0", 1);
  Status s = ApplyEnvironment(config);
  unsetenv("NORREG_UTTREKK_LEASE_S");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("NORREG_UTTREKK_LEASE_S"), std::string::npos);
  for (const char* bad : {R"({"uttrekk_lease_s":0})", R"({"uttrekk_test_batch_size":-1})",
                          R"({"uttrekk_test_batch_delay_ms":"slow"})"}) {
    Config c;
    path = WriteTemp(bad);
    EXPECT_FALSE(ApplyConfigFile(path, c).ok()) << bad;
    std::filesystem::remove(path);
  }
}

TEST(ConfigTest, FileErrorsNameTheKey) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {R"({"lisen":"x"})", "lisen"},
      {R"({"threads":"four"})", "threads"},
      {R"({"threads":1000})", "threads"},
      {R"({"access_log":1})", "access_log"},
      {R"([1,2])", "JSON-objekt"},
      {R"({not json)", "ugyldig JSON"},
      {R"({"sqlite_mmap_mb":-1})", "sqlite_mmap_mb"},
      {R"({"sqlite_mmap_mb":99999999})", "sqlite_mmap_mb"},
  };
  for (const Case& c : cases) {
    Config config;
    std::string path = WriteTemp(c.text);
    Status s = ApplyConfigFile(path, config);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.error().message.find(c.expected), std::string::npos) << s.error().message;
    std::filesystem::remove(path);
  }
  Config config;
  EXPECT_FALSE(ApplyConfigFile("/nonexistent/norreg.json", config).ok());
}

// `db` picks the register's store: empty (SQLite in `data`, the default) or a PostgreSQL URI.
TEST(ConfigTest, DbIsEmptyOrAPostgresUri) {
  Config config;
  EXPECT_TRUE(config.db.empty());
  std::string path = WriteTemp(R"({"db":"postgresql://reg@db.example/norreg"})");
  ASSERT_TRUE(ApplyConfigFile(path, config).ok());
  std::filesystem::remove(path);
  EXPECT_EQ(config.db, "postgresql://reg@db.example/norreg");
  EXPECT_TRUE(Validate(config).ok());
  setenv("NORREG_DB", "postgres:///norreg?host=/run/pg", 1);
  ASSERT_TRUE(ApplyEnvironment(config).ok());
  unsetenv("NORREG_DB");
  EXPECT_EQ(config.db, "postgres:///norreg?host=/run/pg");
  EXPECT_TRUE(Validate(config).ok());
  for (const char* bad : {"sqlite://x", "host=/run/pg dbname=norreg", "./data/register.db"}) {
    config.db = bad;
    Status s = Validate(config);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.error().message.find("db"), std::string::npos) << s.error().message;
  }
}

TEST(ConfigTest, EnvironmentOverridesTheFile) {
  Config config;
  std::string path = WriteTemp(R"({"listen":"127.0.0.1:1","demo_persons":7})");
  ASSERT_TRUE(ApplyConfigFile(path, config).ok());
  setenv("NORREG_LISTEN", "127.0.0.1:2", 1);
  setenv("NORREG_DEMO_PERSONS", "8", 1);
  Status s = ApplyEnvironment(config);
  unsetenv("NORREG_LISTEN");
  unsetenv("NORREG_DEMO_PERSONS");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(config.listen, "127.0.0.1:2");
  EXPECT_EQ(config.demo_persons, 8u);
  setenv("NORREG_THREADS", "many", 1);
  EXPECT_FALSE(ApplyEnvironment(config).ok());
  unsetenv("NORREG_THREADS");
  std::filesystem::remove(path);
}

TEST(ConfigTest, ValidateRejectsBadValues) {
  for (std::string listen : {"8080", "host:", ":80", "host:99999", "host:80a"}) {
    Config config;
    config.listen = listen;
    EXPECT_FALSE(Validate(config).ok()) << listen;
  }
  Config config;
  config.log_level = "loud";
  EXPECT_FALSE(Validate(config).ok());
  config = Config{};
  config.listen = "[::1]:8080";
  EXPECT_TRUE(Validate(config).ok());
}

TEST(ConfigTest, TrustedIssuersFromFileAndEnvironment) {
  Config config;
  std::string path = WriteTemp(
      R"({"trusted_issuers":["https://test.maskinporten.no/=https://test.maskinporten.no/jwk",
                             "https://other.test/=/etc/norreg/other-jwks.json"],
          "rate_limit_per_s":10,"audit":false,"audit_sync":false,"auth_server":false,
          "min_body_rate":0,"admin_listen":"127.0.0.1:9100","uttrekk_kept_per_org":5,
          "sqlite_mmap_mb":2048})");
  ASSERT_TRUE(ApplyConfigFile(path, config).ok());
  ASSERT_EQ(config.trusted_issuers.size(), 2u);
  EXPECT_TRUE(Validate(config).ok());
  auto first = ParseTrustedIssuer(config.trusted_issuers[0]);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->issuer, "https://test.maskinporten.no/");
  EXPECT_EQ(first->jwks, "https://test.maskinporten.no/jwk");
  EXPECT_EQ(ParseTrustedIssuer(config.trusted_issuers[1])->jwks, "/etc/norreg/other-jwks.json");
  // Keys over plain HTTP only from this machine.
  EXPECT_TRUE(ParseTrustedIssuer("https://a.test/=http://127.0.0.1:8080/jwk").ok());
  EXPECT_TRUE(ParseTrustedIssuer("https://a.test/=http://localhost/jwk").ok());
  EXPECT_TRUE(ParseTrustedIssuer("https://a.test/=http://[::1]:9/jwk").ok());
  for (const char* remote :
       {"https://a.test/=http://a.test/jwk", "https://a.test/=http://10.0.0.1/jwk",
        "https://a.test/=http://127.0.0.1.evil.test/jwk",
        "https://a.test/=http://localhost.evil.test:80/jwk"}) {
    auto refused = ParseTrustedIssuer(remote);
    ASSERT_FALSE(refused.ok()) << remote;
    EXPECT_NE(refused.error().message.find("https://"), std::string::npos) << remote;
  }
  EXPECT_EQ(config.rate_limit_per_s, 10);
  EXPECT_FALSE(config.audit);
  EXPECT_FALSE(config.audit_sync);
  EXPECT_EQ(config.min_body_rate, 0u);
  EXPECT_EQ(config.admin_listen, "127.0.0.1:9100");
  EXPECT_EQ(config.uttrekk_kept_per_org, 5);
  EXPECT_EQ(config.sqlite_mmap_mb, 2048u);
  Config bad_admin = config;
  bad_admin.admin_listen = "9100";
  EXPECT_FALSE(Validate(bad_admin).ok());

  setenv("NORREG_TRUSTED_ISSUERS", R"(["https://a.test/=a.json","https://b.test/=b.json"])", 1);
  ASSERT_TRUE(ApplyEnvironment(config).ok());
  EXPECT_EQ(config.trusted_issuers.size(), 2u);
  EXPECT_EQ(config.trusted_issuers[1], "https://b.test/=b.json");
  setenv("NORREG_TRUSTED_ISSUERS", "https://c.test/=c.json", 1);
  ASSERT_TRUE(ApplyEnvironment(config).ok());
  unsetenv("NORREG_TRUSTED_ISSUERS");
  ASSERT_EQ(config.trusted_issuers.size(), 1u);
  EXPECT_EQ(config.trusted_issuers[0], "https://c.test/=c.json");
  std::filesystem::remove(path);
}

TEST(ConfigTest, ValidateRejectsBadSecuritySettings) {
  for (std::string entry :
       {"https://x.test/", "https://x.test/=", "x.test=jwks.json", "https://x.test=jwks.json"}) {
    Config config;
    config.trusted_issuers = {entry};
    EXPECT_FALSE(Validate(config).ok()) << entry;
  }
  Config config;
  config.issuer = "http://norreg.test";  // issuers are exact and end with '/'
  EXPECT_FALSE(Validate(config).ok());
  config = Config{};
  config.auth_server = false;  // nothing could ever be accepted
  EXPECT_FALSE(Validate(config).ok());
  config.trusted_issuers = {"https://test.maskinporten.no/=https://test.maskinporten.no/jwk"};
  EXPECT_TRUE(Validate(config).ok());
}

// The development authorisation server (and its demo clients) is on by default only where no
// other issuer is trusted; asked for explicitly, it runs beside them.
TEST(ConfigTest, TrustedIssuersTurnTheDevelopmentServerOffUnlessAsked) {
  Config config;
  EXPECT_TRUE(AuthServerOn(config));
  config.trusted_issuers = {"https://test.maskinporten.no/=https://test.maskinporten.no/jwk"};
  EXPECT_FALSE(AuthServerOn(config));
  EXPECT_TRUE(Validate(config).ok());
  config.auth_server = true;
  EXPECT_TRUE(AuthServerOn(config));
  Config from_file;
  auto apply = [&](const std::string& text) {
    const std::string path = WriteTemp(text);
    Status s = ApplyConfigFile(path, from_file);
    std::filesystem::remove(path);
    return s;
  };
  ASSERT_TRUE(apply(R"({"trusted_issuers":"https://a.test/=a.json"})").ok());
  EXPECT_FALSE(AuthServerOn(from_file));
  ASSERT_TRUE(apply(R"({"auth_server":true})").ok());
  EXPECT_TRUE(AuthServerOn(from_file));
  EXPECT_FALSE(apply(R"({"auth_server":"yes"})").ok());
}

}  // namespace
}  // namespace norreg::cli
