// The multipart body of uploads and replies, as it arrives (see parts.hpp).
#include "http/handlers/mottak/parts.hpp"

#include <algorithm>
#include <array>

#include "http/handlers/mottak/mottak_api.hpp"

namespace norreg::http::mottak_api {
namespace {

// SPEC 3.1: XML, PDF, DOC(X), XLS(X), RTF, JPEG, PNG, ODT, ODS, TIFF, TXT, JSON, CSV, ZIP, GZIP.
constexpr std::array<std::string_view, 21> kAllowedTypes = {
    "application/xml",
    "text/xml",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/rtf",
    "text/rtf",
    "image/jpeg",
    "image/png",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "image/tiff",
    "text/plain",
    "application/json",
    "text/csv",
    "application/zip",
    "application/x-zip-compressed",
    "application/gzip",
    "application/x-gzip",
};

class PartsSink final : public BodySink, public MultipartHandler {
 public:
  PartsSink(service::Mottak& mottak, std::string boundary, PartsFinisher finish)
      : mottak_(mottak),
        finish_(std::move(finish)),
        parser_(std::move(boundary), *this, {.max_body_bytes = kMaxUploadBytes}) {}

  Status Write(std::string_view bytes) override { return parser_.Feed(bytes); }

  Result<Response> Finish() override {
    if (Status s = parser_.Finish(); !s.ok()) return s.error();
    if (!parts_.has_payload) {
      return MakeError(ErrorCode::kInvalidInput, "Required request part 'payload' is not present");
    }
    if (!unsupported_.empty()) {
      return MakeError(ErrorCode::kUnsupportedMedia, "Unsupported file type(s): " + unsupported_);
    }
    return finish_(parts_);
  }

  Status OnPartBegin(const MultipartPartHeaders& headers) override {
    spill_ = nullptr;
    in_payload_ = false;
    if (headers.name == "payload") {
      if (parts_.has_payload) {
        return MakeError(ErrorCode::kInvalidInput, "more than one payload part");
      }
      parts_.has_payload = true;
      in_payload_ = true;
      return Status::Ok();
    }
    if (headers.name != "attachments") {
      return MakeError(ErrorCode::kInvalidInput, "unknown part: " + headers.name);
    }
    ++attachment_count_;
    if (std::find(kAllowedTypes.begin(), kAllowedTypes.end(), headers.content_type) ==
        kAllowedTypes.end()) {
      // Refused at the end, with every refused type named; its bytes are not kept.
      unsupported_ += unsupported_.empty() ? "" : ", ";
      unsupported_ += headers.content_type.empty() ? "(none)" : headers.content_type;
      return Status::Ok();
    }
    if (!unsupported_.empty()) return Status::Ok();  // refused anyway: keep nothing more
    auto spill = mottak_.NewSpill();
    if (!spill.ok()) return spill.error();
    store::MottakFile& file = parts_.attachments.emplace_back();
    file.name = headers.filename.empty() ? "vedlegg-" + std::to_string(attachment_count_)
                                         : headers.filename;
    file.content_type = headers.content_type;
    file.spilled = std::shared_ptr<store::BlobWriter>(std::move(spill).value());
    spill_ = file.spilled.get();
    return Status::Ok();
  }

  Status OnPartData(std::string_view bytes) override {
    if (in_payload_) {
      if (parts_.payload.size() + bytes.size() > kMaxPayloadBytes) {
        return MakeError(ErrorCode::kTooLarge, "The payload part is larger than " +
                                                   std::to_string(kMaxPayloadBytes >> 20) + " MB");
      }
      parts_.payload.append(bytes);
      return Status::Ok();
    }
    return spill_ != nullptr ? spill_->Append(bytes) : Status::Ok();
  }

  Status OnPartEnd() override {
    in_payload_ = false;
    store::BlobWriter* spill = spill_;
    spill_ = nullptr;
    // Sealed only: the io thread does not wait for the disk. The store makes the files durable
    // before it commits the upload (SqliteMottakStore; PostgreSQL copies them into its tables).
    return spill != nullptr ? spill->Seal() : Status::Ok();
  }

 private:
  service::Mottak& mottak_;
  PartsFinisher finish_;
  MultipartParser parser_;
  MottakParts parts_;
  std::string unsupported_;
  size_t attachment_count_ = 0;
  bool in_payload_ = false;
  store::BlobWriter* spill_ = nullptr;  // the attachment being received, if kept
};

}  // namespace

Result<std::unique_ptr<BodySink>> OpenPartsSink(service::Mottak& mottak,
                                                std::string_view content_type,
                                                PartsFinisher finish) {
  auto boundary = MultipartBoundary(content_type);
  if (!boundary.ok()) return boundary.error();
  return std::unique_ptr<BodySink>(
      std::make_unique<PartsSink>(mottak, std::move(*boundary), std::move(finish)));
}

}  // namespace norreg::http::mottak_api
