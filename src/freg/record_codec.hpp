#pragma once
// Compact binary form of a PersonRecord (what the store compresses and keeps per person), and a
// zero-copy reader over it for the rendering hot path.
//
// Format (versions 1 and 2), all integers LEB128 varints unless noted:
//   byte    format version (1 or 2)
//   string  fnr                                  (varint length + bytes)
//   varint  count, then count strings            (other_ids)
//   varint  row count, then per row:
//     byte    flags: bits 0-4 property (0..30), or 31 = "extended"; bit 5 current_until is kOpen;
//             bit 6 removed_at is kOpen; bit 7 removed_at == current_until (only with bits 5 and
//             6 clear)
//     byte    only when bits 0-4 are 31 (version 2 only): property - 31 (the properties from 31
//             on, added after version 1; at most kPropertyCount - 32)
//     varint  zigzag(from_seq - previous row's from_seq)         (first row: previous = 0)
//     varint  zigzag(current_until - from_seq)   unless bit 5
//     varint  zigzag(removed_at - from_seq)      unless bit 5, 6 or 7 says otherwise
//     string  json
// Version 1 is what every record had before properties 31.. existed (5 bits, 31 properties);
// version 2 adds only the extended property byte. The encoder writes version 1 when no row needs
// the extension, so records without the new properties keep their bytes and older binaries still
// read them, and version 2 otherwise; a version 2 record without an extended row is rejected.
// Differences are taken modulo 2^64, so every uint64 value round-trips exactly. Nothing follows
// the last row. Encoding is canonical: decoding then encoding gives the same bytes.
//
// All functions are pure and thread-safe; a RecordView must not be shared while Parse() runs.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "freg/person_record.hpp"

namespace norreg::freg {

inline constexpr uint8_t kRecordFormatVersion = 2;       // the newest format read and written
inline constexpr uint8_t kRecordFormatVersionBasic = 1;  // written when no row needs version 2

// Appends the encoding of `record` to `out` (does not clear it).
void EncodeRecord(const PersonRecord& record, std::string& out);

// Decodes a whole encoding. Truncated, over-long or otherwise corrupt input (unknown version,
// property out of range, varint overflow, trailing bytes) gives Error{kInternal, "<what>"}.
Result<PersonRecord> DecodeRecord(std::string_view data);

// One row of a RecordView: like Row, but `json` points into the encoded bytes.
struct RowView {
  Property property = Property::kStatus;
  uint64_t from_seq = 0;
  uint64_t current_until = kOpen;
  uint64_t removed_at = kOpen;
  std::string_view json;

  bool PresentAt(uint64_t seq) const { return from_seq <= seq && seq < removed_at; }
  bool CurrentAt(uint64_t seq) const { return seq < current_until; }
};

// Zero-copy reader: Parse() validates the encoding and records where each field is; the views
// stay valid while the parsed bytes live and until the next Parse(). Reusing one RecordView (e.g.
// thread_local) reuses its vectors, so parsing allocates nothing once they have grown.
class RecordView {
 public:
  RecordView() = default;
  // Same error results as DecodeRecord. After an error the view is empty.
  Status Parse(std::string_view data);

  std::string_view fnr() const { return fnr_; }
  std::span<const std::string_view> other_ids() const { return other_ids_; }
  std::span<const RowView> rows() const { return rows_; }

 private:
  std::string_view fnr_;
  std::vector<std::string_view> other_ids_;
  std::vector<RowView> rows_;
};

}  // namespace norreg::freg
