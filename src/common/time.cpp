#include "common/time.hpp"

#include <charconv>
#include <chrono>

namespace norreg::timefmt {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Weekday of a day count since 1970-01-01 (a Thursday); 0 = Sunday.
int Weekday(int64_t days) {
  const int64_t r = (days + 4) % 7;
  return static_cast<int>(r < 0 ? r + 7 : r);
}

// Oslo wall-clock time of an instant.
struct OsloTime {
  int year = 0;
  int month = 0;
  int day = 0;
  int sod = 0;     // seconds of the day
  int offset = 0;  // 3600 or 7200
};

// The EU rule expressed in winter (UTC+1) wall time: summer time runs from the last Sunday of
// March 02:00 to the last Sunday of October 02:00. Working in winter wall time needs one civil
// conversion per call (the hot path), where computing the two transition instants needs three.
OsloTime ToOslo(int64_t utc_secs) {
  const int64_t winter = utc_secs + 3600;
  int64_t days = FloorDiv(winter, kSecondsPerDay);
  OsloTime t;
  t.sod = static_cast<int>(winter - days * kSecondsPerDay);
  CivilFromDays(days, t.year, t.month, t.day);
  bool summer = t.month > 3 && t.month < 10;
  if (t.month == 3 || t.month == 10) {
    const int wd = Weekday(days);
    // The latest Sunday on or before today is the month's last Sunday iff it falls on the 25th
    // or later (31 - 7 < 25).
    const bool after_last_sunday = t.day - wd >= 25;
    const bool switched = after_last_sunday && (wd != 0 || t.sod >= 7200);
    summer = t.month == 3 ? switched : !switched;
  }
  t.offset = 3600;
  if (summer) {
    t.offset = 7200;
    t.sod += 3600;
    if (t.sod >= kSecondsPerDay) {  // 23:xx winter time is 00:xx the next day
      t.sod -= static_cast<int>(kSecondsPerDay);
      CivilFromDays(days + 1, t.year, t.month, t.day);
    }
  }
  return t;
}

void Put2(char* p, int v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

void AppendOsloImpl(std::string& out, EpochMs ms, bool with_offset) {
  const int64_t secs = FloorDiv(ms, kMsPerSecond);
  const int64_t rem = ms % kMsPerSecond;  // not ms - secs * 1000: that overflows near INT64_MIN
  const int millis = static_cast<int>(rem < 0 ? rem + kMsPerSecond : rem);
  const OsloTime t = ToOslo(secs);

  // Built on the stack and appended once: a single capacity check, no zero-fill.
  char buf[48];
  char* p = buf;
  if (t.year >= 0 && t.year <= 9999) {
    Put2(p, t.year / 100);
    Put2(p + 2, t.year % 100);
    p += 4;
  } else {
    p = std::to_chars(p, p + 16, t.year).ptr;
  }
  p[0] = '-';
  Put2(p + 1, t.month);
  p[3] = '-';
  Put2(p + 4, t.day);
  p[6] = 'T';
  Put2(p + 7, t.sod / 3600);
  p[9] = ':';
  Put2(p + 10, t.sod / 60 % 60);
  p[12] = ':';
  Put2(p + 13, t.sod % 60);
  p[15] = '.';
  p[16] = static_cast<char>('0' + millis / 100);
  Put2(p + 17, millis % 100);
  p += 19;
  if (with_offset) {
    p[0] = '+';
    Put2(p + 1, t.offset / 3600);
    p[3] = ':';
    p[4] = '0';
    p[5] = '0';
    p += 6;
  }
  out.append(buf, p);
}

bool Digits(std::string_view s, size_t pos, size_t n, int& value) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    const char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  value = v;
  return true;
}

// `YYYY-MM-DD` at the start of `s`; fills the date, returns false if malformed or not real.
bool ParseDatePart(std::string_view s, int& year, int& month, int& day) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!Digits(s, 0, 4, year) || !Digits(s, 5, 2, month) || !Digits(s, 8, 2, day)) return false;
  return month >= 1 && month <= 12 && day >= 1 && day <= DaysInMonth(year, month);
}

// Parses `YYYY-MM-DDTHH:MM:SS[.fff…]` into wall-clock ms (as if UTC); `pos` is left after it.
bool ParseWallClock(std::string_view s, int64_t& wall_ms, size_t& pos) {
  int year = 0;
  int month = 0;
  int day = 0;
  if (!ParseDatePart(s, year, month, day)) return false;
  if (s.size() < 19) return false;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return false;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!Digits(s, 11, 2, hour) || s[13] != ':' || !Digits(s, 14, 2, minute) || s[16] != ':' ||
      !Digits(s, 17, 2, second)) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 59) return false;
  pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t first = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - first < 3) millis = millis * 10 + (s[pos] - '0');
      ++pos;
    }
    const size_t n = pos - first;
    if (n == 0) return false;
    for (size_t i = n; i < 3; ++i) millis *= 10;
  }
  wall_ms =
      ((DaysFromCivil(year, month, day) * kSecondsPerDay) + hour * 3600 + minute * 60 + second) *
          kMsPerSecond +
      millis;
  return true;
}

}  // namespace

EpochMs NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int OsloOffsetSeconds(EpochMs ms) { return ToOslo(FloorDiv(ms, kMsPerSecond)).offset; }

std::string FormatOslo(EpochMs ms) {
  std::string out;
  out.reserve(29);
  AppendOsloImpl(out, ms, true);
  return out;
}

void AppendOslo(std::string& out, EpochMs ms) { AppendOsloImpl(out, ms, true); }

std::string FormatOsloLocal(EpochMs ms) {
  std::string out;
  out.reserve(23);
  AppendOsloImpl(out, ms, false);
  return out;
}

void AppendOsloLocal(std::string& out, EpochMs ms) { AppendOsloImpl(out, ms, false); }

std::string FormatDate(int year, int month, int day) {
  std::string out;
  if (year >= 0 && year <= 9999) {
    out.resize(4);
    Put2(out.data(), year / 100);
    Put2(out.data() + 2, year % 100);
  } else {
    out = std::to_string(year);
  }
  const size_t at = out.size();
  out.resize(at + 6);
  out[at] = '-';
  Put2(out.data() + at + 1, month % 100);
  out[at + 3] = '-';
  Put2(out.data() + at + 4, day % 100);
  return out;
}

std::optional<EpochMs> ParseDateTime(std::string_view s) {
  int64_t wall_ms = 0;
  size_t pos = 0;
  if (!ParseWallClock(s, wall_ms, pos)) return std::nullopt;
  if (pos >= s.size()) return std::nullopt;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    return pos + 1 == s.size() ? std::optional<EpochMs>(wall_ms) : std::nullopt;
  }
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  const bool negative = s[pos] == '-';
  int oh = 0;
  int om = 0;
  if (s.size() != pos + 6 || !Digits(s, pos + 1, 2, oh) || s[pos + 3] != ':' ||
      !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
    return std::nullopt;
  }
  const int64_t offset_ms = (oh * 3600 + om * 60) * kMsPerSecond;
  return negative ? wall_ms + offset_ms : wall_ms - offset_ms;
}

std::optional<EpochMs> ParseOsloLocal(std::string_view s) {
  int64_t wall_ms = 0;
  size_t pos = 0;
  if (!ParseWallClock(s, wall_ms, pos) || pos != s.size()) return std::nullopt;
  const EpochMs summer = wall_ms - 7200 * kMsPerSecond;
  if (OsloOffsetSeconds(summer) == 7200) return summer;
  return wall_ms - 3600 * kMsPerSecond;
}

std::optional<int64_t> ParseDate(std::string_view s) {
  int year = 0;
  int month = 0;
  int day = 0;
  if (s.size() != 10 || !ParseDatePart(s, year, month, day)) return std::nullopt;
  return DaysFromCivil(year, month, day);
}

bool IsValidDate(std::string_view s) { return ParseDate(s).has_value(); }

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

int64_t DaysFromCivil(int year, int month, int day) {
  const int64_t y = static_cast<int64_t>(year) - (month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t days, int& year, int& month, int& day) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
}

}  // namespace norreg::timefmt
