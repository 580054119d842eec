#pragma once
// The criteria of a tailored extract (POST uttrekk/tilpasset, SPEC 2.5) and their evaluation
// against a person as the person stood at a sekvensnummer.
//
// Thread-safety: a parsed UttrekkCriteria is immutable; Matches is pure and thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "freg/record_codec.hpp"

namespace norreg::freg {

struct UttrekkCriteria {
  // Expanded statuses (the group `aktiv` becomes midlertidig, ikkeBosatt, forsvunnet,
  // foedselsregistrert); a person matches when its current status is one of them.
  std::vector<std::string> statuses;
  std::string bostedskommunenummer;   // "" = any; 4 digits
  std::string oppholdskommunenummer;  // "" = any; 4 digits (never both kinds)
  std::optional<int> foedselsaar_fra, foedselsaar_til;  // inclusive
  std::optional<int> doedsaar_fra, doedsaar_til;        // inclusive
  std::string kjoenn;                 // "" = any; kvinne|mann
  std::string statsborgerskap;        // "" = any; ISO 3166 alpha-3 (e.g. NOR)
  std::string sivilstandstype;        // "" = any; a sivilstand enum value
  std::string adressenavn;            // "" = any; street name of the current bostedsadresse
                                      // (vegadresse), compared case-insensitively
  // Ordered through a package without confidential data (freg/packages.hpp,
  // Confidential::kNone): a person whose adressebeskyttelse is fortrolig or strengtFortrolig
  // never matches an address criterion. Set by UttrekkService::OrderTilpasset from the package,
  // never by the request; stored with the job as "norregUtenTaushetsbelagt":true.
  bool withhold_confidential = false;

  // The criteria back as canonical JSON (stored with the job so it survives a restart).
  std::string ToJson() const;
};

// Parses the request body (JSON). kInvalidInput with a message naming the field for: not a JSON
// object, unknown fields, missing/empty personstatustyper, an unknown status, both kommune kinds,
// a kommunenummer that is not 4 digits, years that are not 4-digit strings or numbers in
// 1800..2100, fra > til, wrong JSON types, an unknown kjoenn or sivilstandstype.
// `stored`: the text is UttrekkCriteria::ToJson of a stored job, which may also hold
// "norregUtenTaushetsbelagt" (a request may not).
Result<UttrekkCriteria> ParseUttrekkCriteria(std::string_view json, bool stored = false);

// True when the person of `view`, as its document stood at sekvensnummer `seq` (rows present at
// seq, current rows only), matches every given criterion.
bool Matches(const UttrekkCriteria& criteria, const RecordView& view, uint64_t seq);

}  // namespace norreg::freg
