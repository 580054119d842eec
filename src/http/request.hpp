#pragma once
// The request and response types handlers see. They are plain values: no Beast/Asio types, so
// handlers and their tests can build them directly (Request::SetTarget + AddHeader).
//
// Thread-safety: none; a Request/Response belongs to one connection at a time.
// Allocation: the server keeps one Request per connection and calls Reset() between requests;
// headers live in one flat buffer, so a warm connection parses headers without allocating.
#include <any>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace norreg::http {

enum class Method { kGet, kHead, kPost, kPut, kDelete, kPatch, kOptions, kOther };
inline constexpr std::size_t kMethodCount = 8;

// "GET", "HEAD", ...; "OTHER" for kOther.
std::string_view MethodName(Method method);
// Exact, case-sensitive token (RFC 9110 methods are case-sensitive). Unknown -> kOther.
Method ParseMethod(std::string_view token);

class Request;

// What a route is: the API family it belongs to (e.g. "freg", "mottak", "auth", "ops"; it picks
// the before-steps and the error renderer) and a short stable name used as the metrics label.
struct RouteInfo {
  std::string api;
  std::string name;
  // The handler waits for the disk (a durable write: an fsync, or a group commit it shares with
  // other requests). The server runs it on its pool of blocking threads, so the io thread serves
  // its other connections meanwhile and concurrent writers can share one commit.
  bool blocking = false;
  // When set, a request for which it answers true runs on the blocking pool too (a request the
  // handler will spend long on; the others stay on the io thread, without the pool's hand-offs).
  bool (*blocking_when)(const Request& request) = nullptr;
};

using Params = std::vector<std::pair<std::string, std::string>>;

class Request {
 public:
  Method method = Method::kGet;
  std::string method_name;  // the token as sent ("GET"); meaningful for kOther
  std::string target;       // raw request-target as received (path + '?' + query), for logs
  std::string path;         // percent-decoded path, without the query
  Params path_params;       // `{name}` captures of the matched route, in pattern order
  Params query;             // decoded ('+' = space), repeatable, in order of appearance
  std::string body;
  std::string remote;  // "ip:port" of the peer ("" in unit tests)
  // The listening address the request came in on, as a URL authority ("127.0.0.1:8080",
  // "[::1]:8080"; "" in unit tests): the fallback for absolute links when Host is missing.
  std::string local;
  std::string request_id;  // X-Request-Id from the client when sane, else generated
  // Set by the dispatcher when a route matched (nullptr otherwise).
  const RouteInfo* route = nullptr;
  std::uint32_t route_slot = 0;  // metrics slot of the route; 0 = unmatched
  // Free slot for before-steps (authentication puts its principal here). Read with ContextAs<T>().
  std::any context;
  // Headers added to whatever response this request gets, error answers included (e.g. a rate
  // limiter sets Retry-After, an authenticator sets WWW-Authenticate, then returns its Error).
  Params response_headers;

  // Parses an origin-form target ("/a/b%20c/?x=1&y=%C3%A6") into target, path, segments and
  // query. Fails (kInvalidInput) on a target that does not start with '/', bad percent-encoding,
  // or a NUL byte after decoding. On failure the request is left with an empty path.
  Status SetTarget(std::string_view target);

  // Decoded path segments (views into `path`, valid until `path` changes). A trailing slash adds
  // no segment ("/a/" == "/a"); "/" has none; empty middle segments ("/a//b") are kept as "".
  std::size_t segment_count() const { return seg_offsets_.size(); }
  std::string_view segment(std::size_t i) const {
    return std::string_view(path.data() + seg_offsets_[i].first, seg_offsets_[i].second);
  }

  // First value of query parameter `name`, or nullopt.
  std::optional<std::string_view> Query(std::string_view name) const;
  // All values of `name` in order (empty when absent).
  std::vector<std::string_view> QueryAll(std::string_view name) const;
  // Value of path parameter `name`, or "" when the route has no such parameter.
  std::string_view Param(std::string_view name) const;

  // Case-insensitive header lookup; first occurrence; nullopt when absent.
  std::optional<std::string_view> Header(std::string_view name) const;
  void AddHeader(std::string_view name, std::string_view value);
  std::size_t header_count() const { return headers_.size(); }
  std::pair<std::string_view, std::string_view> header_at(std::size_t i) const;

  // Sets (replacing a header of the same name) a header for the eventual response.
  void SetResponseHeader(std::string_view name, std::string_view value);

  template <typename T>
  T* ContextAs() {
    return std::any_cast<T>(&context);
  }
  template <typename T>
  const T* ContextAs() const {
    return std::any_cast<T>(&context);
  }

  // Clears everything for the next request on the same connection, keeping capacity.
  void Reset();

 private:
  struct HeaderRef {
    std::uint32_t name_off, name_len, value_off, value_len;
  };
  std::string header_buf_;
  std::vector<HeaderRef> headers_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> seg_offsets_;
};

// Percent-decodes `in` and appends to `out`. With `plus_as_space`, '+' becomes ' ' (query
// strings). Returns false on a malformed escape ("%4", "%zz"); `out` is then unspecified.
bool PercentDecode(std::string_view in, std::string& out, bool plus_as_space);

// A response body produced piece by piece while it is sent (a large stored file), so it is never
// held whole in memory. Next() is called on the connection's io thread until it returns an empty
// piece; the pieces must add up to size(). An error from Next (e.g. stored bytes that fail their
// checksum) comes after the head was sent: the server logs it and closes the connection, so the
// client sees a body shorter than its Content-Length, never a complete wrong one.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  virtual std::uint64_t size() const = 0;
  // The next piece, valid until the next call; empty at the end.
  virtual Result<std::string_view> Next() = 0;
};

// A response. Either `body` (owned), `shared_body` (a shared, immutable buffer sent without a
// copy; wins over `body`) or `stream_body` (wins over both; not for HEAD-only answers' bodies,
// which are never read). Content-Length, Date, Connection and X-Request-Id are added by the
// server; `headers` must not contain them. Header names/values containing CR or LF are dropped.
struct Response {
  int status = 200;
  std::string content_type;  // empty -> no Content-Type header
  Params headers;
  std::string body;
  std::shared_ptr<const std::string> shared_body;
  std::shared_ptr<BodyStream> stream_body;

  // The body held in memory ("" for a stream_body).
  std::string_view BodyView() const {
    return shared_body ? std::string_view(*shared_body) : std::string_view(body);
  }
  // Replaces a header of the same name (case-insensitive) or appends it.
  void SetHeader(std::string_view name, std::string_view value);
  // First header with `name` (case-insensitive), or nullopt.
  std::optional<std::string_view> GetHeader(std::string_view name) const;

  static Response Make(int status, std::string content_type, std::string body);
  static Response Json(std::string body, int status = 200);
  static Response Text(std::string body, int status = 200);
  static Response Shared(std::shared_ptr<const std::string> body, std::string content_type,
                         int status = 200);
};

// ASCII case-insensitive equality (header names, media types).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace norreg::http
