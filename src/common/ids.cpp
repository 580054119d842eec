#include "common/ids.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace norreg::ids {
namespace {

constexpr std::array<int, 9> kK1Weights = {3, 7, 6, 1, 8, 9, 4, 5, 2};
constexpr std::array<int, 10> kK2Weights = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
constexpr std::array<int, 8> kOrgnrWeights = {3, 2, 7, 6, 5, 4, 3, 2};
constexpr char kHexDigits[] = "0123456789abcdef";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

int Digit(std::string_view s, size_t i) { return s[i] - '0'; }
int TwoDigits(std::string_view s, size_t i) { return Digit(s, i) * 10 + Digit(s, i + 1); }

bool IsLeap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysIn(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

bool RealDate(int year, int month, int day) {
  return month >= 1 && month <= 12 && day >= 1 && day <= DaysIn(year, month);
}

// Classic check digit: 11 - (sum mod 11), 11 -> 0, 10 -> none (-1).
int ClassicDigit(int sum) {
  const int k = 11 - sum % 11;
  if (k == 11) return 0;
  return k == 10 ? -1 : k;
}

int K1Sum(std::string_view s) {
  int sum = 0;
  for (size_t i = 0; i < kK1Weights.size(); ++i) sum += kK1Weights[i] * Digit(s, i);
  return sum;
}

int K2Sum(std::string_view s) {
  int sum = 0;
  for (size_t i = 0; i < kK2Weights.size(); ++i) sum += kK2Weights[i] * Digit(s, i);
  return sum;
}

enum class FnrCheck { kOk, kLength, kDate, kCheckDigits };

// One pass shared by ValidateFnr and FnrProblem; fills `info` when kOk.
FnrCheck CheckFnr(std::string_view s, FnrInfo& info) {
  if (s.size() != 11 || !AllDigits(s)) return FnrCheck::kLength;

  int day = TwoDigits(s, 0);
  int month = TwoDigits(s, 2);
  const int yy = TwoDigits(s, 4);
  const int individ = Digit(s, 6) * 100 + TwoDigits(s, 7);

  info.kind = FnrKind::kFoedselsnummer;
  if (day > 40) {
    info.kind = FnrKind::kDNummer;
    day -= 40;
  }
  info.synthetic = false;
  if (month > 80) {
    info.synthetic = true;
    month -= 80;
  }
  const std::optional<int> year = BirthYear(yy, individ);
  info.year_known = year.has_value();
  info.year = year.value_or(1900 + yy);
  info.month = month;
  info.day = day;
  info.male = Digit(s, 8) % 2 == 1;
  if (!RealDate(info.year, month, day)) return FnrCheck::kDate;

  // 2032 rule for k1: any k1 with (Σ1 + k1) mod 11 in {0,1,2,3}. k2 classic.
  if ((K1Sum(s) + Digit(s, 9)) % 11 > 3) return FnrCheck::kCheckDigits;
  if (ClassicDigit(K2Sum(s)) != Digit(s, 10)) return FnrCheck::kCheckDigits;
  return FnrCheck::kOk;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int HexValueAnyCase(char c) {
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return HexValue(c);
}

void WriteHex(char* dst, const uint8_t* bytes, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    dst[2 * i] = kHexDigits[bytes[i] >> 4];
    dst[2 * i + 1] = kHexDigits[bytes[i] & 0x0f];
  }
}

}  // namespace

std::optional<FnrInfo> ValidateFnr(std::string_view fnr) {
  FnrInfo info;
  if (CheckFnr(fnr, info) != FnrCheck::kOk) return std::nullopt;
  return info;
}

std::string FnrProblem(std::string_view fnr) {
  FnrInfo info;
  switch (CheckFnr(fnr, info)) {
    case FnrCheck::kOk:
      return {};
    case FnrCheck::kLength:
      return "foedselsEllerDNummer må være 11 siffer";
    case FnrCheck::kDate:
      return "ugyldig dato i foedselsEllerDNummer";
    case FnrCheck::kCheckDigits:
      return "ugyldig kontrollsiffer i foedselsEllerDNummer";
  }
  return {};
}

std::optional<std::array<int, 2>> ClassicCheckDigits(std::string_view nine_digits) {
  if (nine_digits.size() != 9 || !AllDigits(nine_digits)) return std::nullopt;
  const int k1 = ClassicDigit(K1Sum(nine_digits));
  if (k1 < 0) return std::nullopt;
  int sum2 = kK2Weights[9] * k1;
  for (size_t i = 0; i < 9; ++i) sum2 += kK2Weights[i] * Digit(nine_digits, i);
  const int k2 = ClassicDigit(sum2);
  if (k2 < 0) return std::nullopt;
  return std::array<int, 2>{k1, k2};
}

std::optional<std::string> MakeSyntheticFnr(int year, int month, int day, int individnummer,
                                            FnrKind kind) {
  if (year < 1854 || year > 2039 || individnummer < 0 || individnummer > 999) return std::nullopt;
  if (!RealDate(year, month, day)) return std::nullopt;
  if (BirthYear(year % 100, individnummer) != year) return std::nullopt;

  const int dd = day + (kind == FnrKind::kDNummer ? 40 : 0);
  const int mm = month + 80;
  const int yy = year % 100;
  std::string out(11, '0');
  out[0] = static_cast<char>('0' + dd / 10);
  out[1] = static_cast<char>('0' + dd % 10);
  out[2] = static_cast<char>('0' + mm / 10);
  out[3] = static_cast<char>('0' + mm % 10);
  out[4] = static_cast<char>('0' + yy / 10);
  out[5] = static_cast<char>('0' + yy % 10);
  out[6] = static_cast<char>('0' + individnummer / 100);
  out[7] = static_cast<char>('0' + individnummer / 10 % 10);
  out[8] = static_cast<char>('0' + individnummer % 10);
  const auto check = ClassicCheckDigits(std::string_view(out).substr(0, 9));
  if (!check) return std::nullopt;
  out[9] = static_cast<char>('0' + (*check)[0]);
  out[10] = static_cast<char>('0' + (*check)[1]);
  return out;
}

std::array<int, 2> IndividnummerRange(int year) {
  if (year >= 1854 && year <= 1899) return {500, 749};
  if (year >= 1900 && year <= 1999) return {0, 499};
  if (year >= 2000 && year <= 2039) return {500, 999};
  return {0, -1};
}

std::optional<int> BirthYear(int two_digit_year, int individnummer) {
  const int yy = two_digit_year;
  const int i = individnummer;
  if (yy < 0 || yy > 99 || i < 0 || i > 999) return std::nullopt;
  if (i <= 499) return 1900 + yy;
  if (i <= 749 && yy >= 54) return 1800 + yy;
  if (yy <= 39) return 2000 + yy;  // 500–999
  if (i >= 900) return 1900 + yy;  // 900–999, YY 40–99
  return std::nullopt;
}

bool ValidOrgnr(std::string_view orgnr) {
  if (orgnr.size() != 9 || !AllDigits(orgnr)) return false;
  int sum = 0;
  for (size_t i = 0; i < kOrgnrWeights.size(); ++i) sum += kOrgnrWeights[i] * Digit(orgnr, i);
  const int k = ClassicDigit(sum);
  return k >= 0 && k == Digit(orgnr, 8);
}

bool IsHex32(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (HexValue(c) < 0) return false;
  }
  return true;
}

std::optional<std::array<uint8_t, 16>> ParseHex32(std::string_view s) {
  if (s.size() != 32) return std::nullopt;
  std::array<uint8_t, 16> bytes{};
  for (size_t i = 0; i < 16; ++i) {
    const int hi = HexValue(s[2 * i]);
    const int lo = HexValue(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return bytes;
}

std::string ToHex32(const std::array<uint8_t, 16>& bytes) {
  std::string out(32, '\0');
  WriteHex(out.data(), bytes.data(), bytes.size());
  return out;
}

void AppendHex32(std::string& out, const std::array<uint8_t, 16>& bytes) {
  const size_t at = out.size();
  out.resize(at + 32);
  WriteHex(out.data() + at, bytes.data(), bytes.size());
}

std::string NewUuid() {
  std::array<uint8_t, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10xx
  std::string out(36, '-');
  char* p = out.data();
  WriteHex(p, b.data(), 4);
  WriteHex(p + 9, b.data() + 4, 2);
  WriteHex(p + 14, b.data() + 6, 2);
  WriteHex(p + 19, b.data() + 8, 2);
  WriteHex(p + 24, b.data() + 10, 6);
  return out;
}

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (HexValueAnyCase(s[i]) < 0) {
      return false;
    }
  }
  return true;
}

}  // namespace norreg::ids
