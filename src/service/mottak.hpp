#pragma once
// The rules of Brreg elektronisk mottak (SPEC 3), apart from HTTP: what an upload must be and what
// follows it (the demo's automatic receipt), where a reply goes, the disclosure of a download, and
// the confirm rule. The handlers (http/handlers/mottak) read requests and write answers; the store
// stores.
//
// Thread-safe: holds references to the store and the audit log.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "mottak/melding.hpp"
#include "store/audit_log.hpp"
#include "store/mottak_store.hpp"

namespace norreg::service {

// A reply as published: where it went and what it answers.
struct PublishedReply {
  std::string mottak_id, dokument_id;
  std::string orgnr;              // the receiving organisation
  std::string melding_referanse;  // the original message's id ("" when none)
  size_t attachments = 0;
};

class Mottak {
 public:
  // `audit` nullptr: downloads are not recorded. `auto_receipt`: every first upload is answered
  // by a reply to its sender holding an Applikasjonskvittering (the demo).
  Mottak(store::MottakStore& store, store::AuditLog* audit, bool auto_receipt)
      : store_(store), audit_(audit), auto_receipt_(auto_receipt) {}

  // The upload's Melding, if it is one organisation `orgnr` may send: valid per melding.xsd and
  // sent by itself (Avsender/@id = orgnr). kInvalidInput saying why otherwise.
  static Result<mottak::Melding> CheckUpload(std::string_view payload, std::string_view orgnr);
  // Stores an upload checked by CheckUpload (a repeat of a Melding id gets the first receipt),
  // with the automatic receipt of a first one in the same transaction: both are stored, or
  // neither and the upload fails.
  Result<store::InboundReceipt> StoreUpload(std::string_view orgnr, const mottak::Melding& melding,
                                            std::string payload,
                                            std::vector<store::MottakFile> attachments,
                                            int64_t now_ms);
  // Publishes a reply from the register's side: the receiving organisation is Mottaker/@id (an
  // orgnr), the original message its Referanse of type MeldingsReferanse. kInvalidInput for a
  // Melding that is not valid or names no organisation.
  Result<PublishedReply> PublishReply(std::string xml, std::vector<store::MottakFile> attachments,
                                      int64_t now_ms);
  // Where an arriving attachment is written while it is received (a blob the upload or reply
  // then takes over; a blob nobody takes is removed).
  Result<std::unique_ptr<store::BlobWriter>> NewSpill() { return store_.NewSpill(); }
  // The organisation's unconfirmed replies.
  Result<std::vector<store::OutboundInfo>> Available(const store::AvailableQuery& query) {
    return store_.Available(query);
  }
  // The reply's ZIP, as stored; the download is recorded as a disclosure of `mottak_id` to the
  // caller (`disclosure`) before it is returned. kNotFound for another organisation's reply too.
  Result<store::ReplyZip> Download(std::string_view orgnr, std::string_view mottak_id,
                                   store::Disclosure disclosure);
  // Confirms the reply: a compare-and-set of the version read, so of any number of confirms of
  // one reply exactly one succeeds and every other (concurrent or later) gets kConflict, the one
  // message the real service answers (ERROR-00005).
  Status Confirm(std::string_view orgnr, std::string_view mottak_id, int64_t now_ms);

 private:
  // The receipt of a new upload: a reply Melding to the sender whose Innhold is an
  // Applikasjonskvittering naming the upload's mottakId.
  static Result<store::OutboundReply> BuildReceipt(const mottak::Melding& upload,
                                                   std::string_view mottak_id,
                                                   std::string_view orgnr);

  store::MottakStore& store_;
  store::AuditLog* audit_;
  bool auto_receipt_;
};

}  // namespace norreg::service
