// Google Benchmark: the per-request CPU cost of security on the lookup path, on its own (robust on
// a busy machine where wrk ratios are noisy): validating a reused (cached) token, a fresh token
// (RS256 verify), the bearer before-step with the rate limiter, recording a disclosure, indexing
// it later, and one token grant of the built-in authorisation server (verify + sign).
// Run: build/release/bench/security_bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <filesystem>

#include "auth/authorization_server.hpp"
#include "auth/client_registry.hpp"
#include "auth/rate_limiter.hpp"
#include "auth/token_validator.hpp"
#include "client/token_client.hpp"
#include "http/handlers/auth/auth_api.hpp"
#include "store/audit_log.hpp"

namespace {

using namespace norreg;

constexpr const char* kIssuer = "http://bench.test/";

struct Fixture {
  auth::RsaKey key = auth::RsaKey::Generate().value();
  auth::TokenValidator validator;
  Fixture() {
    const std::string jwks = "{\"keys\":[" + key.PublicJwkJson("k1") + "]}";
    validator.AddIssuer(kIssuer, std::make_shared<auth::JwksCache>(
                                     [jwks]() -> Result<std::string> { return jwks; }));
  }
  std::string Token(int n) const {
    const long now = static_cast<long>(std::time(nullptr));
    return auth::SignJwt(key, auth::JwsAlg::kRs256, "k1",
                         "{\"scope\":\"folkeregister:deling/offentligmedhjemmel\",\"iss\":\"" +
                             std::string(kIssuer) +
                             "\",\"client_amr\":\"private_key_jwt\",\"token_type\":\"Bearer\","
                             "\"exp\":" +
                             std::to_string(now + 3600) + ",\"iat\":" + std::to_string(now) +
                             ",\"client_id\":\"c\",\"jti\":\"" + std::to_string(n) +
                             "\",\"consumer\":{\"authority\":\"iso6523-actorid-upis\",\"ID\":"
                             "\"0192:310000019\"}}")
        .value();
  }
};

Fixture& Shared() {
  static Fixture fixture;
  return fixture;
}

void BM_ValidateReusedToken(benchmark::State& state) {
  Fixture& f = Shared();
  const std::string token = f.Token(0);
  for (auto _ : state) {
    auto principal = f.validator.Validate(token, auth::kFregScope);
    benchmark::DoNotOptimize(principal.ok());
  }
}
BENCHMARK(BM_ValidateReusedToken);

void BM_ValidateFreshToken(benchmark::State& state) {
  Fixture& f = Shared();
  std::vector<std::string> tokens;
  for (int i = 0; i < 4096; ++i) tokens.push_back(f.Token(1000 + i));
  auth::TokenValidator validator({.cache_entries = 0});  // every call verifies the signature
  const std::string jwks = "{\"keys\":[" + f.key.PublicJwkJson("k1") + "]}";
  validator.AddIssuer(
      kIssuer, std::make_shared<auth::JwksCache>([jwks]() -> Result<std::string> { return jwks; }));
  size_t i = 0;
  for (auto _ : state) {
    auto principal = validator.Validate(tokens[i++ % tokens.size()], auth::kFregScope);
    benchmark::DoNotOptimize(principal.ok());
  }
}
BENCHMARK(BM_ValidateFreshToken);

void BM_BeforeStepWithRateLimit(benchmark::State& state) {
  Fixture& f = Shared();
  auth::RateLimiter limiter({.rate = 1e9, .burst = 1e9});
  auto step = http::auth_api::Authenticate({&f.validator, &limiter},
                                           "folkeregister:deling/offentligmedhjemmel",
                                           http::auth_api::FailureStyle::kFreg);
  http::Request request;
  request.AddHeader("Authorization", "Bearer " + f.Token(0));
  for (auto _ : state) {
    auto error = step(request);
    benchmark::DoNotOptimize(error.has_value());
  }
}
BENCHMARK(BM_BeforeStepWithRateLimit);

void BM_AuditRecordOnePerson(benchmark::State& state) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("norreg-audit-bench-" + std::to_string(getpid())))
          .string();
  {
    auto log = store::OpenAuditLog({.dir = dir}).value();
    store::Disclosure d;
    d.consumer_orgnr = "310000019";
    d.client_id = "demo-konsument-1";
    d.endpoint = "freg_person";
    d.request_id = "5f0c2a3e-0-1";
    d.identifiers = {"28898000046"};
    for (auto _ : state) {
      benchmark::DoNotOptimize(log->Record(d).ok());
    }
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AuditRecordOnePerson);

// The deferred cost of one disclosure: the indexer moving a one-person journal line into SQLite
// (parse, insert the disclosure, index it by person), for lookups spread over state.range(0)
// distinct persons (2 000 as in bench/security.sh; 1 M as a whole register's worth, where the
// by-person index outgrows the cache). Timed per batch of 100 000 disclosures.
void BM_AuditIndexOnePerson(benchmark::State& state) {
  constexpr int kBatch = 100'000;
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("norreg-audit-index-bench-" + std::to_string(getpid())))
                              .string();
  {
    auto log = store::OpenAuditLog({.dir = dir, .index_interval = std::chrono::hours(1)}).value();
    store::Disclosure d;
    d.consumer_orgnr = "310000019";
    d.client_id = "demo-konsument-1";
    d.endpoint = "freg_person";
    d.identifiers = {""};
    uint64_t n = 0;
    for (auto _ : state) {
      state.PauseTiming();
      for (int i = 0; i < kBatch; ++i, ++n) {
        d.request_id = "5f0c2a3e-0-" + std::to_string(n);
        d.identifiers[0] = std::to_string(10'000'000'000ULL + (n * 7919) % state.range(0));
        if (!log->Record(d).ok()) state.SkipWithError("record failed");
      }
      state.ResumeTiming();
      if (!log->Flush().ok()) state.SkipWithError("flush failed");
    }
    state.SetItemsProcessed(state.iterations() * kBatch);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AuditIndexOnePerson)
    ->Arg(2000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(10)
    ->UseRealTime();

void BM_IssueToken(benchmark::State& state) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("norreg-token-bench-" + std::to_string(getpid())))
          .string();
  auto clients = auth::EnsureDemoClients(dir).value();
  auth::AuthorizationServer server({.issuer = kIssuer}, clients,
                                   auth::SigningKeys::OpenOrCreate(dir).value());
  client::TokenClientOptions options;
  options.issuer = kIssuer;
  options.client_id = "demo-konsument-1";
  options.key = auth::LoadClientPrivateKey(dir, "demo-konsument-1").value();
  options.kid = options.key->Thumbprint();
  const int64_t now = std::time(nullptr);
  std::vector<std::vector<std::pair<std::string, std::string>>> forms;
  for (int i = 0; i < 2048; ++i) {
    const std::string form = client::MakeGrantForm(options, auth::kFregScope, "", now).value();
    const auto amp = form.find("&assertion=");
    forms.push_back({{"grant_type", std::string(client::kJwtBearerGrantType)},
                     {"assertion", form.substr(amp + 11)}});
  }
  size_t i = 0;
  for (auto _ : state) {
    if (i == forms.size()) {
      state.SkipWithError("ran out of fresh assertions");
      break;
    }
    auto outcome = server.IssueTokenAt(forms[i++], now);
    if (!outcome.ok) state.SkipWithError(outcome.error.description.c_str());
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_IssueToken)->Iterations(2000);

}  // namespace

BENCHMARK_MAIN();
