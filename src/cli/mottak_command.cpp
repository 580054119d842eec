// `norreg mottak send MELDING.xml [VEDLEGG...] [--generate-id] [--state DIR] [--url URL]
//  [--data DIR] [--org 0192:NNN] [--client-id ID --key FILE.pem [--kid KID] [--issuer URL]]`
// Uploads a Melding with attachments to Brreg elektronisk mottak (SPEC 3.1). Only the mottakId
// goes to stdout (for scripts); a summary line goes to stderr.
//
// `norreg mottak poll --out DIR [--once | --interval S] [--tjeneste T] [--state DIR] [--url URL]
//  [auth flags as above]`
// Fetches every reply for the organisation into DIR/<mottakId>.zip (durably, then confirmed),
// one stdout line per reply: "<mottakId> <file> svar på <sent file | meldingId | -> (<handling>)".
// Repeats every --interval seconds (default 30) until Ctrl-C / SIGTERM, or once with --once.
//
// `norreg mottak publish --org ORGNR REPLY.xml [VEDLEGG...] [--url URL] [--data DIR]`
// The register side (the demo producer client, scope norreg:mottak): publishes a reply Melding
// with attachments for organisation ORGNR (its Mottaker/@id is set to ORGNR). Prints the new
// mottakId on stdout.
//
// --state (default <--data>/mottak-klient when a data folder is configured, else
// ./mottak-klient) holds sent.ndjson, which ties replies to the sent files. --url defaults to the
// built-in server recorded in <data>/auth/server.json.
#include <atomic>
#include <boost/json.hpp>
#include <csignal>
#include <cstdio>
#include <memory>

#include "auth/client_registry.hpp"
#include "cli/commands.hpp"
#include "client/mottak_client.hpp"
#include "common/files.hpp"

namespace norreg::cli {
namespace {

std::atomic<bool> g_stop{false};

void OnStop(int) { g_stop.store(true); }

struct MottakFlags {
  std::string url;
  std::string state;
  client::ConsumerAuthFlags auth;
  // send
  std::string melding;
  std::vector<std::string> vedlegg;
  bool generate_id = false;
  // poll
  std::string out;
  bool once = false;
  double interval_s = 30.0;
  std::string tjeneste;
  // publish
  std::string reply;
  std::string to_org;
};

// The server root from <data>/auth/server.json (written by `norreg serve`): its token endpoint
// without "/token", else its issuer. kNotFound when there is none.
Result<std::string> UrlFromServerInfo(const std::string& data_dir) {
  const std::string path = data_dir + "/auth/server.json";
  auto text = ReadWholeFile(path);
  if (!text.ok()) {
    return MakeError(ErrorCode::kInvalidInput,
                     "give the server with --url (no " + path + " from `norreg serve`)");
  }
  boost::json::error_code ec;
  boost::json::value value = boost::json::parse(*text, ec);
  const boost::json::object* object = (!ec && value.is_object()) ? &value.as_object() : nullptr;
  for (const char* key : {"token_endpoint", "issuer"}) {
    const boost::json::value* field = object ? object->if_contains(key) : nullptr;
    if (field == nullptr || !field->is_string()) continue;
    std::string url(field->as_string());
    if (std::string_view(key) == "token_endpoint") {
      if (!url.ends_with("/token")) continue;
      url.resize(url.size() - 6);
    }
    while (url.ends_with('/')) url.pop_back();
    if (!url.empty()) return url;
  }
  return MakeError(ErrorCode::kInvalidInput, path + " names no server; give --url");
}

// Fills options.base_url, options.state_dir and a token client for brreg:mottak. Prints the
// problem and returns the exit code on failure.
struct Prepared {
  client::MottakClientOptions options;
  std::unique_ptr<client::TokenClient> tokens;
};
std::optional<int> Prepare(const char* name, CommandContext& context, CLI::App& command,
                           MottakFlags& flags, Prepared& prepared) {
  const bool data_given =
      command.get_option("--data")->count() > 0 || context.config.data != Config{}.data;
  std::string url = flags.url;
  if (url.empty()) {
    auto from_info = UrlFromServerInfo(context.config.data);
    if (!from_info.ok()) {
      std::fprintf(stderr, "norreg mottak %s: %s\n", name, from_info.error().message.c_str());
      return ExitCodeFor(from_info.error());
    }
    url = std::move(*from_info);
  }
  flags.auth.data_dir = context.config.data;
  auto token_options = client::ConsumerTokenOptions(flags.auth, auth::kMottakScope, url);
  if (!token_options.ok()) {
    std::fprintf(stderr, "norreg mottak %s: %s\n", name, token_options.error().message.c_str());
    return ExitCodeFor(token_options.error());
  }
  prepared.tokens = std::make_unique<client::TokenClient>(std::move(*token_options));
  prepared.options.base_url = url;
  prepared.options.tokens =
      client::TokenSourceFor(*prepared.tokens, std::string(auth::kMottakScope));
  prepared.options.state_dir = !flags.state.empty() ? flags.state
                               : data_given         ? context.config.data + "/mottak-klient"
                                                    : std::string("./mottak-klient");
  return std::nullopt;
}

// --data, --state, --url and the consumer token flags of both subcommands.
void AddSharedOptions(CLI::App& command, CommandContext& context, MottakFlags& flags) {
  AddDataOption(command, context);
  command.add_option("--state", flags.state,
                     "Client state folder (sent.ndjson); default <data>/mottak-klient");
  command.add_option("--url", flags.url,
                     "Server root, e.g. http://127.0.0.1:8080 (default: from "
                     "<data>/auth/server.json)");
  AddConsumerAuthOptions(command, flags.auth);
}

void AddSend(CLI::App& mottak, CommandContext& context, const std::shared_ptr<MottakFlags>& flags) {
  CLI::App* command = mottak.add_subcommand("send", "Upload a Melding with attachments");
  command->add_option("melding", flags->melding, "The Melding XML file")->required();
  command->add_option("vedlegg", flags->vedlegg, "Attachments (pdf, xml, txt, ...)");
  command->add_flag("--generate-id", flags->generate_id,
                    "Replace the Melding's id with a fresh one before sending");
  AddSharedOptions(*command, context, *flags);
  command->callback([&context, flags, command] {
    context.run = [&context, flags, command]() -> int {
      Prepared prepared;
      if (auto code = Prepare("send", context, *command, *flags, prepared)) return *code;
      auto sent =
          client::SendMelding(prepared.options, flags->melding, flags->vedlegg, flags->generate_id);
      if (!sent.ok()) {
        std::fprintf(stderr, "norreg mottak send: %s\n", sent.error().message.c_str());
        return ExitCodeFor(sent.error());
      }
      std::printf("%s\n", sent->mottak_id.c_str());
      std::fprintf(stderr,
                   "norreg mottak send: %s sent as mottakId %s (meldingId %s, %d attachments, "
                   "received %s)\n",
                   flags->melding.c_str(), sent->mottak_id.c_str(),
                   sent->melding_id.empty() ? "-" : sent->melding_id.c_str(), sent->antall_vedlegg,
                   sent->mottatt_tidspunkt.c_str());
      return std::fflush(stdout) == 0 ? 0 : kExitFailure;
    };
  });
}

void AddPoll(CLI::App& mottak, CommandContext& context, const std::shared_ptr<MottakFlags>& flags) {
  CLI::App* command =
      mottak.add_subcommand("poll", "Fetch, store and confirm the replies in the mailbox");
  command->add_option("--out", flags->out, "Folder for the reply ZIPs")->required();
  CLI::Option* once = command->add_flag("--once", flags->once, "One round, then stop");
  command->add_option("--interval", flags->interval_s, "Seconds between rounds (default 30)")
      ->check(CLI::Range(0.01, 86400.0))
      ->excludes(once);
  command->add_option("--tjeneste", flags->tjeneste, "Only replies of this tjeneste");
  AddSharedOptions(*command, context, *flags);
  command->callback([&context, flags, command] {
    context.run = [&context, flags, command]() -> int {
      Prepared prepared;
      if (auto code = Prepare("poll", context, *command, *flags, prepared)) return *code;
      client::PollOptions poll;
      poll.out_dir = flags->out;
      poll.tjeneste = flags->tjeneste;
      poll.once = flags->once;
      poll.interval = std::chrono::milliseconds(static_cast<int64_t>(flags->interval_s * 1000.0));
      g_stop = false;
      poll.cancel = &g_stop;
      auto previous_int = std::signal(SIGINT, OnStop);
      auto previous_term = std::signal(SIGTERM, OnStop);
      auto summary =
          client::PollMailbox(prepared.options, poll, [](const client::PolledReply& reply) {
            const std::string answers = !reply.answers_file.empty()        ? reply.answers_file
                                        : !reply.melding_referanse.empty() ? reply.melding_referanse
                                                                           : std::string("-");
            std::printf("%s %s svar på %s (%s)\n", reply.mottak_id.c_str(), reply.path.c_str(),
                        answers.c_str(), reply.tjenestehandling.c_str());
            std::fflush(stdout);
          });
      std::signal(SIGINT, previous_int);
      std::signal(SIGTERM, previous_term);
      if (!summary.ok()) {
        std::fprintf(stderr, "norreg mottak poll: %s\n", summary.error().message.c_str());
        return ExitCodeFor(summary.error());
      }
      std::fprintf(stderr, "norreg mottak poll: %d rounds, %d replies written, %d confirmed\n",
                   summary->rounds, summary->written, summary->confirmed);
      return 0;
    };
  });
}

void AddPublish(CLI::App& mottak, CommandContext& context,
                const std::shared_ptr<MottakFlags>& flags) {
  CLI::App* command = mottak.add_subcommand(
      "publish", "Publish a reply with attachments for an organisation (producer, norreg:mottak)");
  command->add_option("reply", flags->reply, "The reply Melding XML file")->required();
  command->add_option("vedlegg", flags->vedlegg, "Attachments (pdf, xml, txt, ...)");
  command->add_option("--org", flags->to_org, "The receiving organisation (NNN or 0192:NNN)")
      ->required();
  AddDataOption(*command, context);
  command->add_option("--url", flags->url,
                      "Server root, e.g. http://127.0.0.1:8080 (default: from "
                      "<data>/auth/server.json)");
  command->callback([&context, flags] {
    context.run = [&context, flags]() -> int {
      std::string url = flags->url;
      if (url.empty()) {
        auto from_info = UrlFromServerInfo(context.config.data);
        if (!from_info.ok()) {
          std::fprintf(stderr, "norreg mottak publish: %s\n", from_info.error().message.c_str());
          return ExitCodeFor(from_info.error());
        }
        url = std::move(*from_info);
      }
      client::ConsumerAuthFlags auth;
      auth.data_dir = context.config.data;
      auto token_options = client::ConsumerTokenOptions(auth, auth::kMottakProducerScope, url);
      if (!token_options.ok()) {
        std::fprintf(stderr, "norreg mottak publish: %s\n", token_options.error().message.c_str());
        return ExitCodeFor(token_options.error());
      }
      client::TokenClient tokens(std::move(*token_options));
      client::MottakClientOptions options;
      options.base_url = url;
      options.tokens = client::TokenSourceFor(tokens, std::string(auth::kMottakProducerScope));
      auto published = client::PublishReply(options, flags->reply, flags->vedlegg, flags->to_org);
      if (!published.ok()) {
        std::fprintf(stderr, "norreg mottak publish: %s\n", published.error().message.c_str());
        return ExitCodeFor(published.error());
      }
      std::printf("%s\n", published->mottak_id.c_str());
      std::fprintf(stderr,
                   "norreg mottak publish: %s published for %s as mottakId %s (%zu attachments)\n",
                   flags->reply.c_str(), flags->to_org.c_str(), published->mottak_id.c_str(),
                   flags->vedlegg.size());
      return std::fflush(stdout) == 0 ? 0 : kExitFailure;
    };
  });
}

}  // namespace

void AddMottakCommand(CLI::App& app, CommandContext& context) {
  auto flags = std::make_shared<MottakFlags>();
  CLI::App* mottak =
      app.add_subcommand("mottak", "Brreg elektronisk mottak: send, poll and (producer) publish");
  mottak->require_subcommand(1);
  AddSend(*mottak, context, flags);
  AddPoll(*mottak, context, flags);
  AddPublish(*mottak, context, flags);
}

}  // namespace norreg::cli
