#pragma once
// The element structure of the event document XSD (Hendelsedokument v1.4, embedded from
// resources/), as far as norreg needs it to write event documents that validate against it:
// for every named complexType, its child elements in schema order (the elements of an extended
// base type first, xsd:choice members in place), each with its complexType or none (simple
// content). The row types of the event XSD are not always ordered like those of the person XSD,
// and some person fields have no place in them; see docs/xml.md.
//
// Only the subset of XSD the event schema uses is read: named top-level complexTypes with
// sequence/choice/complexContent+extension and elements with a `type` attribute.
//
// All const methods are thread-safe; Get() builds the schema once.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace norreg::freg {

class EventXsd {
 public:
  struct Type;
  struct Element {
    std::string name;
    const Type* type = nullptr;  // nullptr: simple content (text)
  };
  struct Type {
    std::string name;
    std::vector<Element> elements;  // in schema order
    // The child element named `name`, or nullptr.
    const Element* Find(std::string_view name) const;
  };

  // The schema of the embedded event XSD. Throws std::runtime_error only when the embedded file
  // cannot be read (a build defect).
  static const EventXsd& Get();
  // Reads an XSD text. kInvalidInput when it is not XML or lacks the Registerdata type.
  static Result<std::unique_ptr<EventXsd>> Build(std::string_view xsd);

  // The complexType named `name`, or nullptr.
  const Type* Find(std::string_view name) const;
  // The type of the row element `element` of Registerdata (an egenskapshendelse), e.g.
  // "navn" -> Folkeregisterpersonnavn; nullptr when Registerdata has no such element.
  const Type* RowType(std::string_view element) const;
  // True when `entitet` is a value of the Entitetsnavn enumeration.
  bool IsEntitetsnavn(std::string_view entitet) const;

 private:
  EventXsd() = default;
  std::map<std::string, std::unique_ptr<Type>, std::less<>> types_;
  std::vector<std::string> entitetsnavn_;
  const Type* registerdata_ = nullptr;
};

// Appends the members of the JSON object `json` as XML child elements in the order of `type`:
// members the type lacks (and nulls) are left out, arrays become repeated elements, objects are
// written by their element's type (an object where the type expects text is left out), strings
// are decoded and XML-escaped, numbers and booleans copied. Returns false and leaves `out` as it
// was when `json` is not a JSON object (or nests deeper than 32).
bool AppendJsonAsEventXml(std::string& out, std::string_view json, const EventXsd::Type& type);

}  // namespace norreg::freg
