// `norreg soek` end to end against a fake server: the flags (short and wire names) become the
// documented query parameters, --json prints the answer, an error answer exits non-zero.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "unit/client/fake_http_server.hpp"

namespace norreg::cli {
namespace {

using norreg::testing::FakeHttpServer;
using norreg::testing::FakeRequest;
using norreg::testing::FakeResponse;

constexpr std::string_view kSoek = "/folkeregisteret/offentlig-med-hjemmel/api/v1/personer/soek";

int RunNorreg(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  return Main(static_cast<int>(argv.size()), argv.data());
}

FakeHttpServer Server(int status, std::string body) {
  return FakeHttpServer([status, body](const FakeRequest&) {
    FakeResponse r;
    r.status = status;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = body;
    return r;
  });
}

TEST(SoekCommandTest, WireNamesAndShortNamesGiveTheSameQuery) {
  FakeHttpServer server = Server(200, R"({"foedselsEllerDNummer":[]})");
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(RunNorreg({"norreg", "soek", "--url", server.Url(""), "--token", "t", "--navn",
                       "Åse Berg", "--foedselsaarFraOgMed", "1970", "--til-aar", "1990",
                       "--soekFonetisk", "--inkluderDoede=false", "--maksTreff", "50", "--json"}),
            0);
  EXPECT_EQ(RunNorreg({"norreg", "soek", "--url", server.Url(""), "--token", "t", "--navn",
                       "Åse Berg", "--fra-aar", "1970", "--foedselsaarTilOgMed", "1990",
                       "--fonetisk", "--doede=false", "--maks-treff", "50", "--json"}),
            0);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(),
            "{\"foedselsEllerDNummer\":[]}\n{\"foedselsEllerDNummer\":[]}\n");
  const auto received = server.received();
  ASSERT_EQ(received.size(), 2U);
  const std::string expected = std::string(kSoek) +
                               "?navn=%C3%85se%20Berg&foedselsaarFraOgMed=1970&"
                               "foedselsaarTilOgMed=1990&soekFonetisk=true&inkluderDoede=false&"
                               "maksTreff=50";
  EXPECT_EQ(received[0].target, expected);
  EXPECT_EQ(received[1].target, expected);
  EXPECT_EQ(received[0].Header("authorization"), "Bearer t");
}

TEST(SoekCommandTest, AddressCriteriaAndNoHits) {
  FakeHttpServer server = Server(200, R"({"foedselsEllerDNummer":[]})");
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(RunNorreg({"norreg",
                       "soek",
                       "--url",
                       server.Url(""),
                       "--token",
                       "t",
                       "--adressenavn",
                       "Storgata",
                       "--husnummer",
                       "12",
                       "--postnummer",
                       "0150",
                       "--kommunenummer",
                       "0301",
                       "--fylkesnummer",
                       "03",
                       "--oppholdsadresse",
                       "--kjoenn",
                       "kvinne",
                       "--foedselsdato",
                       "19800229",
                       "--opplysningsgrunnlag",
                       "historisk"}),
            0);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(), "0 treff\n");
  ASSERT_EQ(server.received().size(), 1U);
  EXPECT_EQ(server.received()[0].target,
            std::string(kSoek) +
                "?kjoenn=kvinne&foedselsdato=19800229&adressenavn=Storgata&husnummer=12&"
                "postnummer=0150&kommunenummer=0301&fylkesnummer=03&"
                "inkluderOppholdsadresse=true&opplysningsgrunnlag=historisk");
}

TEST(SoekCommandTest, AnErrorAnswerExitsNonZeroWithTheMelding) {
  FakeHttpServer server = Server(400, R"({"kode":"FREG-008","melding":"Ugyldig maksTreff"})");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunNorreg({"norreg", "soek", "--url", server.Url(""), "--token", "t", "--navn", "x"}),
            kExitInvalid);
  EXPECT_NE(::testing::internal::GetCapturedStderr().find("Ugyldig maksTreff"), std::string::npos);
}

TEST(SoekCommandTest, MaksTreffIsCheckedBeforeAnyCall) {
  FakeHttpServer server = Server(200, R"({"foedselsEllerDNummer":[]})");
  ::testing::internal::CaptureStderr();
  EXPECT_NE(RunNorreg({"norreg", "soek", "--url", server.Url(""), "--token", "t", "--maksTreff",
                       "10001"}),
            0);
  ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(server.received().size(), 0U);
}

}  // namespace
}  // namespace norreg::cli
