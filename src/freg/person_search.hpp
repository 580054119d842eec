#pragma once
// Person search (docs/search.md): what a person is found by, and whether a person matches a query.
//
// Two halves, both pure and thread-safe:
//  - SearchTermsOf: the index terms of a person's record — 32-bit hashes of (kind, value) for the
//    name words and word pairs (by phonetic key), birth date, street prefix, postnummer, kommune
//    and the foreign identifiers, taken from every row present at the record's latest version
//    (current and history, so historical names and addresses are found), each in its TermScope
//    (from a current row or only from history; a living or a dead person). The stores keep them
//    in a persistent index (term, person) written in the same transaction as the record. A term
//    is a hash: several values may share one, so the index only narrows the search to candidates;
//  - Matches: the exact test of one candidate against a query, on the record itself.
// kSearchTermsVersion names the term definition: a store whose index was built by another
// version rebuilds it when it opens.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "freg/person_record.hpp"
#include "freg/record_codec.hpp"

namespace norreg::freg {

// Bumped whenever SearchTermsOf or the phonetic key changes what it returns.
// 2: terms in scopes.
inline constexpr int kSearchTermsVersion = 2;

enum class SearchTermKind : uint8_t {
  kNameWord = 1,  // the phonetic key of one word of fornavn, mellomnavn or etternavn
  kNamePair,      // two such keys from one navn row (unordered)
  kBirthDate,     // foedselsdato, YYYY-MM-DD
  kStreet,        // the first 3 characters of a vegadresse's normalised adressenavn
  kPostStreet,    // postnummer + those 3 characters
  kPostnummer,    // a residential (or stay) address's postnummer
  kKommune,       // its kommunenummer
  kUtenlandskId,  // utenlandskPersonidentifikasjon as "<UTSTEDERLAND>-<NUMMER>"
  kLegitimasjon,  // legitimasjonsdokument as "<UTSTEDERLAND>-<NUMMER>"
  kDuf,           // utlendingsmyndighetenesIdentifikasjonsnummer
};

// The term of one (kind, value); values are as SearchTermsOf derives them (normalised text).
uint32_t SearchTerm(SearchTermKind kind, std::string_view value);

// Where a person's value was found: in a current row (CurrentAt the latest version) or only in
// history, and whether the person's current status is doed. Each value of a person is indexed in
// one scope (kCurrent when any current row has it), so a search reads only the persons its
// criteria can match: a plain search the living persons by their current rows,
// opplysningsgrunnlag=historisk the history scopes too, inkluderDoede the dead ones
// (docs/search.md, "Scopes").
enum class TermScope : uint8_t { kCurrent = 0, kCurrentDead, kHistory, kHistoryDead };
// The term of `term` (SearchTerm's) in `scope`: kCurrent is the term itself, each other scope a
// bijection of it, so that terms of one scope never collide more than SearchTerm's do.
uint32_t ScopedTerm(uint32_t term, TermScope scope);
// The kNamePair term of two phonetic keys (in either order) and the kPostStreet term of a
// postnummer and a StreetPrefix: the one place their values are spelt.
uint32_t NamePairTerm(std::string_view key_a, std::string_view key_b);
uint32_t PostStreetTerm(std::string_view postnummer, std::string_view street_prefix);

// The distinct scoped terms of a person at `seq` (normally the latest version), ascending.
// Addresses of a person who is strengtFortrolig at `seq` are not indexed (and never match, see
// Matches).
std::vector<uint32_t> SearchTermsOf(const PersonRecord& record, uint64_t seq);
std::vector<uint32_t> SearchTermsOf(const RecordView& record, uint64_t seq);

// The characters of a street query and of the stored names it is compared with: normalised words
// joined by one space ("Adolph Bergs vei" -> "ADOLPH BERGS VEI").
std::string NormalizeStreet(std::string_view text);
// The first three characters (UTF-8 code points) of a normalised street, or "" when shorter.
std::string StreetPrefix(std::string_view normalized_street);
// "<LAND>-<NUMMER>" upper case without blanks, the form foreign identifiers are compared in.
std::string NormalizeForeignId(std::string_view text);

// A query, already validated (service/person_search). Empty strings and nullopt mean "not given".
struct SearchCriteria {
  std::vector<std::string> navn;  // normalised words, in the order given
  bool fonetisk = false;          // soekFonetisk: words match by phonetic key
  // entydig søk: the first word must be a word of fornavn, the last one of etternavn (others any)
  bool navn_ordered = false;
  bool historisk = false;    // opplysningsgrunnlag=historisk: names and addresses of history match
  std::string kjoenn;        // "mann" | "kvinne"
  std::string foedselsdato;  // YYYY-MM-DD
  std::optional<int> foedselsaar_fra, foedselsaar_til;
  std::string adressenavn;  // normalised prefix (NormalizeStreet), at least 3 characters
  std::optional<uint32_t> husnummer;
  std::string husbokstav;  // upper case; with husnummer only
  // true: the address's letter must equal husbokstav, also when none was given (entydig søk);
  // false: a letter is only compared when one was given
  bool husbokstav_exact = false;
  std::string postnummer, kommunenummer, fylkesnummer;
  bool inkluder_oppholdsadresse = false;
  bool inkluder_doede = false;
  std::string utenlandsk_id;  // NormalizeForeignId
  std::string legitimasjonsdokument;
  std::string duf;
  // The caller may not see confidential data: a fortrolig person's addresses never match either.
  bool withhold_confidential = false;

  bool HasAddress() const {
    return !adressenavn.empty() || husnummer || !postnummer.empty() || !kommunenummer.empty() ||
           !fylkesnummer.empty();
  }
};

// How a person matched; see Matches.
struct SearchMatch {
  bool matched = false;
  // With address criteria: whether one of the addresses that matched has no house number (entydig
  // søk gives navn + adressenavn alone a right to a hit only for such an address).
  bool address_without_husnummer = false;
};

// The exact test of the person at `seq` against `criteria`: every given criterion holds.
//  - navn: every word equals (fonetisk: has the phonetic key of) a word of one navn row — current,
//    or any present row with historisk; with navn_ordered the first word is in fornavn and the last
//    in etternavn;
//  - kjoenn, foedselsdato, foedselsaar range, the foreign identifiers: the current rows;
//  - the address criteria hold together for one bostedsadresse row (and oppholdsadresse with
//    inkluder_oppholdsadresse), current or with historisk any present one; a strengtFortrolig
//    person (with withhold_confidential also a fortrolig one) never matches an address criterion;
//  - without inkluder_doede a person whose current status is doed does not match.
SearchMatch Matches(const RecordView& record, uint64_t seq, const SearchCriteria& criteria);

}  // namespace norreg::freg
