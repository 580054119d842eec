#pragma once
// Importing a person document in the official JSON shape (Folkeregisterperson, e.g. a document
// saved from the real test environment with part=historikk: current and historical rows,
// erGjeldende true/false) as a new version of that person.
//
// Two steps: ParsePersonDocument validates and canonicalises the text (no register access);
// MergeImport turns the result into the person's new PersonRecord so that the version `seq`
// renders exactly the imported rows while every earlier version renders as before.
// Pure functions; thread-safe.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "common/time.hpp"
#include "freg/person_record.hpp"

namespace norreg::freg {

struct ImportedRow {
  Property property = Property::kStatus;
  bool gjeldende = true;  // the row's erGjeldende (true when the document leaves it out)
  std::string json;       // canonical (freg::Row::json form: XSD key order, no erGjeldende)
};

struct ImportedDocument {
  std::string fnr;                     // the person's current foedselsEllerDNummer
  std::vector<std::string> other_ids;  // the other identifikasjonsnummer values, distinct
  std::vector<ImportedRow> rows;       // in document order
  // Properties valid by the OpenAPI schema that norreg does not store (e.g.
  // "oppholdPaaSvalbard"); they are left out of `rows`.
  std::vector<std::string> ignored_properties;
};

// Validates `json` (PersonSchema::ValidatePerson) and canonicalises its rows. The person's number
// is the identifikasjonsnummer row with erGjeldende=true and status iBruk; failing that the
// first iBruk row, then the first current row, then the first row. It and every other number
// must be a valid fødselsnummer/d-nummer (ids::ValidateFnr).
// Failure: kInvalidInput whose message names the path
// ("folkeregisterperson.identifikasjonsnummer[0].foedselsEllerDNummer: ugyldig kontrollsiffer…").
Result<ImportedDocument> ParsePersonDocument(std::string_view json);

// The person's new record and the one version (event) the import adds.
struct MergedPerson {
  PersonRecord record;
  Version version;
};

// The most one person's record may hold, every version's rows and earlier numbers counted: every
// lookup, search candidate and extract row of the person reads all of it (docs/limits.md). Real
// persons hold tens of rows and a few kilobytes.
inline constexpr size_t kMaxRecordRows = 10'000;
inline constexpr size_t kMaxRecordBytes = 2 * 1024 * 1024;

// Merges `doc` into the person's history as version `seq` (the next free sekvensnummer; every
// version of `current` must be older). `current` is nullopt for a new person.
//  - A row of `current` present at seq-1 whose canonical JSON equals an imported row's is kept
//    (set current_until=seq when it was current and is imported as history; an imported current
//    row never revives a history row: that becomes a new row). Matching keeps the relative order
//    of kept rows, so earlier versions render in their old order.
//  - Present rows without a match get removed_at=seq; rows already removed stay as they are.
//  - Imported rows without a match are new: from_seq=seq, current_until=seq when history.
//  - Within a property, rows visible at `seq` follow the document's order (so rendering at `seq`
//    gives the document's current rows, then its history rows, each in document order).
//    Do not SortRows() the result: that would lose this order.
//  - record.fnr = doc.fnr; a previous different number moves to other_ids (with doc.other_ids).
//  - version = {seq, type, now}: personErOpprettet for a new person; otherwise the most
//    significant change (status to doed/utflyttet/bosatt: personErDoed/personErUtflyttet/
//    personErBosatt; other status change: endringIStatus; then identifikasjonsnummer,
//    doedsfall, falskIdentitet, identitetsgrunnlag, bostedsadresse, adressebeskyttelse, navn,
//    sivilstand, familierelasjon, statsborgerskap, innflytting, utflytting, kjoenn, foedsel, ...);
//    personErOppdatert when nothing changed.
// Failure: kInvalidInput when doc.fnr is empty or when the record would hold more than
// kMaxRecordRows rows and numbers or kMaxRecordBytes of row JSON; kConflict when `current`
// already has a version at or after `seq` (or seq is 0).
Result<MergedPerson> MergeImport(const std::optional<PersonRecord>& current,
                                 const ImportedDocument& doc, uint64_t seq, timefmt::EpochMs now);

}  // namespace norreg::freg
