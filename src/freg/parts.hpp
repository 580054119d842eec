#pragma once
// The `part` query parameter of the person lookups (docs/packages.md): which top-level
// properties a person document shows, whether history rows (erGjeldende=false) are included, and
// what the caller's access package withholds whatever the parts say.
#include <bitset>
#include <span>
#include <string_view>

#include "common/result.hpp"
#include "freg/packages.hpp"
#include "freg/person_record.hpp"

namespace norreg::freg {

struct PartSelection {
  std::bitset<kPropertyCount> properties;
  bool historikk = false;
  // The properties `historikk` adds history rows to (the package's history rule).
  std::bitset<kPropertyCount> history = std::bitset<kPropertyCount>().set();
  // Confidential::kNone (freg/packages.hpp): the addresses, innflytting and utflytting of a
  // person whose adressebeskyttelse is fortrolig are left out too (strengtFortrolig ones are left
  // out for everyone), and confidential statuses are shown as "aktiv".
  bool withhold_confidential = false;
  // Members left out of every row, at any depth (Package::withheld_keys), looked for only in the
  // rows of `withheld_in` (PropertiesHolding).
  std::span<const std::string_view> withheld_keys;
  std::bitset<kPropertyCount> withheld_in;

  bool Has(Property p) const { return properties.test(static_cast<size_t>(p)); }
  bool HistoryOf(Property p) const { return historikk && history.test(static_cast<size_t>(p)); }
  void Add(Property p) { properties.set(static_cast<size_t>(p)); }

  // `person-basis` (also what no `part` at all gives): identifikasjonsnummer,
  // identitetsgrunnlag, status, doedsfall, sivilstand, foedsel, statsborgerskap, kjoenn, navn,
  // bostedsadresse, oppholdsadresse, deltBosted, postadresse, postadresseIUtlandet,
  // adressebeskyttelse, kontaktinformasjonForDoedsbo, preferertKontaktadresse; no history.
  static PartSelection PersonBasis();
  // Every property, with history (internal uses: tests, full exports).
  static PartSelection All();
};

// Parses the values of every `part` parameter for the package "offentlig med hjemmel".
Result<PartSelection> ParseParts(std::span<const std::string_view> part_values);

// Parses the values of every `part` parameter for `package`, in any order. Each value may hold
// several comma-separated parts (`part=navn,kjoenn`); blanks around a part and empty parts are
// ignored. Parts (case-sensitive):
//   person-basis                the package's person-basis set
//   historikk                   history rows of the returned properties the package allows it for
//   identitetsgrunnlag-utvidet  falskIdentitet, legitimasjonsdokument,
//   utenlandskPersonidentifikasjon relasjon-utvidet            familierelasjon, foreldreansvar,
//   vergemaalEllerFremtidsfullmakt <property name>             that top-level property (`navn`,
//   `innflytting`, ...); the API's
//                               `oppholdPaaSvalbard` is accepted and selects nothing (norreg keeps
//                               no such rows).
// begrensningIRettsligHandleevne and fratattRettsligHandleevne (OpenAPI 1.6) belong to no group,
// person-basis included: only their own names select them (docs/design.md, "Fields added since
// OAS 1.5").
// When no part names a property or group (no parts, or only `historikk`), the result is the
// package's person-basis: `part=historikk` alone is person-basis with history, on the properties
// the package keeps history for. identifikasjonsnummer is always included where the package's
// identifier rule is kDefault. relasjon-utvidet gives what the package allows of it;
// identitetsgrunnlag-utvidet needs all three of its parts allowed.
// Failure (Error{kNotAcceptable}, the part cut to 100 bytes): an unknown part gives "Ugyldig part:
// <part>"; a property the package may not have, or a group of which it may have nothing, gives
// "Ugyldig part for rettighetspakken <name>: <part>".
Result<PartSelection> ParseParts(std::span<const std::string_view> part_values,
                                 const Package& package);

}  // namespace norreg::freg
