#include "freg/record_codec.hpp"

#include <utility>

namespace norreg::freg {
namespace {

constexpr uint8_t kPropertyMask = 0x1f;
constexpr uint8_t kExtendedProperty = 0x1f;  // bits 0-4 all set: the property byte follows
constexpr uint8_t kCurrentOpen = 0x20;
constexpr uint8_t kRemovedOpen = 0x40;
constexpr uint8_t kRemovedAtCurrent = 0x80;

void PutVarint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

uint64_t ZigZag(uint64_t diff) {  // diff is a two's-complement int64 held in a uint64
  return (diff << 1) ^ (0 - (diff >> 63));
}
uint64_t UnZigZag(uint64_t z) { return (z >> 1) ^ (0 - (z & 1)); }

void PutString(std::string& out, std::string_view s) {
  PutVarint(out, s.size());
  out.append(s);
}

Error Corrupt(std::string what) {
  return MakeError(ErrorCode::kInternal, "korrupt personpost: " + std::move(what));
}

// Reads the format front to back; every read checks the remaining length first.
class Reader {
 public:
  explicit Reader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool AtEnd() const { return p_ == end_; }

  bool Byte(uint8_t& v) {
    if (p_ == end_) return false;
    v = static_cast<uint8_t>(*p_++);
    return true;
  }

  // Rejects truncation, more than 64 bits and non-minimal encodings (keeps the format canonical).
  bool Varint(uint64_t& v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const auto b = static_cast<uint8_t>(*p_++);
      if (shift == 63 && b > 1) return false;
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        if (b == 0 && shift != 0) return false;
        v = result;
        return true;
      }
    }
    return false;
  }

  bool String(std::string_view& s) {
    uint64_t n = 0;
    if (!Varint(n)) return false;
    if (n > static_cast<uint64_t>(end_ - p_)) return false;
    s = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }

  size_t Remaining() const { return static_cast<size_t>(end_ - p_); }

 private:
  const char* p_;
  const char* end_;
};

// Parses the whole encoding, calling on_fnr/on_id/on_row for each piece, so the owning decoder
// and the view share one validated parser.
template <typename OnFnr, typename OnIdCount, typename OnId, typename OnRowCount, typename OnRow>
Status ParseEncoded(std::string_view data, OnFnr on_fnr, OnIdCount on_id_count, OnId on_id,
                    OnRowCount on_row_count, OnRow on_row) {
  Reader r(data);
  uint8_t version = 0;
  if (!r.Byte(version)) return Corrupt("tom");
  if (version != kRecordFormatVersion && version != kRecordFormatVersionBasic) {
    return Corrupt("ukjent formatversjon " + std::to_string(version));
  }
  bool extended_seen = false;
  std::string_view s;
  if (!r.String(s)) return Corrupt("fnr avkortet");
  on_fnr(s);
  uint64_t count = 0;
  // Every id and row takes at least one byte: a count beyond the remaining bytes is corrupt, and
  // checking it first keeps a corrupt count from reserving huge vectors.
  if (!r.Varint(count) || count > r.Remaining()) return Corrupt("antall identer");
  on_id_count(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    if (!r.String(s)) return Corrupt("ident avkortet");
    on_id(s);
  }
  if (!r.Varint(count) || count > r.Remaining()) return Corrupt("antall rader");
  on_row_count(static_cast<size_t>(count));
  uint64_t prev = 0;
  for (uint64_t i = 0; i < count; ++i) {
    RowView row;
    uint8_t flags = 0;
    uint64_t v = 0;
    if (!r.Byte(flags)) return Corrupt("rad avkortet");
    unsigned property = flags & kPropertyMask;
    if (property == kExtendedProperty) {
      uint8_t extra = 0;
      if (version == kRecordFormatVersionBasic) return Corrupt("ukjent egenskap");
      if (!r.Byte(extra)) return Corrupt("rad avkortet");
      property = kExtendedProperty + extra;
      extended_seen = true;
    }
    if (property >= static_cast<unsigned>(kPropertyCount)) return Corrupt("ukjent egenskap");
    if ((flags & kRemovedAtCurrent) && (flags & (kCurrentOpen | kRemovedOpen))) {
      return Corrupt("ugyldige flagg");
    }
    row.property = static_cast<Property>(property);
    if (!r.Varint(v)) return Corrupt("rad avkortet");
    row.from_seq = prev + UnZigZag(v);
    prev = row.from_seq;
    if (flags & kCurrentOpen) {
      row.current_until = kOpen;
    } else {
      if (!r.Varint(v)) return Corrupt("rad avkortet");
      row.current_until = row.from_seq + UnZigZag(v);
      // kOpen has its own flag; an explicit kOpen would make the encoding non-canonical.
      if (row.current_until == kOpen) return Corrupt("ugyldig sekvensnummer");
    }
    if (flags & kRemovedOpen) {
      row.removed_at = kOpen;
    } else if (flags & kRemovedAtCurrent) {
      row.removed_at = row.current_until;
    } else {
      if (!r.Varint(v)) return Corrupt("rad avkortet");
      row.removed_at = row.from_seq + UnZigZag(v);
      if (row.removed_at == kOpen || row.removed_at == row.current_until) {
        return Corrupt("ugyldig sekvensnummer");
      }
    }
    if (!r.String(row.json)) return Corrupt("rad avkortet");
    on_row(row);
  }
  if (!r.AtEnd()) return Corrupt("bytes etter siste rad");
  // Version 2 is written only when a row needs it; anything else would not be canonical.
  if (version == kRecordFormatVersion && !extended_seen)
    return Corrupt("unødvendig formatversjon 2");
  return Status::Ok();
}

}  // namespace

void EncodeRecord(const PersonRecord& record, std::string& out) {
  size_t json_bytes = 0;
  for (const Row& row : record.rows) json_bytes += row.json.size();
  out.reserve(out.size() + json_bytes + 24 * record.rows.size() + record.fnr.size() + 16);

  bool extended = false;
  for (const Row& row : record.rows) {
    extended = extended || static_cast<uint8_t>(row.property) >= kExtendedProperty;
  }
  out.push_back(static_cast<char>(extended ? kRecordFormatVersion : kRecordFormatVersionBasic));
  PutString(out, record.fnr);
  PutVarint(out, record.other_ids.size());
  for (const std::string& id : record.other_ids) PutString(out, id);
  PutVarint(out, record.rows.size());
  uint64_t prev = 0;
  for (const Row& row : record.rows) {
    const auto property = static_cast<uint8_t>(row.property);
    uint8_t flags = property < kExtendedProperty ? property : kExtendedProperty;
    const bool current_open = row.current_until == kOpen;
    const bool removed_open = row.removed_at == kOpen;
    if (current_open) flags |= kCurrentOpen;
    if (removed_open) flags |= kRemovedOpen;
    const bool removed_at_current =
        !current_open && !removed_open && row.removed_at == row.current_until;
    if (removed_at_current) flags |= kRemovedAtCurrent;
    out.push_back(static_cast<char>(flags));
    if (property >= kExtendedProperty)
      out.push_back(static_cast<char>(property - kExtendedProperty));
    PutVarint(out, ZigZag(row.from_seq - prev));
    prev = row.from_seq;
    if (!current_open) PutVarint(out, ZigZag(row.current_until - row.from_seq));
    if (!removed_open && !removed_at_current) PutVarint(out, ZigZag(row.removed_at - row.from_seq));
    PutString(out, row.json);
  }
}

Result<PersonRecord> DecodeRecord(std::string_view data) {
  PersonRecord record;
  Status s = ParseEncoded(
      data, [&](std::string_view fnr) { record.fnr.assign(fnr); },
      [&](size_t n) { record.other_ids.reserve(n); },
      [&](std::string_view id) { record.other_ids.emplace_back(id); },
      [&](size_t n) { record.rows.reserve(n); },
      [&](const RowView& v) {
        Row& row = record.rows.emplace_back();
        row.property = v.property;
        row.from_seq = v.from_seq;
        row.current_until = v.current_until;
        row.removed_at = v.removed_at;
        row.json.assign(v.json);
      });
  if (!s.ok()) return s.error();
  return record;
}

Status RecordView::Parse(std::string_view data) {
  fnr_ = {};
  other_ids_.clear();
  rows_.clear();
  Status s = ParseEncoded(
      data, [&](std::string_view fnr) { fnr_ = fnr; }, [&](size_t n) { other_ids_.reserve(n); },
      [&](std::string_view id) { other_ids_.push_back(id); }, [&](size_t n) { rows_.reserve(n); },
      [&](const RowView& row) { rows_.push_back(row); });
  if (!s.ok()) {
    fnr_ = {};
    other_ids_.clear();
    rows_.clear();
  }
  return s;
}

}  // namespace norreg::freg
