#include "client/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace norreg::client {
namespace {

// Error has no room for a flag, so transport errors carry this prefix in `detail` (log-only text
// that never reaches a response). IsTransportError is the only reader.
constexpr std::string_view kTransportMarker = "[transport] ";

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Where a response body goes: on the first bytes the whole announced length is reserved (plus
// room for a JSON parser's padding), so a large body is not copied again by every growth.
struct BodySink {
  CURL* curl;
  std::string* body;
  std::uint64_t max_bytes = 0;  // 0 = no limit
  bool too_large = false;
};
constexpr curl_off_t kMaxReserve = curl_off_t{1} << 30;
constexpr size_t kParserPadding = 64;

size_t WriteBody(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  if (sink->body->empty()) {
    curl_off_t length = -1;
    if (curl_easy_getinfo(sink->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK &&
        length > 0 && length < kMaxReserve) {
      sink->body->reserve(static_cast<size_t>(length) + kParserPadding);
    }
  }
  if (sink->max_bytes != 0 && sink->body->size() + size * count > sink->max_bytes) {
    sink->too_large = true;
    return 0;  // curl ends the transfer (CURLE_WRITE_ERROR)
  }
  sink->body->append(data, size * count);
  return size * count;
}

// Called once per header line, status lines included. A new status line (an interim 100
// Continue answer, for instance) starts the header list afresh so only the final answer's
// headers remain.
size_t WriteHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<HttpHeaders*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    headers->clear();
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;  // blank line or folded junk
  std::string name(Trim(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  headers->emplace_back(std::move(name), std::string(Trim(line.substr(colon + 1))));
  return size * count;
}

bool HasHeader(const HttpHeaders& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

bool IsTransportError(const Error& error) {
  return error.code == ErrorCode::kInternal && error.detail.starts_with(kTransportMarker);
}

Error MakeTransportError(std::string message, std::string detail) {
  std::string marked(kTransportMarker);
  marked += detail.empty() ? message : detail;
  return MakeError(ErrorCode::kInternal, std::move(message), std::move(marked));
}

std::string FormUrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {
  GlobalInit();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) throw std::runtime_error("curl_easy_init failed");
}

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpClient::HttpClient(HttpClient&& other) noexcept
    : options_(std::move(other.options_)), curl_(std::exchange(other.curl_, nullptr)) {}

HttpClient& HttpClient::operator=(HttpClient&& other) noexcept {
  if (this != &other) {
    if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
    options_ = std::move(other.options_);
    curl_ = std::exchange(other.curl_, nullptr);
  }
  return *this;
}

Result<HttpResponse> HttpClient::Request(std::string_view method, const std::string& url,
                                         std::string_view body, const HttpHeaders& headers) {
  if (method.empty() || url.empty()) {
    return MakeError(ErrorCode::kInvalidInput, "HTTP request needs a method and a URL");
  }
  if (curl_ == nullptr) return MakeError(ErrorCode::kInternal, "HttpClient was moved from");
  auto* curl = static_cast<CURL*>(curl_);
  // curl_easy_reset clears every option but keeps live connections, so each request starts from
  // a clean slate (no leftover body or method) and still reuses the keep-alive connection.
  curl_easy_reset(curl);

  HttpResponse response;
  std::string method_text(method);
  std::unique_ptr<curl_slist, SlistDeleter> header_list;
  auto append_header = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(header_list.get(), line.c_str());
    if (next != nullptr) {
      (void)header_list.release();
      header_list.reset(next);
    }
  };
  for (const auto& [name, value] : headers) append_header(name + ": " + value);
  // No "Expect: 100-continue" round trip before larger bodies.
  if (!HasHeader(headers, "expect")) append_header("Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  BodySink sink{curl, &response.body, options_.max_body_bytes};
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list.get());

  const bool sends_body = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (method == "GET" && body.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    if (sends_body) {
      // POSTFIELDS does not copy: `body` outlives curl_easy_perform below.
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    }
    if (method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method_text.c_str());
  }

  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  CURLcode code = curl_easy_perform(curl);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  if (sink.too_large) {
    return MakeError(ErrorCode::kInternal, method_text + " " + url +
                                               ": the answer is longer than " +
                                               std::to_string(sink.max_bytes) + " bytes");
  }
  if (code != CURLE_OK) {
    std::string what = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    return MakeTransportError(method_text + " " + url + " failed: " + what,
                              "curl error " + std::to_string(static_cast<int>(code)) + ": " + what);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Result<HttpResponse> HttpClient::Get(const std::string& url, const HttpHeaders& headers) {
  return Request("GET", url, {}, headers);
}

Result<HttpResponse> HttpClient::Post(const std::string& url, std::string_view body,
                                      std::string_view content_type, const HttpHeaders& headers) {
  if (HasHeader(headers, "content-type")) return Request("POST", url, body, headers);
  HttpHeaders all = headers;
  all.emplace_back("Content-Type", std::string(content_type));
  return Request("POST", url, body, all);
}

Result<std::string> HttpClient::FetchUrl(const std::string& url) {
  auto response = Get(url);
  if (!response.ok()) return response.error();
  if (response->status != 200) {
    return MakeError(ErrorCode::kInternal,
                     "GET " + url + " answered HTTP " + std::to_string(response->status));
  }
  return std::move(response->body);
}

}  // namespace norreg::client
