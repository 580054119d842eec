// Token endpoint throughput: how many RFC 7523 grants per second the built-in authorisation server
// answers (each one RS256 verify + RS256 sign). The assertions are signed before the clock starts
// (iat a few seconds ahead so all stay inside the ±10 s window), then `--connections` keep-alive
// clients post them as fast as the server answers.
//
//   token_bench --data DIR --endpoint http://127.0.0.1:PORT/token [--tokens N] [--connections C]
// Prints one line: tokens=N ok=K seconds=S tokens_per_s=R
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "auth/client_registry.hpp"
#include "client/http_client.hpp"
#include "client/token_client.hpp"

int main(int argc, char** argv) {
  using namespace norreg;
  std::string data, endpoint;
  int tokens = 5000, connections = 4;
  CLI::App app{"token endpoint benchmark"};
  app.add_option("--data", data)->required();
  app.add_option("--endpoint", endpoint)->required();
  app.add_option("--tokens", tokens);
  app.add_option("--connections", connections);
  CLI11_PARSE(app, argc, argv);

  auto options = client::DemoTokenClientOptions(data, auth::kFregScope, "", "");
  if (!options.ok()) {
    std::fprintf(stderr, "token_bench: %s\n", options.error().message.c_str());
    return 1;
  }
  if (options->kid.empty()) options->kid = options->key->Thumbprint();
  const int64_t iat = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() +
                      5;
  std::vector<std::string> forms(static_cast<size_t>(tokens));
  {
    std::vector<std::thread> signers;
    for (unsigned t = 0; t < 2; ++t) {
      signers.emplace_back([&, t] {
        for (size_t i = t; i < forms.size(); i += 2) {
          forms[i] = client::MakeGrantForm(*options, auth::kFregScope, "", iat).value();
        }
      });
    }
    for (auto& s : signers) s.join();
  }

  std::atomic<size_t> next{0}, ok{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int c = 0; c < connections; ++c) {
    workers.emplace_back([&] {
      client::HttpClient http;
      for (size_t i = next++; i < forms.size(); i = next++) {
        auto r = http.Post(endpoint, forms[i], "application/x-www-form-urlencoded");
        if (r.ok() && r->status == 200) {
          ++ok;
        } else if (r.ok()) {
          std::fprintf(stderr, "token_bench: %ld %s\n", r->status, r->body.c_str());
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("tokens=%d ok=%zu seconds=%.2f tokens_per_s=%.0f\n", tokens, ok.load(), seconds,
              static_cast<double>(ok.load()) / seconds);
  return ok.load() == forms.size() ? 0 : 1;
}
