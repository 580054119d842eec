// `norreg rotate-signing-key --data DIR`: a new signing key for the built-in authorisation server.
// The previous key stays published in /jwk, so tokens it signed stay valid until they expire; the
// server picks the new key up at its next start.
#include <cstdio>

#include "auth/authorization_server.hpp"
#include "cli/commands.hpp"

namespace norreg::cli {

void AddRotateKeyCommand(CLI::App& app, CommandContext& context) {
  CLI::App* command = app.add_subcommand("rotate-signing-key",
                                         "Rotate the built-in authorisation server's signing key");
  AddDataOption(*command, context);
  command->callback([&context] {
    context.run = [&context]() -> int {
      auto keys = auth::SigningKeys::OpenOrCreate(context.config.data + "/auth");
      if (!keys.ok()) {
        std::fprintf(stderr, "norreg rotate-signing-key: %s\n", keys.error().message.c_str());
        return kExitFailure;
      }
      const std::string previous = (*keys)->current().kid;
      if (Status s = (*keys)->Rotate(); !s.ok()) {
        std::fprintf(stderr, "norreg rotate-signing-key: %s\n", s.error().message.c_str());
        return kExitFailure;
      }
      std::printf("new signing key %s (previous %s stays in the JWKS); restart the server\n",
                  (*keys)->current().kid.c_str(), previous.c_str());
      return 0;
    };
  });
}

}  // namespace norreg::cli
