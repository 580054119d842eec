#include "freg/event_xsd.hpp"

#include <boost/json.hpp>
#include <pugixml.hpp>
#include <stdexcept>

#include "common/escape.hpp"
#include "resources/embedded.hpp"

namespace norreg::freg {
namespace {

std::string_view LocalName(std::string_view qname) {
  const size_t colon = qname.find(':');
  return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}

// Reads the complexTypes of one schema document; the types are created before any is filled,
// so an element may name a type declared further down.
class Reader {
 public:
  Reader(std::map<std::string, std::unique_ptr<EventXsd::Type>, std::less<>>& types)
      : types_(types) {}

  void Index(pugi::xml_node schema) {
    for (pugi::xml_node child : schema.children()) {
      if (LocalName(child.name()) != "complexType") continue;
      std::string name = child.attribute("name").value();
      if (name.empty() || types_.contains(name)) continue;
      auto type = std::make_unique<EventXsd::Type>();
      type->name = name;
      nodes_.emplace(name, child);
      types_.emplace(std::move(name), std::move(type));
    }
  }

  void FillAll() {
    for (auto& [name, type] : types_) Fill(*type, 0);
  }

 private:
  // Fills `type` once (base types first). `depth` bounds a cyclic extension chain.
  void Fill(EventXsd::Type& type, int depth) {
    if (done_.contains(type.name) || depth > 32) return;
    done_.emplace(type.name, true);
    Collect(nodes_.at(type.name), type.elements, depth);
  }

  void Collect(pugi::xml_node node, std::vector<EventXsd::Element>& out, int depth) {
    for (pugi::xml_node child : node.children()) {
      const std::string_view kind = LocalName(child.name());
      if (kind == "element") {
        EventXsd::Element element;
        element.name = child.attribute("name").value();
        auto it = types_.find(LocalName(child.attribute("type").value()));
        if (it != types_.end()) element.type = it->second.get();
        if (!element.name.empty()) out.push_back(std::move(element));
      } else if (kind == "extension") {
        auto base = types_.find(LocalName(child.attribute("base").value()));
        if (base != types_.end()) {
          Fill(*base->second, depth + 1);
          out.insert(out.end(), base->second->elements.begin(), base->second->elements.end());
        }
        Collect(child, out, depth);
      } else if (kind == "sequence" || kind == "choice" || kind == "complexContent") {
        Collect(child, out, depth);
      }
    }
  }

  std::map<std::string, std::unique_ptr<EventXsd::Type>, std::less<>>& types_;
  std::map<std::string, pugi::xml_node, std::less<>> nodes_;
  std::map<std::string, bool, std::less<>> done_;
};

void AppendScalar(std::string& out, const boost::json::value& v) {
  if (v.is_string()) {
    const boost::json::string& s = v.get_string();
    AppendXmlEscaped(out, std::string_view(s.data(), s.size()));
  } else if (v.is_bool()) {
    out.append(v.get_bool() ? "true" : "false");
  } else {
    out.append(boost::json::serialize(v));
  }
}

void AppendObject(std::string& out, const boost::json::object& object, const EventXsd::Type& type);

void AppendMember(std::string& out, const EventXsd::Element& element, const boost::json::value& v) {
  if (v.is_null() || v.is_array()) return;                 // arrays are unrolled by the caller
  if (v.is_object() != (element.type != nullptr)) return;  // shape the schema has no room for
  out.push_back('<');
  out.append(element.name);
  out.push_back('>');
  if (v.is_object()) {
    AppendObject(out, v.get_object(), *element.type);
  } else {
    AppendScalar(out, v);
  }
  out.append("</");
  out.append(element.name);
  out.push_back('>');
}

void AppendObject(std::string& out, const boost::json::object& object, const EventXsd::Type& type) {
  for (const EventXsd::Element& element : type.elements) {
    auto it = object.find(element.name);
    if (it == object.end()) continue;
    if (it->value().is_array()) {
      for (const boost::json::value& item : it->value().get_array()) {
        AppendMember(out, element, item);
      }
    } else {
      AppendMember(out, element, it->value());
    }
  }
}

}  // namespace

const EventXsd::Element* EventXsd::Type::Find(std::string_view element_name) const {
  for (const Element& e : elements) {
    if (e.name == element_name) return &e;
  }
  return nullptr;
}

Result<std::unique_ptr<EventXsd>> EventXsd::Build(std::string_view xsd) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xsd.data(), xsd.size())) {
    return MakeError(ErrorCode::kInvalidInput, "hendelse-XSD: ugyldig XML");
  }
  std::unique_ptr<EventXsd> schema(new EventXsd());
  pugi::xml_node root = doc.document_element();
  Reader reader(schema->types_);
  reader.Index(root);
  reader.FillAll();
  schema->registerdata_ = schema->Find("Registerdata");
  if (schema->registerdata_ == nullptr) {
    return MakeError(ErrorCode::kInvalidInput, "hendelse-XSD: mangler typen Registerdata");
  }
  for (pugi::xml_node child : root.children()) {
    if (LocalName(child.name()) != "simpleType" ||
        std::string_view(child.attribute("name").value()) != "Entitetsnavn") {
      continue;
    }
    for (pugi::xml_node restriction : child.children()) {
      for (pugi::xml_node value : restriction.children()) {
        if (LocalName(value.name()) == "enumeration") {
          schema->entitetsnavn_.emplace_back(value.attribute("value").value());
        }
      }
    }
  }
  return schema;
}

const EventXsd& EventXsd::Get() {
  static const EventXsd* const schema = [] {
    auto built = Build(resources::freg_event_xsd());
    if (!built.ok()) throw std::runtime_error(built.error().message);
    return built->release();
  }();
  return *schema;
}

const EventXsd::Type* EventXsd::Find(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : it->second.get();
}

const EventXsd::Type* EventXsd::RowType(std::string_view element) const {
  const Element* e = registerdata_->Find(element);
  return e == nullptr ? nullptr : e->type;
}

bool EventXsd::IsEntitetsnavn(std::string_view entitet) const {
  for (const std::string& value : entitetsnavn_) {
    if (value == entitet) return true;
  }
  return false;
}

bool AppendJsonAsEventXml(std::string& out, std::string_view json, const EventXsd::Type& type) {
  boost::system::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::json::value value = boost::json::parse(json, ec, {}, options);
  if (ec || !value.is_object()) return false;
  AppendObject(out, value.get_object(), type);
  return true;
}

}  // namespace norreg::freg
