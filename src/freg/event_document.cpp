#include "freg/event_document.hpp"

#include <boost/json.hpp>
#include <span>

#include "common/escape.hpp"
#include "freg/event_xsd.hpp"
#include "freg/render.hpp"

namespace norreg::freg {
namespace {

std::span<const Row> RowsOf(const PersonRecord& r) { return r.rows; }
std::span<const RowView> RowsOf(const RecordView& r) { return r.rows(); }

bool IsObject(std::string_view json) { return !json.empty() && json.front() == '{'; }

// The row as the event schemas name its fields. Person documents call the identitetsgrunnlag's
// status `identitetsgrunnlagstatus`; the event schemas (the OpenAPI's
// hendelse.v1.Identitetsgrunnlag and the event XSD) require it as `legitimasjonskontroll`, same
// values. Every other row is the stored one. Returns `json` itself or a view of `scratch`.
std::string_view EventRow(Property p, std::string_view json, std::string& scratch) {
  constexpr std::string_view kPersonKey = "identitetsgrunnlagstatus";
  if (p != Property::kIdentitetsgrunnlag || json.find(kPersonKey) == std::string_view::npos) {
    return json;
  }
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(json, ec);
  if (ec || !value.is_object()) return json;
  boost::json::object renamed;
  for (const auto& member : value.get_object()) {
    renamed.emplace(member.key() == kPersonKey ? std::string_view("legitimasjonskontroll")
                                               : std::string_view(member.key()),
                    member.value());
  }
  scratch = boost::json::serialize(renamed);
  return scratch;
}

template <typename RecordT>
void Collect(const RecordT& record, uint64_t seq, std::vector<Egenskapshendelse>& out) {
  out.clear();
  const auto rows = RowsOf(record);
  const bool strengt = IsStrengtFortroligAt(record, seq);
  // Rows are grouped by property in storage (SortRows); one pass per property keeps the output
  // in XSD order even for ungrouped input, and a property costs nothing when it has no changes.
  for (int pi = 0; pi < kPropertyCount; ++pi) {
    const auto p = static_cast<Property>(pi);
    if (EntitetName(p).empty() || (strengt && IsAddressProperty(p))) continue;
    size_t removed = 0;
    for (const auto& row : rows) {
      if (row.property == p && row.removed_at == seq && row.from_seq < seq) ++removed;
    }
    size_t paired = 0;
    for (const auto& row : rows) {
      if (row.property != p || row.from_seq != seq || row.removed_at == seq) continue;
      if (!IsObject(row.json)) continue;
      const bool korrigere = paired < removed;
      if (korrigere) ++paired;
      out.push_back({p, korrigere ? Entitetsendring::kKorrigere : Entitetsendring::kRegistrereNy,
                     std::string_view(row.json)});
    }
    for (; paired < removed; ++paired) {
      out.push_back({p, Entitetsendring::kAnnullere, {}});
    }
  }
}

void AppendHeaderJson(const EventHeader& header, std::string& out) {
  out.append("{\"dokumentidentifikator\":");
  AppendJsonString(out, header.dokumentidentifikator);
  out.append(",\"skjemaversjon\":\"");
  out.append(kEventSchemaVersion);
  out.append("\",\"hendelse\":{\"folkeregisteridentifikator\":");
  AppendJsonString(out, header.folkeregisteridentifikator);
  out.append(",\"hendelsestype\":\"");
  out.append(HendelsestypeName(header.type));
  out.append("\",\"ajourholdstidspunkt\":\"");
  timefmt::AppendOslo(out, header.ajourholdstidspunkt);
  out.append("\",\"egenskapshendelse\":[");
}

template <typename RecordT>
void RenderJson(const RecordT& record, uint64_t seq, const EventHeader& header, std::string& out) {
  thread_local std::vector<Egenskapshendelse> entries;
  Collect(record, seq, entries);
  AppendHeaderJson(header, out);
  std::string scratch;
  bool first = true;
  for (const Egenskapshendelse& e : entries) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"entitet\":\"");
    out.append(EntitetName(e.property));
    out.append("\",\"entitetsendring\":\"");
    out.append(EntitetsendringName(e.endring));
    out.push_back('"');
    if (!e.json.empty()) {
      out.append(",\"");
      out.append(PropertyName(e.property));
      out.append("\":");
      out.append(EventRow(e.property, e.json, scratch));
    }
    out.push_back('}');
  }
  out.append("]}}");
}

void Element(std::string& out, std::string_view name, std::string_view text) {
  out.push_back('<');
  out.append(name);
  out.push_back('>');
  AppendXmlEscaped(out, text);
  out.append("</");
  out.append(name);
  out.push_back('>');
}

template <typename RecordT>
void RenderXml(const RecordT& record, uint64_t seq, const EventHeader& header, std::string& out,
               bool root_namespace, std::string_view root) {
  thread_local std::vector<Egenskapshendelse> entries;
  Collect(record, seq, entries);
  out.push_back('<');
  out.append(root);
  if (root_namespace) {
    out.append(" xmlns=\"");
    out.append(kEventXmlNamespace);
    out.push_back('"');
  }
  out.push_back('>');
  Element(out, "dokumentidentifikator", header.dokumentidentifikator);
  Element(out, "skjemaversjon", kEventSchemaVersion);
  out.append("<hendelse>");
  Element(out, "folkeregisteridentifikator", header.folkeregisteridentifikator);
  Element(out, "hendelsestype", HendelsestypeName(header.type));
  out.append("<ajourholdstidspunkt>");
  timefmt::AppendOslo(out, header.ajourholdstidspunkt);
  out.append("</ajourholdstidspunkt>");
  const EventXsd& xsd = EventXsd::Get();
  std::string scratch;
  for (const Egenskapshendelse& e : entries) {
    // The event XSD's Registerdata: the row's element first, then entitet and entitetsendring.
    // Entries the schema has no place for (an entitet outside its enumeration, a row element
    // outside its choice) are left out.
    const std::string_view entitet = EntitetName(e.property);
    if (!xsd.IsEntitetsnavn(entitet)) continue;
    const size_t mark = out.size();
    out.append("<egenskapshendelse>");
    if (!e.json.empty()) {
      const std::string_view name = PropertyName(e.property);
      const EventXsd::Type* type = xsd.RowType(name);
      if (type == nullptr) {
        out.resize(mark);
        continue;
      }
      out.push_back('<');
      out.append(name);
      out.push_back('>');
      if (!AppendJsonAsEventXml(out, EventRow(e.property, e.json, scratch), *type)) {
        out.resize(mark);  // malformed row: the entry is left out rather than half-written
        continue;
      }
      out.append("</");
      out.append(name);
      out.push_back('>');
    }
    Element(out, "entitet", entitet);
    Element(out, "entitetsendring", EntitetsendringName(e.endring));
    out.append("</egenskapshendelse>");
  }
  out.append("</hendelse></");
  out.append(root);
  out.push_back('>');
}

}  // namespace

std::string_view EntitetsendringName(Entitetsendring e) {
  switch (e) {
    case Entitetsendring::kRegistrereNy:
      return "registrereNy";
    case Entitetsendring::kKorrigere:
      return "korrigere";
    case Entitetsendring::kAnnullere:
      return "annullere";
  }
  return "registrereNy";
}

std::string_view EntitetName(Property p) {
  switch (p) {
    case Property::kPostadresse:
      return "kontaktadresse";
    case Property::kPostadresseIUtlandet:
      return "kontaktadresseIUtlandet";
    case Property::kPreferertKontaktadresse:
      return {};
    default:
      return PropertyName(p);
  }
}

std::string_view HendelsestypeName(Hendelsetype t) {
  switch (t) {
    case Hendelsetype::kEndringIPostadresse:
    case Hendelsetype::kEndringIPreferertKontaktadresse:
      return "endringIKontaktinformasjon";
    case Hendelsetype::kEndringIKontaktinformasjonForDoedsbo:
      return "endringIKontaktopplysningerForDoedsbo";
    default:
      return HendelsetypeName(t);
  }
}

bool HasEventDocument(Hendelsetype t) { return t != Hendelsetype::kPersonErOppdatert; }

void CollectEgenskapshendelser(const PersonRecord& record, uint64_t seq,
                               std::vector<Egenskapshendelse>& out) {
  Collect(record, seq, out);
}
void CollectEgenskapshendelser(const RecordView& record, uint64_t seq,
                               std::vector<Egenskapshendelse>& out) {
  Collect(record, seq, out);
}

void RenderEventDocumentJson(const PersonRecord& record, uint64_t seq, const EventHeader& header,
                             std::string& out) {
  RenderJson(record, seq, header, out);
}
void RenderEventDocumentJson(const RecordView& record, uint64_t seq, const EventHeader& header,
                             std::string& out) {
  RenderJson(record, seq, header, out);
}
void RenderEventDocumentXml(const PersonRecord& record, uint64_t seq, const EventHeader& header,
                            std::string& out, bool root_namespace, std::string_view root) {
  RenderXml(record, seq, header, out, root_namespace, root);
}
void RenderEventDocumentXml(const RecordView& record, uint64_t seq, const EventHeader& header,
                            std::string& out, bool root_namespace, std::string_view root) {
  RenderXml(record, seq, header, out, root_namespace, root);
}

}  // namespace norreg::freg
