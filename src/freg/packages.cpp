#include "freg/packages.hpp"

#include <array>
#include <initializer_list>

namespace norreg::freg {
namespace {

using P = Property;
using E = Endpoint;

constexpr uint64_t Props(std::initializer_list<Property> props) {
  uint64_t mask = 0;
  for (Property p : props) mask |= uint64_t{1} << static_cast<unsigned>(p);
  return mask;
}

constexpr uint64_t Ends(std::initializer_list<Endpoint> endpoints) {
  uint64_t mask = 0;
  for (Endpoint e : endpoints) mask |= uint64_t{1} << static_cast<unsigned>(e);
  return mask;
}

constexpr uint64_t kAllProperties = (uint64_t{1} << kPropertyCount) - 1;
constexpr uint64_t kAllEndpoints = (uint64_t{1} << kEndpointCount) - 1;

// person-basis (docs/packages.md): the current, non-confidential core of a person.
constexpr uint64_t kPersonBasis = Props(
    {P::kIdentifikasjonsnummer, P::kIdentitetsgrunnlag, P::kStatus, P::kDoedsfall, P::kSivilstand,
     P::kFoedsel, P::kStatsborgerskap, P::kKjoenn, P::kNavn, P::kBostedsadresse,
     P::kOppholdsadresse, P::kDeltBosted, P::kPostadresse, P::kPostadresseIUtlandet,
     P::kAdressebeskyttelse, P::kKontaktinformasjonForDoedsbo, P::kPreferertKontaktadresse});
constexpr uint64_t kIdentitetsgrunnlagUtvidet =
    Props({P::kFalskIdentitet, P::kLegitimasjonsdokument, P::kUtenlandskPersonidentifikasjon});
constexpr uint64_t kRelasjonUtvidet =
    Props({P::kFamilierelasjon, P::kForeldreansvar, P::kVergemaalEllerFremtidsfullmakt});
// The parts outside the groups that are not confidential: a package without legal basis may name
// them one by one (utlendingsmyndighetenesIdentifikasjonsnummer, opphold, bibehold,
// brukAvSamiskSpraak and forholdTilSametingetsValgmanntall are confidential).
constexpr uint64_t kSingleParts =
    Props({P::kInnflytting, P::kUtflytting, P::kFoedselINorge, P::kBegrensningIRettsligHandleevne,
           P::kFratattRettsligHandleevne});
constexpr uint64_t kAddresses =
    Props({P::kBostedsadresse, P::kOppholdsadresse, P::kDeltBosted, P::kPostadresse,
           P::kPostadresseIUtlandet, P::kPreferertKontaktadresse});
constexpr uint64_t kNumber = Props({P::kIdentifikasjonsnummer});
// historikk outside "offentlig med hjemmel": identity numbers, addresses and names.
constexpr uint64_t kLimitedHistory = kAddresses | kNumber | Props({P::kNavn});
// person-basis of the packages where identifikasjonsnummer must be asked for, or is never given.
constexpr uint64_t kBasisWithoutNumber = kPersonBasis & ~kNumber;
// Without legal basis: person-basis, the single parts, and of the relations only guardianship.
constexpr uint64_t kUtenHjemmelAllowed =
    kPersonBasis | kSingleParts | Props({P::kVergemaalEllerFremtidsfullmakt});

// Every package has entydig søk, the feed and the schemas.
constexpr uint64_t kCommonEndpoints = Ends({E::kEntydigsoek, E::kPersonXsd, E::kFeed, E::kFeedXsd,
                                            E::kSisteSekvensnummer, E::kHendelseXsd});
// The reading models with lookups by number, search and tailored extracts (the contract of
// "offentlig uten hjemmel", OpenAPI 1.6): no archive, no event documents, no complete extract.
constexpr uint64_t kLesemodellEndpoints =
    kCommonEndpoints |
    Ends({E::kPerson, E::kSoek, E::kBulkoppslag, E::kUttrekkTilpasset, E::kUttrekkBatch});

constexpr std::string_view kSpouse[] = {"relatertVedSivilstand"};
constexpr std::string_view kSpouseAndContacts[] = {"relatertVedSivilstand", "foedselsEllerDNummer"};

const std::array<Package, 9> kPackages = {{
    {"offentlig-med-hjemmel",
     "Offentlig og privat virksomhet med hjemmel",
     "/folkeregisteret/offentlig-med-hjemmel/api/v1",
     "folkeregister:deling/offentligmedhjemmel",
     EndpointSet(kAllEndpoints),
     PropertySet(kPersonBasis),
     PropertySet(kAllProperties),
     PropertySet(kAllProperties),
     Identifiers::kDefault,
     Confidential::kFull,
     FeedShape::kFull,
     {}},
    {"offentligutenhjemmel", "Offentlig virksomhet uten hjemmel",
     "/folkeregisteret/api/offentligutenhjemmel/v1", "folkeregister:deling/offentligutenhjemmel",
     EndpointSet(kLesemodellEndpoints), PropertySet(kPersonBasis),
     PropertySet(kUtenHjemmelAllowed | Props({P::kFalskIdentitet})), PropertySet(kLimitedHistory),
     Identifiers::kDefault, Confidential::kNone, FeedShape::kThin, kSpouse},
    {"privatutenhjemmel", "Privat virksomhet uten hjemmel",
     "/folkeregisteret/api/privatutenhjemmel/v1", "folkeregister:deling/privatutenhjemmel",
     EndpointSet(kLesemodellEndpoints), PropertySet(kPersonBasis), PropertySet(kUtenHjemmelAllowed),
     PropertySet(kLimitedHistory), Identifiers::kDefault, Confidential::kNone, FeedShape::kThin,
     kSpouse},
    {"privat", "Privat virksomhet", "/folkeregisteret/api/privat/v1", "folkeregister:deling/privat",
     EndpointSet(kCommonEndpoints), PropertySet(kBasisWithoutNumber),
     PropertySet(kUtenHjemmelAllowed), PropertySet(kLimitedHistory), Identifiers::kOnRequest,
     Confidential::kNone, FeedShape::kThin, kSpouseAndContacts},
    {"privatutenfolkeregisteridentifikator", "Privat virksomhet uten folkeregisteridentifikator",
     "/folkeregisteret/api/privatutenfolkeregisteridentifikator/v1",
     "folkeregister:deling/privatutenfolkeregisteridentifikator", EndpointSet(kCommonEndpoints),
     PropertySet(kBasisWithoutNumber), PropertySet(kUtenHjemmelAllowed & ~kNumber),
     PropertySet(kLimitedHistory & ~kNumber), Identifiers::kNever, Confidential::kNone,
     FeedShape::kThin, kNumberKeys},
    {"finans",
     "Finans",
     "/folkeregisteret/api/finans/v1",
     "folkeregister:deling/finans",
     EndpointSet(kLesemodellEndpoints),
     PropertySet(kPersonBasis),
     PropertySet(kPersonBasis | kSingleParts | kRelasjonUtvidet | Props({P::kFalskIdentitet})),
     PropertySet(kLimitedHistory | Props({P::kSivilstand})),
     Identifiers::kDefault,
     Confidential::kNone,
     FeedShape::kThin,
     {}},
    {"presse", "Presse", "/folkeregisteret/api/presse/v1", "folkeregister:deling/presse",
     EndpointSet(kCommonEndpoints), PropertySet(kBasisWithoutNumber),
     PropertySet(kUtenHjemmelAllowed), PropertySet(kLimitedHistory), Identifiers::kOnRequest,
     Confidential::kNone, FeedShape::kThin, kSpouseAndContacts},
    {"presseutenfolkeregisteridentifikator", "Presse uten folkeregisteridentifikator",
     "/folkeregisteret/api/presseutenfolkeregisteridentifikator/v1",
     "folkeregister:deling/presseutenfolkeregisteridentifikator", EndpointSet(kCommonEndpoints),
     PropertySet(kBasisWithoutNumber), PropertySet(kUtenHjemmelAllowed & ~kNumber),
     PropertySet(kLimitedHistory & ~kNumber), Identifiers::kNever, Confidential::kNone,
     FeedShape::kThin, kNumberKeys},
    {"eid", "Utsteder eID", "/folkeregisteret/api/eid/v1", "folkeregister:deling/utstedereid",
     EndpointSet(kLesemodellEndpoints),
     PropertySet(kPersonBasis |
                 Props({P::kUtenlandskPersonidentifikasjon, P::kLegitimasjonsdokument})),
     PropertySet(kUtenHjemmelAllowed | kIdentitetsgrunnlagUtvidet), PropertySet(kLimitedHistory),
     Identifiers::kDefault, Confidential::kNone, FeedShape::kThin, kSpouse},
}};

}  // namespace

PropertySet PropertiesHolding(std::span<const std::string_view> keys) {
  static constexpr struct {
    std::string_view key;
    uint64_t properties;
  } kHolders[] = {
      {"relatertPerson", Props({P::kFamilierelasjon})},
      {"relatertVedSivilstand", Props({P::kSivilstand})},
      {"ansvarlig", Props({P::kForeldreansvar})},
      {"ansvarssubjekt", Props({P::kForeldreansvar})},
      {"foedselsEllerDNummer", Props({P::kIdentifikasjonsnummer, P::kVergemaalEllerFremtidsfullmakt,
                                      P::kKontaktinformasjonForDoedsbo})},
      {"rettIdentitetVedIdentifikasjonsnummer", Props({P::kFalskIdentitet})},
  };
  uint64_t mask = 0;
  for (std::string_view key : keys) {
    uint64_t holders = kAllProperties;
    for (const auto& h : kHolders) {
      if (h.key == key) holders = h.properties;
    }
    mask |= holders;
  }
  return PropertySet(mask);
}

std::span<const Package> Packages() { return kPackages; }

const Package& OffentligMedHjemmel() { return kPackages[0]; }

const Package* PackageById(std::string_view id) {
  for (const Package& p : kPackages) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

const Package* PackageByScope(std::string_view scope) {
  for (const Package& p : kPackages) {
    if (p.scope == scope) return &p;
  }
  return nullptr;
}

}  // namespace norreg::freg
