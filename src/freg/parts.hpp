#pragma once
// The `part` query parameter of the person lookups (SPEC 2.2): which top-level properties a
// person document shows and whether history rows (erGjeldende=false) are included.
#include <bitset>
#include <span>
#include <string_view>

#include "common/result.hpp"
#include "freg/person_record.hpp"

namespace norreg::freg {

struct PartSelection {
  std::bitset<kPropertyCount> properties;
  bool historikk = false;

  bool Has(Property p) const { return properties.test(static_cast<size_t>(p)); }
  void Add(Property p) { properties.set(static_cast<size_t>(p)); }

  // `person-basis` (also what no `part` at all gives): identifikasjonsnummer,
  // identitetsgrunnlag, status, doedsfall, sivilstand, foedsel, statsborgerskap, kjoenn, navn,
  // bostedsadresse, oppholdsadresse, deltBosted, postadresse, postadresseIUtlandet,
  // adressebeskyttelse, kontaktinformasjonForDoedsbo, preferertKontaktadresse; no history.
  static PartSelection PersonBasis();
  // Every property, with history (internal uses: tests, full exports).
  static PartSelection All();
};

// Parses the values of every `part` parameter, in any order. Each value may hold several
// comma-separated parts (`part=navn,kjoenn`); blanks around a part and empty parts are ignored.
// Parts (case-sensitive):
//   person-basis                the person-basis set above
//   historikk                   include history rows of every returned property
//   identitetsgrunnlag-utvidet  falskIdentitet, legitimasjonsdokument,
//   utenlandskPersonidentifikasjon relasjon-utvidet            familierelasjon, foreldreansvar,
//   vergemaalEllerFremtidsfullmakt <property name>             that top-level property (`navn`,
//   `innflytting`, ...). The API's
//                               `oppholdPaaSvalbard` is accepted and selects nothing (norreg keeps
//                               no such rows).
// begrensningIRettsligHandleevne and fratattRettsligHandleevne (OpenAPI 1.6) belong to no group,
// person-basis included: only their own names select them (docs/design.md, "Fields added since
// OAS 1.5").
// When no part names a property or group (no parts, or only `historikk`), the result is
// person-basis: `part=historikk` alone is person-basis with history. identifikasjonsnummer is
// always included.
// Failure: an unknown part gives Error{kNotAcceptable, "Ugyldig part: <part>"} (the part cut to
// 100 bytes).
Result<PartSelection> ParseParts(std::span<const std::string_view> part_values);

}  // namespace norreg::freg
