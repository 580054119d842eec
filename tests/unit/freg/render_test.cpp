#include "freg/render.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "freg/record_codec.hpp"

namespace norreg::freg {
namespace {

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

// A person created at seq 1 (name, address, a marriage annulled at 2), renamed at 3, given
// strengtFortrolig address protection at 4 and dead at 5.
const std::string kId =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","kilde":"Synutopia","aarsak":"Grunnbefolkning","status":"iBruk","foedselsEllerDNummer":"01818012345","identifikatortype":"foedselsnummer"})";
const std::string kIdT =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","erGjeldende":true,"kilde":"Synutopia","aarsak":"Grunnbefolkning","status":"iBruk","foedselsEllerDNummer":"01818012345","identifikatortype":"foedselsnummer"})";
const std::string kStatus1 =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","kilde":"Synutopia","status":"bosatt"})";
const std::string kStatus1T =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","erGjeldende":true,"kilde":"Synutopia","status":"bosatt"})";
const std::string kStatus1F =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","erGjeldende":false,"kilde":"Synutopia","status":"bosatt"})";
const std::string kStatus5 =
    R"({"ajourholdstidspunkt":"2022-03-14T14:41:28.711+01:00","kilde":"Synutopia","aarsak":"Dødsfall","status":"doed"})";
const std::string kStatus5T =
    R"({"ajourholdstidspunkt":"2022-03-14T14:41:28.711+01:00","erGjeldende":true,"kilde":"Synutopia","aarsak":"Dødsfall","status":"doed"})";
const std::string kDoed =
    R"({"ajourholdstidspunkt":"2022-03-14T14:41:28.711+01:00","kilde":"Synutopia","doedsdato":"2022-03-10"})";
const std::string kDoedT =
    R"({"ajourholdstidspunkt":"2022-03-14T14:41:28.711+01:00","erGjeldende":true,"kilde":"Synutopia","doedsdato":"2022-03-10"})";
const std::string kSivilstand =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","kilde":"Synutopia","sivilstand":"gift","sivilstandsdato":"2010-08-14"})";
const std::string kSivilstandT =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","erGjeldende":true,"kilde":"Synutopia","sivilstand":"gift","sivilstandsdato":"2010-08-14"})";
const std::string kBosted =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","kilde":"Matrikkelen","aarsak":"Flytting innenlands","vegadresse":{"kommunenummer":"0301","adressenavn":"Storgata","adressenummer":{"husnummer":"12","husbokstav":"B"},"adressekode":"12345","poststed":{"poststedsnavn":"OSLO","postnummer":"0155"}},"adressegradering":"ugradert","flyttedato":"2017-06-20","grunnkrets":104})";
const std::string kBostedT =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","erGjeldende":true,"kilde":"Matrikkelen","aarsak":"Flytting innenlands","vegadresse":{"kommunenummer":"0301","adressenavn":"Storgata","adressenummer":{"husnummer":"12","husbokstav":"B"},"adressekode":"12345","poststed":{"poststedsnavn":"OSLO","postnummer":"0155"}},"adressegradering":"ugradert","flyttedato":"2017-06-20","grunnkrets":104})";
const std::string kBeskyttelse =
    R"({"ajourholdstidspunkt":"2021-01-04T12:00:00.000+01:00","kilde":"skatteetaten","graderingsnivaa":"strengtFortrolig"})";
const std::string kBeskyttelseT =
    R"({"ajourholdstidspunkt":"2021-01-04T12:00:00.000+01:00","erGjeldende":true,"kilde":"skatteetaten","graderingsnivaa":"strengtFortrolig"})";
const std::string kKjoenn = R"({"kjoenn":"kvinne"})";  // no metadata: erGjeldende goes first
const std::string kKjoennT = R"({"erGjeldende":true,"kjoenn":"kvinne"})";
const std::string kNavn3 =
    R"({"ajourholdstidspunkt":"2019-05-02T08:00:00.000+02:00","kilde":"skatteetaten","aarsak":"Navneendring","fornavn":"ROLIG","etternavn":"ELV"})";
const std::string kNavn3T =
    R"({"ajourholdstidspunkt":"2019-05-02T08:00:00.000+02:00","erGjeldende":true,"kilde":"skatteetaten","aarsak":"Navneendring","fornavn":"ROLIG","etternavn":"ELV"})";
const std::string kNavn1 =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","kilde":"Synutopia","fornavn":"AKTPÅGIVENDE","etternavn":"OLJE"})";
const std::string kNavn1T =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","erGjeldende":true,"kilde":"Synutopia","fornavn":"AKTPÅGIVENDE","etternavn":"OLJE"})";
const std::string kNavn1F =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","erGjeldende":false,"kilde":"Synutopia","fornavn":"AKTPÅGIVENDE","etternavn":"OLJE"})";

PersonRecord SamplePerson() {
  PersonRecord rec;
  rec.fnr = "01818012345";
  rec.rows = {
      MakeRow(Property::kIdentifikasjonsnummer, 1, kOpen, kOpen, kId),
      MakeRow(Property::kStatus, 5, kOpen, kOpen, kStatus5),
      MakeRow(Property::kStatus, 1, 5, kOpen, kStatus1),
      MakeRow(Property::kDoedsfall, 5, kOpen, kOpen, kDoed),
      MakeRow(Property::kSivilstand, 1, 2, 2, kSivilstand),  // annulled at 2: gone everywhere
      MakeRow(Property::kBostedsadresse, 1, kOpen, kOpen, kBosted),
      MakeRow(Property::kAdressebeskyttelse, 4, kOpen, kOpen, kBeskyttelse),
      MakeRow(Property::kKjoenn, 1, kOpen, kOpen, kKjoenn),
      MakeRow(Property::kNavn, 3, kOpen, kOpen, kNavn3),
      MakeRow(Property::kNavn, 1, 3, kOpen, kNavn1),
  };
  return rec;
}

PartSelection Basis(bool historikk) {
  PartSelection sel = PartSelection::PersonBasis();
  sel.historikk = historikk;
  return sel;
}

std::string Json(const PersonRecord& rec, uint64_t seq, const PartSelection& sel) {
  std::string out;
  RenderPersonJson(rec, seq, sel, out);
  return out;
}

std::string Xml(const PersonRecord& rec, uint64_t seq, const PartSelection& sel, bool ns = true) {
  std::string out;
  RenderPersonXml(rec, seq, sel, out, ns);
  return out;
}

TEST(RenderPersonJsonTest, DocumentAtEachVersion) {
  const PersonRecord rec = SamplePerson();
  struct Case {
    uint64_t seq;
    bool historikk;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {0, true, "{}"},
      {1, false,
       "{\"identifikasjonsnummer\":[" + kIdT + "],\"status\":[" + kStatus1T + "],\"sivilstand\":[" +
           kSivilstandT + "],\"bostedsadresse\":[" + kBostedT + "],\"kjoenn\":[" + kKjoennT +
           "],\"navn\":[" + kNavn1T + "]}"},
      {2, true,
       "{\"identifikasjonsnummer\":[" + kIdT + "],\"status\":[" + kStatus1T +
           "],\"bostedsadresse\":[" + kBostedT + "],\"kjoenn\":[" + kKjoennT + "],\"navn\":[" +
           kNavn1T + "]}"},
      {3, false,
       "{\"identifikasjonsnummer\":[" + kIdT + "],\"status\":[" + kStatus1T +
           "],\"bostedsadresse\":[" + kBostedT + "],\"kjoenn\":[" + kKjoennT + "],\"navn\":[" +
           kNavn3T + "]}"},
      {3, true,
       "{\"identifikasjonsnummer\":[" + kIdT + "],\"status\":[" + kStatus1T +
           "],\"bostedsadresse\":[" + kBostedT + "],\"kjoenn\":[" + kKjoennT + "],\"navn\":[" +
           kNavn3T + "," + kNavn1F + "]}"},
      // strengtFortrolig from 4: bostedsadresse is gone, adressebeskyttelse is shown.
      {4, false,
       "{\"identifikasjonsnummer\":[" + kIdT + "],\"status\":[" + kStatus1T +
           "],\"adressebeskyttelse\":[" + kBeskyttelseT + "],\"kjoenn\":[" + kKjoennT +
           "],\"navn\":[" + kNavn3T + "]}"},
      {5, false,
       "{\"identifikasjonsnummer\":[" + kIdT + "],\"status\":[" + kStatus5T +
           "],\"doedsfall\":" + kDoedT + ",\"adressebeskyttelse\":[" + kBeskyttelseT +
           "],\"kjoenn\":[" + kKjoennT + "],\"navn\":[" + kNavn3T + "]}"},
      {5, true,
       "{\"identifikasjonsnummer\":[" + kIdT + "],\"status\":[" + kStatus5T + "," + kStatus1F +
           "],\"doedsfall\":" + kDoedT + ",\"adressebeskyttelse\":[" + kBeskyttelseT +
           "],\"kjoenn\":[" + kKjoennT + "],\"navn\":[" + kNavn3T + "," + kNavn1F + "]}"},
      {kOpen - 1, false,
       "{\"identifikasjonsnummer\":[" + kIdT + "],\"status\":[" + kStatus5T +
           "],\"doedsfall\":" + kDoedT + ",\"adressebeskyttelse\":[" + kBeskyttelseT +
           "],\"kjoenn\":[" + kKjoennT + "],\"navn\":[" + kNavn3T + "]}"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Json(rec, c.seq, Basis(c.historikk)), c.expected)
        << "seq " << c.seq << " historikk " << c.historikk;
  }
}

TEST(RenderPersonJsonTest, PartsFilterProperties) {
  const PersonRecord rec = SamplePerson();
  PartSelection sel;
  sel.Add(Property::kIdentifikasjonsnummer);
  sel.Add(Property::kNavn);
  EXPECT_EQ(Json(rec, 3, sel),
            "{\"identifikasjonsnummer\":[" + kIdT + "],\"navn\":[" + kNavn3T + "]}");
  sel.historikk = true;
  EXPECT_EQ(Json(rec, 3, sel), "{\"identifikasjonsnummer\":[" + kIdT + "],\"navn\":[" + kNavn3T +
                                   "," + kNavn1F + "]}");
  // Nothing selected that exists: an empty object.
  PartSelection innflytting;
  innflytting.Add(Property::kInnflytting);
  EXPECT_EQ(Json(rec, 5, innflytting), "{}");
  // An address asked for by name is still hidden for strengtFortrolig.
  PartSelection bosted;
  bosted.Add(Property::kBostedsadresse);
  EXPECT_EQ(Json(rec, 3, bosted), "{\"bostedsadresse\":[" + kBostedT + "]}");
  EXPECT_EQ(Json(rec, 4, bosted), "{}");
}

TEST(RenderPersonJsonTest, OnlyCurrentStrengtFortroligHidesAddresses) {
  const std::string oslo = R"({"vegadresse":{"kommunenummer":"0301"}})";
  const std::string fortrolig = R"({"graderingsnivaa" : "fortrolig"})";
  const std::string strengt = R"({"graderingsnivaa": "strengtFortrolig"})";
  PersonRecord rec;
  rec.rows = {
      MakeRow(Property::kBostedsadresse, 1, kOpen, kOpen, oslo),
      MakeRow(Property::kDeltBosted, 1, kOpen, kOpen, oslo),
      MakeRow(Property::kOppholdsadresse, 1, kOpen, kOpen, oslo),
      MakeRow(Property::kPostadresse, 1, kOpen, kOpen, oslo),
      MakeRow(Property::kPostadresseIUtlandet, 1, kOpen, kOpen, oslo),
      MakeRow(Property::kAdressebeskyttelse, 3, kOpen, kOpen, fortrolig),
      MakeRow(Property::kAdressebeskyttelse, 2, 3, kOpen, strengt),  // strengt only at 2
      MakeRow(Property::kPreferertKontaktadresse, 1, kOpen, kOpen, oslo),
      MakeRow(Property::kNavn, 1, kOpen, kOpen, "{}"),
  };
  PartSelection sel = PartSelection::All();
  sel.historikk = false;
  const std::string addr = R"([{"erGjeldende":true,"vegadresse":{"kommunenummer":"0301"}}])";
  const std::string all_addresses = "\"bostedsadresse\":" + addr + ",\"deltBosted\":" + addr +
                                    ",\"oppholdsadresse\":" + addr + ",\"postadresse\":" + addr +
                                    ",\"postadresseIUtlandet\":" + addr;
  EXPECT_EQ(Json(rec, 1, sel), "{" + all_addresses + ",\"preferertKontaktadresse\":" + addr +
                                   ",\"navn\":[{\"erGjeldende\":true}]}");
  EXPECT_EQ(
      Json(rec, 2, sel),
      R"({"adressebeskyttelse":[{"erGjeldende":true,"graderingsnivaa": "strengtFortrolig"}],"navn":[{"erGjeldende":true}]})");
  sel.historikk = true;
  EXPECT_EQ(
      Json(rec, 3, sel),
      "{" + all_addresses +
          R"(,"adressebeskyttelse":[{"erGjeldende":true,"graderingsnivaa" : "fortrolig"},{"erGjeldende":false,"graderingsnivaa": "strengtFortrolig"}],"preferertKontaktadresse":)" +
          addr + ",\"navn\":[{\"erGjeldende\":true}]}");
}

TEST(RenderPersonJsonTest, SingleObjects) {
  const std::string falsk1 =
      R"({"ajourholdstidspunkt":"2020-01-01T00:00:00.000+01:00","erFalsk":true})";
  const std::string falsk2 =
      R"({"ajourholdstidspunkt":"2020-02-01T00:00:00.000+01:00","erFalsk":false})";
  PersonRecord rec;
  rec.rows = {
      MakeRow(Property::kFalskIdentitet, 6, 8, kOpen, falsk2),
      MakeRow(Property::kFalskIdentitet, 2, 6, kOpen, falsk1),
  };
  PartSelection sel;
  sel.Add(Property::kFalskIdentitet);
  EXPECT_EQ(Json(rec, 1, sel), "{}");
  EXPECT_EQ(
      Json(rec, 2, sel),
      R"({"falskIdentitet":{"ajourholdstidspunkt":"2020-01-01T00:00:00.000+01:00","erGjeldende":true,"erFalsk":true}})");
  EXPECT_EQ(
      Json(rec, 7, sel),
      R"({"falskIdentitet":{"ajourholdstidspunkt":"2020-02-01T00:00:00.000+01:00","erGjeldende":true,"erFalsk":false}})");
  // No current row: omitted without historikk, the newest present row with it.
  EXPECT_EQ(Json(rec, 8, sel), "{}");
  sel.historikk = true;
  EXPECT_EQ(
      Json(rec, 8, sel),
      R"({"falskIdentitet":{"ajourholdstidspunkt":"2020-02-01T00:00:00.000+01:00","erGjeldende":false,"erFalsk":false}})");
  // With a current row, history rows are never shown for a single object.
  EXPECT_EQ(
      Json(rec, 7, sel),
      R"({"falskIdentitet":{"ajourholdstidspunkt":"2020-02-01T00:00:00.000+01:00","erGjeldende":true,"erFalsk":false}})");
}

TEST(RenderPersonJsonTest, ErGjeldendePlacement) {
  struct Case {
    std::string row;
    std::string expected;  // the rendered row
  };
  const std::vector<Case> cases = {
      {R"({"ajourholdstidspunkt":"x","kjoenn":"mann"})",
       R"({"ajourholdstidspunkt":"x","erGjeldende":true,"kjoenn":"mann"})"},
      {R"({"ajourholdstidspunkt":"a\"b"})", R"({"ajourholdstidspunkt":"a\"b","erGjeldende":true})"},
      {R"({"kilde":"k"})", R"({"erGjeldende":true,"kilde":"k"})"},
      {"{}", R"({"erGjeldende":true})"},
      {"{ }", R"({"erGjeldende":true})"},
      {R"({"ajourholdstidspunktX":1})", R"({"erGjeldende":true,"ajourholdstidspunktX":1})"},
      {R"({"ajourholdstidspunkt":"unterminated)",
       R"({"erGjeldende":true,"ajourholdstidspunkt":"unterminated)"},
  };
  for (const Case& c : cases) {
    PersonRecord rec;
    rec.rows = {MakeRow(Property::kKjoenn, 1, kOpen, kOpen, c.row)};
    PartSelection sel;
    sel.Add(Property::kKjoenn);
    EXPECT_EQ(Json(rec, 1, sel), "{\"kjoenn\":[" + c.expected + "]}") << c.row;
  }
  // Rows that are not objects are left out.
  PersonRecord rec;
  rec.rows = {MakeRow(Property::kKjoenn, 1, kOpen, kOpen, ""),
              MakeRow(Property::kKjoenn, 1, kOpen, kOpen, "[1]"),
              MakeRow(Property::kDoedsfall, 1, kOpen, kOpen, "null")};
  EXPECT_EQ(Json(rec, 1, PartSelection::All()), "{}");
}

TEST(RenderPersonJsonTest, UngroupedRowsRenderTheSame) {
  const PersonRecord rec = SamplePerson();
  PersonRecord shuffled = rec;
  std::reverse(shuffled.rows.begin(), shuffled.rows.end());
  // Reversal flips the newest-first order within a property; restore it per property by a
  // stable partition that keeps properties interleaved but rows of one property newest first.
  std::stable_sort(shuffled.rows.begin(), shuffled.rows.end(),
                   [](const Row& a, const Row& b) { return a.from_seq > b.from_seq; });
  ASSERT_NE(shuffled.rows[0].property, shuffled.rows[1].property);
  for (uint64_t seq = 0; seq <= 6; ++seq) {
    for (bool h : {false, true}) {
      EXPECT_EQ(Json(shuffled, seq, Basis(h)), Json(rec, seq, Basis(h))) << seq;
      EXPECT_EQ(Xml(shuffled, seq, Basis(h)), Xml(rec, seq, Basis(h))) << seq;
    }
  }
}

TEST(RenderPersonJsonTest, RecordViewRendersLikeRecord) {
  const PersonRecord rec = SamplePerson();
  std::string enc;
  EncodeRecord(rec, enc);
  RecordView view;
  ASSERT_TRUE(view.Parse(enc).ok());
  for (uint64_t seq = 0; seq <= 6; ++seq) {
    for (bool h : {false, true}) {
      std::string a, b;
      RenderPersonJson(view, seq, Basis(h), a);
      RenderPersonJson(rec, seq, Basis(h), b);
      EXPECT_EQ(a, b) << seq;
      a.clear();
      b.clear();
      RenderPersonXml(view, seq, Basis(h), a, false);
      RenderPersonXml(rec, seq, Basis(h), b, false);
      EXPECT_EQ(a, b) << seq;
    }
  }
  std::string out = "[";
  RenderPersonJson(view, 1, Basis(false), out);  // appends
  EXPECT_EQ(out.substr(0, 26), "[{\"identifikasjonsnummer\":");
}

TEST(RenderPersonXmlTest, ExactDocument) {
  const PersonRecord rec = SamplePerson();
  PartSelection sel;
  sel.Add(Property::kIdentifikasjonsnummer);
  sel.Add(Property::kBostedsadresse);
  sel.Add(Property::kNavn);
  sel.Add(Property::kKjoenn);
  sel.historikk = true;
  EXPECT_EQ(
      Xml(rec, 3, sel),
      "<folkeregisterperson xmlns=\"folkeregisteret:tilgjengeliggjoering:person:v1\">"
      "<identifikasjonsnummer><ajourholdstidspunkt>2017-06-20T09:26:03.689+02:00</"
      "ajourholdstidspunkt><erGjeldende>true</erGjeldende><kilde>Synutopia</kilde><aarsak>"
      "Grunnbefolkning</aarsak><status>iBruk</status><foedselsEllerDNummer>01818012345</"
      "foedselsEllerDNummer><identifikatortype>foedselsnummer</identifikatortype></"
      "identifikasjonsnummer>"
      "<bostedsadresse><ajourholdstidspunkt>2017-06-20T09:26:03.689+02:00</ajourholdstidspunkt>"
      "<erGjeldende>true</erGjeldende><kilde>Matrikkelen</kilde><aarsak>Flytting innenlands</"
      "aarsak><vegadresse><kommunenummer>0301</kommunenummer><adressenavn>Storgata</adressenavn>"
      "<adressenummer><husnummer>12</husnummer><husbokstav>B</husbokstav></adressenummer>"
      "<adressekode>12345</adressekode><poststed><poststedsnavn>OSLO</poststedsnavn><postnummer>"
      "0155</postnummer></poststed></vegadresse><adressegradering>ugradert</adressegradering>"
      "<flyttedato>2017-06-20</flyttedato><grunnkrets>104</grunnkrets></bostedsadresse>"
      "<kjoenn><erGjeldende>true</erGjeldende><kjoenn>kvinne</kjoenn></kjoenn>"
      "<navn><ajourholdstidspunkt>2019-05-02T08:00:00.000+02:00</ajourholdstidspunkt>"
      "<erGjeldende>true</erGjeldende><kilde>skatteetaten</kilde><aarsak>Navneendring</aarsak>"
      "<fornavn>ROLIG</fornavn><etternavn>ELV</etternavn></navn>"
      "<navn><ajourholdstidspunkt>2017-06-20T09:26:03.689+02:00</ajourholdstidspunkt>"
      "<erGjeldende>false</erGjeldende><kilde>Synutopia</kilde><fornavn>AKTPÅGIVENDE</fornavn>"
      "<etternavn>OLJE</etternavn></navn>"
      "</folkeregisterperson>");
  EXPECT_EQ(Xml(rec, 0, sel, false), "<folkeregisterperson></folkeregisterperson>");
  // Single objects and strengtFortrolig behave as in JSON.
  PartSelection basis = Basis(false);
  EXPECT_EQ(Xml(rec, 5, basis, false),
            "<folkeregisterperson>"
            "<identifikasjonsnummer><ajourholdstidspunkt>2017-06-20T09:26:03.689+02:00</"
            "ajourholdstidspunkt><erGjeldende>true</erGjeldende><kilde>Synutopia</kilde><aarsak>"
            "Grunnbefolkning</aarsak><status>iBruk</status><foedselsEllerDNummer>01818012345</"
            "foedselsEllerDNummer><identifikatortype>foedselsnummer</identifikatortype></"
            "identifikasjonsnummer>"
            "<status><ajourholdstidspunkt>2022-03-14T14:41:28.711+01:00</ajourholdstidspunkt>"
            "<erGjeldende>true</erGjeldende><kilde>Synutopia</kilde><aarsak>Dødsfall</aarsak>"
            "<status>doed</status></status>"
            "<doedsfall><ajourholdstidspunkt>2022-03-14T14:41:28.711+01:00</ajourholdstidspunkt>"
            "<erGjeldende>true</erGjeldende><kilde>Synutopia</kilde><doedsdato>2022-03-10</"
            "doedsdato></doedsfall>"
            "<adressebeskyttelse><ajourholdstidspunkt>2021-01-04T12:00:00.000+01:00</"
            "ajourholdstidspunkt><erGjeldende>true</erGjeldende><kilde>skatteetaten</kilde>"
            "<graderingsnivaa>strengtFortrolig</graderingsnivaa></adressebeskyttelse>"
            "<kjoenn><erGjeldende>true</erGjeldende><kjoenn>kvinne</kjoenn></kjoenn>"
            "<navn><ajourholdstidspunkt>2019-05-02T08:00:00.000+02:00</ajourholdstidspunkt>"
            "<erGjeldende>true</erGjeldende><kilde>skatteetaten</kilde><aarsak>Navneendring</"
            "aarsak><fornavn>ROLIG</fornavn><etternavn>ELV</etternavn></navn>"
            "</folkeregisterperson>");
}

TEST(RenderPersonXmlTest, ScalarArraysAndEscapes) {
  PersonRecord rec;
  rec.rows = {
      MakeRow(
          Property::kPostadresse, 1, kOpen, kOpen,
          R"({"ajourholdstidspunkt":"t","adressegradering":"ugradert","postadresseIFrittFormat":{"adresselinje":["c/o \"Hansen\" & S\u00f8nn","Postboks <12>"],"postnummer":"0155"}})"),
      MakeRow(
          Property::kBrukAvSamiskSpraak, 1, kOpen, kOpen,
          R"({"spraak":["nordsamisk","lulesamisk"],"tom":[],"ingen":null,"tall":-1.5e3,"ja":false})"),
  };
  PartSelection sel = PartSelection::All();
  EXPECT_EQ(Xml(rec, 1, sel, false),
            "<folkeregisterperson><postadresse><ajourholdstidspunkt>t</ajourholdstidspunkt>"
            "<erGjeldende>true</erGjeldende><adressegradering>ugradert</adressegradering>"
            "<postadresseIFrittFormat><adresselinje>c/o &quot;Hansen&quot; &amp; Sønn</"
            "adresselinje><adresselinje>Postboks &lt;12&gt;</adresselinje><postnummer>0155</"
            "postnummer></postadresseIFrittFormat></postadresse>"
            "<brukAvSamiskSpraak><erGjeldende>true</erGjeldende><spraak>nordsamisk</spraak>"
            "<spraak>lulesamisk</spraak><tall>-1.5e3</tall><ja>false</ja></brukAvSamiskSpraak>"
            "</folkeregisterperson>");
}

TEST(RenderPersonXmlTest, MalformedRowsAreLeftOut) {
  PersonRecord rec;
  rec.rows = {
      MakeRow(Property::kNavn, 3, kOpen, kOpen, R"({"fornavn":"OK"})"),
      MakeRow(Property::kNavn, 2, kOpen, kOpen, R"({"fornavn":"BROKEN)"),
      MakeRow(Property::kNavn, 1, kOpen, kOpen, R"({"fornavn":"ALSO OK"} )"),
  };
  PartSelection sel;
  sel.Add(Property::kNavn);
  EXPECT_EQ(Xml(rec, 3, sel, false),
            "<folkeregisterperson><navn><erGjeldende>true</erGjeldende><fornavn>OK</fornavn></navn>"
            "<navn><erGjeldende>true</erGjeldende><fornavn>ALSO OK</fornavn></navn>"
            "</folkeregisterperson>");
}

TEST(JsonObjectAsXmlTest, Transcodes) {
  struct Case {
    std::string json;
    std::string xml;
  };
  const std::vector<Case> cases = {
      {"{}", ""},
      {R"({"a":"x"})", "<a>x</a>"},
      {R"( { "a" : "x" , "b" : [ 1 , 2 ] } )", "<a>x</a><b>1</b><b>2</b>"},
      {R"({"a":"\u00e5\u00C6 \" \\ \/ \n\t"})", "<a>åÆ &quot; \\ / \n\t</a>"},
      {R"({"a":"\r\b\f\u0001"})", "<a>&#13;\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD</a>"},
      {R"({"a":"\ud83d\ude00"})", "<a>\xF0\x9F\x98\x80</a>"},
      {R"({"a":"\ud83dx"})", "<a>\xEF\xBF\xBDx</a>"},  // lone high surrogate
      {R"({"a":"\ude00"})", "<a>\xEF\xBF\xBD</a>"},    // lone low surrogate
      {R"({"a":"\ud83d\u0041"})",
       "<a>\xEF\xBF\xBD"
       "A</a>"},  // high + non-low
      {R"({"a":"\uFFFE"})", "<a>\xEF\xBF\xBD</a>"},
      {R"({"a":"<&>"})", "<a>&lt;&amp;&gt;</a>"},
      {R"({"a":{"b":{"c":true}}})", "<a><b><c>true</c></b></a>"},
      {R"({"a":[[1,2],[3]]})", "<a>1</a><a>2</a><a>3</a>"},
      {R"({"a":[{"b":1},{"b":2}]})", "<a><b>1</b></a><a><b>2</b></a>"},
      {R"({"a":null,"b":0,"c":-0.5,"d":1E+2})", "<b>0</b><c>-0.5</c><d>1E+2</d>"},
      {R"({"bad key":1,"1x":2,"x\u0041":3,"":4,"xmlns":5,"ok_1.2-3":6})", "<ok_1.2-3>6</ok_1.2-3>"},
      {R"({"erGjeldende":true})", "<erGjeldende>true</erGjeldende>"},  // kept outside rows
  };
  for (const Case& c : cases) {
    std::string out = "pre";
    EXPECT_TRUE(AppendJsonObjectAsXml(out, c.json)) << c.json;
    EXPECT_EQ(out, "pre" + c.xml) << c.json;
  }
}

TEST(JsonObjectAsXmlTest, RejectsMalformedInputAndLeavesOutputAlone) {
  const std::vector<std::string> bad = {
      "",
      "[]",
      "\"a\"",
      "1",
      "{",
      "}",
      "{\"a\"}",
      "{\"a\":}",
      "{\"a\":1,}",
      "{\"a\":1 \"b\":2}",
      "{\"a\":[1,]}",
      "{\"a\":[1 2]}",
      "{\"a\":tru}",
      "{\"a\":nul}",
      "{\"a\":01}",
      "{\"a\":-}",
      "{\"a\":1.}",
      "{\"a\":1e}",
      "{\"a\":\"\\x\"}",
      "{\"a\":\"\\u12\"}",
      "{\"a\":\"\\u12g4\"}",
      "{\"a\":\"abc}",
      "{\"a\":\"abc\\",
      "{\"a\":1}x",
      "{\"a\":1}{}",
      "{a:1}",
      "{\"a\":+1}",
      "{\"a\":[",
      "{\"a\":{\"b\":1}",
      std::string("{\"a\":\"\0\"", 7),
  };
  for (const std::string& json : bad) {
    std::string out = "keep";
    EXPECT_FALSE(AppendJsonObjectAsXml(out, json)) << json;
    EXPECT_EQ(out, "keep") << json;
  }
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 100; ++i) deep += "}";
  std::string out;
  EXPECT_FALSE(AppendJsonObjectAsXml(out, deep));
  EXPECT_TRUE(out.empty());
  std::string deep_array = "{\"a\":" + std::string(100000, '[');
  EXPECT_FALSE(AppendJsonObjectAsXml(out, deep_array));
  std::string ok_depth;
  for (int i = 0; i < 20; ++i) ok_depth += "{\"a\":";
  ok_depth += "1";
  for (int i = 0; i < 20; ++i) ok_depth += "}";
  EXPECT_TRUE(AppendJsonObjectAsXml(out, ok_depth));
}

TEST(JsonObjectAsXmlTest, EveryPrefixOfAValidRowIsSafe) {
  // Truncations and single-byte corruptions must never crash (run under ASan/UBSan).
  const std::string row =
      R"({"a":"\u00e5\ud83d\ude00x","b":[1,-2.5e3,true,false,null,{"c":"\\\""}],"d":{}})";
  for (size_t n = 0; n <= row.size(); ++n) {
    std::string out;
    const std::string cut = row.substr(0, n);
    EXPECT_EQ(AppendJsonObjectAsXml(out, cut), n == row.size()) << n;
  }
  for (size_t i = 0; i < row.size(); ++i) {
    for (int c :
         std::initializer_list<int>{0, '"', '\\', '{', '}', '[', ']', ',', ':', 0xFF, 'u'}) {
      std::string bad = row;
      bad[i] = static_cast<char>(c);
      std::string out;
      (void)AppendJsonObjectAsXml(out, bad);
    }
  }
}


}  // namespace
}  // namespace norreg::freg
