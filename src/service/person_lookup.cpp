#include "service/person_lookup.hpp"

#include <unordered_map>
#include <unordered_set>

#include "common/escape.hpp"
#include "common/ids.hpp"
#include "freg/event_document.hpp"
#include "freg/record_codec.hpp"
#include "freg/render.hpp"

namespace norreg::service {
namespace {

constexpr std::string_view kNotFoundPerson = "Fant ikke person med oppgitt identifikator";
constexpr std::string_view kUnknownDocument = "Ukjent dokumentidentifikator";
constexpr std::string_view kBadDocumentId =
    "dokumentidentifikator må være 32 heksadesimale tegn (små bokstaver)";

void Render(const freg::RecordView& view, uint64_t seq, const freg::PartSelection& parts, bool xml,
            std::string& out, bool root_namespace = true) {
  if (xml) {
    freg::RenderPersonXml(view, seq, parts, out, root_namespace);
  } else {
    freg::RenderPersonJson(view, seq, parts, out);
  }
}

Error Unknown(const Error& error, std::string_view message) {
  return error.code == ErrorCode::kNotFound ? MakeError(ErrorCode::kNotFound, std::string(message))
                                            : error;
}

// The package's rules for a search's parameters: no search by an identifier it may not see (that
// would disclose it), and protected addresses never match where it has no confidential data.
Status ApplyPackage(const freg::Package& package, SearchParams& p) {
  p.withhold_confidential = package.confidential == freg::Confidential::kNone;
  const struct {
    const std::optional<std::string>& value;
    freg::Property property;
    std::string_view name;
  } kIdentifiers[] = {
      {p.utenlandsk_personidentifikasjon, freg::Property::kUtenlandskPersonidentifikasjon,
       "utenlandskpersonidentifikasjon"},
      {p.legitimasjonsdokument, freg::Property::kLegitimasjonsdokument, "legitimasjonsdokument"},
      {p.utlendingsmyndighetenes_identifikasjonsnummer,
       freg::Property::kUtlendingsmyndighetenesIdentifikasjonsnummer,
       "utlendingsmyndighetenesidentifikasjonsnummer"},
  };
  for (const auto& id : kIdentifiers) {
    if (id.value && !package.Allows(id.property)) {
      return MakeError(ErrorCode::kInvalidInput, std::string(id.name) +
                                                     " kan ikke brukes i rettighetspakken " +
                                                     std::string(package.name));
    }
  }
  return Status::Ok();
}

Error NoSearch() { return MakeError(ErrorCode::kNotFound, "Tjenesten finnes ikke"); }

}  // namespace

PersonLookup::PersonLookup(store::RegisterStore& store, ids::DocumentIdCipher cipher,
                           store::AuditLog* audit, PersonSearch* search)
    : store_(store), cipher_(cipher), audit_(audit), search_(search) {}

Status PersonLookup::CheckNumber(std::string_view fnr) {
  std::string problem = ids::FnrProblem(fnr);
  if (problem.empty()) return Status::Ok();
  return MakeError(ErrorCode::kInvalidInput, problem);
}

Status PersonLookup::CheckDocumentId(std::string_view id) {
  if (ids::IsHex32(id)) return Status::Ok();
  return MakeError(ErrorCode::kInvalidInput, std::string(kBadDocumentId));
}

Status PersonLookup::Record(const Caller& caller, std::vector<std::string> identifiers) {
  if (audit_ == nullptr || identifiers.empty()) return Status::Ok();
  store::Disclosure disclosure = caller.disclosure;
  disclosure.identifiers = std::move(identifiers);
  return audit_->Record(disclosure);
}

Status PersonLookup::Disclose(const Caller& caller, std::vector<std::string> identifiers) {
  return Record(caller, std::move(identifiers));
}

Status PersonLookup::Person(const Caller& caller, std::string_view fnr,
                            const freg::PartSelection& parts, Format format, std::string& out) {
  if (Status s = CheckNumber(fnr); !s.ok()) return s;
  thread_local std::string raw;
  thread_local freg::RecordView view;
  auto person = store_.FindRawByFnr(fnr, raw);
  if (!person.ok()) return Unknown(person.error(), kNotFoundPerson);
  if (Status s = view.Parse(raw); !s.ok()) return s;
  out.reserve(out.size() + raw.size() + 512);
  Render(view, person->latest_seq, parts, format == Format::kXml, out);
  return Record(caller, {std::string(view.fnr())});
}

Status PersonLookup::ArchivedPerson(const Caller& caller, std::string_view id,
                                    const freg::PartSelection& parts, Format format,
                                    std::string& out) {
  if (Status s = CheckDocumentId(id); !s.ok()) return s;
  auto seq = cipher_.Decode(ids::DocumentKind::kPerson, id);
  if (!seq) return MakeError(ErrorCode::kNotFound, std::string(kUnknownDocument));
  thread_local std::string raw;
  thread_local freg::RecordView view;
  auto person = store_.FindRawByVersion(*seq, raw);
  if (!person.ok()) return Unknown(person.error(), kUnknownDocument);
  if (Status s = view.Parse(raw); !s.ok()) return s;
  Render(view, *seq, parts, format == Format::kXml, out);
  return Record(caller, {std::string(view.fnr())});
}

Status PersonLookup::Bulk(const Caller& caller, std::span<const std::string> fnrs, bool som_bestilt,
                          const freg::PartSelection& parts, Format format, std::string& out) {
  const bool xml = format == Format::kXml;
  out.reserve(out.size() + fnrs.size() * 3000 + 64);
  out +=
      xml ? "<personBulkoppslagResponse xmlns=\"folkeregisteret:tilgjengeliggjoering:person:v1\">"
          : "{\"oppslag\":[";
  thread_local std::string raw;
  thread_local freg::RecordView view;
  // The entries answered, in order (duplicates once unless the order is kept), and what is looked
  // up for each: an invalid number is looked up as nothing (not found), and so is a repeated one,
  // whose person is copied from its first answer.
  std::vector<std::string_view> entries;
  std::vector<std::string> lookups;
  entries.reserve(fnrs.size());
  lookups.reserve(fnrs.size());
  std::unordered_set<std::string_view> seen;
  for (const std::string& fnr : fnrs) {
    const bool repeated = !seen.insert(fnr).second;
    if (!som_bestilt && repeated) continue;  // duplicates answered once
    entries.push_back(fnr);
    lookups.push_back(!repeated && CheckNumber(fnr).ok() ? fnr : std::string());
  }
  // Where in `out` each person found is rendered, for its repeats.
  struct Answered {
    size_t offset = 0, length = 0;
    size_t disclosed = 0;  // its index in `disclosed`
  };
  std::unordered_map<std::string_view, Answered> answered;
  bool first = true;
  std::vector<std::string> disclosed;
  Status looked_up = store_.FindRawByFnrs(
      lookups, raw, [&](size_t i, const Result<store::RawPerson>& person) -> Status {
        const std::string_view fnr = entries[i];
        const auto earlier = person.ok() ? answered.end() : answered.find(fnr);
        const bool found = person.ok() || earlier != answered.end();
        if (person.ok()) {
          if (Status s = view.Parse(raw); !s.ok()) return s.error();
          disclosed.emplace_back(view.fnr());
        } else if (found) {
          disclosed.push_back(disclosed[earlier->second.disclosed]);
        } else if (!som_bestilt) {
          return Status::Ok();  // unknown ids are left out unless the order is kept
        }
        // The person: rendered the first time, copied for a repeat.
        auto append_person = [&] {
          if (!person.ok()) {
            const Answered& copy = earlier->second;
            out.reserve(out.size() + copy.length);
            out.append(out.data() + copy.offset, copy.length);
            return;
          }
          const size_t offset = out.size();
          if (xml) {
            Render(view, person->latest_seq, parts, true, out, false);
          } else {
            Render(view, person->latest_seq, parts, false, out);
          }
          answered.emplace(fnr, Answered{offset, out.size() - offset, disclosed.size() - 1});
        };
        if (!xml && !first) out += ',';
        first = false;
        if (xml) {
          out += "<oppslag><foedselsEllerDNummer>";
          AppendXmlEscaped(out, fnr);
          out += "</foedselsEllerDNummer>";
          if (found) {
            append_person();
          } else {
            out += "<feilmelding><feilmelding>Fant ikke person</feilmelding></feilmelding>";
          }
          out += "</oppslag>";
        } else {
          out += "{\"foedselsEllerDNummer\":";
          AppendJsonString(out, fnr);
          if (found) {
            out += ",\"folkeregisterperson\":";
            append_person();
          } else {
            out += ",\"feilmelding\":{\"feilmelding\":\"Fant ikke person\"}";
          }
          out += '}';
        }
        return Status::Ok();
      });
  if (!looked_up.ok()) return looked_up;
  out += xml ? "</personBulkoppslagResponse>" : "]}";
  return Record(caller, std::move(disclosed));
}

Status PersonLookup::ArchiveBulk(const Caller& caller, std::span<const std::string> documents,
                                 const freg::PartSelection& parts, Format format,
                                 std::string& out) {
  const bool xml = format == Format::kXml;
  out.reserve(out.size() + documents.size() * 3000 + 64);
  out += xml ? "<arkivDokumentBulkoppslagResponse "
               "xmlns=\"folkeregisteret:tilgjengeliggjoering:person:v1\">"
             : "{\"oppslag\":[";
  thread_local std::string raw;
  thread_local freg::RecordView view;
  // The ids that decode (malformed or unknown ones are left out) and their sekvensnummer.
  std::vector<std::string_view> ids;
  std::vector<uint64_t> seqs;
  ids.reserve(documents.size());
  seqs.reserve(documents.size());
  for (const std::string& id : documents) {
    if (auto seq = cipher_.Decode(ids::DocumentKind::kPerson, id)) {
      ids.push_back(id);
      seqs.push_back(*seq);
    }
  }
  bool first = true;
  std::vector<std::string> disclosed;
  Status looked_up = store_.FindRawByVersions(
      seqs, raw, [&](size_t i, const Result<store::RawPerson>& person) -> Status {
        if (!person.ok()) return Status::Ok();  // not found: left out
        if (Status s = view.Parse(raw); !s.ok()) return s.error();
        disclosed.emplace_back(view.fnr());
        if (xml) {
          out += "<oppslag><dokumentidentifikator>";
          out += ids[i];
          out += "</dokumentidentifikator>";
          Render(view, seqs[i], parts, true, out, false);
          out += "</oppslag>";
        } else {
          if (!first) out += ',';
          out += "{\"dokumentidentifikator\":\"";
          out += ids[i];
          out += "\",\"folkeregisterperson\":";
          Render(view, seqs[i], parts, false, out);
          out += '}';
        }
        first = false;
        return Status::Ok();
      });
  if (!looked_up.ok()) return looked_up;
  out += xml ? "</arkivDokumentBulkoppslagResponse>" : "]}";
  return Record(caller, std::move(disclosed));
}

Result<std::string> PersonLookup::AppendEventDocument(uint64_t seq, std::string_view id, bool xml,
                                                      bool root_namespace,
                                                      std::string_view xml_root, std::string& out) {
  auto events = store_.Events(seq, 1);
  if (!events.ok()) return events.error();
  if (events->empty() || events->front().seq != seq ||
      !freg::HasEventDocument(events->front().type)) {
    return MakeError(ErrorCode::kNotFound, std::string(kUnknownDocument));
  }
  const store::EventRow& event = events->front();
  thread_local std::string raw;
  thread_local freg::RecordView view;
  auto person = store_.FindRawByVersion(seq, raw);
  if (!person.ok()) return Unknown(person.error(), kUnknownDocument);
  if (Status s = view.Parse(raw); !s.ok()) return s.error();
  const freg::EventHeader header{id, event.fnr, event.type, event.ajourholdstidspunkt};
  if (xml) {
    freg::RenderEventDocumentXml(view, seq, header, out, root_namespace, xml_root);
  } else {
    freg::RenderEventDocumentJson(view, seq, header, out);
  }
  return std::string(view.fnr());
}

Status PersonLookup::EventDocument(const Caller& caller, std::string_view id, Format format,
                                   std::string& out) {
  if (Status s = CheckDocumentId(id); !s.ok()) return s;
  auto seq = cipher_.Decode(ids::DocumentKind::kEvent, id);
  if (!seq) return MakeError(ErrorCode::kNotFound, std::string(kUnknownDocument));
  auto fnr = AppendEventDocument(*seq, id, format == Format::kXml, true, freg::kEventXmlRoot, out);
  if (!fnr.ok()) return fnr.error();
  return Record(caller, {std::move(*fnr)});
}

Status PersonLookup::EventBulk(const Caller& caller, std::span<const std::string> documents,
                               Format format, std::string& out) {
  const bool xml = format == Format::kXml;
  out.reserve(out.size() + documents.size() * 1500 + 64);
  out += xml ? "<hendelseBulkoppslagResponse xmlns=\"folkeregisteret:tilgjengeliggjoering:"
               "hendelse:v1\">"
             : "{\"oppslag\":[";
  bool first = true;
  std::vector<std::string> disclosed;
  Status looked_up = store_.InReadSnapshot([&]() -> Status {
    for (const std::string& id : documents) {
      auto seq = cipher_.Decode(ids::DocumentKind::kEvent, id);
      if (!seq) continue;
      const size_t mark = out.size();
      if (xml) {
        out += "<oppslag><dokumentidentifikator>";
        out += id;  // Decode accepted it: 32 lowercase hex characters
        out += "</dokumentidentifikator>";
      } else {
        if (!first) out += ',';
        out += "{\"dokumentidentifikator\":\"";
        out += id;
        out += "\",\"hendelsedokument\":";
      }
      auto fnr = AppendEventDocument(*seq, id, xml, false, "hendelsedokument", out);
      if (!fnr.ok()) {
        out.resize(mark);
        if (fnr.error().code == ErrorCode::kNotFound) continue;
        return fnr.error();
      }
      out += xml ? "</oppslag>" : "}";
      first = false;
      disclosed.push_back(std::move(*fnr));
    }
    return Status::Ok();
  });
  if (!looked_up.ok()) return looked_up;
  out += xml ? "</hendelseBulkoppslagResponse>" : "]}";
  return Record(caller, std::move(disclosed));
}

Status PersonLookup::Soek(const Caller& caller, SearchParams params, Format format,
                          std::string& out) {
  if (search_ == nullptr) return NoSearch();
  if (Status s = ApplyPackage(*caller.package, params); !s.ok()) return s;
  auto found = search_->Soek(params);
  if (!found.ok()) return found.error();
  out.reserve(out.size() + found->size() * 16 + 96);
  if (format == Format::kXml) {
    out += "<personsoekResponse xmlns=\"";
    out += freg::kPersonXmlNamespace;
    out += "\">";
    for (const std::string& fnr : *found) {
      out += "<foedselsEllerDNummer>";
      AppendXmlEscaped(out, fnr);
      out += "</foedselsEllerDNummer>";
    }
    out += "</personsoekResponse>";
  } else {
    out += "{\"foedselsEllerDNummer\":[";
    for (size_t i = 0; i < found->size(); ++i) {
      if (i > 0) out += ',';
      AppendJsonString(out, (*found)[i]);
    }
    out += "]}";
  }
  return Record(caller, std::move(found).value());
}

Status PersonLookup::Entydig(const Caller& caller, SearchParams params,
                             const freg::PartSelection& parts, Format format, std::string& out) {
  if (search_ == nullptr) return NoSearch();
  if (Status s = ApplyPackage(*caller.package, params); !s.ok()) return s;
  thread_local std::string raw;
  thread_local freg::RecordView view;
  auto hit = search_->Entydig(params, raw);
  if (!hit.ok()) return hit.error();
  if (Status s = view.Parse(raw); !s.ok()) return s;
  out.reserve(out.size() + raw.size() + 512);
  Render(view, hit->person.latest_seq, parts, format == Format::kXml, out);
  return Record(caller, {std::string(view.fnr())});
}

}  // namespace norreg::service
