#include "freg/parts.hpp"

#include <initializer_list>
#include <string>

namespace norreg::freg {
namespace {

constexpr size_t kMaxEchoedPart = 100;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Adds to `sel` what the package may have of `group`; false when that is nothing, or when
// `whole` and the package may not have all of it.
bool AddAllowed(PartSelection& sel, std::initializer_list<Property> group, const Package& package,
                bool whole) {
  size_t allowed = 0;
  for (Property p : group) allowed += package.Allows(p) ? 1 : 0;
  if (allowed == 0 || (whole && allowed < group.size())) return false;
  for (Property p : group) {
    if (package.Allows(p)) sel.Add(p);
  }
  return true;
}

enum class PartResult { kOk, kUnknown, kNotInPackage };

// Applies one part to `sel`. `named` is set when the part names properties (anything but
// historikk).
PartResult ApplyPart(std::string_view part, PartSelection& sel, bool& named,
                     const Package& package) {
  if (part == "historikk") {
    sel.historikk = true;
    return PartResult::kOk;
  }
  named = true;
  bool ok = true;
  if (part == "person-basis") {
    sel.properties |= package.basis;
  } else if (part == "identitetsgrunnlag-utvidet") {
    ok = AddAllowed(sel,
                    {Property::kFalskIdentitet, Property::kLegitimasjonsdokument,
                     Property::kUtenlandskPersonidentifikasjon},
                    package, true);
  } else if (part == "relasjon-utvidet") {
    ok = AddAllowed(sel,
                    {Property::kFamilierelasjon, Property::kForeldreansvar,
                     Property::kVergemaalEllerFremtidsfullmakt},
                    package, false);
  } else if (auto p = PropertyFromName(part)) {
    ok = package.Allows(*p);
    if (ok) sel.Add(*p);
  } else if (part != "oppholdPaaSvalbard") {
    return PartResult::kUnknown;
  }
  return ok ? PartResult::kOk : PartResult::kNotInPackage;
}

}  // namespace

PartSelection PartSelection::PersonBasis() {
  PartSelection sel;
  sel.properties = OffentligMedHjemmel().basis;
  return sel;
}

PartSelection PartSelection::All() {
  PartSelection sel;
  sel.properties.set();
  sel.historikk = true;
  return sel;
}

Result<PartSelection> ParseParts(std::span<const std::string_view> part_values) {
  return ParseParts(part_values, OffentligMedHjemmel());
}

Result<PartSelection> ParseParts(std::span<const std::string_view> part_values,
                                 const Package& package) {
  PartSelection sel;
  sel.history = package.history;
  sel.withhold_confidential = package.confidential == Confidential::kNone;
  sel.withheld_keys = package.withheld_keys;
  sel.withheld_in = PropertiesHolding(package.withheld_keys);
  bool named = false;
  for (std::string_view value : part_values) {
    while (true) {
      const size_t comma = value.find(',');
      const std::string_view part = Trim(value.substr(0, comma));
      if (!part.empty()) {
        switch (ApplyPart(part, sel, named, package)) {
          case PartResult::kOk:
            break;
          case PartResult::kUnknown:
            return MakeError(ErrorCode::kNotAcceptable,
                             "Ugyldig part: " + std::string(part.substr(0, kMaxEchoedPart)));
          case PartResult::kNotInPackage:
            return MakeError(ErrorCode::kNotAcceptable,
                             "Ugyldig part for rettighetspakken " + std::string(package.name) +
                                 ": " + std::string(part.substr(0, kMaxEchoedPart)));
        }
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  if (!named) sel.properties = package.basis;
  if (package.identifiers == Identifiers::kDefault) sel.Add(Property::kIdentifikasjonsnummer);
  return sel;
}

}  // namespace norreg::freg
