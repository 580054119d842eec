#include "freg/parts.hpp"

#include <initializer_list>
#include <string>

namespace norreg::freg {
namespace {

constexpr size_t kMaxEchoedPart = 100;

void AddAll(PartSelection& sel, std::initializer_list<Property> props) {
  for (Property p : props) sel.Add(p);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Applies one part to `sel`; false when the part is unknown. `named` is set when the part names
// properties (anything but historikk).
bool ApplyPart(std::string_view part, PartSelection& sel, bool& named) {
  if (part == "historikk") {
    sel.historikk = true;
    return true;
  }
  named = true;
  if (part == "person-basis") {
    sel.properties |= PartSelection::PersonBasis().properties;
  } else if (part == "identitetsgrunnlag-utvidet") {
    AddAll(sel, {Property::kFalskIdentitet, Property::kLegitimasjonsdokument,
                 Property::kUtenlandskPersonidentifikasjon});
  } else if (part == "relasjon-utvidet") {
    AddAll(sel, {Property::kFamilierelasjon, Property::kForeldreansvar,
                 Property::kVergemaalEllerFremtidsfullmakt});
  } else if (auto p = PropertyFromName(part)) {
    sel.Add(*p);
  } else if (part != "oppholdPaaSvalbard") {
    return false;
  }
  return true;
}

}  // namespace

PartSelection PartSelection::PersonBasis() {
  PartSelection sel;
  AddAll(sel,
         {Property::kIdentifikasjonsnummer, Property::kIdentitetsgrunnlag, Property::kStatus,
          Property::kDoedsfall, Property::kSivilstand, Property::kFoedsel,
          Property::kStatsborgerskap, Property::kKjoenn, Property::kNavn, Property::kBostedsadresse,
          Property::kOppholdsadresse, Property::kDeltBosted, Property::kPostadresse,
          Property::kPostadresseIUtlandet, Property::kAdressebeskyttelse,
          Property::kKontaktinformasjonForDoedsbo, Property::kPreferertKontaktadresse});
  return sel;
}

PartSelection PartSelection::All() {
  PartSelection sel;
  sel.properties.set();
  sel.historikk = true;
  return sel;
}

Result<PartSelection> ParseParts(std::span<const std::string_view> part_values) {
  PartSelection sel;
  bool named = false;
  for (std::string_view value : part_values) {
    while (true) {
      const size_t comma = value.find(',');
      const std::string_view part = Trim(value.substr(0, comma));
      if (!part.empty() && !ApplyPart(part, sel, named)) {
        return MakeError(ErrorCode::kNotAcceptable,
                         "Ugyldig part: " + std::string(part.substr(0, kMaxEchoedPart)));
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  if (!named) sel.properties = PartSelection::PersonBasis().properties;
  sel.Add(Property::kIdentifikasjonsnummer);
  return sel;
}

}  // namespace norreg::freg
