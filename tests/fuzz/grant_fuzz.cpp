// libFuzzer target for the development authorisation server's token endpoint input: the input is
// an application/x-www-form-urlencoded body (decoded like the handler does) handed to
// AuthorizationServer::IssueTokenAt with the demo clients registered. Any OAuth answer is a pass;
// a crash or sanitizer report is a failure.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authorization_server.hpp"
#include "auth/client_registry.hpp"
#include "http/request.hpp"

namespace {

const norreg::auth::AuthorizationServer& Server() {
  static const norreg::auth::AuthorizationServer* server = [] {
    std::string dir =
        (std::filesystem::temp_directory_path() / ("norreg-grant-fuzz-" + std::to_string(getpid())))
            .string();
    auto clients = norreg::auth::EnsureDemoClients(dir).value();
    auto keys = norreg::auth::SigningKeys::OpenOrCreate(dir).value();
    auto* s = new norreg::auth::AuthorizationServer({.issuer = "http://127.0.0.1:8080/"},
                                                    std::move(clients), std::move(keys));
    std::filesystem::remove_all(dir);  // everything is in memory now
    return s;
  }();
  return *server;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::string>> form;
  while (!body.empty()) {
    std::string_view pair = body.substr(0, body.find('&'));
    body.remove_prefix(std::min(body.size(), pair.size() + 1));
    const auto eq = pair.find('=');
    std::string name, value;
    if (!norreg::http::PercentDecode(pair.substr(0, eq), name, true)) return 0;
    if (eq != std::string_view::npos &&
        !norreg::http::PercentDecode(pair.substr(eq + 1), value, true)) {
      return 0;
    }
    form.emplace_back(std::move(name), std::move(value));
  }
  auto outcome = Server().IssueTokenAt(form, 1'700'000'000);
  (void)outcome.ok;
  return 0;
}
