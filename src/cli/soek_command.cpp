// `norreg soek --url BASE [--navn TEXT] [--kjoenn kvinne|mann] [--foedselsdato YYYYMMDD]
//  [--fra-aar YYYY] [--til-aar YYYY] [--adressenavn TEXT] [--husnummer N] [--postnummer NNNN]
//  [--kommunenummer NNNN] [--fylkesnummer NN] [--oppholdsadresse] [--fonetisk] [--doede]
//  [--opplysningsgrunnlag gjeldende|historisk] [--maks-treff N] [--json]
//  [--token TOKEN | --data DIR [--org 0192:NNN] | --client-id ID --key FILE.pem …]`
// Searches for persons (GET personer/soek) and prints one line per hit — number, name, date of
// birth, status, bostedsadresse — fetched with bulk lookups, and "N treff"; with --json the
// search answer as it came. Every criterion is also accepted under its wire name
// (--foedselsaarFraOgMed, --soekFonetisk, --maksTreff, …; see docs/search.md). The server's
// error (kode and melding) goes to stderr with a non-zero exit code.
#include <cstdio>
#include <memory>

#include "auth/client_registry.hpp"
#include "cli/commands.hpp"
#include "client/soek.hpp"

namespace norreg::cli {
namespace {

struct SoekFlags {
  std::string url;
  std::string navn, kjoenn, foedselsdato, adressenavn, husnummer, postnummer, kommunenummer,
      fylkesnummer, opplysningsgrunnlag;
  int fra_aar = 0, til_aar = 0, maks_treff = 0;
  bool oppholdsadresse = false, fonetisk = false, doede = false;
  bool json = false;
  std::string token;
  std::string pakke;
  client::ConsumerAuthFlags auth;
  // Set when the option was given (so that only given criteria are sent).
  CLI::Option *fra_aar_option = nullptr, *til_aar_option = nullptr, *maks_option = nullptr,
              *oppholdsadresse_option = nullptr, *fonetisk_option = nullptr,
              *doede_option = nullptr;
};

client::SoekQuery QueryOf(const SoekFlags& f) {
  client::SoekQuery q;
  q.navn = f.navn;
  q.kjoenn = f.kjoenn;
  q.foedselsdato = f.foedselsdato;
  if (f.fra_aar_option->count() > 0) q.foedselsaar_fra_og_med = f.fra_aar;
  if (f.til_aar_option->count() > 0) q.foedselsaar_til_og_med = f.til_aar;
  q.adressenavn = f.adressenavn;
  q.husnummer = f.husnummer;
  q.postnummer = f.postnummer;
  q.kommunenummer = f.kommunenummer;
  q.fylkesnummer = f.fylkesnummer;
  if (f.oppholdsadresse_option->count() > 0) q.inkluder_oppholdsadresse = f.oppholdsadresse;
  if (f.fonetisk_option->count() > 0) q.soek_fonetisk = f.fonetisk;
  if (f.doede_option->count() > 0) q.inkluder_doede = f.doede;
  q.opplysningsgrunnlag = f.opplysningsgrunnlag;
  if (f.maks_option->count() > 0) q.maks_treff = f.maks_treff;
  return q;
}

}  // namespace

void AddSoekCommand(CLI::App& app, CommandContext& context) {
  auto f = std::make_shared<SoekFlags>();
  CLI::App* command = app.add_subcommand("soek", "Search for persons and list the hits");
  AddDataOption(*command, context);
  command->add_option("--url", f->url, "Server root, e.g. http://127.0.0.1:8080")->required();
  command->add_option("--navn", f->navn, "Words of the name (all must match)");
  command->add_option("--kjoenn", f->kjoenn, "kvinne or mann");
  command->add_option("--foedselsdato", f->foedselsdato, "Date of birth, YYYYMMDD");
  f->fra_aar_option = command->add_option("--fra-aar,--foedselsaarFraOgMed", f->fra_aar,
                                          "Born in this year or later");
  f->til_aar_option = command->add_option("--til-aar,--foedselsaarTilOgMed", f->til_aar,
                                          "Born in this year or earlier");
  command->add_option("--adressenavn", f->adressenavn, "Street name of the address");
  command->add_option("--husnummer", f->husnummer, "House number (with --adressenavn)");
  command->add_option("--postnummer", f->postnummer, "Postnummer of the address");
  command->add_option("--kommunenummer", f->kommunenummer, "Kommune of the address (4 digits)");
  command->add_option("--fylkesnummer", f->fylkesnummer, "Fylke of the address (2 digits)");
  f->oppholdsadresse_option =
      command->add_flag("--oppholdsadresse,--inkluderOppholdsadresse", f->oppholdsadresse,
                        "Address criteria also match the oppholdsadresse");
  f->fonetisk_option = command->add_flag("--fonetisk,--soekFonetisk", f->fonetisk,
                                         "Match names by sound (phonetic key)");
  f->doede_option = command->add_flag("--doede,--inkluderDoede", f->doede, "Include dead persons");
  command->add_option("--opplysningsgrunnlag", f->opplysningsgrunnlag,
                      "gjeldende (default) or historisk: also former names and addresses");
  f->maks_option = command
                       ->add_option("--maks-treff,--maksTreff", f->maks_treff,
                                    "At most this many hits (the server allows 10 000)")
                       ->check(CLI::Range(1, 10000));
  command->add_flag("--json", f->json, "Print the search answer as it came (for scripts)");
  command->add_option("--token", f->token,
                      "A bearer token obtained elsewhere (else one is fetched as --org/--client-id "
                      "say)");
  AddConsumerAuthOptions(*command, f->auth);
  AddPakkeOption(*command, f->pakke);

  command->callback([&context, f] {
    context.run = [&context, f]() -> int {
      auto package = PackageFromFlag(f->pakke);
      if (!package.ok()) {
        std::fprintf(stderr, "norreg soek: %s\n", package.error().message.c_str());
        return kExitInvalid;
      }
      if (!(*package)->Has(freg::Endpoint::kSoek) ||
          !(*package)->Has(freg::Endpoint::kBulkoppslag)) {
        std::fprintf(stderr, "norreg soek: rettighetspakken %s har ikke personsøk\n",
                     std::string((*package)->id).c_str());
        return kExitInvalid;
      }
      const std::string scope((*package)->scope);
      client::TokenSource tokens;
      std::unique_ptr<client::TokenClient> token_client;
      if (!f->token.empty()) {
        tokens = client::StaticTokenSource(f->token);
      } else {
        f->auth.data_dir = context.config.data;
        auto options = client::ConsumerTokenOptions(f->auth, scope, f->url);
        if (!options.ok()) {
          std::fprintf(stderr, "norreg soek: %s\n", options.error().message.c_str());
          return ExitCodeFor(options.error());
        }
        token_client = std::make_unique<client::TokenClient>(std::move(*options));
        tokens = client::TokenSourceFor(*token_client, scope);
      }
      client::FregCaller caller(f->url, tokens, {}, {}, nullptr, nullptr, ApiPathOf(**package));
      auto report = client::SoekReport(caller, QueryOf(*f), f->json);
      if (!report.ok()) {
        std::fprintf(stderr, "norreg soek: %s\n", report.error().message.c_str());
        return ExitCodeFor(report.error());
      }
      std::fwrite(report->data(), 1, report->size(), stdout);
      return 0;
    };
  });
}

}  // namespace norreg::cli
