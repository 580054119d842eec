#include "freg/record_codec.hpp"

#include <gtest/gtest.h>

#include <string>

namespace norreg::freg {
namespace {

Row MakeRow(Property p, uint64_t from, uint64_t current_until, uint64_t removed_at,
            std::string json) {
  Row r;
  r.property = p;
  r.from_seq = from;
  r.current_until = current_until;
  r.removed_at = removed_at;
  r.json = std::move(json);
  return r;
}

PersonRecord SampleRecord() {
  PersonRecord rec;
  rec.fnr = "01818012345";
  rec.other_ids = {"41818012399", "01818012000"};
  rec.rows = {
      MakeRow(Property::kIdentifikasjonsnummer, 100, kOpen, kOpen,
              R"({"ajourholdstidspunkt":"2017-06-20T09:26:03.689+02:00","status":"iBruk"})"),
      MakeRow(Property::kStatus, 250, kOpen, kOpen, R"({"status":"bosatt"})"),
      MakeRow(Property::kStatus, 100, 250, kOpen, R"({"status":"foedselsregistrert"})"),
      MakeRow(Property::kBostedsadresse, 300, 310, 310, R"({"vegadresse":{}})"),  // korrigert
      MakeRow(Property::kNavn, 7, kOpen, 9, R"({"fornavn":"ÅSE \"Q\""})"),        // annullert
      MakeRow(Property::kBrukAvSamiskSpraak, 0, 0, 0, ""),                        // extremes
      MakeRow(Property::kNavn, kOpen - 1, kOpen - 1, 5, "{}"),
      MakeRow(Property::kFalskIdentitet, 1ULL << 63, 1, kOpen - 1, "{}"),
  };
  return rec;
}

void ExpectSame(const PersonRecord& a, const PersonRecord& b) {
  EXPECT_EQ(a.fnr, b.fnr);
  EXPECT_EQ(a.other_ids, b.other_ids);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i) {
    EXPECT_EQ(a.rows[i].property, b.rows[i].property) << i;
    EXPECT_EQ(a.rows[i].from_seq, b.rows[i].from_seq) << i;
    EXPECT_EQ(a.rows[i].current_until, b.rows[i].current_until) << i;
    EXPECT_EQ(a.rows[i].removed_at, b.rows[i].removed_at) << i;
    EXPECT_EQ(a.rows[i].json, b.rows[i].json) << i;
  }
}

TEST(RecordCodecTest, RoundTripsEveryField) {
  const PersonRecord rec = SampleRecord();
  std::string enc = "prefix";
  EncodeRecord(rec, enc);
  ASSERT_EQ(enc.substr(0, 6), "prefix");  // appends
  auto dec = DecodeRecord(std::string_view(enc).substr(6));
  ASSERT_TRUE(dec.ok()) << dec.error().message;
  ExpectSame(rec, *dec);

  std::string again;
  EncodeRecord(*dec, again);
  EXPECT_EQ(again, enc.substr(6));  // canonical
}

TEST(RecordCodecTest, EmptyRecordRoundTrips) {
  std::string enc;
  EncodeRecord(PersonRecord{}, enc);
  EXPECT_EQ(enc, std::string("\x01\x00\x00\x00", 4));
  auto dec = DecodeRecord(enc);
  ASSERT_TRUE(dec.ok());
  EXPECT_TRUE(dec->fnr.empty());
  EXPECT_TRUE(dec->rows.empty());
}

TEST(RecordCodecTest, IsCompact) {
  PersonRecord rec;
  rec.fnr = "01818012345";
  rec.rows.push_back(MakeRow(Property::kNavn, 40000000, kOpen, kOpen, "{}"));
  rec.rows.push_back(MakeRow(Property::kNavn, 39999990, 40000000, kOpen, "{}"));
  std::string enc;
  EncodeRecord(rec, enc);
  // version + fnr(12) + ids(1) + count(1) + row1 (1 flag + 4 seq + 3 json) + row2 (1 + 1 + 1 + 3)
  EXPECT_EQ(enc.size(), 1u + 12 + 1 + 1 + 8 + 6);
}

TEST(RecordCodecTest, ViewMatchesDecode) {
  const PersonRecord rec = SampleRecord();
  std::string enc;
  EncodeRecord(rec, enc);
  RecordView view;
  ASSERT_TRUE(view.Parse(enc).ok());
  EXPECT_EQ(view.fnr(), rec.fnr);
  ASSERT_EQ(view.other_ids().size(), 2u);
  EXPECT_EQ(view.other_ids()[1], "01818012000");
  ASSERT_EQ(view.rows().size(), rec.rows.size());
  for (size_t i = 0; i < rec.rows.size(); ++i) {
    const RowView& v = view.rows()[i];
    EXPECT_EQ(v.property, rec.rows[i].property);
    EXPECT_EQ(v.from_seq, rec.rows[i].from_seq);
    EXPECT_EQ(v.current_until, rec.rows[i].current_until);
    EXPECT_EQ(v.removed_at, rec.rows[i].removed_at);
    EXPECT_EQ(v.json, rec.rows[i].json);
    // Zero-copy: the json views point into the encoded buffer.
    if (!v.json.empty()) {
      EXPECT_GE(v.json.data(), enc.data());
      EXPECT_LE(v.json.data() + v.json.size(), enc.data() + enc.size());
    }
  }
  EXPECT_TRUE(view.rows()[0].PresentAt(100));
  EXPECT_FALSE(view.rows()[0].PresentAt(99));
  EXPECT_FALSE(view.rows()[2].CurrentAt(250));
  EXPECT_TRUE(view.rows()[2].CurrentAt(249));

  // Reuse: a failed parse leaves the view empty.
  EXPECT_FALSE(view.Parse("\x02").ok());
  EXPECT_TRUE(view.rows().empty());
  EXPECT_TRUE(view.fnr().empty());
}

TEST(RecordCodecTest, EveryTruncationIsRejected) {
  std::string enc;
  EncodeRecord(SampleRecord(), enc);
  RecordView view;
  for (size_t n = 0; n < enc.size(); ++n) {
    // Copy into an exact-size buffer so ASan catches any read past the end.
    const std::string cut = enc.substr(0, n);
    auto dec = DecodeRecord(cut);
    EXPECT_FALSE(dec.ok()) << "length " << n;
    if (!dec.ok()) {
      EXPECT_EQ(dec.error().code, ErrorCode::kInternal);
    }
    EXPECT_FALSE(view.Parse(cut).ok()) << "length " << n;
  }
}

TEST(RecordCodecTest, CorruptInputIsRejected) {
  std::string enc;
  EncodeRecord(SampleRecord(), enc);
  struct Case {
    const char* name;
    std::string bytes;
  };
  const std::vector<Case> cases = {
      {"empty", ""},
      {"unknown version", std::string("\x03\x00\x00\x00", 4)},
      {"version 2 without an extended row", std::string("\x02\x00\x00\x01\x60\x02\x02{}", 9)},
      {"extended property in version 1", std::string("\x01\x00\x00\x01\x7f\x00\x02\x02{}", 10)},
      {"extended property out of range", std::string("\x02\x00\x00\x01\x7f\x02\x02\x02{}", 10)},
      {"extended property byte missing", std::string("\x02\x00\x00\x01\x7f", 5)},
      {"trailing byte", enc + "x"},
      {"id count too large", std::string("\x01\x00\xff\xff\xff\xff\x0f", 7)},
      {"row count too large", std::string("\x01\x00\x00\x7f", 4)},
      {"property 31", std::string("\x01\x00\x00\x01\x1f\x00\x00\x00\x00", 9)},
      {"flags bit7 with open", std::string("\x01\x00\x00\x01\xe0\x00\x00", 7)},
      {"overlong varint", std::string("\x01\x80\x00\x00\x00", 5)},
      {"varint over 64 bits",
       std::string("\x01\x00\x00\x01\x60\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02\x00", 16)},
      {"varint never ends",
       std::string("\x01\x00\x00\x01\x60\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16)},
      {"json length past end", std::string("\x01\x00\x00\x01\x60\x02\x05{}", 9)},
      {"removed equals current without flag",
       std::string("\x01\x00\x00\x01\x00\x02\x04\x04\x00", 9)},
  };
  for (const Case& c : cases) {
    auto dec = DecodeRecord(c.bytes);
    EXPECT_FALSE(dec.ok()) << c.name;
    RecordView view;
    EXPECT_FALSE(view.Parse(c.bytes).ok()) << c.name;
  }
  // Sanity: the smallest valid one-row record decodes.
  auto ok = DecodeRecord(std::string("\x01\x00\x00\x01\x60\x02\x02{}", 9));
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->rows[0].from_seq, 1u);
  EXPECT_EQ(ok->rows[0].property, Property::kFalskIdentitet);
}

// Records written before the legal-capacity properties existed (format version 1, the property in
// 5 bits) still decode, and re-encode to the very same bytes.
TEST(RecordCodecTest, OldFormatRecordDecodes) {
  // Version 1, fnr "01818012345", no other ids, two rows: identifikasjonsnummer (1) open from 5,
  // navn (25) from 3, history from 5.
  const std::string v1 = std::string(
                             "\x01\x0b"
                             "01818012345"
                             "\x00\x02",
                             15) +
                         std::string("\x61\x0a\x02{}", 5) +
                         std::string("\x59\x03\x04\x09{\"a\":\"b\"}", 13);
  auto dec = DecodeRecord(v1);
  ASSERT_TRUE(dec.ok()) << dec.error().message;
  EXPECT_EQ(dec->fnr, "01818012345");
  ASSERT_EQ(dec->rows.size(), 2u);
  EXPECT_EQ(dec->rows[0].property, Property::kIdentifikasjonsnummer);
  EXPECT_EQ(dec->rows[0].from_seq, 5u);
  EXPECT_EQ(dec->rows[0].current_until, kOpen);
  EXPECT_EQ(dec->rows[1].property, Property::kNavn);
  EXPECT_EQ(dec->rows[1].from_seq, 3u);
  EXPECT_EQ(dec->rows[1].current_until, 5u);
  EXPECT_EQ(dec->rows[1].removed_at, kOpen);
  EXPECT_EQ(dec->rows[1].json, R"({"a":"b"})");
  std::string again;
  EncodeRecord(*dec, again);
  EXPECT_EQ(again, v1);  // without new properties the encoder keeps writing version 1
  RecordView view;
  ASSERT_TRUE(view.Parse(v1).ok());
  EXPECT_EQ(view.rows()[1].property, Property::kNavn);
}

TEST(RecordCodecTest, NewPropertiesUseVersion2) {
  PersonRecord rec = SampleRecord();
  rec.rows.push_back(
      MakeRow(Property::kBegrensningIRettsligHandleevne, 40, kOpen, kOpen, R"({"kilde":"x"})"));
  rec.rows.push_back(MakeRow(Property::kFratattRettsligHandleevne, 30, 40, kOpen, "{}"));
  std::string enc;
  EncodeRecord(rec, enc);
  EXPECT_EQ(static_cast<uint8_t>(enc[0]), kRecordFormatVersion);
  auto dec = DecodeRecord(enc);
  ASSERT_TRUE(dec.ok()) << dec.error().message;
  ExpectSame(rec, *dec);
  std::string again;
  EncodeRecord(*dec, again);
  EXPECT_EQ(again, enc);
  RecordView view;
  ASSERT_TRUE(view.Parse(enc).ok());
  EXPECT_EQ(view.rows()[view.rows().size() - 1].property, Property::kFratattRettsligHandleevne);
  // Old properties cost no extra byte in version 2: only the two new rows grew by one.
  PersonRecord old = SampleRecord();
  std::string old_enc;
  EncodeRecord(old, old_enc);
  EXPECT_EQ(static_cast<uint8_t>(old_enc[0]), kRecordFormatVersionBasic);
}

TEST(RecordCodecTest, BitFlipsNeverCrash) {
  std::string enc;
  EncodeRecord(SampleRecord(), enc);
  RecordView view;
  for (size_t i = 0; i < enc.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = enc;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      auto dec = DecodeRecord(bad);
      const bool view_ok = view.Parse(bad).ok();
      EXPECT_EQ(dec.ok(), view_ok) << i << ":" << bit;
      if (dec.ok()) {  // a flip inside json text or a seq is undetectable; the result is consistent
        std::string re;
        EncodeRecord(*dec, re);
        EXPECT_EQ(re, bad) << i << ":" << bit;
      }
    }
  }
}

}  // namespace
}  // namespace norreg::freg
