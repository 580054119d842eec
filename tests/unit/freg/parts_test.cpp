#include "freg/parts.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace norreg::freg {
namespace {

// The selected property names, comma-separated in enum (XSD) order, "+h" when historikk.
std::string Describe(const PartSelection& sel) {
  std::string s;
  for (int i = 0; i < kPropertyCount; ++i) {
    if (!sel.Has(static_cast<Property>(i))) continue;
    if (!s.empty()) s += ',';
    s += PropertyName(static_cast<Property>(i));
  }
  if (sel.historikk) s += "+h";
  return s;
}

constexpr const char* kBasis =
    "identifikasjonsnummer,identitetsgrunnlag,kontaktinformasjonForDoedsbo,status,doedsfall,"
    "sivilstand,bostedsadresse,deltBosted,oppholdsadresse,postadresse,postadresseIUtlandet,"
    "adressebeskyttelse,preferertKontaktadresse,kjoenn,statsborgerskap,foedsel,navn";

TEST(ParsePartsTest, Table) {
  struct Case {
    std::vector<std::string_view> parts;
    std::string expected;
  };
  const std::string basis = kBasis;
  const std::vector<Case> cases = {
      {{}, basis},
      {{"person-basis"}, basis},
      {{"historikk"}, basis + "+h"},
      {{"person-basis", "historikk"}, basis + "+h"},
      {{"historikk", "person-basis"}, basis + "+h"},
      {{"navn"}, "identifikasjonsnummer,navn"},
      {{"navn,kjoenn"}, "identifikasjonsnummer,kjoenn,navn"},
      {{" navn , kjoenn ,"}, "identifikasjonsnummer,kjoenn,navn"},
      {{"navn", "historikk"}, "identifikasjonsnummer,navn+h"},
      {{"navn,historikk"}, "identifikasjonsnummer,navn+h"},
      {{"identifikasjonsnummer"}, "identifikasjonsnummer"},
      {{"innflytting", "utflytting", "opphold"},
       "identifikasjonsnummer,innflytting,utflytting,opphold"},
      {{"identitetsgrunnlag-utvidet"},
       "falskIdentitet,identifikasjonsnummer,legitimasjonsdokument,utenlandskPersonidentifikasjon"},
      {{"relasjon-utvidet"},
       "identifikasjonsnummer,familierelasjon,foreldreansvar,vergemaalEllerFremtidsfullmakt"},
      {{"relasjon-utvidet", "navn"},
       "identifikasjonsnummer,familierelasjon,foreldreansvar,navn,vergemaalEllerFremtidsfullmakt"},
      {{"person-basis", "innflytting"},
       "identifikasjonsnummer,identitetsgrunnlag,kontaktinformasjonForDoedsbo,status,doedsfall,"
       "sivilstand,bostedsadresse,deltBosted,oppholdsadresse,postadresse,postadresseIUtlandet,"
       "adressebeskyttelse,preferertKontaktadresse,innflytting,kjoenn,statsborgerskap,foedsel,"
       "navn"},
      {{"oppholdPaaSvalbard"}, "identifikasjonsnummer"},
      {{""}, basis},
      {{",,"}, basis},
      {{"navn", "navn"}, "identifikasjonsnummer,navn"},
  };
  for (const Case& c : cases) {
    auto sel = ParseParts(c.parts);
    ASSERT_TRUE(sel.ok()) << sel.error().message;
    std::string label;
    for (auto p : c.parts) label += std::string(p) + "|";
    EXPECT_EQ(Describe(*sel), c.expected) << label;
  }
}

TEST(ParsePartsTest, EveryPropertyNameIsAPart) {
  for (int i = 0; i < kPropertyCount; ++i) {
    const auto p = static_cast<Property>(i);
    const std::string_view name = PropertyName(p);
    auto sel = ParseParts(std::span<const std::string_view>(&name, 1));
    ASSERT_TRUE(sel.ok()) << name;
    EXPECT_TRUE(sel->Has(p));
    EXPECT_TRUE(sel->Has(Property::kIdentifikasjonsnummer));
    EXPECT_EQ(sel->properties.count(), p == Property::kIdentifikasjonsnummer ? 1u : 2u);
    EXPECT_FALSE(sel->historikk);
  }
}

TEST(ParsePartsTest, UnknownPartIsNotAcceptable) {
  struct Case {
    std::vector<std::string_view> parts;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"tull"}, "Ugyldig part: tull"},
      {{"navn", "Navn"}, "Ugyldig part: Navn"},
      {{"navn,foo,kjoenn"}, "Ugyldig part: foo"},
      {{"person_basis"}, "Ugyldig part: person_basis"},
      {{"historikk", "HISTORIKK"}, "Ugyldig part: HISTORIKK"},
      {{"erGjeldende"}, "Ugyldig part: erGjeldende"},
  };
  for (const Case& c : cases) {
    auto sel = ParseParts(c.parts);
    ASSERT_FALSE(sel.ok()) << c.message;
    EXPECT_EQ(sel.error().code, ErrorCode::kNotAcceptable);
    EXPECT_EQ(sel.error().message, c.message);
  }
  const std::string long_part(500, 'x');
  const std::string_view v = long_part;
  auto sel = ParseParts(std::span<const std::string_view>(&v, 1));
  ASSERT_FALSE(sel.ok());
  EXPECT_EQ(sel.error().message, "Ugyldig part: " + std::string(100, 'x'));
}

TEST(PartSelectionTest, Presets) {
  EXPECT_EQ(Describe(PartSelection::PersonBasis()), kBasis);
  EXPECT_EQ(PartSelection::All().properties.count(), static_cast<size_t>(kPropertyCount));
  EXPECT_TRUE(PartSelection::All().historikk);
}

// The legal-capacity properties (OpenAPI 1.6) are parts of their own, in no group: person-basis
// holds current, non-confidential basics, and these are confidential court decisions
// (docs/design.md, "Fields added since OAS 1.5").
TEST(PartSelectionTest, LegalCapacityIsNamedOnly) {
  for (Property p :
       {Property::kBegrensningIRettsligHandleevne, Property::kFratattRettsligHandleevne}) {
    EXPECT_FALSE(PartSelection::PersonBasis().Has(p));
    for (std::string_view group :
         {"person-basis", "relasjon-utvidet", "identitetsgrunnlag-utvidet"}) {
      auto sel = ParseParts(std::span<const std::string_view>(&group, 1));
      ASSERT_TRUE(sel.ok());
      EXPECT_FALSE(sel->Has(p)) << group;
    }
    const std::string_view name = PropertyName(p);
    auto sel = ParseParts(std::span<const std::string_view>(&name, 1));
    ASSERT_TRUE(sel.ok());
    EXPECT_TRUE(sel->Has(p));
    EXPECT_TRUE(sel->Has(Property::kIdentifikasjonsnummer));
    EXPECT_EQ(sel->properties.count(), 2u);
  }
}

}  // namespace
}  // namespace norreg::freg
