#include "http/negotiation.hpp"

#include <array>
#include <string>

#include "http/request.hpp"

namespace norreg::http {
namespace {

struct Known {
  MediaType type;
  std::string_view name;
  std::string_view main;
  std::string_view sub;
};

constexpr std::array<Known, 8> kKnown = {{
    {MediaType::kJson, "application/json", "application", "json"},
    {MediaType::kXml, "application/xml", "application", "xml"},
    {MediaType::kAtom, "application/atom+xml", "application", "atom+xml"},
    {MediaType::kText, "text/plain", "text", "plain"},
    {MediaType::kOctetStream, "application/octet-stream", "application", "octet-stream"},
    {MediaType::kZip, "application/zip", "application", "zip"},
    {MediaType::kFormUrlEncoded, "application/x-www-form-urlencoded", "application",
     "x-www-form-urlencoded"},
    {MediaType::kMultipartFormData, "multipart/form-data", "multipart", "form-data"},
}};

const Known& Info(MediaType t) { return kKnown[static_cast<std::size_t>(t)]; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// q = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); leniently also ".5" and more digits.
// Returns q in thousandths, or -1 when malformed.
int ParseQ(std::string_view v) {
  if (v.empty()) return -1;
  int whole = 0;
  std::size_t i = 0;
  if (v[0] == '0' || v[0] == '1') {
    whole = v[0] - '0';
    i = 1;
  } else if (v[0] != '.') {
    return -1;
  }
  int frac = 0;
  if (i < v.size()) {
    if (v[i] != '.') return -1;
    ++i;
    int digits = 0;
    for (; i < v.size(); ++i) {
      if (v[i] < '0' || v[i] > '9') return -1;
      if (digits < 3) {
        frac = frac * 10 + (v[i] - '0');
        ++digits;
      } else if (v[i] != '0' && whole == 1) {
        return -1;
      }
    }
    if (digits == 0 && whole == 0 && v[0] == '.') return -1;
    while (digits < 3) {
      frac *= 10;
      ++digits;
    }
  }
  int q = whole * 1000 + frac;
  return q > 1000 ? -1 : q;
}

struct Range {
  std::string_view main;
  std::string_view sub;
  int q = 1000;
  bool valid = false;
};

// Parses "type/subtype; p=v; q=0.5". `with_q` false for Content-Type (q is just a parameter).
Range ParseRange(std::string_view item, bool with_q) {
  Range r;
  std::size_t semi = item.find(';');
  std::string_view mt = Trim(item.substr(0, semi));
  if (mt == "*") mt = "*/*";
  std::size_t slash = mt.find('/');
  if (slash == std::string_view::npos) return r;
  r.main = mt.substr(0, slash);
  r.sub = mt.substr(slash + 1);
  if (!IsToken(r.main) || !IsToken(r.sub)) return r;
  if (r.main == "*" && r.sub != "*") return r;
  std::string_view params = semi == std::string_view::npos ? std::string_view() : item.substr(semi);
  while (!params.empty()) {
    params.remove_prefix(1);  // ';'
    std::size_t next = params.find(';');
    std::string_view p = Trim(params.substr(0, next));
    params = next == std::string_view::npos ? std::string_view() : params.substr(next);
    if (p.empty()) continue;
    std::size_t eq = p.find('=');
    if (eq == std::string_view::npos) return r;  // a parameter without value is malformed
    std::string_view name = Trim(p.substr(0, eq));
    std::string_view value = Trim(p.substr(eq + 1));
    if (with_q && (name == "q" || name == "Q")) {
      r.q = ParseQ(value);
      if (r.q < 0) return r;
      break;  // what follows q are accept-extensions
    }
  }
  r.valid = true;
  return r;
}

}  // namespace

std::string_view MediaTypeName(MediaType type) { return Info(type).name; }

std::optional<MediaType> Negotiate(std::string_view accept, std::span<const MediaType> supported) {
  if (supported.empty()) return std::nullopt;
  accept = Trim(accept);
  if (accept.empty()) return supported.front();

  // Per supported type: best specificity seen so far and its q.
  constexpr std::size_t kMax = 16;
  std::array<int, kMax> spec{};
  std::array<int, kMax> q{};
  std::size_t n = supported.size() < kMax ? supported.size() : kMax;
  spec.fill(-1);

  std::string_view rest = accept;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (Trim(item).empty()) continue;
    Range r = ParseRange(item, true);
    if (!r.valid) continue;
    for (std::size_t i = 0; i < n; ++i) {
      const Known& k = Info(supported[i]);
      int s = -1;
      if (r.main == "*") {
        s = 0;
      } else if (EqualsIgnoreCase(r.main, k.main)) {
        if (r.sub == "*") {
          s = 1;
        } else if (EqualsIgnoreCase(r.sub, k.sub)) {
          s = 2;
        }
      }
      if (s > spec[i]) {  // strictly more specific wins; same specificity keeps the first
        spec[i] = s;
        q[i] = r.q;
      }
    }
  }
  int best_q = 0;
  std::optional<MediaType> best;
  for (std::size_t i = 0; i < n; ++i) {
    if (spec[i] >= 0 && q[i] > best_q) {
      best_q = q[i];
      best = supported[i];
    }
  }
  return best;
}

std::optional<MediaType> ParseContentType(std::string_view content_type) {
  Range r = ParseRange(content_type, false);
  if (!r.valid) return std::nullopt;
  for (const Known& k : kKnown) {
    if (EqualsIgnoreCase(r.main, k.main) && EqualsIgnoreCase(r.sub, k.sub)) return k.type;
  }
  return std::nullopt;
}

Result<MediaType> CheckContentType(std::string_view content_type,
                                   std::span<const MediaType> allowed) {
  auto parsed = ParseContentType(content_type);
  if (parsed) {
    for (MediaType a : allowed) {
      if (a == *parsed) return *parsed;
    }
  }
  std::string expected;
  for (MediaType a : allowed) {
    if (!expected.empty()) expected += " eller ";
    expected += MediaTypeName(a);
  }
  if (Trim(content_type).empty()) {
    return MakeError(ErrorCode::kUnsupportedMedia, "Content-Type mangler; forventet " + expected);
  }
  return MakeError(ErrorCode::kUnsupportedMedia,
                   "Content-Type støttes ikke; forventet " + expected);
}

}  // namespace norreg::http
