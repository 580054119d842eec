#include "http/request.hpp"

#include <array>
#include <cstdint>

namespace norreg::http {
namespace {

constexpr std::array<std::string_view, kMethodCount> kMethodNames = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER"};

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

void SetParam(Params& params, std::string_view name, std::string_view value) {
  for (auto& [n, v] : params) {
    if (EqualsIgnoreCase(n, name)) {
      v.assign(value);
      return;
    }
  }
  params.emplace_back(std::string(name), std::string(value));
}

}  // namespace

std::string_view MethodName(Method method) {
  return kMethodNames[static_cast<std::size_t>(method)];
}

Method ParseMethod(std::string_view token) {
  for (std::size_t i = 0; i + 1 < kMethodCount; ++i) {
    if (kMethodNames[i] == token) return static_cast<Method>(i);
  }
  return Method::kOther;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool PercentDecode(std::string_view in, std::string& out, bool plus_as_space) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

Status Request::SetTarget(std::string_view raw) {
  target.assign(raw);
  path.clear();
  query.clear();
  auto fail = [this](const char* what) {
    path.clear();
    query.clear();
    return Status(MakeError(ErrorCode::kInvalidInput, what));
  };
  // The absolute form (RFC 9112 section 3.2.2, "http://host/path?query"), which a server must
  // accept: the scheme and authority are dropped, an empty path is "/".
  std::string origin_form;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (raw.size() < scheme.size() || !EqualsIgnoreCase(raw.substr(0, scheme.size()), scheme)) {
      continue;
    }
    const std::size_t end = raw.find_first_of("/?#", scheme.size());
    if (end == scheme.size()) return fail("Ugyldig URI");  // no authority
    if (end != std::string_view::npos && raw[end] == '/') {
      raw = raw.substr(end);
    } else {
      origin_form = "/";
      if (end != std::string_view::npos) origin_form.append(raw.substr(end));
      raw = origin_form;
    }
    break;
  }
  if (raw.empty() || raw.front() != '/') return fail("Ugyldig URI");
  std::size_t qpos = raw.find('?');
  std::string_view raw_path = raw.substr(0, qpos);
  // Fragments are never sent by clients; treat '#' as an error rather than guessing.
  if (raw.find('#') != std::string_view::npos) return fail("Ugyldig URI");

  // Decode per segment so that an encoded '/' (%2F) stays inside its segment. Offsets first:
  // `path` may reallocate while it grows.
  seg_offsets_.clear();
  if (raw_path.size() == 1) {
    path.push_back('/');  // (not `path = "/"`: GCC 12 -O3 -Wrestrict false positive)
  } else {
    std::size_t pos = 1;  // after the leading '/'
    for (;;) {
      std::size_t slash = raw_path.find('/', pos);
      std::size_t end = slash == std::string_view::npos ? raw_path.size() : slash;
      std::string_view enc = raw_path.substr(pos, end - pos);
      path.push_back('/');
      if (slash == std::string_view::npos && enc.empty()) break;  // trailing slash: no segment
      std::size_t start = path.size();
      if (!PercentDecode(enc, path, false)) return fail("Ugyldig prosent-koding i URI");
      seg_offsets_.emplace_back(static_cast<std::uint32_t>(start),
                                static_cast<std::uint32_t>(path.size() - start));
      if (slash == std::string_view::npos) break;
      pos = slash + 1;
    }
  }
  if (path.find('\0') != std::string::npos) return fail("Ugyldig URI");

  if (qpos != std::string_view::npos) {
    std::string_view qs = raw.substr(qpos + 1);
    while (!qs.empty()) {
      std::size_t amp = qs.find('&');
      std::string_view pair = qs.substr(0, amp);
      qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
      if (pair.empty()) continue;
      std::size_t eq = pair.find('=');
      std::string_view k = pair.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      auto& entry = query.emplace_back();
      if (!PercentDecode(k, entry.first, true) || !PercentDecode(v, entry.second, true)) {
        return fail("Ugyldig prosent-koding i spørrestrengen");
      }
    }
  }
  return Status::Ok();
}

std::optional<std::string_view> Request::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> Request::QueryAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.emplace_back(v);
  }
  return out;
}

std::string_view Request::Param(std::string_view name) const {
  for (const auto& [k, v] : path_params) {
    if (k == name) return v;
  }
  return {};
}

std::optional<std::string_view> Request::Header(std::string_view name) const {
  for (const auto& h : headers_) {
    std::string_view n(header_buf_.data() + h.name_off, h.name_len);
    if (EqualsIgnoreCase(n, name))
      return std::string_view(header_buf_.data() + h.value_off, h.value_len);
  }
  return std::nullopt;
}

void Request::AddHeader(std::string_view name, std::string_view value) {
  HeaderRef ref;
  ref.name_off = static_cast<std::uint32_t>(header_buf_.size());
  ref.name_len = static_cast<std::uint32_t>(name.size());
  header_buf_.append(name);
  ref.value_off = static_cast<std::uint32_t>(header_buf_.size());
  ref.value_len = static_cast<std::uint32_t>(value.size());
  header_buf_.append(value);
  headers_.push_back(ref);
}

std::pair<std::string_view, std::string_view> Request::header_at(std::size_t i) const {
  const HeaderRef& h = headers_.at(i);
  return {std::string_view(header_buf_.data() + h.name_off, h.name_len),
          std::string_view(header_buf_.data() + h.value_off, h.value_len)};
}

void Request::SetResponseHeader(std::string_view name, std::string_view value) {
  SetParam(response_headers, name, value);
}

void Request::Reset() {
  method = Method::kGet;
  method_name.clear();
  target.clear();
  path.clear();
  path_params.clear();
  query.clear();
  body.clear();
  remote.clear();
  local.clear();
  request_id.clear();
  route = nullptr;
  route_slot = 0;
  context.reset();
  response_headers.clear();
  header_buf_.clear();
  seg_offsets_.clear();
  headers_.clear();
}

void Response::SetHeader(std::string_view name, std::string_view value) {
  if (HasCrLf(name) || HasCrLf(value)) return;
  SetParam(headers, name, value);
}

std::optional<std::string_view> Response::GetHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

Response Response::Make(int status, std::string content_type, std::string body) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::Json(std::string body, int status) {
  return Make(status, "application/json", std::move(body));
}

Response Response::Text(std::string body, int status) {
  return Make(status, "text/plain; charset=utf-8", std::move(body));
}

Response Response::Shared(std::shared_ptr<const std::string> body, std::string content_type,
                          int status) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.shared_body = std::move(body);
  return r;
}

}  // namespace norreg::http
