// The access packages' table (freg/packages.hpp), the parts each may ask for (ParseParts with a
// package) and what rendering withholds for it (docs/packages.md).
#include "freg/packages.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "freg/parts.hpp"
#include "freg/render.hpp"

namespace norreg::freg {
namespace {

const Package& Pkg(std::string_view id) {
  const Package* p = PackageById(id);
  EXPECT_NE(p, nullptr) << id;
  return p != nullptr ? *p : OffentligMedHjemmel();
}

Result<PartSelection> Parse(std::string_view id, std::vector<std::string_view> parts) {
  return ParseParts(parts, Pkg(id));
}

TEST(PackagesTest, NineRowsWithDistinctPathsScopesAndConsistentSets) {
  ASSERT_EQ(Packages().size(), 9u);
  std::set<std::string_view> ids, paths, scopes;
  for (const Package& p : Packages()) {
    EXPECT_TRUE(ids.insert(p.id).second) << p.id;
    EXPECT_TRUE(paths.insert(p.base_path).second) << p.id;
    EXPECT_TRUE(scopes.insert(p.scope).second) << p.id;
    EXPECT_TRUE(p.base_path.starts_with("/folkeregisteret/")) << p.id;
    EXPECT_TRUE(p.base_path.ends_with("/v1")) << p.id;
    EXPECT_TRUE(p.scope.starts_with("folkeregister:deling/")) << p.id;
    EXPECT_EQ(p.basis & ~p.allowed, PropertySet()) << p.id << ": basis beyond allowed";
    EXPECT_EQ(p.history & ~p.allowed, PropertySet()) << p.id << ": history beyond allowed";
    // Every package has entydig søk, the feed and the schemas.
    for (Endpoint e : {Endpoint::kEntydigsoek, Endpoint::kPersonXsd, Endpoint::kFeed,
                       Endpoint::kFeedXsd, Endpoint::kSisteSekvensnummer}) {
      EXPECT_TRUE(p.Has(e)) << p.id;
    }
    EXPECT_EQ(PackageByScope(p.scope), &p);
    EXPECT_EQ(PackageById(p.id), &p);
    if (p.identifiers == Identifiers::kNever) {
      EXPECT_FALSE(p.Allows(Property::kIdentifikasjonsnummer)) << p.id;
      for (Endpoint e : {Endpoint::kSoek, Endpoint::kBulkoppslag, Endpoint::kUttrekkTilpasset,
                         Endpoint::kUttrekkBatch, Endpoint::kPerson}) {
        EXPECT_FALSE(p.Has(e)) << p.id << ": an endpoint that answers numbers";
      }
    }
    if (&p != &OffentligMedHjemmel()) {
      // Archive, event documents and complete extracts belong to "offentlig med hjemmel" alone.
      for (Endpoint e : {Endpoint::kArkiv, Endpoint::kBulkoppslagArkiv, Endpoint::kHendelse,
                         Endpoint::kHendelseBulkoppslag, Endpoint::kUttrekkKomplett}) {
        EXPECT_FALSE(p.Has(e)) << p.id;
      }
      EXPECT_EQ(p.feed, FeedShape::kThin) << p.id;
      EXPECT_EQ(p.confidential, Confidential::kNone) << p.id;
    }
  }
  EXPECT_EQ(PackageById("ukjent"), nullptr);
  EXPECT_EQ(PackageByScope("folkeregister:deling/ukjent"), nullptr);
  const Package& omh = OffentligMedHjemmel();
  EXPECT_EQ(omh.endpoints.count(), static_cast<size_t>(kEndpointCount));
  EXPECT_EQ(omh.allowed.count(), static_cast<size_t>(kPropertyCount));
  EXPECT_EQ(omh.scope, "folkeregister:deling/offentligmedhjemmel");
  EXPECT_EQ(Pkg("finans").base_path, "/folkeregisteret/api/finans/v1");
  EXPECT_EQ(Pkg("eid").scope, "folkeregister:deling/utstedereid");
}

TEST(PackagesTest, LookupsByNumberOnlyWhereTheRegisterOffersThem) {
  for (std::string_view id :
       {"offentlig-med-hjemmel", "offentligutenhjemmel", "privatutenhjemmel", "finans", "eid"}) {
    EXPECT_TRUE(Pkg(id).Has(Endpoint::kPerson)) << id;
    EXPECT_TRUE(Pkg(id).Has(Endpoint::kBulkoppslag)) << id;
    EXPECT_TRUE(Pkg(id).Has(Endpoint::kSoek)) << id;
    EXPECT_TRUE(Pkg(id).Has(Endpoint::kUttrekkTilpasset)) << id;
  }
  for (std::string_view id : {"privat", "presse", "privatutenfolkeregisteridentifikator",
                              "presseutenfolkeregisteridentifikator"}) {
    EXPECT_FALSE(Pkg(id).Has(Endpoint::kPerson)) << id;
    EXPECT_FALSE(Pkg(id).Has(Endpoint::kSoek)) << id;
    EXPECT_FALSE(Pkg(id).Has(Endpoint::kUttrekkTilpasset)) << id;
  }
}

TEST(PackagesTest, PartsFollowThePackage) {
  // Default: person-basis, with identifikasjonsnummer unless it must be asked for.
  auto omh = Parse("offentlig-med-hjemmel", {});
  ASSERT_TRUE(omh.ok());
  EXPECT_EQ(omh->properties, PartSelection::PersonBasis().properties);
  EXPECT_FALSE(omh->withhold_confidential);
  EXPECT_TRUE(omh->withheld_keys.empty());
  EXPECT_TRUE(omh->withheld_in.none());
  // Withheld keys are looked for only in the rows that can hold them; an unknown key everywhere.
  const std::string_view spouse[] = {"relatertVedSivilstand"};
  EXPECT_EQ(PropertiesHolding(spouse),
            PropertySet().set(static_cast<size_t>(Property::kSivilstand)));
  const std::string_view with_unknown[] = {"relatertVedSivilstand", "ukjent"};
  EXPECT_TRUE(PropertiesHolding(with_unknown).all());
  for (const Package& p : Packages()) {
    for (std::string_view key : p.withheld_keys) {
      const std::string_view one[] = {key};
      EXPECT_FALSE(PropertiesHolding(one).all()) << p.id << " " << key << ": no holder listed";
    }
  }
  auto privat = Parse("privat", {});
  ASSERT_TRUE(privat.ok());
  EXPECT_FALSE(privat->Has(Property::kIdentifikasjonsnummer));
  EXPECT_TRUE(privat->Has(Property::kNavn));
  EXPECT_TRUE(privat->withhold_confidential);
  auto privat_id = Parse("privat", {"navn,identifikasjonsnummer"});
  ASSERT_TRUE(privat_id.ok());
  EXPECT_TRUE(privat_id->Has(Property::kIdentifikasjonsnummer));
  auto presse_navn = Parse("presse", {"navn", "historikk"});
  ASSERT_TRUE(presse_navn.ok());
  EXPECT_FALSE(presse_navn->Has(Property::kIdentifikasjonsnummer));
  EXPECT_EQ(presse_navn->properties.count(), 1u);
  auto finans_navn = Parse("finans", {"navn"});
  ASSERT_TRUE(finans_navn.ok());
  EXPECT_TRUE(finans_navn->Has(Property::kIdentifikasjonsnummer));  // always, kDefault

  // Groups: relasjon-utvidet gives what the package has of it, identitetsgrunnlag-utvidet all or
  // nothing.
  auto ouh_rel = Parse("offentligutenhjemmel", {"relasjon-utvidet"});
  ASSERT_TRUE(ouh_rel.ok());
  EXPECT_TRUE(ouh_rel->Has(Property::kVergemaalEllerFremtidsfullmakt));
  EXPECT_FALSE(ouh_rel->Has(Property::kFamilierelasjon));
  EXPECT_FALSE(ouh_rel->Has(Property::kForeldreansvar));
  auto finans_rel = Parse("finans", {"relasjon-utvidet"});
  ASSERT_TRUE(finans_rel.ok());
  EXPECT_TRUE(finans_rel->Has(Property::kFamilierelasjon));
  EXPECT_TRUE(finans_rel->Has(Property::kForeldreansvar));
  auto eid_id = Parse("eid", {"identitetsgrunnlag-utvidet"});
  ASSERT_TRUE(eid_id.ok());
  EXPECT_TRUE(eid_id->Has(Property::kFalskIdentitet));
  EXPECT_TRUE(eid_id->Has(Property::kUtenlandskPersonidentifikasjon));
  auto eid_basis = Parse("eid", {});
  ASSERT_TRUE(eid_basis.ok());
  EXPECT_TRUE(eid_basis->Has(Property::kLegitimasjonsdokument));
  EXPECT_TRUE(eid_basis->Has(Property::kUtenlandskPersonidentifikasjon));
  EXPECT_FALSE(eid_basis->Has(Property::kFalskIdentitet));

  // Refused: a property or group the package may not have; unknown parts as before.
  for (auto [id, part] : std::vector<std::pair<std::string_view, std::string_view>>{
           {"offentligutenhjemmel", "familierelasjon"},
           {"offentligutenhjemmel", "identitetsgrunnlag-utvidet"},
           {"finans", "identitetsgrunnlag-utvidet"},
           {"finans", "utenlandskPersonidentifikasjon"},
           {"privatutenhjemmel", "falskIdentitet"},
           {"presse", "forholdTilSametingetsValgmanntall"},
           {"privat", "opphold"},
           {"privatutenfolkeregisteridentifikator", "identifikasjonsnummer"},
           {"presseutenfolkeregisteridentifikator", "identifikasjonsnummer"}}) {
    auto parsed = Parse(id, {part});
    ASSERT_FALSE(parsed.ok()) << id << " " << part;
    EXPECT_EQ(parsed.error().code, ErrorCode::kNotAcceptable);
    EXPECT_EQ(parsed.error().message, "Ugyldig part for rettighetspakken " +
                                          std::string(Pkg(id).name) + ": " + std::string(part));
  }
  auto unknown = Parse("finans", {"tull"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "Ugyldig part: tull");

  // History only where the package keeps it.
  auto ouh_hist = Parse("offentligutenhjemmel", {"historikk", "person-basis"});
  ASSERT_TRUE(ouh_hist.ok());
  EXPECT_TRUE(ouh_hist->HistoryOf(Property::kNavn));
  EXPECT_TRUE(ouh_hist->HistoryOf(Property::kBostedsadresse));
  EXPECT_TRUE(ouh_hist->HistoryOf(Property::kIdentifikasjonsnummer));
  EXPECT_FALSE(ouh_hist->HistoryOf(Property::kSivilstand));
  EXPECT_FALSE(ouh_hist->HistoryOf(Property::kStatus));
  auto finans_hist = Parse("finans", {"historikk"});
  ASSERT_TRUE(finans_hist.ok());
  EXPECT_TRUE(finans_hist->HistoryOf(Property::kSivilstand));
  EXPECT_FALSE(finans_hist->HistoryOf(Property::kStatus));
  auto omh_hist = Parse("offentlig-med-hjemmel", {"historikk"});
  ASSERT_TRUE(omh_hist.ok());
  EXPECT_TRUE(omh_hist->HistoryOf(Property::kStatus));
}

Row MakeRow(Property p, uint64_t from, uint64_t current_until, std::string json) {
  Row r;
  r.property = p;
  r.from_seq = from;
  r.current_until = current_until;
  r.json = std::move(json);
  return r;
}

// A person with a spouse, a child, a guardian, an address and one earlier, and `gradering`.
PersonRecord Person(std::string_view gradering, std::string_view status = "bosatt") {
  PersonRecord rec;
  rec.fnr = "12854848281";
  rec.rows = {
      MakeRow(
          Property::kIdentifikasjonsnummer, 1, kOpen,
          R"({"status":"iBruk","foedselsEllerDNummer":"12854848281","identifikatortype":"foedselsnummer"})"),
      MakeRow(Property::kStatus, 1, kOpen,
              R"({"kilde":"Synutopia","status":")" + std::string(status) + R"("})"),
      MakeRow(Property::kSivilstand, 2, kOpen,
              R"({"sivilstand":"gift","relatertVedSivilstand":"21828130061"})"),
      MakeRow(Property::kSivilstand, 1, 2, R"({"sivilstand":"ugift"})"),
      MakeRow(Property::kFamilierelasjon, 1, kOpen,
              R"({"relatertPerson":"01811210028","relatertPersonsRolle":"barn"})"),
      MakeRow(Property::kBostedsadresse, 2, kOpen,
              R"({"vegadresse":{"kommunenummer":"0301","adressenavn":"Lindernveien"}})"),
      MakeRow(Property::kBostedsadresse, 1, 2,
              R"({"vegadresse":{"kommunenummer":"4601","adressenavn":"Kalfarveien"}})"),
      MakeRow(Property::kAdressebeskyttelse, 1, kOpen,
              R"({"graderingsnivaa":")" + std::string(gradering) + R"("})"),
      MakeRow(Property::kInnflytting, 1, kOpen, R"({"fraflyttingsland":"SWE"})"),
      MakeRow(Property::kNavn, 1, kOpen, R"({"fornavn":"RETTFERDIG","etternavn":"SKRIVEBORD"})"),
      MakeRow(Property::kVergemaalEllerFremtidsfullmakt, 1, kOpen,
              R"({"verge":{"navn":{"fornavn":"STERK"},"foedselsEllerDNummer":"03897940190"}})"),
  };
  return rec;
}

std::string Render(const PersonRecord& rec, std::string_view id,
                   std::vector<std::string_view> parts) {
  auto sel = Parse(id, parts);
  EXPECT_TRUE(sel.ok()) << id;
  std::string out;
  if (sel.ok()) RenderPersonJson(rec, 2, *sel, out);
  return out;
}

TEST(PackagesTest, RenderingWithholdsWhatThePackageMayNotSee) {
  const PersonRecord open = Person("ugradert");
  // offentlig med hjemmel: everything, history of every part.
  const std::string omh = Render(open, "offentlig-med-hjemmel",
                                 {"person-basis", "relasjon-utvidet", "innflytting", "historikk"});
  EXPECT_NE(omh.find("21828130061"), std::string::npos);
  EXPECT_NE(omh.find("01811210028"), std::string::npos);
  EXPECT_NE(omh.find("03897940190"), std::string::npos);
  EXPECT_NE(omh.find("\"ugift\""), std::string::npos);
  // offentlig uten hjemmel: the spouse's number is left out, sivilstand has no history, addresses
  // and names do.
  const std::string ouh = Render(open, "offentligutenhjemmel",
                                 {"person-basis", "relasjon-utvidet", "innflytting", "historikk"});
  EXPECT_EQ(ouh.find("21828130061"), std::string::npos) << ouh;
  EXPECT_NE(ouh.find("\"sivilstand\":\"gift\""), std::string::npos) << ouh;
  EXPECT_EQ(ouh.find("\"ugift\""), std::string::npos) << ouh;
  EXPECT_NE(ouh.find("Kalfarveien"), std::string::npos) << ouh;
  EXPECT_EQ(ouh.find("familierelasjon"), std::string::npos) << ouh;
  EXPECT_NE(ouh.find("03897940190"), std::string::npos) << ouh;  // the guardian's number stays
  // Finans: relations and sivilstand history.
  const std::string finans =
      Render(open, "finans", {"person-basis", "relasjon-utvidet", "historikk"});
  EXPECT_NE(finans.find("01811210028"), std::string::npos);
  EXPECT_NE(finans.find("\"ugift\""), std::string::npos);
  // Presse: the number only when asked for, and then the identifikasjonsnummer rows keep it
  // though a guardian's or contact's number is withheld.
  const std::string presse =
      Render(open, "presse", {"identifikasjonsnummer", "vergemaalEllerFremtidsfullmakt"});
  EXPECT_NE(presse.find("\"foedselsEllerDNummer\":\"12854848281\""), std::string::npos) << presse;
  EXPECT_EQ(presse.find("03897940190"), std::string::npos) << presse;
  // Without folkeregisteridentifikator: no number anywhere.
  const std::string uten = Render(open, "privatutenfolkeregisteridentifikator",
                                  {"person-basis", "relasjon-utvidet", "historikk"});
  for (const char* number : {"12854848281", "21828130061", "01811210028", "03897940190"}) {
    EXPECT_EQ(uten.find(number), std::string::npos) << number << " in " << uten;
  }
  EXPECT_NE(uten.find("STERK"), std::string::npos) << uten;

  // A fortrolig person: addresses and innflytting withheld from every package but "offentlig med
  // hjemmel"; a confidential status is shown as aktiv.
  const PersonRecord fortrolig = Person("fortrolig", "midlertidig");
  const std::string omh_f =
      Render(fortrolig, "offentlig-med-hjemmel", {"person-basis", "innflytting"});
  EXPECT_NE(omh_f.find("Lindernveien"), std::string::npos);
  EXPECT_NE(omh_f.find("SWE"), std::string::npos);
  EXPECT_NE(omh_f.find("\"midlertidig\""), std::string::npos);
  for (std::string_view id : {"offentligutenhjemmel", "finans", "eid", "privatutenhjemmel"}) {
    const std::string out = Render(fortrolig, id, {"person-basis", "innflytting", "historikk"});
    EXPECT_EQ(out.find("Lindernveien"), std::string::npos) << id << out;
    EXPECT_EQ(out.find("Kalfarveien"), std::string::npos) << id << out;
    EXPECT_EQ(out.find("SWE"), std::string::npos) << id << out;
    EXPECT_NE(out.find("\"status\":\"aktiv\""), std::string::npos) << id << out;
    EXPECT_NE(out.find("\"graderingsnivaa\":\"fortrolig\""), std::string::npos) << id << out;
  }
  // strengtFortrolig: no package sees the addresses.
  const PersonRecord strengt = Person("strengtFortrolig");
  for (const Package& p : Packages()) {
    std::string out;
    auto sel = ParseParts(std::vector<std::string_view>{"person-basis", "historikk"}, p);
    ASSERT_TRUE(sel.ok());
    RenderPersonJson(strengt, 2, *sel, out);
    EXPECT_EQ(out.find("veien"), std::string::npos) << p.id << out;
  }
  // A contact given by number alone: the row is left out where the number is withheld.
  PersonRecord contact = Person("ugradert");
  contact.rows.push_back(MakeRow(Property::kKontaktinformasjonForDoedsbo, 1, kOpen,
                                 R"({"person":{"foedselsEllerDNummer":"10856520086"}})"));
  EXPECT_NE(Render(contact, "offentligutenhjemmel", {}).find("10856520086"), std::string::npos);
  EXPECT_EQ(Render(contact, "privat", {}).find("kontaktinformasjonForDoedsbo"), std::string::npos);
  // klientadresse is not the person's own address: shown.
  const std::string klient = Render(Person("klientadresse"), "privatutenhjemmel", {});
  EXPECT_NE(klient.find("Lindernveien"), std::string::npos);
}

TEST(PackagesTest, AppendWithoutKeysIsExactAndRefusesMalformedInput) {
  const std::string_view keys[] = {"relatertPerson", "foedselsEllerDNummer"};
  std::string out;
  ASSERT_TRUE(AppendWithoutKeys(
      out,
      R"({ "a" : 1, "relatertPerson":"x", "b":{"foedselsEllerDNummer":{"deep":[1,{"relatertPerson":2}]},"c":[{"relatertPerson":null,"d":"\"relatertPerson\""}]},"e":true })",
      keys));
  EXPECT_EQ(out, R"({"a":1,"b":{"c":[{"d":"\"relatertPerson\""}]},"e":true})");
  out = "kept";
  ASSERT_TRUE(AppendWithoutKeys(out, R"({"relatertPerson":"x"})", keys));
  EXPECT_EQ(out, "kept{}");
  for (std::string_view bad :
       {"", "{", R"({"a":})", R"({"a" 1})", R"({"a":1,})", R"({"a":"x)", R"([1,2)", "{}}"}) {
    std::string result = "kept";
    EXPECT_FALSE(AppendWithoutKeys(result, bad, keys)) << bad;
    EXPECT_EQ(result, "kept");
  }
  std::string deep(65, '[');
  deep += std::string(65, ']');
  EXPECT_FALSE(AppendWithoutKeys(out, deep, keys));
  std::string ok_deep(64, '[');
  ok_deep += std::string(64, ']');
  std::string result;
  EXPECT_TRUE(AppendWithoutKeys(result, ok_deep, keys));
  EXPECT_EQ(result, ok_deep);
}

}  // namespace
}  // namespace norreg::freg
