#include "client/soek.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "fake_http_server.hpp"

namespace norreg::client {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

constexpr std::string_view kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1/";
constexpr std::string_view kBulkTarget =
    "personer/bulkoppslag?part=navn&part=foedsel&part=bostedsadresse&part=status";

// ---------------------------------------------------------------------------------------------
// The query string

TEST(SoekQueryStringTest, SendsOnlyGivenCriteriaUnderTheirWireNames) {
  EXPECT_EQ(SoekQueryString({}), "");
  SoekQuery q;
  q.navn = "Ola";
  EXPECT_EQ(SoekQueryString(q), "navn=Ola");
  q.kjoenn = "mann";
  q.foedselsdato = "19800101";
  q.foedselsaar_fra_og_med = 1970;
  q.foedselsaar_til_og_med = 1990;
  q.adressenavn = "Storgata";
  q.husnummer = "12";
  q.postnummer = "0150";
  q.kommunenummer = "0301";
  q.fylkesnummer = "03";
  q.inkluder_oppholdsadresse = true;
  q.soek_fonetisk = false;
  q.inkluder_doede = true;
  q.opplysningsgrunnlag = "historisk";
  q.maks_treff = 10000;
  EXPECT_EQ(SoekQueryString(q),
            "navn=Ola&kjoenn=mann&foedselsdato=19800101&foedselsaarFraOgMed=1970&"
            "foedselsaarTilOgMed=1990&adressenavn=Storgata&husnummer=12&postnummer=0150&"
            "kommunenummer=0301&fylkesnummer=03&inkluderOppholdsadresse=true&"
            "soekFonetisk=false&inkluderDoede=true&opplysningsgrunnlag=historisk&maksTreff=10000");
}

TEST(SoekQueryStringTest, PercentEncodesUtf8SpacesAndReservedCharacters) {
  SoekQuery q;
  q.navn = "Åse Ørn-Bø";
  q.adressenavn = "Sankt Hans' plass & co=1";
  EXPECT_EQ(SoekQueryString(q),
            "navn=%C3%85se%20%C3%98rn-B%C3%B8&"
            "adressenavn=Sankt%20Hans%27%20plass%20%26%20co%3D1");
}

// ---------------------------------------------------------------------------------------------
// Rows out of person documents

TEST(SoekRowFromDocumentTest, TakesTheCurrentRowOfEachPart) {
  const std::string document = R"({
    "navn": [{"fornavn": "GAMMEL", "etternavn": "NAVN", "erGjeldende": false},
             {"fornavn": "KARI", "mellomnavn": "ÅSE", "etternavn": "NORDMANN", "erGjeldende": true}],
    "foedsel": [{"foedselsdato": "1980-02-29", "foedselsaar": "1980", "erGjeldende": true}],
    "status": [{"status": "utflyttet", "erGjeldende": false}, {"status": "bosatt", "erGjeldende": true}],
    "bostedsadresse": [{"vegadresse": {"adressenavn": "STORGATA",
                         "adressenummer": {"husnummer": "12", "husbokstav": "B"},
                         "poststed": {"poststedsnavn": "OSLO", "postnummer": "0150"}},
                        "erGjeldende": true}]})";
  auto row = SoekRowFromDocument("01028012345", document);
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ(row->number, "01028012345");
  EXPECT_EQ(row->navn, "KARI ÅSE NORDMANN");
  EXPECT_EQ(row->foedselsdato, "1980-02-29");
  EXPECT_EQ(row->status, "bosatt");
  EXPECT_EQ(row->bostedsadresse, "STORGATA 12B, 0150 OSLO");
  EXPECT_TRUE(row->found);
}

TEST(SoekRowFromDocumentTest, OtherAddressKindsAndMissingParts) {
  auto matrikkel = SoekRowFromDocument("1", R"({"bostedsadresse": [{"matrikkeladresse": {
      "matrikkelnummer": {"kommunenummer": "4601", "gaardsnummer": 12, "bruksnummer": 3},
      "poststed": {"poststedsnavn": "BERGEN", "postnummer": "5003"}}}],
      "foedsel": [{"foedselsaar": "1950"}]})");
  ASSERT_TRUE(matrikkel.ok());
  EXPECT_EQ(matrikkel->bostedsadresse, "gnr. 12 bnr. 3, 5003 BERGEN");
  EXPECT_EQ(matrikkel->foedselsdato, "1950");  // no date: the year
  EXPECT_EQ(matrikkel->navn, "");

  auto named = SoekRowFromDocument("1", R"({"bostedsadresse": [{"matrikkeladresse": {
      "adressetilleggsnavn": "NEDRE GARD"}}]})");
  ASSERT_TRUE(named.ok());
  EXPECT_EQ(named->bostedsadresse, "NEDRE GARD");

  auto ukjent = SoekRowFromDocument(
      "1", R"({"bostedsadresse": [{"ukjentBosted": {"bostedskommune": "0301"}}]})");
  ASSERT_TRUE(ukjent.ok());
  EXPECT_EQ(ukjent->bostedsadresse, "ukjent bosted (0301)");

  auto empty = SoekRowFromDocument("1", "{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->bostedsadresse, "");

  EXPECT_EQ(SoekRowFromDocument("1", "[1]").error().code, ErrorCode::kInternal);
  EXPECT_EQ(SoekRowFromDocument("1", "{").error().code, ErrorCode::kInternal);
}

// ---------------------------------------------------------------------------------------------
// The table

TEST(FormatSoekTableTest, AlignsColumnsByCharactersAndCountsHits) {
  std::vector<SoekRow> rows(3);
  rows[0] = {"01028012345", "KARI ÅSE NORDMANN",       "1980-02-29",
             "bosatt",      "STORGATA 12B, 0150 OSLO", true};
  rows[1] = {"41018012345", "ØRN", "", "inaktiv", "", true};
  rows[2] = {"12345678901", "", "", "", "", false};
  EXPECT_EQ(FormatSoekTable(rows),
            "Fødselsnummer  Navn               Fødselsdato  Status   Bostedsadresse\n"
            "01028012345    KARI ÅSE NORDMANN  1980-02-29   bosatt   STORGATA 12B, 0150 OSLO\n"
            "41018012345    ØRN                -            inaktiv  -\n"
            "12345678901    (ingen dokument)   -            -        -\n"
            "3 treff\n");
}

TEST(FormatSoekTableTest, NoHitsIsOneLine) { EXPECT_EQ(FormatSoekTable({}), "0 treff\n"); }

TEST(FormatSoekTableTest, ControlCharactersNeverReachTheTerminal) {
  std::vector<SoekRow> rows(1);
  rows[0] = {"1", "OLA\x1b[2JX\nY", "", "", "", true};
  const std::string table = FormatSoekTable(rows);
  EXPECT_EQ(table.find('\x1b'), std::string::npos);
  EXPECT_NE(table.find("OLA?[2JX?Y"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Against a server

std::string Document(const std::string& number, const std::string& fornavn) {
  return R"({"identifikasjonsnummer":[{"foedselsEllerDNummer":")" + number +
         R"("}],"navn":[{"fornavn":")" + fornavn +
         R"(","etternavn":"NORDMANN","erGjeldende":true}],)"
         R"("foedsel":[{"foedselsdato":"1990-01-0)" +
         number.substr(10, 1) +
         R"("}],"status":[{"status":"bosatt"}],"bostedsadresse":[{"vegadresse":{)"
         R"("adressenavn":"ÆRESVEIEN","adressenummer":{"husnummer":")" +
         number.substr(10, 1) + R"("},"poststed":{"postnummer":"0150","poststedsnavn":"OSLO"}}}]})";
}

// A server with persons 0000000000N (N = 1..`persons`), answering every search with
// `hits`, or with `error_status` and a FREG error body.
class FakeSoekServer {
 public:
  FakeSoekServer(std::vector<std::string> hits, int persons)
      : hits_(std::move(hits)),
        persons_(persons),
        server_([this](const FakeRequest& r) { return Handle(r); }) {}

  std::string base() const { return server_.Url(""); }
  std::vector<FakeRequest> received() const { return server_.received(); }
  int error_status = 0;
  std::string search_body;  // when set: the 200 answer of the search, as is

 private:
  FakeResponse Handle(const FakeRequest& request) {
    FakeResponse r;
    r.headers = {{"Content-Type", "application/json"}};
    const std::string target = request.target.substr(kApi.size());
    if (request.method == "GET" && target.starts_with("personer/soek")) {
      if (error_status != 0) {
        r.status = error_status;
        r.body = R"({"kode":"FREG-008","melding":"Oppgi minst ett søkekriterium"})";
        return r;
      }
      if (!search_body.empty()) {
        r.body = search_body;
        return r;
      }
      r.body = R"({"foedselsEllerDNummer":[)";
      for (size_t k = 0; k < hits_.size(); ++k) {
        r.body += (k > 0 ? ",\"" : "\"") + hits_[k] + "\"";
      }
      r.body += "]}";
      return r;
    }
    if (request.method == "POST" && target == kBulkTarget) {
      simdjson::dom::parser parser;
      simdjson::dom::element root = parser.parse(request.body);
      r.body = R"({"oppslag":[)";
      bool first = true;
      for (auto id : root["foedselsEllerDNummer"].get_array()) {
        const std::string number(std::string_view(id.get_string()));
        if (!first) r.body += ",";
        first = false;
        const int n = std::stoi(number);
        if (n >= 1 && n <= persons_) {
          r.body += R"({"foedselsEllerDNummer":")" + number + R"(","folkeregisterperson":)" +
                    Document(number, "PERSON" + std::to_string(n)) + "}";
        } else {
          r.body += R"({"foedselsEllerDNummer":")" + number + R"(","feilmelding":"ukjent"})";
        }
      }
      r.body += "]}";
      return r;
    }
    r.status = 404;
    r.body = R"({"kode":"FREG-404","melding":"ukjent sti"})";
    return r;
  }

  std::vector<std::string> hits_;
  int persons_;
  FakeHttpServer server_;  // last: stops before the state above goes away
};

std::string Number(int n) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%011d", n);
  return buffer;
}

TEST(SoekTest, SendsTheQueryAndReadsTheNumbers) {
  FakeSoekServer server({Number(2), Number(1)}, 2);
  TokenSource tokens = StaticTokenSource("t");
  FregCaller caller(server.base(), tokens);
  SoekQuery q;
  q.navn = "Kari Åse";
  q.soek_fonetisk = true;
  auto answer = Soek(caller, q);
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->numbers, (std::vector<std::string>{Number(2), Number(1)}));
  const auto received = server.received();
  ASSERT_EQ(received.size(), 1U);
  EXPECT_EQ(received[0].method, "GET");
  EXPECT_EQ(received[0].target,
            std::string(kApi) + "personer/soek?navn=Kari%20%C3%85se&soekFonetisk=true");
  EXPECT_EQ(received[0].Header("authorization"), "Bearer t");
}

TEST(SoekTest, ReportPrintsOneAlignedLinePerHitInTheServersOrder) {
  FakeSoekServer server({Number(2), Number(9), Number(1)}, 3);
  TokenSource tokens = StaticTokenSource("t");
  FregCaller caller(server.base(), tokens);
  SoekQuery q;
  q.adressenavn = "Æresveien";
  auto report = SoekReport(caller, q, false);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(*report,
            "Fødselsnummer  Navn              Fødselsdato  Status  Bostedsadresse\n"
            "00000000002    PERSON2 NORDMANN  1990-01-02   bosatt  ÆRESVEIEN 2, 0150 OSLO\n"
            "00000000009    (ingen dokument)  -            -       -\n"
            "00000000001    PERSON1 NORDMANN  1990-01-01   bosatt  ÆRESVEIEN 1, 0150 OSLO\n"
            "3 treff\n");
  const auto received = server.received();
  ASSERT_EQ(received.size(), 2U);
  EXPECT_EQ(received[1].method, "POST");
  EXPECT_EQ(received[1].target, std::string(kApi) + std::string(kBulkTarget));
  EXPECT_EQ(received[1].Header("content-type"), "application/json");
  EXPECT_EQ(received[1].body, "{\"foedselsEllerDNummer\":[\"" + Number(2) + "\",\"" + Number(9) +
                                  "\",\"" + Number(1) + "\"]}");
}

TEST(SoekTest, LooksUpInChunks) {
  std::vector<std::string> numbers;
  for (int n = 1; n <= 5; ++n) numbers.push_back(Number(n));
  FakeSoekServer server(numbers, 5);
  TokenSource tokens = StaticTokenSource("t");
  FregCaller caller(server.base(), tokens);
  auto rows = FetchSoekRows(caller, numbers, 2);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 5U);
  for (int n = 1; n <= 5; ++n) {
    EXPECT_EQ((*rows)[n - 1].number, Number(n));
    EXPECT_EQ((*rows)[n - 1].navn, "PERSON" + std::to_string(n) + " NORDMANN");
  }
  EXPECT_EQ(server.received().size(), 3U);  // 2 + 2 + 1
}

TEST(SoekTest, NoHitsMakesNoLookup) {
  FakeSoekServer server({}, 0);
  TokenSource tokens = StaticTokenSource("t");
  FregCaller caller(server.base(), tokens);
  auto report = SoekReport(caller, SoekQuery{.navn = "X"}, false);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(*report, "0 treff\n");
  EXPECT_EQ(server.received().size(), 1U);
}

TEST(SoekTest, JsonModePrintsTheAnswerAsItCame) {
  FakeSoekServer server({}, 0);
  server.search_body = "{ \"foedselsEllerDNummer\" : [ \"00000000001\" ] }";
  TokenSource tokens = StaticTokenSource("t");
  FregCaller caller(server.base(), tokens);
  auto report = SoekReport(caller, SoekQuery{.navn = "X"}, true);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(*report, server.search_body + "\n");
  EXPECT_EQ(server.received().size(), 1U);  // no bulk lookup
}

TEST(SoekTest, AnErrorAnswerCarriesTheServersMelding) {
  FakeSoekServer server({}, 0);
  server.error_status = 400;
  TokenSource tokens = StaticTokenSource("t");
  FregCaller caller(server.base(), tokens);
  auto report = SoekReport(caller, {}, false);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(report.error().message.find("FREG-008"), std::string::npos);
  EXPECT_NE(report.error().message.find("Oppgi minst ett søkekriterium"), std::string::npos);
  EXPECT_EQ(server.received().size(), 1U);
  EXPECT_EQ(server.received()[0].target, std::string(kApi) + "personer/soek");
}

TEST(SoekTest, AMalformedAnswerIsAnError) {
  for (const std::string body : {"[]", "{}", R"({"foedselsEllerDNummer":[1]})", "nei"}) {
    FakeSoekServer server({}, 0);
    server.search_body = body;
    TokenSource tokens = StaticTokenSource("t");
    FregCaller caller(server.base(), tokens);
    auto answer = Soek(caller, SoekQuery{.navn = "X"});
    ASSERT_FALSE(answer.ok()) << body;
    EXPECT_EQ(answer.error().code, ErrorCode::kInternal) << body;
  }
}

}  // namespace
}  // namespace norreg::client
