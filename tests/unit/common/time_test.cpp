#include "common/time.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace norreg::timefmt {
namespace {

struct Instant {
  EpochMs ms;
  const char* oslo;
};

// Expected values computed with the IANA tz database (Python zoneinfo, Europe/Oslo).
constexpr Instant kInstants[] = {
    {1647265288711LL, "2022-03-14T14:41:28.711+01:00"},  // winter (SPEC example)
    {1497943563689LL, "2017-06-20T09:26:03.689+02:00"},  // summer (SPEC example)
    {1648342799999LL, "2022-03-27T01:59:59.999+01:00"},  // last ms before spring forward
    {1648342800000LL, "2022-03-27T03:00:00.000+02:00"},  // spring forward at 01:00 UTC
    {1667091599999LL, "2022-10-30T02:59:59.999+02:00"},  // last ms of summer time
    {1667091600000LL, "2022-10-30T02:00:00.000+01:00"},  // fall back at 01:00 UTC
    {1709208000005LL, "2024-02-29T13:00:00.005+01:00"},  // leap day, ms padding
    {1704065400050LL, "2024-01-01T00:30:00.050+01:00"},  // UTC year ends before Oslo's
    {951865200000LL, "2000-03-01T00:00:00.000+01:00"},   // after 29 Feb 2000
    {796179600000LL, "1995-03-26T03:00:00.000+02:00"},
    {2140045199000LL, "2037-10-25T02:59:59.000+02:00"},
    {0LL, "1970-01-01T01:00:00.000+01:00"},
    {-1LL, "1970-01-01T00:59:59.999+01:00"},  // before the epoch: floor, not truncation
    {1720308086071LL, "2024-07-07T01:21:26.071+02:00"},
    {957951757392LL, "2000-05-10T11:42:37.392+02:00"},
    {1060536825899LL, "2003-08-10T19:33:45.899+02:00"},
    {2133547676152LL, "2037-08-10T22:07:56.152+02:00"},
    {1322407655157LL, "2011-11-27T16:27:35.157+01:00"},
    {1041216403672LL, "2002-12-30T03:46:43.672+01:00"},
    {1773062295386LL, "2026-03-09T14:18:15.386+01:00"},
    {1380657804175LL, "2013-10-01T22:03:24.175+02:00"},
    {2063647186905LL, "2035-05-24T21:19:46.905+02:00"},
    {982749114918LL, "2001-02-21T10:51:54.918+01:00"},
    {2096873651375LL, "2036-06-12T10:54:11.375+02:00"},
    {2134671859381LL, "2037-08-23T22:24:19.381+02:00"},
    {989291165097LL, "2001-05-08T05:06:05.097+02:00"},
    {2138750659791LL, "2037-10-10T03:24:19.791+02:00"},
    {961154712084LL, "2000-06-16T13:25:12.084+02:00"},
    {1341601088204LL, "2012-07-06T20:58:08.204+02:00"},
};

TEST(TimeTest, FormatsKnownInstants) {
  for (const Instant& i : kInstants) {
    EXPECT_EQ(FormatOslo(i.ms), i.oslo) << i.ms;
    std::string out = "x";
    AppendOslo(out, i.ms);
    EXPECT_EQ(out, std::string("x") + i.oslo);
    EXPECT_EQ(FormatOsloLocal(i.ms), std::string(i.oslo).substr(0, 23));
    EXPECT_EQ(OsloOffsetSeconds(i.ms), std::string(i.oslo).substr(23) == "+02:00" ? 7200 : 3600);
  }
}

TEST(TimeTest, ParsesKnownInstants) {
  for (const Instant& i : kInstants) EXPECT_EQ(ParseDateTime(i.oslo), i.ms) << i.oslo;
}

TEST(TimeTest, TransitionsAreLastSundaysAtOneUtc) {
  for (int year = 1980; year <= 2100; ++year) {
    int transitions = 0;
    for (int64_t day = DaysFromCivil(year, 1, 1); day < DaysFromCivil(year + 1, 1, 1); ++day) {
      const EpochMs at = (day * 86400 + 3600) * 1000;
      if (OsloOffsetSeconds(at - 1) == OsloOffsetSeconds(at)) continue;
      ++transitions;
      int y = 0;
      int m = 0;
      int d = 0;
      CivilFromDays(day, y, m, d);
      EXPECT_TRUE(m == 3 || m == 10) << year;
      EXPECT_EQ((day + 4) % 7, 0) << year << "-" << m << "-" << d << " is not a Sunday";
      EXPECT_GT(d + 7, 31) << "not the last Sunday";
      EXPECT_EQ(OsloOffsetSeconds(at), m == 3 ? 7200 : 3600);
    }
    EXPECT_EQ(transitions, 2) << year;
  }
}

TEST(TimeTest, RoundTripsRandomInstants) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<EpochMs> dist(-2208988800000LL, 4102444800000LL);  // 1900..2100
  for (int i = 0; i < 20000; ++i) {
    const EpochMs ms = dist(rng);
    const std::string s = FormatOslo(ms);
    ASSERT_EQ(s.size(), 29u) << s;
    ASSERT_EQ(ParseDateTime(s), ms) << s;
    const std::string local = FormatOsloLocal(ms);
    const auto back = ParseOsloLocal(local);
    ASSERT_TRUE(back) << local;
    // Only the repeated autumn hour is ambiguous: then the summer-time reading is chosen.
    if (*back != ms) {
      EXPECT_EQ(*back, ms - 3600000) << local;
      EXPECT_EQ(OsloOffsetSeconds(*back), 7200);
      EXPECT_EQ(OsloOffsetSeconds(ms), 3600);
    }
  }
}

TEST(TimeTest, ParsesRfc3339Variants) {
  const EpochMs base = 1647265288000LL;  // 2022-03-14T13:41:28Z
  EXPECT_EQ(ParseDateTime("2022-03-14T13:41:28Z"), base);
  EXPECT_EQ(ParseDateTime("2022-03-14t13:41:28z"), base);
  EXPECT_EQ(ParseDateTime("2022-03-14 13:41:28Z"), base);
  EXPECT_EQ(ParseDateTime("2022-03-14T13:41:28+00:00"), base);
  EXPECT_EQ(ParseDateTime("2022-03-14T13:41:28-00:00"), base);
  EXPECT_EQ(ParseDateTime("2022-03-14T08:11:28-05:30"), base);
  EXPECT_EQ(ParseDateTime("2022-03-14T13:41:28.7Z"), base + 700);
  EXPECT_EQ(ParseDateTime("2022-03-14T13:41:28.71Z"), base + 710);
  EXPECT_EQ(ParseDateTime("2022-03-14T13:41:28.711Z"), base + 711);
  EXPECT_EQ(ParseDateTime("2022-03-14T13:41:28.711999999Z"), base + 711);  // truncated
  EXPECT_EQ(ParseDateTime("2024-02-29T00:00:00Z"), 1709164800000LL);
}

TEST(TimeTest, RejectsMalformedDateTimes) {
  for (const char* bad : {"",
                          "2022-03-14",
                          "2022-03-14T13:41:28",
                          "2022-03-14T13:41Z",
                          "2022-03-14T13:41:28.Z",
                          "2022-03-14T13:41:28+0100",
                          "2022-03-14T13:41:28+01",
                          "2022-03-14T13:41:28+01:00x",
                          "2022-03-14T24:00:00Z",
                          "2022-03-14T13:60:00Z",
                          "2022-03-14T13:41:60Z",
                          "2022-13-14T13:41:28Z",
                          "2022-02-29T13:41:28Z",
                          "2023-04-31T00:00:00Z",
                          "2022-03-14X13:41:28Z",
                          "2022/03/14T13:41:28Z",
                          "22-03-14T13:41:28Z",
                          "2022-03-14T13:41:28+24:00",
                          "2022-03-14T13:41:28Zjunk",
                          "2022-03-14T1a:41:28Z"}) {
    EXPECT_FALSE(ParseDateTime(bad)) << bad;
  }
}

TEST(TimeTest, ParsesOsloLocal) {
  EXPECT_EQ(ParseOsloLocal("2022-03-14T14:41:28.711"), 1647265288711LL);
  EXPECT_EQ(ParseOsloLocal("2017-06-20T09:26:03.689"), 1497943563689LL);
  EXPECT_EQ(ParseOsloLocal("2017-06-20T09:26:03"), 1497943563000LL);
  // Spring gap: 02:30 does not exist; read with the winter offset (= 03:30 summer time).
  EXPECT_EQ(ParseOsloLocal("2022-03-27T02:30:00"), 1648342800000LL + 1800000);
  // Autumn: 02:30 occurs twice; the earlier (summer) instant is chosen.
  EXPECT_EQ(ParseOsloLocal("2022-10-30T02:30:00"), 1667091600000LL - 1800000);
  EXPECT_FALSE(ParseOsloLocal("2022-03-14T14:41:28.711+01:00"));
  EXPECT_FALSE(ParseOsloLocal("2022-03-14"));
}

TEST(TimeTest, Dates) {
  EXPECT_TRUE(IsValidDate("2024-02-29"));
  EXPECT_TRUE(IsValidDate("2000-02-29"));
  EXPECT_FALSE(IsValidDate("1900-02-29"));
  EXPECT_FALSE(IsValidDate("2023-02-29"));
  EXPECT_FALSE(IsValidDate("2023-00-10"));
  EXPECT_FALSE(IsValidDate("2023-01-00"));
  EXPECT_FALSE(IsValidDate("2023-1-10"));
  EXPECT_FALSE(IsValidDate("2023-01-10T"));
  EXPECT_FALSE(IsValidDate(""));
  EXPECT_EQ(ParseDate("1970-01-01"), 0);
  EXPECT_EQ(ParseDate("2024-02-29"), 19782);
  EXPECT_EQ(ParseDate("1969-12-31"), -1);

  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_FALSE(IsLeapYear(1900));
  EXPECT_FALSE(IsLeapYear(2023));
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(2023, 2), 28);
  EXPECT_EQ(DaysInMonth(2023, 4), 30);
  EXPECT_EQ(DaysInMonth(2023, 12), 31);
  EXPECT_EQ(DaysInMonth(2023, 13), 0);

  EXPECT_EQ(FormatDate(2022, 3, 14), "2022-03-14");
  EXPECT_EQ(FormatDate(854, 1, 2), "0854-01-02");
}

TEST(TimeTest, CivilDaysRoundTrip) {
  for (int64_t day = -800000; day <= 800000; day += 37) {
    int y = 0;
    int m = 0;
    int d = 0;
    CivilFromDays(day, y, m, d);
    ASSERT_GE(m, 1);
    ASSERT_LE(m, 12);
    ASSERT_GE(d, 1);
    ASSERT_LE(d, DaysInMonth(y, m));
    ASSERT_EQ(DaysFromCivil(y, m, d), day);
  }
}

TEST(TimeTest, ExtremeInstantsDoNotCrash) {
  for (EpochMs ms :
       {INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1, EpochMs{-62167219200000}}) {
    const std::string s = FormatOslo(ms);
    EXPECT_FALSE(s.empty());
  }
  EXPECT_EQ(FormatOslo(-62167219200000LL), "0000-01-01T01:00:00.000+01:00");
}

TEST(TimeTest, NowIsRecent) { EXPECT_GT(NowMs(), 1700000000000LL); }

}  // namespace
}  // namespace norreg::timefmt
