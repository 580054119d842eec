#include "freg/document_import.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace norreg::freg {
namespace {

// A document as the real test environment gives it with part=historikk: current rows first,
// then history newest first; keys in the API's order (erGjeldende after ajourholdstidspunkt).
constexpr std::string_view kDocument = R"({
  "identifikasjonsnummer": [
    {"ajourholdstidspunkt": "2021-06-01T10:00:00.123+02:00", "erGjeldende": true,
     "kilde": "Synutopia", "aarsak": "Patch", "gyldighetstidspunkt": "2021-06-01T10:00:00+02:00",
     "status": "iBruk", "foedselsEllerDNummer": "14838540024", "identifikatortype": "foedselsnummer"},
    {"ajourholdstidspunkt": "2021-06-01T10:00:00.123+02:00", "erGjeldende": false,
     "kilde": "Synutopia", "gyldighetstidspunkt": "1985-03-14T00:00:00+01:00",
     "opphoerstidspunkt": "2021-06-01T10:00:00+02:00",
     "status": "opphoert", "foedselsEllerDNummer": "14838540105", "identifikatortype": "foedselsnummer"}
  ],
  "identitetsgrunnlag": [
    {"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": true, "kilde": "Synutopia",
     "identitetsgrunnlagstatus": "kontrollert"}
  ],
  "status": [
    {"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": true, "kilde": "Synutopia",
     "aarsak": "Grunnbefolkning", "gyldighetstidspunkt": "1985-03-14T00:00:00+01:00", "status": "bosatt"}
  ],
  "sivilstand": [
    {"ajourholdstidspunkt": "2015-08-20T09:12:44.5+02:00", "erGjeldende": true, "kilde": "Synutopia",
     "gyldighetstidspunkt": "2015-08-15T00:00:00+02:00", "sivilstand": "gift",
     "sivilstandsdato": "2015-08-15", "relatertVedSivilstand": "17115240188"},
    {"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": false, "kilde": "Synutopia",
     "aarsak": "Grunnbefolkning", "sivilstand": "ugift"}
  ],
  "familierelasjon": [
    {"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": true, "kilde": "Synutopia",
     "relatertPerson": "02885640071", "relatertPersonsRolle": "mor", "minRolleForPerson": "barn"}
  ],
  "bostedsadresse": [
    {"ajourholdstidspunkt": "2020-02-03T08:30:00.000+01:00", "erGjeldende": true,
     "kilde": "Matrikkelen", "aarsak": "Flytting innenlands",
     "gyldighetstidspunkt": "2020-02-01T00:00:00+01:00",
     "vegadresse": {"kommunenummer": "0301", "adressenavn": "Storgata",
                    "adressenummer": {"husnummer": "12", "husbokstav": "B"},
                    "adressekode": "12345",
                    "poststed": {"poststedsnavn": "OSLO", "postnummer": "0181"}},
     "adresseIdentifikatorFraMatrikkelen": "123456789", "adressegradering": "ugradert",
     "flyttedato": "2020-02-01", "grunnkrets": 301, "stemmekrets": 10},
    {"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": false,
     "kilde": "Matrikkelen", "aarsak": "Grunnbefolkning",
     "gyldighetstidspunkt": "2010-05-01T00:00:00+02:00",
     "opphoerstidspunkt": "2020-02-01T00:00:00+01:00",
     "vegadresse": {"kommunenummer": "4601", "adressenavn": "Bryggen",
                    "adressenummer": {"husnummer": "3"},
                    "poststed": {"poststedsnavn": "BERGEN", "postnummer": "5003"}},
     "adressegradering": "ugradert", "flyttedato": "2010-05-01"}
  ],
  "kjoenn": [
    {"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": true, "kilde": "Synutopia",
     "kjoenn": "kvinne"}
  ],
  "statsborgerskap": [
    {"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": true, "kilde": "Synutopia",
     "statsborgerskap": "NOR", "ervervsdato": "1985-03-14"}
  ],
  "foedsel": [
    {"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": true, "kilde": "Synutopia",
     "foedselsdato": "1985-03-14", "foedselsaar": "1985", "foedekommuneINorge": "0301",
     "foedeland": "NOR"}
  ],
  "navn": [
    {"ajourholdstidspunkt": "2015-08-20T09:12:44.5+02:00", "erGjeldende": true, "kilde": "Synutopia",
     "aarsak": "Navneendring", "gyldighetstidspunkt": "2015-08-20T00:00:00+02:00",
     "fornavn": "AKTPÅGIVENDE", "etternavn": "OLJE"},
    {"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": false, "kilde": "Synutopia",
     "aarsak": "Grunnbefolkning", "fornavn": "AKTPÅGIVENDE", "mellomnavn": "STILLE",
     "etternavn": "ELV"}
  ]
})";

std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  size_t at = out.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

ImportedDocument Parse(std::string_view json) {
  auto doc = ParsePersonDocument(json);
  EXPECT_TRUE(doc.ok()) << doc.error().message;
  return doc.ok() ? std::move(doc).value() : ImportedDocument{};
}

using Rendered = std::vector<std::tuple<Property, bool, std::string>>;

// What a renderer shows at `seq`: per property (enum order) the current rows, then the history
// rows, each in storage order.
Rendered RenderAt(const PersonRecord& record, uint64_t seq) {
  Rendered out;
  for (int p = 0; p < kPropertyCount; ++p) {
    for (bool current : {true, false}) {
      for (const Row& row : record.rows) {
        if (static_cast<int>(row.property) == p && row.PresentAt(seq) &&
            row.CurrentAt(seq) == current) {
          out.emplace_back(row.property, current, row.json);
        }
      }
    }
  }
  return out;
}

// The same for a document whose rows are current-first within each property.
Rendered Expected(const ImportedDocument& doc) {
  Rendered out;
  for (int p = 0; p < kPropertyCount; ++p) {
    for (bool current : {true, false}) {
      for (const ImportedRow& row : doc.rows) {
        if (static_cast<int>(row.property) == p && row.gjeldende == current) {
          out.emplace_back(row.property, current, row.json);
        }
      }
    }
  }
  return out;
}

bool operator==(const Row& a, const Row& b) {
  return a.property == b.property && a.from_seq == b.from_seq &&
         a.current_until == b.current_until && a.removed_at == b.removed_at && a.json == b.json;
}

TEST(ParsePersonDocumentTest, ParsesARealisticDocument) {
  ImportedDocument doc = Parse(kDocument);
  EXPECT_EQ(doc.fnr, "14838540024");
  EXPECT_EQ(doc.other_ids, std::vector<std::string>{"14838540105"});
  ASSERT_EQ(doc.rows.size(), 14u);
  EXPECT_EQ(doc.rows[0].property, Property::kIdentifikasjonsnummer);
  EXPECT_TRUE(doc.rows[0].gjeldende);
  EXPECT_FALSE(doc.rows[1].gjeldende);
  EXPECT_TRUE(doc.ignored_properties.empty());
  // Rows in document order, canonical and without erGjeldende.
  const ImportedRow& bosted = doc.rows[7];
  EXPECT_EQ(bosted.property, Property::kBostedsadresse);
  EXPECT_TRUE(bosted.gjeldende);
  EXPECT_EQ(bosted.json,
            R"({"ajourholdstidspunkt":"2020-02-03T08:30:00.000+01:00","kilde":"Matrikkelen",)"
            R"("aarsak":"Flytting innenlands","gyldighetstidspunkt":"2020-02-01T00:00:00+01:00",)"
            R"("vegadresse":{"kommunenummer":"0301","adressenavn":"Storgata",)"
            R"("adressenummer":{"husnummer":"12","husbokstav":"B"},"adressekode":"12345",)"
            R"("poststed":{"poststedsnavn":"OSLO","postnummer":"0181"}},)"
            R"("adresseIdentifikatorFraMatrikkelen":"123456789","adressegradering":"ugradert",)"
            R"("flyttedato":"2020-02-01","grunnkrets":301,"stemmekrets":10})");
  EXPECT_EQ(doc.rows[13].json,
            R"({"ajourholdstidspunkt":"2019-01-01T12:00:00+01:00","kilde":"Synutopia",)"
            R"("aarsak":"Grunnbefolkning","fornavn":"AKTPÅGIVENDE","mellomnavn":"STILLE",)"
            R"("etternavn":"ELV"})");
  for (const ImportedRow& row : doc.rows) {
    EXPECT_EQ(row.json.find("erGjeldende"), std::string::npos);
    EXPECT_EQ(row.json.find("\": "), std::string::npos);  // compact
    EXPECT_EQ(row.json.find(", \""), std::string::npos);
  }
}

TEST(ParsePersonDocumentTest, PicksTheCurrentNumberInUse) {
  // The opphoert row first and the iBruk row not marked current: iBruk still wins.
  std::string json = R"({"identifikasjonsnummer":[
      {"erGjeldende":true,"status":"opphoert","foedselsEllerDNummer":"14838540105","identifikatortype":"foedselsnummer"},
      {"erGjeldende":false,"status":"iBruk","foedselsEllerDNummer":"14838540024","identifikatortype":"foedselsnummer"},
      {"status":"opphoert","foedselsEllerDNummer":"14838540105","identifikatortype":"foedselsnummer"}]})";
  ImportedDocument doc = Parse(json);
  EXPECT_EQ(doc.fnr, "14838540024");
  EXPECT_EQ(doc.other_ids, std::vector<std::string>{"14838540105"});
  // No iBruk at all: the current row.
  doc = Parse(R"({"identifikasjonsnummer":[
      {"erGjeldende":false,"status":"opphoert","foedselsEllerDNummer":"14838540105","identifikatortype":"foedselsnummer"},
      {"erGjeldende":true,"status":"opphoert","foedselsEllerDNummer":"14838540024","identifikatortype":"dNummer"}]})");
  EXPECT_EQ(doc.fnr, "14838540024");
}

TEST(ParsePersonDocumentTest, RejectsInvalidDocumentsNamingTheField) {
  struct Case {
    std::string json;
    std::string message;
  };
  const std::vector<Case> cases = {
      {Replace(kDocument, "\"fornavn\": \"AKTPÅGIVENDE\", \"etternavn\": \"OLJE\"",
               "\"fornavnn\": \"AKTPÅGIVENDE\", \"etternavn\": \"OLJE\""),
       "folkeregisterperson.navn[0].fornavnn: ukjent felt"},
      {Replace(kDocument, "\"fornavn\": \"AKTPÅGIVENDE\", \"etternavn\": \"OLJE\"",
               "\"fornavn\": \"AKTPÅGIVENDE\""),
       "folkeregisterperson.navn[0].etternavn: mangler påkrevd felt"},
      {Replace(kDocument, "\"grunnkrets\": 301", "\"grunnkrets\": \"301\""),
       "folkeregisterperson.bostedsadresse[0].grunnkrets: forventet heltall, fikk streng"},
      {Replace(kDocument, "\"kjoenn\": \"kvinne\"", "\"kjoenn\": \"K\""),
       "folkeregisterperson.kjoenn[0].kjoenn: ugyldig verdi \"K\""},
      {Replace(kDocument, "\"sivilstandsdato\": \"2015-08-15\"",
               "\"sivilstandsdato\": \"2015-08-32\""),
       "folkeregisterperson.sivilstand[0].sivilstandsdato: ugyldig dato"},
      {Replace(kDocument, "\"2020-02-03T08:30:00.000+01:00\"", "\"2020-02-03 08:30\""),
       "folkeregisterperson.bostedsadresse[0].ajourholdstidspunkt: ugyldig tidspunkt"},
      {Replace(kDocument, "\"14838540024\"", "\"14838540025\""),
       "folkeregisterperson.identifikasjonsnummer[0].foedselsEllerDNummer: ugyldig kontrollsiffer"},
      {Replace(kDocument, "\"14838540105\"", "\"1483854010\""),
       "folkeregisterperson.identifikasjonsnummer[1].foedselsEllerDNummer: "},
      {"this is not json", "ugyldig JSON"},
      {"[" + std::string(kDocument) + "]", "dokumentet må være et JSON-objekt"},
      {std::string(100000, '{'), "ugyldig JSON"},
      {R"({"navn":[]})", "folkeregisterperson.identifikasjonsnummer: mangler påkrevd felt"},
  };
  for (const Case& c : cases) {
    auto doc = ParsePersonDocument(c.json);
    ASSERT_FALSE(doc.ok()) << c.message;
    EXPECT_EQ(doc.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(doc.error().message.find(c.message), std::string::npos)
        << "got: " << doc.error().message << "\nwant: " << c.message;
  }
}

TEST(MergeImportTest, NewPersonGetsEveryRowAtSeq) {
  ImportedDocument doc = Parse(kDocument);
  auto merged = MergeImport(std::nullopt, doc, 7, 1'700'000'000'000);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->version.seq, 7u);
  EXPECT_EQ(merged->version.type, Hendelsetype::kPersonErOpprettet);
  EXPECT_EQ(merged->version.ajourholdstidspunkt, 1'700'000'000'000);
  EXPECT_EQ(merged->record.fnr, "14838540024");
  EXPECT_EQ(merged->record.other_ids, std::vector<std::string>{"14838540105"});
  ASSERT_EQ(merged->record.rows.size(), doc.rows.size());
  for (const Row& row : merged->record.rows) {
    EXPECT_EQ(row.from_seq, 7u);
    EXPECT_EQ(row.removed_at, kOpen);
    EXPECT_TRUE(row.current_until == kOpen || row.current_until == 7u);
  }
  EXPECT_EQ(RenderAt(merged->record, 7), Expected(doc));
  EXPECT_TRUE(RenderAt(merged->record, 6).empty());
  // Grouped by property in enum order.
  EXPECT_TRUE(std::is_sorted(merged->record.rows.begin(), merged->record.rows.end(),
                             [](const Row& a, const Row& b) { return a.property < b.property; }));
}

// Imports `json` on top of `record` (if any) at `seq` and checks the render invariants.
MergedPerson ImportAt(const std::optional<PersonRecord>& record, std::string_view json,
                      uint64_t seq) {
  ImportedDocument doc = Parse(json);
  auto merged = MergeImport(record, doc, seq, 1000 * static_cast<int64_t>(seq));
  EXPECT_TRUE(merged.ok()) << merged.error().message;
  if (!merged.ok()) return {};
  EXPECT_EQ(RenderAt(merged->record, seq), Expected(doc));
  if (record) {
    for (uint64_t earlier = 0; earlier < seq; ++earlier) {
      EXPECT_EQ(RenderAt(merged->record, earlier), RenderAt(*record, earlier)) << earlier;
    }
  }
  return std::move(merged).value();
}

TEST(MergeImportTest, IdenticalReimportChangesNothing) {
  MergedPerson first = ImportAt(std::nullopt, kDocument, 3);
  MergedPerson again = ImportAt(first.record, kDocument, 9);
  EXPECT_EQ(again.version.type, Hendelsetype::kPersonErOppdatert);
  EXPECT_EQ(again.version.seq, 9u);
  ASSERT_EQ(again.record.rows.size(), first.record.rows.size());
  for (size_t i = 0; i < first.record.rows.size(); ++i) {
    EXPECT_TRUE(again.record.rows[i] == first.record.rows[i]) << i;
  }
  EXPECT_EQ(again.record.fnr, first.record.fnr);
  EXPECT_EQ(again.record.other_ids, first.record.other_ids);
}

TEST(MergeImportTest, ChangedAddressMakesTheOldRowHistory) {
  MergedPerson first = ImportAt(std::nullopt, kDocument, 3);
  // Moves: the new address is current, the Storgata row becomes history (same JSON).
  const std::string storgata_start =
      R"({"ajourholdstidspunkt": "2020-02-03T08:30:00.000+01:00", "erGjeldende": true,)";
  std::string moved =
      Replace(kDocument, storgata_start,
              R"({"ajourholdstidspunkt": "2023-05-05T12:00:00+02:00", "erGjeldende": true,
          "kilde": "Matrikkelen", "aarsak": "Flytting innenlands",
          "vegadresse": {"kommunenummer": "5001", "adressenavn": "Kongens gate",
                         "adressenummer": {"husnummer": "1"}},
          "adressegradering": "ugradert", "flyttedato": "2023-05-01"},
         {"ajourholdstidspunkt": "2020-02-03T08:30:00.000+01:00", "erGjeldende": false,)");
  MergedPerson second = ImportAt(first.record, moved, 10);
  EXPECT_EQ(second.version.type, Hendelsetype::kEndringIBostedsadresse);
  std::vector<const Row*> bosted;
  for (const Row& row : second.record.rows) {
    if (row.property == Property::kBostedsadresse) bosted.push_back(&row);
  }
  ASSERT_EQ(bosted.size(), 3u);
  EXPECT_EQ(bosted[0]->from_seq, 10u);  // Kongens gate, new and current
  EXPECT_EQ(bosted[0]->current_until, kOpen);
  EXPECT_NE(bosted[0]->json.find("Kongens gate"), std::string::npos);
  EXPECT_EQ(bosted[1]->from_seq, 3u);  // Storgata, kept, history from 10
  EXPECT_EQ(bosted[1]->current_until, 10u);
  EXPECT_EQ(bosted[1]->removed_at, kOpen);
  EXPECT_EQ(bosted[2]->from_seq, 3u);  // Bryggen, kept as history
  EXPECT_EQ(bosted[2]->current_until, 3u);
  // Every other row is untouched.
  size_t untouched = 0;
  for (const Row& row : second.record.rows) {
    if (row.property != Property::kBostedsadresse && row.from_seq == 3u &&
        row.removed_at == kOpen) {
      ++untouched;
    }
  }
  EXPECT_EQ(untouched, first.record.rows.size() - 2);
}

TEST(MergeImportTest, MissingRowIsRemovedAtSeq) {
  MergedPerson first = ImportAt(std::nullopt, kDocument, 3);
  // The ELV name (history) is gone from the new document.
  std::string without = Replace(kDocument,
                                R"(,
    {"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": false, "kilde": "Synutopia",
     "aarsak": "Grunnbefolkning", "fornavn": "AKTPÅGIVENDE", "mellomnavn": "STILLE",
     "etternavn": "ELV"})",
                                "");
  MergedPerson second = ImportAt(first.record, without, 4);
  EXPECT_EQ(second.version.type, Hendelsetype::kEndringINavn);
  ASSERT_EQ(second.record.rows.size(), first.record.rows.size());
  size_t removed = 0;
  for (const Row& row : second.record.rows) {
    if (row.removed_at == 4u) {
      ++removed;
      EXPECT_EQ(row.property, Property::kNavn);
      EXPECT_NE(row.json.find("ELV"), std::string::npos);
    }
  }
  EXPECT_EQ(removed, 1u);
  // A later re-import of the first document brings it back as a new row; the removed one stays.
  MergedPerson third = ImportAt(second.record, kDocument, 5);
  EXPECT_EQ(third.record.rows.size(), first.record.rows.size() + 1);
}

TEST(MergeImportTest, StatusChangesPickTheirEvent) {
  MergedPerson first = ImportAt(std::nullopt, kDocument, 1);
  const std::string bosatt_row =
      R"({"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": true, "kilde": "Synutopia",
     "aarsak": "Grunnbefolkning", "gyldighetstidspunkt": "1985-03-14T00:00:00+01:00", "status": "bosatt"})";
  auto with_status = [&](std::string_view status) {
    return Replace(kDocument, bosatt_row,
                   R"({"erGjeldende": true, "status": ")" + std::string(status) + R"("},)" +
                       Replace(bosatt_row, "\"erGjeldende\": true", "\"erGjeldende\": false"));
  };
  struct Case {
    std::string status;
    Hendelsetype type;
  };
  const std::vector<Case> cases = {
      {"doed", Hendelsetype::kPersonErDoed},
      {"utflyttet", Hendelsetype::kPersonErUtflyttet},
      {"forsvunnet", Hendelsetype::kEndringIStatus},
  };
  for (const Case& c : cases) {
    MergedPerson next = ImportAt(first.record, with_status(c.status), 2);
    EXPECT_EQ(next.version.type, c.type) << c.status;
  }
  MergedPerson utflyttet = ImportAt(first.record, with_status("utflyttet"), 2);
  // Back to bosatt: the old bosatt row is history now, so a new current row is added.
  MergedPerson back = ImportAt(utflyttet.record, kDocument, 3);
  EXPECT_EQ(back.version.type, Hendelsetype::kPersonErBosatt);
}

TEST(MergeImportTest, NewNumberMovesTheOldOneToOtherIds) {
  MergedPerson first = ImportAt(std::nullopt, kDocument, 1);
  std::string renumbered =
      Replace(kDocument, R"("status": "iBruk", "foedselsEllerDNummer": "14838540024")",
              R"("status": "iBruk", "foedselsEllerDNummer": "14838540105")");
  renumbered = Replace(renumbered, R"("status": "opphoert", "foedselsEllerDNummer": "14838540105")",
                       R"("status": "opphoert", "foedselsEllerDNummer": "14838540024")");
  MergedPerson second = ImportAt(first.record, renumbered, 2);
  EXPECT_EQ(second.record.fnr, "14838540105");
  EXPECT_EQ(second.record.other_ids, std::vector<std::string>{"14838540024"});
  EXPECT_EQ(second.version.type, Hendelsetype::kEndringIIdentifikasjonsnummer);
}

TEST(MergeImportTest, ReorderedHistoryRendersAsTheDocumentSays) {
  MergedPerson first = ImportAt(std::nullopt, kDocument, 1);
  // Two history sivilstand rows whose order the second document swaps.
  const std::string a = R"({"erGjeldende": false, "sivilstand": "ugift"})";
  const std::string b = R"({"erGjeldende": false, "sivilstand": "skilt"})";
  const std::string base_row =
      R"({"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": false, "kilde": "Synutopia",
     "aarsak": "Grunnbefolkning", "sivilstand": "ugift"})";
  MergedPerson second = ImportAt(first.record, Replace(kDocument, base_row, a + "," + b), 2);
  MergedPerson third = ImportAt(second.record, Replace(kDocument, base_row, b + "," + a), 3);
  EXPECT_EQ(third.version.type, Hendelsetype::kEndringISivilstand);
}

// Rows of one property that repeat the same JSON, current and history, in random orders over
// many versions: every version renders as its document, and no earlier version changes.
TEST(MergeImportTest, RepeatedRowsInRandomOrdersKeepEveryVersion) {
  const std::string base_row =
      R"({"ajourholdstidspunkt": "2019-01-01T12:00:00+01:00", "erGjeldende": false, "kilde": "Synutopia",
     "aarsak": "Grunnbefolkning", "sivilstand": "ugift"})";
  const char* kStates[] = {"ugift", "gift", "skilt"};
  std::mt19937 random(11);
  std::optional<PersonRecord> record;
  for (uint64_t seq = 1; seq <= 120; ++seq) {
    std::string rows;
    const int n = 1 + static_cast<int>(random() % 6);
    for (int i = 0; i < n; ++i) {
      if (!rows.empty()) rows += ",";
      rows += std::string(R"({"erGjeldende": )") + (random() % 3 == 0 ? "true" : "false") +
              R"(, "sivilstand": ")" + kStates[random() % 3] + "\"}";
    }
    MergedPerson merged = ImportAt(record, Replace(kDocument, base_row, rows), seq);
    if (::testing::Test::HasFailure()) return;
    record = std::move(merged.record);
  }
}

// A version that would make the record hold more than kMaxRecordRows rows, or more than
// kMaxRecordBytes of JSON, is refused naming the person; one at the cap is accepted.
TEST(MergeImportTest, RecordsAreCappedInRowsAndBytes) {
  MergedPerson first = ImportAt(std::nullopt, kDocument, 1);
  const size_t document_rows = first.record.rows.size() + first.record.other_ids.size();
  auto with_history = [&](size_t rows, size_t json_bytes) {
    PersonRecord record = first.record;
    for (size_t i = 0; i < rows; ++i) {
      Row row;
      row.property = Property::kSivilstand;
      row.from_seq = 1;
      row.removed_at = 1;  // kept as history of version 1 only
      row.json = R"({"sivilstand":"gift","n":")" + std::to_string(i) +
                 std::string(json_bytes, 'x') + "\"}";
      record.rows.push_back(std::move(row));
    }
    return record;
  };
  ImportedDocument doc = Parse(kDocument);
  const size_t room = kMaxRecordRows - document_rows;
  EXPECT_TRUE(MergeImport(with_history(room, 0), doc, 2, 0).ok());
  auto over = MergeImport(with_history(room + 1, 0), doc, 2, 0);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(over.error().message.find("personen 14838540024 ville fått for mange opplysninger"),
            std::string::npos)
      << over.error().message;
  auto large = MergeImport(with_history(3, kMaxRecordBytes / 3), doc, 2, 0);
  ASSERT_FALSE(large.ok());
  EXPECT_EQ(large.error().code, ErrorCode::kInvalidInput);
}

TEST(MergeImportTest, RejectsStaleSequenceAndMissingNumber) {
  MergedPerson first = ImportAt(std::nullopt, kDocument, 5);
  ImportedDocument doc = Parse(kDocument);
  auto stale = MergeImport(first.record, doc, 5, 0);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(MergeImport(std::nullopt, doc, 0, 0).ok());
  doc.fnr.clear();
  auto no_number = MergeImport(std::nullopt, doc, 6, 0);
  ASSERT_FALSE(no_number.ok());
  EXPECT_EQ(no_number.error().code, ErrorCode::kInvalidInput);
}

}  // namespace
}  // namespace norreg::freg
