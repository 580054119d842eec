#pragma once
// The access packages (rettighetspakker) the register is served through, as data: one row per
// package with its base path, Maskinporten scope, endpoints, default parts, the parts it may
// have, which parts get history, how it treats identity numbers and confidential addresses, and
// the shape of its feed. Everything package-specific in the server and the client reads this
// table; adding a package is a row (docs/packages.md explains each column and the choices made
// where the register's documentation leaves one open).
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "freg/person_record.hpp"

namespace norreg::freg {

// Every Folkeregisteret endpoint a package may have (the routes of http/handlers/freg).
enum class Endpoint : uint8_t {
  kPerson,               // GET personer/{id}
  kSoek,                 // GET personer/soek
  kEntydigsoek,          // GET personer/entydigsoek
  kPersonXsd,            // GET personer/xsd
  kArkiv,                // GET personer/arkiv/{dokumentidentifikator}
  kBulkoppslag,          // POST personer/bulkoppslag
  kBulkoppslagArkiv,     // POST personer/bulkoppslag/arkiv
  kFeed,                 // GET hendelser/feed
  kFeedXsd,              // GET hendelser/feedxsd (+ lagretHendelse.xsd)
  kSisteSekvensnummer,   // GET hendelser/siste/sekvensnummer
  kHendelse,             // GET hendelser/{dokumentidentifikator}
  kHendelseBulkoppslag,  // POST hendelser/bulkoppslag
  kHendelseXsd,          // GET hendelser/xsd
  kUttrekkKomplett,      // GET uttrekk/komplett
  kUttrekkTilpasset,     // POST uttrekk/tilpasset
  kUttrekkBatch,         // GET uttrekk/{jobbId}/batch/{batchnr}
};
inline constexpr int kEndpointCount = 16;

using PropertySet = std::bitset<kPropertyCount>;
using EndpointSet = std::bitset<kEndpointCount>;

// How a package discloses the person's own identity number (identifikasjonsnummer).
enum class Identifiers : uint8_t {
  kDefault,    // part of every answer, whatever the parts say
  kOnRequest,  // only with part=identifikasjonsnummer
  kNever,      // never: not in documents, and no endpoint that answers a list of numbers; the
               // feed's events carry no folkeregisteridentifikator
};

// Confidential (taushetsbelagte) information beyond what `allowed` and `withheld_keys` say.
enum class Confidential : uint8_t {
  // Everything but the addresses of a strengtFortrolig person (removed for every package).
  kFull,
  // Withheld: the addresses, innflytting and utflytting of a person whose adressebeskyttelse is
  // fortrolig or strengtFortrolig (searches and extracts never match on those addresses either),
  // and the confidential statuses (midlertidig, ikkeBosatt, forsvunnet, foedselsregistrert),
  // shown as their common status "aktiv".
  kNone,
};

enum class FeedShape : uint8_t {
  kFull,  // LagretHendelse: identifier, type, event and person document ids, time
  kThin,  // LagretTynnHendelse: identifier, type and time only
};

// Row members that hold other persons' identity numbers, for `withheld_keys`.
inline constexpr std::string_view kNumberKeys[] = {
    "relatertPerson", "relatertVedSivilstand", "ansvarlig",
    "ansvarssubjekt", "foedselsEllerDNummer",  "rettIdentitetVedIdentifikasjonsnummer"};

struct Package {
  std::string_view id;         // short name: "offentlig-med-hjemmel", "finans", ...
  std::string_view name;       // as the register names it ("Finans")
  std::string_view base_path;  // "/folkeregisteret/api/finans/v1"
  std::string_view scope;      // "folkeregister:deling/finans"
  EndpointSet endpoints;
  PropertySet basis;    // what no part (or part=person-basis) gives
  PropertySet allowed;  // every property the package may have; asking for another is refused
  PropertySet history;  // the properties whose history rows part=historikk adds
  Identifiers identifiers;
  Confidential confidential;
  FeedShape feed;
  // Members left out of every row, at any depth (e.g. the spouse's number relatertVedSivilstand
  // where the spouse's identity is confidential).
  std::span<const std::string_view> withheld_keys;

  bool Has(Endpoint e) const { return endpoints.test(static_cast<size_t>(e)); }
  bool Allows(Property p) const { return allowed.test(static_cast<size_t>(p)); }
};

// The properties whose rows can hold any of `keys` (kNumberKeys: sivilstand for
// relatertVedSivilstand, vergemaalEllerFremtidsfullmakt and kontaktinformasjonForDoedsbo for
// foedselsEllerDNummer, …); a key it does not know counts for every property. Rendering looks for
// withheld keys only in these rows.
PropertySet PropertiesHolding(std::span<const std::string_view> keys);

// The nine packages, "offentlig med hjemmel" first.
std::span<const Package> Packages();
const Package& OffentligMedHjemmel();
// By id ("finans") or, for convenience, by scope; nullptr when unknown.
const Package* PackageById(std::string_view id);
const Package* PackageByScope(std::string_view scope);

}  // namespace norreg::freg
