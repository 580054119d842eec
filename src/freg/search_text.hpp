#pragma once
// Words of person search: how a name (or street name) is cut into words, how each word is
// normalised, and the Norwegian phonetic key that lets spelling variants of one spoken name meet.
// The rules are written out in docs/search.md ("Word normalisation", "Phonetic key").
//
// All functions are pure, allocate only their result and are thread-safe. Each runs in time linear
// in its input.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace norreg::freg {

// Normalises one word for search. The input is UTF-8; the output holds only A–Z, 0–9 and Æ Ø Å
// (UTF-8). Letters are upper-cased; Latin-1 and Latin Extended-A letters are folded the Norwegian
// way: æ ä → Æ, ø ö ő œ → Ø, å → Å, ü ű → Y, other accented letters to their base letter
// (é è ê ë → E, ç → C, ñ → N, š → S, đ ð → D, ...), ß → SS, þ → TH. A combining ring above after A
// gives Å and a combining diaeresis after A/O/U gives Æ/Ø/Y (decomposed input); other combining
// marks, every other character (punctuation, symbols, letters of other scripts) and invalid UTF-8
// bytes are dropped. The result may be empty. No length cap: callers cap their input.
std::string NormalizeSearchWord(std::string_view word);

// Splits text into normalised words (NormalizeSearchWord of each piece). Separators are ASCII
// whitespace and control characters, '-' and all other ASCII punctuation except apostrophes
// (' and `, which are dropped inside a word: "O'Neill" is one word), Latin-1 punctuation and
// symbols (U+0080–U+00BF except ´, U+00D7, U+00F7), the general punctuation block
// (U+2000–U+206F: spaces, dashes, quotes — except the apostrophe-like U+2018/U+2019/U+201B) and
// U+3000. Empty words are dropped. At most `max_words` words are returned; scanning stops there.
std::vector<std::string> SearchWords(std::string_view text, size_t max_words = 16);

// The Norwegian phonetic key of a normalised word (output of NormalizeSearchWord): spelling
// variants of the same spoken name give the same key (THOMAS/TOMAS, AASE/ÅSE, KJERSTI/CHERSTI,
// NIELSEN/NILSEN, ...), while vowels are kept so that different names mostly stay apart
// (ANNE/ANNA, OLA/OLE). The key is A–Z, 0–9 and Æ Ø Å (UTF-8); X in a key stands for the kj/sj
// sound. Deterministic; never empty for a non-empty normalised word. Input that is not normalised
// is normalised first (so PhoneticKey("thomas") == PhoneticKey("THOMAS")).
std::string PhoneticKey(std::string_view normalized_word);

}  // namespace norreg::freg
