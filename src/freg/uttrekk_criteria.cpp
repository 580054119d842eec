#include "freg/uttrekk_criteria.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>

#include "common/escape.hpp"
#include "freg/render.hpp"
#include "freg/row_scan.hpp"

namespace norreg::freg {
namespace {

// ---------------------------------------------------------------------------------------------
// Vocabulary (reference/freg/freg-omh-1.5.yaml: TilpassetUttrekkJobbRequest, Personstatus).

// Every status a person can have, in the order ToJson writes them.
constexpr std::array<std::string_view, 9> kStatusOrder = {
    "bosatt",      "utflyttet", "forsvunnet", "doed", "opphoert", "foedselsregistrert",
    "midlertidig", "inaktiv",   "ikkeBosatt"};
// The request group `aktiv`.
constexpr std::array<std::string_view, 4> kAktiv = {"midlertidig", "ikkeBosatt", "forsvunnet",
                                                    "foedselsregistrert"};
// Values of personstatustyper in the OpenAPI file.
constexpr std::array<std::string_view, 5> kRequestStatuses = {"aktiv", "bosatt", "utflyttet",
                                                              "doed", "inaktiv"};
// The member of a stored job's criteria that records UttrekkCriteria::withhold_confidential.
constexpr std::string_view kStoredConfidentialKey = "norregUtenTaushetsbelagt";
constexpr std::array<std::string_view, 2> kKjoenn = {"kvinne", "mann"};
constexpr std::array<std::string_view, 10> kSivilstand = {
    "uoppgitt",          "ugift",           "gift",
    "enkeEllerEnkemann", "skilt",           "separert",
    "registrertPartner", "separertPartner", "skiltPartner",
    "gjenlevendePartner"};

constexpr int kMinYear = 1800;
constexpr int kMaxYear = 2100;
constexpr size_t kMaxAdressenavn = 200;

template <size_t N>
bool OneOf(const std::array<std::string_view, N>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidInput, std::move(message));
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

bool IsDigits(std::string_view s, size_t n) {
  return s.size() == n &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---------------------------------------------------------------------------------------------
// Request parsing (Boost.JSON: runs once per order, not per person).

// A year given as a 4-digit string ("1950", as the OpenAPI file types it) or as an integer.
Status ParseYear(const boost::json::value& v, std::string_view field, std::optional<int>& out) {
  int year = 0;
  if (v.is_string()) {
    const std::string_view s = v.get_string();
    if (!IsDigits(s, 4)) {
      return Invalid(std::string(field) + ": må være et årstall med fire siffer, fikk " +
                     Quoted(s));
    }
    std::from_chars(s.data(), s.data() + s.size(), year);
  } else if (v.is_int64() || v.is_uint64()) {
    const bool in_range = v.is_int64() && v.get_int64() >= kMinYear && v.get_int64() <= kMaxYear;
    if (!in_range) return Invalid(std::string(field) + ": årstallet må være mellom 1800 og 2100");
    year = static_cast<int>(v.get_int64());
  } else {
    return Invalid(std::string(field) + ": må være et årstall (streng med fire siffer)");
  }
  if (year < kMinYear || year > kMaxYear) {
    return Invalid(std::string(field) + ": årstallet må være mellom 1800 og 2100");
  }
  out = year;
  return Status::Ok();
}

Status ParseString(const boost::json::value& v, std::string_view field, std::string_view& out) {
  if (!v.is_string()) return Invalid(std::string(field) + ": må være en streng");
  out = v.get_string();
  return Status::Ok();
}

Status ParseStatuses(const boost::json::value& v, UttrekkCriteria& c) {
  if (!v.is_array()) return Invalid("personstatustyper: må være en liste med statuser");
  const auto& arr = v.get_array();
  if (arr.empty()) return Invalid("personstatustyper: må inneholde minst én status");
  std::array<bool, kStatusOrder.size()> want{};
  auto mark = [&](std::string_view s) {
    for (size_t i = 0; i < kStatusOrder.size(); ++i) {
      if (kStatusOrder[i] == s) want[i] = true;
    }
  };
  for (const auto& item : arr) {
    if (!item.is_string()) return Invalid("personstatustyper: hver status må være en streng");
    const std::string_view s = item.get_string();
    if (s == "aktiv") {
      for (std::string_view a : kAktiv) mark(a);
    } else if (OneOf(kRequestStatuses, s) || OneOf(kStatusOrder, s)) {
      // The fine-grained statuses (norreg) let every UttrekkCriteria round-trip through ToJson.
      mark(s);
    } else {
      return Invalid("personstatustyper: ukjent status " + Quoted(s) +
                     " (gyldige: aktiv, bosatt, utflyttet, doed, inaktiv)");
    }
  }
  c.statuses.clear();
  for (size_t i = 0; i < kStatusOrder.size(); ++i) {
    if (want[i]) c.statuses.emplace_back(kStatusOrder[i]);
  }
  return Status::Ok();
}

Status ParseKommune(const boost::json::value& v, UttrekkCriteria& c) {
  if (v.is_null()) return Status::Ok();
  if (!v.is_object()) return Invalid("kommunenummer: må være et objekt");
  for (const auto& kv : v.get_object()) {
    const std::string_view key = kv.key();
    std::string* target = nullptr;
    if (key == "bostedskommunenummer") {
      target = &c.bostedskommunenummer;
    } else if (key == "oppholdskommunenummer") {
      target = &c.oppholdskommunenummer;
    } else {
      return Invalid("kommunenummer: ukjent felt " + Quoted(key) +
                     " (gyldige: bostedskommunenummer, oppholdskommunenummer)");
    }
    if (kv.value().is_null()) continue;
    const std::string field = "kommunenummer." + std::string(key);
    std::string_view s;
    if (Status st = ParseString(kv.value(), field, s); !st) return st;
    if (!IsDigits(s, 4)) {
      return Invalid(field + ": må være et kommunenummer med fire siffer, fikk " + Quoted(s));
    }
    target->assign(s);
  }
  if (!c.bostedskommunenummer.empty() && !c.oppholdskommunenummer.empty()) {
    return Invalid(
        "kommunenummer: oppgi enten bostedskommunenummer eller oppholdskommunenummer, ikke begge");
  }
  return Status::Ok();
}

std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Valid UTF-8 without control characters.
bool IsValidText(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == 0x7F) return false;  // control characters
      ++i;
      continue;
    }
    const size_t n = ValidUtf8Length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

Status CheckRange(const std::optional<int>& fra, const std::optional<int>& til,
                  std::string_view fra_name, std::string_view til_name) {
  if (fra && til && *fra > *til) {
    return Invalid(std::string(fra_name) + ": kan ikke være senere enn " + std::string(til_name));
  }
  return Status::Ok();
}

Status ParseMember(std::string_view key, const boost::json::value& v, UttrekkCriteria& c) {
  // null means "not given" (clients that serialise every field of the request class send nulls).
  if (key == "personstatustyper") return ParseStatuses(v, c);
  if (v.is_null()) return Status::Ok();
  if (key == "kommunenummer") return ParseKommune(v, c);
  if (key == "foedselsaarFraOgMed") return ParseYear(v, key, c.foedselsaar_fra);
  if (key == "foedselsaarTilOgMed") return ParseYear(v, key, c.foedselsaar_til);
  if (key == "doedsaarFraOgMed") return ParseYear(v, key, c.doedsaar_fra);
  if (key == "doedsaarTilOgMed") return ParseYear(v, key, c.doedsaar_til);
  std::string_view s;
  if (key == "kjoenn") {
    if (Status st = ParseString(v, key, s); !st) return st;
    if (!OneOf(kKjoenn, s))
      return Invalid("kjoenn: ukjent verdi " + Quoted(s) + " (gyldige: kvinne, mann)");
    c.kjoenn.assign(s);
    return Status::Ok();
  }
  if (key == "sivilstandstype") {
    if (Status st = ParseString(v, key, s); !st) return st;
    if (!OneOf(kSivilstand, s)) return Invalid("sivilstandstype: ukjent verdi " + Quoted(s));
    c.sivilstandstype.assign(s);
    return Status::Ok();
  }
  if (key == "statsborgerskap") {
    if (Status st = ParseString(v, key, s); !st) return st;
    const bool alpha3 = s.size() == 3 && std::all_of(s.begin(), s.end(), [](char ch) {
                          return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
                        });
    if (!alpha3) {
      return Invalid(
          "statsborgerskap: må være en landkode med tre bokstaver (ISO 3166 alpha-3), fikk " +
          Quoted(s));
    }
    c.statsborgerskap.assign(s);
    for (char& ch : c.statsborgerskap) ch = static_cast<char>(ch & ~0x20);  // the register's form
    return Status::Ok();
  }
  if (key == "adressenavn") {
    if (Status st = ParseString(v, key, s); !st) return st;
    s = TrimAscii(s);
    if (s.empty()) return Invalid("adressenavn: kan ikke være tom");
    if (s.size() > kMaxAdressenavn) return Invalid("adressenavn: er for lang (høyst 200 tegn)");
    if (!IsValidText(s)) return Invalid("adressenavn: inneholder ugyldige tegn");
    c.adressenavn.assign(s);
    return Status::Ok();
  }
  return Invalid("ukjent felt " + Quoted(key) + " i forespørselen");
}

// Code points of a raw JSON string body (escapes decoded) or of plain UTF-8. Invalid UTF-8 bytes
// and bad escapes come out as values above the Unicode range, so they only ever equal themselves.
class CodePoints {
 public:
  CodePoints(std::string_view s, bool json) : s_(s), json_(json) {}
  bool Done() const { return i_ >= s_.size(); }

  uint32_t Next() {
    const auto b = static_cast<uint8_t>(s_[i_]);
    if (json_ && b == '\\') return Escape();
    if (b < 0x80) {
      ++i_;
      return b;
    }
    const size_t n = ValidUtf8Length(s_, i_);
    if (n == 0) {
      ++i_;
      return 0x200000u | b;
    }
    uint32_t cp = b & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s_[i_ + k]) & 0x3F);
    i_ += n;
    return cp;
  }

 private:
  uint32_t Escape() {
    ++i_;
    if (i_ >= s_.size()) return 0x200000u;
    const char e = s_[i_++];
    switch (e) {
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      case 'u': {
        uint32_t cp = 0;
        if (!Hex4(cp)) return 0x200000u;
        if (cp >= 0xD800 && cp <= 0xDBFF && i_ + 6 <= s_.size() && s_[i_] == '\\' &&
            s_[i_ + 1] == 'u') {
          const size_t save = i_;
          i_ += 2;
          uint32_t low = 0;
          if (Hex4(low) && low >= 0xDC00 && low <= 0xDFFF) {
            return 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          i_ = save;
        }
        return cp;
      }
      default:
        return static_cast<uint8_t>(e);  // \" \\ \/
    }
  }

  bool Hex4(uint32_t& v) {
    if (i_ + 4 > s_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_ + k];
      int h = -1;
      if (c >= '0' && c <= '9') h = c - '0';
      if (c >= 'a' && c <= 'f') h = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') h = c - 'A' + 10;
      if (h < 0) return false;
      v = (v << 4) | static_cast<uint32_t>(h);
    }
    i_ += 4;
    return true;
  }

  std::string_view s_;
  bool json_;
  size_t i_ = 0;
};

// Case folding for street names: ASCII and Latin-1 letters (Æ Ø Å, accented Latin), which covers
// Norwegian names.
uint32_t Fold(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 0x20;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  return cp;
}

// Whether the raw JSON string body `raw` equals the plain UTF-8 `want`.
bool JsonStringEquals(std::string_view raw, std::string_view want, bool fold) {
  if (!fold && raw.find('\\') == std::string_view::npos) return raw == want;
  CodePoints a(raw, true);
  CodePoints b(want, false);
  while (!a.Done() && !b.Done()) {
    uint32_t x = a.Next();
    uint32_t y = b.Next();
    if (fold) {
      x = Fold(x);
      y = Fold(y);
    }
    if (x != y) return false;
  }
  return a.Done() && b.Done();
}

bool StringMemberEquals(std::string_view json, std::string_view key, std::string_view want,
                        bool fold = false) {
  std::string_view raw;
  return StringMember(json, key, raw) && JsonStringEquals(raw, want, fold);
}

// The year of "YYYY" or "YYYY-MM-DD" (raw JSON string body), or -1.
int YearOf(std::string_view raw) {
  if (raw.size() < 4 || !IsDigits(raw.substr(0, 4), 4)) return -1;
  if (raw.size() > 4 && raw[4] != '-') return -1;
  return (raw[0] - '0') * 1000 + (raw[1] - '0') * 100 + (raw[2] - '0') * 10 + (raw[3] - '0');
}

bool InRange(int year, const std::optional<int>& fra, const std::optional<int>& til) {
  return year >= 0 && (!fra || year >= *fra) && (!til || year <= *til);
}

// Whether the kommunenummer of an address row's address object is `kommune`: the vegadresse's,
// else the matrikkeladresse's (in its matrikkelnummer), else with `ukjent_bosted` (bostedsadresse)
// the ukjentBosted's bostedskommune. `vegadresse` is the row's vegadresse object or empty.
bool AddressKommuneEquals(std::string_view row, std::string_view vegadresse,
                          std::string_view kommune, bool ukjent_bosted) {
  if (!vegadresse.empty()) return StringMemberEquals(vegadresse, "kommunenummer", kommune);
  std::string_view obj;
  if (ObjectMember(row, "matrikkeladresse", obj)) {
    std::string_view nummer;
    return ObjectMember(obj, "matrikkelnummer", nummer) &&
           StringMemberEquals(nummer, "kommunenummer", kommune);
  }
  if (ukjent_bosted && ObjectMember(row, "ukjentBosted", obj)) {
    return StringMemberEquals(obj, "bostedskommune", kommune);
  }
  return false;
}

void AppendYear(std::string& out, std::string_view key, const std::optional<int>& year) {
  if (!year) return;
  out.append(",\"").append(key).append("\":\"").append(std::to_string(*year)).push_back('"');
}

void AppendStringMember(std::string& out, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  out.append(",\"").append(key).append("\":");
  AppendJsonString(out, value);
}

}  // namespace

Result<UttrekkCriteria> ParseUttrekkCriteria(std::string_view json, bool stored) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json, ec);
  if (ec) return Invalid("Forespørselen er ikke gyldig JSON");
  if (!doc.is_object()) return Invalid("Forespørselen må være et JSON-objekt");
  const auto& obj = doc.get_object();
  UttrekkCriteria c;
  bool have_statuses = false;
  for (const auto& kv : obj) {
    const std::string_view key = kv.key();
    if (key == "personstatustyper") have_statuses = true;
    if (stored && key == kStoredConfidentialKey) {
      c.withhold_confidential = kv.value().is_bool() && kv.value().get_bool();
      continue;
    }
    if (Status st = ParseMember(key, kv.value(), c); !st) return st.error();
  }
  if (!have_statuses) return Invalid("personstatustyper: må oppgis");
  if (Status st = CheckRange(c.foedselsaar_fra, c.foedselsaar_til, "foedselsaarFraOgMed",
                             "foedselsaarTilOgMed");
      !st) {
    return st.error();
  }
  if (Status st =
          CheckRange(c.doedsaar_fra, c.doedsaar_til, "doedsaarFraOgMed", "doedsaarTilOgMed");
      !st) {
    return st.error();
  }
  return c;
}

std::string UttrekkCriteria::ToJson() const {
  std::string out = "{\"personstatustyper\":[";
  // The fine-grained statuses in canonical order, with a complete `aktiv` group written as such.
  auto has = [&](std::string_view s) {
    return std::find(statuses.begin(), statuses.end(), s) != statuses.end();
  };
  const bool aktiv = std::all_of(kAktiv.begin(), kAktiv.end(), has);
  bool first = true;
  auto add = [&](std::string_view s) {
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(out, s);
  };
  if (aktiv) add("aktiv");
  for (std::string_view s : kStatusOrder) {
    if (has(s) && !(aktiv && OneOf(kAktiv, s))) add(s);
  }
  out.push_back(']');
  if (!bostedskommunenummer.empty() || !oppholdskommunenummer.empty()) {
    out.append(",\"kommunenummer\":{");
    if (!bostedskommunenummer.empty()) {
      out.append("\"bostedskommunenummer\":");
      AppendJsonString(out, bostedskommunenummer);
    } else {
      out.append("\"oppholdskommunenummer\":");
      AppendJsonString(out, oppholdskommunenummer);
    }
    out.push_back('}');
  }
  AppendYear(out, "foedselsaarFraOgMed", foedselsaar_fra);
  AppendYear(out, "foedselsaarTilOgMed", foedselsaar_til);
  AppendYear(out, "doedsaarFraOgMed", doedsaar_fra);
  AppendYear(out, "doedsaarTilOgMed", doedsaar_til);
  AppendStringMember(out, "kjoenn", kjoenn);
  AppendStringMember(out, "statsborgerskap", statsborgerskap);
  AppendStringMember(out, "sivilstandstype", sivilstandstype);
  AppendStringMember(out, "adressenavn", adressenavn);
  out.push_back('}');
  if (withhold_confidential) {
    out.pop_back();  // the closing brace
    out.append(",\"");
    out.append(kStoredConfidentialKey);
    out.append("\":true}");
  }
  return out;
}

bool Matches(const UttrekkCriteria& criteria, const RecordView& view, uint64_t seq) {
  const UttrekkCriteria& c = criteria;
  const bool want_foedsel = c.foedselsaar_fra || c.foedselsaar_til;
  const bool want_doed = c.doedsaar_fra || c.doedsaar_til;
  const bool want_bosted = !c.bostedskommunenummer.empty() || !c.adressenavn.empty();
  const bool want_opphold = !c.oppholdskommunenummer.empty();

  bool status_ok = false;
  bool foedsel_ok = !want_foedsel;
  bool doed_ok = !want_doed;
  bool bosted_ok = c.bostedskommunenummer.empty();
  bool adressenavn_ok = c.adressenavn.empty();
  bool opphold_ok = !want_opphold;
  bool kjoenn_ok = c.kjoenn.empty();
  bool statsborgerskap_ok = c.statsborgerskap.empty();
  bool sivilstand_ok = c.sivilstandstype.empty();
  Gradering gradering = Gradering::kUgradert;

  // Rows are grouped by property in enum order (SortRows) in every stored record; then a
  // property's criterion is settled when its run of rows ends, so a failing person is left early
  // and the rows after the last property asked about are not looked at.
  const std::span<const RowView> rows = view.rows();
  const bool grouped =
      std::is_sorted(rows.begin(), rows.end(),
                     [](const RowView& a, const RowView& b) { return a.property < b.property; });
  auto settled = [&](Property p) {
    switch (p) {
      case Property::kStatus:
        return status_ok;
      case Property::kFoedsel:
        return foedsel_ok;
      case Property::kDoedsfall:
        return doed_ok;
      case Property::kBostedsadresse:
        return bosted_ok && adressenavn_ok;
      case Property::kOppholdsadresse:
        return opphold_ok;
      case Property::kKjoenn:
        return kjoenn_ok;
      case Property::kStatsborgerskap:
        return statsborgerskap_ok;
      case Property::kSivilstand:
        return sivilstand_ok;
      default:
        return true;
    }
  };
  Property last = Property::kStatus;
  auto need = [&](bool wanted, Property p) {
    if (wanted && p > last) last = p;
  };
  need(want_doed, Property::kDoedsfall);
  need(!c.sivilstandstype.empty(), Property::kSivilstand);
  need(want_bosted, Property::kBostedsadresse);
  need(want_opphold, Property::kOppholdsadresse);
  need(want_bosted || want_opphold, Property::kAdressebeskyttelse);
  need(!c.kjoenn.empty(), Property::kKjoenn);
  need(!c.statsborgerskap.empty(), Property::kStatsborgerskap);
  need(want_foedsel, Property::kFoedsel);

  Property run = Property::kFalskIdentitet;
  std::string_view raw;
  for (const RowView& row : rows) {
    if (grouped && row.property != run) {
      if (!settled(run)) return false;
      if (row.property > last) break;
      run = row.property;
    }
    if (!row.PresentAt(seq) || !row.CurrentAt(seq)) continue;
    const std::string_view json = row.json;
    switch (row.property) {
      case Property::kStatus:
        if (!status_ok && StringMember(json, "status", raw)) {
          for (const std::string& s : c.statuses) {
            if (JsonStringEquals(raw, s, false)) {
              status_ok = true;
              break;
            }
          }
        }
        break;
      case Property::kFoedsel:
        if (!foedsel_ok) {
          int year = -1;
          if (StringMember(json, "foedselsaar", raw)) year = YearOf(raw);
          if (year < 0 && StringMember(json, "foedselsdato", raw)) year = YearOf(raw);
          foedsel_ok = InRange(year, c.foedselsaar_fra, c.foedselsaar_til);
        }
        break;
      case Property::kDoedsfall:
        if (!doed_ok && StringMember(json, "doedsdato", raw)) {
          doed_ok = InRange(YearOf(raw), c.doedsaar_fra, c.doedsaar_til);
        }
        break;
      case Property::kBostedsadresse:
        if (want_bosted && !(bosted_ok && adressenavn_ok)) {
          std::string_view veg;
          if (!ObjectMember(json, "vegadresse", veg)) veg = {};
          if (!bosted_ok) bosted_ok = AddressKommuneEquals(json, veg, c.bostedskommunenummer, true);
          if (!adressenavn_ok && !veg.empty()) {
            adressenavn_ok = StringMemberEquals(veg, "adressenavn", c.adressenavn, true);
          }
        }
        break;
      case Property::kOppholdsadresse:
        if (!opphold_ok) {
          std::string_view veg;
          if (!ObjectMember(json, "vegadresse", veg)) veg = {};
          opphold_ok = AddressKommuneEquals(json, veg, c.oppholdskommunenummer, false);
        }
        break;
      case Property::kAdressebeskyttelse:
        if (want_bosted || want_opphold) {
          if (StringMemberEquals(json, "graderingsnivaa", "strengtFortrolig")) {
            gradering = Gradering::kStrengtFortrolig;
          } else if (StringMemberEquals(json, "graderingsnivaa", "fortrolig")) {
            gradering = std::max(gradering, Gradering::kFortrolig);
          }
        }
        break;
      case Property::kKjoenn:
        if (!kjoenn_ok) kjoenn_ok = StringMemberEquals(json, "kjoenn", c.kjoenn);
        break;
      case Property::kStatsborgerskap:
        if (!statsborgerskap_ok) {
          statsborgerskap_ok = StringMemberEquals(json, "statsborgerskap", c.statsborgerskap);
        }
        break;
      case Property::kSivilstand:
        if (!sivilstand_ok)
          sivilstand_ok = StringMemberEquals(json, "sivilstand", c.sivilstandstype);
        break;
      default:
        break;
    }
  }
  // The address of a strengtFortrolig person is not disclosed (SPEC 2.3), nor that of a fortrolig
  // one to a package without confidential data, so an address criterion must not reveal it
  // either: such a person never matches one.
  const bool protected_address = gradering == Gradering::kStrengtFortrolig ||
                                 (c.withhold_confidential && gradering == Gradering::kFortrolig);
  if (protected_address && (want_bosted || want_opphold)) return false;
  return status_ok && foedsel_ok && doed_ok && bosted_ok && adressenavn_ok && opphold_ok &&
         kjoenn_ok && statsborgerskap_ok && sivilstand_ok;
}

}  // namespace norreg::freg
