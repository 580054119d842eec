#include "freg/person_search.hpp"

#include <algorithm>
#include <charconv>

#include "freg/render.hpp"
#include "freg/row_scan.hpp"
#include "freg/search_text.hpp"

namespace norreg::freg {
namespace {

// Stored names are short; a longer one is cut rather than indexed word by word without end.
constexpr size_t kMaxNameWords = 8;

uint64_t Fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Row values are read raw (escapes not decoded): the canonical row text escapes only quotes,
// backslashes and control characters, none of which is part of a name, street or number.
std::string_view Member(std::string_view json, std::string_view key) {
  std::string_view out;
  return StringMember(json, key, out) ? out : std::string_view();
}

std::string_view Nested(std::string_view json, std::string_view object, std::string_view key) {
  std::string_view inner;
  if (!ObjectMember(json, object, inner)) return {};
  return Member(inner, key);
}

// The words of a navn row: fornavn, mellomnavn, etternavn, and which part each came from.
struct NameWord {
  std::string word;
  uint8_t part = 0;  // 0 fornavn, 1 mellomnavn, 2 etternavn
};

void NameWords(std::string_view row, std::vector<NameWord>& out) {
  out.clear();
  static constexpr std::string_view kParts[] = {"fornavn", "mellomnavn", "etternavn"};
  for (uint8_t part = 0; part < 3; ++part) {
    for (std::string& w : SearchWords(Member(row, kParts[part]), kMaxNameWords)) {
      if (out.size() == kMaxNameWords) return;
      out.push_back({std::move(w), part});
    }
  }
}

// The address fields search compares, from one bostedsadresse or oppholdsadresse row.
struct AddressFields {
  std::string_view adressenavn, husnummer, husbokstav, postnummer, kommunenummer;
};

AddressFields AddressOf(std::string_view row) {
  AddressFields a;
  std::string_view obj;
  if (ObjectMember(row, "vegadresse", obj)) {
    a.adressenavn = Member(obj, "adressenavn");
    a.kommunenummer = Member(obj, "kommunenummer");
    a.postnummer = Nested(obj, "poststed", "postnummer");
    std::string_view nummer;
    if (ObjectMember(obj, "adressenummer", nummer)) {
      a.husnummer = Member(nummer, "husnummer");
      a.husbokstav = Member(nummer, "husbokstav");
    }
  } else if (ObjectMember(row, "matrikkeladresse", obj)) {
    a.kommunenummer = Nested(obj, "matrikkelnummer", "kommunenummer");
    a.postnummer = Nested(obj, "poststed", "postnummer");
  } else if (ObjectMember(row, "ukjentBosted", obj)) {
    a.kommunenummer = Member(obj, "bostedskommune");
  }
  return a;
}

// The normalised foreign identifier of a row of one of the three identifier properties:
// "<UTSTEDERLAND>-<NUMMER>" (utlendingsmyndighetenes number: the number alone).
std::string ForeignIdOf(Property p, std::string_view row) {
  if (p == Property::kUtlendingsmyndighetenesIdentifikasjonsnummer) {
    return NormalizeForeignId(Member(row, "identifikasjonsnummer"));
  }
  const std::string_view number =
      Member(row, p == Property::kLegitimasjonsdokument ? "identifikasjonsdokumentnummer"
                                                        : "identifikasjonsnummer");
  return NormalizeForeignId(std::string(Member(row, "utstederland")) + "-" + std::string(number));
}

// A term with whether a current row gave it.
struct FoundTerm {
  uint32_t term;
  bool current;
};

// `rows`: a PersonRecord's rows or a RecordView's; `protect`: the person is strengtFortrolig.
template <typename Rows>
std::vector<uint32_t> TermsOf(const Rows& rows, bool protect, uint64_t seq) {
  std::vector<FoundTerm> found;
  std::vector<NameWord> words;
  std::vector<std::string> keys;
  bool dead = false;
  for (const auto& row : rows) {
    if (row.property == Property::kStatus && row.PresentAt(seq) && row.CurrentAt(seq) &&
        Member(row.json, "status") == "doed") {
      dead = true;
    }
  }
  for (const auto& row : rows) {
    if (!row.PresentAt(seq)) continue;
    const std::string_view json = row.json;
    const bool current = row.CurrentAt(seq);
    auto add = [&](uint32_t term) { found.push_back({term, current}); };
    switch (row.property) {
      case Property::kNavn: {
        NameWords(json, words);
        keys.clear();
        for (const NameWord& w : words) keys.push_back(PhoneticKey(w.word));
        for (size_t i = 0; i < keys.size(); ++i) {
          add(SearchTerm(SearchTermKind::kNameWord, keys[i]));
          for (size_t j = i + 1; j < keys.size(); ++j) {
            add(NamePairTerm(keys[i], keys[j]));
          }
        }
        break;
      }
      case Property::kFoedsel:
        if (auto d = Member(json, "foedselsdato"); !d.empty()) {
          add(SearchTerm(SearchTermKind::kBirthDate, d));
        }
        break;
      case Property::kBostedsadresse:
      case Property::kOppholdsadresse: {
        if (protect) break;
        const AddressFields a = AddressOf(json);
        const std::string prefix = StreetPrefix(NormalizeStreet(a.adressenavn));
        if (!prefix.empty()) {
          add(SearchTerm(SearchTermKind::kStreet, prefix));
          if (!a.postnummer.empty()) add(PostStreetTerm(a.postnummer, prefix));
        }
        if (!a.postnummer.empty()) {
          add(SearchTerm(SearchTermKind::kPostnummer, a.postnummer));
        }
        if (!a.kommunenummer.empty()) {
          add(SearchTerm(SearchTermKind::kKommune, a.kommunenummer));
        }
        break;
      }
      case Property::kUtenlandskPersonidentifikasjon:
        add(SearchTerm(SearchTermKind::kUtenlandskId, ForeignIdOf(row.property, json)));
        break;
      case Property::kLegitimasjonsdokument:
        add(SearchTerm(SearchTermKind::kLegitimasjon, ForeignIdOf(row.property, json)));
        break;
      case Property::kUtlendingsmyndighetenesIdentifikasjonsnummer:
        add(SearchTerm(SearchTermKind::kDuf, ForeignIdOf(row.property, json)));
        break;
      default:
        break;
    }
  }
  // One scope per value: current when any current row has it.
  std::sort(found.begin(), found.end(), [](const FoundTerm& a, const FoundTerm& b) {
    return a.term != b.term ? a.term < b.term : a.current > b.current;
  });
  std::vector<uint32_t> terms;
  terms.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    if (i > 0 && found[i].term == found[i - 1].term) continue;
    const TermScope scope = found[i].current
                                ? (dead ? TermScope::kCurrentDead : TermScope::kCurrent)
                                : (dead ? TermScope::kHistoryDead : TermScope::kHistory);
    terms.push_back(ScopedTerm(found[i].term, scope));
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

// --- matching ---

bool WordMatches(const std::string& query, const std::string& query_key, const NameWord& word,
                 bool fonetisk) {
  if (word.word == query) return true;
  return fonetisk && PhoneticKey(word.word) == query_key;
}

bool NameRowMatches(std::string_view row, const SearchCriteria& c,
                    const std::vector<std::string>& query_keys, std::vector<NameWord>& words) {
  NameWords(row, words);
  const size_t n = c.navn.size();
  for (size_t q = 0; q < n; ++q) {
    bool found = false;
    for (const NameWord& w : words) {
      if (c.navn_ordered && n >= 2) {
        if (q == 0 && w.part != 0) continue;      // the first word: a word of fornavn
        if (q == n - 1 && w.part != 2) continue;  // the last word: a word of etternavn
      }
      if (WordMatches(c.navn[q], query_keys[q], w, c.fonetisk)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

std::optional<uint32_t> ParseUint(std::string_view s) {
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Whether `row` satisfies every address criterion; `has_husnummer` tells whether it has a number.
bool AddressMatches(std::string_view row, const SearchCriteria& c, bool& has_husnummer) {
  const AddressFields a = AddressOf(row);
  has_husnummer = !a.husnummer.empty();
  if (!c.adressenavn.empty() && !StartsWith(NormalizeStreet(a.adressenavn), c.adressenavn)) {
    return false;
  }
  if (c.husnummer) {
    if (ParseUint(a.husnummer) != c.husnummer) return false;
    const std::string letter = NormalizeSearchWord(a.husbokstav);
    if ((c.husbokstav_exact || !c.husbokstav.empty()) && letter != c.husbokstav) return false;
  }
  if (!c.postnummer.empty() && a.postnummer != c.postnummer) return false;
  if (!c.kommunenummer.empty() && a.kommunenummer != c.kommunenummer) return false;
  if (!c.fylkesnummer.empty() && !StartsWith(a.kommunenummer, c.fylkesnummer)) return false;
  return true;
}

std::optional<int> YearOf(std::string_view foedsel_row) {
  std::string_view year = Member(foedsel_row, "foedselsaar");
  if (year.empty()) year = Member(foedsel_row, "foedselsdato").substr(0, 4);
  auto v = ParseUint(year);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

}  // namespace

uint32_t SearchTerm(SearchTermKind kind, std::string_view value) {
  uint64_t h = 0xcbf29ce484222325ULL;
  const char k = static_cast<char>(kind);
  h = Fnv1a(h, std::string_view(&k, 1));
  h = Fnv1a(h, value);
  return static_cast<uint32_t>(h ^ (h >> 32));
}

uint32_t ScopedTerm(uint32_t term, TermScope scope) {
  if (scope == TermScope::kCurrent) return term;
  // The finaliser of MurmurHash3 (a bijection of 32-bit values) of the term xor a constant of the
  // scope (another).
  uint32_t h = term ^ (0x9E3779B9u * static_cast<uint32_t>(scope));
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

uint32_t NamePairTerm(std::string_view key_a, std::string_view key_b) {
  if (key_b < key_a) std::swap(key_a, key_b);
  return SearchTerm(SearchTermKind::kNamePair, std::string(key_a) + "|" + std::string(key_b));
}

uint32_t PostStreetTerm(std::string_view postnummer, std::string_view street_prefix) {
  return SearchTerm(SearchTermKind::kPostStreet,
                    std::string(postnummer) + "|" + std::string(street_prefix));
}

std::vector<uint32_t> SearchTermsOf(const PersonRecord& record, uint64_t seq) {
  return TermsOf(record.rows, IsStrengtFortroligAt(record, seq), seq);
}

std::vector<uint32_t> SearchTermsOf(const RecordView& record, uint64_t seq) {
  return TermsOf(record.rows(), IsStrengtFortroligAt(record, seq), seq);
}

std::string NormalizeStreet(std::string_view text) {
  std::string out;
  for (const std::string& w : SearchWords(text, 16)) {
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

std::string StreetPrefix(std::string_view s) {
  size_t i = 0;
  for (int chars = 0; chars < 3; ++chars) {
    if (i >= s.size()) return {};
    const auto b = static_cast<unsigned char>(s[i]);
    i += b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
  }
  return i <= s.size() ? std::string(s.substr(0, i)) : std::string();
}

std::string NormalizeForeignId(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    if (ch == ' ' || ch == '\t') continue;
    out.push_back(ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch);
  }
  return out;
}

SearchMatch Matches(const RecordView& record, uint64_t seq, const SearchCriteria& c) {
  SearchMatch result;
  const Gradering gradering = GraderingAt(record, seq);
  const bool protect = gradering == Gradering::kStrengtFortrolig ||
                       (c.withhold_confidential && gradering == Gradering::kFortrolig);
  if (protect && c.HasAddress()) return result;
  std::vector<std::string> query_keys;
  if (c.fonetisk) {
    for (const std::string& w : c.navn) query_keys.push_back(PhoneticKey(w));
  } else {
    query_keys.resize(c.navn.size());
  }
  bool name_ok = c.navn.empty();
  bool address_ok = !c.HasAddress();
  bool kjoenn_ok = c.kjoenn.empty(), dato_ok = c.foedselsdato.empty();
  bool aar_ok = !c.foedselsaar_fra && !c.foedselsaar_til;
  bool utenlandsk_ok = c.utenlandsk_id.empty(), legitimasjon_ok = c.legitimasjonsdokument.empty();
  bool duf_ok = c.duf.empty();
  bool dead = false;
  std::vector<NameWord> words;
  for (const RowView& row : record.rows()) {
    if (!row.PresentAt(seq)) continue;
    const bool current = row.CurrentAt(seq);
    const std::string_view json = row.json;
    switch (row.property) {
      case Property::kNavn:
        if (!name_ok && (current || c.historisk) && NameRowMatches(json, c, query_keys, words)) {
          name_ok = true;
        }
        break;
      case Property::kStatus:
        if (current && Member(json, "status") == "doed") dead = true;
        break;
      case Property::kKjoenn:
        if (current && Member(json, "kjoenn") == c.kjoenn) kjoenn_ok = true;
        break;
      case Property::kFoedsel:
        if (!current) break;
        if (!c.foedselsdato.empty() && Member(json, "foedselsdato") == c.foedselsdato) {
          dato_ok = true;
        }
        if (c.foedselsaar_fra || c.foedselsaar_til) {
          const auto year = YearOf(json);
          aar_ok = year && (!c.foedselsaar_fra || *year >= *c.foedselsaar_fra) &&
                   (!c.foedselsaar_til || *year <= *c.foedselsaar_til);
        }
        break;
      case Property::kUtenlandskPersonidentifikasjon:
        if (current && ForeignIdOf(row.property, json) == c.utenlandsk_id) utenlandsk_ok = true;
        break;
      case Property::kLegitimasjonsdokument:
        if (current && ForeignIdOf(row.property, json) == c.legitimasjonsdokument) {
          legitimasjon_ok = true;
        }
        break;
      case Property::kUtlendingsmyndighetenesIdentifikasjonsnummer:
        if (current && ForeignIdOf(row.property, json) == c.duf) duf_ok = true;
        break;
      case Property::kOppholdsadresse:
      case Property::kBostedsadresse: {
        const bool searched =
            row.property == Property::kBostedsadresse || c.inkluder_oppholdsadresse;
        bool has_husnummer = false;
        if (searched && (current || c.historisk) && AddressMatches(json, c, has_husnummer)) {
          address_ok = true;
          if (!has_husnummer) result.address_without_husnummer = true;
        }
        break;
      }
      default:
        break;
    }
  }
  if (dead && !c.inkluder_doede) return result;
  result.matched = name_ok && address_ok && kjoenn_ok && dato_ok && aar_ok && utenlandsk_ok &&
                   legitimasjon_ok && duf_ok;
  return result;
}

}  // namespace norreg::freg
