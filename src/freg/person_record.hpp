#pragma once
// The register's model of one person: every row that any version of the person document has
// shown, each with the version range in which it is present and in which it is current
// (erGjeldende). The person document of version `seq` is derived from the rows, so a person's
// whole history is stored once (compact) and every archived version stays readable.
//
// Wire shape: `Folkeregisterperson` in reference/freg/freg-omh-1.5.yaml; element order from
// PersondokumentMedHistorikk_v1BETA2.xsd. No HTTP or JSON-library types here.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.hpp"

namespace norreg::freg {

// Top-level properties of Folkeregisterperson, in XSD sequence order (the order of output). The
// two legal-capacity properties came with OpenAPI 1.6; norreg's XSD appends them at the end of the
// sequence (docs/design.md, "Fields added since OAS 1.5"), so the enum only ever grows at the end.
enum class Property : uint8_t {
  kFalskIdentitet,
  kIdentifikasjonsnummer,
  kIdentitetsgrunnlag,
  kKontaktinformasjonForDoedsbo,
  kLegitimasjonsdokument,
  kStatus,
  kUtlendingsmyndighetenesIdentifikasjonsnummer,
  kUtenlandskPersonidentifikasjon,
  kDoedsfall,
  kSivilstand,
  kFamilierelasjon,
  kBostedsadresse,
  kDeltBosted,
  kOppholdsadresse,
  kPostadresse,
  kPostadresseIUtlandet,
  kAdressebeskyttelse,
  kPreferertKontaktadresse,
  kInnflytting,
  kUtflytting,
  kForholdTilSametingetsValgmanntall,
  kKjoenn,
  kStatsborgerskap,
  kForeldreansvar,
  kFoedsel,
  kNavn,
  kFoedselINorge,
  kVergemaalEllerFremtidsfullmakt,
  kOpphold,
  kBibehold,
  kBrukAvSamiskSpraak,
  kBegrensningIRettsligHandleevne,
  kFratattRettsligHandleevne,
};
inline constexpr int kPropertyCount = 33;

// JSON/XML name of the property ("bostedsadresse").
std::string_view PropertyName(Property p);
std::optional<Property> PropertyFromName(std::string_view name);
// doedsfall and falskIdentitet are single JSON objects; every other property is an array of rows.
bool IsSingleObject(Property p);
// Address data, removed from the documents of strengtFortrolig persons.
bool IsAddressProperty(Property p);

inline constexpr uint64_t kOpen = UINT64_MAX;

struct Row {
  Property property = Property::kStatus;
  uint64_t from_seq = 0;           // the version (sekvensnummer) that added the row
  uint64_t current_until = kOpen;  // first version at which the row is history (erGjeldende=false)
  uint64_t removed_at = kOpen;     // first version at which the row no longer appears at all
  // The row as one canonical JSON object: keys in XSD order, no whitespace, and WITHOUT the
  // "erGjeldende" key (derived from current_until when rendering, placed after
  // ajourholdstidspunkt as the XSD's Registermetadata demands).
  std::string json;

  bool PresentAt(uint64_t seq) const { return from_seq <= seq && seq < removed_at; }
  bool CurrentAt(uint64_t seq) const { return seq < current_until; }
};

// Event types (hendelsetype). Values are stored: append only, never renumber.
enum class Hendelsetype : uint8_t {
  kPersonErOpprettet = 0,
  kPersonErDoed,
  kPersonErUtflyttet,
  kPersonErBosatt,
  kEndringIStatus,
  kEndringINavn,
  kEndringIBostedsadresse,
  kEndringIBostedsadresseUtenFlytting,
  kEndringIOppholdsadresse,
  kEndringISivilstand,
  kEndringIFamilierelasjon,
  kEndringIStatsborgerskap,
  kEndringIAdressebeskyttelse,
  kEndringIInnflytting,
  kEndringIUtflytting,
  kEndringIKjoenn,
  kEndringIFoedsel,
  kEndringIIdentifikasjonsnummer,
  kEndringIIdentitetsgrunnlag,
  kEndringIDoedsfall,
  kEndringIForeldreansvar,
  kEndringIVergemaal,
  kPersonErOppdatert,
  kPersonErOpphoertSomDublett,
  kEndringIPostadresse,
  kEndringIDeltBosted,
  kEndringIKontaktinformasjonForDoedsbo,
  kEndringILegitimasjonsdokument,
  kEndringIFalskIdentitet,
  kEndringIOpphold,
  kEndringIUtenlandskPersonidentifikasjon,
  kEndringIPreferertKontaktadresse,
  kEndringIRettsligHandleevne,         // begrensningIRettsligHandleevne changed
  kEndringIFratattRettsligHandleevne,  // fratattRettsligHandleevne changed
};
std::string_view HendelsetypeName(Hendelsetype t);
std::optional<Hendelsetype> HendelsetypeFromName(std::string_view name);

// One event and the person document version it produced (one per sekvensnummer).
struct Version {
  uint64_t seq = 0;
  Hendelsetype type = Hendelsetype::kPersonErOpprettet;
  timefmt::EpochMs ajourholdstidspunkt = 0;
};

// The whole history of one person.
struct PersonRecord {
  std::string fnr;                     // current foedselsEllerDNummer (identifikasjonsnummer iBruk)
  std::vector<std::string> other_ids;  // earlier numbers (opphoert) that lead to this person too
  std::vector<Row> rows;               // grouped by property in enum order; within a property
                                       // newest first (the order of output)
};

// Orders rows for storage: by property (enum order), then newest (from_seq) first; stable
// otherwise. Rendering at a version emits a property's current rows first, then its history, each
// in this order ("current row first, then history newest first").
void SortRows(std::vector<Row>& rows);

}  // namespace norreg::freg
