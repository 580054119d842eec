#include "freg/search_text.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace norreg::freg {
namespace {

// ---------------------------------------------------------------------------------------------
// NormalizeSearchWord

struct Normalization {
  std::string_view input;
  std::string_view expected;
};

class NormalizeSearchWordTest : public testing::TestWithParam<Normalization> {};

TEST_P(NormalizeSearchWordTest, Normalizes) {
  EXPECT_EQ(NormalizeSearchWord(GetParam().input), GetParam().expected) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Words, NormalizeSearchWordTest,
    testing::Values(Normalization{"Ola", "OLA"}, Normalization{"NORDMANN", "NORDMANN"},
                    Normalization{"ærlig", "ÆRLIG"}, Normalization{"Ørn", "ØRN"},
                    Normalization{"åse", "ÅSE"}, Normalization{"ÆØÅ", "ÆØÅ"},
                    Normalization{"æøå", "ÆØÅ"}, Normalization{"Björn", "BJØRN"},
                    Normalization{"Jäger", "JÆGER"}, Normalization{"Müller", "MYLLER"},
                    Normalization{"René", "RENE"}, Normalization{"Hélène", "HELENE"},
                    Normalization{"Gaëlle", "GAELLE"}, Normalization{"François", "FRANCOIS"},
                    Normalization{"Muñoz", "MUNOZ"}, Normalization{"Šárka", "SARKA"},
                    Normalization{"Đorđe", "DORDE"}, Normalization{"Łukasz", "LUKASZ"},
                    Normalization{"Œdipus", "ØDIPUS"}, Normalization{"Straße", "STRASSE"},
                    Normalization{"Þór", "THOR"}, Normalization{"Čáhcegáddi", "CAHCEGADDI"},
                    Normalization{"Ŋuvvos", "NUVVOS"}, Normalization{"Ÿvonne", "YVONNE"},
                    Normalization{"ÿ", "Y"}, Normalization{"İlkay", "ILKAY"},
                    // Digits stay; everything else goes.
                    Normalization{"12B", "12B"}, Normalization{"O'Neill", "ONEILL"},
                    Normalization{"Anne-Lise", "ANNELISE"}, Normalization{"St. Olav", "STOLAV"},
                    Normalization{"a×b÷c", "ABC"}, Normalization{"Иван", ""}, Normalization{"", ""},
                    Normalization{"!?", ""},
                    // Decomposed input: combining marks.
                    Normalization{"A\u030Ase", "ÅSE"}, Normalization{"Bjo\u0308rn", "BJØRN"},
                    Normalization{"Ja\u0308ger", "JÆGER"}, Normalization{"Mu\u0308ller", "MYLLER"},
                    Normalization{"Ble\u0301", "BLE"}, Normalization{"Bjo\u0338rn", "BJØRN"},
                    Normalization{"\u0301x", "X"}));

TEST(NormalizeSearchWord, DropsInvalidUtf8Bytes) {
  EXPECT_EQ(NormalizeSearchWord("OL\xFF"
                                "A"),
            "OLA");
  EXPECT_EQ(NormalizeSearchWord("\xC3"), "");  // truncated Æ
  EXPECT_EQ(NormalizeSearchWord("\xC3"
                                "A"),
            "A");                                  // lead byte without continuation
  EXPECT_EQ(NormalizeSearchWord("\xC0\xB8"), "");  // overlong '8'
  EXPECT_EQ(NormalizeSearchWord("\xED\xA0\x80"
                                "B"),
            "B");  // surrogate
  EXPECT_EQ(NormalizeSearchWord("\xF4\x90\x80\x80"
                                "C"),
            "C");  // above U+10FFFF
  EXPECT_EQ(NormalizeSearchWord("\x80\x80\xBF"
                                "D"),
            "D");  // stray continuation bytes
  EXPECT_EQ(NormalizeSearchWord(std::string_view("A\0B", 3)), "AB");
}

TEST(NormalizeSearchWord, IsIdempotent) {
  for (const std::string_view word : {"Åse", "Bjørn", "Müller", "O'Neill", "Þór"}) {
    const std::string once = NormalizeSearchWord(word);
    EXPECT_EQ(NormalizeSearchWord(once), once) << word;
  }
}

TEST(NormalizeSearchWord, HandlesLongInput) {
  // 1 MB of letters and 1 MB of invalid bytes: done in one pass (a quadratic scan would take
  // minutes under the sanitizers).
  const std::string letters(1 << 20, 'a');
  EXPECT_EQ(NormalizeSearchWord(letters), std::string(1 << 20, 'A'));
  const std::string junk(1 << 20, '\xE2');
  EXPECT_EQ(NormalizeSearchWord(junk), "");
}

// ---------------------------------------------------------------------------------------------
// SearchWords

TEST(SearchWords, SplitsOnWhitespaceHyphensAndPunctuation) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SearchWords("Ola Nordmann"), (V{"OLA", "NORDMANN"}));
  EXPECT_EQ(SearchWords("  Anne-Lise\tBerg\n"), (V{"ANNE", "LISE", "BERG"}));
  EXPECT_EQ(SearchWords("Berg, Kari (Åse)"), (V{"BERG", "KARI", "ÅSE"}));
  EXPECT_EQ(SearchWords("St.Olavs gate 12B"), (V{"ST", "OLAVS", "GATE", "12B"}));
  EXPECT_EQ(SearchWords("Kari/Per;Pål"), (V{"KARI", "PER", "PÅL"}));
  EXPECT_EQ(SearchWords("Ole\u00A0Brumm"), (V{"OLE", "BRUMM"}));  // no-break space
  EXPECT_EQ(SearchWords("Anne\u2013Lise"), (V{"ANNE", "LISE"}));  // en dash
  EXPECT_EQ(SearchWords("«Ola»"), (V{"OLA"}));
  EXPECT_EQ(SearchWords("\u201CKari\u201D"), (V{"KARI"}));
  EXPECT_EQ(SearchWords("Ola\u3000Kari"), (V{"OLA", "KARI"}));
  EXPECT_EQ(SearchWords("2×3"), (V{"2", "3"}));
}

TEST(SearchWords, ApostrophesJoinAWord) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SearchWords("O'Neill"), (V{"ONEILL"}));
  EXPECT_EQ(SearchWords("D\u2019Souza"), (V{"DSOUZA"}));
  EXPECT_EQ(SearchWords("O\u00B4Brien"), (V{"OBRIEN"}));
  EXPECT_EQ(SearchWords("d`Artagnan"), (V{"DARTAGNAN"}));
}

TEST(SearchWords, DropsEmptyWordsAndInvalidBytes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SearchWords(""), V{});
  EXPECT_EQ(SearchWords(" - , ;"), V{});
  EXPECT_EQ(SearchWords("Иван Ola"), (V{"OLA"}));  // other scripts are dropped, not split on
  EXPECT_EQ(SearchWords("Ol\xFF"
                        "a \xC3 Kari"),
            (V{"OLA", "KARI"}));
  EXPECT_EQ(SearchWords("''"), V{});
}

TEST(SearchWords, ReturnsAtMostMaxWords) {
  using V = std::vector<std::string>;
  EXPECT_EQ(SearchWords("a b c d", 2), (V{"A", "B"}));
  EXPECT_EQ(SearchWords("a b c d", 0), V{});
  EXPECT_EQ(SearchWords("a b", 2), (V{"A", "B"}));
  std::string many;
  for (int k = 0; k < 100; ++k) many += "ord ";
  EXPECT_EQ(SearchWords(many).size(), 16U);
}

TEST(SearchWords, HandlesLongInput) {
  std::string text;
  for (int k = 0; k < 200000; ++k) text += "Åse- ";
  EXPECT_EQ(SearchWords(text, 1000).size(), 1000U);
  const std::string one_long_word(1 << 20, 'b');
  const auto words = SearchWords(one_long_word);
  ASSERT_EQ(words.size(), 1U);
  EXPECT_EQ(words[0].size(), size_t{1} << 20);
  EXPECT_EQ(SearchWords(std::string(1 << 20, '-')).size(), 0U);
}

// ---------------------------------------------------------------------------------------------
// PhoneticKey

std::string Key(std::string_view word) { return PhoneticKey(NormalizeSearchWord(word)); }

struct Pair {
  std::string_view a, b;
};

class PhoneticKeyMeetTest : public testing::TestWithParam<Pair> {};

TEST_P(PhoneticKeyMeetTest, SpellingVariantsMeet) {
  EXPECT_EQ(Key(GetParam().a), Key(GetParam().b)) << GetParam().a << " / " << GetParam().b;
}

INSTANTIATE_TEST_SUITE_P(
    Names, PhoneticKeyMeetTest,
    testing::Values(
        Pair{"Kristine", "Christine"}, Pair{"Tomas", "Thomas"}, Pair{"Åse", "Aase"},
        Pair{"Håkon", "Haakon"}, Pair{"Sofie", "Sophie"}, Pair{"Pettersen", "Petersen"},
        Pair{"Kjersti", "Chersti"}, Pair{"Kjersti", "Sjersti"}, Pair{"Kjersti", "Skjersti"},
        Pair{"Kjersti", "Tjersti"}, Pair{"Kine", "Kjine"}, Pair{"Skiold", "Sjiold"},
        Pair{"Charlotte", "Sjarlotte"}, Pair{"Karl", "Carl"}, Pair{"Marius", "Mariuss"},
        Pair{"Ellen", "Elen"}, Pair{"Hansen", "Hanssen"}, Pair{"Johansen", "Johanssen"},
        Pair{"Nilsen", "Nielsen"}, Pair{"Eriksen", "Erichsen"}, Pair{"Eriksen", "Ericsen"},
        Pair{"Eriksen", "Erixen"}, Pair{"Jensen", "Jenssen"}, Pair{"Wenche", "Venke"},
        Pair{"Cecilie", "Sesilie"}, Pair{"Filip", "Philip"}, Pair{"Anette", "Annette"},
        Pair{"Matias", "Mathias"}, Pair{"Kathrine", "Katrine"}, Pair{"Cathrine", "Katrine"},
        Pair{"Birgit", "Birgitt"}, Pair{"Kristoffer", "Christopher"}, Pair{"Torbjørn", "Thorbjørn"},
        Pair{"Ragnhild", "Ragnild"}, Pair{"Elisabeth", "Elizabeth"}, Pair{"Sara", "Sarah"},
        Pair{"Jon", "John"}, Pair{"Jonsen", "Johnsen"}, Pair{"Hjørdis", "Jørdis"},
        Pair{"Gjertrud", "Jertrud"}, Pair{"Ludvig", "Ludwig"}, Pair{"Aleksander", "Alexander"},
        Pair{"Jakob", "Jacob"}, Pair{"Mikael", "Michael"}, Pair{"Rikard", "Richard"},
        Pair{"Øyvind", "Øivind"}, Pair{"Maja", "Maya"}, Pair{"Kvist", "Quist"},
        Pair{"Backe", "Bakke"}, Pair{"Frits", "Fritz"}, Pair{"Sørensen", "Soerensen"},
        Pair{"Bjørn", "Björn"}, Pair{"Ødegård", "Ødegaard"}, Pair{"Margrete", "Margrethe"},
        Pair{"Nikolai", "Nicolai"}, Pair{"Dagfinn", "Dagfin"}, Pair{"Sivert", "Siwert"},
        Pair{"René", "Rene"}, Pair{"Åse", "A\u030Ase"}, Pair{"KRISTINE", "kristine"}));

class PhoneticKeyApartTest : public testing::TestWithParam<Pair> {};

TEST_P(PhoneticKeyApartTest, DifferentNamesStayApart) {
  EXPECT_NE(Key(GetParam().a), Key(GetParam().b)) << GetParam().a << " / " << GetParam().b;
}

INSTANTIATE_TEST_SUITE_P(
    Names, PhoneticKeyApartTest,
    testing::Values(Pair{"Hansen", "Jensen"}, Pair{"Olsen", "Nilsen"}, Pair{"Anne", "Anna"},
                    Pair{"Per", "Pål"}, Pair{"Kari", "Karin"}, Pair{"Ola", "Ole"},
                    Pair{"Berit", "Brit"}, Pair{"Lise", "Lisa"}, Pair{"Tor", "Tore"},
                    Pair{"Jan", "Jon"}, Pair{"Erik", "Eirik"}, Pair{"Kristin", "Kristine"},
                    Pair{"Maria", "Marie"}, Pair{"Arne", "Arve"}, Pair{"Bjørn", "Bjørg"},
                    Pair{"Hilde", "Hilda"}, Pair{"Nina", "Nora"}, Pair{"Hans", "Hanne"},
                    Pair{"Larsen", "Karlsen"}, Pair{"Johansen", "Johnsen"},
                    Pair{"Andersen", "Pedersen"}, Pair{"Åse", "Ase"}, Pair{"Kim", "Tim"},
                    Pair{"Kjell", "Kjetil"}, Pair{"Siri", "Sara"}));

TEST(PhoneticKey, ExamplesFromTheDocs) {
  EXPECT_EQ(Key("Thomas"), "TOMAS");
  EXPECT_EQ(Key("Aase"), "ÅSE");
  EXPECT_EQ(Key("Kjersti"), "XERSTI");
  EXPECT_EQ(Key("Christine"), "KRISTINE");
  EXPECT_EQ(Key("Cecilie"), "SESILIE");
  EXPECT_EQ(Key("Wenche"), "VENKE");
  EXPECT_EQ(Key("Nielsen"), "NILSEN");
  EXPECT_EQ(Key("Erichsen"), "ERIKSEN");
  EXPECT_EQ(Key("Øystein"), "ØISTEIN");
  EXPECT_EQ(Key("Hvit"), "VIT");
  EXPECT_EQ(Key("Johansen"), "JOHANSEN");
  EXPECT_EQ(Key("Quist"), "KVIST");
}

TEST(PhoneticKey, IsNeverEmptyForANonEmptyWord) {
  for (const std::string_view word : {"H", "HH", "A", "X", "Q", "CH", "SCH", "SKJ", "7", "Ø"}) {
    EXPECT_FALSE(PhoneticKey(word).empty()) << word;
  }
  EXPECT_EQ(PhoneticKey(""), "");
}

TEST(PhoneticKey, KeepsDigits) {
  EXPECT_EQ(PhoneticKey("12"), "12");
  EXPECT_EQ(PhoneticKey("11"), "11");
  EXPECT_EQ(PhoneticKey("12BB"), "12B");
}

TEST(PhoneticKey, IsAStableNormalisedWord) {
  // The key only holds characters a normalised word holds, and a key's key is the key itself for
  // these names (so storing keys and keying queries the same way is safe).
  for (const std::string_view word : {"Thomas", "Kjersti", "Åse", "Øyvind", "Schmidt", "Backe"}) {
    const std::string key = Key(word);
    EXPECT_EQ(NormalizeSearchWord(key), key) << word;
  }
}

TEST(PhoneticKey, HandlesLongInput) {
  std::string word;
  for (int k = 0; k < 100000; ++k) word += "SCHKJAAHY";
  const std::string key = PhoneticKey(word);
  EXPECT_FALSE(key.empty());
  EXPECT_LT(key.size(), word.size());
}

}  // namespace
}  // namespace norreg::freg
