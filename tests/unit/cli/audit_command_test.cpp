#include "cli/audit_command.hpp"

#include <gtest/gtest.h>

#include "common/time.hpp"

namespace norreg::cli {
namespace {

TEST(AuditCommandTest, ParsesOrgArgument) {
  struct Case {
    const char* in;
    std::optional<std::string> out;
  };
  for (const Case& c : std::vector<Case>{{"923609016", "923609016"},
                                         {"0192:923609016", "923609016"},
                                         {"92360901", std::nullopt},
                                         {"9236090167", std::nullopt},
                                         {"0192:92360901x", std::nullopt},
                                         {"0193:923609016", std::nullopt},
                                         {"", std::nullopt}}) {
    EXPECT_EQ(ParseOrgArgument(c.in), c.out) << c.in;
  }
}

TEST(AuditCommandTest, ParsesTimes) {
  struct Case {
    const char* in;
    bool end_of_day;
    std::optional<int64_t> out;
  };
  // 2024-01-15 00:00 Oslo = 2024-01-14T23:00Z (winter); 2024-07-01 00:00 Oslo = 06-30T22:00Z.
  const int64_t jan15 = *timefmt::ParseDateTime("2024-01-14T23:00:00Z");
  const int64_t jan16 = *timefmt::ParseDateTime("2024-01-15T23:00:00Z");
  const int64_t jul1 = *timefmt::ParseDateTime("2024-06-30T22:00:00Z");
  for (const Case& c : std::vector<Case>{
           {"2024-01-15", false, jan15},
           {"2024-01-15", true, jan16 - 1},
           {"2024-07-01", false, jul1},
           {"2024-01-15T00:00:00+01:00", false, jan15},
           {"2024-01-15T00:00:00+01:00", true, jan15},
           {"2024-01-14T23:00:00.000Z", false, jan15},
           {"2024-01-15T00:00:00", false, jan15},
           {"2024-01-15T00:00:00.5", false, jan15 + 500},
           {"2024-02-30", false, std::nullopt},
           {"15.01.2024", false, std::nullopt},
           {"", false, std::nullopt},
       }) {
    EXPECT_EQ(ParseAuditTime(c.in, c.end_of_day), c.out) << c.in << " " << c.end_of_day;
  }
}

std::vector<store::Disclosure> Sample() {
  store::Disclosure a;
  a.time_ms = *timefmt::ParseDateTime("2024-01-15T11:30:00.250Z");
  a.consumer_orgnr = "0192:910000001";
  a.client_id = "klient-æ";
  a.endpoint = "freg.person";
  a.request_id = "r1";
  a.identifiers = {"12345678901"};
  store::Disclosure b;
  b.time_ms = *timefmt::ParseDateTime("2024-07-01T08:00:00Z");
  b.consumer_orgnr = "910000002";
  b.client_id = "c";
  b.supplier_orgnr = "910000009";
  b.endpoint = "freg.bulkoppslag";
  b.request_id = "r\"2";
  b.identifiers = {"12345678901", "10987654321"};
  return {b, a};
}

TEST(AuditCommandTest, FormatsTable) {
  EXPECT_EQ(FormatAuditTable(Sample(), false),
            "tidspunkt                org             klient    leverandør  endepunkt         "
            "antall\n"
            "2024-07-01 10:00:00.000  910000002       c         910000009   freg.bulkoppslag  2\n"
            "2024-01-15 12:30:00.250  0192:910000001  klient-æ  -           freg.person       1\n");
  auto with_person = Sample();
  for (auto& d : with_person) d.identifiers = {"12345678901"};
  const std::string table = FormatAuditTable(with_person, true);
  EXPECT_NE(table.find("antall  person\n"), std::string::npos) << table;
  EXPECT_NE(table.find("freg.bulkoppslag  1       12345678901\n"), std::string::npos) << table;
  EXPECT_EQ(FormatAuditTable({}, false), "tidspunkt  org  klient  leverandør  endepunkt  antall\n");
}

TEST(AuditCommandTest, FormatsNdjson) {
  EXPECT_EQ(FormatAuditNdjson(Sample()),
            R"({"time":"2024-07-01T10:00:00.000+02:00","time_ms":1719820800000,"org":"910000002",)"
            R"("client":"c","supplier":"910000009","endpoint":"freg.bulkoppslag",)"
            R"("request_id":"r\"2","identifiers":["12345678901","10987654321"]})"
            "\n"
            R"({"time":"2024-01-15T12:30:00.250+01:00","time_ms":1705318200250,)"
            R"("org":"0192:910000001","client":"klient-æ","supplier":"","endpoint":"freg.person",)"
            R"("request_id":"r1","identifiers":["12345678901"]})"
            "\n");
}

}  // namespace
}  // namespace norreg::cli
