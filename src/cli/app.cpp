#include "cli/app.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "auth/authorization_server.hpp"
#include "auth/client_registry.hpp"
#include "auth/failure_gate.hpp"
#include "auth/jwks.hpp"
#include "auth/rate_limiter.hpp"
#include "auth/token_validator.hpp"
#include "cli/async_log.hpp"
#include "cli/commands.hpp"
#include "cli/populate.hpp"
#include "cli/register.hpp"
#include "client/http_client.hpp"
#include "common/escape.hpp"
#include "common/files.hpp"
#include "common/ids.hpp"
#include "common/time.hpp"
#include "freg/packages.hpp"
#include "freg/record_codec.hpp"
#include "freg/render.hpp"
#include "http/dispatcher.hpp"
#include "http/handlers/auth/auth_api.hpp"
#include "http/handlers/freg/freg_api.hpp"
#include "http/handlers/mottak/mottak_api.hpp"
#include "http/handlers/register/register_api.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"
#include "service/feed_reader.hpp"
#include "service/mottak.hpp"
#include "service/person_import.hpp"
#include "service/person_lookup.hpp"
#include "service/person_search.hpp"
#include "service/uttrekk.hpp"
#include "store/audit_log.hpp"
#include "store/mottak_store.hpp"
#include "store/register_store.hpp"

namespace norreg::cli {
namespace {

// Host and port of a validated "HOST:PORT" ("[::1]:8080" gives "::1").
void SetAddress(const std::string& address, http::ServerOptions& options) {
  auto colon = address.rfind(':');
  options.host = address.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[') {
    options.host = options.host.substr(1, options.host.size() - 2);
  }
  options.port = static_cast<uint16_t>(std::stoi(address.substr(colon + 1)));
}

// "http://host:port" of a listening server.
std::string BaseUrl(const http::ServerOptions& options, uint16_t port) {
  const std::string host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  return "http://" + host + ":" + std::to_string(port);
}

// Answers that disclosed persons leave once their disclosure records are on disk.
class DisclosureGate final : public http::AnswerGate {
 public:
  explicit DisclosureGate(store::AuditLog& log) : log_(log) {}
  bool Take() override { return store::AuditLog::TakeThreadRecorded(); }
  void WhenOpen(std::function<void(bool)> done) override { log_.WhenDurable(std::move(done)); }

 private:
  store::AuditLog& log_;
};

http::ServerOptions ServerOptionsFrom(const Config& config) {
  http::ServerOptions options;
  SetAddress(config.listen, options);
  options.threads = config.threads;
  if (options.threads <= 0 && !config.db.empty()) {
    // A handler waits on the io thread for PostgreSQL's answer (a round trip per read): twice as
    // many threads as cores keep the cores busy meanwhile (docs/deployment.md).
    options.threads = 2 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  options.header_timeout = std::chrono::seconds(config.read_timeout_s);
  options.body_timeout = std::chrono::seconds(config.read_timeout_s);
  options.min_body_rate = config.min_body_rate;
  options.idle_timeout = std::chrono::seconds(config.idle_timeout_s);
  options.shutdown_grace = std::chrono::seconds(config.shutdown_grace_s);
  options.body_limit = config.max_body_bytes;
  options.max_connections = config.max_connections;
  options.max_connections_per_client = config.max_connections_per_client;
  options.access_log = config.access_log;
  options.handle_signals = true;
  return options;
}

void PrintHowToCall(const std::string& base, const std::string& admin, const Config& config,
                    store::RegisterStore& store) {
  std::string example = "<foedselsEllerDNummer>";
  if (auto events = store.Events(1, 1); events.ok() && !events->empty()) {
    example = events->front().fnr;
  }
  const std::string api = base + std::string(http::freg_api::kBasePath);
  const std::string data = config.data == Config{}.data ? "" : " --data " + config.data;
  std::error_code ec;
  std::string binary = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec || binary.empty()) binary = "norreg";
  std::string auth;
  if (config.insecure_no_auth) {
    std::printf("ADVARSEL: --insecure-no-auth: API-ene svarer uten tilgangstoken.\n");
  } else if (AuthServerOn(config)) {
    auth = " -H \"Authorization: Bearer $T\"";
    std::printf(
        "norreg listening on %s\n"
        "  token:       T=$(%s token%s --scope %s)\n"
        "               (demo organisations: --org 0192:<orgnr>, see %s/auth/clients.json)\n",
        base.c_str(), binary.c_str(), data.c_str(), std::string(auth::kFregScope).c_str(),
        config.data.c_str());
  } else {
    auth = " -H \"Authorization: Bearer $T\"";
    std::printf("norreg listening on %s\n  token:       T=<a Maskinporten access token>\n",
                base.c_str());
  }
  if (config.insecure_no_auth) std::printf("norreg listening on %s\n", base.c_str());
  std::printf(
      "  person:      curl%s %s/personer/%s\n"
      "  as XML:      curl%s -H 'Accept: application/xml' %s/personer/%s\n"
      "  bulk lookup: curl%s -H 'Content-Type: application/json' -d "
      "'{\"foedselsEllerDNummer\":[\"%s\"]}' %s/personer/bulkoppslag\n"
      "  feed:        curl%s '%s/hendelser/feed?seq=1'\n"
      "  copy it all: %s uttrekk --url %s%s --out copy.ndjson --db copy.db\n"
      "  stay current: %s feed follow --url %s%s --db copy.db\n",
      auth.c_str(), api.c_str(), example.c_str(), auth.c_str(), api.c_str(), example.c_str(),
      auth.c_str(), example.c_str(), api.c_str(), auth.c_str(), api.c_str(), binary.c_str(),
      base.c_str(), data.c_str(), binary.c_str(), base.c_str(), data.c_str());
  // One example per access package, each with the package's own token; a package without lookups
  // by number finds the person by entydig søk (number and name).
  std::string navn;
  std::string raw;
  if (auto person = store.FindRawByFnr(example, raw); person.ok()) {
    freg::RecordView view;
    freg::PartSelection parts;
    parts.Add(freg::Property::kNavn);
    std::string document;
    if (view.Parse(raw).ok()) freg::RenderPersonJson(view, person->latest_seq, parts, document);
    boost::system::error_code ec;
    auto parsed = boost::json::parse(document, ec);
    if (!ec && parsed.is_object() && parsed.as_object().contains("navn")) {
      const auto& row = parsed.at("navn").at(0).as_object();
      for (const char* key : {"fornavn", "etternavn"}) {
        if (const auto* word = row.if_contains(key); word != nullptr && word->is_string()) {
          if (!navn.empty()) navn += ' ';
          navn += std::string(word->get_string());
        }
      }
    }
  }
  std::printf("  packages:    %s\n", AuthServerOn(config) && !config.insecure_no_auth
                                         ? "each with its own token (norreg token --pakke ID)"
                                         : "each behind its own scope");
  for (const freg::Package& package : freg::Packages()) {
    const std::string path = package.Has(freg::Endpoint::kPerson)
                                 ? "/personer/" + example
                                 : "/personer/entydigsoek?identifikasjonsnummer=" + example +
                                       "&navn=" + client::FormUrlEncode(navn);
    std::string token;
    if (AuthServerOn(config) && !config.insecure_no_auth) {
      token = " -H \"Authorization: Bearer $(" + binary + " token" + data + " --pakke " +
              std::string(package.id) + ")\"";
    }
    std::printf("    %-37s curl%s '%s%s%s'\n", std::string(package.id).c_str(), token.c_str(),
                base.c_str(), std::string(package.base_path).c_str(), path.c_str());
  }
  std::printf(
      "  mailbox:     %s mottak send melding.xml --generate-id --url %s%s\n"
      "               %s mottak poll --once --out svar --url %s%s\n"
      "               (Brreg mottak: /inbound/upload, /outbound/available|download|confirm)\n"
      "  health:      curl %s/health/ready   metrics: curl %s/metrics\n"
      "  stop with Ctrl-C (SIGINT) or SIGTERM: requests in flight finish first.\n",
      binary.c_str(), base.c_str(), data.c_str(), binary.c_str(), base.c_str(), data.c_str(),
      admin.c_str(), admin.c_str());
  std::fflush(stdout);
}

// <data>/auth/server.json tells `norreg token` where the built-in server is (zero configuration):
// its issuer (the grant's aud) and the token endpoint on the address actually bound.
Status WriteServerInfo(const std::string& dir, const std::string& issuer,
                       const std::string& token_endpoint) {
  std::string json = "{\"issuer\":";
  AppendJsonString(json, issuer);
  json += ",\"token_endpoint\":";
  AppendJsonString(json, token_endpoint);
  json += "}\n";
  return WriteFileAtomically(dir + "/server.json", json, 0644);
}

// Reads signing keys shared through the database again every `every` (a rotation by
// `norreg rotate-signing-key --db` or another node), until destroyed.
class SigningKeyReloader {
 public:
  SigningKeyReloader(std::shared_ptr<auth::SigningKeys> keys, std::chrono::seconds every)
      : keys_(std::move(keys)),
        every_(every),
        thread_([this](std::stop_token stop) { Run(stop); }) {}

 private:
  void Run(std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    std::string kid = keys_->current().kid;
    while (true) {
      (void)wake.wait_for(lock, stop, every_, [] { return false; });  // until `every` or the stop
      if (stop.stop_requested()) return;
      if (Status s = keys_->Reload(); !s.ok()) {
        spdlog::warn("signing_key_reload failed: {} {}", s.error().message, s.error().detail);
        continue;
      }
      if (std::string now = keys_->current().kid; now != kid) {
        spdlog::info("signing_key_reload kid={} previous={}", now, kid);
        kid = std::move(now);
      }
    }
  }

  const std::shared_ptr<auth::SigningKeys> keys_;
  const std::chrono::seconds every_;
  std::jthread thread_;  // last: stopped and joined first
};

// Everything Maskinporten-related the server owns; lives as long as RunServer.
struct Security {
  std::unique_ptr<auth::AuthorizationServer> server;
  std::unique_ptr<auth::TokenValidator> validator;
  std::unique_ptr<auth::Limiter> rate_limiter;
  // Failed tokens per client address, on this node (docs/limits.md, "Bearer tokens").
  std::unique_ptr<auth::FailureGate> failure_gate = std::make_unique<auth::FailureGate>();
  std::unique_ptr<SigningKeyReloader> reloader;  // with --db
  bool shared_auth_state = false;                // keys and jti in PostgreSQL (--db)
};

// One demo client per access package beyond "offentlig med hjemmel" (whose scope the demo
// consumers have): demo-<package id>, each its own synthetic organisation (3100001NK).
std::vector<auth::DemoClientSpec> PackageDemoClients() {
  std::vector<auth::DemoClientSpec> specs;
  uint64_t next = 31000100;
  for (const freg::Package& package : freg::Packages()) {
    if (&package == &freg::OffentligMedHjemmel()) continue;
    std::string orgnr;
    while (orgnr.empty()) {
      for (int check = 0; check <= 9 && orgnr.empty(); ++check) {
        std::string candidate = std::to_string(next) + std::to_string(check);
        if (ids::ValidOrgnr(candidate)) orgnr = std::move(candidate);
      }
      ++next;
    }
    specs.push_back({"demo-" + std::string(package.id),
                     std::move(orgnr),
                     "Demo " + std::string(package.name),
                     {std::string(package.scope)}});
  }
  return specs;
}

Result<Security> MakeSecurity(const Config& config, const std::string& base_url) {
  Security security;
  security.validator = std::make_unique<auth::TokenValidator>(
      auth::ValidatorOptions{.leeway = std::chrono::seconds(config.token_leeway_s)});
  const auto refresh = std::chrono::seconds(config.jwks_refresh_s);
  auto state = OpenAuthState(config, AuthServerOn(config));
  if (!state.ok()) return state.error();
  if (AuthServerOn(config)) {
    const std::string dir = config.data + "/auth";
    auto clients = auth::EnsureDemoClients(dir, PackageDemoClients());
    if (!clients.ok()) return clients.error();
    auth::AuthServerOptions options;
    options.issuer = config.issuer.empty() ? base_url + "/" : config.issuer;
    options.token_lifetime = std::chrono::seconds(config.token_lifetime_s);
    std::shared_ptr<auth::SigningKeys> keys = state->keys;
    security.server = std::make_unique<auth::AuthorizationServer>(
        options, std::move(clients).value(), keys, std::move(state->replay));
    if (Status s = WriteServerInfo(dir, options.issuer, base_url + "/token"); !s.ok())
      return s.error();
    // The built-in issuer's keys are read in-process (no HTTP round trip to ourselves). Shared
    // keys are also read from the database when a token names an unknown kid (at most once a
    // second): a token signed by a key another node has just rotated to verifies at once.
    const bool shared = state->shared;
    security.validator->AddIssuer(options.issuer,
                                  std::make_shared<auth::JwksCache>(
                                      [keys, shared]() -> Result<std::string> {
                                        if (shared) {
                                          if (Status s = keys->Reload(); !s.ok()) {
                                            spdlog::warn("signing_key_reload failed: {} {}",
                                                         s.error().message, s.error().detail);
                                          }
                                        }
                                        return keys->JwksJson();
                                      },
                                      std::chrono::seconds(1)));
    if (shared) {
      security.shared_auth_state = true;
      security.reloader = std::make_unique<SigningKeyReloader>(
          keys, std::chrono::seconds(config.signing_key_reload_s));
    }
  }
  for (const std::string& entry : config.trusted_issuers) {
    auto trusted = ParseTrustedIssuer(entry);
    if (!trusted.ok()) return trusted.error();
    const std::string source = trusted->jwks;
    auth::JwksFetcher fetch = source.starts_with("http://") || source.starts_with("https://")
                                  ? auth::JwksFetcher([source] {
                                      // A key set is a few KB: a longer answer is not one.
                                      client::HttpClient http({.timeout = std::chrono::seconds(10),
                                                               .max_body_bytes = 1 << 20});
                                      return http.FetchUrl(source);
                                    })
                                  : auth::JwksCache::FileFetcher(source);
    security.validator->AddIssuer(trusted->issuer,
                                  std::make_shared<auth::JwksCache>(std::move(fetch), refresh));
  }
  if (config.rate_limit_per_s > 0) {
    const double rate = config.rate_limit_per_s;
    const double burst = config.rate_limit_burst > 0 ? config.rate_limit_burst : 2 * rate;
    if (state->rate_buckets != nullptr) {  // --db: one limit for the sum over the nodes
      security.rate_limiter = std::make_unique<auth::SharedRateLimiter>(
          auth::RateLimit{rate, burst}, state->rate_buckets);
    } else {
      security.rate_limiter = std::make_unique<auth::RateLimiter>(auth::RateLimit{rate, burst});
    }
  }
  return security;
}

}  // namespace

// Deletes confirmed mottak replies older than the retention, checking every tenth of it (at
// least every second, at most every hour) until destroyed.
class MottakRetention {
 public:
  MottakRetention(store::MottakStore& store, int retention_h)
      : store_(store),
        retention_(std::chrono::hours(retention_h)),
        thread_([this](std::stop_token stop) { Run(stop); }) {}

 private:
  void Run(std::stop_token stop) {
    const auto every = std::clamp<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(retention_) / 10,
        std::chrono::seconds(1), std::chrono::hours(1));
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    while (true) {
      (void)wake.wait_for(lock, stop, every, [] { return false; });  // until `every` or the stop
      if (stop.stop_requested()) return;
      const int64_t before =
          timefmt::NowMs() -
          std::chrono::duration_cast<std::chrono::milliseconds>(retention_).count();
      auto purged = store_.PurgeConfirmed(before);
      if (!purged.ok()) {
        spdlog::error("mottak retention: {} {}", purged.error().message, purged.error().detail);
      } else if (*purged > 0) {
        spdlog::info("mottak_retention purged={}", *purged);
      }
    }
  }

  store::MottakStore& store_;
  const std::chrono::hours retention_;
  std::jthread thread_;  // last: stopped and joined first
};

namespace {

int ServeUntilStopped(const Config& config, const AsyncLog& log) {
  auto opened = OpenRegister(config);
  if (!opened.ok()) {
    spdlog::error("kan ikke åpne registeret i {}: {} {}", DescribeRegister(config),
                  opened.error().message, opened.error().detail);
    return kExitFailure;
  }
  store::RegisterStore& store = **opened;
  if (store.LatestSeq() == 0 && config.demo_persons > 0) {
    std::fprintf(stderr, "tomt register i %s: genererer %llu demopersoner (seed %llu)\n",
                 DescribeRegister(config).c_str(),
                 static_cast<unsigned long long>(config.demo_persons),
                 static_cast<unsigned long long>(config.seed));
    auto populated = Populate(store, config.demo_persons, config.seed, 0, false);
    if (!populated.ok()) {
      spdlog::error("demopopulasjonen feilet: {} {}", populated.error().message,
                    populated.error().detail);
      return kExitFailure;
    }
  }

  std::unique_ptr<store::AuditLog> audit;
  if (config.audit) {
    // On PostgreSQL the index is shared by the nodes (each keeps its journal in --data).
    auto opened_audit = store::OpenAuditLog({.dir = config.data + "/audit", .db = config.db});
    if (!opened_audit.ok()) {
      spdlog::error("kan ikke åpne utleveringsloggen: {} {}", opened_audit.error().message,
                    opened_audit.error().detail);
      return kExitFailure;
    }
    audit = std::move(opened_audit).value();
  }

  http::Metrics metrics;
  metrics.AddCollector([&log](std::string& out) {
    out +=
        "# HELP norreg_log_lines_dropped_total Log lines dropped because the log's writer fell "
        "behind.\n# TYPE norreg_log_lines_dropped_total counter\nnorreg_log_lines_dropped_total ";
    out += std::to_string(log.dropped());
    out += '\n';
  });
  if (audit) {
    metrics.AddCollector([&audit](std::string& out) {
      const store::FlushTimes times = audit->SyncTimes();
      out +=
          "# HELP norreg_audit_flush_seconds How long the disclosure journal's flushes took "
          "(answers wait for them with audit_sync).\n# TYPE norreg_audit_flush_seconds "
          "histogram\n";
      for (size_t i = 0; i < times.kBounds.size(); ++i) {
        out += fmt::format("norreg_audit_flush_seconds_bucket{{le=\"{}\"}} {}\n", times.kBounds[i],
                           times.at_most[i]);
      }
      out += fmt::format(
          "norreg_audit_flush_seconds_bucket{{le=\"+Inf\"}} {}\nnorreg_audit_flush_seconds_sum "
          "{}\nnorreg_audit_flush_seconds_count {}\n",
          times.count, times.sum_s, times.count);
    });
  }
  http::Dispatcher dispatcher(&metrics);
  http::ServerOptions options = ServerOptionsFrom(config);
  if (audit && config.audit_sync) options.answer_gate = std::make_shared<DisclosureGate>(*audit);
  http::Server server(options, dispatcher, metrics);
  // Listen first: the built-in issuer is the address actually bound (port 0 picks one). No request
  // is read before Run(), so the routes below are in place before the first one.
  if (Status s = server.Listen(); !s.ok()) {
    spdlog::error("kan ikke lytte på {}: {} {}", config.listen, s.error().message,
                  s.error().detail);
    return kExitFailure;
  }
  const std::string base_url = BaseUrl(options, server.port());
  // The operations routes on a listener of their own when asked: one thread, no access log, the
  // same limits; stopped when the main server stops.
  std::unique_ptr<http::Dispatcher> admin_dispatcher;
  std::unique_ptr<http::Server> admin;
  std::string admin_url = base_url;
  if (!config.admin_listen.empty()) {
    admin_dispatcher = std::make_unique<http::Dispatcher>(&metrics);
    http::ServerOptions admin_options = options;
    SetAddress(config.admin_listen, admin_options);
    admin_options.threads = 1;
    admin_options.blocking_threads = 1;
    admin_options.access_log = false;
    admin_options.handle_signals = false;
    admin_options.answer_gate = nullptr;  // its routes disclose nothing
    admin = std::make_unique<http::Server>(admin_options, *admin_dispatcher, metrics);
    if (Status s = http::Server::AddOpsRoutes(*admin_dispatcher, metrics); !s.ok()) {
      spdlog::error("{}", s.error().message);
      return kExitFailure;
    }
    if (Status s = admin->Listen(); !s.ok()) {
      spdlog::error("kan ikke lytte på {}: {} {}", config.admin_listen, s.error().message,
                    s.error().detail);
      return kExitFailure;
    }
    admin_url = BaseUrl(admin_options, admin->port());
  }

  auto security = MakeSecurity(config, base_url);
  if (!security.ok()) {
    spdlog::error("sikkerhetsoppsettet feilet: {} {}", security.error().message,
                  security.error().detail);
    return kExitFailure;
  }
  namespace auth_api = http::auth_api;
  auth_api::Protection protection{security->validator.get(), security->rate_limiter.get(),
                                  security->failure_gate.get()};
  if (config.insecure_no_auth) protection = {};
  service::UttrekkOptions uttrekk_options{
      .dir = config.data + "/uttrekk",
      .ttl = std::chrono::hours(config.uttrekk_ttl_h),
      .workers = static_cast<unsigned>(config.uttrekk_workers),
      .lease = std::chrono::seconds(config.uttrekk_lease_s),
      .test_batch_delay = std::chrono::milliseconds(config.uttrekk_test_batch_delay_ms)};
  uttrekk_options.max_kept_per_org = static_cast<size_t>(config.uttrekk_kept_per_org);
  if (config.uttrekk_test_batch_size > 0) {
    uttrekk_options.komplett_batch_size = static_cast<size_t>(config.uttrekk_test_batch_size);
    uttrekk_options.tilpasset_batch_size = static_cast<size_t>(config.uttrekk_test_batch_size);
  }
  // Jobs live with the register: in PostgreSQL, shared by every node (any node computes and
  // serves any job); else in folders under --data.
  Result<std::unique_ptr<service::UttrekkService>> uttrekk =
      MakeError(ErrorCode::kInternal, "unset");
  if (!config.db.empty()) {
    auto jobs = store::OpenPostgresUttrekkJobStore({.conninfo = config.db});
    uttrekk = jobs.ok() ? service::UttrekkService::Open(store, std::move(jobs).value(),
                                                        std::move(uttrekk_options))
                        : Result<std::unique_ptr<service::UttrekkService>>(jobs.error());
  } else {
    uttrekk = service::UttrekkService::Open(store, std::move(uttrekk_options));
  }
  if (!uttrekk.ok()) {
    spdlog::error("kan ikke åpne uttrekkene: {} {}", uttrekk.error().message,
                  uttrekk.error().detail);
    return kExitFailure;
  }
  service::PersonSearch search(store);
  const ids::DocumentIdCipher cipher(store.DocumentKey());
  service::PersonLookup lookup(store, cipher, audit.get(), &search);
  service::FeedReader feed(store, cipher);
  service::PersonImporter importer(store);
  http::freg_api::FregContext freg{lookup, feed, uttrekk->get()};
  auto mottak_store = OpenMottak(config);
  if (!mottak_store.ok()) {
    spdlog::error("kan ikke åpne mottaket: {} {}", mottak_store.error().message,
                  mottak_store.error().detail);
    return kExitFailure;
  }
  service::Mottak mottak_service(**mottak_store, audit.get(), config.mottak_auto_receipt);
  http::mottak_api::MottakContext mottak{mottak_service};
  Status registered = admin ? Status::Ok() : http::Server::AddOpsRoutes(dispatcher, metrics);
  if (registered.ok() && security->server) {
    registered = auth_api::RegisterApi(dispatcher, *security->server, security->shared_auth_state);
  }
  // One Folkeregisteret API per access package, each behind its own scope (docs/packages.md).
  std::deque<http::freg_api::FregContext> package_contexts;
  for (const freg::Package& package : freg::Packages()) {
    if (!registered.ok()) break;
    http::freg_api::FregContext& context = package_contexts.emplace_back(freg);
    context.package = &package;
    registered =
        http::freg_api::RegisterApi(dispatcher, context,
                                    {auth_api::Authenticate(protection, std::string(package.scope),
                                                            auth_api::FailureStyle::kFreg)});
  }
  if (registered.ok()) {
    registered = http::mottak_api::RegisterApi(
        dispatcher, mottak,
        {auth_api::Authenticate(protection, std::string(auth::kMottakScope),
                                auth_api::FailureStyle::kBrreg)},
        {auth_api::Authenticate(protection, std::string(auth::kMottakProducerScope),
                                auth_api::FailureStyle::kBrreg)});
  }
  if (registered.ok()) {
    registered = http::register_api::RegisterApi(
        dispatcher, importer,
        {auth_api::Authenticate(protection, std::string(auth::kRegisterProducerScope),
                                auth_api::FailureStyle::kFreg)});
  }
  if (!registered.ok()) {
    spdlog::error("{}", registered.error().message);
    return kExitFailure;
  }
  PrintHowToCall(base_url, admin_url, config, store);
  MottakRetention retention(**mottak_store, config.mottak_retention_h);
  std::thread admin_thread;
  if (admin) {
    admin_thread = std::thread([&admin] {
      if (Status s = admin->Run(); !s.ok()) {
        spdlog::error("admin-lytteren stoppet med feil: {} {}", s.error().message,
                      s.error().detail);
      }
    });
  }
  Status ran = server.Run();
  if (admin) {
    admin->Stop();
    admin_thread.join();
  }
  if (!ran.ok()) {
    spdlog::error("serveren stoppet med feil: {} {}", ran.error().message, ran.error().detail);
    return kExitFailure;
  }
  spdlog::info("norreg stopped");
  return 0;
}

}  // namespace

int RunServer(const Config& config) {
  AsyncLog log;
  return log.Finish(ServeUntilStopped(config, log));
}

}  // namespace norreg::cli
