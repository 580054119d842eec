// Functional tests of person search (docs/search.md): GET personer/soek and personer/entydigsoek
// against the real `norreg serve` binary. The register is a small set of hand-made persons written
// through the producer API (names with spelling variants, history, a dead person, a protected
// address, a stay address, foreign identifiers), so every expected answer is known exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <set>

#include "common/ids.hpp"
#include "harness.hpp"

namespace norreg::testing {
namespace {

namespace json = boost::json;

constexpr const char* kApi = "/folkeregisteret/offentlig-med-hjemmel/api/v1";

std::string Api(const std::string& path) { return std::string(kApi) + path; }

// Percent-encodes a query value (UTF-8 bytes as %XX, unreserved characters as they are).
std::string Enc(const std::string& value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// "?a=1&b=2" from (name, value) pairs, values encoded.
std::string Query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string q;
  for (const auto& [name, value] : params) {
    q += q.empty() ? "?" : "&";
    q += name + "=" + Enc(value);
  }
  return q;
}

struct Address {
  std::string street;
  std::string nummer;  // "" = an address without house number
  std::string bokstav;
  std::string postnummer;
  std::string kommune;
  bool current = true;
};

struct Name {
  std::string fornavn, mellomnavn, etternavn;
};

// One hand-made person.
struct Spec {
  std::string key;
  Name navn;
  std::vector<Name> old_names;  // history rows
  bool male = false;
  std::string foedselsdato;  // YYYY-MM-DD
  std::vector<Address> bosted;
  std::vector<Address> opphold;
  bool dead = false;
  bool strengt_fortrolig = false;
  bool old_dnummer = false;  // an earlier d-nummer as a history identifikasjonsnummer row
  bool foreign_ids = false;
};

// A valid synthetic number for `date` (YYYY-MM-DD) and sex; `salt` keeps numbers apart.
std::string MakeNumber(const std::string& date, bool male, ids::FnrKind kind, int salt) {
  const int year = std::stoi(date.substr(0, 4));
  const int month = std::stoi(date.substr(5, 2));
  const int day = std::stoi(date.substr(8, 2));
  for (int i = 100 + salt * 7; i < 500; ++i) {
    if ((i % 2 == 1) != male) continue;
    if (auto fnr = ids::MakeSyntheticFnr(year, month, day, i, kind)) return *fnr;
  }
  ADD_FAILURE() << "no number for " << date;
  return {};
}

json::object NameRow(const Name& n, bool current) {
  json::object row;
  row["fornavn"] = n.fornavn;
  if (!n.mellomnavn.empty()) row["mellomnavn"] = n.mellomnavn;
  row["etternavn"] = n.etternavn;
  row["erGjeldende"] = current;
  return row;
}

json::object AddressRow(const Address& a, bool protect) {
  json::object veg;
  veg["adressenavn"] = a.street;
  if (!a.nummer.empty()) {
    json::object nummer;
    nummer["husnummer"] = a.nummer;
    if (!a.bokstav.empty()) nummer["husbokstav"] = a.bokstav;
    veg["adressenummer"] = nummer;
  }
  veg["kommunenummer"] = a.kommune;
  veg["poststed"] = json::object{{"postnummer", a.postnummer}, {"poststedsnavn", "STED"}};
  json::object row;
  row["adressegradering"] = protect ? "strengtFortrolig" : "ugradert";
  row["erGjeldende"] = a.current;
  row["vegadresse"] = veg;
  return row;
}

json::object Document(const Spec& s, const std::string& fnr, const std::string& dnr) {
  json::object doc;
  json::array ids{json::object{{"foedselsEllerDNummer", fnr},
                               {"identifikatortype", "foedselsnummer"},
                               {"status", "iBruk"},
                               {"erGjeldende", true}}};
  if (!dnr.empty()) {
    ids.push_back(json::object{{"foedselsEllerDNummer", dnr},
                               {"identifikatortype", "dNummer"},
                               {"status", "opphoert"},
                               {"erGjeldende", false}});
  }
  doc["identifikasjonsnummer"] = ids;
  doc["status"] = json::array{json::object{{"status", s.dead ? "doed" : "bosatt"}}};
  if (s.dead) doc["doedsfall"] = json::object{{"doedsdato", "2020-02-02"}};
  doc["kjoenn"] = json::array{json::object{{"kjoenn", s.male ? "mann" : "kvinne"}}};
  doc["foedsel"] = json::array{json::object{{"foedselsdato", s.foedselsdato},
                                            {"foedselsaar", s.foedselsdato.substr(0, 4)}}};
  json::array navn{NameRow(s.navn, true)};
  for (const Name& n : s.old_names) navn.push_back(NameRow(n, false));
  doc["navn"] = navn;
  if (s.strengt_fortrolig) {
    doc["adressebeskyttelse"] =
        json::array{json::object{{"graderingsnivaa", "strengtFortrolig"}}};
  }
  json::array bosted, opphold;
  for (const Address& a : s.bosted) bosted.push_back(AddressRow(a, s.strengt_fortrolig));
  for (const Address& a : s.opphold) opphold.push_back(AddressRow(a, s.strengt_fortrolig));
  if (!bosted.empty()) doc["bostedsadresse"] = bosted;
  if (!opphold.empty()) doc["oppholdsadresse"] = opphold;
  if (s.foreign_ids) {
    doc["utenlandskPersonidentifikasjon"] =
        json::array{json::object{{"identifikasjonsnummer", "8766523769"},
                                 {"identifikasjonsnummertype", "skatteidentifikasjonsnummer"},
                                 {"utstederland", "ARG"}}};
    doc["legitimasjonsdokument"] =
        json::array{json::object{{"identifikasjonsdokumentnummer", "7545367"},
                                 {"identifikasjonsdokumenttype", "pass"},
                                 {"utstederland", "DNK"}}};
    doc["utlendingsmyndighetenesIdentifikasjonsnummer"] =
        json::array{json::object{{"identifikasjonsnummer", "87676437682"},
                                 {"identifikasjonsnummertype", "duf"},
                                 {"utstederland", "NOR"}}};
  }
  return doc;
}

// The register. Oslo is kommune 0301 (fylke 03); 4601 Bergen and 4647 Sunnfjord are in fylke 46.
std::vector<Spec> Register() {
  std::vector<Spec> r;
  r.push_back({"kristine", {"KRISTINE", "MARIE", "HANSEN"}, {}, false, "1980-05-17",
               {{"Adolph Bergs vei", "14", "B", "5089", "4601"}}});
  r.push_back({"kristine2", {"KRISTINE", "", "HANSEN"}, {}, false, "1985-01-01",
               {{"Adolph Bergs vei", "20", "", "5089", "4601"}}});
  r.push_back({"christine", {"CHRISTINE", "", "HANSEN"}, {}, false, "1981-06-01",
               {{"Økernveien", "10", "", "0580", "0301"}}});
  // A name change and a move: the old name and address are history rows.
  r.push_back({"thomas", {"THOMAS", "", "PETTERSEN"}, {{"THOMAS", "", "LIEN"}}, true, "1975-03-03",
               {{"Storgata", "1", "", "0155", "0301"},
                {"Fjellveien", "7", "", "9008", "5501", false}}});
  r.push_back({"tomas", {"TOMAS", "", "PETERSEN"}, {}, true, "1976-04-04",
               {{"Storgata", "3", "", "0155", "0301"}}});
  r.push_back({"aase1", {"ÅSE", "", "NILSEN"}, {}, false, "1950-01-01",
               {{"Kirkeveien", "5", "", "0368", "0301"}}});
  r.push_back({"aase2", {"AASE", "", "NIELSEN"}, {}, false, "1952-02-02",
               {{"Kirkeveien", "7", "", "0368", "0301"}}});
  Spec dead{"dead", {"OLA", "", "NORDMANN"}, {}, true, "1930-01-01",
            {{"Storgata", "5", "", "0155", "0301"}}};
  dead.dead = true;
  r.push_back(dead);
  Spec hidden{"hidden", {"KARI", "", "SKJULT"}, {}, false, "1990-09-09",
              {{"Hemmeligveien", "2", "", "0155", "0301"}}};
  hidden.strengt_fortrolig = true;
  r.push_back(hidden);
  Spec stay{"stay", {"PER", "", "VANDRER"}, {}, true, "1985-08-08",
            {{"Fjordgata", "2", "", "7010", "5001"}}};
  stay.opphold = {{"Sjøgata", "9", "", "8006", "1804"}};
  r.push_back(stay);
  r.push_back({"nonumber", {"INGRID", "", "BAKKE"}, {}, false, "1960-10-10",
               {{"Tunet", "", "", "6800", "4647"}}});
  Spec foreign{"foreign", {"JOHN", "", "SMITH"}, {}, true, "1970-07-07",
               {{"Havnegata", "12", "", "5003", "4601"}}};
  foreign.foreign_ids = true;
  r.push_back(foreign);
  Spec renumbered{"renumbered", {"ANNE", "", "MOEN"}, {}, false, "1992-12-12",
                  {{"Storgata", "9", "", "0155", "0301"}}};
  renumbered.old_dnummer = true;
  r.push_back(renumbered);
  r.push_back({"hyphen", {"ANNE-LISE", "", "O'NEILL"}, {}, false, "1965-06-15",
               {{"St. Olavs gate", "4", "", "4005", "1103"}}});
  return r;
}

class FregSearchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    server_ = std::make_unique<ServerProcess>(dir_->path(),
                                              std::vector<std::string>{"--demo-persons", "0"});
    ASSERT_GT(server_->port(), 0);
    int salt = 0;
    json::array documents;
    for (const Spec& s : Register()) {
      const std::string fnr =
          MakeNumber(s.foedselsdato, s.male, ids::FnrKind::kFoedselsnummer, salt++);
      const std::string dnr =
          s.old_dnummer ? MakeNumber(s.foedselsdato, s.male, ids::FnrKind::kDNummer, salt++) : "";
      fnr_[s.key] = fnr;
      if (!dnr.empty()) dnr_[s.key] = dnr;
      documents.push_back(Document(s, fnr, dnr));
    }
    auto written = Produce(json::serialize(documents));
    ASSERT_EQ(written.status, 200) << written.body;
    ASSERT_EQ(json::parse(written.body).at("nyePersoner").as_int64(),
              static_cast<int64_t>(fnr_.size()));
  }
  static void TearDownTestSuite() {
    server_.reset();
    dir_.reset();
  }

  static HttpResponse Produce(const std::string& body) {
    return server_->Post("/norreg/register/v1/personer", body,
                         {{"Content-Type", "application/json"},
                          {"Authorization", "Bearer " + server_->Token("norreg:register")}});
  }

  static HttpResponse Soek(const std::vector<std::pair<std::string, std::string>>& params) {
    return server_->Get(Api("/personer/soek" + Query(params)));
  }
  static HttpResponse Entydig(const std::vector<std::pair<std::string, std::string>>& params) {
    return server_->Get(Api("/personer/entydigsoek" + Query(params)));
  }

  // The numbers a 200 answer of soek lists (and checks the shape: one array, ascending).
  static std::vector<std::string> Numbers(const HttpResponse& r) {
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return {};
    EXPECT_NE(r.Header("content-type").find("application/json"), std::string::npos);
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.size(), 1u) << r.body;
    std::vector<std::string> out;
    for (const auto& v : body.at("foedselsEllerDNummer").as_array()) {
      out.emplace_back(v.as_string());
    }
    EXPECT_TRUE(std::is_sorted(out.begin(), out.end())) << r.body;
    return out;
  }
  // The numbers of `keys`, ascending (the order soek answers in).
  static std::vector<std::string> Of(const std::vector<std::string>& keys) {
    std::vector<std::string> out;
    for (const auto& k : keys) out.push_back(fnr_.at(k));
    std::sort(out.begin(), out.end());
    return out;
  }
  static void ExpectFound(const std::vector<std::pair<std::string, std::string>>& params,
                          const std::vector<std::string>& keys) {
    EXPECT_EQ(Numbers(Soek(params)), Of(keys)) << Query(params);
  }

  static void ExpectFregError(const HttpResponse& r, long status, const std::string& what = "") {
    EXPECT_EQ(r.status, status) << what << ": " << r.body;
    auto parsed = json::parse(r.body);
    ASSERT_TRUE(parsed.is_object()) << r.body;
    auto body = parsed.as_object();
    EXPECT_EQ(body.at("kode").as_string(), "FREG-001");
    EXPECT_FALSE(body.at("melding").as_string().empty());
    EXPECT_EQ(body.size(), 2u);
  }

  // The foedselsEllerDNummer of the current identifikasjonsnummer row of a person document.
  static std::string NumberOf(const HttpResponse& r) {
    if (r.status != 200) return "status " + std::to_string(r.status) + ": " + r.body;
    const json::value person = json::parse(r.body);
    for (const auto& id : person.at("identifikasjonsnummer").as_array()) {
      const auto& row = id.as_object();
      if (!row.contains("erGjeldende") || row.at("erGjeldende").as_bool()) {
        return std::string(row.at("foedselsEllerDNummer").as_string());
      }
    }
    return "";
  }
  static void ExpectEntydig(const std::vector<std::pair<std::string, std::string>>& params,
                            const std::string& key) {
    EXPECT_EQ(NumberOf(Entydig(params)), fnr_.at(key)) << Query(params);
  }
  static void ExpectNoEntydig(const std::vector<std::pair<std::string, std::string>>& params) {
    ExpectFregError(Entydig(params), 404, Query(params));
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
  static inline std::map<std::string, std::string> fnr_;
  static inline std::map<std::string, std::string> dnr_;
};

// --- personer/soek ---

TEST_F(FregSearchTest, SoekByWholeNameWords) {
  ExpectFound({{"navn", "Kristine Hansen"}}, {"kristine", "kristine2"});
  ExpectFound({{"navn", "hansen kristine"}}, {"kristine", "kristine2"});  // any order
  ExpectFound({{"navn", "Hansen"}}, {"kristine", "kristine2", "christine"});
  ExpectFound({{"navn", "Marie"}}, {"kristine"});  // mellomnavn
  ExpectFound({{"navn", "Kris"}}, {});             // whole words only
  ExpectFound({{"navn", "Kristine Pettersen"}}, {});
  ExpectFound({{"navn", "Åse"}}, {"aase1"});
  ExpectFound({{"navn", "Aase"}}, {"aase2"});
  ExpectFound({{"navn", "åse nilsen"}}, {"aase1"});
  ExpectFound({{"navn", "A\xCC\x8Ase"}}, {"aase1"});  // Å written as A + combining ring
  ExpectFound({{"navn", "Kristine+Hansen"}}, {"kristine", "kristine2"});
}

TEST_F(FregSearchTest, SoekNameWordsSplitAtHyphensButNotApostrophes) {
  ExpectFound({{"navn", "Anne-Lise"}}, {"hyphen"});
  ExpectFound({{"navn", "Lise"}}, {"hyphen"});
  ExpectFound({{"navn", "lise anne"}}, {"hyphen"});
  ExpectFound({{"navn", "O'Neill"}}, {"hyphen"});
  ExpectFound({{"navn", "oneill"}}, {"hyphen"});
  ExpectFound({{"navn", "Neill"}}, {});
  ExpectFound({{"adressenavn", "St. Olavs"}}, {"hyphen"});
  ExpectFound({{"adressenavn", "st olavs gate"}, {"husnummer", "4"}}, {"hyphen"});
  ExpectEntydig({{"navn", "Anne-Lise O'Neill"}, {"foedselsdato", "19650615"}}, "hyphen");
  ExpectEntydig({{"navn", "Lise Oneill"}, {"postnummer", "4005"}}, "hyphen");
}

// A word given twice is still a word of the name.
TEST_F(FregSearchTest, SoekRepeatedWord) {
  ExpectFound({{"navn", "Hansen Hansen"}}, {"kristine", "kristine2", "christine"});
  ExpectFound({{"navn", "Petersen Pettersen"}, {"soekFonetisk", "true"}}, {"thomas", "tomas"});
}

TEST_F(FregSearchTest, SoekFonetiskFindsSpellingVariants) {
  ExpectFound({{"navn", "Kristine"}, {"soekFonetisk", "true"}},
              {"kristine", "kristine2", "christine"});
  ExpectFound({{"navn", "Christine"}, {"soekFonetisk", "true"}},
              {"kristine", "kristine2", "christine"});
  ExpectFound({{"navn", "Tomas"}}, {"tomas"});
  ExpectFound({{"navn", "Tomas"}, {"soekFonetisk", "true"}}, {"thomas", "tomas"});
  ExpectFound({{"navn", "Petersen"}, {"soekFonetisk", "true"}}, {"thomas", "tomas"});
  ExpectFound({{"navn", "Aase Nilsen"}, {"soekFonetisk", "true"}}, {"aase1", "aase2"});
  ExpectFound({{"navn", "Åse"}, {"soekFonetisk", "false"}}, {"aase1"});
}

TEST_F(FregSearchTest, SoekByKjoennAndBirth) {
  ExpectFound({{"kjoenn", "mann"}}, {"thomas", "tomas", "stay", "foreign"});  // not the dead
  ExpectFound({{"kjoenn", "kvinne"}, {"fylkesnummer", "46"}}, {"kristine", "kristine2", "nonumber"});
  ExpectFound({{"foedselsdato", "19800517"}}, {"kristine"});
  ExpectFound({{"foedselsdato", "19800518"}}, {});
  ExpectFound({{"foedselsaarFraOgMed", "1970"}, {"foedselsaarTilOgMed", "1976"}},
              {"thomas", "tomas", "foreign"});
  ExpectFound({{"foedselsaarTilOgMed", "1952"}}, {"aase1", "aase2"});
  ExpectFound({{"foedselsaarFraOgMed", "1990"}}, {"hidden", "renumbered"});
  ExpectFound({{"kjoenn", "kvinne"}, {"foedselsaarFraOgMed", "1980"}, {"foedselsaarTilOgMed", "1981"}},
              {"kristine", "christine"});
}

TEST_F(FregSearchTest, SoekByAddress) {
  ExpectFound({{"adressenavn", "Storgata"}}, {"thomas", "tomas", "renumbered"});
  ExpectFound({{"adressenavn", "sto"}}, {"thomas", "tomas", "renumbered"});  // prefix
  ExpectFound({{"adressenavn", "Storgata"}, {"husnummer", "3"}}, {"tomas"});
  ExpectFound({{"adressenavn", "Adolph Bergs"}}, {"kristine", "kristine2"});
  ExpectFound({{"adressenavn", "adolph bergs vei"}, {"husnummer", "14"}}, {"kristine"});
  ExpectFound({{"adressenavn", "Adolph Bergs vei"}, {"husnummer", "14B"}}, {"kristine"});
  ExpectFound({{"adressenavn", "Adolph Bergs vei"}, {"husnummer", "14b"}}, {"kristine"});
  ExpectFound({{"adressenavn", "Adolph Bergs vei"}, {"husnummer", "14C"}}, {});
  ExpectFound({{"adressenavn", "Øke"}}, {"christine"});
  ExpectFound({{"postnummer", "0368"}}, {"aase1", "aase2"});
  ExpectFound({{"postnummer", "0155"}, {"kjoenn", "mann"}}, {"thomas", "tomas"});
  ExpectFound({{"kommunenummer", "4647"}}, {"nonumber"});
  ExpectFound({{"kommunenummer", "4601"}}, {"kristine", "kristine2", "foreign"});
  ExpectFound({{"fylkesnummer", "46"}}, {"kristine", "kristine2", "nonumber", "foreign"});
  ExpectFound({{"fylkesnummer", "03"}},
              {"christine", "thomas", "tomas", "aase1", "aase2", "renumbered"});
  ExpectFound({{"navn", "Hansen"}, {"postnummer", "5089"}}, {"kristine", "kristine2"});
  // The criteria hold for one address together.
  ExpectFound({{"adressenavn", "Storgata"}, {"postnummer", "0368"}}, {});
}

TEST_F(FregSearchTest, SoekProtectedAddressNeverMatches) {
  ExpectFound({{"adressenavn", "Hemmeligveien"}}, {});
  ExpectFound({{"navn", "Kari"}, {"postnummer", "0155"}}, {});
  ExpectFound({{"navn", "Kari Skjult"}}, {"hidden"});  // by name she is found
}

TEST_F(FregSearchTest, SoekOppholdsadresseOnlyWhenAsked) {
  ExpectFound({{"adressenavn", "Sjøgata"}}, {});
  ExpectFound({{"adressenavn", "Sjøgata"}, {"inkluderOppholdsadresse", "true"}}, {"stay"});
  ExpectFound({{"postnummer", "8006"}, {"inkluderOppholdsadresse", "true"}}, {"stay"});
  ExpectFound({{"postnummer", "8006"}, {"inkluderOppholdsadresse", "false"}}, {});
  ExpectFound({{"adressenavn", "Fjordgata"}, {"inkluderOppholdsadresse", "true"}}, {"stay"});
}

TEST_F(FregSearchTest, SoekDeadOnlyWithInkluderDoede) {
  ExpectFound({{"navn", "Ola Nordmann"}}, {});
  ExpectFound({{"navn", "Ola Nordmann"}, {"inkluderDoede", "true"}}, {"dead"});
  ExpectFound({{"adressenavn", "Storgata"}, {"inkluderDoede", "true"}},
              {"thomas", "tomas", "renumbered", "dead"});
}

TEST_F(FregSearchTest, SoekHistoryOnlyWithHistorisk) {
  ExpectFound({{"navn", "Lien"}}, {});
  ExpectFound({{"navn", "Lien"}, {"opplysningsgrunnlag", "gjeldende"}}, {});
  ExpectFound({{"navn", "Thomas Lien"}, {"opplysningsgrunnlag", "historisk"}}, {"thomas"});
  ExpectFound({{"adressenavn", "Fjellveien"}}, {});
  ExpectFound({{"adressenavn", "Fjellveien"}, {"opplysningsgrunnlag", "historisk"}}, {"thomas"});
  ExpectFound({{"postnummer", "9008"}, {"opplysningsgrunnlag", "historisk"}}, {"thomas"});
  ExpectFound({{"kommunenummer", "5501"}}, {});
  // The current name and address still match with historisk.
  ExpectFound({{"navn", "Pettersen"}, {"opplysningsgrunnlag", "historisk"}}, {"thomas"});
  // One name row must hold all words: the old surname with the new one is no match.
  ExpectFound({{"navn", "Lien Pettersen"}, {"opplysningsgrunnlag", "historisk"}}, {});
}

TEST_F(FregSearchTest, SoekMaksTreffCutsTheSortedList) {
  const auto all = Of({"christine", "thomas", "tomas", "aase1", "aase2", "renumbered"});
  EXPECT_EQ(Numbers(Soek({{"fylkesnummer", "03"}, {"maksTreff", "2"}})),
            std::vector<std::string>(all.begin(), all.begin() + 2));
  EXPECT_EQ(Numbers(Soek({{"fylkesnummer", "03"}, {"maksTreff", "10000"}})), all);
  EXPECT_EQ(Numbers(Soek({{"fylkesnummer", "03"}, {"maksTreff", "1"}})).size(), 1u);
}

TEST_F(FregSearchTest, SoekWithoutCriteriaListsEveryLivingPerson) {
  EXPECT_EQ(Numbers(Soek({})).size(), fnr_.size() - 1);
}

TEST_F(FregSearchTest, SoekXml) {
  auto r = server_->Get(Api("/personer/soek" + Query({{"navn", "Hansen"}})),
                        {{"Accept", "application/xml"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.Header("content-type").find("application/xml"), std::string::npos);
  const auto numbers = Of({"kristine", "kristine2", "christine"});
  std::string body_numbers;
  for (const auto& n : numbers) {
    body_numbers += "<foedselsEllerDNummer>" + n + "</foedselsEllerDNummer>";
  }
  EXPECT_NE(r.body.find(body_numbers), std::string::npos) << r.body;
  EXPECT_EQ(r.body.rfind("<personsoekResponse", 0), 0u) << r.body;
  auto empty = server_->Get(Api("/personer/soek?navn=Finnesikke"), {{"Accept", "application/xml"}});
  ASSERT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body.find("<foedselsEllerDNummer>"), std::string::npos) << empty.body;
}

TEST_F(FregSearchTest, SoekEmptyAnswer) {
  auto r = Soek({{"navn", "Finnesikke"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"foedselsEllerDNummer":[]})");
}

TEST_F(FregSearchTest, SoekBadValuesAre400) {
  const std::vector<std::vector<std::pair<std::string, std::string>>> bad = {
      {{"kjoenn", "annet"}},
      {{"kjoenn", "MANN"}},
      {{"foedselsdato", "19801317"}},
      {{"foedselsdato", "19800230"}},
      {{"foedselsdato", "abc"}},
      {{"foedselsdato", "1980051"}},
      {{"foedselsaarFraOgMed", "80"}},
      {{"foedselsaarTilOgMed", "19x0"}},
      {{"adressenavn", "St"}},
      {{"husnummer", "B"}},
      {{"husnummer", "14-16"}},
      {{"postnummer", "123"}},
      {{"postnummer", "abcd"}},
      {{"kommunenummer", "301"}},
      {{"fylkesnummer", "3"}},
      {{"maksTreff", "0"}},
      {{"maksTreff", "10001"}},
      {{"maksTreff", "abc"}},
      {{"maksTreff", "-1"}},
      {{"maksTreff", "5x"}},
      {{"inkluderDoede", "ja"}},
      {{"inkluderOppholdsadresse", "1"}},
      {{"soekFonetisk", "TRUE"}},
      {{"opplysningsgrunnlag", "alt"}},
      {{"navn", std::string(201, 'A')}},
      {{"navn", "---"}},
  };
  for (const auto& params : bad) ExpectFregError(Soek(params), 400, Query(params));
  // Errors in XML when XML is asked.
  auto xml = server_->Get(Api("/personer/soek?kjoenn=annet"), {{"Accept", "application/xml"}});
  EXPECT_EQ(xml.status, 400);
  EXPECT_NE(xml.body.find("<kode>FREG-001</kode>"), std::string::npos) << xml.body;
  // A value of 200 characters is still taken.
  EXPECT_EQ(Soek({{"navn", std::string(200, 'A')}}).status, 200);
}

// The request ids of the disclosure log's entries of `endpoint` naming `fnr`.
std::set<std::string> Disclosures(const std::string& data, const std::string& fnr,
                                  const std::string& endpoint) {
  std::string out;
  EXPECT_EQ(RunNorregStdout({"audit", "--data", data, "--person", fnr, "--json"}, &out), 0) << out;
  std::set<std::string> ids;
  for (size_t start = 0; start < out.size();) {
    const size_t end = std::min(out.find('\n', start), out.size());
    const json::value entry = json::parse(out.substr(start, end - start));
    start = end + 1;
    if (entry.at("endpoint").as_string() != endpoint) continue;
    bool named = false;
    for (const auto& id : entry.at("identifiers").as_array()) named = named || id == fnr.c_str();
    EXPECT_TRUE(named) << json::serialize(entry);
    ids.emplace(entry.at("request_id").as_string());
  }
  return ids;
}

TEST_F(FregSearchTest, SoekIsRecordedInTheDisclosureLog) {
  const std::vector<std::string> returned = {"kristine", "kristine2", "nonumber", "foreign"};
  const std::vector<std::string> everyone = {"kristine", "kristine2", "nonumber", "foreign", "stay",
                                             "christine"};
  std::map<std::string, std::set<std::string>> before;
  for (const auto& key : everyone) {
    before[key] = Disclosures(dir_->path(), fnr_.at(key), "freg_personsoek");
  }
  ASSERT_EQ(Numbers(Soek({{"fylkesnummer", "46"}})), Of(returned));
  // One new entry, naming every person the search returned and no other.
  std::set<std::string> request;
  for (const auto& key : everyone) {
    std::set<std::string> added;
    for (const auto& id : Disclosures(dir_->path(), fnr_.at(key), "freg_personsoek")) {
      if (!before[key].count(id)) added.insert(id);
    }
    if (std::find(returned.begin(), returned.end(), key) == returned.end()) {
      EXPECT_TRUE(added.empty()) << key;
      continue;
    }
    EXPECT_EQ(added.size(), 1u) << key;
    if (request.empty()) request = added;
    EXPECT_EQ(added, request) << key;
  }
}

// --- personer/entydigsoek ---

TEST_F(FregSearchTest, EntydigByNameAndIdentifikasjonsnummer) {
  ExpectEntydig({{"navn", "Anne Moen"}, {"identifikasjonsnummer", fnr_.at("renumbered")}},
                "renumbered");
  // An earlier number finds the person too; the answer carries the current one.
  ExpectEntydig({{"navn", "Anne Moen"}, {"identifikasjonsnummer", dnr_.at("renumbered")}},
                "renumbered");
  ExpectNoEntydig({{"navn", "Anne Hansen"}, {"identifikasjonsnummer", fnr_.at("renumbered")}});
  ExpectNoEntydig({{"navn", "Anne Moen"}, {"identifikasjonsnummer", "30908299902"}});
  ExpectFregError(Entydig({{"navn", "Anne Moen"}, {"identifikasjonsnummer", "12345678901"}}), 400);
}

TEST_F(FregSearchTest, EntydigByNameAndBirthDate) {
  ExpectEntydig({{"navn", "Kristine Hansen"}, {"foedselsdato", "19800517"}}, "kristine");
  ExpectEntydig({{"navn", "Kristine Marie Hansen"}, {"foedselsdato", "19800517"}}, "kristine");
  ExpectNoEntydig({{"navn", "Kristine Hansen"}, {"foedselsdato", "19800518"}});
  // A dead person is found by entydig søk.
  ExpectEntydig({{"navn", "Ola Nordmann"}, {"foedselsdato", "19300101"}}, "dead");
}

TEST_F(FregSearchTest, EntydigNameOrderFirstInFornavnLastInEtternavn) {
  ExpectNoEntydig({{"navn", "Hansen Kristine"}, {"foedselsdato", "19800517"}});
  ExpectNoEntydig({{"navn", "Marie Hansen"}, {"foedselsdato", "19800517"}});
  ExpectNoEntydig({{"navn", "Kristine Marie"}, {"foedselsdato", "19800517"}});
}

TEST_F(FregSearchTest, EntydigByNameAndAddress) {
  ExpectEntydig({{"navn", "Kristine Hansen"}, {"adressenavn", "Adolph Bergs vei"},
                 {"husnummer", "14B"}},
                "kristine");
  ExpectEntydig({{"navn", "Kristine Hansen"}, {"adressenavn", "Ado"}, {"husnummer", "14b"}},
                "kristine");
  // Entydig søk compares the letter exactly: none given is not the letter B.
  ExpectNoEntydig({{"navn", "Kristine Hansen"}, {"adressenavn", "Adolph Bergs vei"},
                   {"husnummer", "14"}});
  ExpectEntydig({{"navn", "Kristine Hansen"}, {"adressenavn", "Adolph Bergs vei"},
                 {"husnummer", "20"}},
                "kristine2");
  // Without the house number an address that has one does not identify.
  ExpectNoEntydig({{"navn", "Thomas Pettersen"}, {"adressenavn", "Storgata"}});
  // An address without a number: the street is enough.
  ExpectEntydig({{"navn", "Ingrid Bakke"}, {"adressenavn", "Tunet"}}, "nonumber");
  ExpectEntydig({{"navn", "Ingrid Bakke"}, {"adressenavn", "Tun"}}, "nonumber");
}

TEST_F(FregSearchTest, EntydigByNameAndPostnummer) {
  ExpectEntydig({{"navn", "Christine Hansen"}, {"postnummer", "0580"}}, "christine");
  // Two persons match: no answer.
  ExpectNoEntydig({{"navn", "Kristine Hansen"}, {"postnummer", "5089"}});
  // More criteria than the minimum narrow the search.
  ExpectEntydig({{"navn", "Kristine Hansen"}, {"postnummer", "5089"}, {"foedselsdato", "19850101"}},
                "kristine2");
}

TEST_F(FregSearchTest, EntydigByForeignIdentifiers) {
  ExpectEntydig({{"navn", "John Smith"}, {"utenlandskpersonidentifikasjon", "ARG-8766523769"}},
                "foreign");
  ExpectEntydig({{"navn", "John Smith"}, {"utenlandskpersonidentifikasjon", "arg-8766523769"}},
                "foreign");
  ExpectNoEntydig({{"navn", "John Smith"}, {"utenlandskpersonidentifikasjon", "SWE-8766523769"}});
  ExpectEntydig({{"navn", "John Smith"}, {"legitimasjonsdokument", "DNK-7545367"}}, "foreign");
  ExpectEntydig(
      {{"navn", "John Smith"}, {"utlendingsmyndighetenesIdentifikasjonsnummer", "87676437682"}},
      "foreign");
  ExpectNoEntydig(
      {{"navn", "John Smith"}, {"utlendingsmyndighetenesIdentifikasjonsnummer", "87676437683"}});
  ExpectEntydig({{"foedselsdato", "19700707"}, {"legitimasjonsdokument", "DNK-7545367"}},
                "foreign");
  ExpectEntydig({{"foedselsdato", "19700707"}, {"utenlandskpersonidentifikasjon", "ARG-8766523769"}},
                "foreign");
  ExpectNoEntydig({{"foedselsdato", "19700708"}, {"legitimasjonsdokument", "DNK-7545367"}});
}

TEST_F(FregSearchTest, EntydigFonetisk) {
  ExpectNoEntydig({{"navn", "Tomas Pettersen"}, {"foedselsdato", "19750303"}});
  ExpectEntydig({{"navn", "Tomas Pettersen"}, {"foedselsdato", "19750303"}, {"soekFonetisk", "true"}},
                "thomas");
  ExpectNoEntydig({{"navn", "Kristine Hansen"}, {"postnummer", "0580"}});
  ExpectEntydig({{"navn", "Kristine Hansen"}, {"postnummer", "0580"}, {"soekFonetisk", "true"}},
                "christine");
  ExpectEntydig({{"navn", "Aase Nielsen"}, {"postnummer", "0368"}}, "aase2");
  ExpectEntydig({{"navn", "Åse Nilsen"}, {"postnummer", "0368"}}, "aase1");
  // Two spoken-alike persons in one postnummer: several matches.
  ExpectNoEntydig({{"navn", "Aase Nilsen"}, {"postnummer", "0368"}, {"soekFonetisk", "true"}});
}

TEST_F(FregSearchTest, EntydigHistorisk) {
  ExpectNoEntydig({{"navn", "Thomas Lien"}, {"foedselsdato", "19750303"}});
  ExpectEntydig(
      {{"navn", "Thomas Lien"}, {"foedselsdato", "19750303"}, {"opplysningsgrunnlag", "historisk"}},
      "thomas");
  ExpectNoEntydig({{"navn", "Thomas Pettersen"}, {"adressenavn", "Fjellveien"}, {"husnummer", "7"}});
  ExpectEntydig({{"navn", "Thomas Pettersen"},
                 {"adressenavn", "Fjellveien"},
                 {"husnummer", "7"},
                 {"opplysningsgrunnlag", "historisk"}},
                "thomas");
}

TEST_F(FregSearchTest, EntydigShortOfAMinimumIs400) {
  const std::vector<std::vector<std::pair<std::string, std::string>>> short_of = {
      {},
      {{"navn", "Kristine Hansen"}},
      {{"navn", "Kristine"}, {"foedselsdato", "19800517"}},
      {{"foedselsdato", "19800517"}},
      {{"postnummer", "5089"}},
      {{"foedselsdato", "19700707"}, {"utlendingsmyndighetenesIdentifikasjonsnummer", "87676437682"}},
      {{"identifikasjonsnummer", fnr_.at("kristine")}},
      {{"navn", "Kristine"}, {"identifikasjonsnummer", fnr_.at("kristine")}},
      {{"navn", "Kristine"}, {"postnummer", "5089"}, {"adressenavn", "Adolph"}},
      {{"navn", "Kristine Hansen"}, {"husnummer", "14B"}},
      {{"navn", "Kristine Hansen"}, {"kjoenn", "kvinne"}},
  };
  for (const auto& params : short_of) ExpectFregError(Entydig(params), 400, Query(params));
  // Bad values are 400 too.
  ExpectFregError(Entydig({{"navn", "Kristine Hansen"}, {"foedselsdato", "19801317"}}), 400);
  ExpectFregError(Entydig({{"navn", "Kristine Hansen"}, {"adressenavn", "Ad"}}), 400);
  ExpectFregError(
      Entydig({{"navn", "Kristine Hansen"}, {"postnummer", "5089"}, {"soekFonetisk", "ja"}}), 400);
  ExpectFregError(Entydig({{"navn", "Kristine Hansen"},
                           {"postnummer", "5089"},
                           {"opplysningsgrunnlag", "alle"}}),
                  400);
  ExpectFregError(Entydig({{"navn", "Kristine Hansen"}, {"postnummer", "5089"}, {"part", "sko"}}),
                  406);
}

TEST_F(FregSearchTest, EntydigAnswerIsThePersonDocumentWithParts) {
  const std::string fnr = fnr_.at("thomas");
  const std::vector<std::pair<std::string, std::string>> criteria = {
      {"navn", "Thomas Pettersen"}, {"foedselsdato", "19750303"}};
  auto plain = Entydig(criteria);
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.body, server_->Get(Api("/personer/" + fnr)).body);
  for (const std::string parts : {"&part=navn", "&part=historikk", "&part=navn&part=historikk",
                                  "&part=person-basis&part=historikk&part=relasjon-utvidet"}) {
    auto found = server_->Get(Api("/personer/entydigsoek" + Query(criteria) + parts));
    ASSERT_EQ(found.status, 200) << parts << ": " << found.body;
    EXPECT_EQ(found.body, server_->Get(Api("/personer/" + fnr + "?" + parts.substr(1))).body)
        << parts;
  }
  auto with_history = server_->Get(Api("/personer/entydigsoek" + Query(criteria) +
                                       "&part=navn&part=historikk"));
  EXPECT_NE(with_history.body.find("LIEN"), std::string::npos) << with_history.body;
  auto xml = server_->Get(Api("/personer/entydigsoek" + Query(criteria)),
                          {{"Accept", "application/xml"}});
  ASSERT_EQ(xml.status, 200) << xml.body;
  EXPECT_EQ(xml.body, server_->Get(Api("/personer/" + fnr), {{"Accept", "application/xml"}}).body);
}

TEST_F(FregSearchTest, EntydigProtectedPersonNotByAddress) {
  ExpectNoEntydig({{"navn", "Kari Skjult"}, {"postnummer", "0155"}});
  ExpectNoEntydig({{"navn", "Kari Skjult"}, {"adressenavn", "Hemmeligveien"}, {"husnummer", "2"}});
  ExpectEntydig({{"navn", "Kari Skjult"}, {"foedselsdato", "19900909"}}, "hidden");
}

TEST_F(FregSearchTest, EntydigIsRecordedInTheDisclosureLog) {
  ExpectEntydig({{"navn", "Per Vandrer"}, {"postnummer", "7010"}}, "stay");
  std::string out;
  ASSERT_EQ(
      RunNorregStdout({"audit", "--data", dir_->path(), "--person", fnr_.at("stay"), "--json"},
                      &out),
      0)
      << out;
  EXPECT_NE(out.find("freg_entydigsoek"), std::string::npos) << out;
}

// A producer's write is searchable at once: a new person, then a new name (the old one becomes
// history). Uses a person of its own so the other tests' answers stay the same.
TEST_F(FregSearchTest, ProducerWritesAreFoundAtOnce) {
  Spec s{"new", {"SOLVEIG", "", "NYKOMMER"}, {}, false, "1999-09-19",
         {{"Nyveien", "1", "", "1337", "3201"}}};
  const std::string fnr = MakeNumber(s.foedselsdato, false, ids::FnrKind::kFoedselsnummer, 40);
  ASSERT_EQ(Produce(json::serialize(Document(s, fnr, ""))).status, 200);
  EXPECT_EQ(Numbers(Soek({{"navn", "Solveig Nykommer"}})), std::vector<std::string>{fnr});
  EXPECT_EQ(Numbers(Soek({{"adressenavn", "Nyveien"}})), std::vector<std::string>{fnr});
  EXPECT_EQ(NumberOf(Entydig({{"navn", "Solveig Nykommer"}, {"postnummer", "1337"}})), fnr);

  s.old_names = {s.navn};
  s.navn = {"SOLVEIG", "", "ETTERKOMMER"};
  s.bosted = {{"Gamleveien", "2", "", "1338", "3201"}, {"Nyveien", "1", "", "1337", "3201", false}};
  auto written = Produce(json::serialize(Document(s, fnr, "")));
  ASSERT_EQ(written.status, 200) << written.body;
  EXPECT_EQ(Numbers(Soek({{"navn", "Solveig Etterkommer"}})), std::vector<std::string>{fnr});
  EXPECT_TRUE(Numbers(Soek({{"navn", "Solveig Nykommer"}})).empty());
  EXPECT_EQ(Numbers(Soek({{"navn", "Solveig Nykommer"}, {"opplysningsgrunnlag", "historisk"}})),
            std::vector<std::string>{fnr});
  EXPECT_TRUE(Numbers(Soek({{"adressenavn", "Nyveien"}})).empty());
  EXPECT_EQ(Numbers(Soek({{"adressenavn", "Gamleveien"}})), std::vector<std::string>{fnr});
  EXPECT_EQ(NumberOf(Entydig({{"navn", "Solveig Etterkommer"}, {"postnummer", "1338"}})), fnr);
  ExpectNoEntydig({{"navn", "Solveig Nykommer"}, {"postnummer", "1337"}});
  EXPECT_EQ(NumberOf(Entydig({{"navn", "Solveig Nykommer"},
                              {"postnummer", "1337"},
                              {"opplysningsgrunnlag", "historisk"}})),
            fnr);

  // Protected: her addresses are no longer searchable.
  s.strengt_fortrolig = true;
  ASSERT_EQ(Produce(json::serialize(Document(s, fnr, ""))).status, 200);
  EXPECT_TRUE(Numbers(Soek({{"adressenavn", "Gamleveien"}})).empty());
  EXPECT_TRUE(Numbers(Soek({{"kommunenummer", "3201"}})).empty());
  EXPECT_EQ(Numbers(Soek({{"navn", "Solveig Etterkommer"}})), std::vector<std::string>{fnr});
  // Dead: found only with inkluderDoede.
  s.strengt_fortrolig = false;
  s.dead = true;
  ASSERT_EQ(Produce(json::serialize(Document(s, fnr, ""))).status, 200);
  EXPECT_TRUE(Numbers(Soek({{"navn", "Solveig Etterkommer"}})).empty());
  EXPECT_EQ(Numbers(Soek({{"adressenavn", "Gamleveien"}, {"inkluderDoede", "true"}})),
            std::vector<std::string>{fnr});
}

// The index is kept with the register: after a restart a search finds what was written before.
TEST(FregSearchRestartTest, WrittenPersonsAreFoundAfterARestart) {
  TempDir dir;
  Spec s{"r", {"RAGNHILD", "", "VARIG"}, {}, false, "1977-07-17",
         {{"Lagret vei", "3", "A", "5003", "4601"}}};
  const std::string fnr = MakeNumber(s.foedselsdato, false, ids::FnrKind::kFoedselsnummer, 1);
  const std::string query =
      Api("/personer/soek" + Query({{"navn", "Ragnhild Varig"}, {"husnummer", "3A"}}));
  {
    ServerProcess server(dir.path(), {"--demo-persons", "20"});
    auto written = server.Post("/norreg/register/v1/personer",
                               json::serialize(Document(s, fnr, "")),
                               {{"Content-Type", "application/json"},
                                {"Authorization", "Bearer " + server.Token("norreg:register")}});
    ASSERT_EQ(written.status, 200) << written.body;
    auto found = server.Get(query);
    ASSERT_EQ(found.status, 200) << found.body;
    EXPECT_EQ(found.body, R"({"foedselsEllerDNummer":[")" + fnr + R"("]})");
    EXPECT_EQ(server.Stop(), 0);
  }
  ServerProcess again(dir.path(), {"--demo-persons", "20"});
  auto found = again.Get(query);
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.body, R"({"foedselsEllerDNummer":[")" + fnr + R"("]})");
  auto entydig = again.Get(Api("/personer/entydigsoek" +
                               Query({{"navn", "Ragnhild Varig"}, {"foedselsdato", "19770717"}})));
  EXPECT_EQ(entydig.status, 200) << entydig.body;
}

// --- the 10 000 limit, on a generated population ---

TEST(FregSearchLimitTest, MoreThanTenThousandHitsMustBeNarrowed) {
  TempDir dir;
  ServerProcess server(dir.path(), {"--demo-persons", "12000"}, 300);
  ASSERT_GT(server.port(), 0);
  auto get = [&](const std::string& query) {
    return server.Get(Api("/personer/soek" + query));
  };
  // Every person, living or dead: more than 10 000.
  for (const std::string query : {"?inkluderDoede=true", "?inkluderDoede=true&maksTreff=5",
                                  "?inkluderDoede=true&foedselsaarFraOgMed=1800"}) {
    auto r = get(query);
    EXPECT_EQ(r.status, 400) << query << ": " << r.body.substr(0, 300);
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body.at("kode").as_string(), "FREG-001");
    EXPECT_NE(body.at("melding").as_string().find("10000"), std::string::npos) << r.body;
  }
  // A narrower search answers.
  auto women = get("?kjoenn=kvinne");
  ASSERT_EQ(women.status, 200) << women.body.substr(0, 300);
  const size_t count = json::parse(women.body).at("foedselsEllerDNummer").as_array().size();
  EXPECT_GT(count, 1000u);
  EXPECT_LE(count, 10000u);
  auto few = get("?kjoenn=kvinne&maksTreff=3");
  ASSERT_EQ(few.status, 200);
  EXPECT_EQ(json::parse(few.body).at("foedselsEllerDNummer").as_array().size(), 3u);
}

}  // namespace
}  // namespace norreg::testing
