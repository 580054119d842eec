// `norreg token --scope S | --pakke P [--org 0192:NNN] [--url URL] [--data DIR]`: prints a
// Maskinporten access token from the built-in development authorisation server, using the demo
// clients of the data folder (zero configuration). With `--client-id ID --key FILE.pem [--kid KID]
// --url ISSUER` it acts as a real Maskinporten client instead (e.g. --url
// https://test.maskinporten.no/). Only the token and a newline go to stdout, so `$(norreg token
// --scope ...)` works in scripts.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/commands.hpp"
#include "client/token_client.hpp"
#include "client/uttrekk.hpp"

namespace norreg::cli {
namespace {

struct TokenFlags {
  std::string scope;
  std::string pakke;
  std::string org;
  std::string url;
  std::string client_id;
  std::string key_file;
  std::string kid;
  bool no_cache = false;
};

// Where a real client's tokens are cached: $XDG_CACHE_HOME/norreg or ~/.cache/norreg (0700).
// "" when neither variable is set or the folder cannot be created: then there is no file cache.
std::string UserCacheFile() {
  std::filesystem::path dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    dir = std::filesystem::path(xdg) / "norreg";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    dir = std::filesystem::path(home) / ".cache" / "norreg";
  } else {
    return {};
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return {};
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  return (dir / "token-cache.json").string();
}

Result<client::TokenClientOptions> RealClientOptions(const TokenFlags& flags) {
  client::ConsumerAuthFlags auth{.org = flags.org,
                                 .client_id = flags.client_id,
                                 .key_file = flags.key_file,
                                 .kid = flags.kid,
                                 .issuer = flags.url};
  auto options = client::ConsumerTokenOptions(auth, flags.scope, flags.url);
  if (options.ok() && !flags.no_cache) options->cache_file = UserCacheFile();
  return options;
}

}  // namespace

void AddTokenCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<TokenFlags>();
  CLI::App* command = app.add_subcommand(
      "token", "Print a Maskinporten access token (demo clients of the data folder by default)");
  AddDataOption(*command, context);
  CLI::Option* scope = command->add_option("--scope", flags->scope, "Scope(s), space-separated");
  AddPakkeOption(*command, flags->pakke);
  scope->excludes(command->get_option("--pakke"));
  command->add_option("--org", flags->org,
                      "Organisation the token is for (0192:NNN or NNN); default: the first demo "
                      "client allowed the scope");
  command->add_option("--url", flags->url,
                      "Issuer / server base URL (default: from <data>/auth/server.json)");
  CLI::Option* client_id = command->add_option(
      "--client-id", flags->client_id, "A real Maskinporten client (needs --key and --url)");
  CLI::Option* key =
      command->add_option("--key", flags->key_file, "The client's private key (PEM)");
  CLI::Option* kid = command->add_option(
      "--kid", flags->kid, "Registered key id (default: the key's RFC 7638 thumbprint)");
  CLI::Option* url = command->get_option("--url");
  client_id->needs(key);
  client_id->needs(url);
  key->needs(client_id);
  kid->needs(client_id);
  command->add_flag("--no-cache", flags->no_cache, "Neither read nor write the token file cache");

  command->callback([&context, flags] {
    context.run = [&context, flags]() -> int {
      // Logging must not mix with the token on stdout.
      spdlog::set_default_logger(spdlog::stderr_color_mt("norreg-token"));
      if (!flags->pakke.empty()) {
        auto package = PackageFromFlag(flags->pakke);
        if (!package.ok()) {
          std::fprintf(stderr, "norreg token: %s\n", package.error().message.c_str());
          return kExitInvalid;
        }
        flags->scope = std::string((*package)->scope);
      } else if (flags->scope.empty()) {
        std::fprintf(stderr, "norreg token: --scope eller --pakke må oppgis\n");
        return kExitInvalid;
      }
      Result<client::TokenClientOptions> options =
          flags->client_id.empty() ? client::DemoTokenClientOptions(
                                         context.config.data, flags->scope, flags->org, flags->url)
                                   : RealClientOptions(*flags);
      if (!options.ok()) {
        std::fprintf(stderr, "norreg token: %s\n", options.error().message.c_str());
        return ExitCodeFor(options.error());
      }
      if (flags->no_cache) options->cache_file.clear();
      client::TokenClient token_client(std::move(*options));
      auto token = token_client.Token(flags->scope);
      if (!token.ok()) {
        std::fprintf(stderr, "norreg token: %s\n", token.error().message.c_str());
        return ExitCodeFor(token.error());
      }
      std::fwrite(token->data(), 1, token->size(), stdout);
      std::fputc('\n', stdout);
      return std::fflush(stdout) == 0 ? 0 : kExitFailure;
    };
  });
}

}  // namespace norreg::cli
