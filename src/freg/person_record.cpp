#include "freg/person_record.hpp"

#include <algorithm>
#include <array>

namespace norreg::freg {
namespace {

// Indexed by the enumerator value; the enum is in XSD order, so is this table.
constexpr std::array<std::string_view, kPropertyCount> kPropertyNames = {
    "falskIdentitet",
    "identifikasjonsnummer",
    "identitetsgrunnlag",
    "kontaktinformasjonForDoedsbo",
    "legitimasjonsdokument",
    "status",
    "utlendingsmyndighetenesIdentifikasjonsnummer",
    "utenlandskPersonidentifikasjon",
    "doedsfall",
    "sivilstand",
    "familierelasjon",
    "bostedsadresse",
    "deltBosted",
    "oppholdsadresse",
    "postadresse",
    "postadresseIUtlandet",
    "adressebeskyttelse",
    "preferertKontaktadresse",
    "innflytting",
    "utflytting",
    "forholdTilSametingetsValgmanntall",
    "kjoenn",
    "statsborgerskap",
    "foreldreansvar",
    "foedsel",
    "navn",
    "foedselINorge",
    "vergemaalEllerFremtidsfullmakt",
    "opphold",
    "bibehold",
    "brukAvSamiskSpraak",
    "begrensningIRettsligHandleevne",
    "fratattRettsligHandleevne",
};
static_assert(static_cast<int>(Property::kFratattRettsligHandleevne) + 1 == kPropertyCount);

constexpr int kHendelsetypeCount =
    static_cast<int>(Hendelsetype::kEndringIFratattRettsligHandleevne) + 1;

constexpr std::array<std::string_view, kHendelsetypeCount> kHendelsetypeNames = {
    "personErOpprettet",
    "personErDoed",
    "personErUtflyttet",
    "personErBosatt",
    "endringIStatus",
    "endringINavn",
    "endringIBostedsadresse",
    "endringIBostedsadresseUtenFlytting",
    "endringIOppholdsadresse",
    "endringISivilstand",
    "endringIFamilierelasjon",
    "endringIStatsborgerskap",
    "endringIAdressebeskyttelse",
    "endringIInnflytting",
    "endringIUtflytting",
    "endringIKjoenn",
    "endringIFoedsel",
    "endringIIdentifikasjonsnummer",
    "endringIIdentitetsgrunnlag",
    "endringIDoedsfall",
    "endringIForeldreansvar",
    "endringIVergemaal",
    "personErOppdatert",
    "personErOpphoertSomDublett",
    "endringIPostadresse",
    "endringIDeltBosted",
    "endringIKontaktinformasjonForDoedsbo",
    "endringILegitimasjonsdokument",
    "endringIFalskIdentitet",
    "endringIOpphold",
    "endringIUtenlandskPersonidentifikasjon",
    "endringIPreferertKontaktadresse",
    "endringIRettsligHandleevne",
    "endringIFratattRettsligHandleevne",
};

// (name, value) pairs sorted by name, built once at compile time for binary search.
template <typename Enum, size_t N>
constexpr std::array<std::pair<std::string_view, Enum>, N> SortedByName(
    const std::array<std::string_view, N>& names) {
  std::array<std::pair<std::string_view, Enum>, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = {names[i], static_cast<Enum>(i)};
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

constexpr auto kPropertiesByName = SortedByName<Property>(kPropertyNames);
constexpr auto kHendelsetyperByName = SortedByName<Hendelsetype>(kHendelsetypeNames);

template <typename Enum, size_t N>
std::optional<Enum> Lookup(const std::array<std::pair<std::string_view, Enum>, N>& table,
                           std::string_view name) {
  auto it = std::lower_bound(table.begin(), table.end(), name,
                             [](const auto& entry, std::string_view n) { return entry.first < n; });
  if (it == table.end() || it->first != name) return std::nullopt;
  return it->second;
}

}  // namespace

std::string_view PropertyName(Property p) {
  const auto i = static_cast<size_t>(p);
  return i < kPropertyNames.size() ? kPropertyNames[i] : std::string_view();
}

std::optional<Property> PropertyFromName(std::string_view name) {
  return Lookup(kPropertiesByName, name);
}

bool IsSingleObject(Property p) {
  return p == Property::kDoedsfall || p == Property::kFalskIdentitet;
}

// The person's own addresses, including the contact address the person prefers. Not
// kontaktinformasjonForDoedsbo: its address belongs to the estate's contact (a lawyer, an
// organisation or another person), not to the protected person, and the register shows it so the
// estate can be reached.
bool IsAddressProperty(Property p) {
  switch (p) {
    case Property::kBostedsadresse:
    case Property::kDeltBosted:
    case Property::kOppholdsadresse:
    case Property::kPostadresse:
    case Property::kPostadresseIUtlandet:
    case Property::kPreferertKontaktadresse:
      return true;
    default:
      return false;
  }
}

std::string_view HendelsetypeName(Hendelsetype t) {
  const auto i = static_cast<size_t>(t);
  return i < kHendelsetypeNames.size() ? kHendelsetypeNames[i] : std::string_view();
}

std::optional<Hendelsetype> HendelsetypeFromName(std::string_view name) {
  return Lookup(kHendelsetyperByName, name);
}

void SortRows(std::vector<Row>& rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.property != b.property) return a.property < b.property;
    return a.from_seq > b.from_seq;
  });
}

}  // namespace norreg::freg
