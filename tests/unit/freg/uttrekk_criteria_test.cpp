#include "freg/uttrekk_criteria.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "freg/person_record.hpp"
#include "freg/record_codec.hpp"

namespace norreg::freg {
namespace {

auto Fields(const UttrekkCriteria& c) {
  return std::tie(c.statuses, c.bostedskommunenummer, c.oppholdskommunenummer, c.foedselsaar_fra,
                  c.foedselsaar_til, c.doedsaar_fra, c.doedsaar_til, c.kjoenn, c.statsborgerskap,
                  c.sivilstandstype, c.adressenavn);
}

// ---------------------------------------------------------------------------------------------
// Parsing

struct Refusal {
  std::string body;
  std::string message_part;  // the message must contain this (it names the field)
};

class UttrekkCriteriaRefusalTest : public testing::TestWithParam<Refusal> {};

TEST_P(UttrekkCriteriaRefusalTest, RefusesWithMessageNamingTheField) {
  const Result<UttrekkCriteria> r = ParseUttrekkCriteria(GetParam().body);
  ASSERT_FALSE(r.ok()) << GetParam().body;
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(r.error().message.find(GetParam().message_part), std::string::npos)
      << "message: " << r.error().message << "\nbody: " << GetParam().body;
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, UttrekkCriteriaRefusalTest,
    testing::Values(
        Refusal{"", "gyldig JSON"}, Refusal{"{\"personstatustyper\":[\"bosatt\"]", "gyldig JSON"},
        Refusal{"[]", "JSON-objekt"}, Refusal{"\"bosatt\"", "JSON-objekt"},
        Refusal{"{}", "personstatustyper: må oppgis"},
        Refusal{R"({"personstatustyper":[]})", "personstatustyper: må inneholde"},
        Refusal{R"({"personstatustyper":null})", "personstatustyper: må være en liste"},
        Refusal{R"({"personstatustyper":"bosatt"})", "personstatustyper: må være en liste"},
        Refusal{R"({"personstatustyper":["levende"]})",
                "personstatustyper: ukjent status 'levende'"},
        Refusal{R"({"personstatustyper":["Bosatt"]})", "personstatustyper: ukjent status 'Bosatt'"},
        Refusal{R"({"personstatustyper":[1]})", "personstatustyper: hver status"},
        Refusal{R"({"personstatustyper":["bosatt"],"fnr":"1"})", "ukjent felt 'fnr'"},
        Refusal{R"({"personstatustyper":["bosatt"],"Kjoenn":"mann"})", "ukjent felt 'Kjoenn'"},
        Refusal{R"({"personstatustyper":["bosatt"],"kommunenummer":"0301"})",
                "kommunenummer: må være et objekt"},
        Refusal{
            R"({"personstatustyper":["bosatt"],"kommunenummer":{"bostedskommunenummer":"0301","oppholdskommunenummer":"0301"}})",
            "kommunenummer: oppgi enten"},
        Refusal{R"({"personstatustyper":["bosatt"],"kommunenummer":{"kommune":"0301"}})",
                "kommunenummer: ukjent felt 'kommune'"},
        Refusal{
            R"({"personstatustyper":["bosatt"],"kommunenummer":{"bostedskommunenummer":"301"}})",
            "kommunenummer.bostedskommunenummer: må være et kommunenummer"},
        Refusal{
            R"({"personstatustyper":["bosatt"],"kommunenummer":{"oppholdskommunenummer":"03a1"}})",
            "kommunenummer.oppholdskommunenummer: må være et kommunenummer"},
        Refusal{R"({"personstatustyper":["bosatt"],"kommunenummer":{"bostedskommunenummer":""}})",
                "kommunenummer.bostedskommunenummer"},
        Refusal{R"({"personstatustyper":["bosatt"],"kommunenummer":{"bostedskommunenummer":301}})",
                "kommunenummer.bostedskommunenummer: må være en streng"},
        Refusal{R"({"personstatustyper":["bosatt"],"foedselsaarFraOgMed":"19500"})",
                "foedselsaarFraOgMed: må være et årstall med fire siffer"},
        Refusal{R"({"personstatustyper":["bosatt"],"foedselsaarFraOgMed":"195a"})",
                "foedselsaarFraOgMed"},
        Refusal{R"({"personstatustyper":["bosatt"],"foedselsaarFraOgMed":"1799"})",
                "foedselsaarFraOgMed: årstallet må være mellom"},
        Refusal{R"({"personstatustyper":["bosatt"],"foedselsaarTilOgMed":2101})",
                "foedselsaarTilOgMed: årstallet må være mellom"},
        Refusal{R"({"personstatustyper":["bosatt"],"foedselsaarTilOgMed":-1950})",
                "foedselsaarTilOgMed: årstallet må være mellom"},
        Refusal{R"({"personstatustyper":["bosatt"],"foedselsaarTilOgMed":18446744073709551615})",
                "foedselsaarTilOgMed: årstallet må være mellom"},
        Refusal{R"({"personstatustyper":["bosatt"],"foedselsaarFraOgMed":1950.5})",
                "foedselsaarFraOgMed: må være et årstall"},
        Refusal{R"({"personstatustyper":["bosatt"],"doedsaarFraOgMed":true})",
                "doedsaarFraOgMed: må være et årstall"},
        Refusal{R"({"personstatustyper":["bosatt"],"doedsaarTilOgMed":"abcd"})",
                "doedsaarTilOgMed"},
        Refusal{
            R"({"personstatustyper":["bosatt"],"foedselsaarFraOgMed":"2000","foedselsaarTilOgMed":"1950"})",
            "foedselsaarFraOgMed: kan ikke være senere enn foedselsaarTilOgMed"},
        Refusal{R"({"personstatustyper":["doed"],"doedsaarFraOgMed":2021,"doedsaarTilOgMed":2020})",
                "doedsaarFraOgMed: kan ikke være senere enn doedsaarTilOgMed"},
        Refusal{R"({"personstatustyper":["bosatt"],"kjoenn":"annet"})",
                "kjoenn: ukjent verdi 'annet'"},
        Refusal{R"({"personstatustyper":["bosatt"],"kjoenn":""})", "kjoenn: ukjent verdi"},
        Refusal{R"({"personstatustyper":["bosatt"],"kjoenn":1})", "kjoenn: må være en streng"},
        Refusal{R"({"personstatustyper":["bosatt"],"sivilstandstype":"samboer"})",
                "sivilstandstype: ukjent verdi 'samboer'"},
        Refusal{R"({"personstatustyper":["bosatt"],"statsborgerskap":"NO"})",
                "statsborgerskap: må være en landkode"},
        Refusal{R"({"personstatustyper":["bosatt"],"statsborgerskap":"N0R"})", "statsborgerskap"},
        Refusal{R"({"personstatustyper":["bosatt"],"statsborgerskap":["NOR"]})",
                "statsborgerskap: må være en streng"},
        Refusal{R"({"personstatustyper":["bosatt"],"adressenavn":"  "})",
                "adressenavn: kan ikke være tom"},
        Refusal{R"({"personstatustyper":["bosatt"],"adressenavn":"Storgata\u0001"})",
                "adressenavn: inneholder ugyldige tegn"},
        Refusal{R"({"personstatustyper":["bosatt"],"adressenavn":5})",
                "adressenavn: må være en streng"},
        Refusal{
            R"({"personstatustyper":["bosatt"],"adressenavn":")" + std::string(201, 'a') + "\"}",
            "adressenavn: er for lang"}));

TEST(UttrekkCriteriaTest, ParsesMinimalRequest) {
  const auto r = ParseUttrekkCriteria(R"({"personstatustyper":["bosatt"]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->statuses, std::vector<std::string>{"bosatt"});
  EXPECT_EQ(r->bostedskommunenummer, "");
  EXPECT_EQ(r->oppholdskommunenummer, "");
  EXPECT_FALSE(r->foedselsaar_fra.has_value());
  EXPECT_FALSE(r->doedsaar_til.has_value());
  EXPECT_EQ(r->kjoenn, "");
  EXPECT_EQ(r->adressenavn, "");
}

TEST(UttrekkCriteriaTest, ExpandsAktivAndDeduplicatesInCanonicalOrder) {
  const auto r = ParseUttrekkCriteria(
      R"({"personstatustyper":["inaktiv","aktiv","bosatt","midlertidig","bosatt"]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->statuses, (std::vector<std::string>{"bosatt", "forsvunnet", "foedselsregistrert",
                                                   "midlertidig", "inaktiv", "ikkeBosatt"}));
}

TEST(UttrekkCriteriaTest, ParsesEveryField) {
  const auto r = ParseUttrekkCriteria(R"({
      "personstatustyper": ["bosatt", "utflyttet"],
      "kommunenummer": {"bostedskommunenummer": "0301", "oppholdskommunenummer": null},
      "foedselsaarFraOgMed": "1950", "foedselsaarTilOgMed": 2000,
      "doedsaarFraOgMed": 2020, "doedsaarTilOgMed": "2021",
      "kjoenn": "kvinne", "statsborgerskap": "nor", "sivilstandstype": "enkeEllerEnkemann",
      "adressenavn": " Bjørnstjerne Bjørnsons gate "})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->statuses, (std::vector<std::string>{"bosatt", "utflyttet"}));
  EXPECT_EQ(r->bostedskommunenummer, "0301");
  EXPECT_EQ(r->oppholdskommunenummer, "");
  EXPECT_EQ(r->foedselsaar_fra, 1950);
  EXPECT_EQ(r->foedselsaar_til, 2000);
  EXPECT_EQ(r->doedsaar_fra, 2020);
  EXPECT_EQ(r->doedsaar_til, 2021);
  EXPECT_EQ(r->kjoenn, "kvinne");
  EXPECT_EQ(r->statsborgerskap, "NOR");
  EXPECT_EQ(r->sivilstandstype, "enkeEllerEnkemann");
  EXPECT_EQ(r->adressenavn, "Bjørnstjerne Bjørnsons gate");
}

TEST(UttrekkCriteriaTest, TreatsNullAsNotGiven) {
  const auto r = ParseUttrekkCriteria(
      R"({"personstatustyper":["doed"],"kommunenummer":null,"foedselsaarFraOgMed":null,)"
      R"("kjoenn":null,"statsborgerskap":null,"sivilstandstype":null,"adressenavn":null})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->ToJson(), R"({"personstatustyper":["doed"]})");
}

TEST(UttrekkCriteriaTest, ToJsonIsCanonical) {
  const auto r = ParseUttrekkCriteria(
      R"({"adressenavn":"Storgata \"B\"","kjoenn":"mann","personstatustyper":["bosatt","aktiv"],)"
      R"("kommunenummer":{"oppholdskommunenummer":"5001"},"doedsaarTilOgMed":2001,)"
      R"("foedselsaarFraOgMed":"1900"})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(
      r->ToJson(),
      R"({"personstatustyper":["aktiv","bosatt"],"kommunenummer":{"oppholdskommunenummer":"5001"},)"
      R"("foedselsaarFraOgMed":"1900","doedsaarTilOgMed":"2001","kjoenn":"mann",)"
      R"("adressenavn":"Storgata \"B\""})");
}

class UttrekkCriteriaRoundTripTest : public testing::TestWithParam<std::string> {};

TEST_P(UttrekkCriteriaRoundTripTest, ParseOfToJsonGivesTheSameCriteria) {
  const auto first = ParseUttrekkCriteria(GetParam());
  ASSERT_TRUE(first.ok()) << first.error().message;
  const std::string json = first->ToJson();
  const auto second = ParseUttrekkCriteria(json);
  ASSERT_TRUE(second.ok()) << second.error().message << " for " << json;
  EXPECT_EQ(Fields(*first), Fields(*second)) << json;
  EXPECT_EQ(second->ToJson(), json);
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, UttrekkCriteriaRoundTripTest,
    testing::Values(
        R"({"personstatustyper":["bosatt"]})", R"({"personstatustyper":["aktiv"]})",
        R"({"personstatustyper":["aktiv","bosatt","utflyttet","doed","inaktiv"]})",
        R"({"personstatustyper":["bosatt"],"kommunenummer":{"bostedskommunenummer":"0301"},)"
        R"("foedselsaarFraOgMed":"1950","foedselsaarTilOgMed":"2000","kjoenn":"kvinne",)"
        R"("statsborgerskap":"NOR","sivilstandstype":"gift","adressenavn":"Æsøy vei \\ 1"})",
        R"({"personstatustyper":["doed"],"kommunenummer":{"oppholdskommunenummer":"4601"},)"
        R"("doedsaarFraOgMed":1800,"doedsaarTilOgMed":2100})",
        R"({"personstatustyper":["midlertidig"]})"));

TEST(UttrekkCriteriaTest, HandBuiltPartialAktivGroupRoundTrips) {
  UttrekkCriteria c;
  c.statuses = {"forsvunnet", "opphoert"};
  const auto back = ParseUttrekkCriteria(c.ToJson());
  ASSERT_TRUE(back.ok()) << back.error().message << " for " << c.ToJson();
  EXPECT_EQ(back->statuses, c.statuses);
}

// ---------------------------------------------------------------------------------------------
// Matching

Row MakeRow(Property p, uint64_t from, uint64_t current_until, uint64_t removed_at,
            std::string json) {
  Row r;
  r.property = p;
  r.from_seq = from;
  r.current_until = current_until;
  r.removed_at = removed_at;
  r.json = std::move(json);
  return r;
}

std::string Meta() {
  return R"("ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","kilde":"Synutopia")";
}
std::string StatusRow(std::string_view s) {
  return "{" + Meta() + R"(,"status":")" + std::string(s) + "\"}";
}
std::string Vegadresse(std::string_view kommune, std::string_view navn) {
  return "{" + Meta() + R"(,"vegadresse":{"kommunenummer":")" + std::string(kommune) +
         R"(","bruksenhetsnummer":"H0101","adressenavn":")" + std::string(navn) +
         R"(","adressenummer":{"husnummer":"12"},"poststed":{"poststedsnavn":"X","postnummer":"0155"}},"adressegradering":"ugradert"})";
}
std::string Matrikkeladresse(std::string_view kommune) {
  return "{" + Meta() +
         R"(,"matrikkeladresse":{"bruksenhetsnummer":"H0101","matrikkelnummer":{"kommunenummer":")" +
         std::string(kommune) +
         R"(","gaardsnummer":12,"bruksnummer":3},"poststed":{"poststedsnavn":"X","postnummer":"5003"}}})";
}

// Person A (fnr 01018012345): created at 1 bosatt in Storgata, 0301 (vegadresse); citizen NOR;
// ugift; oppholdsadresse in 5001 from 3; married at 4; second citizenship SWE from 5; moved at 6
// to a matrikkeladresse in 4601; a sivilstand "skilt" registered at 7 and annulled at 8; dead at
// 10.
PersonRecord PersonA() {
  PersonRecord rec;
  rec.fnr = "01018012345";
  rec.rows = {
      MakeRow(Property::kIdentifikasjonsnummer, 1, kOpen, kOpen,
              "{" + Meta() + R"(,"status":"iBruk","foedselsEllerDNummer":"01018012345"})"),
      MakeRow(Property::kStatus, 10, kOpen, kOpen, StatusRow("doed")),
      MakeRow(Property::kStatus, 1, 10, kOpen, StatusRow("bosatt")),
      MakeRow(Property::kDoedsfall, 10, kOpen, kOpen,
              "{" + Meta() + R"(,"doedsdato":"2022-03-10"})"),
      MakeRow(Property::kSivilstand, 7, 8, 8, "{" + Meta() + R"(,"sivilstand":"skilt"})"),
      MakeRow(Property::kSivilstand, 4, kOpen, kOpen, "{" + Meta() + R"(,"sivilstand":"gift"})"),
      MakeRow(Property::kSivilstand, 1, 4, kOpen, "{" + Meta() + R"(,"sivilstand":"ugift"})"),
      MakeRow(Property::kBostedsadresse, 6, kOpen, kOpen, Matrikkeladresse("4601")),
      MakeRow(Property::kBostedsadresse, 1, 6, kOpen, Vegadresse("0301", "Storgata")),
      MakeRow(Property::kOppholdsadresse, 3, kOpen, kOpen, Vegadresse("5001", "Elvegata")),
      MakeRow(Property::kKjoenn, 1, kOpen, kOpen, "{" + Meta() + R"(,"kjoenn":"kvinne"})"),
      MakeRow(Property::kStatsborgerskap, 5, kOpen, kOpen,
              "{" + Meta() + R"(,"statsborgerskap":"SWE"})"),
      MakeRow(Property::kStatsborgerskap, 1, kOpen, kOpen,
              "{" + Meta() + R"(,"statsborgerskap":"NOR"})"),
      MakeRow(Property::kFoedsel, 1, kOpen, kOpen,
              "{" + Meta() + R"(,"foedselsdato":"1980-01-01","foedselsaar":"1980"})"),
  };
  SortRows(rec.rows);
  return rec;
}

// Person B: midlertidig; only a foedselsdato (no foedselsaar); a street name with Norwegian
// letters, written with a \u escape and loose whitespace in the row text; mann.
PersonRecord PersonB() {
  PersonRecord rec;
  rec.fnr = "41018012345";
  rec.rows = {
      MakeRow(Property::kStatus, 1, kOpen, kOpen, StatusRow("midlertidig")),
      MakeRow(
          Property::kBostedsadresse, 1, kOpen, kOpen,
          R"({ "kilde" : "x", "vegadresse" : { "adressenummer" : {"husnummer":"1"}, )"
          R"("kommunenummer" : "1103", "adressenavn" : "BJ\u00d8RNSTJERNE BJ\u00d8RNSONS GATE" } })"),
      MakeRow(Property::kKjoenn, 1, kOpen, kOpen, R"({"kjoenn":"mann"})"),
      MakeRow(Property::kFoedsel, 1, kOpen, kOpen, R"({"foedselsdato":"2001-12-31"})"),
  };
  SortRows(rec.rows);
  return rec;
}

// Person C: bosatt in 0301 and strengtFortrolig from 2.
PersonRecord PersonC() {
  PersonRecord rec;
  rec.fnr = "01018054321";
  rec.rows = {
      MakeRow(Property::kStatus, 1, kOpen, kOpen, StatusRow("bosatt")),
      MakeRow(Property::kBostedsadresse, 1, kOpen, kOpen, Vegadresse("0301", "Storgata")),
      MakeRow(Property::kAdressebeskyttelse, 2, kOpen, kOpen,
              "{" + Meta() + R"(,"graderingsnivaa":"strengtFortrolig"})"),
  };
  SortRows(rec.rows);
  return rec;
}

// Person D: bosatt, but every other row's JSON is broken (each in a different way) before or in
// the value a criterion looks at.
PersonRecord PersonD() {
  PersonRecord rec;
  rec.fnr = "01018099999";
  rec.rows = {
      MakeRow(Property::kStatus, 1, kOpen, kOpen, StatusRow("bosatt")),
      MakeRow(Property::kSivilstand, 1, kOpen, kOpen, R"({"sivilstand":"gift)"),
      MakeRow(Property::kBostedsadresse, 1, kOpen, kOpen,
              R"({"vegadresse":{"kommunenummer":"0301})"),
      MakeRow(Property::kKjoenn, 1, kOpen, kOpen, R"(["kjoenn","mann"])"),
      MakeRow(Property::kFoedsel, 1, kOpen, kOpen, R"({"foedselsaar":"19x0"})"),
  };
  SortRows(rec.rows);
  return rec;
}

// Person E: bosatt with ukjentBosted in 0301.
PersonRecord PersonE() {
  PersonRecord rec;
  rec.fnr = "01018011111";
  rec.rows = {
      MakeRow(Property::kStatus, 1, kOpen, kOpen, StatusRow("bosatt")),
      MakeRow(Property::kBostedsadresse, 1, kOpen, kOpen,
              "{" + Meta() + R"(,"ukjentBosted":{"bostedskommune":"0301"}})"),
  };
  return rec;
}

struct MatchCase {
  char person;
  std::string criteria;
  uint64_t seq;
  bool expected;
};

void PrintTo(const MatchCase& c, std::ostream* os) {
  *os << c.person << " @" << c.seq << " " << c.criteria;
}

class UttrekkMatchesTest : public testing::TestWithParam<MatchCase> {};

TEST_P(UttrekkMatchesTest, EvaluatesAtSeq) {
  const MatchCase& m = GetParam();
  const PersonRecord rec = m.person == 'A'   ? PersonA()
                           : m.person == 'B' ? PersonB()
                           : m.person == 'C' ? PersonC()
                           : m.person == 'D' ? PersonD()
                                             : PersonE();
  std::string enc;
  EncodeRecord(rec, enc);
  RecordView view;
  ASSERT_TRUE(view.Parse(enc).ok());
  const auto criteria = ParseUttrekkCriteria(m.criteria);
  ASSERT_TRUE(criteria.ok()) << criteria.error().message;
  EXPECT_EQ(Matches(*criteria, view, m.seq), m.expected);
}

const std::string kBosatt = R"({"personstatustyper":["bosatt"])";
const std::string kAll = R"({"personstatustyper":["aktiv","bosatt","utflyttet","doed","inaktiv"])";

INSTANTIATE_TEST_SUITE_P(
    Cases, UttrekkMatchesTest,
    testing::Values(
        // Status: the current status row at seq.
        MatchCase{'A', kBosatt + "}", 0, false},  // before the person existed
        MatchCase{'A', kBosatt + "}", 1, true}, MatchCase{'A', kBosatt + "}", 9, true},
        MatchCase{'A', kBosatt + "}", 10, false},
        MatchCase{'A', R"({"personstatustyper":["doed"]})", 9, false},
        MatchCase{'A', R"({"personstatustyper":["doed"]})", 10, true},
        MatchCase{'A', R"({"personstatustyper":["utflyttet","doed"]})", 12, true},
        // The aktiv group: midlertidig is in it, bosatt is not.
        MatchCase{'B', R"({"personstatustyper":["aktiv"]})", 1, true},
        MatchCase{'B', kBosatt + "}", 1, false},
        MatchCase{'A', R"({"personstatustyper":["aktiv"]})", 5, false},
        MatchCase{'C', R"({"personstatustyper":["aktiv","inaktiv"]})", 5, false},
        // Bostedskommune: the address changed at 6, so at 5 the criterion sees the old one.
        MatchCase{'A', kBosatt + R"(,"kommunenummer":{"bostedskommunenummer":"0301"}})", 5, true},
        MatchCase{'A', kBosatt + R"(,"kommunenummer":{"bostedskommunenummer":"0301"}})", 6, false},
        MatchCase{'A', kBosatt + R"(,"kommunenummer":{"bostedskommunenummer":"4601"}})", 5, false},
        MatchCase{'A', kBosatt + R"(,"kommunenummer":{"bostedskommunenummer":"4601"}})", 6, true},
        MatchCase{
            'B',
            R"({"personstatustyper":["aktiv"],"kommunenummer":{"bostedskommunenummer":"1103"}})", 1,
            true},
        // ukjentBosted counts with its bostedskommune; it has no street name.
        MatchCase{'E', kBosatt + R"(,"kommunenummer":{"bostedskommunenummer":"0301"}})", 1, true},
        MatchCase{'E', kBosatt + R"(,"kommunenummer":{"bostedskommunenummer":"4601"}})", 1, false},
        MatchCase{'E', kBosatt + R"(,"adressenavn":"Storgata"})", 1, false},
        // Oppholdskommune: only from 3; the bosted kommune does not count.
        MatchCase{'A', kBosatt + R"(,"kommunenummer":{"oppholdskommunenummer":"5001"}})", 2, false},
        MatchCase{'A', kBosatt + R"(,"kommunenummer":{"oppholdskommunenummer":"5001"}})", 3, true},
        MatchCase{'A', kBosatt + R"(,"kommunenummer":{"oppholdskommunenummer":"0301"}})", 3, false},
        // Adressenavn: the current bostedsadresse's vegadresse, case-insensitive, exact name.
        MatchCase{'A', kBosatt + R"(,"adressenavn":"Storgata"})", 5, true},
        MatchCase{'A', kBosatt + R"(,"adressenavn":"STORGATA"})", 5, true},
        MatchCase{'A', kBosatt + R"(,"adressenavn":"storgata"})", 6, false},  // matrikkeladresse
        MatchCase{'A', kBosatt + R"(,"adressenavn":"Storgat"})", 5, false},
        MatchCase{'A', kBosatt + R"(,"adressenavn":"Storgata 12"})", 5, false},
        MatchCase{'A', kBosatt + R"(,"adressenavn":"Elvegata"})", 5, false},  // oppholdsadresse
        MatchCase{'B', kAll + R"(,"adressenavn":"Bjørnstjerne Bjørnsons gate"})", 1, true},
        MatchCase{'B', kAll + R"(,"adressenavn":"Bjornstjerne Bjornsons gate"})", 1, false},
        // Foedselsaar: foedselsaar, else the year of foedselsdato; bounds inclusive.
        MatchCase{'A', kAll + R"(,"foedselsaarFraOgMed":"1980","foedselsaarTilOgMed":"1980"})", 1,
                  true},
        MatchCase{'A', kAll + R"(,"foedselsaarFraOgMed":"1981"})", 1, false},
        MatchCase{'A', kAll + R"(,"foedselsaarTilOgMed":"1979"})", 1, false},
        MatchCase{'B', kAll + R"(,"foedselsaarFraOgMed":"2001"})", 1, true},
        MatchCase{'B', kAll + R"(,"foedselsaarTilOgMed":"2000"})", 1, false},
        MatchCase{'C', kAll + R"(,"foedselsaarTilOgMed":"2100"})", 1, false},  // no foedsel
        // Doedsaar: only persons with a doedsfall at seq.
        MatchCase{'A', kAll + R"(,"doedsaarFraOgMed":2022,"doedsaarTilOgMed":2022})", 10, true},
        MatchCase{'A', kAll + R"(,"doedsaarFraOgMed":2022})", 9, false},
        MatchCase{'A', kAll + R"(,"doedsaarTilOgMed":2021})", 10, false},
        MatchCase{'B', kAll + R"(,"doedsaarFraOgMed":1800})", 1, false},
        // Kjoenn.
        MatchCase{'A', kAll + R"(,"kjoenn":"kvinne"})", 1, true},
        MatchCase{'A', kAll + R"(,"kjoenn":"mann"})", 1, false},
        MatchCase{'B', kAll + R"(,"kjoenn":"mann"})", 1, true},
        // Statsborgerskap: any current row.
        MatchCase{'A', kAll + R"(,"statsborgerskap":"NOR"})", 5, true},
        MatchCase{'A', kAll + R"(,"statsborgerskap":"swe"})", 4, false},
        MatchCase{'A', kAll + R"(,"statsborgerskap":"SWE"})", 5, true},
        MatchCase{'A', kAll + R"(,"statsborgerskap":"DNK"})", 5, false},
        // Sivilstand: the current row; the annulled "skilt" (7, removed at 8) only at 7.
        MatchCase{'A', kAll + R"(,"sivilstandstype":"ugift"})", 3, true},
        MatchCase{'A', kAll + R"(,"sivilstandstype":"ugift"})", 4, false},
        MatchCase{'A', kAll + R"(,"sivilstandstype":"gift"})", 4, true},
        MatchCase{'A', kAll + R"(,"sivilstandstype":"skilt"})", 7, true},
        MatchCase{'A', kAll + R"(,"sivilstandstype":"skilt"})", 8, false},
        // All criteria together (AND).
        MatchCase{'A',
                  kBosatt + R"(,"kommunenummer":{"bostedskommunenummer":"0301"},)"
                            R"("foedselsaarFraOgMed":"1950","foedselsaarTilOgMed":"1990",)"
                            R"("kjoenn":"kvinne","statsborgerskap":"SWE","sivilstandstype":"gift",)"
                            R"("adressenavn":"storgata"})",
                  5, true},
        MatchCase{'A',
                  kBosatt +
                      R"(,"kommunenummer":{"bostedskommunenummer":"0301"},)"
                      R"("kjoenn":"kvinne","statsborgerskap":"SWE","sivilstandstype":"gift"})",
                  4, false},  // SWE only from 5
        // strengtFortrolig: no address criterion ever matches; others still do.
        MatchCase{'C', kBosatt + R"(,"kommunenummer":{"bostedskommunenummer":"0301"}})", 1, true},
        MatchCase{'C', kBosatt + R"(,"kommunenummer":{"bostedskommunenummer":"0301"}})", 2, false},
        MatchCase{'C', kBosatt + R"(,"adressenavn":"Storgata"})", 2, false},
        MatchCase{'C', kBosatt + "}", 2, true},
        // Row text malformed up to the value looked at never matches and never crashes.
        MatchCase{'D', kBosatt + "}", 1, true},
        MatchCase{'D', kAll + R"(,"sivilstandstype":"gift"})", 1, false},
        MatchCase{'D', kAll + R"(,"kommunenummer":{"bostedskommunenummer":"0301"}})", 1, false},
        MatchCase{'D', kAll + R"(,"kjoenn":"mann"})", 1, false},
        MatchCase{'D', kAll + R"(,"foedselsaarFraOgMed":"1800"})", 1, false}));

}  // namespace
}  // namespace norreg::freg

namespace norreg::freg {
namespace {

// Rows out of property order (not SortRows'd) give the same answers, without the early exit.
TEST(UttrekkMatchesOrderTest, UngroupedRowsGiveTheSameAnswers) {
  PersonRecord sorted = PersonA();
  PersonRecord reversed = sorted;
  std::reverse(reversed.rows.begin(), reversed.rows.end());
  std::string enc_sorted, enc_reversed;
  EncodeRecord(sorted, enc_sorted);
  EncodeRecord(reversed, enc_reversed);
  RecordView a, b;
  ASSERT_TRUE(a.Parse(enc_sorted).ok());
  ASSERT_TRUE(b.Parse(enc_reversed).ok());
  const char* bodies[] = {
      R"({"personstatustyper":["bosatt"],"kommunenummer":{"bostedskommunenummer":"0301"}})",
      R"({"personstatustyper":["bosatt","doed"],"foedselsaarFraOgMed":"1980","kjoenn":"kvinne"})",
      R"({"personstatustyper":["bosatt"],"statsborgerskap":"SWE","sivilstandstype":"gift"})",
      R"({"personstatustyper":["doed"],"doedsaarFraOgMed":"2022"})",
  };
  int matched = 0;
  for (const char* body : bodies) {
    const auto c = ParseUttrekkCriteria(body);
    ASSERT_TRUE(c.ok()) << c.error().message;
    for (uint64_t seq = 0; seq <= 11; ++seq) {
      const bool expected = Matches(*c, a, seq);
      EXPECT_EQ(Matches(*c, b, seq), expected) << body << " @" << seq;
      matched += expected ? 1 : 0;
    }
  }
  EXPECT_GT(matched, 4);  // the comparison is not vacuous
}

}  // namespace
}  // namespace norreg::freg
