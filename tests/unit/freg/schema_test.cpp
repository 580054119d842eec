#include "freg/schema.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace norreg::freg {
namespace {

std::vector<std::string> FieldNames(const SchemaNode& node) {
  std::vector<std::string> names;
  for (const SchemaField& f : node.fields) names.push_back(f.name);
  return names;
}

const std::vector<std::string> kMetadata = {
    "ajourholdstidspunkt", "erGjeldende",      "kilde", "aarsak",
    "gyldighetstidspunkt", "opphoerstidspunkt"};

std::vector<std::string> WithMetadata(std::vector<std::string> own) {
  std::vector<std::string> all = kMetadata;
  all.insert(all.end(), own.begin(), own.end());
  return all;
}

// A small valid document; `extra` is spliced in as further top-level members.
std::string Person(const std::string& extra = "") {
  std::string doc =
      R"({"identifikasjonsnummer":[{"ajourholdstidspunkt":"2022-03-14T14:41:28.711+01:00",)"
      R"("erGjeldende":true,"kilde":"Synutopia","status":"iBruk",)"
      R"("foedselsEllerDNummer":"14838540024","identifikatortype":"foedselsnummer"}])";
  if (!extra.empty()) doc += "," + extra;
  doc += "}";
  return doc;
}

TEST(PersonSchemaTest, EmbeddedSchemaBuilds) {
  const PersonSchema& schema = PersonSchema::Get();
  EXPECT_EQ(&schema, &PersonSchema::Get());
  EXPECT_EQ(schema.Root().type, JsonType::kObject);
  ASSERT_NE(schema.Find("Vegadresse"), nullptr);
  ASSERT_NE(schema.Find("Folkeregisterperson"), nullptr);
  EXPECT_EQ(schema.Find("NoSuchType"), nullptr);
}

TEST(PersonSchemaTest, RootFollowsXsdOrderThenExtras) {
  const SchemaNode& root = PersonSchema::Get().Root();
  std::vector<std::string> names = FieldNames(root);
  ASSERT_EQ(names.size(), static_cast<size_t>(kPropertyCount) + 1);
  for (int p = 0; p < kPropertyCount; ++p) {
    EXPECT_EQ(names[p], PropertyName(static_cast<Property>(p))) << p;
  }
  EXPECT_EQ(names.back(), "oppholdPaaSvalbard");  // OpenAPI only
  EXPECT_FALSE(root.fields.back().in_xsd);
}

TEST(PersonSchemaTest, ElementOrderComesFromXsd) {
  const PersonSchema& schema = PersonSchema::Get();
  struct Case {
    std::string type;
    std::vector<std::string> fields;
  };
  const std::vector<Case> cases = {
      {"Vegadresse",
       {"kommunenummer", "bruksenhetsnummer", "bruksenhetstype", "adressenavn", "adressenummer",
        "adressekode", "adressetilleggsnavn", "poststed", "coAdressenavn"}},
      {"Adressenummer", {"husnummer", "husbokstav"}},
      {"Poststed", {"poststedsnavn", "postnummer"}},
      {"Folkeregisteridentifikator",
       WithMetadata({"status", "foedselsEllerDNummer", "identifikatortype"})},
      {"Folkeregisterpersonnavn",
       WithMetadata({"fornavn", "mellomnavn", "etternavn", "forkortetNavn", "originaltNavn"})},
      {"Bostedsadresse",
       WithMetadata({"ukjentBosted", "vegadresse", "matrikkeladresse",
                     "adresseIdentifikatorFraMatrikkelen", "naerAdresseIdentifikatorFraMatrikkelen",
                     "adressegradering", "flyttedato", "grunnkrets", "stemmekrets", "skolekrets",
                     "kirkekrets"})},
      {"Familierelasjon",
       WithMetadata({"relatertPerson", "relatertPersonUtenFolkeregisteridentifikator",
                     "relatertPersonsRolle", "minRolleForPerson"})},
      // xsd:choice of sequences.
      {"PersonSomKontakt", {"foedselsdato", "personnavn", "foedselsEllerDNummer"}},
      // OpenAPI-only properties come last, alphabetically.
      {"UtflyttingFraNorge",
       WithMetadata({"tilflyttingsland", "tilflyttingsstedIUtlandet", "utflyttingsdato"})},
      // norreg's XSD: the 1.6 fields and omfangetErInnenPersonligOmraade in place.
      {"VergeRepresentantEllerFullmektig",
       {"navn", "foedselsEllerDNummer", "navnFoedselsdato", "omfang",
        "omfangetErInnenPersonligOmraade", "tjenesteomraade"}},
      {"VergeTjenesteomraade", {"vergeTjenestevirksomhet", "vergeTjenesteoppgave"}},
      {"BegrensningIRettsligHandleevne", kMetadata},
      {"FratattRettsligHandleevne", kMetadata},
  };
  for (const Case& c : cases) {
    const SchemaNode* node = schema.Find(c.type);
    ASSERT_NE(node, nullptr) << c.type;
    EXPECT_EQ(FieldNames(*node), c.fields) << c.type;
  }
  const SchemaNode& utflytting = schema.RowSchema(Property::kUtflytting);
  EXPECT_FALSE(utflytting.fields.back().in_xsd);
  bool noted = false;
  for (const std::string& note : schema.Notes()) {
    if (note.find("UtflyttingFraNorge.utflyttingsdato") != std::string::npos) noted = true;
  }
  EXPECT_TRUE(noted);
}

TEST(PersonSchemaTest, TypesEnumsRequiredAndFormatsComeFromOpenApi) {
  const PersonSchema& schema = PersonSchema::Get();
  const SchemaNode& navn = schema.RowSchema(Property::kNavn);
  EXPECT_TRUE(navn.fields[navn.FindField("fornavn")].required);
  EXPECT_TRUE(navn.fields[navn.FindField("etternavn")].required);
  EXPECT_FALSE(navn.fields[navn.FindField("mellomnavn")].required);
  const SchemaNode& id = schema.RowSchema(Property::kIdentifikasjonsnummer);
  const SchemaNode& status = *id.fields[id.FindField("status")].node;
  EXPECT_EQ(status.enum_values, (std::vector<std::string>{"iBruk", "opphoert"}));
  EXPECT_EQ(id.fields[id.FindField("ajourholdstidspunkt")].node->format, StringFormat::kDateTime);
  const SchemaNode& bosted = schema.RowSchema(Property::kBostedsadresse);
  EXPECT_EQ(bosted.fields[bosted.FindField("grunnkrets")].node->type, JsonType::kInteger);
  EXPECT_EQ(bosted.fields[bosted.FindField("flyttedato")].node->format, StringFormat::kDate);
  EXPECT_EQ(bosted.fields[bosted.FindField("erGjeldende")].node->type, JsonType::kBoolean);
  const SchemaNode& spraak = schema.RowSchema(Property::kBrukAvSamiskSpraak);
  const SchemaNode& list = *spraak.fields[spraak.FindField("spraak")].node;
  ASSERT_EQ(list.type, JsonType::kArray);
  EXPECT_EQ(list.items->enum_values.size(), 3u);
}

TEST(PersonSchemaTest, AcceptsValidDocuments) {
  const PersonSchema& schema = PersonSchema::Get();
  const std::vector<std::string> valid = {
      Person(),
      Person(R"("navn":[{"fornavn":"AKTPÅGIVENDE","etternavn":"OLJE","erGjeldende":true}])"),
      Person(R"("doedsfall":{"doedsdato":"2020-02-29"})"),
      Person(R"("bostedsadresse":[{"adressegradering":"ugradert","grunnkrets":1,)"
             R"("vegadresse":{"kommunenummer":"0301","adressenavn":"Gate"}}])"),
      Person(R"("status":[{"status":"bosatt","gyldighetstidspunkt":"2020-01-01T00:00:00Z"}])"),
      Person(
          R"("status":[{"status":"bosatt","gyldighetstidspunkt":"2020-01-01T00:00:00.5-03:30"}])"),
      Person(R"("navn":[{"fornavn":"A","etternavn":"B","mellomnavn":null}])"),  // null = absent
      Person(
          R"("oppholdPaaSvalbard":[{"antattOppholdsvarighet":"ukjent","startdato":"2020-01-01"}])"),
      Person(R"("brukAvSamiskSpraak":[{"spraak":["nordsamisk","lulesamisk"]}])"),
  };
  for (const std::string& doc : valid) {
    Status s = schema.ValidatePerson(doc);
    EXPECT_TRUE(s.ok()) << doc << "\n" << s.error().message;
  }
}

TEST(PersonSchemaTest, RejectsInvalidDocumentsNamingThePath) {
  const PersonSchema& schema = PersonSchema::Get();
  struct Case {
    std::string doc;
    std::string message;  // expected substring
  };
  const std::vector<Case> cases = {
      {Person(R"("navn":[{"fornavnn":"A","etternavn":"B"}])"),
       "folkeregisterperson.navn[0].fornavnn: ukjent felt"},
      {Person(R"("foo":1)"), "folkeregisterperson.foo: ukjent felt"},
      {Person(R"("navn":[{"fornavn":"A"}])"),
       "folkeregisterperson.navn[0].etternavn: mangler påkrevd felt"},
      {Person(R"("navn":[{"fornavn":1,"etternavn":"B"}])"),
       "folkeregisterperson.navn[0].fornavn: forventet streng, fikk heltall"},
      {Person(R"("navn":{"fornavn":"A","etternavn":"B"})"),
       "folkeregisterperson.navn: forventet liste, fikk objekt"},
      {Person(R"("navn":["A"])"), "folkeregisterperson.navn[0]: forventet objekt, fikk streng"},
      {Person(R"("doedsfall":[])"), "folkeregisterperson.doedsfall: forventet objekt, fikk liste"},
      {Person(R"("kjoenn":[{"kjoenn":"annet"}])"),
       "folkeregisterperson.kjoenn[0].kjoenn: ugyldig verdi \"annet\" (tillatt: kvinne, mann)"},
      {Person(R"("doedsfall":{"doedsdato":"2021-02-29"})"),
       "folkeregisterperson.doedsfall.doedsdato: ugyldig dato"},
      {Person(R"("doedsfall":{"doedsdato":"2021-2-28"})"), "doedsfall.doedsdato: ugyldig dato"},
      {Person(R"("status":[{"status":"bosatt","ajourholdstidspunkt":"2022-03-14T14:41:28"}])"),
       "folkeregisterperson.status[0].ajourholdstidspunkt: ugyldig tidspunkt"},
      {Person(R"("status":[{"status":"bosatt","erGjeldende":"true"}])"),
       "folkeregisterperson.status[0].erGjeldende: forventet boolsk verdi, fikk streng"},
      {Person(R"("bostedsadresse":[{"adressegradering":"ugradert","grunnkrets":1.5}])"),
       "folkeregisterperson.bostedsadresse[0].grunnkrets: forventet heltall, fikk desimaltall"},
      {Person(R"("bostedsadresse":[{"adressegradering":"ugradert",)"
              R"("vegadresse":{"kommunenummer":"0301","adressenavn":"G","adressenummer":{}}}])"),
       "folkeregisterperson.bostedsadresse[0].vegadresse.adressenummer.husnummer: mangler påkrevd "
       "felt"},
      {Person(R"("brukAvSamiskSpraak":[{"spraak":["nordsamisk","klingon"]}])"),
       "folkeregisterperson.brukAvSamiskSpraak[0].spraak[1]: ugyldig verdi"},
      {Person(R"("navn":[{"fornavn":"A","etternavn":"B","fornavn":"C"}])"),
       "folkeregisterperson.navn[0].fornavn: feltet forekommer mer enn én gang"},
      {R"({"navn":[]})", "folkeregisterperson.identifikasjonsnummer: mangler påkrevd felt"},
      {R"({"identifikasjonsnummer":[]})", "identifikasjonsnummer: mangler påkrevd felt"},
      {"{\"identifikasjonsnummer\":[", "ugyldig JSON"},
      {"not json", "ugyldig JSON"},
      {"", "ugyldig JSON"},
      {"[" + Person() + "]", "dokumentet må være et JSON-objekt"},
      {"\"text\"", "dokumentet må være et JSON-objekt"},
      {std::string(5000, '[') + std::string(5000, ']'), "ugyldig JSON"},
      {Person("\"navn\":[{\"fornavn\":\"\xff\",\"etternavn\":\"B\"}]"), "ugyldig JSON"},
  };
  for (const Case& c : cases) {
    Status s = schema.ValidatePerson(c.doc);
    ASSERT_FALSE(s.ok()) << c.doc;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(s.error().message.find(c.message), std::string::npos)
        << "got: " << s.error().message << "\nwant: " << c.message;
  }
}

TEST(PersonSchemaTest, CanonicalRowOrdersKeysAndDropsErGjeldende) {
  const PersonSchema& schema = PersonSchema::Get();
  auto row = schema.CanonicalRow(Property::kBostedsadresse,
                                 R"({ "grunnkrets": 30103,  "adressegradering": "ugradert",
           "vegadresse": {"poststed": {"postnummer": "0150", "poststedsnavn": "OSLO"},
                          "adressenummer": {"husbokstav": "B", "husnummer": "12"},
                          "adressenavn": "Storgata", "kommunenummer": "0301", "adressekode": "12345"},
           "erGjeldende": true, "kilde": "Matrikkelen",
           "ajourholdstidspunkt": "2022-03-14T14:41:28.711+01:00", "flyttedato": "2019-05-01"})");
  ASSERT_TRUE(row.ok()) << row.error().message;
  EXPECT_EQ(*row, R"({"ajourholdstidspunkt":"2022-03-14T14:41:28.711+01:00","kilde":"Matrikkelen",)"
                  R"("vegadresse":{"kommunenummer":"0301","adressenavn":"Storgata",)"
                  R"("adressenummer":{"husnummer":"12","husbokstav":"B"},"adressekode":"12345",)"
                  R"("poststed":{"poststedsnavn":"OSLO","postnummer":"0150"}},)"
                  R"("adressegradering":"ugradert","flyttedato":"2019-05-01","grunnkrets":30103})");
}

TEST(PersonSchemaTest, CanonicalRowEscapesMinimally) {
  const PersonSchema& schema = PersonSchema::Get();
  struct Case {
    std::string in;   // fornavn as a JSON string literal (with quotes)
    std::string out;  // expected canonical literal
  };
  const std::vector<Case> cases = {
      {R"("ÆØÅ æøå")", R"("ÆØÅ æøå")"},
      {R"("\u00c6\u00d8")", R"("ÆØ")"},
      {R"("a\/b")", R"("a/b")"},
      {R"("q\"b\\s")", R"("q\"b\\s")"},
      {R"("\n\t\r\b\f")", R"("\n\t\r\b\f")"},
      {R"("\u0001\u001f")", R"("\u0001\u001f")"},
      {R"("\ud83d\ude00")", "\"\xF0\x9F\x98\x80\""},
  };
  for (const Case& c : cases) {
    auto row = schema.CanonicalRow(Property::kNavn, R"({"etternavn":"E","fornavn":)" + c.in + "}");
    ASSERT_TRUE(row.ok()) << c.in << ": " << row.error().message;
    EXPECT_EQ(*row, R"({"fornavn":)" + c.out + R"(,"etternavn":"E"})") << c.in;
  }
}

TEST(PersonSchemaTest, CanonicalRowRejectsInvalidRows) {
  const PersonSchema& schema = PersonSchema::Get();
  auto missing = schema.CanonicalRow(Property::kNavn, R"({"fornavn":"A"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "navn.etternavn: mangler påkrevd felt");
  auto array = schema.CanonicalRow(Property::kNavn, "[]");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.error().message, "navn: forventet objekt, fikk liste");
  auto bad = schema.CanonicalRow(Property::kDoedsfall, R"({"doedsdato":"1999-13-01"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("doedsfall.doedsdato: ugyldig dato"), std::string::npos);
}

TEST(PersonSchemaTest, CanonicalizePersonKeepsDocumentOrderAndGjeldende) {
  const PersonSchema& schema = PersonSchema::Get();
  auto doc = schema.CanonicalizePerson(Person(
      R"("navn":[{"erGjeldende":true,"fornavn":"A","etternavn":"B"},)"
      R"({"etternavn":"C","fornavn":"D","erGjeldende":false},{"fornavn":"E","etternavn":"F"}],)"
      R"("doedsfall":{"doedsdato":"2020-01-01","erGjeldende":false},)"
      R"("oppholdPaaSvalbard":[])"));
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  ASSERT_EQ(doc->rows.size(), 5u);
  EXPECT_EQ(doc->rows[0].property, Property::kIdentifikasjonsnummer);
  EXPECT_EQ(doc->rows[0].json,
            R"({"ajourholdstidspunkt":"2022-03-14T14:41:28.711+01:00","kilde":"Synutopia",)"
            R"("status":"iBruk","foedselsEllerDNummer":"14838540024",)"
            R"("identifikatortype":"foedselsnummer"})");
  EXPECT_EQ(doc->rows[1].json, R"({"fornavn":"A","etternavn":"B"})");
  EXPECT_TRUE(doc->rows[1].gjeldende);
  EXPECT_EQ(doc->rows[2].json, R"({"fornavn":"D","etternavn":"C"})");
  EXPECT_FALSE(doc->rows[2].gjeldende);
  EXPECT_TRUE(doc->rows[3].gjeldende);  // absent erGjeldende
  EXPECT_EQ(doc->rows[4].property, Property::kDoedsfall);
  EXPECT_EQ(doc->rows[4].json, R"({"doedsdato":"2020-01-01"})");
  EXPECT_FALSE(doc->rows[4].gjeldende);
  EXPECT_EQ(doc->ignored_properties, std::vector<std::string>{"oppholdPaaSvalbard"});
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(PersonSchemaTest, BuildsFromTheReferenceFilesAsEmbedded) {
  const std::string dir = std::string(NORREG_SHARED_DIR) + "/reference/freg/";
  const std::string yaml = ReadFile(dir + "freg-omh-1.5.yaml");
  const std::string json_1_6 = ReadFile(dir + "freg-offentlig-uten-hjemmel-1.6.json");
  // The XSD is norreg's extended copy (the reference one lacks the 1.6 fields).
  const std::string xsd = ReadFile(std::string(NORREG_SOURCE_DIR) +
                                   "/resources/PersondokumentMedHistorikk_v1BETA2.xsd");
  if (yaml.empty() || xsd.empty() || json_1_6.empty()) {
    GTEST_SKIP() << "reference files not found in " << dir;
  }
  auto built = PersonSchema::Build(yaml, xsd, json_1_6);
  ASSERT_TRUE(built.ok()) << built.error().message;
  const PersonSchema& embedded = PersonSchema::Get();
  for (int p = 0; p < kPropertyCount; ++p) {
    const auto property = static_cast<Property>(p);
    EXPECT_EQ(FieldNames((*built)->RowSchema(property)), FieldNames(embedded.RowSchema(property)))
        << PropertyName(property);
  }
  EXPECT_TRUE((*built)->ValidatePerson(Person()).ok());
}

TEST(PersonSchemaTest, BuildRejectsBrokenSchemas) {
  const std::string xsd = R"(<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>)";
  EXPECT_FALSE(PersonSchema::Build("components: {schemas: {}}", xsd).ok());
  EXPECT_FALSE(PersonSchema::Build("a: [", xsd).ok());
  EXPECT_FALSE(PersonSchema::Build("components: {schemas: {}}", "<not xml").ok());
}

}  // namespace
}  // namespace norreg::freg
