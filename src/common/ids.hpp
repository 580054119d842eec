#pragma once
// Identifiers of the two registers (SPEC section 1): fødselsnummer / d-nummer, organisasjonsnummer,
// 32-hex document identifiers, UUIDs. All functions are pure (except NewUuid, which reads the
// OpenSSL random source) and thread-safe. None of them allocates unless it returns a string.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace norreg::ids {

enum class FnrKind { kFoedselsnummer, kDNummer };

struct FnrInfo {
  FnrKind kind = FnrKind::kFoedselsnummer;
  bool synthetic =
      false;  // month + 80 (test data); real numbers have month 01–12 (+40 for H-nr not supported)
  int year = 0;       // full birth year from individnummer (classic century table)
  int month = 0;      // 1..12
  int day = 0;        // 1..31
  bool male = false;  // 9th digit odd
  // False when the (two-digit year, individnummer) pair is not in the classic century table
  // (e.g. individnummer 750–899 with year 40–99, which official synthetic test numbers use);
  // `year` is then the best guess 1900 + YY. Such numbers are still valid.
  bool year_known = true;
};

// Validates an 11-digit fødselsnummer or d-nummer with the 2032 rule (k1 may be any value with
// (Σ1 + k1) mod 11 ∈ {0,1,2,3}; k2 classic) and a real calendar date (leap years). Returns nullopt
// when invalid. Accepts synthetic numbers (month + 80) and d-nummer (day + 40).
std::optional<FnrInfo> ValidateFnr(std::string_view fnr);

// Why `fnr` is invalid, as a short Norwegian message fit for a client, or empty when valid:
// "foedselsEllerDNummer må være 11 siffer", "ugyldig dato i foedselsEllerDNummer",
// "ugyldig kontrollsiffer i foedselsEllerDNummer". The date is checked before the check digits.
std::string FnrProblem(std::string_view fnr);

// Computes the classic check digits for the first nine digits; nullopt when k1 or k2 would be 10
// or when `nine_digits` is not exactly nine ASCII digits.
std::optional<std::array<int, 2>> ClassicCheckDigits(std::string_view nine_digits);

// Builds a synthetic number (month + 80; for d-nummer also day + 40) with classic check digits,
// for the birth date and an individnummer 000–999 that matches the century of `year`. Returns
// nullopt when no valid check digits exist for that individnummer (caller tries the next one),
// when the date is not a real date, or when the individnummer does not give back `year`
// (see BirthYear).
std::optional<std::string> MakeSyntheticFnr(int year, int month, int day, int individnummer,
                                            FnrKind kind);

// Picks the individnummer range for a birth year (classic century table) — [first, last]:
// 1854–1899 → [500, 749], 1900–1999 → [0, 499], 2000–2039 → [500, 999]. (1940–1999 may also use
// [900, 999].) Years outside 1854–2039 give the empty range [0, -1].
std::array<int, 2> IndividnummerRange(int year);

// The full birth year for a two-digit year (0–99) and an individnummer (0–999) by the classic
// century table; nullopt when the table does not assign that pair.
std::optional<int> BirthYear(int two_digit_year, int individnummer);

// 9-digit organisasjonsnummer, mod 11 with weights 3 2 7 6 5 4 3 2.
bool ValidOrgnr(std::string_view orgnr);

// 32 lowercase hex characters.
bool IsHex32(std::string_view s);
// Parses 32 lowercase hex characters into 16 bytes; nullopt when malformed (upper case included).
std::optional<std::array<uint8_t, 16>> ParseHex32(std::string_view s);
std::string ToHex32(const std::array<uint8_t, 16>& bytes);
// Appends the 32 lowercase hex characters of `bytes` to `out` (hot paths: no temporary).
void AppendHex32(std::string& out, const std::array<uint8_t, 16>& bytes);

// RFC 4122 version-4 UUID from a cryptographic random source (OpenSSL RAND_bytes), lower case,
// 8-4-4-4-12. Throws std::runtime_error only if the random source fails (a terminating error).
std::string NewUuid();
// True for the canonical 8-4-4-4-12 hex form (either case, any version).
bool IsUuid(std::string_view s);

}  // namespace norreg::ids
