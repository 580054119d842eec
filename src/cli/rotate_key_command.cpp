// `norreg rotate-signing-key [--data DIR] [--db postgresql://...]`: a new signing key for the
// built-in authorisation server. The previous key stays published in /jwk, so tokens it signed stay
// valid until they expire. Without --db the key files in <data>/auth/signing change and the server
// picks the new key up at its next start; with --db the keys in the database change and every
// running node picks the new key up within `signing_key_reload_s` (at once for validating a token
// that names it).
#include <cstdio>

#include "auth/authorization_server.hpp"
#include "cli/commands.hpp"
#include "cli/register.hpp"

namespace norreg::cli {

void AddRotateKeyCommand(CLI::App& app, CommandContext& context) {
  CLI::App* command = app.add_subcommand("rotate-signing-key",
                                         "Rotate the built-in authorisation server's signing key");
  AddDataOption(*command, context);
  AddDbOption(*command, context);
  command->callback([&context] {
    context.run = [&context]() -> int {
      auto state = OpenAuthState(context.config);
      if (!state.ok()) {
        std::fprintf(stderr, "norreg rotate-signing-key: %s\n", state.error().message.c_str());
        return kExitFailure;
      }
      auth::SigningKeys& keys = *state->keys;
      const std::string previous = keys.current().kid;
      if (Status s = keys.Rotate(); !s.ok()) {
        std::fprintf(stderr, "norreg rotate-signing-key: %s\n", s.error().message.c_str());
        return kExitFailure;
      }
      std::printf("new signing key %s (previous %s stays in the JWKS); %s\n",
                  keys.current().kid.c_str(), previous.c_str(),
                  state->shared ? "running servers pick it up within signing_key_reload_s"
                                : "restart the server");
      return 0;
    };
  });
}

}  // namespace norreg::cli
