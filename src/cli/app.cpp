#include "cli/app.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/populate.hpp"
#include "http/dispatcher.hpp"
#include "http/handlers/freg/freg_api.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"
#include "store/register_store.hpp"

namespace norreg::cli {
namespace {

http::ServerOptions ServerOptionsFrom(const Config& config) {
  http::ServerOptions options;
  auto colon = config.listen.rfind(':');
  options.host = config.listen.substr(0, colon);
  if (options.host.size() > 2 && options.host.front() == '[') {
    options.host = options.host.substr(1, options.host.size() - 2);  // [::1]:8080
  }
  options.port = static_cast<uint16_t>(std::stoi(config.listen.substr(colon + 1)));
  options.threads = config.threads;
  options.header_timeout = std::chrono::seconds(config.read_timeout_s);
  options.body_timeout = std::chrono::seconds(config.read_timeout_s);
  options.idle_timeout = std::chrono::seconds(config.idle_timeout_s);
  options.shutdown_grace = std::chrono::seconds(config.shutdown_grace_s);
  options.body_limit = config.max_body_bytes;
  options.access_log = config.access_log;
  options.handle_signals = true;
  return options;
}

void PrintHowToCall(const std::string& base, store::RegisterStore& store) {
  std::string example = "<foedselsEllerDNummer>";
  if (auto events = store.Events(1, 1); events.ok() && !events->empty()) {
    example = events->front().fnr;
  }
  const std::string api = base + std::string(http::freg_api::kBasePath);
  std::printf(
      "norreg listening on %s\n"
      "  person:      curl %s/personer/%s\n"
      "  as XML:      curl -H 'Accept: application/xml' %s/personer/%s\n"
      "  bulk lookup: curl -H 'Content-Type: application/json' -d "
      "'{\"foedselsEllerDNummer\":[\"%s\"]}' %s/personer/bulkoppslag\n"
      "  feed:        curl '%s/hendelser/feed?seq=1'\n"
      "  health:      curl %s/health/ready   metrics: curl %s/metrics\n"
      "  stop with Ctrl-C (SIGINT) or SIGTERM: requests in flight finish first.\n",
      base.c_str(), api.c_str(), example.c_str(), api.c_str(), example.c_str(), example.c_str(),
      api.c_str(), api.c_str(), base.c_str(), base.c_str());
  std::fflush(stdout);
}

}  // namespace

int RunServer(const Config& config) {
  auto opened = store::OpenSqliteStore({.data_dir = config.data});
  if (!opened.ok()) {
    spdlog::error("kan ikke åpne registeret i {}: {} {}", config.data, opened.error().message,
                  opened.error().detail);
    return kExitFailure;
  }
  store::RegisterStore& store = **opened;
  if (store.LatestSeq() == 0 && config.demo_persons > 0) {
    std::fprintf(stderr, "tomt register i %s: genererer %llu demopersoner (seed %llu)\n",
                 config.data.c_str(), static_cast<unsigned long long>(config.demo_persons),
                 static_cast<unsigned long long>(config.seed));
    auto populated = Populate(store, config.demo_persons, config.seed, 0, false);
    if (!populated.ok()) {
      spdlog::error("demopopulasjonen feilet: {} {}", populated.error().message,
                    populated.error().detail);
      return kExitFailure;
    }
  }

  http::Metrics metrics;
  http::Dispatcher dispatcher(&metrics);
  if (Status s = http::Server::AddOpsRoutes(dispatcher, metrics); !s.ok()) {
    spdlog::error("{}", s.error().message);
    return kExitFailure;
  }
  http::freg_api::FregContext freg{store, ids::DocumentIdCipher(store.DocumentKey())};
  if (Status s = http::freg_api::RegisterApi(dispatcher, freg); !s.ok()) {
    spdlog::error("{}", s.error().message);
    return kExitFailure;
  }

  http::ServerOptions options = ServerOptionsFrom(config);
  http::Server server(options, dispatcher, metrics);
  if (Status s = server.Listen(); !s.ok()) {
    spdlog::error("kan ikke lytte på {}: {} {}", config.listen, s.error().message,
                  s.error().detail);
    return kExitFailure;
  }
  std::string host = options.host.find(':') != std::string::npos ? "[" + options.host + "]"
                                                                  : options.host;
  PrintHowToCall("http://" + host + ":" + std::to_string(server.port()), store);
  if (Status s = server.Run(); !s.ok()) {
    spdlog::error("serveren stoppet med feil: {} {}", s.error().message, s.error().detail);
    return kExitFailure;
  }
  spdlog::info("norreg stopped");
  return 0;
}

}  // namespace norreg::cli
