#include "common/ids.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/time.hpp"

namespace norreg::ids {
namespace {

struct FnrVector {
  std::string fnr;
  bool synthetic;
  bool valid;
  std::string description;
};

// The rows of reference/freg/foedselsnummer-testvectors.csv, kept here so the test runs without
// the shared directory; FnrTest.MatchesSharedTestVectorFile checks the file itself.
const std::vector<FnrVector>& InlineVectors() {
  static const std::vector<FnrVector> kVectors = {
      {"30108299939", false, true, "reelt 2032-nummer"},
      {"30908299902", true, true, "syntetisk 2032-nummer"},
      {"20036914700", false, true, "reelt 1964-nummer"},
      {"03851598730", true, true, "syntetisk 1964-nummer"},
      {"20036914712", false, false, "reelt 1964-nummer"},
      {"29020073150", false, true, "reelt 1964-nummer(Skuddag i skuddår)"},
      {"29020105729", false, false, "reelt 1964-nummer(Skuddag i ikke-skuddår)"},
      {"55102499947", false, true, "reelt 2032-D-nummer"},
      {"41819077906", true, true, "syntetisk 2032-D-nummer"},
      {"41819077302", true, true, "syntetisk 1964-D-nummer"},
  };
  return kVectors;
}

std::vector<FnrVector> ReadVectorFile(const std::string& path) {
  std::vector<FnrVector> rows;
  std::ifstream in(path);
  if (!in) return rows;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::stringstream ss(line);
    FnrVector v;
    std::string synthetic;
    std::string valid;
    std::getline(ss, v.fnr, ',');
    std::getline(ss, synthetic, ',');
    std::getline(ss, valid, ',');
    std::getline(ss, v.description);
    v.synthetic = synthetic == "true";
    v.valid = valid == "true";
    rows.push_back(v);
  }
  return rows;
}

void CheckVector(const FnrVector& v) {
  SCOPED_TRACE(v.fnr + " " + v.description);
  const auto info = ValidateFnr(v.fnr);
  EXPECT_EQ(info.has_value(), v.valid);
  EXPECT_EQ(FnrProblem(v.fnr).empty(), v.valid);
  if (!info) return;
  EXPECT_EQ(info->synthetic, v.synthetic);
  const bool dnr = v.description.find("D-nummer") != std::string::npos;
  EXPECT_EQ(info->kind, dnr ? FnrKind::kDNummer : FnrKind::kFoedselsnummer);
}

TEST(FnrTest, InlineTestVectors) {
  for (const FnrVector& v : InlineVectors()) CheckVector(v);
}

TEST(FnrTest, MatchesSharedTestVectorFile) {
  const std::string path =
      std::string(NORREG_SHARED_DIR) + "/reference/freg/foedselsnummer-testvectors.csv";
  const std::vector<FnrVector> rows = ReadVectorFile(path);
  if (rows.empty()) GTEST_SKIP() << "no " << path;
  for (const FnrVector& v : rows) CheckVector(v);
  // The inline copy must be the file.
  ASSERT_EQ(rows.size(), InlineVectors().size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].fnr, InlineVectors()[i].fnr);
    EXPECT_EQ(rows[i].valid, InlineVectors()[i].valid);
    EXPECT_EQ(rows[i].synthetic, InlineVectors()[i].synthetic);
  }
}

TEST(FnrTest, DecodesFields) {
  auto info = ValidateFnr("29020073150");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->year, 2000);  // individnummer 731, YY 00
  EXPECT_EQ(info->month, 2);
  EXPECT_EQ(info->day, 29);
  EXPECT_TRUE(info->male);  // 9th digit 1
  EXPECT_TRUE(info->year_known);

  info = ValidateFnr("03851598730");
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->synthetic);
  EXPECT_EQ(info->year, 2015);
  EXPECT_EQ(info->month, 5);
  EXPECT_EQ(info->day, 3);
  EXPECT_TRUE(info->male);  // 9th digit 7

  info = ValidateFnr("55102499947");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->kind, FnrKind::kDNummer);
  EXPECT_EQ(info->day, 15);
  EXPECT_EQ(info->month, 10);
  EXPECT_EQ(info->year, 2024);

  // Individnummer 779 with YY 90 is outside the classic table: valid, year a guess.
  info = ValidateFnr("41819077906");
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->year_known);
  EXPECT_EQ(info->year, 1990);
  EXPECT_EQ(info->day, 1);
  EXPECT_EQ(info->month, 1);
}

TEST(FnrTest, ProblemMessages) {
  struct Case {
    const char* fnr;
    const char* problem;
  };
  const Case cases[] = {
      {"", "foedselsEllerDNummer må være 11 siffer"},
      {"2003691470", "foedselsEllerDNummer må være 11 siffer"},
      {"200369147000", "foedselsEllerDNummer må være 11 siffer"},
      {"2003691470a", "foedselsEllerDNummer må være 11 siffer"},
      {"20036914 00", "foedselsEllerDNummer må være 11 siffer"},
      {"29020105729", "ugyldig dato i foedselsEllerDNummer"},
      {"32016914700", "ugyldig dato i foedselsEllerDNummer"},
      {"00016914700", "ugyldig dato i foedselsEllerDNummer"},
      {"01136914700", "ugyldig dato i foedselsEllerDNummer"},
      {"01006914700", "ugyldig dato i foedselsEllerDNummer"},
      {"01536914700", "ugyldig dato i foedselsEllerDNummer"},  // month 53: H-nummer unsupported
      {"72016914700", "ugyldig dato i foedselsEllerDNummer"},  // d-nummer day 32
      {"31046914700", "ugyldig dato i foedselsEllerDNummer"},  // 31 April
      {"20036914712", "ugyldig kontrollsiffer i foedselsEllerDNummer"},
      {"20036914701", "ugyldig kontrollsiffer i foedselsEllerDNummer"},
      {"20036914700", ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FnrProblem(c.fnr), c.problem) << c.fnr;
    EXPECT_EQ(ValidateFnr(c.fnr).has_value(), std::string(c.problem).empty()) << c.fnr;
  }
}

TEST(FnrTest, Rule2032AcceptsK1RemaindersZeroToThree) {
  // For a fixed first nine digits, exactly the k1 values with (Σ1 + k1) mod 11 ∈ {0..3} are valid
  // (each with its classic k2); the classic k1 is one of them.
  const std::string nine = "200369147";
  int sum1 = 0;
  const int w1[] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
  for (int i = 0; i < 9; ++i) sum1 += w1[i] * (nine[i] - '0');
  const int w2[] = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
  int accepted = 0;
  for (int k1 = 0; k1 <= 9; ++k1) {
    std::string ten = nine + static_cast<char>('0' + k1);
    int sum2 = 0;
    for (int i = 0; i < 10; ++i) sum2 += w2[i] * (ten[i] - '0');
    const int k2 = (11 - sum2 % 11) % 11;
    const bool rule = (sum1 + k1) % 11 <= 3;
    if (k2 == 10) {
      for (char c = '0'; c <= '9'; ++c) EXPECT_FALSE(ValidateFnr(ten + c)) << ten + c;
      continue;
    }
    const std::string fnr = ten + static_cast<char>('0' + k2);
    EXPECT_EQ(ValidateFnr(fnr).has_value(), rule) << fnr;
    accepted += ValidateFnr(fnr).has_value() ? 1 : 0;
    for (char c = '0'; c <= '9'; ++c) {
      if (c - '0' != k2) {
        EXPECT_FALSE(ValidateFnr(ten + c)) << ten + c;
      }
    }
  }
  EXPECT_GE(accepted, 1);
  const auto classic = ClassicCheckDigits(nine);
  ASSERT_TRUE(classic);
  EXPECT_EQ((*classic)[0], 0);
  EXPECT_EQ((*classic)[1], 0);  // 20036914700
}

TEST(FnrTest, ClassicCheckDigitsRejectsMalformed) {
  EXPECT_FALSE(ClassicCheckDigits("12345678"));
  EXPECT_FALSE(ClassicCheckDigits("1234567890"));
  EXPECT_FALSE(ClassicCheckDigits("12345678x"));
}

TEST(FnrTest, IndividnummerCenturyTable) {
  EXPECT_EQ(IndividnummerRange(1854), (std::array<int, 2>{500, 749}));
  EXPECT_EQ(IndividnummerRange(1899), (std::array<int, 2>{500, 749}));
  EXPECT_EQ(IndividnummerRange(1900), (std::array<int, 2>{0, 499}));
  EXPECT_EQ(IndividnummerRange(1999), (std::array<int, 2>{0, 499}));
  EXPECT_EQ(IndividnummerRange(2000), (std::array<int, 2>{500, 999}));
  EXPECT_EQ(IndividnummerRange(2039), (std::array<int, 2>{500, 999}));
  EXPECT_GT(IndividnummerRange(1853)[0], IndividnummerRange(1853)[1]);
  EXPECT_GT(IndividnummerRange(2040)[0], IndividnummerRange(2040)[1]);

  EXPECT_EQ(BirthYear(54, 500), 1854);
  EXPECT_EQ(BirthYear(99, 749), 1899);
  EXPECT_EQ(BirthYear(0, 0), 1900);
  EXPECT_EQ(BirthYear(99, 499), 1999);
  EXPECT_EQ(BirthYear(40, 900), 1940);
  EXPECT_EQ(BirthYear(99, 999), 1999);
  EXPECT_EQ(BirthYear(0, 500), 2000);
  EXPECT_EQ(BirthYear(39, 999), 2039);
  EXPECT_EQ(BirthYear(53, 600), std::nullopt);
  EXPECT_EQ(BirthYear(90, 800), std::nullopt);
  EXPECT_EQ(BirthYear(100, 0), std::nullopt);
  EXPECT_EQ(BirthYear(10, 1000), std::nullopt);
}

// Every generated number validates and gives back what it was made from.
void ExpectRoundTrip(int year, int month, int day, FnrKind kind, int& made) {
  const auto range = IndividnummerRange(year);
  int tried = 0;
  for (int individ = range[0]; individ <= range[1] && tried < 40; individ += 7, ++tried) {
    const auto fnr = MakeSyntheticFnr(year, month, day, individ, kind);
    if (!fnr) {
      // Only a check digit of 10 may refuse a valid input.
      continue;
    }
    ++made;
    SCOPED_TRACE(*fnr);
    ASSERT_EQ(fnr->size(), 11u);
    const auto info = ValidateFnr(*fnr);
    ASSERT_TRUE(info);
    EXPECT_TRUE(FnrProblem(*fnr).empty());
    EXPECT_TRUE(info->synthetic);
    EXPECT_TRUE(info->year_known);
    EXPECT_EQ(info->kind, kind);
    EXPECT_EQ(info->year, year);
    EXPECT_EQ(info->month, month);
    EXPECT_EQ(info->day, day);
    EXPECT_EQ(info->male, individ % 2 == 1);
    EXPECT_EQ((*fnr)[2] == '8' || (*fnr)[2] == '9', true);
    // Classic check digits: the generated k1 satisfies the classic rule exactly.
    const auto check = ClassicCheckDigits(std::string_view(*fnr).substr(0, 9));
    ASSERT_TRUE(check);
    EXPECT_EQ((*fnr)[9] - '0', (*check)[0]);
    EXPECT_EQ((*fnr)[10] - '0', (*check)[1]);
  }
}

TEST(FnrTest, GeneratedNumbersRoundTrip) {
  int made = 0;
  const int years[] = {1854, 1855, 1899, 1900, 1904, 1939, 1940,
                       1964, 1999, 2000, 2004, 2024, 2039};
  for (int year : years) {
    for (int month = 1; month <= 12; ++month) {
      for (int day : {1, 15, 28, timefmt::DaysInMonth(year, month)}) {
        ExpectRoundTrip(year, month, day, FnrKind::kFoedselsnummer, made);
        ExpectRoundTrip(year, month, day, FnrKind::kDNummer, made);
      }
    }
  }
  EXPECT_GT(made, 10000);
}

TEST(FnrTest, GeneratesLeapDayOnlyInLeapYears) {
  int made = 0;
  for (int year : {1856, 1896, 1904, 1996, 2000, 2024, 2036}) {
    ExpectRoundTrip(year, 2, 29, FnrKind::kFoedselsnummer, made);
    ExpectRoundTrip(year, 2, 29, FnrKind::kDNummer, made);
  }
  EXPECT_GT(made, 100);
  for (int year : {1855, 1900, 1999, 2023}) {
    const auto range = IndividnummerRange(year);
    for (int individ = range[0]; individ <= range[1]; ++individ) {
      EXPECT_FALSE(MakeSyntheticFnr(year, 2, 29, individ, FnrKind::kFoedselsnummer));
    }
  }
}

TEST(FnrTest, GenerationRejectsBadInput) {
  EXPECT_FALSE(MakeSyntheticFnr(1853, 1, 1, 600, FnrKind::kFoedselsnummer));
  EXPECT_FALSE(MakeSyntheticFnr(2040, 1, 1, 600, FnrKind::kFoedselsnummer));
  EXPECT_FALSE(MakeSyntheticFnr(1990, 1, 1, 600, FnrKind::kFoedselsnummer));  // wrong century
  EXPECT_FALSE(MakeSyntheticFnr(2010, 1, 1, 100, FnrKind::kFoedselsnummer));  // wrong century
  EXPECT_FALSE(MakeSyntheticFnr(1990, 13, 1, 100, FnrKind::kFoedselsnummer));
  EXPECT_FALSE(MakeSyntheticFnr(1990, 4, 31, 100, FnrKind::kFoedselsnummer));
  EXPECT_FALSE(MakeSyntheticFnr(1990, 1, 1, -1, FnrKind::kFoedselsnummer));
  EXPECT_FALSE(MakeSyntheticFnr(1990, 1, 1, 1000, FnrKind::kFoedselsnummer));
  // 1940–1999 may also use 900–999.
  int made = 0;
  for (int individ = 900; individ <= 999; ++individ) {
    const auto fnr = MakeSyntheticFnr(1975, 6, 30, individ, FnrKind::kFoedselsnummer);
    if (!fnr) continue;
    ++made;
    const auto info = ValidateFnr(*fnr);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->year, 1975);
  }
  EXPECT_GT(made, 50);
}

TEST(OrgnrTest, ValidAndInvalid) {
  for (const char* valid : {"974760673", "910514350", "923609016", "983887457", "889640782",
                            "985399077", "291417779", "074391508"}) {
    EXPECT_TRUE(ValidOrgnr(valid)) << valid;
  }
  for (const char* invalid : {"974760674", "910514351", "123456789", "97476067", "9747606730",
                              "97476067a", "", " 74760673",
                              // the check digit would be 10: no last digit is valid
                              "631706690", "890682880"}) {
    EXPECT_FALSE(ValidOrgnr(invalid)) << invalid;
  }
}

TEST(OrgnrTest, ExactlyOneCheckDigitOrNone) {
  for (const char* base : {"97476067", "91051435", "12345678", "63170669"}) {
    int valid = 0;
    for (char c = '0'; c <= '9'; ++c) valid += ValidOrgnr(std::string(base) + c) ? 1 : 0;
    EXPECT_LE(valid, 1) << base;
  }
}

TEST(Hex32Test, ParseAndFormat) {
  const std::string hex = "00112233445566778899aabbccddeeff";
  EXPECT_TRUE(IsHex32(hex));
  const auto bytes = ParseHex32(hex);
  ASSERT_TRUE(bytes);
  EXPECT_EQ((*bytes)[0], 0x00);
  EXPECT_EQ((*bytes)[1], 0x11);
  EXPECT_EQ((*bytes)[10], 0xaa);
  EXPECT_EQ((*bytes)[15], 0xff);
  EXPECT_EQ(ToHex32(*bytes), hex);
  std::string out = "id=";
  AppendHex32(out, *bytes);
  EXPECT_EQ(out, "id=" + hex);
}

TEST(Hex32Test, RejectsMalformed) {
  for (const std::string& bad : {std::string(), std::string(31, 'a'), std::string(33, 'a'),
                                 std::string("00112233445566778899AABBCCDDEEFF"),
                                 std::string("00112233445566778899aabbccddeefg"),
                                 std::string("0011223344556677-899aabbccddeeff"),
                                 std::string("00112233445566778899aabbccddee\0f", 32)}) {
    EXPECT_FALSE(IsHex32(bad)) << bad;
    EXPECT_FALSE(ParseHex32(bad)) << bad;
  }
}

TEST(UuidTest, NewUuidIsVersion4AndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = NewUuid();
    ASSERT_EQ(u.size(), 36u);
    EXPECT_TRUE(IsUuid(u)) << u;
    EXPECT_EQ(u[14], '4') << u;
    EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;
    for (char c : u) EXPECT_FALSE(c >= 'A' && c <= 'F') << u;
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(UuidTest, IsUuid) {
  EXPECT_TRUE(IsUuid("36b5516f-1c2d-4e5f-8a9b-0c1d2e3f4a5b"));
  EXPECT_TRUE(IsUuid("36B5516F-1C2D-4E5F-8A9B-0C1D2E3F4A5B"));
  EXPECT_FALSE(IsUuid(""));
  EXPECT_FALSE(IsUuid("36b5516f1c2d4e5f8a9b0c1d2e3f4a5b"));
  EXPECT_FALSE(IsUuid("36b5516f-1c2d-4e5f-8a9b-0c1d2e3f4a5"));
  EXPECT_FALSE(IsUuid("36b5516f-1c2d-4e5f-8a9b-0c1d2e3f4a5bb"));
  EXPECT_FALSE(IsUuid("36b5516f-1c2d-4e5f-8a9b_0c1d2e3f4a5b"));
  EXPECT_FALSE(IsUuid("36b5516g-1c2d-4e5f-8a9b-0c1d2e3f4a5b"));
}

}  // namespace
}  // namespace norreg::ids
