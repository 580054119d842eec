#pragma once
// The one path every answer about persons takes (docs/packages.md, docs/design.md): find →
// minimise for the caller's access package → render → record the disclosure, before the answer
// leaves. Lookups by number and by document id, bulk lookups, both searches, event documents and
// the extract batches' disclosures go through it, so no handler can forget a rule or the
// disclosure log; handlers parse requests and wrap what this writes.
//
// Every method appends the answer's body to `out` (JSON or XML as `format` says) and returns
// Status; on an error `out` may hold a partial answer and must be discarded. The disclosure is
// recorded (AuditLog::Record) before the method returns Ok; when it cannot be, the error is
// returned and nothing may be answered.
//
// Thread-safe: holds references to the store, the cipher, the audit log and the search.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/document_id.hpp"
#include "common/result.hpp"
#include "freg/packages.hpp"
#include "freg/parts.hpp"
#include "service/person_search.hpp"
#include "store/audit_log.hpp"
#include "store/register_store.hpp"

namespace norreg::service {

enum class Format { kJson, kXml };

// Who asks: through which package, and the disclosure record (consumer, client, supplier,
// endpoint, request id) the persons answered are logged under.
struct Caller {
  const freg::Package* package = &freg::OffentligMedHjemmel();
  store::Disclosure disclosure;
};

class PersonLookup {
 public:
  // `audit` nullptr: disclosures are not recorded; `search` nullptr: the searches answer 404.
  PersonLookup(store::RegisterStore& store, ids::DocumentIdCipher cipher, store::AuditLog* audit,
               PersonSearch* search);

  // The syntax checks of a lookup's key, for callers that must answer them before anything else
  // (the HTTP API answers a malformed number 400 before an unknown part 406): kInvalidInput
  // saying what is wrong. Person and ArchivedPerson make the same checks.
  static Status CheckNumber(std::string_view fnr);
  static Status CheckDocumentId(std::string_view dokumentidentifikator);

  // GET personer/{fnr}: the latest document. kInvalidInput for a malformed number, kNotFound.
  Status Person(const Caller& caller, std::string_view fnr, const freg::PartSelection& parts,
                Format format, std::string& out);
  // GET personer/arkiv/{id}: the version with that document id. kInvalidInput, kNotFound.
  Status ArchivedPerson(const Caller& caller, std::string_view dokumentidentifikator,
                        const freg::PartSelection& parts, Format format, std::string& out);
  // POST personer/bulkoppslag: {"oppslag":[…]} in request order; without `som_bestilt`
  // duplicates once and unknown numbers left out, with it every entry and a feilmelding for the
  // unknown ones.
  Status Bulk(const Caller& caller, std::span<const std::string> fnrs, bool som_bestilt,
              const freg::PartSelection& parts, Format format, std::string& out);
  // POST personer/bulkoppslag/arkiv: malformed and unknown ids left out.
  Status ArchiveBulk(const Caller& caller, std::span<const std::string> ids,
                     const freg::PartSelection& parts, Format format, std::string& out);
  // GET hendelser/{id}: the event document. kInvalidInput, kNotFound (also for an event without
  // a document).
  Status EventDocument(const Caller& caller, std::string_view dokumentidentifikator, Format format,
                       std::string& out);
  // POST hendelser/bulkoppslag: {"oppslag":[{"dokumentidentifikator","hendelsedokument"}]},
  // malformed and unknown ids (and events without a document) left out, in one read snapshot.
  Status EventBulk(const Caller& caller, std::span<const std::string> ids, Format format,
                   std::string& out);
  // GET personer/soek: PersonsoekResponse. The package's confidentiality rule is applied to
  // `params` here. kNotFound without a search.
  Status Soek(const Caller& caller, SearchParams params, Format format, std::string& out);
  // GET personer/entydigsoek: the one person's document.
  Status Entydig(const Caller& caller, SearchParams params, const freg::PartSelection& parts,
                 Format format, std::string& out);
  // Records what an answer built elsewhere discloses (an extract batch: its numbers, or a
  // reference to it).
  Status Disclose(const Caller& caller, std::vector<std::string> identifiers);

 private:
  Status Record(const Caller& caller, std::vector<std::string> identifiers);
  // Appends the event document of event `seq` (id `id`) and returns the person's number.
  Result<std::string> AppendEventDocument(uint64_t seq, std::string_view id, bool xml,
                                          bool root_namespace, std::string_view xml_root,
                                          std::string& out);

  store::RegisterStore& store_;
  ids::DocumentIdCipher cipher_;
  store::AuditLog* audit_;
  PersonSearch* search_;
};

}  // namespace norreg::service
