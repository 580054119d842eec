#pragma once
// Time formats used on the wire. Norwegian local time (Europe/Oslo) with the offset that applied
// at that instant (+01:00 winter, +02:00 summer, EU rules), e.g. `2022-03-14T14:41:28.711+01:00`.
//
// The Oslo offset is computed arithmetically from the current EU rule (summer time from the last
// Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC), applied to every year: no tz
// database, no locale, no global state. All functions are pure and thread-safe (NowMs reads the
// clock). Formatting assumes years 0000–9999; other years are written with more digits or a sign.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace norreg::timefmt {

// Milliseconds since the Unix epoch, UTC.
using EpochMs = int64_t;

EpochMs NowMs();

// The Oslo UTC offset at instant `ms`, in seconds: 3600 (winter) or 7200 (summer).
int OsloOffsetSeconds(EpochMs ms);

// `2022-03-14T14:41:28.711+01:00` — Oslo local time with its offset, milliseconds always shown.
std::string FormatOslo(EpochMs ms);
// Appends the same to `out` without allocating a temporary (hot paths).
void AppendOslo(std::string& out, EpochMs ms);
// `2019-09-05T09:43:51.691` — Oslo local time without offset (Brreg mottak style).
std::string FormatOsloLocal(EpochMs ms);
void AppendOsloLocal(std::string& out, EpochMs ms);
// `2022-03-14` from a civil date.
std::string FormatDate(int year, int month, int day);

// Parses RFC 3339 date-time with offset (`Z` or ±HH:MM; fraction optional, truncated to
// milliseconds; `T`/`t`/space as separator). nullopt if invalid (leap second 60 included).
std::optional<EpochMs> ParseDateTime(std::string_view s);
// Parses an Oslo local date-time without offset (`2019-09-05T09:43:51.691`, fraction optional).
// In the autumn hour that occurs twice the earlier (summer-time) instant is chosen; a time in the
// spring gap is read with the winter offset. nullopt if invalid.
std::optional<EpochMs> ParseOsloLocal(std::string_view s);
// Parses `YYYY-MM-DD` (a real date) into days since 1970-01-01; nullopt if invalid.
std::optional<int64_t> ParseDate(std::string_view s);
// Validates `YYYY-MM-DD` as a real calendar date.
bool IsValidDate(std::string_view s);
bool IsLeapYear(int year);
// Days in `month` (1..12) of `year`; 0 for a month outside 1..12.
int DaysInMonth(int year, int month);
// Days since 1970-01-01 for a civil date, and back (Howard Hinnant's algorithms).
int64_t DaysFromCivil(int year, int month, int day);
void CivilFromDays(int64_t days, int& year, int& month, int& day);

}  // namespace norreg::timefmt
