#pragma once
// The HTTP/1.1 server: Boost.Beast/Asio with C++20 coroutines, one io_context per thread (a
// connection lives on one thread for its whole life, so no strands or locks on the hot path).
// One acceptor hands connections to the threads round-robin.
//
// Behaviour:
// - keep-alive and pipelining (requests on a connection are answered in order, one at a time);
// - timeouts: `header_timeout` from the first byte of a request (and from accept) to the end of
//   its header, `idle_timeout` between keep-alive requests, `body_timeout` for the body plus the
//   time its bytes take at `min_body_rate` (a body must keep that rate on average: a trickling
//   client is cut, a large body at a fair rate is not), `write_timeout` for the answer; a
//   connection that hits one is closed without an answer;
// - limits: header > `header_limit` -> plain 431; body > `body_limit` (or the API's own
//   ApiSpec::body_limit) -> 413 in the API's error
//   shape (by Content-Length before reading it, or while reading a chunked body); the
//   connection is then closed (after a short lingering drain so the client sees the answer);
// - `Expect: 100-continue` gets "100 Continue" once the header passed the limits;
// - unparsable requests -> plain 400 and close; the server keeps serving others;
// - HEAD answers like GET without the body; every answer carries X-Request-Id (the client's
//   when it is 1..64 chars of [A-Za-z0-9._:-], else generated) and Date;
// - access log: one line per request to the access logger at info level:
//   `access ts=<UTC ISO-8601> rid=.. remote=ip:port method=GET path=/target?query status=200
//    bytes=<body bytes> duration_us=..`.
// - Stop(): stops accepting, closes idle keep-alive connections and connections still reading a
//   header, lets requests in flight finish (their answer gets `Connection: close`), force-closes
//   what is left after `shutdown_grace`, then Run() returns.
//
// Handlers run on the io threads: a handler that blocks for long holds up the other connections
// of its thread. Routes marked RouteInfo::blocking (durable writes) run on a separate pool of
// `blocking_threads` instead; the io thread serves other connections meanwhile.
//
// Streaming routes (Dispatcher::AddStreaming) get their body as it arrives: once the header is in
// and the Content-Length (if any) is within the limit, the before-steps and the route's
// StreamHandler run (a refusal is answered without reading the body), then the body is read into
// one buffer of `stream_chunk` bytes and each piece is written to the sink, so a request of any
// size holds about that much in memory. A chunked body that passes the limit is answered 413 as
// above; the sink is then dropped. Responses with a stream_body are written piece by piece.
//
// Thread-safety: Listen/Run from one thread; Stop() and port() from any thread (Stop is
// idempotent and does not block; it is not async-signal-safe: use handle_signals or call it from
// a signal-handling thread).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "http/dispatcher.hpp"
#include "http/metrics.hpp"

namespace spdlog {
class logger;
}

namespace norreg::http {

// What holds an answer until the writes its handler made are durable (the disclosure log:
// docs/design.md, "Disclosure log"). Take() tells whether the handler that just ran on this thread
// made such writes, and resets that; WhenOpen calls done(ok) once they are durable (from any
// thread). The io thread serves other connections meanwhile.
class AnswerGate {
 public:
  virtual ~AnswerGate() = default;
  virtual bool Take() = 0;
  virtual void WhenOpen(std::function<void(bool ok)> done) = 0;
};

struct ServerOptions {
  std::string host = "0.0.0.0";  // numeric IPv4/IPv6 address or a resolvable name
  std::uint16_t port = 8080;     // 0 = ephemeral (read Server::port() after Listen)
  int threads = 0;               // io threads; 0 = std::thread::hardware_concurrency()
  int blocking_threads = 32;     // threads for RouteInfo::blocking routes (they mostly wait)
  std::size_t stream_chunk = 64 * 1024;  // read buffer of a streamed request body, bytes
  std::chrono::milliseconds header_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::uint64_t min_body_rate = 4096;  // bytes/s a body keeps on average; 0 = body_timeout only
  std::chrono::milliseconds write_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  std::size_t header_limit = 16 * 1024;        // request line + headers, bytes
  std::uint64_t body_limit = 8 * 1024 * 1024;  // request body, bytes
  std::uint64_t bodiless_limit = 64 * 1024;    // body of a GET or HEAD, bytes
  int backlog = 1024;
  // Open connections at most, in all and from one client address (0 = no cap); one more is
  // answered 503 with Retry-After and closed (norreg_http_connections_refused_total).
  std::size_t max_connections = 10'000;
  std::size_t max_connections_per_client = 1'000;
  // Refused connections being answered and drained at once (0 = no cap); past it, one more is
  // closed without an answer (and counted as refused).
  std::size_t max_refusing = 256;
  bool access_log = true;
  std::shared_ptr<spdlog::logger> access_logger;  // null -> spdlog's default logger
  bool handle_signals = false;                    // Run() stops on SIGINT/SIGTERM
  std::string server_header = "norreg";           // "" -> no Server header
  // Answers wait for it when their handler wrote (null: none wait); an answer the gate does not
  // open within gate_timeout, or opens with ok = false, becomes a 500 in the API's shape.
  std::shared_ptr<AnswerGate> answer_gate;
  std::chrono::milliseconds gate_timeout{10'000};
};

class Server {
 public:
  // `dispatcher` and `metrics` must outlive the server; routes must be added before Run().
  // Destroy the server only after Run() returned (or when it never ran).
  Server(ServerOptions options, Dispatcher& dispatcher, Metrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens. kInternal with the reason (address in use, bad host) on failure.
  // Calling it again after success is a no-op.
  Status Listen();
  // The bound port (0 before Listen succeeded).
  std::uint16_t port() const;
  // Listens if needed, serves until Stop(), returns once every connection is closed and every io
  // thread joined. Call once.
  Status Run();
  // Begins the graceful shutdown described above. Safe before Run() (Run then returns at once).
  void Stop();

  // Registers the operational endpoints on `dispatcher` (route api "", names "health_live",
  // "health_ready", "metrics"): GET /health/live -> 200 "ok"; GET /health/ready -> 200 "ready"
  // when `ready()` is true (null = always), else plain 503; GET /metrics -> metrics.Render().
  static Status AddOpsRoutes(Dispatcher& dispatcher, Metrics& metrics,
                             std::function<bool()> ready = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace norreg::http
