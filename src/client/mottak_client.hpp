#pragma once
// The Brreg mottak consumer (SPEC 3, seed 002): sending messages and a mailbox poller that never
// loses a reply.
//
// SendMelding: POST /inbound/upload (multipart/form-data: part `payload` = the Melding XML as
// application/xml, one `attachments` part per file with its file name and a Content-Type from
// its extension, see ContentTypeForFile). The sent message is recorded in
// <state_dir>/sent.ndjson ({"meldingId","mottakId","fil","sendt"} per line, appended and fsynced)
// so the poller can say which sent message a reply answers. With generate_id the Melding's @id is
// replaced by a fresh 32-hex id first (ParseMelding + RenderMelding).
//
// PollMailbox, one round: GET /outbound/available (optionally for one tjeneste) -> for each reply,
// oldest first: GET /outbound/download -> verify the ZIP (mottak::ReadZip; henvendelse.xml present
// and a valid Melding) -> write it durably as <out_dir>/<mottakId>.zip (temp file, fsync, atomic
// rename, fsync of the folder: common/files.hpp WriteFileAtomically) -> PUT /outbound/confirm.
// Confirm answered 500 ERROR-00005 (another poller confirmed it first) counts as confirmed.
// Confirm answered 404 after a successful download is an error. A crash between the write and the
// confirm leaves the reply available: the next round downloads it again and overwrites the file
// with the same bytes, so every reply ends up in out_dir exactly once. Transport errors, 5xx
// (other than ERROR-00005) and 429 are retried as RetryPolicy says; a 401 refreshes the token
// once.
// Each reply is reported (on_reply) with the sent message it answers: the reply Melding's
// Referanse of type MeldingsReferanse looked up in sent.ndjson.
// With once = false, rounds repeat every `interval` until `cancel` is set.
//
// Thread-safety: the functions start no threads; the TokenSource is used from the calling thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/uttrekk.hpp"
#include "common/result.hpp"

namespace norreg::client {

struct MottakClientOptions {
  std::string base_url;  // the server root, e.g. "http://127.0.0.1:8080"
  TokenSource tokens;    // scope brreg:mottak
  RetryPolicy retry;
  HttpClientOptions http;
  std::string state_dir;  // where sent.ndjson lives (created when missing)
};

// "application/pdf" for "x.pdf", ... for the types SPEC 3.1 allows (xml, pdf, doc, docx, xls,
// xlsx, rtf, jpg/jpeg, png, odt, ods, tif/tiff, txt, json, csv, zip, gz); nullopt otherwise.
std::optional<std::string> ContentTypeForFile(const std::string& path);

struct SendResult {
  std::string melding_id;
  std::string mottak_id;
  std::string mottatt_tidspunkt;
  int antall_vedlegg = 0;
};

// Sends the Melding in file `melding_path` with the files `attachments`. kInvalidInput for a file
// that cannot be read, an attachment type not allowed, or (generate_id) a Melding that does not
// parse; a refused upload is the server's error (ErrorForAnswer-style, the Brreg feilkode and
// beskrivelse in the message).
Result<SendResult> SendMelding(const MottakClientOptions& options, const std::string& melding_path,
                               const std::vector<std::string>& attachments, bool generate_id);

struct PublishResult {
  std::string mottak_id;
  std::string dokument_id;
};

// The register side (scope norreg:mottak in `options.tokens`): publishes the reply Melding in
// `reply_path` with `attachments` (POST /norreg/mottak/v1/svar; application/xml without
// attachments, else multipart/form-data as SendMelding, types by extension). With `orgnr` ("NNN"
// or "0192:NNN") the Melding's Mottaker/@id is set to it first (it names the receiving
// organisation). Not retried (a retry after a lost answer would publish twice). kInvalidInput as
// SendMelding or for a bad orgnr; a refused reply is the server's error.
Result<PublishResult> PublishReply(const MottakClientOptions& options,
                                   const std::string& reply_path,
                                   const std::vector<std::string>& attachments,
                                   const std::string& orgnr);

struct PolledReply {
  std::string mottak_id;
  std::string path;               // the written ZIP
  std::string melding_referanse;  // the reply's MeldingsReferanse ("" when none)
  std::string answers_file;       // the sent message's file from sent.ndjson ("" when unknown)
  std::string tjenestehandling;
};

struct PollOptions {
  std::string out_dir;   // created when missing
  std::string tjeneste;  // "" = every tjeneste
  bool once = true;
  std::chrono::milliseconds interval{std::chrono::seconds(30)};
  const std::atomic<bool>* cancel = nullptr;
  // Test hook: stop (as if killed) after writing this many ZIPs, before confirming the last one.
  int stop_after_writes = 0;
};

struct PollSummary {
  int rounds = 0;
  int written = 0;    // ZIPs written (a re-download after a crash counts again)
  int confirmed = 0;  // confirms answered 200 or ERROR-00005
};

Result<PollSummary> PollMailbox(const MottakClientOptions& options, const PollOptions& poll,
                                const std::function<void(const PolledReply&)>& on_reply = {});

}  // namespace norreg::client
