#include "mottak/melding.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace norreg::mottak {
namespace {

// A realistic reply (SPEC 3.2): Referanse to the original message, inline Data, and a Vedlegg
// with two parts, one a DataRef with a checksum.
constexpr std::string_view kFull = R"(<?xml version="1.0" encoding="UTF-8"?>
<!-- svar fra Foretaksregisteret -->
<Melding xmlns="http://schema.brreg.no/postmottak/henvendelse" versjon="1.0" id="0123456789abcdef0123456789abcdef@brreg.no" tjeneste="Foretaksregisteret" tjenestehandling="vedtak">
  <Mottaker id="910514350" idType="orgnr">Eksempel AS</Mottaker>
  <Avsender id="974760673" idType="orgnr">Brønnøysundregistrene</Avsender>
  <Referanse referanse="36b5516f-1c2d-4e5f-8a9b-0c1d2e3f4a5b" referanseType="MeldingsReferanse"/>
  <Innhold>
    <Data format="text/plain">Vedtak: registrert &amp; kunngjort.</Data>
  </Innhold>
  <Vedlegg type="application/pdf" navn="Vedtaksbrev">
    <Vedleggsdel sekvensnr="1" filnavn="vedtak.pdf">
      <DataRef referanse="vedtak.pdf" format="application/pdf" referanseFormat="filnavn" sjekksum="0a1B2c3D4e5F"/>
    </Vedleggsdel>
    <Vedleggsdel sekvensnr="2">
      <Data format="text/plain">Side 2</Data>
    </Vedleggsdel>
  </Vedlegg>
</Melding>
)";

std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string s(text);
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not in the document";
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// A readable canonical form, so that mismatches show what differs.
std::string Dump(const Innhold& in) {
  return std::string(in.is_ref ? "ref" : "data") + "|" + in.format + "|" + in.data + "|" +
         in.referanse + "|" + in.referanse_format + "|" + in.sjekksum;
}
std::string Dump(const Melding& m) {
  std::string s = m.versjon + "|" + m.id + "|" + m.tjeneste + "|" + m.tjenestehandling + "\n";
  for (const Adressat* a : {&m.mottaker, &m.avsender}) {
    s += "A " + a->id + "|" + a->id_type + "|" + a->name + "\n";
  }
  for (const Referanse& r : m.referanser) s += "R " + r.referanse + "|" + r.referanse_type + "\n";
  s += "I " + Dump(m.innhold) + "\n";
  for (const Vedlegg& v : m.vedlegg) {
    s += "V " + v.type + "|" + v.navn + "\n";
    for (const Vedleggsdel& d : v.deler) {
      s += "  D " + d.sekvensnr + "|" + d.filnavn + "|" + Dump(d.innhold) + "\n";
    }
  }
  s += m.signatur ? "S " + *m.signatur : std::string("no signatur");
  return s;
}

TEST(MeldingTest, ParsesFullExample) {
  const Result<Melding> r = ParseMelding(kFull);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Melding& m = *r;
  EXPECT_EQ(m.versjon, "1.0");
  EXPECT_EQ(m.id, "0123456789abcdef0123456789abcdef@brreg.no");
  EXPECT_EQ(m.tjeneste, "Foretaksregisteret");
  EXPECT_EQ(m.tjenestehandling, "vedtak");
  EXPECT_EQ(m.mottaker.id, "910514350");
  EXPECT_EQ(m.mottaker.id_type, "orgnr");
  EXPECT_EQ(m.mottaker.name, "Eksempel AS");
  EXPECT_EQ(m.avsender.name, "Brønnøysundregistrene");
  ASSERT_EQ(m.referanser.size(), 1u);
  EXPECT_EQ(m.referanser[0].referanse, "36b5516f-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
  EXPECT_EQ(m.referanser[0].referanse_type, "MeldingsReferanse");
  EXPECT_FALSE(m.innhold.is_ref);
  EXPECT_EQ(m.innhold.format, "text/plain");
  EXPECT_EQ(m.innhold.data, "Vedtak: registrert & kunngjort.");
  ASSERT_EQ(m.vedlegg.size(), 1u);
  EXPECT_EQ(m.vedlegg[0].type, "application/pdf");
  EXPECT_EQ(m.vedlegg[0].navn, "Vedtaksbrev");
  ASSERT_EQ(m.vedlegg[0].deler.size(), 2u);
  const Vedleggsdel& d1 = m.vedlegg[0].deler[0];
  EXPECT_EQ(d1.sekvensnr, "1");
  EXPECT_EQ(d1.filnavn, "vedtak.pdf");
  EXPECT_TRUE(d1.innhold.is_ref);
  EXPECT_EQ(d1.innhold.referanse, "vedtak.pdf");
  EXPECT_EQ(d1.innhold.format, "application/pdf");
  EXPECT_EQ(d1.innhold.referanse_format, "filnavn");
  EXPECT_EQ(d1.innhold.sjekksum, "0a1B2c3D4e5F");
  const Vedleggsdel& d2 = m.vedlegg[0].deler[1];
  EXPECT_EQ(d2.filnavn, "");
  EXPECT_FALSE(d2.innhold.is_ref);
  EXPECT_EQ(d2.innhold.data, "Side 2");
  EXPECT_FALSE(m.signatur.has_value());
}

// Documents the schema accepts, each with a check of what was parsed.
TEST(MeldingTest, AcceptsValidVariants) {
  std::string tjeneste64;
  for (int i = 0; i < 64; ++i) tjeneste64 += "ø";  // 64 code points, 128 bytes
  struct Case {
    const char* name;
    std::string xml;
    std::string expect_id;  // the parsed @id
  };
  const std::string kId = "0123456789abcdef0123456789abcdef@brreg.no";
  const std::vector<Case> cases = {
      {"full", std::string(kFull), kId},
      {"no xml declaration", Replace(kFull, R"(<?xml version="1.0" encoding="UTF-8"?>)", ""), kId},
      {"token whitespace collapsed", Replace(kFull, "id=\"0123", "id=\" \t\n0123"), kId},
      {"uuid id", Replace(kFull, kId, "36b5516f-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
       "36b5516f-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
      {"32 chars, @, 11 chars", Replace(kFull, kId, "0123456789abcdef0123456789abcdef@abcdefghijk"),
       "0123456789abcdef0123456789abcdef@abcdefghijk"},
      {"36 chars then tail", Replace(kFull, kId, "0123456789abcdef0123456789abcdef_.-.xyz"),
       "0123456789abcdef0123456789abcdef_.-.xyz"},
      {"xml:lang and xsi:schemaLocation",
       Replace(kFull, "versjon=\"1.0\"",
               "xml:lang=\"nb\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
               "xsi:schemaLocation=\"x y\" versjon=\"1.0\""),
       kId},
      {"comments and PIs between elements",
       Replace(kFull, "  <Innhold>", "<!-- c --><?app x?>\n  <Innhold>"), kId},
      {"64 non-ASCII characters",
       Replace(kFull, "\"Foretaksregisteret\"", "\"" + tjeneste64 + "\""), kId},
      {"no Referanse, no Vedlegg",
       R"(<Melding xmlns="http://schema.brreg.no/postmottak/henvendelse" versjon="1" id="0123456789abcdef0123456789abcdef" tjeneste="t" tjenestehandling="h"><Mottaker id="1" idType="orgnr"/><Avsender id="2" idType="orgnr"></Avsender><Innhold><DataRef referanse="r" format="f"/></Innhold></Melding>)",
       "0123456789abcdef0123456789abcdef"},
      {"prefixed elements",
       R"(<h:Melding xmlns:h="http://schema.brreg.no/postmottak/henvendelse" versjon="1" id="0123456789abcdef0123456789abcdef" tjeneste="t" tjenestehandling="h"><h:Mottaker id="1" idType="orgnr"/><h:Avsender id="2" idType="orgnr"/><h:Innhold><h:Data format="f">x</h:Data></h:Innhold></h:Melding>)",
       "0123456789abcdef0123456789abcdef"},
      {"namespace declared on a child",
       R"(<h:Melding xmlns:h="http://schema.brreg.no/postmottak/henvendelse" versjon="1" id="0123456789abcdef0123456789abcdef" tjeneste="t" tjenestehandling="h"><Mottaker xmlns="http://schema.brreg.no/postmottak/henvendelse" id="1" idType="orgnr"/><h:Avsender id="2" idType="orgnr"/><h:Innhold><h:Data format="f">x</h:Data></h:Innhold></h:Melding>)",
       "0123456789abcdef0123456789abcdef"},
      {"with Signatur",
       Replace(kFull, "</Melding>", "<Signatur><any>thing</any></Signatur></Melding>"), kId},
      {"UTF-8 BOM", "\xEF\xBB\xBF" + std::string(kFull), kId},
  };
  for (const Case& c : cases) {
    const Result<Melding> r = ParseMelding(c.xml);
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.error().message;
    EXPECT_EQ(r->id, c.expect_id) << c.name;
  }
}

TEST(MeldingTest, RefusesInvalidDocumentsNamingWhatIsWrong) {
  struct Case {
    const char* name;
    std::string xml;
    const char* fragment;  // expected in the message
  };
  std::string deep = "<a>";
  for (int i = 0; i < 300; ++i) deep += "<a>";
  for (int i = 0; i < 301; ++i) deep += "</a>";
  const std::vector<Case> cases = {
      {"missing idType", Replace(kFull, R"(id="974760673" idType="orgnr")", R"(id="974760673")"),
       "Melding/Avsender/@idType: missing"},
      {"missing tjenestehandling", Replace(kFull, R"( tjenestehandling="vedtak")", ""),
       "Melding/@tjenestehandling: missing"},
      {"Innhold missing",
       Replace(kFull, R"(<Innhold>
    <Data format="text/plain">Vedtak: registrert &amp; kunngjort.</Data>
  </Innhold>)",
               ""),
       "Melding: expected Innhold, found Vedlegg"},
      {"Avsender before Mottaker",
       Replace(kFull, R"(<Mottaker id="910514350" idType="orgnr">Eksempel AS</Mottaker>)", ""),
       "Melding: expected Mottaker, found Avsender"},
      {"Mottaker only", Replace(kFull, "<Avsender", "<Avsender2"),
       "XML:"},  // mismatched end tag: not well-formed
      {"tjeneste too long",
       Replace(kFull, "\"Foretaksregisteret\"", "\"" + std::string(65, 'x') + "\""),
       "Melding/@tjeneste: longer than 64 characters"},
      {"versjon too long",
       Replace(kFull, "versjon=\"1.0\"", "versjon=\"" + std::string(33, '1') + "\""),
       "Melding/@versjon: longer than 32 characters"},
      {"idType too long",
       Replace(kFull, R"(idType="orgnr">Eksempel)",
               "idType=\"" + std::string(33, 'o') + "\">Eksempel"),
       "Melding/Mottaker/@idType: longer than 32 characters"},
      {"short id", Replace(kFull, "0123456789abcdef0123456789abcdef@brreg.no", "abc"),
       "Melding/@id: does not match the GUID pattern"},
      {"id tail too long",
       Replace(kFull, "0123456789abcdef0123456789abcdef@brreg.no",
               "0123456789abcdef0123456789abcdef@abcdefghijkl"),
       "Melding/@id: does not match the GUID pattern"},
      {"id with space",
       Replace(kFull, "0123456789abcdef0123456789abcdef@brreg.no",
               "0123456789abcdef 0123456789abcdef"),
       "Melding/@id: does not match the GUID pattern"},
      {"id with two @",
       Replace(kFull, "0123456789abcdef0123456789abcdef@brreg.no",
               "0123456789abcdef0123456789abcdef@@brreg"),
       "Melding/@id: does not match the GUID pattern"},
      {"wrong namespace",
       Replace(kFull, "http://schema.brreg.no/postmottak/henvendelse", "urn:other"),
       "expected Melding in namespace"},
      {"no namespace",
       Replace(kFull, R"(xmlns="http://schema.brreg.no/postmottak/henvendelse" )", ""),
       "root element is Melding (no namespace)"},
      {"Referanse after Innhold",
       Replace(kFull, "  <Vedlegg ", "<Referanse referanse=\"r\" referanseType=\"t\"/><Vedlegg "),
       "Melding: unexpected element Referanse"},
      {"unknown root attribute", Replace(kFull, "versjon=\"1.0\"", "versjon=\"1.0\" foo=\"1\""),
       "Melding/@foo: unknown attribute"},
      {"qualified attribute in the namespace",
       Replace(kFull, "versjon=\"1.0\"",
               "versjon=\"1.0\" xmlns:h=\"http://schema.brreg.no/postmottak/henvendelse\" "
               "h:tjeneste=\"x\""),
       "Melding/@h:tjeneste: unknown attribute"},
      {"unbound attribute prefix", Replace(kFull, "versjon=\"1.0\"", "versjon=\"1.0\" p:x=\"1\""),
       "Melding/@p:x: unbound namespace prefix"},
      {"unknown element at the end", Replace(kFull, "</Melding>", "<Ekstra/></Melding>"),
       "Melding: unexpected element Ekstra"},
      {"foreign element", Replace(kFull, "<Mottaker ", "<o:Mottaker xmlns:o=\"urn:other\" "),
       "XML:"},  // end tag </Mottaker> mismatches
      {"foreign-namespace Mottaker",
       Replace(Replace(kFull, "<Mottaker ", "<o:Mottaker xmlns:o=\"urn:other\" "), "</Mottaker>",
               "</o:Mottaker>"),
       "Melding: expected Mottaker, found o:Mottaker (namespace 'urn:other')"},
      {"unknown attribute on Vedleggsdel",
       Replace(kFull, "sekvensnr=\"2\"", "sekvensnr=\"2\" x=\"y\""),
       "Melding/Vedlegg[1]/Vedleggsdel[2]/@x: unknown attribute"},
      {"missing sekvensnr", Replace(kFull, "sekvensnr=\"2\"", ""),
       "Melding/Vedlegg[1]/Vedleggsdel[2]/@sekvensnr: missing"},
      {"missing Vedlegg navn", Replace(kFull, " navn=\"Vedtaksbrev\"", ""),
       "Melding/Vedlegg[1]/@navn: missing"},
      {"sjekksum odd", Replace(kFull, "0a1B2c3D4e5F", "0a1B2"),
       "Melding/Vedlegg[1]/Vedleggsdel[1]/DataRef/@sjekksum: not hexBinary (odd number of digits)"},
      {"sjekksum not hex", Replace(kFull, "0a1B2c3D4e5F", "0a1B2c3D4e5G"),
       "Melding/Vedlegg[1]/Vedleggsdel[1]/DataRef/@sjekksum: not hexBinary (non-hex character)"},
      {"referanseFormat too long",
       Replace(kFull, "referanseFormat=\"filnavn\"",
               "referanseFormat=\"" + std::string(33, 'f') + "\""),
       "Melding/Vedlegg[1]/Vedleggsdel[1]/DataRef/@referanseFormat: longer than 32 characters"},
      {"DataRef missing format", Replace(kFull, " format=\"application/pdf\"", ""),
       "Melding/Vedlegg[1]/Vedleggsdel[1]/DataRef/@format: missing"},
      {"Data missing format", Replace(kFull, "<Data format=\"text/plain\">Vedtak", "<Data>Vedtak"),
       "Melding/Innhold/Data/@format: missing"},
      {"Referanse missing referanseType",
       Replace(kFull, " referanseType=\"MeldingsReferanse\"", ""),
       "Melding/Referanse[1]/@referanseType: missing"},
      {"Referanse with text",
       Replace(kFull, "referanseType=\"MeldingsReferanse\"/>",
               "referanseType=\"MeldingsReferanse\"> </Referanse>"),
       "Melding/Referanse[1]: must be empty"},
      {"Vedlegg without Vedleggsdel",
       Replace(
           kFull, R"(<Vedlegg type="application/pdf" navn="Vedtaksbrev">)",
           R"(<Vedlegg type="a" navn="b"/><Vedlegg type="application/pdf" navn="Vedtaksbrev">)"),
       "Melding/Vedlegg[1]: expected Vedleggsdel, found end of element"},
      {"Innhold empty",
       Replace(kFull, R"(<Data format="text/plain">Vedtak: registrert &amp; kunngjort.</Data>)",
               ""),
       "Melding/Innhold: expected Data or DataRef, found end of element"},
      {"Innhold with Data and DataRef",
       Replace(kFull, "kunngjort.</Data>",
               "kunngjort.</Data><DataRef referanse=\"r\" format=\"f\"/>"),
       "Melding/Innhold: unexpected element DataRef"},
      {"Innhold with something else",
       Replace(kFull, R"(<Data format="text/plain">Vedtak: registrert &amp; kunngjort.</Data>)",
               "<Tekst/>"),
       "Melding/Innhold: expected Data or DataRef, found Tekst"},
      {"Data with an element", Replace(kFull, "kunngjort.</Data>", "<b>x</b></Data>"),
       "Melding/Innhold/Data: element content is not allowed"},
      {"text in element-only content", Replace(kFull, "  <Innhold>", "tekst<Innhold>"),
       "Melding: text is not allowed here"},
      {"Vedlegg after Signatur",
       Replace(kFull, "</Melding>",
               "<Signatur/><Vedlegg type=\"a\" navn=\"b\"><Vedleggsdel sekvensnr=\"1\"><Data "
               "format=\"f\"/></Vedleggsdel></Vedlegg></Melding>"),
       "Melding: unexpected element Vedlegg"},
      {"two Signatur", Replace(kFull, "</Melding>", "<Signatur/><Signatur/></Melding>"),
       "Melding: unexpected element Signatur"},
      {"duplicate attribute", Replace(kFull, "versjon=\"1.0\"", "versjon=\"1.0\" versjon=\"2\""),
       "Melding/@versjon: duplicate attribute"},
      {"undefined entity", Replace(kFull, "&amp; kunngjort", "&nbsp; kunngjort"),
       "undefined entity reference '&nbsp;'"},
      {"bare ampersand", Replace(kFull, "&amp; kunngjort", "& kunngjort"), "'&' not followed"},
      {"control character reference", Replace(kFull, "&amp; kunngjort", "&#1; kunngjort"),
       "invalid character reference"},
      {"NUL character reference", Replace(kFull, "&amp; kunngjort", "&#x0; kunngjort"),
       "invalid character reference"},
      {"raw control character", Replace(kFull, "&amp; kunngjort", "\x01 kunngjort"),
       "control character"},
      {"invalid UTF-8", Replace(kFull, "Brønnøysund", "Br\xF8nn\xF8ysund"), "not valid UTF-8"},
      {"'<' in attribute", Replace(kFull, "versjon=\"1.0\"", "versjon=\"1<0\""),
       "'<' in an attribute value"},
      {"']]>' in text", Replace(kFull, "kunngjort.", "kunngjort]]>"), "']]>' in text"},
      {"second root", std::string(kFull) + "<Melding/>", "content after the root element"},
      {"text after root", std::string(kFull) + "x", "text outside the root element"},
      {"unclosed", Replace(kFull, "</Melding>", ""), "XML:"},
      {"not XML", "hello", "text outside the root element"},
      {"empty", "", "XML:"},
      {"latin-1 declared", Replace(kFull, "encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\""),
       "encoding 'ISO-8859-1' is not supported"},
      {"late XML declaration", "<!-- x -->" + std::string(kFull),
       "XML declaration not at the start"},
      {"DOCTYPE", Replace(kFull, "<!-- svar", "<!DOCTYPE Melding [<!ENTITY x \"y\">]>\n<!-- svar"),
       "DOCTYPE declarations are not allowed"},
      {"external entity",
       Replace(
           Replace(kFull, "<!-- svar",
                   "<!DOCTYPE Melding [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<!-- svar"),
           "&amp; kunngjort", "&xxe;"),
       "DOCTYPE declarations are not allowed"},
      {"nesting bomb in Signatur",
       Replace(kFull, "</Melding>", "<Signatur>" + deep + "</Signatur></Melding>"),
       "elements nested too deeply"},
      {"unbound prefix in Signatur",
       Replace(kFull, "</Melding>", "<Signatur><ds:x/></Signatur></Melding>"),
       "Melding/Signatur: element ds:x has an invalid name or an unbound namespace prefix"},
      {"comment with --", Replace(kFull, "<!-- svar fra", "<!-- svar -- fra"),
       "'--' inside a comment"},
  };
  for (const Case& c : cases) {
    const Result<Melding> r = ParseMelding(c.xml);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << c.name;
    EXPECT_NE(r.error().message.find(c.fragment), std::string::npos)
        << c.name << ": got '" << r.error().message << "', want '" << c.fragment << "'";
  }
}

TEST(MeldingTest, RefusesBillionLaughsCheaply) {
  std::string bomb = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    bomb += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k)
      bomb += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    bomb += "\">\n";
  }
  bomb += "]>\n<Melding xmlns=\"http://schema.brreg.no/postmottak/henvendelse\">&lol9;</Melding>";
  const Result<Melding> r = ParseMelding(bomb);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("DOCTYPE declarations are not allowed"), std::string::npos)
      << r.error().message;
  // Without a DOCTYPE, an entity reference is simply undefined.
  const Result<Melding> r2 = ParseMelding(
      "<Melding xmlns=\"http://schema.brreg.no/postmottak/henvendelse\">&lol9;</Melding>");
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("undefined entity reference '&lol9;'"), std::string::npos);
}

// Hostile attribute lists are refused at the cap, in time linear in the payload: 300 000
// distinct attributes (what the 4 MB limit allows) once took minutes of pairwise comparison.
TEST(MeldingTest, RefusesAttributeFloodsAtTheCap) {
  std::string many;
  for (int i = 0; i < 300'000; ++i) many += " a" + std::to_string(i) + "=\"\"";
  Result<Melding> r = ParseMelding(Replace(kFull, " versjon=\"1.0\"", many + " versjon=\"1.0\""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(r.error().message.find("Melding: more than 256 attributes"), std::string::npos)
      << r.error().message;
  // Up to the cap an element's attributes are only checked, then judged by the schema.
  std::string allowed;
  for (int i = 0; i < 250; ++i) allowed += " a" + std::to_string(i) + "=\"\"";
  r = ParseMelding(Replace(kFull, " versjon=\"1.0\"", allowed + " versjon=\"1.0\""));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.find("more than"), std::string::npos) << r.error().message;
  // A duplicate far down a long list is still found.
  r = ParseMelding(Replace(kFull, " versjon=\"1.0\"", allowed + " versjon=\"1.0\" a3=\"x\""));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("Melding/@a3: duplicate attribute"), std::string::npos)
      << r.error().message;
  // Namespace declarations in scope are capped across nested elements as well.
  std::string outer, inner;
  for (int i = 0; i < 200; ++i)
    outer += " xmlns:p" + std::to_string(i) + "=\"urn:p" + std::to_string(i) + "\"";
  for (int i = 200; i < 300; ++i)
    inner += " xmlns:p" + std::to_string(i) + "=\"urn:p" + std::to_string(i) + "\"";
  r = ParseMelding(Replace(Replace(kFull, " versjon=\"1.0\"", outer + " versjon=\"1.0\""),
                           "<Innhold>", "<Innhold" + inner + ">"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("more than 256 namespace declarations in scope"),
            std::string::npos)
      << r.error().message;
}

Melding SampleMelding() {
  Melding m;
  m.versjon = "1.0";
  m.id = "36b5516f-1c2d-4e5f-8a9b-0c1d2e3f4a5b";
  m.tjeneste = "Foretaksregisteret";
  m.tjenestehandling = "vedtak";
  m.mottaker = {"910514350", "orgnr", "Brønnøysund æøå ÆØÅ <>&\"'"};
  m.avsender = {"974760673", "orgnr", "Brønnøysundregistrene"};
  m.referanser = {{"0123456789abcdef0123456789abcdef@x", "MeldingsReferanse"},
                  {"a&b<c>\"d'", "Annen æøå"}};
  m.innhold.format = "text/plain; charset=\"utf-8\"";
  m.innhold.data = "Linje 1\r\nLinje 2\n\tinnrykk <b>&amp;</b> ]] > ' \" æøå 🙂  ";
  Vedlegg v;
  v.type = "application/pdf";
  v.navn = " navn\tmed\nmellomrom  & \"sitat\" ";
  Vedleggsdel d1;
  d1.sekvensnr = "1";
  d1.filnavn = "vedtak æøå.pdf";
  d1.innhold.is_ref = true;
  d1.innhold.format = "application/pdf";
  d1.innhold.referanse = "vedtak.pdf";
  d1.innhold.referanse_format = "filnavn";
  d1.innhold.sjekksum = "00ff10AB";
  Vedleggsdel d2;
  d2.sekvensnr = "2";
  d2.innhold.format = "text/plain";
  d2.innhold.data = "";
  v.deler = {d1, d2};
  m.vedlegg = {v, v};
  return m;
}

TEST(MeldingTest, RenderRoundTrips) {
  std::vector<std::pair<const char*, Melding>> cases;
  cases.emplace_back("sample", SampleMelding());
  Melding minimal;
  minimal.versjon = "1";
  minimal.id = "0123456789abcdef0123456789abcdef";
  minimal.innhold.is_ref = true;
  cases.emplace_back("minimal with empty strings", minimal);
  Melding with_sig = SampleMelding();
  with_sig.signatur =
      "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Id=\"a&amp;b\">"
      "<ds:SignedInfo>x &lt; y<![CDATA[<raw>]]><!--c--><?pi data?></ds:SignedInfo>"
      "</ds:Signature>";
  cases.emplace_back("signatur", with_sig);
  Melding empty_sig = SampleMelding();
  empty_sig.signatur = "";
  cases.emplace_back("empty signatur", empty_sig);

  for (const auto& [name, m] : cases) {
    const Result<std::string> xml = RenderMelding(m);
    ASSERT_TRUE(xml.ok()) << name << ": " << xml.error().message;
    const Result<Melding> back = ParseMelding(*xml);
    ASSERT_TRUE(back.ok()) << name << ": " << back.error().message << "\n" << *xml;
    EXPECT_EQ(Dump(*back), Dump(m)) << name << "\n" << *xml;
    // And rendering the parsed value again is stable.
    const Result<std::string> again = RenderMelding(*back);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *xml) << name;
  }
}

TEST(MeldingTest, RenderedOutputIsEscaped) {
  const Result<std::string> xml = RenderMelding(SampleMelding());
  ASSERT_TRUE(xml.ok()) << xml.error().message;
  EXPECT_EQ(xml->rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 0), 0u);
  EXPECT_NE(xml->find("Brønnøysund æøå ÆØÅ &lt;&gt;&amp;&quot;'</Mottaker>"), std::string::npos)
      << *xml;
  EXPECT_NE(xml->find("referanse=\"a&amp;b&lt;c&gt;&quot;d'\""), std::string::npos) << *xml;
  EXPECT_NE(xml->find("navn=\" navn&#9;med&#10;mellomrom  &amp; &quot;sitat&quot; \""),
            std::string::npos)
      << *xml;
  EXPECT_NE(xml->find("Linje 1&#13;\nLinje 2"), std::string::npos) << *xml;
}

TEST(MeldingTest, SignaturKeepsInheritedNamespaces) {
  const std::string doc =
      R"(<h:Melding xmlns:h="http://schema.brreg.no/postmottak/henvendelse" xmlns:ds="urn:dsig" versjon="1" id="0123456789abcdef0123456789abcdef" tjeneste="t" tjenestehandling="h"><h:Mottaker id="1" idType="orgnr"/><h:Avsender id="2" idType="orgnr"/><h:Innhold><h:Data format="f">x</h:Data></h:Innhold><h:Signatur Id="s1"> <ds:Signature a="1"><ds:Value>abc</ds:Value></ds:Signature><Bare/></h:Signatur></h:Melding>)";
  const Result<Melding> r = ParseMelding(doc);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->signatur.has_value());
  EXPECT_EQ(*r->signatur,
            " <ds:Signature a=\"1\" xmlns:ds=\"urn:dsig\"><ds:Value>abc</ds:Value></ds:Signature>"
            "<Bare xmlns=\"\"/>");
  const Result<std::string> xml = RenderMelding(*r);
  ASSERT_TRUE(xml.ok()) << xml.error().message;
  const Result<Melding> back = ParseMelding(*xml);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(Dump(*back), Dump(*r));
}

TEST(MeldingTest, RenderRefusesWhatTheSchemaRefuses) {
  struct Case {
    const char* name;
    void (*mutate)(Melding&);
    const char* fragment;
  };
  const std::vector<Case> cases = {
      {"bad id", [](Melding& m) { m.id = "kort"; }, "Melding/@id: does not match the GUID pattern"},
      {"tjeneste too long", [](Melding& m) { m.tjeneste = std::string(65, 't'); },
       "Melding/@tjeneste: longer than 64 characters"},
      {"token not collapsed", [](Melding& m) { m.tjenestehandling = " vedtak"; },
       "Melding/@tjenestehandling: not a normalised token"},
      {"token with tab", [](Melding& m) { m.mottaker.id_type = "org\tnr"; },
       "Melding/Mottaker/@idType: not a normalised token"},
      {"control character in Data", [](Melding& m) { m.innhold.data = "a\x01"; },
       "Melding/Innhold/Data: contains a control character"},
      {"invalid UTF-8 in name", [](Melding& m) { m.avsender.name = "Br\xF8nn"; },
       "Melding/Avsender: is not valid UTF-8"},
      {"odd sjekksum", [](Melding& m) { m.vedlegg[1].deler[0].innhold.sjekksum = "abc"; },
       "Melding/Vedlegg[2]/Vedleggsdel[1]/DataRef/@sjekksum: not hexBinary"},
      {"Vedlegg without deler", [](Melding& m) { m.vedlegg[0].deler.clear(); },
       "Melding/Vedlegg[1]: expected Vedleggsdel, found end of element"},
      {"DataRef with text", [](Melding& m) { m.vedlegg[0].deler[0].innhold.data = "x"; },
       "Melding/Vedlegg[1]/Vedleggsdel[1]: Data text set on a DataRef"},
      {"Data with reference", [](Melding& m) { m.innhold.referanse = "r"; },
       "Melding/Innhold: DataRef fields set on inline Data"},
      {"Referanse too long",
       [](Melding& m) { m.referanser[1].referanse_type = std::string(33, 'r'); },
       "Melding/Referanse[2]/@referanseType: longer than 32 characters"},
      {"malformed Signatur", [](Melding& m) { m.signatur = "<a>"; },
       "Melding/Signatur: not well-formed"},
      {"Signatur breaking out",
       [](Melding& m) { m.signatur = "</Signatur><Vedlegg type=\"x\" navn=\"y\"/><Signatur>"; },
       "Melding/Signatur: not well-formed"},
      {"Signatur with DOCTYPE", [](Melding& m) { m.signatur = "<!DOCTYPE x>"; },
       "Melding/Signatur: not well-formed"},
      {"Signatur with unbound prefix", [](Melding& m) { m.signatur = "<p:x/>"; },
       "Melding/Signatur: not well-formed"},
  };
  for (const Case& c : cases) {
    Melding m = SampleMelding();
    c.mutate(m);
    const Result<std::string> r = RenderMelding(m);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput) << c.name;
    EXPECT_NE(r.error().message.find(c.fragment), std::string::npos)
        << c.name << ": got '" << r.error().message << "'";
  }
}

// ---------------------------------------------------------------------------------------------
// Applikasjonskvittering

std::string DumpKvittering(const Applikasjonskvittering& k) {
  return std::to_string(static_cast<int>(k.status)) + "|" + k.status_tekst + "|" +
         std::to_string(k.status_kode) + "|" + k.meldings_referanse + "|" +
         k.henvendelses_referanse + "|" + k.avsenders_referanse;
}

TEST(KvitteringTest, RoundTripsEveryStatus) {
  for (KvitteringStatus status :
       {KvitteringStatus::kNotSet, KvitteringStatus::kOk, KvitteringStatus::kUnExpectedError,
        KvitteringStatus::kValidationFailed, KvitteringStatus::kRejected}) {
    Applikasjonskvittering k;
    k.status = status;
    k.status_tekst = "Mottatt <ok> & \"godt\" æøå";
    k.status_kode = status == KvitteringStatus::kOk ? 0 : -2147483647 - 1;
    k.meldings_referanse = "0123456789abcdef0123456789abcdef";
    k.henvendelses_referanse = status == KvitteringStatus::kRejected ? "" : "36b5516f-1c2d";
    k.avsenders_referanse = status == KvitteringStatus::kNotSet ? "egen-ref" : "";
    const std::string xml = RenderKvittering(k);
    const Result<Applikasjonskvittering> back = ParseKvittering(xml);
    ASSERT_TRUE(back.ok()) << back.error().message << "\n" << xml;
    EXPECT_EQ(DumpKvittering(*back), DumpKvittering(k)) << xml;
  }
}

TEST(KvitteringTest, RenderIsAlwaysWellFormed) {
  Applikasjonskvittering k;
  k.status_tekst = std::string("bad \x01 and \xFF bytes");
  k.meldings_referanse = "x";
  const std::string xml = RenderKvittering(k);
  EXPECT_NE(xml.find("<Status>OK</Status>"), std::string::npos) << xml;
  const Result<Applikasjonskvittering> back = ParseKvittering(xml);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->status_tekst, "bad \xEF\xBF\xBD and \xEF\xBF\xBD bytes");
  EXPECT_EQ(xml.find("HenvendelsesReferanse"), std::string::npos);
}

TEST(KvitteringTest, ParseChecksTheSchema) {
  const std::string base =
      R"(<Applikasjonskvittering xmlns="http://schema.brreg.no/postmottak/applikasjonskvittering"><Status>OK</Status><StatusTekst>Mottatt</StatusTekst><StatusKode> 42 </StatusKode><MeldingsReferanse>m1</MeldingsReferanse><HenvendelsesReferanse>h1</HenvendelsesReferanse><AvsendersReferanse>a1</AvsendersReferanse></Applikasjonskvittering>)";
  {
    const Result<Applikasjonskvittering> r = ParseKvittering(base);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, KvitteringStatus::kOk);
    EXPECT_EQ(r->status_kode, 42);
    EXPECT_EQ(r->henvendelses_referanse, "h1");
    EXPECT_EQ(r->avsenders_referanse, "a1");
  }
  struct Case {
    const char* name;
    std::string xml;
    const char* fragment;  // nullptr: valid
  };
  const std::vector<Case> cases = {
      {"only AvsendersReferanse optional",
       Replace(base, "<HenvendelsesReferanse>h1</HenvendelsesReferanse>", ""), nullptr},
      {"no optionals",
       Replace(Replace(base, "<HenvendelsesReferanse>h1</HenvendelsesReferanse>", ""),
               "<AvsendersReferanse>a1</AvsendersReferanse>", ""),
       nullptr},
      {"int min", Replace(base, " 42 ", "-2147483648"), nullptr},
      {"prefixed",
       Replace(
           Replace(base, "<Applikasjonskvittering xmlns=", "<k:Applikasjonskvittering xmlns:k="),
           "</Applikasjonskvittering>", "</k:Applikasjonskvittering>"),
       "expected Status, found Status (no namespace)"},
      {"unknown status", Replace(base, ">OK<", ">Ok<"),
       "Applikasjonskvittering/Status: 'Ok' is not a known status"},
      {"status with spaces", Replace(base, ">OK<", "> OK<"), "is not a known status"},
      {"kode not int", Replace(base, " 42 ", "4x2"),
       "Applikasjonskvittering/StatusKode: '4x2' is not an xs:int"},
      {"kode too big", Replace(base, " 42 ", "2147483648"), "is not an xs:int"},
      {"kode empty", Replace(base, " 42 ", ""), "is not an xs:int"},
      {"order",
       Replace(Replace(base, "<StatusTekst>Mottatt</StatusTekst>", ""), "</StatusKode>",
               "</StatusKode><StatusTekst>Mottatt</StatusTekst>"),
       "Applikasjonskvittering: expected StatusTekst, found StatusKode"},
      {"missing MeldingsReferanse",
       Replace(Replace(Replace(base, "<MeldingsReferanse>m1</MeldingsReferanse>", ""),
                       "<HenvendelsesReferanse>h1</HenvendelsesReferanse>", ""),
               "<AvsendersReferanse>a1</AvsendersReferanse>", ""),
       "Applikasjonskvittering: expected MeldingsReferanse, found end of element"},
      {"extra element", Replace(base, "</Applikasjonskvittering>", "<X/></Applikasjonskvittering>"),
       "Applikasjonskvittering: unexpected element X"},
      {"optional out of order",
       Replace(Replace(base, "<HenvendelsesReferanse>h1</HenvendelsesReferanse>", ""),
               "</Applikasjonskvittering>",
               "<HenvendelsesReferanse>h1</HenvendelsesReferanse></Applikasjonskvittering>"),
       "Applikasjonskvittering: unexpected element HenvendelsesReferanse"},
      {"attribute", Replace(base, "<Status>", "<Status a=\"1\">"),
       "Applikasjonskvittering/Status/@a: unknown attribute"},
      {"wrong root",
       Replace(Replace(base, "<Applikasjonskvittering ", "<Kvittering "),
               "</Applikasjonskvittering>", "</Kvittering>"),
       "root element is Kvittering"},
      {"DOCTYPE", "<!DOCTYPE x>" + base, "DOCTYPE declarations are not allowed"},
      {"element in text", Replace(base, ">Mottatt<", "><b/><"),
       "Applikasjonskvittering/StatusTekst: element content is not allowed"},
  };
  for (const Case& c : cases) {
    const Result<Applikasjonskvittering> r = ParseKvittering(c.xml);
    if (c.fragment == nullptr) {
      EXPECT_TRUE(r.ok()) << c.name << ": " << r.error().message;
      continue;
    }
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(r.error().message.find(c.fragment), std::string::npos)
        << c.name << ": got '" << r.error().message << "'";
  }
}

}  // namespace
}  // namespace norreg::mottak
