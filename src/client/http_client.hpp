#pragma once
// A small blocking HTTP/1.1 client on libcurl, for the consumer library and the CLI.
//
// One HttpClient owns one curl easy handle, so consecutive requests to the same host reuse the
// keep-alive connection (and TLS session). Redirects are not followed. No request or response is
// logged (tokens travel in headers).
//
// Failures:
//   - transport failures (connection refused, DNS, timeout, reset, empty reply, TLS) are
//     Error{kInternal, "<what> failed: <curl message>"} marked so that IsTransportError() is true:
//     retry logic may retry those;
//   - any HTTP answer, whatever its status, is a successful Result<HttpResponse>: callers decide
//     what a 4xx/5xx means (except FetchUrl, which requires 200).
//
// Thread-safety: an HttpClient is NOT thread-safe: use one instance per thread (or guard it with a
// mutex). Different instances may be used concurrently. Global libcurl initialisation happens
// once, on the first construction, in a thread-safe way.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace norreg::client {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpClientOptions {
  // Time allowed to establish the TCP (and TLS) connection. Default 10 s.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // Time allowed for the whole request including the body transfer; 0 = no limit. Default 120 s.
  std::chrono::milliseconds timeout{std::chrono::seconds(120)};
  // Sent as User-Agent. Default "norreg/0.1".
  std::string user_agent = "norreg/0.1";
  // An answer body longer than this ends the transfer with an error; 0 = no limit.
  std::uint64_t max_body_bytes = 0;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  // In the order received; names lower-cased, values with surrounding blanks removed.
  HttpHeaders headers;

  // The value of the first header called `name` (case-insensitive); nullopt when absent. The view
  // points into this response.
  std::optional<std::string_view> Header(std::string_view name) const;
};

// True when `error` came from a transport failure of HttpClient (not from an HTTP answer).
bool IsTransportError(const Error& error);
// Marks `error` as a transport error (used by wrappers that pass such errors on).
Error MakeTransportError(std::string message, std::string detail = {});

// application/x-www-form-urlencoded encoding of one name or value (RFC 3986 unreserved characters
// kept, space as "%20", everything else percent-encoded).
std::string FormUrlEncode(std::string_view text);

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&& other) noexcept;
  HttpClient& operator=(HttpClient&& other) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `method` (GET, POST, PUT, DELETE, HEAD, PATCH, ...) to `url` with `body` (sent when
  // non-empty, or always for POST/PUT/PATCH) and the extra `headers`. kInvalidInput when the
  // method or URL is empty; transport failures as described above.
  Result<HttpResponse> Request(std::string_view method, const std::string& url,
                               std::string_view body, const HttpHeaders& headers = {});
  Result<HttpResponse> Get(const std::string& url, const HttpHeaders& headers = {});
  // POST with Content-Type `content_type` (unless `headers` already has one).
  Result<HttpResponse> Post(const std::string& url, std::string_view body,
                            std::string_view content_type, const HttpHeaders& headers = {});

  // GET `url` and return the body; kInternal naming the status when it is not 200 (e.g. for
  // fetching a JWKS). Transport failures as above.
  Result<std::string> FetchUrl(const std::string& url);

  const HttpClientOptions& options() const { return options_; }

 private:
  HttpClientOptions options_;
  void* curl_ = nullptr;  // CURL*; kept opaque so <curl/curl.h> stays out of this header
};

}  // namespace norreg::client
