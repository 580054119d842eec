#include "freg/event_document.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <vector>

#include "freg/event_xsd.hpp"
#include "freg/record_codec.hpp"
#include "resources/embedded.hpp"

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

const std::string kId =
    R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","kilde":"Synutopia","status":"iBruk","foedselsEllerDNummer":"01818012345","identifikatortype":"foedselsnummer"})";
const std::string kStatusBosatt = R"({"kilde":"Synutopia","status":"bosatt"})";
const std::string kStatusDoed = R"({"kilde":"Synutopia","aarsak":"Dødsfall","status":"doed"})";
const std::string kSivilGift = R"({"kilde":"Synutopia","sivilstand":"gift"})";
const std::string kNavnA = R"({"kilde":"Synutopia","fornavn":"AKTPÅGIVENDE","etternavn":"OLJE"})";
const std::string kNavnB = R"({"kilde":"skatteetaten","fornavn":"ROLIG","etternavn":"ELV"})";
const std::string kNavnB2 = R"({"kilde":"skatteetaten","fornavn":"ROLIG","etternavn":"ELVE"})";
const std::string kBosted1 =
    R"({"kilde":"Matrikkelen","vegadresse":{"kommunenummer":"0301","adressenavn":"Storgata"}})";
const std::string kBosted2 =
    R"({"kilde":"Matrikkelen","vegadresse":{"kommunenummer":"0301","adressenavn":"Lilletorget"}})";
const std::string kBeskyttelse = R"({"kilde":"skatteetaten","graderingsnivaa":"strengtFortrolig"})";
const std::string kPost =
    R"({"kilde":"Synutopia","postboksadresse":{"postboks":"Postboks 7","postbokseier":"X & Y"}})";

// Versions: 1 created; 2 marriage annulled; 3 renamed; 4 the new name corrected; 5 address
// protection strengtFortrolig and a move (hidden); 6 death and a postadresse (hidden).
PersonRecord History() {
  PersonRecord r;
  r.fnr = "01818012345";
  r.rows = {
      MakeRow(Property::kIdentifikasjonsnummer, 1, kOpen, kOpen, kId),
      MakeRow(Property::kStatus, 6, kOpen, kOpen, kStatusDoed),
      MakeRow(Property::kStatus, 1, 6, kOpen, kStatusBosatt),
      MakeRow(Property::kSivilstand, 1, kOpen, 2, kSivilGift),
      MakeRow(Property::kBostedsadresse, 5, kOpen, kOpen, kBosted2),
      MakeRow(Property::kBostedsadresse, 1, 5, kOpen, kBosted1),
      MakeRow(Property::kPostadresse, 6, kOpen, kOpen, kPost),
      MakeRow(Property::kAdressebeskyttelse, 5, kOpen, kOpen, kBeskyttelse),
      MakeRow(Property::kNavn, 4, kOpen, kOpen, kNavnB2),
      MakeRow(Property::kNavn, 3, kOpen, 4, kNavnB),
      MakeRow(Property::kNavn, 1, 3, kOpen, kNavnA),
  };
  SortRows(r.rows);
  return r;
}

constexpr timefmt::EpochMs kAjour = 1497943563689;  // 2017-06-20T09:26:03.689+02:00

EventHeader Header(Hendelsetype type) {
  return EventHeader{"0123456789abcdef0123456789abcdef", "01818012345", type, kAjour};
}

std::string Json(const PersonRecord& record, uint64_t seq, Hendelsetype type) {
  std::string out;
  RenderEventDocumentJson(record, seq, Header(type), out);
  return out;
}

std::string Prefix(std::string_view type) {
  return R"({"dokumentidentifikator":"0123456789abcdef0123456789abcdef","skjemaversjon":"1.0",)"
         R"("hendelse":{"folkeregisteridentifikator":"01818012345","hendelsestype":")" +
         std::string(type) +
         R"(","ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","egenskapshendelse":[)";
}

struct Case {
  uint64_t seq;
  Hendelsetype type;
  std::string entries;  // the egenskapshendelse array's contents
};

TEST(EventDocumentTest, EntriesOfEachVersion) {
  const PersonRecord record = History();
  const std::vector<Case> cases = {
      {1, Hendelsetype::kPersonErOpprettet,
       R"({"entitet":"identifikasjonsnummer","entitetsendring":"registrereNy","identifikasjonsnummer":)" +
           kId + R"(},{"entitet":"status","entitetsendring":"registrereNy","status":)" +
           kStatusBosatt +
           R"(},{"entitet":"sivilstand","entitetsendring":"registrereNy","sivilstand":)" +
           kSivilGift +
           R"(},{"entitet":"bostedsadresse","entitetsendring":"registrereNy","bostedsadresse":)" +
           kBosted1 + R"(},{"entitet":"navn","entitetsendring":"registrereNy","navn":)" + kNavnA +
           "}"},
      // Removed without a replacement: annullere, naming the entity only.
      {2, Hendelsetype::kEndringISivilstand,
       R"({"entitet":"sivilstand","entitetsendring":"annullere"})"},
      // A new row; the old one merely became history (no entry of its own).
      {3, Hendelsetype::kEndringINavn,
       R"({"entitet":"navn","entitetsendring":"registrereNy","navn":)" + kNavnB + "}"},
      // Replaced at the same version: korrigere with the new row.
      {4, Hendelsetype::kEndringINavn,
       R"({"entitet":"navn","entitetsendring":"korrigere","navn":)" + kNavnB2 + "}"},
      // strengtFortrolig from this version on: the move is left out.
      {5, Hendelsetype::kEndringIAdressebeskyttelse,
       R"({"entitet":"adressebeskyttelse","entitetsendring":"registrereNy","adressebeskyttelse":)" +
           kBeskyttelse + "}"},
      {6, Hendelsetype::kPersonErDoed,
       R"({"entitet":"status","entitetsendring":"registrereNy","status":)" + kStatusDoed + "}"},
      // A version that changed nothing of this person (or one after it): no entries.
      {7, Hendelsetype::kEndringINavn, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.seq);
    const std::string json = Json(record, c.seq, c.type);
    EXPECT_EQ(json, Prefix(HendelsetypeName(c.type)) + c.entries + "]}}");
    EXPECT_NO_THROW(boost::json::parse(json));
  }
}

TEST(EventDocumentTest, RecordViewRendersLikeRecord) {
  const PersonRecord record = History();
  std::string encoded;
  EncodeRecord(record, encoded);
  RecordView view;
  ASSERT_TRUE(view.Parse(encoded).ok());
  for (uint64_t seq = 0; seq <= 7; ++seq) {
    SCOPED_TRACE(seq);
    std::string a, b;
    RenderEventDocumentJson(record, seq, Header(Hendelsetype::kEndringINavn), a);
    RenderEventDocumentJson(view, seq, Header(Hendelsetype::kEndringINavn), b);
    EXPECT_EQ(a, b);
    a.clear();
    b.clear();
    RenderEventDocumentXml(record, seq, Header(Hendelsetype::kEndringINavn), a);
    RenderEventDocumentXml(view, seq, Header(Hendelsetype::kEndringINavn), b);
    EXPECT_EQ(a, b);
  }
}

TEST(EventDocumentTest, WithoutStrengtFortroligAddressesAreShownUnderTheirEntity) {
  PersonRecord record;
  record.fnr = "01818012345";
  record.rows = {
      MakeRow(Property::kBostedsadresse, 2, kOpen, kOpen, kBosted2),
      MakeRow(Property::kBostedsadresse, 1, 2, kOpen, kBosted1),
      MakeRow(Property::kPostadresse, 2, kOpen, kOpen, kPost),
      MakeRow(Property::kPreferertKontaktadresse, 2, kOpen, kOpen, R"({"kilde":"x"})"),
  };
  SortRows(record.rows);
  std::vector<Egenskapshendelse> entries;
  CollectEgenskapshendelser(record, 2, entries);
  ASSERT_EQ(entries.size(), 2u);  // preferertKontaktadresse has no place in Registerdata
  EXPECT_EQ(entries[0].property, Property::kBostedsadresse);
  EXPECT_EQ(entries[0].json, kBosted2);
  EXPECT_EQ(entries[1].property, Property::kPostadresse);
  // The schema's entitet enum names postadresse after its type; the row keeps its property name.
  const std::string json = Json(record, 2, Hendelsetype::kEndringIPostadresse);
  EXPECT_NE(
      json.find(R"({"entitet":"kontaktadresse","entitetsendring":"registrereNy","postadresse":)" +
                kPost + "}"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("hendelsestype":"endringIKontaktinformasjon")"), std::string::npos);
}

TEST(EventDocumentTest, SeveralReplacementsPairInOrder) {
  // Two rows removed and three added at version 2: two korrigere, then one registrereNy. One
  // removed and none added at version 3: annullere. A row added and removed at once is no change.
  PersonRecord record;
  record.fnr = "01818012345";
  const std::string a = R"({"statsborgerskap":"NOR"})", b = R"({"statsborgerskap":"SWE"})",
                    c = R"({"statsborgerskap":"DNK"})", d = R"({"statsborgerskap":"FIN"})",
                    e = R"({"statsborgerskap":"ISL"})", f = R"({"statsborgerskap":"EST"})";
  record.rows = {
      MakeRow(Property::kStatsborgerskap, 2, kOpen, kOpen, c),
      MakeRow(Property::kStatsborgerskap, 2, kOpen, 3, d),
      MakeRow(Property::kStatsborgerskap, 2, kOpen, kOpen, e),
      MakeRow(Property::kStatsborgerskap, 2, kOpen, 2, f),
      MakeRow(Property::kStatsborgerskap, 1, kOpen, 2, a),
      MakeRow(Property::kStatsborgerskap, 1, kOpen, 2, b),
  };
  std::vector<Egenskapshendelse> entries;
  CollectEgenskapshendelser(record, 2, entries);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].endring, Entitetsendring::kKorrigere);
  EXPECT_EQ(entries[0].json, c);
  EXPECT_EQ(entries[1].endring, Entitetsendring::kKorrigere);
  EXPECT_EQ(entries[1].json, d);
  EXPECT_EQ(entries[2].endring, Entitetsendring::kRegistrereNy);
  EXPECT_EQ(entries[2].json, e);
  CollectEgenskapshendelser(record, 3, entries);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].endring, Entitetsendring::kAnnullere);
  EXPECT_TRUE(entries[0].json.empty());
}

TEST(EventDocumentTest, XmlDocument) {
  const PersonRecord record = History();
  std::string xml;
  RenderEventDocumentXml(record, 4, Header(Hendelsetype::kEndringINavn), xml);
  EXPECT_EQ(xml,
            R"(<dokumentForHendelse xmlns="folkeregisteret:tilgjengeliggjoering:hendelse:v1">)"
            "<dokumentidentifikator>0123456789abcdef0123456789abcdef</dokumentidentifikator>"
            "<skjemaversjon>1.0</skjemaversjon><hendelse>"
            "<folkeregisteridentifikator>01818012345</folkeregisteridentifikator>"
            "<hendelsestype>endringINavn</hendelsestype>"
            "<ajourholdstidspunkt>2017-06-20T09:26:03.689+02:00</ajourholdstidspunkt>"
            "<egenskapshendelse>"
            "<navn><kilde>skatteetaten</kilde><fornavn>ROLIG</fornavn><etternavn>ELVE</etternavn>"
            "</navn><entitet>navn</entitet><entitetsendring>korrigere</entitetsendring>"
            "</egenskapshendelse></hendelse></dokumentForHendelse>");

  // Every version parses, nested objects become elements, text is escaped.
  PersonRecord with_post = record;
  with_post.rows.erase(
      std::remove_if(with_post.rows.begin(), with_post.rows.end(),
                     [](const Row& r) { return r.property == Property::kAdressebeskyttelse; }),
      with_post.rows.end());
  xml.clear();
  RenderEventDocumentXml(with_post, 6, Header(Hendelsetype::kPersonErDoed), xml, false, "doc");
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str())) << xml;
  pugi::xml_node root = doc.child("doc");
  ASSERT_TRUE(root);
  EXPECT_FALSE(root.attribute("xmlns"));
  pugi::xml_node post = root.child("hendelse").find_child([](pugi::xml_node n) {
    return std::string_view(n.name()) == "egenskapshendelse" &&
           std::string_view(n.child_value("entitet")) == "kontaktadresse";
  });
  ASSERT_TRUE(post) << xml;
  EXPECT_STREQ(post.child("postadresse").child("postboksadresse").child_value("postbokseier"),
               "X & Y");
}

// Rows follow the event XSD's types, not the person XSD's: oppholdsadresse puts
// utenlandskAdresse before vegadresse, bostedsadresse ukjentBosted after matrikkeladresse;
// identitetsgrunnlag's status is legitimasjonskontroll (in JSON too, as the OpenAPI's hendelse.v1
// requires); fields the event XSD lacks and entities it has no place for are left out of XML.
TEST(EventDocumentTest, XmlFollowsTheEventXsd) {
  PersonRecord record;
  record.fnr = "01818012345";
  record.rows = {
      MakeRow(Property::kIdentitetsgrunnlag, 1, kOpen, kOpen,
              R"({"kilde":"Synutopia","identitetsgrunnlagstatus":"kontrollert"})"),
      MakeRow(Property::kBostedsadresse, 1, kOpen, kOpen,
              R"({"kilde":"K","ukjentBosted":{"bostedskommune":"0301"},)"
              R"("vegadresse":{"adressenavn":"A"},"grunnkrets":1})"),
      MakeRow(Property::kOppholdsadresse, 1, kOpen, kOpen,
              R"({"kilde":"K","vegadresse":{"adressenavn":"B"},"adressenErUkjent":false,)"
              R"("nyttFelt":"x"})"),
      MakeRow(Property::kForholdTilSametingetsValgmanntall, 1, kOpen, kOpen,
              R"({"kilde":"K","forhold":"innmeldt"})"),
  };
  SortRows(record.rows);
  std::string xml;
  RenderEventDocumentXml(record, 1, Header(Hendelsetype::kPersonErOpprettet), xml);
  EXPECT_NE(xml.find("<egenskapshendelse><identitetsgrunnlag><kilde>Synutopia</kilde>"
                     "<legitimasjonskontroll>kontrollert</legitimasjonskontroll>"
                     "</identitetsgrunnlag><entitet>identitetsgrunnlag</entitet>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<bostedsadresse><kilde>K</kilde><vegadresse><adressenavn>A</adressenavn>"
                     "</vegadresse><ukjentBosted><bostedskommune>0301</bostedskommune>"
                     "</ukjentBosted><grunnkrets>1</grunnkrets></bostedsadresse>"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<oppholdsadresse><kilde>K</kilde><adressenErUkjent>false</adressenErUkjent>"
                     "<vegadresse><adressenavn>B</adressenavn></vegadresse></oppholdsadresse>"),
            std::string::npos)
      << xml;
  EXPECT_EQ(xml.find("nyttFelt"), std::string::npos);
  EXPECT_EQ(xml.find("forhold"), std::string::npos);

  const std::string json = Json(record, 1, Hendelsetype::kPersonErOpprettet);
  EXPECT_NE(json.find(R"("identitetsgrunnlag":{"kilde":"Synutopia",)"
                      R"("legitimasjonskontroll":"kontrollert"})"),
            std::string::npos)
      << json;
  EXPECT_EQ(json.find("identitetsgrunnlagstatus"), std::string::npos);
  // JSON keeps every entity the OpenAPI's Registerdata has.
  EXPECT_NE(json.find(R"("entitet":"forholdTilSametingetsValgmanntall")"), std::string::npos);
}

TEST(EventXsdTest, ReadsTheEmbeddedSchema) {
  const EventXsd& xsd = EventXsd::Get();
  const EventXsd::Type* navn = xsd.RowType("navn");
  ASSERT_NE(navn, nullptr);
  EXPECT_EQ(navn->name, "Folkeregisterpersonnavn");
  std::vector<std::string> names;
  for (const auto& e : navn->elements) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"ajourholdstidspunkt", "kilde", "aarsak",
                                             "gyldighetstidspunkt", "opphoerstidspunkt", "fornavn",
                                             "mellomnavn", "etternavn", "forkortetNavn",
                                             "originaltNavn"}));
  EXPECT_EQ(xsd.RowType("postadresse"), xsd.Find("Kontaktadresse"));
  EXPECT_EQ(xsd.RowType("forholdTilSametingetsValgmanntall"), nullptr);
  EXPECT_EQ(xsd.RowType("entitet"), nullptr);  // simple content
  EXPECT_TRUE(xsd.IsEntitetsnavn("kontaktadresse"));
  EXPECT_FALSE(xsd.IsEntitetsnavn("postadresse"));
  const EventXsd::Type* bosted = xsd.RowType("bostedsadresse");
  ASSERT_NE(bosted, nullptr);
  const EventXsd::Element* vegadresse = bosted->Find("vegadresse");
  ASSERT_NE(vegadresse, nullptr);
  ASSERT_NE(vegadresse->type, nullptr);
  EXPECT_NE(vegadresse->type->Find("adressenummer"), nullptr);
  // Every hendelsestype norreg writes in an event document is in the XSD's enumeration.
  const std::string text(resources::freg_event_xsd());
  for (int t = 0; t <= static_cast<int>(Hendelsetype::kEndringIPreferertKontaktadresse); ++t) {
    const auto type = static_cast<Hendelsetype>(t);
    if (!HasEventDocument(type)) continue;
    const std::string value = "value=\"" + std::string(HendelsestypeName(type)) + "\"";
    EXPECT_NE(text.find(value), std::string::npos) << value;
  }
}

TEST(EventXsdTest, BuildRejectsWhatIsNotTheSchema) {
  EXPECT_FALSE(EventXsd::Build("<not xml").ok());
  EXPECT_FALSE(
      EventXsd::Build("<xsd:schema xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"/>").ok());
  std::string out = "x";
  const EventXsd::Type* navn = EventXsd::Get().RowType("navn");
  EXPECT_FALSE(AppendJsonAsEventXml(out, "[1]", *navn));
  EXPECT_FALSE(AppendJsonAsEventXml(out, "{\"a\":", *navn));
  EXPECT_EQ(out, "x");
  EXPECT_TRUE(
      AppendJsonAsEventXml(out, R"({"fornavn":"A & B","kilde":{"x":1},"etternavn":[1,2]})", *navn));
  EXPECT_EQ(out, "x<fornavn>A &amp; B</fornavn><etternavn>1</etternavn><etternavn>2</etternavn>");
}

TEST(EventDocumentTest, MalformedRowsAreLeftOut) {
  PersonRecord record;
  record.fnr = "01818012345";
  record.rows = {
      MakeRow(Property::kStatus, 1, kOpen, kOpen, "not json"),
      MakeRow(Property::kNavn, 1, kOpen, kOpen, R"({"fornavn":"A","etternavn":)"),
      MakeRow(Property::kKjoenn, 1, kOpen, kOpen, R"({"kjoenn":"mann"})"),
  };
  std::string json = Json(record, 1, Hendelsetype::kPersonErOpprettet);
  // Not an object: left out in both forms. Broken inside an object: JSON copies rows as stored
  // (the store only holds validated canonical rows); XML must parse them and leaves it out.
  EXPECT_EQ(json.find("\"status\""), std::string::npos);
  std::string xml;
  RenderEventDocumentXml(record, 1, Header(Hendelsetype::kPersonErOpprettet), xml);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(xml.c_str())) << xml;
  size_t entries = 0;
  for (pugi::xml_node n :
       doc.child("dokumentForHendelse").child("hendelse").children("egenskapshendelse")) {
    ++entries;
    EXPECT_STREQ(n.child_value("entitet"), "kjoenn");
  }
  EXPECT_EQ(entries, 1u);
}

TEST(EventDocumentTest, NamesFollowTheSchema) {
  EXPECT_EQ(EntitetsendringName(Entitetsendring::kRegistrereNy), "registrereNy");
  EXPECT_EQ(EntitetsendringName(Entitetsendring::kKorrigere), "korrigere");
  EXPECT_EQ(EntitetsendringName(Entitetsendring::kAnnullere), "annullere");
  EXPECT_EQ(EntitetName(Property::kNavn), "navn");
  EXPECT_EQ(EntitetName(Property::kPostadresseIUtlandet), "kontaktadresseIUtlandet");
  EXPECT_EQ(EntitetName(Property::kPreferertKontaktadresse), "");
  EXPECT_EQ(HendelsestypeName(Hendelsetype::kEndringIKontaktinformasjonForDoedsbo),
            "endringIKontaktopplysningerForDoedsbo");
  EXPECT_EQ(HendelsestypeName(Hendelsetype::kPersonErDoed), "personErDoed");
  EXPECT_FALSE(HasEventDocument(Hendelsetype::kPersonErOppdatert));
  EXPECT_TRUE(HasEventDocument(Hendelsetype::kPersonErOpprettet));
}

// Every name an event document uses is one the OpenAPI file's hendelse.v1 schemas allow.
TEST(EventDocumentTest, NamesAreInTheOpenApiEnums) {
  const YAML::Node schemas =
      YAML::Load(std::string(resources::freg_openapi()))["components"]["schemas"];
  const std::string h = "folkeregisteret.tilgjengeliggjoering.hendelse.v1.";
  auto enum_of = [](const YAML::Node& node) {
    std::set<std::string> values;
    for (const auto& v : node["enum"]) values.insert(v.as<std::string>());
    return values;
  };
  const YAML::Node registerdata = schemas[h + "Registerdata"]["properties"];
  const std::set<std::string> entiteter = enum_of(registerdata["entitet"]);
  const std::set<std::string> endringer = enum_of(registerdata["entitetsendring"]);
  const std::set<std::string> typer =
      enum_of(schemas[h + "Hendelse"]["properties"]["hendelsestype"]);
  ASSERT_FALSE(entiteter.empty());
  ASSERT_FALSE(typer.empty());
  for (int p = 0; p < kPropertyCount; ++p) {
    const auto property = static_cast<Property>(p);
    const std::string entitet(EntitetName(property));
    // The legal-capacity properties came after the 1.5 hendelse.v1 schema (docs/design.md).
    if (entitet.empty() || property >= Property::kBegrensningIRettsligHandleevne) continue;
    EXPECT_TRUE(entiteter.count(entitet)) << entitet;
    EXPECT_TRUE(registerdata[std::string(PropertyName(property))].IsDefined())
        << PropertyName(property);
  }
  for (auto e :
       {Entitetsendring::kRegistrereNy, Entitetsendring::kKorrigere, Entitetsendring::kAnnullere}) {
    EXPECT_TRUE(endringer.count(std::string(EntitetsendringName(e))));
  }
  for (int t = 0; t <= static_cast<int>(Hendelsetype::kEndringIPreferertKontaktadresse); ++t) {
    const std::string name(HendelsestypeName(static_cast<Hendelsetype>(t)));
    EXPECT_TRUE(typer.count(name)) << name;
  }
  const YAML::Node document = schemas[h + "DokumentForHendelse"]["properties"];
  for (const char* key : {"dokumentidentifikator", "skjemaversjon", "hendelse"}) {
    EXPECT_TRUE(document[key].IsDefined()) << key;
  }
}

}  // namespace
}  // namespace norreg::freg
