#pragma once
// The JSON schema of the person document (Folkeregisterperson), built once from the two reference
// schemas compiled into the binary:
//   - the OpenAPI file (components.schemas `folkeregisteret.tilgjengeliggjoering.person.v1.*`)
//     gives the JSON types, enums, required properties and string formats (date, date-time);
//   - the XSD (PersondokumentMedHistorikk_v1BETA2) gives the element order of every complexType
//     (inherited Registermetadata elements first, xsd:choice members in place).
// An OpenAPI schema is matched to the XSD complexType of the same `title` (or, without a title,
// the schema name's last dotted part). Properties the OpenAPI has and the XSD type lacks are
// ordered after the XSD-ordered ones, alphabetically; each such case is listed in Notes().
//
// Used to validate imported documents and to bring each row into the canonical form stored in
// freg::Row::json: compact JSON, keys in XSD order, minimal string escaping, no "erGjeldende".
//
// No JSON-library types cross this header. All const methods are thread-safe.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "freg/person_record.hpp"

namespace norreg::freg {

enum class JsonType : uint8_t { kObject, kArray, kString, kBoolean, kInteger, kNumber };
enum class StringFormat : uint8_t { kNone, kDate, kDateTime };

struct SchemaNode;

// One property of an object schema.
struct SchemaField {
  std::string name;
  const SchemaNode* node = nullptr;  // never null once built
  bool required = false;
  bool in_xsd = true;  // false: ordered after the XSD elements (alphabetically)
};

// One JSON schema (a named component or an inline one).
struct SchemaNode {
  std::string name;  // component name suffix or title ("Vegadresse"); empty for inline schemas
  JsonType type = JsonType::kString;
  StringFormat format = StringFormat::kNone;
  std::vector<std::string> enum_values;  // strings only; empty = any value
  std::vector<SchemaField> fields;       // objects: in canonical (XSD) order
  uint64_t required_mask = 0;            // bit i set when fields[i] is required
  const SchemaNode* items = nullptr;     // arrays

  // Index of the field named `key`, or -1.
  int FindField(std::string_view key) const;
};

// One row of a validated document, canonicalised.
struct CanonicalDocumentRow {
  Property property = Property::kStatus;
  bool gjeldende = true;  // the row's "erGjeldende" (true when absent)
  std::string json;       // canonical form, without "erGjeldende"
};

struct CanonicalDocument {
  std::vector<CanonicalDocumentRow> rows;  // in document order
  // Top-level properties the OpenAPI schema allows but norreg does not store (no Property, e.g.
  // "oppholdPaaSvalbard"): they were validated and then left out.
  std::vector<std::string> ignored_properties;
};

class PersonSchema {
 public:
  // The schema built from the embedded reference files, on first use (thread-safe). Throws
  // std::runtime_error only if the embedded files cannot be read as schemas (a build defect).
  static const PersonSchema& Get();

  // Builds a schema from the texts of an OpenAPI YAML file and the person XSD, plus (optional) a
  // newer OpenAPI file (YAML or JSON) whose person components and properties missing from the
  // first are merged in. kInvalidInput (message says what) when any cannot be parsed or the first
  // lacks the Folkeregisterperson schema.
  static Result<std::unique_ptr<PersonSchema>> Build(std::string_view openapi_yaml,
                                                     std::string_view xsd,
                                                     std::string_view newer_openapi = {});

  // Validates a whole Folkeregisterperson JSON text: JSON syntax (nesting at most 1024 deep),
  // the root is an object, every property known, types, enums, required properties, formats
  // (date: a real `YYYY-MM-DD`; date-time: RFC 3339 with offset, fraction optional), duplicate
  // keys, and at least one identifikasjonsnummer row. JSON null counts as absent.
  // Failure: kInvalidInput whose message names the path, e.g.
  // "folkeregisterperson.navn[0].fornavnn: ukjent felt".
  Status ValidatePerson(std::string_view json) const;

  // ValidatePerson, then every row (array element; the object itself for doedsfall and
  // falskIdentitet) in canonical form, in document order. One parse for both.
  Result<CanonicalDocument> CanonicalizePerson(std::string_view json) const;

  // Validates one row of `property` given as a JSON object text and returns its canonical form.
  // Failure: kInvalidInput naming the path ("navn.etternavn: mangler påkrevd felt").
  Result<std::string> CanonicalRow(Property property, std::string_view row_json) const;

  // The schema of one row of `property` (the array's items, or the object).
  const SchemaNode& RowSchema(Property property) const {
    return *rows_[static_cast<int>(property)];
  }
  // The Folkeregisterperson schema.
  const SchemaNode& Root() const { return *root_; }
  // A named component schema ("Vegadresse"), or nullptr.
  const SchemaNode* Find(std::string_view name) const;
  // Where OpenAPI and XSD disagree (properties outside the XSD order, types without XSD match).
  const std::vector<std::string>& Notes() const { return notes_; }

  PersonSchema(const PersonSchema&) = delete;
  PersonSchema& operator=(const PersonSchema&) = delete;
  ~PersonSchema();

 private:
  PersonSchema();
  struct Builder;

  std::vector<std::unique_ptr<SchemaNode>> nodes_;  // owns every node
  const SchemaNode* root_ = nullptr;
  std::vector<const SchemaNode*> rows_;  // indexed by Property
  std::vector<std::string> notes_;
};

}  // namespace norreg::freg
