// The person fields added to the register after OpenAPI 1.5 (verge.tjenesteomraade,
// verge.navnFoedselsdato, begrensningIRettsligHandleevne, fratattRettsligHandleevne), end to end
// through the freg layer: schema, import, JSON and XML rendering, parts and event documents.
// The document is tests/fixtures/vergemaal-2023.json, shaped like a 2023 export of the real test
// environment; tests/fixtures/vergemaal-2023.xml is its XML form.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "freg/document_import.hpp"
#include "freg/event_document.hpp"
#include "freg/parts.hpp"
#include "freg/record_codec.hpp"
#include "freg/render.hpp"
#include "freg/schema.hpp"

namespace norreg::freg {
namespace {

namespace json = boost::json;

constexpr uint64_t kSeq = 7;
constexpr timefmt::EpochMs kNow = 1675771939381;  // 2023-02-07T13:12:19.381+01:00

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(NORREG_SOURCE_DIR) + "/tests/fixtures/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

PersonRecord Imported(const std::string& document) {
  auto parsed = ParsePersonDocument(document);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  if (!parsed.ok()) return {};
  auto merged = MergeImport(std::nullopt, *parsed, kSeq, kNow);
  EXPECT_TRUE(merged.ok()) << merged.error().message;
  return merged.ok() ? merged->record : PersonRecord{};
}

// Every property the fixture has, with history: what a full export asks for.
PartSelection FixtureParts() {
  std::vector<std::string_view> parts = {"person-basis", "relasjon-utvidet",
                                         "begrensningIRettsligHandleevne",
                                         "fratattRettsligHandleevne", "historikk"};
  auto sel = ParseParts(parts);
  EXPECT_TRUE(sel.ok());
  return *sel;
}

TEST(Fields16Test, FixtureValidatesAndEveryNewFieldIsKnown) {
  const std::string doc = Fixture("vergemaal-2023.json");
  ASSERT_FALSE(doc.empty());
  ASSERT_TRUE(PersonSchema::Get().ValidatePerson(doc).ok())
      << PersonSchema::Get().ValidatePerson(doc).error().message;
  const SchemaNode* verge = PersonSchema::Get().Find("VergeRepresentantEllerFullmektig");
  ASSERT_NE(verge, nullptr);
  EXPECT_GE(verge->FindField("tjenesteomraade"), 0);
  EXPECT_GE(verge->FindField("navnFoedselsdato"), 0);
  const SchemaNode& omraade = *verge->fields[verge->FindField("tjenesteomraade")].node->items;
  EXPECT_EQ(omraade.name, "VergeTjenesteomraade");
  EXPECT_EQ(omraade.required_mask, 0b11u);
}

TEST(Fields16Test, NewFieldsAreCheckedLikeTheOldOnes) {
  const PersonSchema& schema = PersonSchema::Get();
  auto verge = [&](const std::string& body) {
    return schema.CanonicalRow(Property::kVergemaalEllerFremtidsfullmakt,
                               R"({"vergemaaltype":"voksen","verge":)" + body + "}");
  };
  EXPECT_TRUE(verge(R"({"tjenesteomraade":[{"vergeTjenesteoppgave":"pensjon",)"
                    R"("vergeTjenestevirksomhet":"nav"}]})")
                  .ok());
  auto missing = verge(R"({"tjenesteomraade":[{"vergeTjenestevirksomhet":"nav"}]})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "vergemaalEllerFremtidsfullmakt.verge.tjenesteomraade[0].vergeTjenesteoppgave: "
            "mangler påkrevd felt");
  auto unknown = verge(R"({"tjenesteomraade":[{"vergeTjenestevirksomhet":"nav",)"
                       R"("vergeTjenesteoppgave":"arbeid","x":1}]})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("tjenesteomraade[0].x: ukjent felt"), std::string::npos);
  auto no_name = verge(R"({"navnFoedselsdato":{"statsborgerskap":["SWE"]}})");
  ASSERT_FALSE(no_name.ok());
  EXPECT_NE(no_name.error().message.find("navnFoedselsdato.personnavn: mangler påkrevd felt"),
            std::string::npos);
  // Canonical order: XSD order within the guardian and within each service area.
  auto canonical =
      verge(R"({"tjenesteomraade":[{"vergeTjenesteoppgave":"skatt",)"
            R"("vergeTjenestevirksomhet":"skatteetaten"}],"omfang":"oekonomiskeInteresser",)"
            R"("foedselsEllerDNummer":"03897940190"})");
  ASSERT_TRUE(canonical.ok()) << canonical.error().message;
  EXPECT_EQ(*canonical,
            R"({"vergemaaltype":"voksen","verge":{"foedselsEllerDNummer":"03897940190",)"
            R"("omfang":"oekonomiskeInteresser","tjenesteomraade":[{"vergeTjenestevirksomhet":)"
            R"("skatteetaten","vergeTjenesteoppgave":"skatt"}]}})");
  EXPECT_TRUE(
      schema
          .CanonicalRow(Property::kFratattRettsligHandleevne, R"({"kilde":"x","erGjeldende":true})")
          .ok());
  EXPECT_FALSE(
      schema.CanonicalRow(Property::kBegrensningIRettsligHandleevne, R"({"omfang":"x"})").ok());
  bool noted = false;
  for (const std::string& note : schema.Notes()) {
    noted = noted || note == "VergeRepresentantEllerFullmektig.tjenesteomraade: fra nyere OpenAPI";
  }
  EXPECT_TRUE(noted);
}

TEST(Fields16Test, ImportedFixtureRendersBackIdenticalAsJson) {
  const std::string doc = Fixture("vergemaal-2023.json");
  const PersonRecord record = Imported(doc);
  ASSERT_FALSE(record.rows.empty());
  std::string out;
  RenderPersonJson(record, kSeq, FixtureParts(), out);
  EXPECT_EQ(json::parse(out), json::parse(doc)) << out;
  // Byte for byte too: the fixture's keys are in XSD order, as the register writes them.
  EXPECT_EQ(json::serialize(json::parse(doc)), out);
  // And the same through the stored (encoded) form.
  std::string encoded;
  EncodeRecord(record, encoded);
  EXPECT_EQ(static_cast<uint8_t>(encoded[0]), kRecordFormatVersion);
  RecordView view;
  ASSERT_TRUE(view.Parse(encoded).ok());
  std::string from_view;
  RenderPersonJson(view, kSeq, FixtureParts(), from_view);
  EXPECT_EQ(from_view, out);
}

TEST(Fields16Test, ImportedFixtureRendersAsTheExpectedValidXml) {
  const PersonRecord record = Imported(Fixture("vergemaal-2023.json"));
  std::string out;
  RenderPersonXml(record, kSeq, FixtureParts(), out);
  // NORREG_UPDATE_FIXTURES=1 rewrites the expected file (then review it and run xmllint).
  if (std::getenv("NORREG_UPDATE_FIXTURES") != nullptr) {
    std::ofstream(std::string(NORREG_SOURCE_DIR) + "/tests/fixtures/vergemaal-2023.xml",
                  std::ios::binary)
        << out << "\n";
  }
  const std::string expected = Fixture("vergemaal-2023.xml");
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(out + "\n", expected);
  EXPECT_NE(out.find("<tjenesteomraade><vergeTjenestevirksomhet>bank</vergeTjenestevirksomhet>"
                     "<vergeTjenesteoppgave>representasjonDagligbank</vergeTjenesteoppgave>"
                     "</tjenesteomraade>"),
            std::string::npos);
  EXPECT_NE(out.find("<navnFoedselsdato><personnavn><fornavn>ÅSA</fornavn>"), std::string::npos);
}

// xmllint (libxml2-utils) checks the expected XML against norreg's extended XSD when installed.
TEST(Fields16Test, ExpectedXmlIsValidAgainstTheExtendedXsd) {
  if (std::system("command -v xmllint >/dev/null 2>&1") != 0) GTEST_SKIP() << "no xmllint";
  const std::string src = NORREG_SOURCE_DIR;
  const std::string cmd = "xmllint --noout --schema " + src +
                          "/resources/PersondokumentMedHistorikk_v1BETA2.xsd " + src +
                          "/tests/fixtures/vergemaal-2023.xml >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

TEST(Fields16Test, PartsSelectTheNewPropertiesOnlyWhenNamed) {
  const PersonRecord record = Imported(Fixture("vergemaal-2023.json"));
  auto render = [&](std::vector<std::string_view> parts) {
    auto sel = ParseParts(parts);
    EXPECT_TRUE(sel.ok());
    std::string out;
    RenderPersonJson(record, kSeq, *sel, out);
    return json::parse(out).as_object();
  };
  const json::object basis = render({});
  EXPECT_FALSE(basis.contains("begrensningIRettsligHandleevne"));
  EXPECT_FALSE(basis.contains("fratattRettsligHandleevne"));
  EXPECT_FALSE(basis.contains("vergemaalEllerFremtidsfullmakt"));
  const json::object relasjon = render({"relasjon-utvidet"});
  ASSERT_TRUE(relasjon.contains("vergemaalEllerFremtidsfullmakt"));
  EXPECT_FALSE(relasjon.contains("begrensningIRettsligHandleevne"));
  const auto& verge = relasjon.at("vergemaalEllerFremtidsfullmakt").as_array();
  ASSERT_EQ(verge.size(), 1u);  // no history without part=historikk
  EXPECT_EQ(verge[0].at("verge").at("tjenesteomraade").as_array().size(), 11u);
  const json::object begrensning = render({"begrensningIRettsligHandleevne"});
  EXPECT_EQ(begrensning.at("begrensningIRettsligHandleevne").as_array().size(), 1u);
  EXPECT_FALSE(begrensning.contains("fratattRettsligHandleevne"));
  EXPECT_TRUE(begrensning.contains("identifikasjonsnummer"));
  // fratattRettsligHandleevne has only a history row: nothing without historikk.
  EXPECT_FALSE(render({"fratattRettsligHandleevne"}).contains("fratattRettsligHandleevne"));
  EXPECT_EQ(render({"fratattRettsligHandleevne", "historikk"})
                .at("fratattRettsligHandleevne")
                .as_array()[0]
                .at("erGjeldende"),
            json::value(false));
}

TEST(Fields16Test, EventDocumentsCarryTheNewRows) {
  const PersonRecord created = Imported(Fixture("vergemaal-2023.json"));
  EventHeader header{"0123456789abcdef0123456789abcdef", "12854848281",
                     Hendelsetype::kPersonErOpprettet, kNow};
  std::string out;
  RenderEventDocumentJson(created, kSeq, header, out);
  EXPECT_NE(out.find(R"("entitet":"begrensningIRettsligHandleevne")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("entitet":"fratattRettsligHandleevne")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("tjenesteomraade":[)"), std::string::npos) << out;

  // A later document removes the legal-capacity restriction: its own event type, and the event
  // document annuls the row.
  json::object doc = json::parse(Fixture("vergemaal-2023.json")).as_object();
  doc.erase("begrensningIRettsligHandleevne");
  auto parsed = ParsePersonDocument(json::serialize(doc));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  auto merged = MergeImport(created, *parsed, kSeq + 1, kNow + 1000);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged->version.type, Hendelsetype::kEndringIRettsligHandleevne);
  std::vector<Egenskapshendelse> changes;
  CollectEgenskapshendelser(merged->record, kSeq + 1, changes);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].property, Property::kBegrensningIRettsligHandleevne);
  EXPECT_EQ(changes[0].endring, Entitetsendring::kAnnullere);

  // A new fratatt row: endringIFratattRettsligHandleevne.
  json::object again = json::parse(Fixture("vergemaal-2023.json")).as_object();
  again["fratattRettsligHandleevne"].as_array().emplace(
      again["fratattRettsligHandleevne"].as_array().begin(),
      json::object{{"ajourholdstidspunkt", "2024-01-10T10:00:00.000+01:00"},
                   {"erGjeldende", true},
                   {"kilde", "Statsforvalteren i Oslo og Viken"}});
  auto parsed_again = ParsePersonDocument(json::serialize(again));
  ASSERT_TRUE(parsed_again.ok());
  auto merged_again = MergeImport(created, *parsed_again, kSeq + 1, kNow + 1000);
  ASSERT_TRUE(merged_again.ok());
  EXPECT_EQ(merged_again->version.type, Hendelsetype::kEndringIFratattRettsligHandleevne);
}

}  // namespace
}  // namespace norreg::freg
