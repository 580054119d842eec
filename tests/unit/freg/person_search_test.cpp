// Person search: a record's index terms and the exact test of a record against criteria.
#include "freg/person_search.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "freg/record_codec.hpp"
#include "freg/search_text.hpp"

namespace norreg::freg {
namespace {

Row MakeRow(Property p, std::string json, uint64_t from = 1, uint64_t current_until = kOpen,
            uint64_t removed_at = kOpen) {
  Row r;
  r.property = p;
  r.json = std::move(json);
  r.from_seq = from;
  r.current_until = current_until;
  r.removed_at = removed_at;
  return r;
}

std::string Vegadresse(std::string_view street, std::string_view number, std::string_view letter,
                       std::string_view postnummer, std::string_view kommune) {
  std::string nummer = R"("husnummer":")" + std::string(number) + "\"";
  if (!letter.empty()) nummer += R"(,"husbokstav":")" + std::string(letter) + "\"";
  return R"({"vegadresse":{"kommunenummer":")" + std::string(kommune) + R"(","adressenavn":")" +
         std::string(street) + R"(","adressenummer":{)" + nummer +
         R"(},"poststed":{"poststedsnavn":"OSLO","postnummer":")" + std::string(postnummer) +
         R"("}}})";
}

// KRISTINE MARIE PETTERSEN, born 1981-10-13, woman, living at Økernveien 10B 0579 Oslo since
// version 3 (before: Storgata 1, 0155 Oslo); named KRISTINE HANSEN until version 2.
PersonRecord Kristine() {
  PersonRecord r;
  r.fnr = "13108138812";
  r.rows = {
      MakeRow(Property::kIdentifikasjonsnummer,
              R"({"foedselsEllerDNummer":"13108138812","identifikatortype":"foedselsnummer"})"),
      MakeRow(Property::kStatus, R"({"status":"bosatt"})"),
      MakeRow(Property::kBostedsadresse, Vegadresse("ØKERNVEIEN", "10", "B", "0579", "0301"), 3),
      MakeRow(Property::kBostedsadresse, Vegadresse("STORGATA", "1", "", "0155", "0301"), 1, 3),
      MakeRow(Property::kOppholdsadresse, Vegadresse("FJELLVEGEN", "7", "", "3600", "3303")),
      MakeRow(Property::kKjoenn, R"({"kjoenn":"kvinne"})"),
      MakeRow(Property::kFoedsel, R"({"foedselsdato":"1981-10-13","foedselsaar":"1981"})"),
      MakeRow(Property::kNavn,
              R"({"fornavn":"KRISTINE","mellomnavn":"MARIE","etternavn":"PETTERSEN"})", 2),
      MakeRow(Property::kNavn, R"({"fornavn":"KRISTINE","etternavn":"HANSEN"})", 1, 2),
      MakeRow(Property::kLegitimasjonsdokument,
              R"({"identifikasjonsdokumentnummer":"7545367","utstederland":"DNK"})"),
  };
  SortRows(r.rows);
  return r;
}

struct Parsed {
  std::string encoded;
  RecordView view;
};

SearchMatch Check(const PersonRecord& record, const SearchCriteria& c, uint64_t seq = 3) {
  static thread_local Parsed p;
  p.encoded.clear();
  EncodeRecord(record, p.encoded);
  EXPECT_TRUE(p.view.Parse(p.encoded).ok());
  return Matches(p.view, seq, c);
}

bool Has(const std::vector<uint32_t>& terms, SearchTermKind kind, std::string_view value,
         TermScope scope = TermScope::kCurrent) {
  return std::binary_search(terms.begin(), terms.end(), ScopedTerm(SearchTerm(kind, value), scope));
}

SearchCriteria Navn(std::string_view text) {
  SearchCriteria c;
  c.navn = SearchWords(text);
  return c;
}

TEST(PersonSearchTerms, CoverNamesDatesAddressesAndHistory) {
  const PersonRecord r = Kristine();
  const auto terms = SearchTermsOf(r, 3);
  EXPECT_TRUE(std::is_sorted(terms.begin(), terms.end()));
  EXPECT_EQ(std::adjacent_find(terms.begin(), terms.end()), terms.end());
  const std::string kristine = PhoneticKey("KRISTINE"), pettersen = PhoneticKey("PETTERSEN"),
                    hansen = PhoneticKey("HANSEN");
  EXPECT_TRUE(Has(terms, SearchTermKind::kNameWord, kristine));
  // The old name in the history scope; KRISTINE, in both names, in the current one only.
  EXPECT_TRUE(Has(terms, SearchTermKind::kNameWord, hansen, TermScope::kHistory));
  EXPECT_FALSE(Has(terms, SearchTermKind::kNameWord, hansen));
  EXPECT_FALSE(Has(terms, SearchTermKind::kNameWord, kristine, TermScope::kHistory));
  const auto& [a, b] = std::minmax(kristine, pettersen);
  EXPECT_TRUE(Has(terms, SearchTermKind::kNamePair, a + "|" + b));
  EXPECT_TRUE(Has(terms, SearchTermKind::kBirthDate, "1981-10-13"));
  EXPECT_TRUE(Has(terms, SearchTermKind::kStreet, "ØKE"));
  EXPECT_TRUE(Has(terms, SearchTermKind::kStreet, "STO", TermScope::kHistory));  // the old address
  EXPECT_TRUE(Has(terms, SearchTermKind::kPostnummer, "0155", TermScope::kHistory));
  EXPECT_FALSE(Has(terms, SearchTermKind::kPostnummer, "0155"));
  EXPECT_TRUE(Has(terms, SearchTermKind::kPostStreet, "0579|ØKE"));
  EXPECT_TRUE(Has(terms, SearchTermKind::kPostnummer, "3600"));  // oppholdsadresse
  EXPECT_TRUE(Has(terms, SearchTermKind::kKommune, "0301"));
  EXPECT_TRUE(Has(terms, SearchTermKind::kLegitimasjon, "DNK-7545367"));
  // Not at version 1: the name and address of later versions are not there yet.
  const auto early = SearchTermsOf(r, 1);
  EXPECT_FALSE(Has(early, SearchTermKind::kNameWord, pettersen));
  EXPECT_FALSE(Has(early, SearchTermKind::kStreet, "ØKE"));
}

// A dead person's terms are in the dead scopes: current and history alike.
TEST(PersonSearchTerms, ADeadPersonsTermsAreInTheDeadScopes) {
  PersonRecord r = Kristine();
  for (Row& row : r.rows) {
    if (row.property == Property::kStatus) row.current_until = 3;
  }
  r.rows.push_back(MakeRow(Property::kStatus, R"({"status":"doed"})", 3));
  SortRows(r.rows);
  const auto terms = SearchTermsOf(r, 3);
  const std::string kristine = PhoneticKey("KRISTINE"), hansen = PhoneticKey("HANSEN");
  EXPECT_TRUE(Has(terms, SearchTermKind::kNameWord, kristine, TermScope::kCurrentDead));
  EXPECT_FALSE(Has(terms, SearchTermKind::kNameWord, kristine));
  EXPECT_TRUE(Has(terms, SearchTermKind::kNameWord, hansen, TermScope::kHistoryDead));
  EXPECT_FALSE(Has(terms, SearchTermKind::kNameWord, hansen, TermScope::kHistory));
  EXPECT_TRUE(Has(terms, SearchTermKind::kBirthDate, "1981-10-13", TermScope::kCurrentDead));
  // Alive at version 2: the living scopes.
  const auto alive = SearchTermsOf(r, 2);
  EXPECT_TRUE(Has(alive, SearchTermKind::kNameWord, kristine));
  EXPECT_TRUE(Has(alive, SearchTermKind::kNameWord, hansen, TermScope::kHistory));
}

TEST(PersonSearchTerms, ScopedTermsAreDistinctBijections) {
  const uint32_t term = SearchTerm(SearchTermKind::kNameWord, "KRISTINE");
  EXPECT_EQ(ScopedTerm(term, TermScope::kCurrent), term);
  std::set<uint32_t> seen;
  for (TermScope scope : {TermScope::kCurrent, TermScope::kCurrentDead, TermScope::kHistory,
                          TermScope::kHistoryDead}) {
    seen.insert(ScopedTerm(term, scope));
    // Within a scope, distinct terms stay distinct.
    EXPECT_NE(ScopedTerm(term, scope), ScopedTerm(term + 1, scope));
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST(PersonSearchTerms, StrengtFortroligAddressesAreNotIndexed) {
  PersonRecord r = Kristine();
  r.rows.push_back(
      MakeRow(Property::kAdressebeskyttelse, R"({"graderingsnivaa":"strengtFortrolig"})"));
  SortRows(r.rows);
  const auto terms = SearchTermsOf(r, 3);
  EXPECT_FALSE(Has(terms, SearchTermKind::kStreet, "ØKE"));
  EXPECT_FALSE(Has(terms, SearchTermKind::kPostnummer, "0579"));
  EXPECT_TRUE(Has(terms, SearchTermKind::kBirthDate, "1981-10-13"));
  SearchCriteria c = Navn("KRISTINE");
  EXPECT_TRUE(Check(r, c).matched);
  c.postnummer = "0579";
  EXPECT_FALSE(Check(r, c).matched);
}

TEST(PersonSearchTerms, RecordViewAndRecordGiveTheSameTerms) {
  const PersonRecord r = Kristine();
  std::string encoded;
  EncodeRecord(r, encoded);
  RecordView view;
  ASSERT_TRUE(view.Parse(encoded).ok());
  EXPECT_EQ(SearchTermsOf(view, 3), SearchTermsOf(r, 3));
}

TEST(PersonSearchMatch, NamesAreWholeWordsExactOrPhonetic) {
  const PersonRecord r = Kristine();
  EXPECT_TRUE(Check(r, Navn("kristine pettersen")).matched);
  EXPECT_TRUE(Check(r, Navn("Marie")).matched);
  EXPECT_TRUE(Check(r, Navn("PETTERSEN KRISTINE")).matched);  // soek: any order
  EXPECT_FALSE(Check(r, Navn("KRIST")).matched);              // whole words only
  EXPECT_FALSE(Check(r, Navn("CHRISTINE PETERSEN")).matched);
  SearchCriteria c = Navn("CHRISTINE PETERSEN");
  c.fonetisk = true;
  EXPECT_TRUE(Check(r, c).matched);
  // Every word must be in the same row: the old surname with the new middle name does not meet.
  SearchCriteria mixed = Navn("MARIE HANSEN");
  mixed.historisk = true;
  EXPECT_FALSE(Check(r, mixed).matched);
}

TEST(PersonSearchMatch, HistoryOnlyWithHistorisk) {
  const PersonRecord r = Kristine();
  SearchCriteria c = Navn("KRISTINE HANSEN");
  EXPECT_FALSE(Check(r, c).matched);
  c.historisk = true;
  EXPECT_TRUE(Check(r, c).matched);
  SearchCriteria street;
  street.adressenavn = NormalizeStreet("Storgata");
  EXPECT_FALSE(Check(r, street).matched);
  street.historisk = true;
  EXPECT_TRUE(Check(r, street).matched);
}

TEST(PersonSearchMatch, EntydigNameOrder) {
  const PersonRecord r = Kristine();
  SearchCriteria c = Navn("KRISTINE PETTERSEN");
  c.navn_ordered = true;
  EXPECT_TRUE(Check(r, c).matched);
  c.navn = SearchWords("PETTERSEN KRISTINE");
  EXPECT_FALSE(Check(r, c).matched);
  c.navn = SearchWords("KRISTINE MARIE PETTERSEN");
  EXPECT_TRUE(Check(r, c).matched);
  c.navn = SearchWords("MARIE PETTERSEN");  // MARIE is a middle name, not a fornavn
  EXPECT_FALSE(Check(r, c).matched);
}

TEST(PersonSearchMatch, AddressCriteriaHoldTogetherForOneAddress) {
  const PersonRecord r = Kristine();
  SearchCriteria c;
  c.adressenavn = NormalizeStreet("økern");
  EXPECT_TRUE(Check(r, c).matched);
  c.husnummer = 10;
  EXPECT_TRUE(Check(r, c).matched);  // soek: no letter given, any letter
  c.husbokstav = "A";
  EXPECT_FALSE(Check(r, c).matched);
  c.husbokstav = "B";
  EXPECT_TRUE(Check(r, c).matched);
  c.husbokstav.clear();
  c.husbokstav_exact = true;  // entydig: absence of the letter must match too
  EXPECT_FALSE(Check(r, c).matched);
  c = {};
  c.postnummer = "0579";
  c.kommunenummer = "0301";
  c.fylkesnummer = "03";
  EXPECT_TRUE(Check(r, c).matched);
  c.fylkesnummer = "46";
  EXPECT_FALSE(Check(r, c).matched);
  // The stay address counts only when asked for.
  c = {};
  c.postnummer = "3600";
  EXPECT_FALSE(Check(r, c).matched);
  c.inkluder_oppholdsadresse = true;
  EXPECT_TRUE(Check(r, c).matched);
  // Street of one address, postnummer of another: no match.
  c = {};
  c.adressenavn = NormalizeStreet("ØKERNVEIEN");
  c.postnummer = "3600";
  c.inkluder_oppholdsadresse = true;
  EXPECT_FALSE(Check(r, c).matched);
}

TEST(PersonSearchMatch, CurrentFactsAndDeath) {
  PersonRecord r = Kristine();
  SearchCriteria c;
  c.kjoenn = "kvinne";
  c.foedselsdato = "1981-10-13";
  c.foedselsaar_fra = 1980;
  c.foedselsaar_til = 1981;
  EXPECT_TRUE(Check(r, c).matched);
  c.foedselsaar_fra = 1982;
  EXPECT_FALSE(Check(r, c).matched);
  c = {};
  c.kjoenn = "mann";
  EXPECT_FALSE(Check(r, c).matched);
  c = {};
  c.legitimasjonsdokument = NormalizeForeignId("dnk-7545367");
  EXPECT_TRUE(Check(r, c).matched);
  // Dead: found only with inkluder_doede.
  r.rows.push_back(MakeRow(Property::kStatus, R"({"status":"doed"})", 3));
  for (Row& row : r.rows) {
    if (row.property == Property::kStatus && row.from_seq == 1) row.current_until = 3;
  }
  SortRows(r.rows);
  c = Navn("KRISTINE");
  EXPECT_FALSE(Check(r, c).matched);
  c.inkluder_doede = true;
  EXPECT_TRUE(Check(r, c).matched);
}

TEST(PersonSearchMatch, AddressWithoutNumberIsReported) {
  PersonRecord r = Kristine();
  r.rows.push_back(MakeRow(Property::kBostedsadresse,
                           R"({"vegadresse":{"kommunenummer":"5001","adressenavn":"HAUGEN",)"
                           R"("poststed":{"postnummer":"7010"}}})",
                           3));
  SortRows(r.rows);
  SearchCriteria c;
  c.adressenavn = NormalizeStreet("HAUGEN");
  const SearchMatch m = Check(r, c);
  EXPECT_TRUE(m.matched);
  EXPECT_TRUE(m.address_without_husnummer);
  c.adressenavn = NormalizeStreet("ØKERNVEIEN");
  EXPECT_FALSE(Check(r, c).address_without_husnummer);
}

TEST(PersonSearchText, StreetPrefixCountsCharacters) {
  EXPECT_EQ(StreetPrefix("ØKERNVEIEN"), "ØKE");
  EXPECT_EQ(StreetPrefix("ÅS"), "");
  EXPECT_EQ(NormalizeStreet("  Adolph  Bergs vei "), "ADOLPH BERGS VEI");
  EXPECT_EQ(NormalizeForeignId("arg- 8766 523769"), "ARG-8766523769");
}

}  // namespace
}  // namespace norreg::freg
