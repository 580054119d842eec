#include "freg/schema.hpp"

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <exception>
#include <pugixml.hpp>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "common/escape.hpp"
#include "common/time.hpp"
#include "resources/embedded.hpp"

namespace norreg::freg {
namespace {

constexpr std::string_view kComponentPrefix = "folkeregisteret.tilgjengeliggjoering.person.v1.";
constexpr std::string_view kRefPrefix = "#/components/schemas/";
constexpr std::string_view kRootPath = "folkeregisterperson";
constexpr std::string_view kErGjeldende = "erGjeldende";
constexpr size_t kMaxFields = 64;  // required_mask and the per-object slot array

std::string_view LocalName(std::string_view qname) {
  size_t colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// ---------------------------------------------------------------------------------------------
// XSD: element order of every complexType.

class XsdOrder {
 public:
  bool Load(std::string_view xsd, std::string& problem) {
    pugi::xml_parse_result parsed = doc_.load_buffer(xsd.data(), xsd.size());
    if (!parsed) {
      problem = std::string("XSD kan ikke leses: ") + parsed.description();
      return false;
    }
    for (pugi::xml_node child : doc_.document_element().children()) {
      if (LocalName(child.name()) == "complexType" && child.attribute("name")) {
        types_.emplace(child.attribute("name").value(), child);
      }
    }
    return true;
  }

  // Element names of complexType `name` in document order (base type's first), or nullptr when
  // the XSD has no such type.
  const std::vector<std::string>* Elements(const std::string& name) {
    auto cached = cache_.find(name);
    if (cached != cache_.end()) return &cached->second;
    auto type = types_.find(name);
    if (type == types_.end()) return nullptr;
    std::vector<std::string> out;
    Collect(type->second, out, 0);
    return &cache_.emplace(name, std::move(out)).first->second;
  }

 private:
  void Collect(pugi::xml_node node, std::vector<std::string>& out, int depth) {
    if (depth > 32) return;  // a malformed (cyclic) schema; order what we have
    for (pugi::xml_node child : node.children()) {
      std::string_view local = LocalName(child.name());
      if (local == "element") {
        std::string name = child.attribute("name")
                               ? child.attribute("name").value()
                               : std::string(LocalName(child.attribute("ref").value()));
        if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) {
          out.push_back(std::move(name));
        }
      } else if (local == "extension") {
        std::string base(LocalName(child.attribute("base").value()));
        auto type = types_.find(base);
        if (type != types_.end()) Collect(type->second, out, depth + 1);
        Collect(child, out, depth + 1);
      } else if (local == "sequence" || local == "choice" || local == "all" ||
                 local == "complexContent") {
        Collect(child, out, depth + 1);
      }
    }
  }

  pugi::xml_document doc_;
  std::unordered_map<std::string, pugi::xml_node> types_;
  std::unordered_map<std::string, std::vector<std::string>> cache_;
};

// ---------------------------------------------------------------------------------------------
// Writing canonical JSON.

template <typename T>
void AppendNumber(std::string& out, T value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec == std::errc()) out.append(buf, end);
}

// At most `max` bytes of `s`, cut at a UTF-8 character boundary, for echoing input in messages.
std::string Excerpt(std::string_view s, size_t max = 40) {
  if (s.size() <= max) return std::string(s);
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "…";
}

std::string_view TypeWord(JsonType t) {
  switch (t) {
    case JsonType::kObject:
      return "objekt";
    case JsonType::kArray:
      return "liste";
    case JsonType::kString:
      return "streng";
    case JsonType::kBoolean:
      return "boolsk verdi";
    case JsonType::kInteger:
      return "heltall";
    case JsonType::kNumber:
      return "tall";
  }
  return "verdi";
}

std::string_view ElementWord(simdjson::dom::element_type t) {
  using simdjson::dom::element_type;
  switch (t) {
    case element_type::ARRAY:
      return "liste";
    case element_type::OBJECT:
      return "objekt";
    case element_type::INT64:
    case element_type::UINT64:
      return "heltall";
    case element_type::DOUBLE:
      return "desimaltall";
    case element_type::STRING:
      return "streng";
    case element_type::BOOL:
      return "boolsk verdi";
    case element_type::NULL_VALUE:
      return "null";
  }
  return "ukjent";
}

// ---------------------------------------------------------------------------------------------
// One walk over a parsed document: validates against the schema and, when `write` is set,
// appends the canonical form. The path is a stack of segments, turned into text only on error.

struct PathSegment {
  std::string_view key;
  int64_t index = -1;  // >= 0: an array element
};

class Walker {
 public:
  explicit Walker(std::string_view root) { path_.push_back({root, -1}); }

  const Error& error() const { return error_; }
  std::vector<PathSegment>& path() { return path_; }

  bool Fail(std::string_view what) {
    std::string text;
    for (size_t i = 0; i < path_.size(); ++i) {
      if (path_[i].index >= 0) {
        text.push_back('[');
        AppendNumber(text, path_[i].index);
        text.push_back(']');
      } else {
        if (i > 0) text.push_back('.');
        text.append(path_[i].key);
      }
    }
    text.append(": ");
    text.append(what);
    error_ = MakeError(ErrorCode::kInvalidInput, std::move(text));
    return false;
  }

  // Validates (and writes) `value` against `node`. `value` may not be null.
  bool Value(simdjson::dom::element value, const SchemaNode& node, std::string* out) {
    using simdjson::dom::element_type;
    const element_type type = value.type();
    switch (node.type) {
      case JsonType::kObject:
        if (type != element_type::OBJECT) return WrongType(node, type);
        return Object(value.get_object().value_unsafe(), node, out, false, nullptr);
      case JsonType::kArray: {
        if (type != element_type::ARRAY) return WrongType(node, type);
        if (out) out->push_back('[');
        int64_t index = 0;
        const simdjson::dom::array array = value.get_array().value_unsafe();
        for (simdjson::dom::element item : array) {
          if (out && index > 0) out->push_back(',');
          path_.push_back({{}, index});
          if (!Value(item, *node.items, out)) return false;
          path_.pop_back();
          ++index;
        }
        if (out) out->push_back(']');
        return true;
      }
      case JsonType::kString: {
        if (type != element_type::STRING) return WrongType(node, type);
        std::string_view s = value.get_string().value_unsafe();
        if (!node.enum_values.empty() && std::find(node.enum_values.begin(), node.enum_values.end(),
                                                   s) == node.enum_values.end()) {
          std::string what = "ugyldig verdi \"" + Excerpt(s) + "\" (tillatt: ";
          for (size_t i = 0; i < node.enum_values.size(); ++i) {
            if (i > 0) what.append(", ");
            what.append(node.enum_values[i]);
          }
          what.push_back(')');
          return Fail(what);
        }
        if (node.format == StringFormat::kDate && !timefmt::IsValidDate(s)) {
          return Fail("ugyldig dato \"" + Excerpt(s) + "\" (forventet ÅÅÅÅ-MM-DD)");
        }
        if (node.format == StringFormat::kDateTime && !timefmt::ParseDateTime(s)) {
          return Fail("ugyldig tidspunkt \"" + Excerpt(s) +
                      "\" (forventet RFC 3339 med tidssone, f.eks. 2022-03-14T14:41:28.711+01:00)");
        }
        if (out) AppendJsonString(*out, s);
        return true;
      }
      case JsonType::kBoolean:
        if (type != element_type::BOOL) return WrongType(node, type);
        if (out) out->append(value.get_bool().value_unsafe() ? "true" : "false");
        return true;
      case JsonType::kInteger:
        if (type == element_type::INT64) {
          if (out) AppendNumber(*out, value.get_int64().value_unsafe());
        } else if (type == element_type::UINT64) {
          if (out) AppendNumber(*out, value.get_uint64().value_unsafe());
        } else {
          return WrongType(node, type);
        }
        return true;
      case JsonType::kNumber:
        if (type == element_type::INT64) {
          if (out) AppendNumber(*out, value.get_int64().value_unsafe());
        } else if (type == element_type::UINT64) {
          if (out) AppendNumber(*out, value.get_uint64().value_unsafe());
        } else if (type == element_type::DOUBLE) {
          if (out) AppendNumber(*out, value.get_double().value_unsafe());
        } else {
          return WrongType(node, type);
        }
        return true;
    }
    return Fail("ukjent skjematype");
  }

  // Validates (and writes) an object. With `row`, the "erGjeldende" key is validated but left out
  // of the output and its value stored in *gjeldende (true when absent).
  bool Object(simdjson::dom::object object, const SchemaNode& node, std::string* out, bool row,
              bool* gjeldende) {
    std::array<simdjson::dom::element, kMaxFields> slots;
    uint64_t seen = 0;
    uint64_t present = 0;
    for (simdjson::dom::key_value_pair field : object) {
      const int index = node.FindField(field.key);
      if (index < 0) {
        path_.push_back({field.key, -1});
        return Fail("ukjent felt");
      }
      const uint64_t bit = uint64_t{1} << index;
      if (seen & bit) {
        path_.push_back({field.key, -1});
        return Fail("feltet forekommer mer enn én gang");
      }
      seen |= bit;
      if (field.value.is_null()) continue;  // null: as if absent
      present |= bit;
      slots[index] = field.value;
    }
    const uint64_t missing = node.required_mask & ~present;
    if (missing != 0) {
      path_.push_back({node.fields[std::countr_zero(missing)].name, -1});
      return Fail("mangler påkrevd felt");
    }
    if (out) out->push_back('{');
    bool first = true;
    for (size_t i = 0; i < node.fields.size(); ++i) {
      if (!(present & (uint64_t{1} << i))) continue;
      const SchemaField& field = node.fields[i];
      path_.push_back({field.name, -1});
      if (row && field.name == kErGjeldende) {
        if (!Value(slots[i], *field.node, nullptr)) return false;
        if (gjeldende && field.node->type == JsonType::kBoolean) {
          *gjeldende = slots[i].get_bool().value_unsafe();
        }
      } else {
        if (out) {
          if (!first) out->push_back(',');
          AppendJsonString(*out, field.name);
          out->push_back(':');
        }
        first = false;
        if (!Value(slots[i], *field.node, out)) return false;
      }
      path_.pop_back();
    }
    if (out) out->push_back('}');
    return true;
  }

 private:
  bool WrongType(const SchemaNode& node, simdjson::dom::element_type got) {
    std::string what = "forventet ";
    what.append(TypeWord(node.type));
    what.append(", fikk ");
    what.append(ElementWord(got));
    return Fail(what);
  }

  std::vector<PathSegment> path_;
  Error error_;
};

Error JsonError(simdjson::error_code code) {
  if (code == simdjson::DEPTH_ERROR) {
    return MakeError(ErrorCode::kInvalidInput, "ugyldig JSON: for dyp nøsting");
  }
  return MakeError(ErrorCode::kInvalidInput,
                   std::string("ugyldig JSON: ") + simdjson::error_message(code));
}

// One parser per thread: it keeps its buffers between documents (no allocation per import once
// warm). A document parsed here is only valid until the next parse on the same thread.
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

}  // namespace

int SchemaNode::FindField(std::string_view key) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == key) return static_cast<int>(i);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Building.

struct PersonSchema::Builder {
  PersonSchema& schema;
  YAML::Node components;
  XsdOrder xsd;
  std::unordered_map<std::string, const SchemaNode*> built;  // by component name
  std::unordered_map<std::string, const SchemaNode*> by_suffix;

  SchemaNode* NewNode() {
    schema.nodes_.push_back(std::make_unique<SchemaNode>());
    return schema.nodes_.back().get();
  }

  Result<const SchemaNode*> Resolve(const YAML::Node& yaml, const std::string& where) {
    if (!yaml.IsMap()) return Problem(where + ": skjemaet er ikke et kart");
    if (const YAML::Node ref = yaml["$ref"]) {
      std::string target = ref.as<std::string>();
      if (target.rfind(kRefPrefix, 0) != 0) return Problem(where + ": ukjent $ref " + target);
      return Component(target.substr(kRefPrefix.size()));
    }
    SchemaNode* node = NewNode();
    if (Status s = Fill(*node, yaml, where, {}); !s.ok()) return s.error();
    return node;
  }

  Result<const SchemaNode*> Component(const std::string& name) {
    if (auto it = built.find(name); it != built.end()) return it->second;
    const YAML::Node& all = components;
    const YAML::Node yaml = all[name];
    if (!yaml) return Problem("komponentskjemaet " + name + " finnes ikke");
    SchemaNode* node = NewNode();
    built.emplace(name, node);  // before filling: a cyclic $ref finds the node
    std::string suffix = name.rfind(kComponentPrefix, 0) == 0 ? name.substr(kComponentPrefix.size())
                                                              : name.substr(name.rfind('.') + 1);
    node->name = suffix;
    by_suffix.emplace(suffix, node);
    if (Status s = Fill(*node, yaml, suffix, suffix); !s.ok()) return s.error();
    return node;
  }

  Status Fill(SchemaNode& node, const YAML::Node& yaml, const std::string& where,
              const std::string& component_suffix) {
    std::string type =
        yaml["type"] ? yaml["type"].as<std::string>() : (yaml["properties"] ? "object" : "string");
    if (type == "object")
      node.type = JsonType::kObject;
    else if (type == "array")
      node.type = JsonType::kArray;
    else if (type == "string")
      node.type = JsonType::kString;
    else if (type == "boolean")
      node.type = JsonType::kBoolean;
    else if (type == "integer")
      node.type = JsonType::kInteger;
    else if (type == "number")
      node.type = JsonType::kNumber;
    else
      return Problem(where + ": ukjent type " + type);

    if (const YAML::Node format = yaml["format"]) {
      std::string f = format.as<std::string>();
      if (f == "date")
        node.format = StringFormat::kDate;
      else if (f == "date-time")
        node.format = StringFormat::kDateTime;
    }
    if (const YAML::Node values = yaml["enum"]) {
      for (const YAML::Node& v : values) node.enum_values.push_back(v.as<std::string>());
    }
    if (node.type == JsonType::kArray) {
      const YAML::Node items = yaml["items"];
      if (!items) return Problem(where + ": liste uten items");
      auto resolved = Resolve(items, where + "[]");
      if (!resolved.ok()) return resolved.error();
      node.items = *resolved;
    }
    if (node.type != JsonType::kObject) return Status::Ok();

    // Properties in OpenAPI order first, then reordered by the XSD.
    std::vector<SchemaField> fields;
    if (const YAML::Node properties = yaml["properties"]) {
      for (auto it = properties.begin(); it != properties.end(); ++it) {
        SchemaField field;
        field.name = it->first.as<std::string>();
        auto resolved = Resolve(it->second, where + "." + field.name);
        if (!resolved.ok()) return resolved.error();
        field.node = *resolved;
        fields.push_back(std::move(field));
      }
    }
    if (fields.size() > kMaxFields) return Problem(where + ": for mange felt");
    std::string xsd_name = yaml["title"] ? yaml["title"].as<std::string>() : component_suffix;
    const std::vector<std::string>* order = xsd_name.empty() ? nullptr : xsd.Elements(xsd_name);
    if (!order && !xsd_name.empty()) {
      schema.notes_.push_back(where + ": ingen XSD-type " + xsd_name +
                              "; feltene ordnes alfabetisk");
    }
    std::vector<SchemaField> ordered;
    ordered.reserve(fields.size());
    if (order) {
      for (const std::string& element : *order) {
        auto it = std::find_if(fields.begin(), fields.end(),
                               [&](const SchemaField& f) { return f.name == element; });
        if (it == fields.end()) {
          schema.notes_.push_back(where + "." + element +
                                  ": i XSD men ikke i OpenAPI (avvises i JSON)");
          continue;
        }
        ordered.push_back(std::move(*it));
        fields.erase(it);
      }
    }
    std::sort(fields.begin(), fields.end(),
              [](const SchemaField& a, const SchemaField& b) { return a.name < b.name; });
    for (SchemaField& field : fields) {
      field.in_xsd = false;
      if (order) {
        schema.notes_.push_back(where + "." + field.name +
                                ": i OpenAPI men ikke i XSD (ordnes etter XSD-feltene)");
      }
      ordered.push_back(std::move(field));
    }
    node.fields = std::move(ordered);
    if (const YAML::Node required = yaml["required"]) {
      for (const YAML::Node& r : required) {
        int index = node.FindField(r.as<std::string>());
        if (index < 0) return Problem(where + ": påkrevd felt " + r.as<std::string>() + " mangler");
        node.fields[index].required = true;
        node.required_mask |= uint64_t{1} << index;
      }
    }
    return Status::Ok();
  }

  static Error Problem(std::string message) {
    return MakeError(ErrorCode::kInvalidInput, "personskjema: " + std::move(message));
  }

  // Adds the person components of `newer` that `components` lacks, and the properties of shared
  // person components that `components` lacks (with the newer schema of each). Everything already
  // in `components` stays as it is. Each addition is listed in Notes().
  void MergeNewer(const YAML::Node& newer) {
    for (auto it = newer.begin(); it != newer.end(); ++it) {
      const std::string name = it->first.as<std::string>();
      if (name.rfind(kComponentPrefix, 0) != 0) continue;
      const std::string suffix = name.substr(kComponentPrefix.size());
      const YAML::Node& all = components;  // const lookups add nothing to the map
      YAML::Node existing = all[name];
      if (!existing || existing.IsNull()) {
        components[name] = it->second;
        schema.notes_.push_back(suffix + ": fra nyere OpenAPI");
        continue;
      }
      const YAML::Node newer_properties = it->second["properties"];
      if (!newer_properties || !newer_properties.IsMap() || !existing.IsMap()) continue;
      YAML::Node properties = existing["properties"];
      for (auto p = newer_properties.begin(); p != newer_properties.end(); ++p) {
        const std::string property = p->first.as<std::string>();
        const YAML::Node& present = properties;
        if (present[property]) continue;
        properties[property] = p->second;
        schema.notes_.push_back(suffix + "." + property + ": fra nyere OpenAPI");
      }
    }
  }
};

PersonSchema::PersonSchema() = default;
PersonSchema::~PersonSchema() = default;

Result<std::unique_ptr<PersonSchema>> PersonSchema::Build(std::string_view openapi_yaml,
                                                          std::string_view xsd,
                                                          std::string_view newer_openapi) {
  std::unique_ptr<PersonSchema> schema(new PersonSchema());
  Builder builder{*schema, {}, {}, {}, {}};
  std::string problem;
  if (!builder.xsd.Load(xsd, problem)) return Builder::Problem(problem);
  try {
    YAML::Node root = YAML::Load(std::string(openapi_yaml));
    builder.components = root["components"]["schemas"];
    if (!builder.components || !builder.components.IsMap()) {
      return Builder::Problem("OpenAPI-filen mangler components.schemas");
    }
    if (!newer_openapi.empty()) {
      YAML::Node newer = YAML::Load(std::string(newer_openapi));
      const YAML::Node newer_components = newer["components"]["schemas"];
      if (!newer_components || !newer_components.IsMap()) {
        return Builder::Problem("den nyere OpenAPI-filen mangler components.schemas");
      }
      builder.MergeNewer(newer_components);
    }
    auto root_node = builder.Component(std::string(kComponentPrefix) + "Folkeregisterperson");
    if (!root_node.ok()) return root_node.error();
    schema->root_ = *root_node;
  } catch (const YAML::Exception& e) {
    return Builder::Problem(std::string("OpenAPI-filen kan ikke leses: ") + e.what());
  }
  if (schema->root_->type != JsonType::kObject)
    return Builder::Problem("Folkeregisterperson er ikke et objekt");
  schema->rows_.resize(kPropertyCount);
  for (int p = 0; p < kPropertyCount; ++p) {
    const auto property = static_cast<Property>(p);
    const int index = schema->root_->FindField(PropertyName(property));
    if (index < 0) {
      return Builder::Problem("Folkeregisterperson mangler " + std::string(PropertyName(property)));
    }
    const SchemaNode* node = schema->root_->fields[index].node;
    if (node->type == JsonType::kArray) node = node->items;
    if (node->type != JsonType::kObject) {
      return Builder::Problem(std::string(PropertyName(property)) + ": raden er ikke et objekt");
    }
    schema->rows_[p] = node;
  }
  return schema;
}

const PersonSchema& PersonSchema::Get() {
  static const std::unique_ptr<PersonSchema> schema = [] {
    auto built = Build(resources::freg_openapi(), resources::freg_person_xsd(),
                       resources::freg_openapi_1_6());
    if (!built.ok()) throw std::runtime_error("embedded person schema: " + built.error().message);
    return std::move(built).value();
  }();
  return *schema;
}

const SchemaNode* PersonSchema::Find(std::string_view name) const {
  for (const auto& node : nodes_) {
    if (node->name == name) return node.get();
  }
  return nullptr;
}

namespace {

// The shared walk of ValidatePerson and CanonicalizePerson; `doc` null = validate only.
Status WalkPerson(const PersonSchema& schema, std::string_view json, CanonicalDocument* doc) {
  simdjson::dom::element root;
  if (auto code = ThreadParser().parse(json.data(), json.size()).get(root); code) {
    return JsonError(code);
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) {
    return MakeError(ErrorCode::kInvalidInput,
                     "dokumentet må være et JSON-objekt (folkeregisterperson)");
  }
  const SchemaNode& person = schema.Root();
  Walker walker(kRootPath);
  auto fail = [&walker](std::string_view what) -> Status {
    walker.Fail(what);
    return walker.error();
  };
  uint64_t seen = 0;
  uint64_t present = 0;
  bool has_id = false;
  const simdjson::dom::object members = root.get_object().value_unsafe();
  for (simdjson::dom::key_value_pair field : members) {
    walker.path().push_back({field.key, -1});
    const int index = person.FindField(field.key);
    if (index < 0) return fail("ukjent felt");
    const uint64_t bit = uint64_t{1} << index;
    if (seen & bit) return fail("feltet forekommer mer enn én gang");
    seen |= bit;
    if (field.value.is_null()) {
      walker.path().pop_back();
      continue;
    }
    present |= bit;
    const SchemaNode& node = *person.fields[index].node;
    const std::optional<Property> property = PropertyFromName(field.key);
    if (!property) {  // allowed by the OpenAPI, not stored by norreg
      if (!walker.Value(field.value, node, nullptr)) return walker.error();
      if (doc) doc->ignored_properties.emplace_back(field.key);
      walker.path().pop_back();
      continue;
    }
    const SchemaNode& row_schema = schema.RowSchema(*property);
    auto one_row = [&](simdjson::dom::element value) -> bool {
      if (value.type() != simdjson::dom::element_type::OBJECT) {
        return walker.Fail(std::string("forventet objekt, fikk ") +
                           std::string(ElementWord(value.type())));
      }
      if (!doc)
        return walker.Object(value.get_object().value_unsafe(), row_schema, nullptr, true, nullptr);
      CanonicalDocumentRow row;
      row.property = *property;
      if (!walker.Object(value.get_object().value_unsafe(), row_schema, &row.json, true,
                         &row.gjeldende)) {
        return false;
      }
      doc->rows.push_back(std::move(row));
      return true;
    };
    if (node.type == JsonType::kArray) {
      if (field.value.type() != simdjson::dom::element_type::ARRAY) {
        return fail(std::string("forventet liste, fikk ") +
                    std::string(ElementWord(field.value.type())));
      }
      int64_t i = 0;
      const simdjson::dom::array items = field.value.get_array().value_unsafe();
      for (simdjson::dom::element item : items) {
        walker.path().push_back({{}, i++});
        if (!one_row(item)) return walker.error();
        walker.path().pop_back();
      }
      if (*property == Property::kIdentifikasjonsnummer && i > 0) has_id = true;
    } else if (!one_row(field.value)) {
      return walker.error();
    }
    walker.path().pop_back();
  }
  if (const uint64_t missing = person.required_mask & ~present; missing != 0) {
    walker.path().push_back({person.fields[std::countr_zero(missing)].name, -1});
    return fail("mangler påkrevd felt");
  }
  if (!has_id) {
    return MakeError(
        ErrorCode::kInvalidInput,
        "folkeregisterperson.identifikasjonsnummer: mangler påkrevd felt (minst én rad)");
  }
  return Status::Ok();
}

}  // namespace

Status PersonSchema::ValidatePerson(std::string_view json) const {
  return WalkPerson(*this, json, nullptr);
}

Result<CanonicalDocument> PersonSchema::CanonicalizePerson(std::string_view json) const {
  CanonicalDocument doc;
  if (Status s = WalkPerson(*this, json, &doc); !s.ok()) return s.error();
  return doc;
}

Result<std::string> PersonSchema::CanonicalRow(Property property, std::string_view row_json) const {
  simdjson::dom::element root;
  if (auto code = ThreadParser().parse(row_json.data(), row_json.size()).get(root); code) {
    return JsonError(code);
  }
  Walker walker(PropertyName(property));
  if (root.type() != simdjson::dom::element_type::OBJECT) {
    walker.Fail(std::string("forventet objekt, fikk ") + std::string(ElementWord(root.type())));
    return walker.error();
  }
  std::string out;
  out.reserve(row_json.size());
  if (!walker.Object(root.get_object().value_unsafe(), RowSchema(property), &out, true, nullptr)) {
    return walker.error();
  }
  return out;
}

}  // namespace norreg::freg
