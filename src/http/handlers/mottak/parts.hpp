#pragma once
// The multipart/form-data body of an upload (POST /inbound/upload) or of a producer's reply with
// attachments (POST /norreg/mottak/v1/svar), taken as it arrives (a BodySink), so a 35 MB request
// is never held in memory:
// - part `payload` (the Melding) is kept in memory, at most kMaxPayloadBytes (else kTooLarge:
//   413 CLIENTERROR-10003, "the payload part is larger than 4 MB"); one only;
// - each part `attachments` goes to a spill of the store (a temporary file, SHA-256 computed as
//   the bytes arrive, fsynced when the part ends); a part of a type SPEC 3.1 does not allow is
//   skipped and remembered for the 415;
// - any other part name, and every defect the multipart parser finds, is kInvalidInput (400
//   CLIENTERROR-10002); a body past kMaxUploadBytes is kTooLarge.
// Finish() checks, in this order (the order of the buffered upload before it): the closing
// delimiter, a payload present, the attachment types (kUnsupportedMedia "Unsupported file
// type(s): a, b"), then hands the parts to the route's `finish`. A request that ends early drops
// the sink, and with it every spill.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/multipart.hpp"
#include "http/router.hpp"
#include "service/mottak.hpp"
#include "store/mottak_store.hpp"

namespace norreg::http::mottak_api {

inline constexpr uint64_t kMaxPayloadBytes = 4ull << 20;

struct MottakParts {
  bool has_payload = false;
  std::string payload;
  std::vector<store::MottakFile> attachments;  // each spilled (MottakFile::spilled), sealed
};

using PartsFinisher = std::function<Result<Response>(MottakParts&)>;

// The sink for a request whose Content-Type is `content_type`: kInvalidInput when it is not
// multipart/form-data with a usable boundary (answered before the body is read).
Result<std::unique_ptr<BodySink>> OpenPartsSink(service::Mottak& mottak,
                                                std::string_view content_type,
                                                PartsFinisher finish);

}  // namespace norreg::http::mottak_api
