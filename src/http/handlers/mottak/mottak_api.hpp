#pragma once
// Brreg elektronisk mottak over HTTP (SPEC 3, seed 002), behind the Brreg failure style of
// auth_api (401 with the exact WWW-Authenticate strings, a wrong scope included):
//
//   POST /inbound/upload                                   multipart: `payload` (the Melding,
//                                                          at most 4 MB) + `attachments`, taken
//                                                          as it arrives (parts.hpp); 200
//                                                          {mottakId, mottattTidspunkt,
//                                                          antallVedlegg}; a repeat of a Melding id
//                                                          answers the first mottakId. With
//                                                          auto_receipt, a first upload is answered
//                                                          by a reply holding an
//                                                          Applikasjonskvittering.
//   GET /outbound/available?tjeneste=&fraDato=&tilDato=   the organisation's unconfirmed replies
//   GET /outbound/download?mottakId=                       the reply as a ZIP (henvendelse.xml +
//                                                          attachments); a disclosure (audited)
//   PUT /outbound/confirm?mottakId=                        optimistic lock on the reply's version:
//                                                          of all confirms of a message exactly one
//                                                          is 200, every other 500 ERROR-00005
//
// and the register side's producer endpoint (scope auth::kMottakProducerScope):
//
//   POST /norreg/mottak/v1/svar   body: the reply Melding (application/xml, at most 4 MB), or
//                                 multipart/form-data like an upload (`payload` = the reply
//                                 Melding, `attachments` = the reply's files, 35 MB in all). The
//                                 receiving organisation is Mottaker/@id, the original message
//                                 the Referanse of type MeldingsReferanse. The reply's ZIP is
//                                 built here, once. 200 {"mottakId","dokumentId"}
//
// Upload, reply and confirm are blocking routes (durable writes: the server runs them on its
// blocking pool, so concurrent confirms share the store's group commits). A download streams a
// large stored ZIP from its file, verified as it is read (see http::BodyStream).
//
// Errors: {"feilId","mottakId","kilde","feilkode","beskrivelse"} (RenderMottakError); the
// organisation is always the token's consumer, and another organisation's mottakId answers
// exactly like an unknown one (404).
#include <cstdint>
#include <string_view>
#include <vector>

#include "http/dispatcher.hpp"
#include "service/mottak.hpp"
#include "store/mottak_store.hpp"

namespace norreg::http::mottak_api {

inline constexpr std::string_view kInboundApi = "mottak_inbound";
inline constexpr std::string_view kInboundPath = "/inbound";
// SPEC 3.1: at most 35 MB per upload request.
inline constexpr uint64_t kMaxUploadBytes = 35ull << 20;
inline constexpr std::string_view kOutboundApi = "mottak_outbound";
inline constexpr std::string_view kOutboundPath = "/outbound";
inline constexpr std::string_view kProducerApi = "mottak_produsent";
inline constexpr std::string_view kProducerPath = "/norreg/mottak/v1";

// What the handlers share: the mailbox's rules (service/mottak.hpp).
struct MottakContext {
  service::Mottak& mottak;
};

// Adds the inbound and outbound APIs (`consumer_before`: authentication for brreg:mottak) and the
// producer API
// (`producer_before`: authentication for norreg:mottak) with their routes.
Status RegisterApi(Dispatcher& dispatcher, MottakContext& context,
                   std::vector<BeforeStep> consumer_before,
                   std::vector<BeforeStep> producer_before);

// The Brreg error body. feilkode by error: kConflict -> 500 ERROR-00005 (the confirm race),
// kInternal -> 500 ERROR-00000, kInvalidInput -> 400 CLIENTERROR-10002, kTooLarge -> 413
// CLIENTERROR-10003, kNotFound -> 404 CLIENTERROR-10004; 401 has no body. mottakId is the
// request's `mottakId` query value when it is a UUID, else null; feilId a new UUID (also logged).
Response RenderMottakError(const Error& error, const Request& request);
// The same body with an explicit status and feilkode (e.g. 400 CLIENTERROR-10001 for a Melding
// that breaks melding.xsd).
Response MottakError(int status, std::string_view feilkode, std::string_view beskrivelse,
                     const Request& request);

// The organisation of the token's consumer, nine digits; kUnauthenticated when there is none
// (an unprotected server has no organisation to serve).
Result<std::string> TokenOrganisation(const Request& request);

Result<std::unique_ptr<BodySink>> OpenUpload(MottakContext& context, Request& request);
Result<Response> GetAvailable(MottakContext& context, Request& request);
Result<Response> GetDownload(MottakContext& context, Request& request);
Result<Response> PutConfirm(MottakContext& context, Request& request);
Result<std::unique_ptr<BodySink>> OpenReply(MottakContext& context, Request& request);

}  // namespace norreg::http::mottak_api
