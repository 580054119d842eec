#include "freg/render.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <span>

#include "common/escape.hpp"

namespace norreg::freg {
namespace {

constexpr std::string_view kAjourPrefix = "{\"ajourholdstidspunkt\":\"";
constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD
constexpr int kMaxDepth = 64;

// ---------------------------------------------------------------------------------------------
// Escaping

// Appends one Unicode code point as XML-escaped UTF-8.
void AppendXmlCodepoint(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    const char c = static_cast<char>(cp);
    AppendXmlEscaped(out, std::string_view(&c, 1));
    return;
  }
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF || cp > 0x10FFFF) {
    out.append(kReplacementChar);
    return;
  }
  char buf[4];
  size_t n = 0;
  if (cp < 0x800) {
    buf[n++] = static_cast<char>(0xC0 | (cp >> 6));
  } else if (cp < 0x10000) {
    buf[n++] = static_cast<char>(0xE0 | (cp >> 12));
    buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  } else {
    buf[n++] = static_cast<char>(0xF0 | (cp >> 18));
    buf[n++] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    buf[n++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  }
  buf[n++] = static_cast<char>(0x80 | (cp & 0x3F));
  out.append(buf, n);
}

// ---------------------------------------------------------------------------------------------
// JSON -> XML transcoder. A recursive-descent parser over the row text that writes XML as it
// goes; callers roll `out` back on failure.

// 1: may start a plain name; 2: may continue one.
constexpr std::array<uint8_t, 256> MakeNameTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = 1;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = 1;
  t['_'] = 1;
  for (int c = '0'; c <= '9'; ++c) t[c] = 2;
  t['.'] = 2;
  t['-'] = 2;
  return t;
}
constexpr auto kNameChar = MakeNameTable();

bool IsPlainXmlName(std::string_view s) {
  if (s.empty() || kNameChar[static_cast<uint8_t>(s[0])] != 1) return false;
  for (char c : s) {
    if (kNameChar[static_cast<uint8_t>(c)] == 0) return false;
  }
  // Names starting with "xml" are reserved.
  return !(s.size() >= 3 && (s[0] | 0x20) == 'x' && (s[1] | 0x20) == 'm' && (s[2] | 0x20) == 'l');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class XmlTranscoder {
 public:
  XmlTranscoder(std::string_view json, std::string& out)
      : p_(json.data()), end_(json.data() + json.size()), out_(out) {}

  // Members of the top-level object. With `row` set, emits <erGjeldende> after
  // ajourholdstidspunkt (or first) and drops any erGjeldende member of the input.
  bool TopObject(bool row, bool current) {
    SkipWs();
    if (!ObjectMembers(0, row, current)) return false;
    SkipWs();
    return p_ == end_;
  }

 private:
  // Loops work on a local pointer: every write to `out_` may alias the members.
  void SkipWs() {
    const char* p = p_;
    while (p != end_ && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
    p_ = p;
  }

  bool Consume(char c) {
    SkipWs();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  void EmitErGjeldende(bool current) {
    out_.append(current ? "<erGjeldende>true</erGjeldende>" : "<erGjeldende>false</erGjeldende>");
  }

  // At '{'. Emits each member as an element.
  bool ObjectMembers(int depth, bool row, bool current) {
    if (depth >= kMaxDepth || !Consume('{')) return false;
    bool er_gjeldende_done = !row;
    SkipWs();
    if (p_ != end_ && *p_ == '}') {
      ++p_;
      if (!er_gjeldende_done) EmitErGjeldende(current);
      return true;
    }
    while (true) {
      std::string_view key;
      bool plain = false;
      if (!Key(key, plain) || !Consume(':')) return false;
      const bool is_ajour = row && key == "ajourholdstidspunkt";
      if (!er_gjeldende_done && !is_ajour) {
        EmitErGjeldende(current);
        er_gjeldende_done = true;
      }
      const size_t mark = out_.size();
      if (!Value(key, depth + 1)) return false;
      if (!plain || (row && key == "erGjeldende")) out_.resize(mark);  // dropped member
      if (is_ajour && !er_gjeldende_done) {
        EmitErGjeldende(current);
        er_gjeldende_done = true;
      }
      SkipWs();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        break;
      }
      return false;
    }
    if (!er_gjeldende_done) EmitErGjeldende(current);
    return true;
  }

  // A member key: its raw text, and whether it is usable as an element name.
  bool Key(std::string_view& key, bool& plain) {
    SkipWs();
    if (p_ == end_ || *p_ != '"') return false;
    const char* start = ++p_;
    const char* p = start;
    bool escaped = false;
    while (p != end_ && *p != '"') {
      if (*p == '\\') {
        escaped = true;
        if (++p == end_) return false;
      }
      ++p;
    }
    if (p == end_) return false;
    key = std::string_view(start, static_cast<size_t>(p - start));
    p_ = p + 1;
    plain = !escaped && IsPlainXmlName(key);
    return true;
  }

  // Writes each tag in place (one size change instead of three appends).
  void Open(std::string_view name) { Tag(name, false); }
  void Close(std::string_view name) { Tag(name, true); }
  void Tag(std::string_view name, bool close) {
    const size_t old = out_.size();
    const size_t n = name.size() + (close ? 3 : 2);
    out_.resize(old + n);
    char* d = out_.data() + old;
    *d++ = '<';
    if (close) *d++ = '/';
    std::memcpy(d, name.data(), name.size());
    d[name.size()] = '>';
  }

  // One value named `name`: an element, repeated elements for an array, nothing for null.
  bool Value(std::string_view name, int depth) {
    if (depth >= kMaxDepth) return false;
    SkipWs();
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
        Open(name);
        if (!ObjectMembers(depth, false, false)) return false;
        Close(name);
        return true;
      case '[': {
        ++p_;
        SkipWs();
        if (p_ != end_ && *p_ == ']') {
          ++p_;
          return true;
        }
        while (true) {
          if (!Value(name, depth + 1)) return false;
          SkipWs();
          if (p_ == end_) return false;
          if (*p_ == ',') {
            ++p_;
            continue;
          }
          if (*p_ == ']') {
            ++p_;
            return true;
          }
          return false;
        }
      }
      case '"':
        Open(name);
        if (!StringText()) return false;
        Close(name);
        return true;
      case 't':
        return Literal("true", name);
      case 'f':
        return Literal("false", name);
      case 'n':
        if (static_cast<size_t>(end_ - p_) < 4 || std::string_view(p_, 4) != "null") return false;
        p_ += 4;
        return true;
      default:
        return Number(name);
    }
  }

  bool Literal(std::string_view word, std::string_view name) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    Open(name);
    out_.append(word);
    Close(name);
    return true;
  }

  // JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number(std::string_view name) {
    const char* start = p_;
    auto digits = [&] {
      const char* d = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      return p_ != d;
    };
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ != end_ && *p_ == '0') {
      ++p_;
    } else if (!digits()) {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!digits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!digits()) return false;
    }
    Open(name);
    out_.append(start, static_cast<size_t>(p_ - start));
    Close(name);
    return true;
  }

  bool Hex4(uint32_t& v) {
    if (end_ - p_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = HexValue(p_[i]);
      if (h < 0) return false;
      v = (v << 4) | static_cast<uint32_t>(h);
    }
    p_ += 4;
    return true;
  }

  // At '"': decodes the string into XML-escaped UTF-8.
  bool StringText() {
    ++p_;
    while (true) {
      const char* run = p_;
      const char* p = p_;
      while (p != end_ && *p != '"' && *p != '\\') ++p;
      p_ = p;
      if (p_ != run) AppendXmlEscaped(out_, std::string_view(run, static_cast<size_t>(p_ - run)));
      if (p_ == end_) return false;
      if (*p_ == '"') {
        ++p_;
        return true;
      }
      ++p_;  // backslash
      if (p_ == end_) return false;
      const char e = *p_++;
      uint32_t cp = 0;
      switch (e) {
        case '"':
          cp = '"';
          break;
        case '\\':
          cp = '\\';
          break;
        case '/':
          cp = '/';
          break;
        case 'b':
          cp = '\b';
          break;
        case 'f':
          cp = '\f';
          break;
        case 'n':
          cp = '\n';
          break;
        case 'r':
          cp = '\r';
          break;
        case 't':
          cp = '\t';
          break;
        case 'u': {
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
            const char* save = p_;
            p_ += 2;
            uint32_t low = 0;
            if (Hex4(low) && low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              p_ = save;  // lone high surrogate: U+FFFD, and the next escape stands alone
            }
          }
          break;
        }
        default:
          return false;
      }
      AppendXmlCodepoint(out_, cp);
    }
  }

  const char* p_;
  const char* end_;
  std::string& out_;
};

// ---------------------------------------------------------------------------------------------
// Row selection, shared by both output forms.

std::span<const Row> RowsOf(const PersonRecord& r) { return r.rows; }
std::span<const RowView> RowsOf(const RecordView& r) { return r.rows(); }

// The graderingsnivaa of an adressebeskyttelse row (whitespace tolerated around ':');
// klientadresse and anything unknown count as ugradert.
Gradering GraderingOfRow(std::string_view json) {
  constexpr std::string_view kKey = "\"graderingsnivaa\"";
  size_t pos = json.find(kKey);
  if (pos == std::string_view::npos) return Gradering::kUgradert;
  pos += kKey.size();
  auto skip_ws = [&] {
    while (pos < json.size() &&
           (json[pos] == ' ' || json[pos] == '\t' || json[pos] == '\n' || json[pos] == '\r')) {
      ++pos;
    }
  };
  skip_ws();
  if (pos >= json.size() || json[pos] != ':') return Gradering::kUgradert;
  ++pos;
  skip_ws();
  const std::string_view value = json.substr(pos);
  if (value.starts_with("\"strengtFortrolig\"")) return Gradering::kStrengtFortrolig;
  if (value.starts_with("\"fortrolig\"")) return Gradering::kFortrolig;
  return Gradering::kUgradert;
}

template <typename RowT>
Gradering GraderingOf(std::span<const RowT> rows, uint64_t seq) {
  Gradering g = Gradering::kUgradert;
  for (const RowT& row : rows) {
    if (row.property == Property::kAdressebeskyttelse && row.PresentAt(seq) && row.CurrentAt(seq)) {
      g = std::max(g, GraderingOfRow(row.json));
    }
  }
  return g;
}

// Copies a JSON value, compacted, leaving out every object member named in `keys` at any depth.
// Linear in the input (times the few keys); at most kMaxDepth levels. Malformed input: Copy returns
// false.
class KeyStripper {
 public:
  KeyStripper(std::string_view json, std::string& out, std::span<const std::string_view> keys)
      : j_(json), out_(out), keys_(keys) {}

  bool Copy() {
    if (!Value(true, 0)) return false;
    Ws();
    return i_ == j_.size();
  }

 private:
  static constexpr int kMaxDepth = 64;

  void Ws() {
    while (i_ < j_.size() &&
           (j_[i_] == ' ' || j_[i_] == '\t' || j_[i_] == '\n' || j_[i_] == '\r')) {
      ++i_;
    }
  }
  void Emit(std::string_view text, bool emit) {
    if (emit) out_.append(text);
  }
  // A string at i_: copied (with its quotes) when `emit`; its raw content in `*raw` if given.
  bool String(bool emit, std::string_view* raw = nullptr) {
    if (i_ >= j_.size() || j_[i_] != '"') return false;
    const size_t start = i_++;
    while (i_ < j_.size() && j_[i_] != '"') i_ += j_[i_] == '\\' ? 2 : 1;
    if (i_ >= j_.size()) return false;
    ++i_;
    if (raw != nullptr) *raw = j_.substr(start + 1, i_ - start - 2);
    Emit(j_.substr(start, i_ - start), emit);
    return true;
  }
  bool Value(bool emit, int depth) {
    Ws();
    if (i_ >= j_.size()) return false;
    const char c = j_[i_];
    if (c == '{' || c == '[') {
      if (depth >= kMaxDepth) return false;
      return c == '{' ? Object(emit, depth + 1) : Array(emit, depth + 1);
    }
    if (c == '"') return String(emit);
    const size_t start = i_;
    while (i_ < j_.size() && j_[i_] != ',' && j_[i_] != '}' && j_[i_] != ']' && j_[i_] != ' ' &&
           j_[i_] != '\t' && j_[i_] != '\n' && j_[i_] != '\r') {
      ++i_;
    }
    if (i_ == start) return false;
    Emit(j_.substr(start, i_ - start), emit);
    return true;
  }
  bool Object(bool emit, int depth) {
    ++i_;  // '{'
    Emit("{", emit);
    Ws();
    if (i_ < j_.size() && j_[i_] == '}') {
      ++i_;
      Emit("}", emit);
      return true;
    }
    bool wrote = false;
    while (true) {
      Ws();
      std::string_view key;
      const size_t key_start = i_;
      if (!String(false, &key)) return false;
      const std::string_view quoted = j_.substr(key_start, i_ - key_start);
      Ws();
      if (i_ >= j_.size() || j_[i_] != ':') return false;
      ++i_;
      const bool drop = std::find(keys_.begin(), keys_.end(), key) != keys_.end();
      if (!drop && emit) {
        if (wrote) out_.push_back(',');
        out_.append(quoted);
        out_.push_back(':');
        wrote = true;
      }
      if (!Value(emit && !drop, depth)) return false;
      Ws();
      if (i_ >= j_.size()) return false;
      if (j_[i_] == '}') {
        ++i_;
        Emit("}", emit);
        return true;
      }
      if (j_[i_] != ',') return false;
      ++i_;
    }
  }
  bool Array(bool emit, int depth) {
    ++i_;  // '['
    Emit("[", emit);
    Ws();
    if (i_ < j_.size() && j_[i_] == ']') {
      ++i_;
      Emit("]", emit);
      return true;
    }
    for (bool first = true;; first = false) {
      if (!first) Emit(",", emit);
      if (!Value(emit, depth)) return false;
      Ws();
      if (i_ >= j_.size()) return false;
      if (j_[i_] == ']') {
        ++i_;
        Emit("]", emit);
        return true;
      }
      if (j_[i_] != ',') return false;
      ++i_;
    }
  }

  std::string_view j_;
  std::string& out_;
  std::span<const std::string_view> keys_;
  size_t i_ = 0;
};

// The statuses that are confidential, shown as their common status "aktiv" to the packages
// without confidential data (Confidential::kNone).
constexpr std::string_view kConfidentialStatuses[] = {"\"midlertidig\"", "\"ikkeBosatt\"",
                                                      "\"forsvunnet\"", "\"foedselsregistrert\""};

// Appends a status row with a confidential status value replaced by "aktiv"; false (nothing
// appended) when the row's status is not confidential.
bool AppendCollapsedStatus(std::string& out, std::string_view json) {
  constexpr std::string_view kKey = "\"status\":";
  const size_t at = json.find(kKey);
  if (at == std::string_view::npos) return false;
  const size_t value = at + kKey.size();
  for (std::string_view status : kConfidentialStatuses) {
    if (json.substr(value, status.size()) == status) {
      out.append(json.substr(0, value));
      out.append("\"aktiv\"");
      out.append(json.substr(value + status.size()));
      return true;
    }
  }
  return false;
}

template <typename RowT>
bool Grouped(std::span<const RowT> rows) {
  for (size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].property < rows[i - 1].property) return false;
  }
  return true;
}

// Calls `sink.Row(property, json, current)` for every row of the document at `seq`, and
// `sink.EndProperty(property)` after each property (whether or not it had rows).
template <typename RowT, typename Sink>
void WalkDocument(std::span<const RowT> rows, uint64_t seq, const PartSelection& parts,
                  Sink& sink) {
  const Gradering gradering = GraderingOf(rows, seq);
  // What the package may not see of a protected person (Confidential::kNone): every address, and
  // where the person moved from and to.
  const bool protected_person = parts.withhold_confidential && gradering != Gradering::kUgradert;
  auto hidden = [&](Property p) {
    if (IsAddressProperty(p)) return gradering == Gradering::kStrengtFortrolig || protected_person;
    return protected_person && (p == Property::kInnflytting || p == Property::kUtflytting);
  };
  const bool grouped = Grouped(rows);
  thread_local std::string collapsed;
  thread_local std::string stripped;
  // The row as the package may see it; empty when it cannot be read (then left out).
  auto shown = [&](Property p, std::string_view json) -> std::string_view {
    if (parts.withhold_confidential && p == Property::kStatus) {
      collapsed.clear();
      if (AppendCollapsedStatus(collapsed, json)) json = collapsed;
    }
    // identifikasjonsnummer rows are the package's identifier rule's (Package::identifiers).
    if (!parts.withheld_in.test(static_cast<size_t>(p)) || p == Property::kIdentifikasjonsnummer) {
      return json;
    }
    // Most rows hold none of the keys: one search per key instead of a filtering copy.
    const bool any = std::any_of(
        parts.withheld_keys.begin(), parts.withheld_keys.end(), [&](std::string_view key) {
          const size_t at = json.find(key);
          return at != std::string_view::npos && at > 0 && json[at - 1] == '"';
        });
    if (!any) return json;
    stripped.clear();
    KeyStripper stripper(json, stripped, parts.withheld_keys);
    if (!stripper.Copy()) return std::string_view();
    // A contact person given by number alone has nothing left to show (the schema's choice
    // needs a number, or a name): the row is left out rather than shown broken.
    if (p == Property::kKontaktinformasjonForDoedsbo &&
        stripped.find("\"person\":{}") != std::string::npos) {
      return std::string_view();
    }
    return std::string_view(stripped);
  };
  size_t next = 0;  // grouped: start of the next property's run
  for (int pi = 0; pi < kPropertyCount; ++pi) {
    const auto p = static_cast<Property>(pi);
    std::span<const RowT> range = rows;
    if (grouped) {
      size_t begin = next;
      while (begin < rows.size() && rows[begin].property < p) ++begin;
      size_t end = begin;
      while (end < rows.size() && rows[end].property == p) ++end;
      next = end;
      range = rows.subspan(begin, end - begin);
    }
    if (range.empty() || !parts.Has(p) || hidden(p)) continue;
    const bool history = parts.HistoryOf(p);

    if (IsSingleObject(p)) {
      const RowT* pick = nullptr;
      for (const RowT& row : range) {
        if (row.property == p && row.PresentAt(seq) && row.CurrentAt(seq)) {
          pick = &row;
          break;
        }
      }
      if (pick == nullptr && history) {
        for (const RowT& row : range) {
          if (row.property == p && row.PresentAt(seq)) {
            pick = &row;
            break;
          }
        }
      }
      if (pick != nullptr) sink.Row(p, shown(p, pick->json), pick->CurrentAt(seq));
    } else {
      for (const RowT& row : range) {
        if (row.property == p && row.PresentAt(seq) && row.CurrentAt(seq)) {
          sink.Row(p, shown(p, row.json), true);
        }
      }
      if (history) {
        for (const RowT& row : range) {
          if (row.property == p && row.PresentAt(seq) && !row.CurrentAt(seq)) {
            sink.Row(p, shown(p, row.json), false);
          }
        }
      }
    }
    sink.EndProperty(p);
  }
}

// Position just past the closing quote of the string starting at json[open] ('"'), or npos.
size_t StringEnd(std::string_view json, size_t open) {
  for (size_t i = open + 1; i < json.size(); ++i) {
    if (json[i] == '\\') {
      ++i;
    } else if (json[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

class JsonSink {
 public:
  explicit JsonSink(std::string& out) : out_(out) {}

  void Row(Property p, std::string_view json, bool current) {
    if (json.empty() || json.front() != '{') return;  // not an object: cannot carry erGjeldende
    if (!open_) {
      if (any_) out_.push_back(',');
      out_.push_back('"');
      out_.append(PropertyName(p));
      out_.append(IsSingleObject(p) ? "\":" : "\":[");
      open_ = true;
      any_ = true;
    } else {
      out_.push_back(',');
    }
    const std::string_view flag = current ? "\"erGjeldende\":true" : "\"erGjeldende\":false";
    if (json.starts_with(kAjourPrefix)) {
      const size_t end = StringEnd(json, kAjourPrefix.size() - 1);
      if (end != std::string_view::npos) {
        out_.append(json.substr(0, end));
        out_.push_back(',');
        out_.append(flag);
        out_.append(json.substr(end));
        return;
      }
    }
    size_t first = 1;
    while (first < json.size() && (json[first] == ' ' || json[first] == '\t' ||
                                   json[first] == '\n' || json[first] == '\r')) {
      ++first;
    }
    out_.push_back('{');
    out_.append(flag);
    if (first < json.size() && json[first] != '}') out_.push_back(',');
    out_.append(json.substr(first));
  }

  void EndProperty(Property p) {
    if (open_ && !IsSingleObject(p)) out_.push_back(']');
    open_ = false;
  }

 private:
  std::string& out_;
  bool any_ = false;
  bool open_ = false;
};

class XmlSink {
 public:
  explicit XmlSink(std::string& out) : out_(out) {}

  void Row(Property p, std::string_view json, bool current) {
    const size_t mark = out_.size();
    const std::string_view name = PropertyName(p);
    out_.push_back('<');
    out_.append(name);
    out_.push_back('>');
    XmlTranscoder t(json, out_);
    if (!t.TopObject(true, current)) {
      out_.resize(mark);  // malformed row: left out rather than half-written
      return;
    }
    out_.append("</");
    out_.append(name);
    out_.push_back('>');
  }

  void EndProperty(Property) {}

 private:
  std::string& out_;
};

template <typename RecordT>
void RenderJsonImpl(const RecordT& record, uint64_t seq, const PartSelection& parts,
                    std::string& out) {
  out.push_back('{');
  JsonSink sink(out);
  WalkDocument(RowsOf(record), seq, parts, sink);
  out.push_back('}');
}

template <typename RecordT>
void RenderXmlImpl(const RecordT& record, uint64_t seq, const PartSelection& parts,
                   std::string& out, bool root_namespace) {
  out.append("<folkeregisterperson");
  if (root_namespace) {
    out.append(" xmlns=\"");
    out.append(kPersonXmlNamespace);
    out.push_back('"');
  }
  out.push_back('>');
  XmlSink sink(out);
  WalkDocument(RowsOf(record), seq, parts, sink);
  out.append("</folkeregisterperson>");
}

}  // namespace

void RenderPersonJson(const PersonRecord& record, uint64_t seq, const PartSelection& parts,
                      std::string& out) {
  RenderJsonImpl(record, seq, parts, out);
}
void RenderPersonJson(const RecordView& record, uint64_t seq, const PartSelection& parts,
                      std::string& out) {
  RenderJsonImpl(record, seq, parts, out);
}
void RenderPersonXml(const PersonRecord& record, uint64_t seq, const PartSelection& parts,
                     std::string& out, bool root_namespace) {
  RenderXmlImpl(record, seq, parts, out, root_namespace);
}
void RenderPersonXml(const RecordView& record, uint64_t seq, const PartSelection& parts,
                     std::string& out, bool root_namespace) {
  RenderXmlImpl(record, seq, parts, out, root_namespace);
}

Gradering GraderingAt(const PersonRecord& record, uint64_t seq) {
  return GraderingOf(RowsOf(record), seq);
}
Gradering GraderingAt(const RecordView& record, uint64_t seq) {
  return GraderingOf(RowsOf(record), seq);
}
bool IsStrengtFortroligAt(const PersonRecord& record, uint64_t seq) {
  return GraderingAt(record, seq) == Gradering::kStrengtFortrolig;
}
bool IsStrengtFortroligAt(const RecordView& record, uint64_t seq) {
  return GraderingAt(record, seq) == Gradering::kStrengtFortrolig;
}

bool AppendWithoutKeys(std::string& out, std::string_view json,
                       std::span<const std::string_view> keys) {
  const size_t mark = out.size();
  KeyStripper stripper(json, out, keys);
  if (stripper.Copy()) return true;
  out.resize(mark);
  return false;
}

bool AppendJsonObjectAsXml(std::string& out, std::string_view json) {
  const size_t mark = out.size();
  XmlTranscoder t(json, out);
  if (!t.TopObject(false, false)) {
    out.resize(mark);
    return false;
  }
  return true;
}

}  // namespace norreg::freg
