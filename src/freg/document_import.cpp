#include "freg/document_import.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/ids.hpp"
#include "freg/schema.hpp"

namespace norreg::freg {
namespace {

// The raw (still escaped) text of string member `key` in a canonical row, or nullopt. Canonical
// rows are compact JSON, so `"key":"` can only occur where a member `key` begins (a quote inside
// a string value is escaped, and a string value is never followed by a colon). Only for rows
// without nested objects that reuse the key (identifikasjonsnummer, status).
std::optional<std::string_view> StringMember(std::string_view json, std::string_view key) {
  std::string pattern;
  pattern.reserve(key.size() + 5);
  pattern.append("\"").append(key).append("\":\"");
  size_t at = json.find(pattern);
  if (at == std::string_view::npos) return std::nullopt;
  const size_t begin = at + pattern.size();
  for (size_t i = begin; i < json.size(); ++i) {
    if (json[i] == '\\') {
      ++i;
    } else if (json[i] == '"') {
      return json.substr(begin, i - begin);
    }
  }
  return std::nullopt;
}

struct IdRow {
  std::string_view number;
  bool in_use = false;
  bool gjeldende = false;
  size_t index = 0;  // index within the identifikasjonsnummer array
};

Error BadNumber(size_t index, std::string_view number) {
  return MakeError(ErrorCode::kInvalidInput,
                   "folkeregisterperson.identifikasjonsnummer[" + std::to_string(index) +
                       "].foedselsEllerDNummer: " + ids::FnrProblem(number));
}

// Event types by significance when several properties changed (status handled before).
constexpr std::array<std::pair<Property, Hendelsetype>, 27> kChangeEvents = {{
    {Property::kIdentifikasjonsnummer, Hendelsetype::kEndringIIdentifikasjonsnummer},
    {Property::kDoedsfall, Hendelsetype::kEndringIDoedsfall},
    {Property::kFalskIdentitet, Hendelsetype::kEndringIFalskIdentitet},
    {Property::kIdentitetsgrunnlag, Hendelsetype::kEndringIIdentitetsgrunnlag},
    {Property::kBostedsadresse, Hendelsetype::kEndringIBostedsadresse},
    {Property::kAdressebeskyttelse, Hendelsetype::kEndringIAdressebeskyttelse},
    {Property::kNavn, Hendelsetype::kEndringINavn},
    {Property::kSivilstand, Hendelsetype::kEndringISivilstand},
    {Property::kFamilierelasjon, Hendelsetype::kEndringIFamilierelasjon},
    {Property::kStatsborgerskap, Hendelsetype::kEndringIStatsborgerskap},
    {Property::kInnflytting, Hendelsetype::kEndringIInnflytting},
    {Property::kUtflytting, Hendelsetype::kEndringIUtflytting},
    {Property::kKjoenn, Hendelsetype::kEndringIKjoenn},
    {Property::kFoedsel, Hendelsetype::kEndringIFoedsel},
    {Property::kForeldreansvar, Hendelsetype::kEndringIForeldreansvar},
    {Property::kVergemaalEllerFremtidsfullmakt, Hendelsetype::kEndringIVergemaal},
    {Property::kFratattRettsligHandleevne, Hendelsetype::kEndringIFratattRettsligHandleevne},
    {Property::kBegrensningIRettsligHandleevne, Hendelsetype::kEndringIRettsligHandleevne},
    {Property::kOppholdsadresse, Hendelsetype::kEndringIOppholdsadresse},
    {Property::kDeltBosted, Hendelsetype::kEndringIDeltBosted},
    {Property::kPostadresse, Hendelsetype::kEndringIPostadresse},
    {Property::kKontaktinformasjonForDoedsbo, Hendelsetype::kEndringIKontaktinformasjonForDoedsbo},
    {Property::kLegitimasjonsdokument, Hendelsetype::kEndringILegitimasjonsdokument},
    {Property::kOpphold, Hendelsetype::kEndringIOpphold},
    {Property::kUtenlandskPersonidentifikasjon,
     Hendelsetype::kEndringIUtenlandskPersonidentifikasjon},
    {Property::kPreferertKontaktadresse, Hendelsetype::kEndringIPreferertKontaktadresse},
    {Property::kStatus, Hendelsetype::kEndringIStatus},
}};

void AddDistinct(std::vector<std::string>& ids, std::string_view id, std::string_view except) {
  if (id.empty() || id == except) return;
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.emplace_back(id);
}

}  // namespace

Result<ImportedDocument> ParsePersonDocument(std::string_view json) {
  auto canonical = PersonSchema::Get().CanonicalizePerson(json);
  if (!canonical.ok()) return canonical.error();

  std::vector<IdRow> id_rows;
  for (const CanonicalDocumentRow& row : canonical->rows) {
    if (row.property != Property::kIdentifikasjonsnummer) continue;
    IdRow id;
    id.number = StringMember(row.json, "foedselsEllerDNummer").value_or(std::string_view());
    id.in_use = StringMember(row.json, "status") == std::optional<std::string_view>("iBruk");
    id.gjeldende = row.gjeldende;
    id.index = id_rows.size();
    id_rows.push_back(id);
  }
  // ValidatePerson guarantees at least one row.
  const IdRow* chosen = nullptr;
  for (const auto& pick :
       {+[](const IdRow& r) { return r.in_use && r.gjeldende; },
        +[](const IdRow& r) { return r.in_use; }, +[](const IdRow& r) { return r.gjeldende; },
        +[](const IdRow&) { return true; }}) {
    auto it = std::find_if(id_rows.begin(), id_rows.end(), pick);
    if (it != id_rows.end()) {
      chosen = &*it;
      break;
    }
  }
  if (!chosen) {
    return MakeError(ErrorCode::kInvalidInput,
                     "folkeregisterperson.identifikasjonsnummer: mangler påkrevd felt");
  }
  if (!ids::ValidateFnr(chosen->number)) return BadNumber(chosen->index, chosen->number);

  ImportedDocument doc;
  doc.fnr = std::string(chosen->number);
  for (const IdRow& id : id_rows) {
    if (id.number == chosen->number) continue;
    if (!ids::ValidateFnr(id.number)) return BadNumber(id.index, id.number);
    AddDistinct(doc.other_ids, id.number, doc.fnr);
  }
  doc.rows.reserve(canonical->rows.size());
  for (CanonicalDocumentRow& row : canonical->rows) {
    doc.rows.push_back(ImportedRow{row.property, row.gjeldende, std::move(row.json)});
  }
  doc.ignored_properties = std::move(canonical->ignored_properties);
  return doc;
}

Result<MergedPerson> MergeImport(const std::optional<PersonRecord>& current,
                                 const ImportedDocument& doc, uint64_t seq, timefmt::EpochMs now) {
  if (doc.fnr.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "dokumentet mangler foedselsEllerDNummer");
  }
  if (seq == 0) return MakeError(ErrorCode::kConflict, "sekvensnummer 0 er ugyldig");
  const uint64_t prev = seq - 1;
  static const std::vector<Row> kNoRows;
  const std::vector<Row>& old_rows = current ? current->rows : kNoRows;
  for (const Row& row : old_rows) {
    if (row.from_seq >= seq || (row.current_until != kOpen && row.current_until >= seq) ||
        (row.removed_at != kOpen && row.removed_at >= seq)) {
      return MakeError(
          ErrorCode::kConflict,
          "personen har allerede en versjon etter sekvensnummer " + std::to_string(seq),
          "MergeImport: row from_seq " + std::to_string(row.from_seq));
    }
  }

  MergedPerson merged;
  PersonRecord& record = merged.record;
  record.rows.reserve(old_rows.size() + doc.rows.size());
  std::array<bool, kPropertyCount> changed{};

  std::vector<size_t> old_of_property;
  std::vector<size_t> new_of_property;
  std::vector<ptrdiff_t> match;  // per imported row of the property: index into old_of_property
  std::vector<bool> taken;
  struct Candidates {
    std::vector<size_t> present, current;  // positions in old_of_property, ascending
  };
  std::unordered_map<std::string_view, Candidates> candidates;  // by the old row's JSON
  for (int p = 0; p < kPropertyCount; ++p) {
    const auto property = static_cast<Property>(p);
    old_of_property.clear();
    new_of_property.clear();
    for (size_t i = 0; i < old_rows.size(); ++i) {
      if (old_rows[i].property == property) old_of_property.push_back(i);
    }
    for (size_t i = 0; i < doc.rows.size(); ++i) {
      if (doc.rows[i].property == property) new_of_property.push_back(i);
    }
    if (old_of_property.empty() && new_of_property.empty()) continue;

    // Greedy, order-preserving matching: each imported row takes the first unused old row after
    // the previous match that is present at prev, has the same JSON and can take the imported
    // erGjeldende (a history row never becomes current again). The candidates are looked up by
    // JSON (positions ascending, all present ones and the current ones apart), so that the
    // matching is O((old + imported) log old), not O(old × imported).
    candidates.clear();
    for (size_t k = 0; k < old_of_property.size(); ++k) {
      const Row& old = old_rows[old_of_property[k]];
      if (!old.PresentAt(prev)) continue;
      Candidates& c = candidates[old.json];
      c.present.push_back(k);
      if (old.CurrentAt(seq)) c.current.push_back(k);
    }
    match.assign(new_of_property.size(), -1);
    taken.assign(old_of_property.size(), false);
    size_t next_old = 0;
    for (size_t j = 0; j < new_of_property.size(); ++j) {
      const ImportedRow& imported = doc.rows[new_of_property[j]];
      auto found = candidates.find(imported.json);
      if (found == candidates.end()) continue;
      const std::vector<size_t>& positions =
          imported.gjeldende ? found->second.current : found->second.present;
      auto k = std::lower_bound(positions.begin(), positions.end(), next_old);
      if (k == positions.end()) continue;
      match[j] = static_cast<ptrdiff_t>(*k);
      taken[*k] = true;
      next_old = *k + 1;
    }

    // Merge both sequences around the matched anchors.
    size_t old_pos = 0;
    auto flush_old_until = [&](size_t end) {
      for (; old_pos < end; ++old_pos) {
        if (taken[old_pos]) continue;  // cannot happen before an anchor; kept for clarity
        Row row = old_rows[old_of_property[old_pos]];
        if (row.PresentAt(prev)) {
          row.removed_at = seq;
          changed[p] = true;
        }
        record.rows.push_back(std::move(row));
      }
    };
    for (size_t j = 0; j < new_of_property.size(); ++j) {
      const ImportedRow& imported = doc.rows[new_of_property[j]];
      if (match[j] >= 0) {
        const auto k = static_cast<size_t>(match[j]);
        flush_old_until(k);
        Row row = old_rows[old_of_property[k]];
        if (!imported.gjeldende && row.CurrentAt(prev)) {
          row.current_until = seq;
          changed[p] = true;
        }
        record.rows.push_back(std::move(row));
        old_pos = k + 1;
      } else {
        Row row;
        row.property = property;
        row.from_seq = seq;
        row.current_until = imported.gjeldende ? kOpen : seq;
        row.json = imported.json;
        record.rows.push_back(std::move(row));
        changed[p] = true;
      }
    }
    flush_old_until(old_of_property.size());
  }

  // Numbers.
  record.fnr = doc.fnr;
  if (current) {
    for (const std::string& id : current->other_ids) AddDistinct(record.other_ids, id, doc.fnr);
    AddDistinct(record.other_ids, current->fnr, doc.fnr);
  }
  for (const std::string& id : doc.other_ids) AddDistinct(record.other_ids, id, doc.fnr);

  // Every later read of the person costs O(record): its size is capped.
  size_t bytes = 0;
  for (const Row& row : record.rows) bytes += row.json.size();
  if (record.rows.size() + record.other_ids.size() > kMaxRecordRows || bytes > kMaxRecordBytes) {
    return MakeError(ErrorCode::kInvalidInput,
                     "personen " + doc.fnr + " ville fått for mange opplysninger (" +
                         std::to_string(record.rows.size() + record.other_ids.size()) +
                         " rader og nummer, " + std::to_string(bytes) + " byte; høyst " +
                         std::to_string(kMaxRecordRows) + " og " + std::to_string(kMaxRecordBytes) +
                         ")");
  }

  // The event.
  merged.version.seq = seq;
  merged.version.ajourholdstidspunkt = now;
  if (!current) {
    merged.version.type = Hendelsetype::kPersonErOpprettet;
    return merged;
  }
  merged.version.type = Hendelsetype::kPersonErOppdatert;
  const auto status_index = static_cast<size_t>(Property::kStatus);
  if (changed[status_index]) {
    std::optional<std::string_view> old_status;
    for (const Row& row : old_rows) {
      if (row.property == Property::kStatus && row.PresentAt(prev) && row.CurrentAt(prev)) {
        old_status = StringMember(row.json, "status");
        break;
      }
    }
    std::optional<std::string_view> new_status;
    for (const ImportedRow& row : doc.rows) {
      if (row.property == Property::kStatus && row.gjeldende) {
        new_status = StringMember(row.json, "status");
        break;
      }
    }
    if (new_status && new_status != old_status) {
      if (*new_status == "doed")
        merged.version.type = Hendelsetype::kPersonErDoed;
      else if (*new_status == "utflyttet")
        merged.version.type = Hendelsetype::kPersonErUtflyttet;
      else if (*new_status == "bosatt")
        merged.version.type = Hendelsetype::kPersonErBosatt;
      else
        merged.version.type = Hendelsetype::kEndringIStatus;
      return merged;
    }
  }
  for (const auto& [property, type] : kChangeEvents) {
    if (changed[static_cast<size_t>(property)]) {
      merged.version.type = type;
      break;
    }
  }
  return merged;
}

}  // namespace norreg::freg
