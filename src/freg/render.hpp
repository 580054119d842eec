#pragma once
// Renders the person document of one version (sekvensnummer) from a person's rows, as JSON or XML
// (SPEC 2.3), plus the string escapers other writers share.
//
// Document of version `seq`: for each selected property in XSD order, the rows present at `seq`
// (from_seq <= seq < removed_at): the current ones (seq < current_until, erGjeldende=true) first,
// then with `historikk` the historical ones (erGjeldende=false), each group in stored order
// (newest first). Properties without such rows are left out. doedsfall and falskIdentitet are
// single objects: the current row, or with `historikk` and no current row the newest present one.
// When the adressebeskyttelse row current at `seq` has graderingsnivaa strengtFortrolig, every
// address property (IsAddressProperty) is left out, whatever the selection says; with
// `withhold_confidential` also when it is fortrolig, and then innflytting and utflytting too,
// and confidential statuses read "aktiv". History rows come only for the properties in
// `parts.history`; members named in `parts.withheld_keys` are left out of every row
// (AppendWithoutKeys).
// A `seq` before the person's first version gives an empty document.
//
// Row JSON is the project's own canonical text (keys in XSD order, compact, without erGjeldende).
// JSON output copies it and inserts "erGjeldende" right after "ajourholdstidspunkt" (as the first
// key when there is none); a row that is not a JSON object is left out. XML output parses each
// row, so any input is safe there: a row that is not valid JSON is left out, members whose key is
// not a plain XML name ([A-Za-z_][A-Za-z0-9_.-]*, no escapes) are dropped, nulls are dropped.
//
// Rows must be grouped by property (SortRows) for the fast path; ungrouped rows render correctly
// but slower. Rendering appends to `out` and allocates only when `out` grows. Thread-safe.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "freg/parts.hpp"
#include "freg/person_record.hpp"
#include "freg/record_codec.hpp"

namespace norreg::freg {

inline constexpr std::string_view kPersonXmlNamespace =
    "folkeregisteret:tilgjengeliggjoering:person:v1";

// Appends a compact JSON `Folkeregisterperson` object.
void RenderPersonJson(const PersonRecord& record, uint64_t seq, const PartSelection& parts,
                      std::string& out);
void RenderPersonJson(const RecordView& record, uint64_t seq, const PartSelection& parts,
                      std::string& out);

// Appends `<folkeregisterperson xmlns="folkeregisteret:tilgjengeliggjoering:person:v1">…
// </folkeregisterperson>` (no XML declaration). With root_namespace=false the xmlns attribute is
// left out, for embedding in a wrapper that declares the same default namespace. Each row is an
// element named like the property; nested objects are child elements; arrays (also of scalars:
// adresselinje, spraak, statsborgerskap) are repeated elements; element order is the JSON key
// order; text is XML-escaped.
void RenderPersonXml(const PersonRecord& record, uint64_t seq, const PartSelection& parts,
                     std::string& out, bool root_namespace = true);
void RenderPersonXml(const RecordView& record, uint64_t seq, const PartSelection& parts,
                     std::string& out, bool root_namespace = true);

// The address protection in force at `seq`: the highest graderingsnivaa of the adressebeskyttelse
// rows current then (klientadresse counts as ugradert: it is not the person's own address).
enum class Gradering : uint8_t { kUgradert, kFortrolig, kStrengtFortrolig };
Gradering GraderingAt(const PersonRecord& record, uint64_t seq);
Gradering GraderingAt(const RecordView& record, uint64_t seq);

// True when the adressebeskyttelse row current at `seq` has graderingsnivaa strengtFortrolig: the
// documents of the person at `seq` (person and event documents) leave out every address property.
bool IsStrengtFortroligAt(const PersonRecord& record, uint64_t seq);
bool IsStrengtFortroligAt(const RecordView& record, uint64_t seq);

// Appends the JSON value `json` compacted, without the object members named in `keys` at any
// depth: what a package sees of a row (Package::withheld_keys). Linear; false (and `out`
// unchanged) when `json` is malformed or nests deeper than 64.
bool AppendWithoutKeys(std::string& out, std::string_view json,
                       std::span<const std::string_view> keys);

// Appends the members of the JSON object `json` as XML elements (the transcoding used for rows,
// usable for other documents, e.g. event documents): objects become child elements, arrays
// repeated elements, strings are decoded (\uXXXX, surrogate pairs) and XML-escaped, numbers and
// booleans are copied, nulls and members whose key is not a plain XML name are dropped. Returns
// false and leaves `out` as it was when `json` is not a valid JSON object or nests deeper than 64.
bool AppendJsonObjectAsXml(std::string& out, std::string_view json);

}  // namespace norreg::freg
