#include "service/person_import.hpp"

#include <boost/json.hpp>

#include "common/time.hpp"
#include "freg/document_import.hpp"

namespace norreg::service {
namespace {

namespace json = boost::json;

Error Invalid(std::string message) { return MakeError(ErrorCode::kInvalidInput, std::move(message)); }

// Adds the documents found in one parsed JSON value.
Status CollectDocuments(const json::value& value, std::string_view where,
                        std::vector<std::string>& out) {
  if (value.is_array()) {
    for (const auto& item : value.as_array()) {
      if (Status s = CollectDocuments(item, where, out); !s.ok()) return s;
    }
    return Status::Ok();
  }
  if (!value.is_object()) return Invalid(std::string(where) + ": forventet et JSON-objekt");
  const json::object& object = value.as_object();
  if (const json::value* oppslag = object.if_contains("oppslag")) {
    if (!oppslag->is_array()) return Invalid(std::string(where) + ": oppslag må være en liste");
    for (const auto& item : oppslag->as_array()) {
      const json::value* person =
          item.is_object() ? item.as_object().if_contains("folkeregisterperson") : nullptr;
      if (person != nullptr) out.push_back(json::serialize(*person));
    }
    return Status::Ok();
  }
  out.push_back(json::serialize(value));
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> SplitDocuments(std::string_view text, std::string_view source) {
  std::vector<std::string> out;
  json::parse_options options;
  options.max_depth = 64;
  std::error_code ec;
  json::value whole = json::parse(text, ec, {}, options);
  if (!ec) {
    if (Status s = CollectDocuments(whole, source, out); !s.ok()) return s.error();
    return out;
  }
  // Newline-delimited JSON: one value per non-empty line.
  size_t line_start = 0;
  size_t line_number = 0;
  while (line_start < text.size()) {
    size_t end = text.find('\n', line_start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(line_start, end - line_start);
    ++line_number;
    line_start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::error_code line_ec;
    json::value value = json::parse(line, line_ec, {}, options);
    std::string where = std::string(source) + " linje " + std::to_string(line_number);
    if (line_ec) return Invalid(where + ": ugyldig JSON (" + line_ec.message() + ")");
    if (Status s = CollectDocuments(value, where, out); !s.ok()) return s.error();
  }
  if (out.empty()) return Invalid(std::string(source) + ": ugyldig JSON (" + ec.message() + ")");
  return out;
}

Result<ImportSummary> ImportDocuments(store::RegisterStore& store,
                                      const std::vector<std::string>& documents,
                                      const std::vector<std::string>& sources) {
  std::vector<freg::ImportedDocument> parsed;
  std::vector<std::string> fnrs;
  parsed.reserve(documents.size());
  std::string buffer;  // reused by the look-ups below
  for (size_t i = 0; i < documents.size(); ++i) {
    auto doc = freg::ParsePersonDocument(documents[i]);
    if (!doc.ok()) {
      Error e = doc.error();
      std::string where = i < sources.size() ? sources[i] : "dokument " + std::to_string(i + 1);
      e.message = where + ": " + e.message;
      return e;
    }
    // A document may bring a new number for a known person: find the person by an earlier
    // number in identifikasjonsnummer when the current one is not yet known.
    // Only documents that name earlier numbers need the look-up (raw: nothing is decoded).
    std::string key = doc->fnr;
    if (!doc->other_ids.empty() && !store.FindRawByFnr(key, buffer).ok()) {
      for (const std::string& other : doc->other_ids) {
        if (store.FindRawByFnr(other, buffer).ok()) {
          key = other;
          break;
        }
      }
    }
    fnrs.push_back(std::move(key));
    parsed.push_back(std::move(doc).value());
  }
  ImportSummary summary;
  summary.documents = documents.size();
  if (documents.empty()) return summary;
  const timefmt::EpochMs now = timefmt::NowMs();
  auto last = store.ApplyChanges(
      fnrs, [&](size_t index, uint64_t next_seq,
                const std::optional<store::StoredPerson>& current) -> Result<store::PersonWrite> {
        std::optional<freg::PersonRecord> record;
        if (current) record = current->record;
        else ++summary.new_persons;
        auto merged = freg::MergeImport(record, parsed[index], next_seq, now);
        if (!merged.ok()) return merged.error();
        if (summary.first_seq == 0) summary.first_seq = next_seq;
        store::PersonWrite write;
        write.record = std::move(merged->record);
        write.versions.push_back(merged->version);
        return write;
      });
  if (!last.ok()) return last.error();
  summary.last_seq = *last;
  return summary;
}

}  // namespace norreg::service
