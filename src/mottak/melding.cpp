// Melding and Applikasjonskvittering (mottak/melding.hpp).
//
// pugixml is a fast but lenient parser: it accepts duplicate attributes, several root elements,
// text after the root, '<' in attribute values, undefined entity references (kept as text) and a
// raw NUL cut short by &#0;. So every document first goes through CheckWellFormed(), a linear
// scan that enforces what pugixml does not (and refuses any DOCTYPE before pugixml sees it, so an
// entity bomb costs one comparison). pugixml then builds the tree, and a small namespace-aware
// walker checks it against the schema.
#include "mottak/melding.hpp"

#include <cstdint>
#include <initializer_list>
#include <pugixml.hpp>
#include <unordered_set>
#include <utility>

#include "common/escape.hpp"

namespace norreg::mottak {
namespace {

constexpr std::string_view kXmlNamespace = "http://www.w3.org/XML/1998/namespace";
constexpr std::string_view kXsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";
// The scanner refuses deeper nesting, which bounds the recursion of the Signatur walker.
constexpr int kMaxDepth = 256;
// Attributes (namespace declarations included) per element, and namespace bindings in scope: a
// message needs a handful; the caps keep the checks below linear (docs/design.md, src/mottak/).
constexpr size_t kMaxAttributes = 256;
constexpr size_t kMaxBindings = 256;
constexpr std::string_view kDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message));
}

bool IsXmlSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsXmlChar(uint32_t c) {
  return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
}

// Empty when `s` is valid UTF-8 made of characters XML 1.0 allows; else what is wrong.
std::string_view CheckChars(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return "contains a control character XML does not allow";
      }
      ++i;
      continue;
    }
    const size_t n = ValidUtf8Length(s, i);
    if (n == 0) return "is not valid UTF-8 (or holds a code point XML does not allow)";
    i += n;
  }
  return {};
}

size_t CountCodePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

// xs:token's whiteSpace="collapse".
std::string Collapse(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (IsXmlSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool IsCollapsed(std::string_view s) {
  if (s.empty()) return true;
  if (s.front() == ' ' || s.back() == ' ') return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r') return false;
    if (s[i] == ' ' && s[i + 1] == ' ') return false;
  }
  return true;
}

bool StartsWith(std::string_view s, size_t i, std::string_view prefix) {
  return s.size() - i >= prefix.size() && s.compare(i, prefix.size(), prefix) == 0;
}

// ---------------------------------------------------------------------------------------------
// Well-formedness beyond pugixml.

// Checks the entity or character reference at xml[i] == '&'; returns its length or 0.
size_t CheckReference(std::string_view xml, size_t i, std::string* why) {
  const size_t limit = std::min(xml.size(), i + 16);
  size_t semi = i + 1;
  while (semi < limit && xml[semi] != ';') ++semi;
  if (semi >= limit) {
    *why = "'&' not followed by a reference (write &amp;)";
    return 0;
  }
  const std::string_view name = xml.substr(i + 1, semi - i - 1);
  if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") {
    return semi - i + 1;
  }
  if (!name.empty() && name[0] == '#') {
    const bool hex = name.size() > 1 && name[1] == 'x';
    const std::string_view digits = name.substr(hex ? 2 : 1);
    uint32_t value = 0;
    bool ok = !digits.empty() && digits.size() <= 8;
    for (char c : digits) {
      if (!ok) break;
      uint32_t d = 0;
      if (c >= '0' && c <= '9') {
        d = static_cast<uint32_t>(c - '0');
      } else if (hex && c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (hex && c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        ok = false;
        break;
      }
      value = value * (hex ? 16 : 10) + d;
    }
    if (ok && IsXmlChar(value)) return semi - i + 1;
    *why = "invalid character reference '&" + std::string(name) + ";'";
    return 0;
  }
  *why = "undefined entity reference '&" + std::string(name) + ";'";
  return 0;
}

Status ScanError(size_t offset, std::string_view what) {
  return Invalid("XML: " + std::string(what) + " (at byte " + std::to_string(offset) + ")");
}

// Refuses DOCTYPE and other markup declarations, undefined entities, bad character references,
// text or a second element outside the root, duplicate-free is checked later on the tree, '<' in
// attribute values, "]]>" in text, "--" in comments, misplaced XML declarations, nesting deeper
// than kMaxDepth, invalid UTF-8 and characters XML 1.0 forbids.
Status CheckWellFormed(std::string_view xml) {
  if (const std::string_view why = CheckChars(xml); !why.empty()) {
    // Find the offset for the message (cold path).
    for (size_t i = 0; i < xml.size();) {
      const auto c = static_cast<uint8_t>(xml[i]);
      size_t n = c < 0x80 ? ((c < 0x20 && !IsXmlSpace(xml[i])) ? 0 : 1) : ValidUtf8Length(xml, i);
      if (n == 0) return ScanError(i, "the document " + std::string(why));
      i += n;
    }
  }
  size_t i = StartsWith(xml, 0, "\xEF\xBB\xBF") ? 3 : 0;
  const size_t doc_start = i;
  int depth = 0;
  bool root_closed = false;
  std::string why;
  while (i < xml.size()) {
    const char c = xml[i];
    if (c == '<') {
      if (StartsWith(xml, i, "<!--")) {
        const size_t end = xml.find("--", i + 4);
        if (end == std::string_view::npos) return ScanError(i, "unterminated comment");
        if (!StartsWith(xml, end, "-->")) return ScanError(end, "'--' inside a comment");
        i = end + 3;
      } else if (StartsWith(xml, i, "<![CDATA[")) {
        if (depth == 0) return ScanError(i, "CDATA section outside the root element");
        const size_t end = xml.find("]]>", i + 9);
        if (end == std::string_view::npos) return ScanError(i, "unterminated CDATA section");
        i = end + 3;
      } else if (StartsWith(xml, i, "<!DOCTYPE")) {
        return ScanError(i, "DOCTYPE declarations are not allowed");
      } else if (StartsWith(xml, i, "<!")) {
        return ScanError(i, "markup declarations are not allowed");
      } else if (StartsWith(xml, i, "<?")) {
        const size_t end = xml.find("?>", i + 2);
        if (end == std::string_view::npos)
          return ScanError(i, "unterminated processing instruction");
        size_t t = i + 2;
        while (t < end && !IsXmlSpace(xml[t])) ++t;
        const std::string_view target = xml.substr(i + 2, t - i - 2);
        if (target.size() == 3 && (target[0] | 0x20) == 'x' && (target[1] | 0x20) == 'm' &&
            (target[2] | 0x20) == 'l' && i != doc_start) {
          return ScanError(i, "XML declaration not at the start of the document");
        }
        i = end + 2;
      } else if (StartsWith(xml, i, "</")) {
        const size_t end = xml.find('>', i + 2);
        if (end == std::string_view::npos) return ScanError(i, "unterminated end tag");
        if (depth == 0) return ScanError(i, "end tag without a start tag");
        if (--depth == 0) root_closed = true;
        i = end + 1;
      } else {
        if (root_closed) return ScanError(i, "content after the root element");
        size_t j = i + 1;
        bool closed = false;
        while (j < xml.size()) {
          const char d = xml[j];
          if (d == '"' || d == '\'') {
            const size_t q = xml.find(d, j + 1);
            if (q == std::string_view::npos) return ScanError(j, "unterminated attribute value");
            for (size_t k = j + 1; k < q; ++k) {
              if (xml[k] == '<') return ScanError(k, "'<' in an attribute value");
              if (xml[k] == '&') {
                const size_t len = CheckReference(xml, k, &why);
                if (len == 0) return ScanError(k, why);
                k += len - 1;
              }
            }
            j = q + 1;
          } else if (d == '<') {
            return ScanError(j, "'<' inside a tag");
          } else if (d == '>') {
            if (xml[j - 1] != '/') {
              if (++depth > kMaxDepth) return ScanError(i, "elements nested too deeply");
            } else if (depth == 0) {
              root_closed = true;
            }
            closed = true;
            break;
          } else {
            ++j;
          }
        }
        if (!closed) return ScanError(i, "unterminated start tag");
        i = j + 1;
      }
    } else if (c == '&') {
      if (depth == 0) return ScanError(i, "text outside the root element");
      const size_t len = CheckReference(xml, i, &why);
      if (len == 0) return ScanError(i, why);
      i += len;
    } else if (depth == 0) {
      if (!IsXmlSpace(c)) return ScanError(i, "text outside the root element");
      ++i;
    } else {
      if (c == ']' && StartsWith(xml, i, "]]>")) return ScanError(i, "']]>' in text");
      ++i;
    }
  }
  if (depth != 0) return Invalid("XML: unexpected end of document (unclosed element)");
  return Status::Ok();
}

constexpr unsigned kParseFlags =
    pugi::parse_cdata | pugi::parse_escapes | pugi::parse_wconv_attribute | pugi::parse_eol |
    pugi::parse_ws_pcdata | pugi::parse_declaration | pugi::parse_comments | pugi::parse_pi;

Status LoadDocument(std::string_view xml, pugi::xml_document* doc) {
  if (Status s = CheckWellFormed(xml); !s.ok()) return s;
  const pugi::xml_parse_result r =
      doc->load_buffer(xml.data(), xml.size(), kParseFlags, pugi::encoding_utf8);
  if (!r) {
    return Invalid("XML: " + std::string(r.description()) + " (at byte " +
                   std::to_string(r.offset) + ")");
  }
  for (pugi::xml_node n : doc->children()) {
    if (n.type() != pugi::node_declaration) continue;
    const std::string_view encoding = n.attribute("encoding").value();
    std::string lower;
    for (char c : encoding) lower.push_back(static_cast<char>(c | 0x20));
    if (!encoding.empty() && lower != "utf-8" && lower != "utf8") {
      return Invalid("XML: encoding '" + std::string(encoding) + "' is not supported (use UTF-8)");
    }
  }
  if (!doc->document_element()) return Invalid("XML: no root element");
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Namespaces and the tree walk.

struct QName {
  std::string_view prefix;
  std::string_view local;
};

bool SplitQName(std::string_view name, QName* q) {
  const size_t colon = name.find(':');
  if (colon == std::string_view::npos) {
    *q = {{}, name};
    return !name.empty();
  }
  if (colon == 0 || colon + 1 == name.size() || name.find(':', colon + 1) != name.npos) {
    return false;
  }
  *q = {name.substr(0, colon), name.substr(colon + 1)};
  return true;
}

std::string AttrPath(std::string_view path, std::string_view name) {
  std::string out(path);
  out += "/@";
  out += name;
  return out;
}

// In-scope namespace bindings, pushed per element and popped on the way out. Names point into
// the pugixml document, which outlives the walker.
class NsScope {
 public:
  // Pushes `element`'s declarations and checks its attributes are unique; returns the mark to
  // pop back to through `mark`.
  Status Push(pugi::xml_node element, std::string_view path, size_t* mark) {
    *mark = bindings_.size();
    names_.clear();
    for (pugi::xml_attribute a = element.first_attribute(); a; a = a.next_attribute()) {
      const std::string_view name = a.name();
      if (names_.size() == kMaxAttributes) {
        return Invalid(std::string(path) + ": more than " + std::to_string(kMaxAttributes) +
                       " attributes");
      }
      if (!names_.insert(name).second) {
        return Invalid(AttrPath(path, name) + ": duplicate attribute");
      }
      if ((name == "xmlns" || name.starts_with("xmlns:")) && bindings_.size() == kMaxBindings) {
        return Invalid(AttrPath(path, name) + ": more than " + std::to_string(kMaxBindings) +
                       " namespace declarations in scope");
      }
      if (name == "xmlns") {
        bindings_.emplace_back(std::string_view{}, a.value());
      } else if (name.starts_with("xmlns:")) {
        const std::string_view prefix = name.substr(6);
        const std::string_view uri = a.value();
        if (prefix.empty() || prefix.find(':') != prefix.npos || uri.empty() || prefix == "xmlns" ||
            (prefix == "xml") != (uri == kXmlNamespace)) {
          return Invalid(AttrPath(path, name) + ": invalid namespace declaration");
        }
        bindings_.emplace_back(prefix, uri);
      }
    }
    return Status::Ok();
  }
  void Pop(size_t mark) { bindings_.resize(mark); }

  // The namespace bound to `prefix` ("" for the default namespace: "" when none); false when an
  // explicit prefix is unbound.
  bool Resolve(std::string_view prefix, std::string_view* uri) const {
    if (prefix == "xml") {
      *uri = kXmlNamespace;
      return true;
    }
    for (auto it = bindings_.rbegin(); it != bindings_.rend(); ++it) {
      if (it->first == prefix) {
        *uri = it->second;
        return true;
      }
    }
    *uri = {};
    return prefix.empty();
  }

 private:
  std::vector<std::pair<std::string_view, std::string_view>> bindings_;
  std::unordered_set<std::string_view> names_;  // the attributes of the element being pushed
};

bool IsWhitespace(std::string_view s) {
  for (char c : s) {
    if (!IsXmlSpace(c)) return false;
  }
  return true;
}

// Schema-checks one document against a target namespace.
class Walker {
 public:
  explicit Walker(std::string_view ns) : ns_(ns) {}

  NsScope& scope() { return scope_; }

  // Whether `element` is {ns_}local.
  bool Is(pugi::xml_node element, std::string_view local) const {
    QName q;
    std::string_view uri;
    return SplitQName(element.name(), &q) && q.local == local && scope_.Resolve(q.prefix, &uri) &&
           uri == ns_;
  }

  // How an unexpected element is named in messages.
  std::string Describe(pugi::xml_node element) const {
    QName q;
    std::string_view uri;
    std::string out = element.name();
    if (SplitQName(element.name(), &q) && scope_.Resolve(q.prefix, &uri) && uri != ns_) {
      out += uri.empty() ? " (no namespace)" : " (namespace '" + std::string(uri) + "')";
    }
    return out;
  }

  // The element children of an element-only content model; text other than whitespace is an
  // error, comments and processing instructions are ignored.
  static Status ElementChildren(pugi::xml_node element, std::string_view path,
                                std::vector<pugi::xml_node>* out) {
    out->clear();
    for (pugi::xml_node c : element.children()) {
      switch (c.type()) {
        case pugi::node_element:
          out->push_back(c);
          break;
        case pugi::node_pcdata:
          if (IsWhitespace(c.value())) break;
          [[fallthrough]];
        case pugi::node_cdata:
          return Invalid(std::string(path) + ": text is not allowed here");
        default:
          break;
      }
    }
    return Status::Ok();
  }

  // The text of a simple-content element (no element children allowed).
  static Status Text(pugi::xml_node element, std::string_view path, std::string* out) {
    out->clear();
    for (pugi::xml_node c : element.children()) {
      if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
        out->append(c.value());
      } else if (c.type() == pugi::node_element) {
        return Invalid(std::string(path) + ": element content is not allowed (found " + c.name() +
                       ")");
      }
    }
    return Status::Ok();
  }

  // Empty content: no text at all (not even whitespace) and no elements.
  static Status Empty(pugi::xml_node element, std::string_view path) {
    for (pugi::xml_node c : element.children()) {
      if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata ||
          c.type() == pugi::node_element) {
        return Invalid(std::string(path) + ": must be empty");
      }
    }
    return Status::Ok();
  }

  // Refuses attributes outside `allowed` (unqualified). Namespace declarations, xml:* and
  // xsi:schemaLocation / xsi:noNamespaceSchemaLocation are always accepted.
  Status CheckAttributes(pugi::xml_node element, std::string_view path,
                         std::initializer_list<std::string_view> allowed) const {
    for (pugi::xml_attribute a : element.attributes()) {
      const std::string_view name = a.name();
      if (name == "xmlns" || name.starts_with("xmlns:")) continue;
      QName q;
      if (!SplitQName(name, &q)) return Invalid(AttrPath(path, name) + ": invalid name");
      if (!q.prefix.empty()) {
        std::string_view uri;
        if (!scope_.Resolve(q.prefix, &uri)) {
          return Invalid(AttrPath(path, name) + ": unbound namespace prefix");
        }
        if (uri == kXmlNamespace) continue;
        if (uri == kXsiNamespace &&
            (q.local == "schemaLocation" || q.local == "noNamespaceSchemaLocation")) {
          continue;
        }
        return Invalid(AttrPath(path, name) + ": unknown attribute");
      }
      bool known = false;
      for (std::string_view k : allowed) known = known || k == name;
      if (!known) return Invalid(AttrPath(path, name) + ": unknown attribute");
    }
    return Status::Ok();
  }

  // A required attribute's value (raw) or "missing".
  static Status Required(pugi::xml_node element, std::string_view path, const char* name,
                         std::string* out) {
    const pugi::xml_attribute a = element.attribute(name);
    if (!a) return Invalid(AttrPath(path, name) + ": missing");
    out->assign(a.value());
    return Status::Ok();
  }
  static void Optional(pugi::xml_node element, const char* name, std::string* out) {
    out->assign(element.attribute(name).value());
  }
  // A required xs:token attribute, collapsed.
  static Status RequiredToken(pugi::xml_node element, std::string_view path, const char* name,
                              std::string* out) {
    const pugi::xml_attribute a = element.attribute(name);
    if (!a) return Invalid(AttrPath(path, name) + ": missing");
    *out = Collapse(a.value());
    return Status::Ok();
  }

  // anyType content: every element and attribute name must be namespace-well-formed.
  Status CheckAnyContent(pugi::xml_node element, std::string_view path) {
    for (pugi::xml_node c : element.children()) {
      if (c.type() != pugi::node_element) continue;
      size_t mark = 0;
      if (Status s = scope_.Push(c, path, &mark); !s.ok()) return s;
      QName q;
      std::string_view uri;
      if (!SplitQName(c.name(), &q) || !scope_.Resolve(q.prefix, &uri)) {
        return Invalid(std::string(path) + ": element " + c.name() +
                       " has an invalid name or an unbound namespace prefix");
      }
      for (pugi::xml_attribute a : c.attributes()) {
        const std::string_view name = a.name();
        if (name == "xmlns" || name.starts_with("xmlns:")) continue;
        if (!SplitQName(name, &q) || !scope_.Resolve(q.prefix, &uri)) {
          return Invalid(AttrPath(path, name) +
                         ": invalid attribute name or unbound namespace prefix");
        }
      }
      if (Status s = CheckAnyContent(c, path); !s.ok()) return s;
      scope_.Pop(mark);
    }
    return Status::Ok();
  }

 private:
  std::string_view ns_;
  NsScope scope_;
};

// ---------------------------------------------------------------------------------------------
// Serialisation helpers.

// Escapes for a double-quoted attribute so that the parsed value is exactly `s` (attribute
// value normalisation turns literal \t \n \r into spaces, character references survive it).
void AppendAttrEscaped(std::string& out, std::string_view s) {
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char* rep = nullptr;
    switch (s[i]) {
      case '&':
        rep = "&amp;";
        break;
      case '<':
        rep = "&lt;";
        break;
      case '>':
        rep = "&gt;";
        break;
      case '"':
        rep = "&quot;";
        break;
      case '\t':
        rep = "&#9;";
        break;
      case '\n':
        rep = "&#10;";
        break;
      case '\r':
        rep = "&#13;";
        break;
      default:
        continue;
    }
    out.append(s.data() + run, i - run);
    out.append(rep);
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
}

// Text: & < > escaped, \r as &#13; (common/escape.hpp). Callers validate characters first.
void AppendTextEscaped(std::string& out, std::string_view s) { AppendXmlEscaped(out, s); }

void AppendAttr(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(' ');
  out.append(name);
  out.append("=\"");
  AppendAttrEscaped(out, value);
  out.push_back('"');
}

// Serialises a node of Signatur's content. `extra` are namespace declarations to add to this
// element (the bindings it inherited from outside Signatur).
void Serialize(pugi::xml_node n, std::string& out,
               const std::vector<std::pair<std::string_view, std::string_view>>* extra) {
  switch (n.type()) {
    case pugi::node_pcdata:
      AppendTextEscaped(out, n.value());
      break;
    case pugi::node_cdata:
      out.append("<![CDATA[").append(n.value()).append("]]>");
      break;
    case pugi::node_comment:
      out.append("<!--").append(n.value()).append("-->");
      break;
    case pugi::node_pi:
      out.append("<?").append(n.name());
      if (*n.value() != '\0') out.append(" ").append(n.value());
      out.append("?>");
      break;
    case pugi::node_element: {
      out.push_back('<');
      out.append(n.name());
      for (pugi::xml_attribute a : n.attributes()) AppendAttr(out, a.name(), a.value());
      if (extra != nullptr) {
        for (const auto& [prefix, uri] : *extra) {
          AppendAttr(out, prefix.empty() ? std::string("xmlns") : "xmlns:" + std::string(prefix),
                     uri);
        }
      }
      if (!n.first_child()) {
        out.append("/>");
        break;
      }
      out.push_back('>');
      for (pugi::xml_node c : n.children()) Serialize(c, out, nullptr);
      out.append("</").append(n.name()).push_back('>');
      break;
    }
    default:
      break;
  }
}

void CollectPrefixes(pugi::xml_node n, std::vector<std::string_view>* used) {
  auto add = [used](std::string_view p) {
    for (std::string_view u : *used) {
      if (u == p) return;
    }
    used->push_back(p);
  };
  QName q;
  if (SplitQName(n.name(), &q)) add(q.prefix);
  for (pugi::xml_attribute a : n.attributes()) {
    const std::string_view name = a.name();
    if (name == "xmlns" || name.starts_with("xmlns:")) continue;
    if (SplitQName(name, &q) && !q.prefix.empty()) add(q.prefix);
  }
  for (pugi::xml_node c : n.children()) {
    if (c.type() == pugi::node_element) CollectPrefixes(c, used);
  }
}

bool DeclaresPrefix(pugi::xml_node n, std::string_view prefix) {
  for (pugi::xml_attribute a : n.attributes()) {
    const std::string_view name = a.name();
    if (prefix.empty() ? name == "xmlns"
                       : (name.starts_with("xmlns:") && name.substr(6) == prefix)) {
      return true;
    }
  }
  return false;
}

// Signatur's inner XML, self-contained: each top-level element gets the declarations of the
// prefixes it uses that were bound outside Signatur (the default namespace as xmlns="" when
// none), so the string means the same wherever RenderMelding puts it.
std::string SignaturInnerXml(pugi::xml_node signatur, const NsScope& scope) {
  std::string out;
  std::vector<std::string_view> used;
  std::vector<std::pair<std::string_view, std::string_view>> extra;
  for (pugi::xml_node c : signatur.children()) {
    if (c.type() != pugi::node_element) {
      Serialize(c, out, nullptr);
      continue;
    }
    used.clear();
    extra.clear();
    CollectPrefixes(c, &used);
    for (std::string_view prefix : used) {
      if (prefix == "xml" || DeclaresPrefix(c, prefix)) continue;
      std::string_view uri;
      if (scope.Resolve(prefix, &uri)) extra.emplace_back(prefix, uri);
    }
    Serialize(c, out, &extra);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Field checks shared by ParseMelding and RenderMelding.

// [A-Za-z0-9._-]{32,36}@?[A-Za-z0-9.-]{0,11}, anchored.
bool MatchesGuid(std::string_view s) {
  auto alnum = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  auto first = [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; };
  auto second = [&](char c) { return alnum(c) || c == '.' || c == '-'; };
  size_t head = 0;
  while (head < s.size() && first(s[head])) ++head;
  // The head class includes every character of the tail class except none of '@'; try each
  // split of the leading run into {32,36} head characters and a tail.
  for (size_t a = 32; a <= 36 && a <= head; ++a) {
    std::string_view rest = s.substr(a);
    if (!rest.empty() && rest[0] == '@') rest.remove_prefix(1);
    if (rest.size() > 11) continue;
    bool ok = true;
    for (char c : rest) ok = ok && second(c);
    if (ok) return true;
  }
  return false;
}

class FieldChecker {
 public:
  // `rendering`: values come from a caller, so also check characters and token normalisation
  // (parsed values are collapsed and were character-checked with the document).
  explicit FieldChecker(bool rendering) : rendering_(rendering) {}

  Status Chars(const std::string& path, std::string_view value) const {
    if (!rendering_) return Status::Ok();
    if (std::string_view why = CheckChars(value); !why.empty()) {
      return Invalid(path + ": " + std::string(why));
    }
    return Status::Ok();
  }

  Status Token(const std::string& path, std::string_view value, size_t max_length) const {
    if (Status s = Chars(path, value); !s.ok()) return s;
    if (rendering_ && !IsCollapsed(value)) {
      return Invalid(path + ": not a normalised token (leading, trailing or repeated whitespace)");
    }
    if (CountCodePoints(value) > max_length) {
      return Invalid(path + ": longer than " + std::to_string(max_length) + " characters");
    }
    return Status::Ok();
  }

  Status Guid(const std::string& path, std::string_view value) const {
    if (Status s = Token(path, value, SIZE_MAX); !s.ok()) return s;
    if (!MatchesGuid(value)) return Invalid(path + ": does not match the GUID pattern");
    return Status::Ok();
  }

  Status HexBinary(const std::string& path, std::string_view value) const {
    if (Status s = Chars(path, value); !s.ok()) return s;
    if (rendering_ && !IsCollapsed(value)) {
      return Invalid(path + ": not hexBinary (contains whitespace)");
    }
    if (value.size() % 2 != 0) return Invalid(path + ": not hexBinary (odd number of digits)");
    for (char c : value) {
      const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex) return Invalid(path + ": not hexBinary (non-hex character)");
    }
    return Status::Ok();
  }

  Status Adressat(const std::string& path, const mottak::Adressat& a) const {
    if (Status s = Token(AttrPath(path, "id"), a.id, 64); !s.ok()) return s;
    if (Status s = Token(AttrPath(path, "idType"), a.id_type, 32); !s.ok()) return s;
    return Chars(path, a.name);
  }

  Status Innhold(const std::string& path, const mottak::Innhold& in) const {
    if (!in.is_ref) {
      if (rendering_ &&
          (!in.referanse.empty() || !in.referanse_format.empty() || !in.sjekksum.empty())) {
        return Invalid(path + ": DataRef fields set on inline Data");
      }
      const std::string data_path = path + "/Data";
      if (Status s = Token(AttrPath(data_path, "format"), in.format, 64); !s.ok()) return s;
      return Chars(data_path, in.data);
    }
    if (rendering_ && !in.data.empty()) return Invalid(path + ": Data text set on a DataRef");
    const std::string ref_path = path + "/DataRef";
    if (Status s = Token(AttrPath(ref_path, "referanse"), in.referanse, 64); !s.ok()) return s;
    if (Status s = Token(AttrPath(ref_path, "format"), in.format, 64); !s.ok()) return s;
    if (Status s = Token(AttrPath(ref_path, "referanseFormat"), in.referanse_format, 32); !s.ok()) {
      return s;
    }
    return HexBinary(AttrPath(ref_path, "sjekksum"), in.sjekksum);
  }

  Status Melding(const mottak::Melding& m) const {
    const std::string root = "Melding";
    if (Status s = Token(AttrPath(root, "versjon"), m.versjon, 32); !s.ok()) return s;
    if (Status s = Guid(AttrPath(root, "id"), m.id); !s.ok()) return s;
    if (Status s = Token(AttrPath(root, "tjeneste"), m.tjeneste, 64); !s.ok()) return s;
    if (Status s = Token(AttrPath(root, "tjenestehandling"), m.tjenestehandling, 64); !s.ok()) {
      return s;
    }
    if (Status s = Adressat("Melding/Mottaker", m.mottaker); !s.ok()) return s;
    if (Status s = Adressat("Melding/Avsender", m.avsender); !s.ok()) return s;
    for (size_t i = 0; i < m.referanser.size(); ++i) {
      const std::string path = "Melding/Referanse[" + std::to_string(i + 1) + "]";
      const Referanse& r = m.referanser[i];
      if (Status s = Token(AttrPath(path, "referanse"), r.referanse, 64); !s.ok()) return s;
      if (Status s = Token(AttrPath(path, "referanseType"), r.referanse_type, 32); !s.ok()) {
        return s;
      }
    }
    if (Status s = Innhold("Melding/Innhold", m.innhold); !s.ok()) return s;
    for (size_t i = 0; i < m.vedlegg.size(); ++i) {
      const std::string path = "Melding/Vedlegg[" + std::to_string(i + 1) + "]";
      const Vedlegg& v = m.vedlegg[i];
      if (Status s = Chars(AttrPath(path, "type"), v.type); !s.ok()) return s;
      if (Status s = Chars(AttrPath(path, "navn"), v.navn); !s.ok()) return s;
      if (v.deler.empty()) return Invalid(path + ": expected Vedleggsdel, found end of element");
      for (size_t k = 0; k < v.deler.size(); ++k) {
        const std::string del_path = path + "/Vedleggsdel[" + std::to_string(k + 1) + "]";
        const Vedleggsdel& d = v.deler[k];
        if (Status s = Chars(AttrPath(del_path, "sekvensnr"), d.sekvensnr); !s.ok()) return s;
        if (Status s = Chars(AttrPath(del_path, "filnavn"), d.filnavn); !s.ok()) return s;
        if (Status s = Innhold(del_path, d.innhold); !s.ok()) return s;
      }
    }
    return Status::Ok();
  }

 private:
  bool rendering_;
};

// ---------------------------------------------------------------------------------------------
// Parsing.

std::string Indexed(std::string_view parent, std::string_view name, size_t index) {
  return std::string(parent) + "/" + std::string(name) + "[" + std::to_string(index) + "]";
}

class MeldingParser {
 public:
  MeldingParser() : w_(kMeldingNamespace) {}

  Result<Melding> Parse(std::string_view xml) {
    pugi::xml_document doc;
    if (Status s = LoadDocument(xml, &doc); !s.ok()) return s.error();
    const pugi::xml_node root = doc.document_element();
    size_t mark = 0;
    if (Status s = w_.scope().Push(root, "Melding", &mark); !s.ok()) return s.error();
    if (!w_.Is(root, "Melding")) {
      return Invalid("root element is " + w_.Describe(root) + ", expected Melding in namespace '" +
                     std::string(kMeldingNamespace) + "'");
    }
    Melding m;
    if (Status s = ParseRoot(root, &m); !s.ok()) return s.error();
    if (Status s = FieldChecker(false).Melding(m); !s.ok()) return s.error();
    return m;
  }

 private:
  // Runs `fn` with the element's namespace declarations in scope.
  template <typename Fn>
  Status Scoped(pugi::xml_node element, std::string_view path, Fn fn) {
    size_t mark = 0;
    if (Status s = w_.scope().Push(element, path, &mark); !s.ok()) return s;
    Status s = fn();
    w_.scope().Pop(mark);
    return s;
  }

  Status Expect(const std::vector<pugi::xml_node>& children, size_t index, std::string_view path,
                std::string_view name) {
    if (index >= children.size()) {
      return Invalid(std::string(path) + ": expected " + std::string(name) +
                     ", found end of element");
    }
    // The child's own declarations may bind its prefix.
    Status result = Status::Ok();
    Status s = Scoped(children[index], path, [&] {
      if (!w_.Is(children[index], name)) {
        result = Invalid(std::string(path) + ": expected " + std::string(name) + ", found " +
                         w_.Describe(children[index]));
      }
      return Status::Ok();
    });
    return s.ok() ? result : s;
  }

  bool Peek(const std::vector<pugi::xml_node>& children, size_t index, std::string_view name) {
    if (index >= children.size()) return false;
    // A bad declaration or duplicate attribute surfaces when the element itself is parsed.
    size_t mark = 0;
    (void)w_.scope().Push(children[index], "", &mark);
    const bool is = w_.Is(children[index], name);
    w_.scope().Pop(mark);
    return is;
  }

  Status ParseRoot(pugi::xml_node root, Melding* m) {
    const std::string path = "Melding";
    if (Status s =
            w_.CheckAttributes(root, path, {"versjon", "id", "tjeneste", "tjenestehandling"});
        !s.ok()) {
      return s;
    }
    if (Status s = Walker::RequiredToken(root, path, "versjon", &m->versjon); !s.ok()) return s;
    if (Status s = Walker::RequiredToken(root, path, "id", &m->id); !s.ok()) return s;
    if (Status s = Walker::RequiredToken(root, path, "tjeneste", &m->tjeneste); !s.ok()) return s;
    if (Status s = Walker::RequiredToken(root, path, "tjenestehandling", &m->tjenestehandling);
        !s.ok()) {
      return s;
    }
    std::vector<pugi::xml_node> children;
    if (Status s = Walker::ElementChildren(root, path, &children); !s.ok()) return s;
    size_t i = 0;
    if (Status s = Expect(children, i, path, "Mottaker"); !s.ok()) return s;
    if (Status s =
            Scoped(children[i], path,
                   [&] { return ParseAdressat(children[i], "Melding/Mottaker", &m->mottaker); });
        !s.ok()) {
      return s;
    }
    ++i;
    if (Status s = Expect(children, i, path, "Avsender"); !s.ok()) return s;
    if (Status s =
            Scoped(children[i], path,
                   [&] { return ParseAdressat(children[i], "Melding/Avsender", &m->avsender); });
        !s.ok()) {
      return s;
    }
    ++i;
    while (Peek(children, i, "Referanse")) {
      const std::string ref_path = Indexed(path, "Referanse", m->referanser.size() + 1);
      Referanse& r = m->referanser.emplace_back();
      if (Status s = Scoped(
              children[i], ref_path,
              [&] {
                const pugi::xml_node e = children[i];
                if (Status t = w_.CheckAttributes(e, ref_path, {"referanse", "referanseType"});
                    !t.ok()) {
                  return t;
                }
                if (Status t = Walker::RequiredToken(e, ref_path, "referanse", &r.referanse);
                    !t.ok()) {
                  return t;
                }
                if (Status t =
                        Walker::RequiredToken(e, ref_path, "referanseType", &r.referanse_type);
                    !t.ok()) {
                  return t;
                }
                return Walker::Empty(e, ref_path);
              });
          !s.ok()) {
        return s;
      }
      ++i;
    }
    if (Status s = Expect(children, i, path, "Innhold"); !s.ok()) return s;
    if (Status s = Scoped(children[i], path,
                          [&] {
                            const std::string in_path = "Melding/Innhold";
                            if (Status t = w_.CheckAttributes(children[i], in_path, {}); !t.ok()) {
                              return t;
                            }
                            return ParseInnhold(children[i], in_path, &m->innhold);
                          });
        !s.ok()) {
      return s;
    }
    ++i;
    while (Peek(children, i, "Vedlegg")) {
      const std::string v_path = Indexed(path, "Vedlegg", m->vedlegg.size() + 1);
      Vedlegg& v = m->vedlegg.emplace_back();
      if (Status s =
              Scoped(children[i], v_path, [&] { return ParseVedlegg(children[i], v_path, &v); });
          !s.ok()) {
        return s;
      }
      ++i;
    }
    if (Peek(children, i, "Signatur")) {
      const std::string sig_path = "Melding/Signatur";
      if (Status s = Scoped(children[i], sig_path,
                            [&] {
                              // xs:anyType: any attributes (not kept) and any content.
                              if (Status t = w_.CheckAnyContent(children[i], sig_path); !t.ok()) {
                                return t;
                              }
                              m->signatur = SignaturInnerXml(children[i], w_.scope());
                              return Status::Ok();
                            });
          !s.ok()) {
        return s;
      }
      ++i;
    }
    if (i < children.size()) {
      size_t mark = 0;
      std::string found = children[i].name();
      if (w_.scope().Push(children[i], path, &mark).ok()) found = w_.Describe(children[i]);
      w_.scope().Pop(mark);
      return Invalid(path + ": unexpected element " + found);
    }
    return Status::Ok();
  }

  Status ParseAdressat(pugi::xml_node e, const std::string& path, Adressat* a) {
    if (Status s = w_.CheckAttributes(e, path, {"id", "idType"}); !s.ok()) return s;
    if (Status s = Walker::RequiredToken(e, path, "id", &a->id); !s.ok()) return s;
    if (Status s = Walker::RequiredToken(e, path, "idType", &a->id_type); !s.ok()) return s;
    return Walker::Text(e, path, &a->name);
  }

  // ctInnhold's content (the choice of Data or DataRef); the caller checks the attributes.
  Status ParseInnhold(pugi::xml_node e, const std::string& path, Innhold* in) {
    std::vector<pugi::xml_node> children;
    if (Status s = Walker::ElementChildren(e, path, &children); !s.ok()) return s;
    if (children.empty()) return Invalid(path + ": expected Data or DataRef, found end of element");
    const pugi::xml_node c = children[0];
    Status s = Scoped(c, path, [&] {
      if (w_.Is(c, "Data")) {
        const std::string data_path = path + "/Data";
        in->is_ref = false;
        if (Status t = w_.CheckAttributes(c, data_path, {"format"}); !t.ok()) return t;
        if (Status t = Walker::RequiredToken(c, data_path, "format", &in->format); !t.ok()) {
          return t;
        }
        return Walker::Text(c, data_path, &in->data);
      }
      if (w_.Is(c, "DataRef")) {
        const std::string ref_path = path + "/DataRef";
        in->is_ref = true;
        if (Status t = w_.CheckAttributes(c, ref_path,
                                          {"referanse", "format", "referanseFormat", "sjekksum"});
            !t.ok()) {
          return t;
        }
        if (Status t = Walker::RequiredToken(c, ref_path, "referanse", &in->referanse); !t.ok()) {
          return t;
        }
        if (Status t = Walker::RequiredToken(c, ref_path, "format", &in->format); !t.ok()) {
          return t;
        }
        in->referanse_format = Collapse(c.attribute("referanseFormat").value());
        in->sjekksum = Collapse(c.attribute("sjekksum").value());
        return Walker::Empty(c, ref_path);
      }
      return Status(Invalid(path + ": expected Data or DataRef, found " + w_.Describe(c)));
    });
    if (!s.ok()) return s;
    if (children.size() > 1) {
      size_t mark = 0;
      std::string found = children[1].name();
      if (w_.scope().Push(children[1], path, &mark).ok()) found = w_.Describe(children[1]);
      w_.scope().Pop(mark);
      return Invalid(path + ": unexpected element " + found);
    }
    return Status::Ok();
  }

  Status ParseVedlegg(pugi::xml_node e, const std::string& path, Vedlegg* v) {
    if (Status s = w_.CheckAttributes(e, path, {"type", "navn"}); !s.ok()) return s;
    if (Status s = Walker::Required(e, path, "type", &v->type); !s.ok()) return s;
    if (Status s = Walker::Required(e, path, "navn", &v->navn); !s.ok()) return s;
    std::vector<pugi::xml_node> children;
    if (Status s = Walker::ElementChildren(e, path, &children); !s.ok()) return s;
    if (Status s = Expect(children, 0, path, "Vedleggsdel"); !s.ok()) return s;
    for (size_t i = 0; i < children.size(); ++i) {
      const std::string del_path = Indexed(path, "Vedleggsdel", i + 1);
      if (i > 0) {
        if (Status s = Expect(children, i, path, "Vedleggsdel"); !s.ok()) return s;
      }
      Vedleggsdel& d = v->deler.emplace_back();
      if (Status s = Scoped(
              children[i], del_path,
              [&] {
                const pugi::xml_node c = children[i];
                if (Status t = w_.CheckAttributes(c, del_path, {"sekvensnr", "filnavn"}); !t.ok()) {
                  return t;
                }
                if (Status t = Walker::Required(c, del_path, "sekvensnr", &d.sekvensnr); !t.ok()) {
                  return t;
                }
                Walker::Optional(c, "filnavn", &d.filnavn);
                return ParseInnhold(c, del_path, &d.innhold);
              });
          !s.ok()) {
        return s;
      }
    }
    return Status::Ok();
  }

  Walker w_;
};

// ---------------------------------------------------------------------------------------------
// Rendering.

// Signatur's inner XML must be well-formed, namespace-well-formed content on its own (checked
// in the same context RenderMelding places it in).
Status CheckSignatur(std::string_view inner) {
  std::string wrapped = "<Signatur xmlns=\"";
  wrapped.append(kMeldingNamespace);
  wrapped.append("\">");
  wrapped.append(inner);
  wrapped.append("</Signatur>");
  pugi::xml_document doc;
  Status s = LoadDocument(wrapped, &doc);
  if (s.ok()) {
    Walker w(kMeldingNamespace);
    size_t mark = 0;
    s = w.scope().Push(doc.document_element(), "Melding/Signatur", &mark);
    if (s.ok()) s = w.CheckAnyContent(doc.document_element(), "Melding/Signatur");
  }
  if (!s.ok())
    return Invalid("Melding/Signatur: not well-formed XML content: " + s.error().message);
  return Status::Ok();
}

void RenderAdressat(std::string& out, std::string_view element, const Adressat& a) {
  out.append("  <").append(element);
  AppendAttr(out, "id", a.id);
  AppendAttr(out, "idType", a.id_type);
  out.push_back('>');
  AppendTextEscaped(out, a.name);
  out.append("</").append(element).append(">\n");
}

void RenderInnhold(std::string& out, std::string_view indent, const Innhold& in) {
  out.append(indent);
  if (in.is_ref) {
    out.append("<DataRef");
    AppendAttr(out, "referanse", in.referanse);
    AppendAttr(out, "format", in.format);
    if (!in.referanse_format.empty()) AppendAttr(out, "referanseFormat", in.referanse_format);
    if (!in.sjekksum.empty()) AppendAttr(out, "sjekksum", in.sjekksum);
    out.append("/>\n");
    return;
  }
  out.append("<Data");
  AppendAttr(out, "format", in.format);
  out.push_back('>');
  AppendTextEscaped(out, in.data);
  out.append("</Data>\n");
}

const char* StatusName(KvitteringStatus status) {
  switch (status) {
    case KvitteringStatus::kNotSet:
      return "NotSet";
    case KvitteringStatus::kOk:
      return "OK";
    case KvitteringStatus::kUnExpectedError:
      return "UnExpectedError";
    case KvitteringStatus::kValidationFailed:
      return "ValidationFailed";
    case KvitteringStatus::kRejected:
      return "Rejected";
  }
  return "NotSet";
}

}  // namespace

Result<Melding> ParseMelding(std::string_view xml) { return MeldingParser().Parse(xml); }

Result<std::string> RenderMelding(const Melding& m) {
  if (Status s = FieldChecker(true).Melding(m); !s.ok()) return s.error();
  if (m.signatur) {
    if (Status s = CheckSignatur(*m.signatur); !s.ok()) return s.error();
  }
  std::string out;
  size_t size_hint = 1024 + m.innhold.data.size() + (m.signatur ? m.signatur->size() : 0);
  for (const Vedlegg& v : m.vedlegg) {
    for (const Vedleggsdel& d : v.deler) size_hint += 128 + d.innhold.data.size();
  }
  out.reserve(size_hint + size_hint / 8);
  out.append(kDeclaration);
  out.append("<Melding xmlns=\"").append(kMeldingNamespace).push_back('"');
  AppendAttr(out, "versjon", m.versjon);
  AppendAttr(out, "id", m.id);
  AppendAttr(out, "tjeneste", m.tjeneste);
  AppendAttr(out, "tjenestehandling", m.tjenestehandling);
  out.append(">\n");
  RenderAdressat(out, "Mottaker", m.mottaker);
  RenderAdressat(out, "Avsender", m.avsender);
  for (const Referanse& r : m.referanser) {
    out.append("  <Referanse");
    AppendAttr(out, "referanse", r.referanse);
    AppendAttr(out, "referanseType", r.referanse_type);
    out.append("/>\n");
  }
  out.append("  <Innhold>\n");
  RenderInnhold(out, "    ", m.innhold);
  out.append("  </Innhold>\n");
  for (const Vedlegg& v : m.vedlegg) {
    out.append("  <Vedlegg");
    AppendAttr(out, "type", v.type);
    AppendAttr(out, "navn", v.navn);
    out.append(">\n");
    for (const Vedleggsdel& d : v.deler) {
      out.append("    <Vedleggsdel");
      AppendAttr(out, "sekvensnr", d.sekvensnr);
      if (!d.filnavn.empty()) AppendAttr(out, "filnavn", d.filnavn);
      out.append(">\n");
      RenderInnhold(out, "      ", d.innhold);
      out.append("    </Vedleggsdel>\n");
    }
    out.append("  </Vedlegg>\n");
  }
  if (m.signatur) out.append("  <Signatur>").append(*m.signatur).append("</Signatur>\n");
  out.append("</Melding>\n");
  return out;
}

std::string RenderKvittering(const Applikasjonskvittering& k) {
  std::string out;
  out.reserve(512 + k.status_tekst.size());
  out.append(kDeclaration);
  out.append("<Applikasjonskvittering xmlns=\"").append(kKvitteringNamespace).append("\">\n");
  auto element = [&out](std::string_view name, std::string_view text) {
    out.append("  <").append(name).push_back('>');
    AppendXmlEscaped(out, text);  // invalid characters become U+FFFD: always well-formed
    out.append("</").append(name).append(">\n");
  };
  element("Status", StatusName(k.status));
  element("StatusTekst", k.status_tekst);
  element("StatusKode", std::to_string(k.status_kode));
  element("MeldingsReferanse", k.meldings_referanse);
  if (!k.henvendelses_referanse.empty()) {
    element("HenvendelsesReferanse", k.henvendelses_referanse);
  }
  if (!k.avsenders_referanse.empty()) element("AvsendersReferanse", k.avsenders_referanse);
  out.append("</Applikasjonskvittering>\n");
  return out;
}

Result<Applikasjonskvittering> ParseKvittering(std::string_view xml) {
  pugi::xml_document doc;
  if (Status s = LoadDocument(xml, &doc); !s.ok()) return s.error();
  const pugi::xml_node root = doc.document_element();
  const std::string path = "Applikasjonskvittering";
  Walker w(kKvitteringNamespace);
  size_t mark = 0;
  if (Status s = w.scope().Push(root, path, &mark); !s.ok()) return s.error();
  if (!w.Is(root, "Applikasjonskvittering")) {
    return Invalid("root element is " + w.Describe(root) +
                   ", expected Applikasjonskvittering in namespace '" +
                   std::string(kKvitteringNamespace) + "'");
  }
  if (Status s = w.CheckAttributes(root, path, {}); !s.ok()) return s.error();
  std::vector<pugi::xml_node> children;
  if (Status s = Walker::ElementChildren(root, path, &children); !s.ok()) return s.error();

  Applikasjonskvittering k;
  size_t i = 0;
  // Reads the next child if it is `name`; `required` makes its absence an error.
  auto next = [&](std::string_view name, bool required, std::string* text) -> Result<bool> {
    if (i >= children.size()) {
      if (!required) return false;
      return Invalid(path + ": expected " + std::string(name) + ", found end of element");
    }
    const pugi::xml_node c = children[i];
    size_t child_mark = 0;
    Status s = w.scope().Push(c, path, &child_mark);
    bool matched = false;
    if (s.ok() && w.Is(c, name)) {
      matched = true;
      const std::string child_path = path + "/" + std::string(name);
      s = w.CheckAttributes(c, child_path, {});
      if (s.ok()) s = Walker::Text(c, child_path, text);
    } else if (s.ok() && required) {
      s = Invalid(path + ": expected " + std::string(name) + ", found " + w.Describe(c));
    }
    w.scope().Pop(child_mark);
    if (!s.ok()) return s.error();
    if (matched) ++i;
    return matched;
  };

  std::string text;
  if (auto r = next("Status", true, &text); !r.ok()) return r.error();
  static constexpr KvitteringStatus kAll[] = {
      KvitteringStatus::kNotSet, KvitteringStatus::kOk, KvitteringStatus::kUnExpectedError,
      KvitteringStatus::kValidationFailed, KvitteringStatus::kRejected};
  bool known = false;
  for (KvitteringStatus st : kAll) {
    if (text == StatusName(st)) {
      k.status = st;
      known = true;
    }
  }
  if (!known) return Invalid(path + "/Status: '" + text + "' is not a known status");
  if (auto r = next("StatusTekst", true, &k.status_tekst); !r.ok()) return r.error();
  if (auto r = next("StatusKode", true, &text); !r.ok()) return r.error();
  {
    const std::string kode = Collapse(text);
    size_t p = (!kode.empty() && (kode[0] == '+' || kode[0] == '-')) ? 1 : 0;
    bool ok = p < kode.size() && kode.size() - p <= 12;
    int64_t value = 0;
    for (size_t q = p; ok && q < kode.size(); ++q) {
      ok = kode[q] >= '0' && kode[q] <= '9';
      value = value * 10 + (kode[q] - '0');
    }
    if (ok && kode[0] == '-') value = -value;
    if (!ok || value < INT32_MIN || value > INT32_MAX) {
      return Invalid(path + "/StatusKode: '" + text + "' is not an xs:int");
    }
    k.status_kode = static_cast<int>(value);
  }
  if (auto r = next("MeldingsReferanse", true, &k.meldings_referanse); !r.ok()) return r.error();
  if (auto r = next("HenvendelsesReferanse", false, &k.henvendelses_referanse); !r.ok()) {
    return r.error();
  }
  if (auto r = next("AvsendersReferanse", false, &k.avsenders_referanse); !r.ok()) {
    return r.error();
  }
  if (i < children.size()) {
    size_t child_mark = 0;
    std::string found = children[i].name();
    if (w.scope().Push(children[i], path, &child_mark).ok()) found = w.Describe(children[i]);
    w.scope().Pop(child_mark);
    return Invalid(path + ": unexpected element " + found);
  }
  return k;
}

}  // namespace norreg::mottak
