#include "http/server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <csignal>
#include <ctime>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

#include "http/error_mapping.hpp"

namespace norreg::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;
// A refused request's unread body is drained for at most this long and this many bytes before the
// close (see Linger): enough for a client that sends a whole refused upload (35 MB + slack) without
// waiting for 100-continue to still read our 413 instead of a connection reset.
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr std::size_t kLingerBytes = 64 * 1024 * 1024;
// What a refused connection may still send (headers and the start of a body) before it is closed.
constexpr std::size_t kRefusedLingerBytes = 1024 * 1024;

// "Sun, 06 Nov 1994 08:49:37 GMT", formatted once per second per thread.
std::string_view HttpDate() {
  thread_local std::time_t cached = 0;
  thread_local std::array<char, 40> buf{};
  thread_local std::size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    len = std::strftime(buf.data(), buf.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = now;
  }
  return {buf.data(), len};
}

// "2024-05-01T12:00:00.123Z"
void AppendIsoUtc(std::string& out, std::chrono::system_clock::time_point tp) {
  thread_local std::time_t cached = 0;
  thread_local std::array<char, 32> buf{};
  thread_local std::size_t len = 0;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  if (secs != cached) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    len = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S", &tm);
    cached = secs;
  }
  out.append(buf.data(), len);
  fmt::format_to(std::back_inserter(out), ".{:03}Z", ms % 1000);
}

// A request target as the access log writes it: every run of exactly 11 digits (a fødsels- or
// d-nummer, in a path or anywhere else) becomes 11 '*', and the query keeps its parameter names
// only — its values are search criteria (names, birth dates, addresses).
void AppendLoggedTarget(std::string& out, std::string_view target) {
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  for (size_t i = 0; i < path.size();) {
    size_t run = i;
    while (run < path.size() && path[run] >= '0' && path[run] <= '9') ++run;
    if (run > i) {
      if (run - i == 11) {
        out.append(11, '*');
      } else {
        out.append(path.substr(i, run - i));
      }
      i = run;
    } else {
      out.push_back(path[i++]);
    }
  }
  if (question == std::string_view::npos) return;
  out.push_back('?');
  std::string_view query = target.substr(question + 1);
  bool first = true;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    if (!first) out.push_back('&');
    first = false;
    const size_t eq = pair.find('=');
    out.append(pair.substr(0, eq));
    if (eq != std::string_view::npos) out.append("=*");
  }
}

bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ReservedHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Connection") ||
         EqualsIgnoreCase(name, "Date") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "X-Request-Id") || EqualsIgnoreCase(name, "Content-Type");
}

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Parse errors that deserve a 400 (the peer sent something that is not HTTP/1.x).
bool IsProtocolError(const beast::error_code& ec) {
  if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) return false;
  return ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::need_more && ec != bhttp::error::need_buffer &&
         ec != bhttp::error::buffer_overflow;
}

}  // namespace

struct Server::Impl {
  // A connection as seen by Stop(); touched only on its worker's thread.
  struct Conn {
    beast::tcp_stream* stream = nullptr;
    bool busy = false;  // a request header was read and its answer is not yet written
  };

  struct Worker {
    // Declared before `ioc`: coroutine frames destroyed with the io_context unregister here.
    std::vector<Conn*> conns;
    bool stopping = false;
    bool finished = false;
    std::size_t index = 0;
    std::uint64_t next_rid = 0;
    asio::io_context ioc{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
    asio::steady_timer deadline{ioc};
  };

  Impl(ServerOptions o, Dispatcher& d, Metrics& m)
      : opt(std::move(o)),
        dispatcher(d),
        metrics(m),
        blocking_pool(static_cast<std::size_t>(std::max(1, opt.blocking_threads))) {
    std::size_t n = opt.threads > 0 ? static_cast<std::size_t>(opt.threads)
                                    : std::max(1u, std::thread::hardware_concurrency());
    for (std::size_t i = 0; i < n; ++i) {
      workers.push_back(std::make_unique<Worker>());
      workers.back()->index = i;
    }
    rid_prefix = static_cast<std::uint32_t>(std::random_device{}());
  }

  ~Impl() {
    // Frames of sessions that never ran are destroyed with their io_context; they must not
    // touch the timers being torn down.
    tearing_down = true;
    blocking_pool.join();
    acceptor.reset();
    signals.reset();
    for (auto& w : workers) {
      w->deadline.cancel();
      w->guard.reset();
    }
    workers.clear();
  }

  Status Listen();
  Status Run();
  void Stop();
  void BeginStop(Worker& w);
  void FinishWorker(Worker& w);
  asio::awaitable<void> AcceptLoop();
  // The session of an admitted connection from `client` (its address).
  asio::awaitable<void> Session(Worker& w, tcp::socket socket, std::string client);
  // Counts a new connection from `client` unless a cap is reached (then false).
  bool AdmitConnection(const std::string& client);
  void ReleaseConnection(const std::string& client);
  // Answers 503 and closes (a connection over a cap).
  asio::awaitable<void> RefuseConnection(tcp::socket socket);
  asio::awaitable<void> Linger(beast::tcp_stream& stream, std::size_t max_bytes = kLingerBytes);
  void SerializeHead(std::string& head, const Response& res, const Request& req, bool keep_alive,
                     bool http10, std::size_t body_size);
  void AccessLog(const Request& req, int status, std::size_t bytes, Clock::duration dur,
                 std::chrono::system_clock::time_point start);
  void AssignRequestId(Worker& w, Request& req);
  // Runs a handler's dispatch and notes whether its writes must be durable before the answer
  // leaves (ServerOptions::answer_gate), on the thread that ran it.
  template <typename Fn>
  Response Gated(bool& gated, Fn&& fn) {
    if (opt.answer_gate) (void)opt.answer_gate->Take();  // nothing left over from before
    Response res = fn();
    gated = opt.answer_gate && opt.answer_gate->Take();
    return res;
  }

  // Waits, without holding the io thread, until the gate opens: true when the writes are durable,
  // false when they failed or gate_timeout passed.
  asio::awaitable<bool> WaitForGate() {
    struct State {
      explicit State(const asio::any_io_executor& ex) : timer(ex) {}
      asio::steady_timer timer;
      int result = -1;  // touched on the connection's thread only
    };
    asio::any_io_executor ex = co_await asio::this_coro::executor;
    auto state = std::make_shared<State>(ex);
    state->timer.expires_after(opt.gate_timeout);
    // The gate holds the state weakly: an answer that gave up (gate_timeout) leaves nothing for a
    // late callback to post to, so a flush that ends after the server has gone touches nothing.
    opt.answer_gate->WhenOpen([weak = std::weak_ptr<State>(state), ex](bool ok) {
      auto alive = weak.lock();
      if (!alive) return;
      asio::post(ex, [alive, ok] {
        alive->result = ok ? 1 : 0;
        alive->timer.cancel();
      });
    });
    // Ends when the callback cancels the timer, or at gate_timeout; either way the result says.
    (void)co_await state->timer.async_wait(kTuple);
    co_return state->result == 1;
  }

  // Runs fn() on the blocking pool; the session resumes on its own thread.
  template <typename Fn, typename R = std::invoke_result_t<Fn>>
  asio::awaitable<R> OnPool(Fn fn) {
    co_return co_await asio::co_spawn(
        blocking_pool, [fn = std::move(fn)]() -> asio::awaitable<R> { co_return fn(); },
        asio::use_awaitable);
  }

  ServerOptions opt;
  Dispatcher& dispatcher;
  Metrics& metrics;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::signal_set> signals;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint16_t> bound_port{0};
  std::uint32_t rid_prefix = 0;
  std::size_t next_worker = 0;
  bool ran = false;
  bool tearing_down = false;
  std::atomic<std::size_t> refusing{0};  // RefuseConnection coroutines running
  std::mutex connections_mu;             // guards the two below
  std::size_t connections_open = 0;
  std::unordered_map<std::string, std::size_t> connections_by_client;
  asio::thread_pool blocking_pool;  // last: joined first, before the workers go
};

Status Server::Impl::Listen() {
  if (acceptor) return Status::Ok();
  Worker& w0 = *workers.front();
  beast::error_code ec;
  tcp::resolver resolver(w0.ioc);
  auto results = resolver.resolve(opt.host, std::to_string(opt.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return MakeError(ErrorCode::kInternal, "cannot resolve listen host " + opt.host, ec.message());
  }
  tcp::endpoint ep = results.begin()->endpoint();
  tcp::acceptor a(w0.ioc);
  if (a.open(ep.protocol(), ec); ec) {
    return MakeError(ErrorCode::kInternal, "cannot open socket: " + ec.message());
  }
  a.set_option(asio::socket_base::reuse_address(true), ec);
  if (a.bind(ep, ec); ec) {
    return MakeError(ErrorCode::kInternal,
                     fmt::format("cannot bind {}:{}: {}", opt.host, opt.port, ec.message()));
  }
  if (a.listen(opt.backlog, ec); ec) {
    return MakeError(ErrorCode::kInternal, "cannot listen: " + ec.message());
  }
  bound_port = a.local_endpoint(ec).port();
  acceptor.emplace(std::move(a));
  // Signals are caught from here on, not only once Run() starts: a SIGTERM that arrives while
  // the caller finishes its set-up (between Listen and Run) stops the server gracefully at the
  // start of Run instead of killing the process.
  if (opt.handle_signals) {
    signals.emplace(w0.ioc, SIGINT, SIGTERM);
    signals->async_wait([this](const beast::error_code& ec, int sig) {
      if (ec) return;
      spdlog::info("server_signal signal={} action=stop", sig);
      Stop();
    });
  }
  return Status::Ok();
}

Status Server::Impl::Run() {
  if (ran) return MakeError(ErrorCode::kInternal, "Server::Run called twice");
  ran = true;
  if (Status st = Listen(); !st.ok()) return st;
  for (auto& w : workers) w->guard.emplace(w->ioc.get_executor());
  Worker& w0 = *workers.front();
  asio::co_spawn(w0.ioc, AcceptLoop(), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("server_accept_loop_failed what=\"{}\"", ex.what());
    }
  });
  spdlog::info("server_listening host={} port={} threads={}", opt.host, bound_port.load(),
               workers.size());

  auto run = [](Worker& w) {
    for (;;) {
      try {
        w.ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("server_io_exception worker={} what=\"{}\"", w.index, e.what());
      }
    }
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers.size(); ++i) {
    threads.emplace_back([&run, w = workers[i].get()] { run(*w); });
  }
  run(w0);
  for (auto& t : threads) t.join();
  spdlog::info("server_stopped port={}", bound_port.load());
  return Status::Ok();
}

void Server::Impl::Stop() {
  if (stopping.exchange(true)) return;
  Worker& w0 = *workers.front();
  asio::post(w0.ioc, [this] {
    beast::error_code ec;
    if (acceptor) acceptor->close(ec);
    if (signals) signals->cancel(ec);
  });
  for (auto& w : workers) asio::post(w->ioc, [this, wp = w.get()] { BeginStop(*wp); });
}

void Server::Impl::BeginStop(Worker& w) {
  w.stopping = true;
  // Idle connections (waiting for the next request or still reading a header) go now; the
  // sessions see `stopping` and leave their loop.
  for (Conn* c : w.conns) {
    if (!c->busy) c->stream->cancel();
  }
  if (w.conns.empty()) {
    FinishWorker(w);
    return;
  }
  w.deadline.expires_after(opt.shutdown_grace);
  w.deadline.async_wait([&w](const beast::error_code& ec) {
    if (ec) return;
    if (!w.conns.empty()) {
      spdlog::warn("server_shutdown_grace_expired worker={} closing={}", w.index, w.conns.size());
    }
    for (Conn* c : w.conns) c->stream->close();
  });
}

void Server::Impl::FinishWorker(Worker& w) {
  if (w.finished || tearing_down) return;
  w.finished = true;
  w.deadline.cancel();
  w.guard.reset();
}

asio::awaitable<void> Server::Impl::AcceptLoop() {
  for (;;) {
    Worker& w = *workers[next_worker++ % workers.size()];
    tcp::socket socket(w.ioc);
    auto [ec] = co_await acceptor->async_accept(socket, kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open() || stopping) co_return;
      spdlog::warn("server_accept_error error=\"{}\"", ec.message());
      // Out of descriptors and the like: back off instead of spinning.
      asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
      co_await t.async_wait(kTuple);
      continue;
    }
    if (stopping) co_return;
    std::string client;
    if (auto ep = socket.remote_endpoint(ec); !ec) client = ep.address().to_string();
    if (!AdmitConnection(client)) {
      metrics.ConnectionRefused();
      // Answering costs a coroutine and up to kLingerTime each: a flood of them is cut short.
      if (opt.max_refusing != 0 && refusing.load() >= opt.max_refusing) {
        socket.close(ec);
        continue;
      }
      ++refusing;
      asio::co_spawn(w.ioc, RefuseConnection(std::move(socket)),
                     [this](std::exception_ptr) { --refusing; });
      continue;
    }
    asio::co_spawn(w.ioc, Session(w, std::move(socket), std::move(client)),
                   [](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       spdlog::error("server_session_failed what=\"{}\"", ex.what());
                     }
                   });
  }
}

void Server::Impl::AssignRequestId(Worker& w, Request& req) {
  if (auto id = req.Header("X-Request-Id"); id && SaneRequestId(*id)) {
    req.request_id.assign(*id);
    return;
  }
  req.request_id.clear();
  fmt::format_to(std::back_inserter(req.request_id), "{:08x}-{}-{}", rid_prefix, w.index,
                 ++w.next_rid);
}

void Server::Impl::SerializeHead(std::string& head, const Response& res, const Request& req,
                                 bool keep_alive, bool http10, std::size_t body_size) {
  auto out = std::back_inserter(head);
  head.clear();
  fmt::format_to(out, "HTTP/1.1 {} {}\r\n", res.status, ReasonPhrase(res.status));
  if (!opt.server_header.empty()) {
    head += "Server: ";
    head += opt.server_header;
    head += "\r\n";
  }
  head += "Date: ";
  head += HttpDate();
  head += "\r\n";
  if (!res.content_type.empty() && !HasCrLf(res.content_type)) {
    head += "Content-Type: ";
    head += res.content_type;
    head += "\r\n";
  }
  bool no_body_status = res.status == 204 || res.status == 304 || res.status < 200;
  if (!no_body_status) fmt::format_to(out, "Content-Length: {}\r\n", body_size);
  if (!req.request_id.empty()) {
    head += "X-Request-Id: ";
    head += req.request_id;
    head += "\r\n";
  }
  for (const auto& [k, v] : res.headers) {
    if (k.empty() || HasCrLf(k) || HasCrLf(v) || ReservedHeader(k)) continue;
    head += k;
    head += ": ";
    head += v;
    head += "\r\n";
  }
  if (!keep_alive) {
    head += "Connection: close\r\n";
  } else if (http10) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
}

void Server::Impl::AccessLog(const Request& req, int status, std::size_t bytes, Clock::duration dur,
                             std::chrono::system_clock::time_point start) {
  if (!opt.access_log) return;
  thread_local std::string line;
  line.clear();
  line += "access ts=";
  AppendIsoUtc(line, start);
  fmt::format_to(std::back_inserter(line), " rid={} remote={} method={} path=", req.request_id,
                 req.remote, req.method_name.empty() ? "-" : req.method_name);
  if (req.target.empty()) {
    line += '-';
  } else {
    AppendLoggedTarget(line, req.target);
  }
  fmt::format_to(std::back_inserter(line), " status={} bytes={} duration_us={}", status, bytes,
                 std::chrono::duration_cast<std::chrono::microseconds>(dur).count());
  spdlog::logger* logger =
      opt.access_logger ? opt.access_logger.get() : spdlog::default_logger_raw();
  logger->info(line);
}

asio::awaitable<void> Server::Impl::Linger(beast::tcp_stream& stream, std::size_t max_bytes) {
  // Half-close, then drain what the client still sends so that closing does not reset the
  // connection before it has read our answer (RFC 9112 9.6).
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  std::array<char, 8192> sink;
  std::size_t drained = 0;
  stream.expires_after(kLingerTime);
  while (drained < max_bytes) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
    if (rec) break;
    drained += n;
  }
}

bool Server::Impl::AdmitConnection(const std::string& client) {
  std::lock_guard lock(connections_mu);
  if (opt.max_connections != 0 && connections_open >= opt.max_connections) return false;
  std::size_t& from_client = connections_by_client[client];
  if (opt.max_connections_per_client != 0 && from_client >= opt.max_connections_per_client) {
    return false;
  }
  ++from_client;
  ++connections_open;
  return true;
}

void Server::Impl::ReleaseConnection(const std::string& client) {
  std::lock_guard lock(connections_mu);
  --connections_open;
  auto it = connections_by_client.find(client);
  if (it != connections_by_client.end() && --it->second == 0) connections_by_client.erase(it);
}

asio::awaitable<void> Server::Impl::RefuseConnection(tcp::socket socket) {
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: 34\r\n\r\n"
      "For mange samtidige forbindelser.\n";
  beast::tcp_stream stream(std::move(socket));
  stream.expires_after(opt.write_timeout);
  co_await asio::async_write(stream, asio::buffer(kBusy), kTuple);
  co_await Linger(stream, kRefusedLingerBytes);
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream.close();
}

asio::awaitable<void> Server::Impl::Session(Worker& w, tcp::socket socket, std::string client) {
  struct Release {  // the connection counted by AdmitConnection
    Impl* self;
    const std::string& client;
    ~Release() { self->ReleaseConnection(client); }
  } release{this, client};
  beast::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  std::string remote;
  if (auto ep = socket.remote_endpoint(ec); !ec) {
    remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  std::string local;
  if (auto ep = socket.local_endpoint(ec); !ec) {
    const std::string address = ep.address().to_string();
    local =
        (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
  }
  beast::tcp_stream stream(std::move(socket));
  Conn conn{&stream, false};
  w.conns.push_back(&conn);
  metrics.ConnectionOpened();
  struct Cleanup {
    Impl* self;
    Worker& w;
    Conn* conn;
    ~Cleanup() {
      self->metrics.ConnectionClosed();
      if (conn->busy) self->metrics.RequestFinished();
      auto it = std::find(w.conns.begin(), w.conns.end(), conn);
      if (it != w.conns.end()) {
        *it = w.conns.back();
        w.conns.pop_back();
      }
      if (w.stopping && w.conns.empty()) self->FinishWorker(w);
    }
  } cleanup{this, w, &conn};

  beast::flat_buffer buffer;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser;
  Request req;
  std::string head;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

  for (bool first = true;; first = false) {
    if (stopping) break;
    if (buffer.size() == 0) {
      stream.expires_after(first ? opt.header_timeout : opt.idle_timeout);
      auto [rec, n] = co_await stream.async_read_some(buffer.prepare(kReadChunk), kTuple);
      if (rec) break;  // timeout, EOF, reset, or cancelled by Stop()
      buffer.commit(n);
    }
    if (stopping) break;

    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(opt.header_limit));
    parser->body_limit(boost::none);  // checked below, so the answer can name the route
    stream.expires_after(opt.header_timeout);
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, *parser, kTuple);
    if (hec) {
      int status = 0;
      if (hec == bhttp::error::header_limit) {
        status = 431;
      } else if (IsProtocolError(hec)) {
        status = 400;
      }
      if (status != 0 && !stopping) {
        req.Reset();
        req.remote = remote;
        AssignRequestId(w, req);
        Response res = PlainStatus(status);
        SerializeHead(head, res, req, false, false, res.body.size());
        std::array<asio::const_buffer, 2> bufs{asio::buffer(head), asio::buffer(res.body)};
        stream.expires_after(opt.write_timeout);
        auto start_wall = std::chrono::system_clock::now();
        co_await asio::async_write(stream, bufs, kTuple);
        metrics.ObserveRequest(Metrics::kUnmatched, Method::kOther, status, {});
        AccessLog(req, status, res.body.size(), {}, start_wall);
        co_await Linger(stream);
      }
      break;
    }

    // A request header is in: from here on the request is "in flight".
    const auto start = Clock::now();
    const auto start_wall = std::chrono::system_clock::now();
    conn.busy = true;
    metrics.RequestStarted();

    auto& msg = parser->get();
    req.Reset();
    req.remote = remote;
    req.local = local;
    req.method_name.assign(msg.method_string());
    req.method = ParseMethod(req.method_name);
    for (const auto& f : msg) req.AddHeader(f.name_string(), f.value());
    AssignRequestId(w, req);
    bool keep_alive = msg.keep_alive();
    const bool http10 = msg.version() < 11;

    Response res;
    bool have_response = false;
    if (Status st = req.SetTarget(msg.target()); !st.ok()) {
      req.target.assign(msg.target());
      res = dispatcher.RenderError(req, st.error());
      have_response = true;
      keep_alive = keep_alive && parser->is_done();
    }
    // Everything that can refuse a request is decided from its headers, before a byte of the
    // body is read — an announced size past the limit (413), then the route and its API's
    // before-steps (404, 405, authentication, rate limits) — so a refused request costs its
    // headers only, whatever it announces.
    const Route* found = have_response ? nullptr : dispatcher.FindRoute(req);
    const bool blocking =
        found != nullptr && (found->info.blocking || (found->info.blocking_when != nullptr &&
                                                      found->info.blocking_when(req)));
    // The limit of the route's API (an API of root paths, such as the token endpoint, has no
    // prefix), else of the API owning the path.
    const ApiSpec* body_api = found != nullptr && !found->info.api.empty()
                                  ? dispatcher.FindApi(found->info.api)
                                  : dispatcher.ApiForPath(req.path);
    std::uint64_t body_limit =
        body_api != nullptr && body_api->body_limit ? *body_api->body_limit : opt.body_limit;
    // A GET or HEAD needs no body: whatever route it names (the operations routes have no API
    // of their own), it may carry bodiless_limit at most.
    if (req.method == Method::kGet || req.method == Method::kHead) {
      body_limit = std::min(body_limit, opt.bodiless_limit);
    }
    auto too_large = [&](std::string detail) {
      res = dispatcher.RenderError(
          req, MakeError(ErrorCode::kTooLarge, "Forespørselen er for stor.", std::move(detail)));
      have_response = true;
      keep_alive = false;  // the body stays unread
    };
    if (auto len = parser->content_length(); !have_response && len && *len > body_limit) {
      too_large(fmt::format("content-length {} > limit {}", *len, body_limit));
    }
    const Route* route = nullptr;
    if (!have_response) {
      std::variant<const Route*, Response> admitted;
      if (blocking) {
        admitted = co_await OnPool([&] { return dispatcher.Admit(req); });
      } else {
        admitted = dispatcher.Admit(req);
      }
      if (Response* answer = std::get_if<Response>(&admitted)) {
        res = std::move(*answer);
        have_response = true;
        keep_alive = keep_alive && parser->is_done();  // else the body stays unread
      } else {
        route = std::get<const Route*>(admitted);
      }
    }
    bool body_done = parser->is_done();
    bool gated = false;  // the answer waits for opt.answer_gate (see Gated)
    // The body's deadline moves with what has arrived: `body_timeout` after the body began, plus
    // the time its bytes so far take at `min_body_rate`. A client that keeps that rate is never
    // cut, however large its body; one that trickles (a slowloris body) is cut `body_timeout`
    // after it fell behind.
    const auto body_start = Clock::now();
    std::uint64_t body_received = 0;
    auto body_deadline = [&]() {
      auto deadline = body_start + opt.body_timeout;
      if (opt.min_body_rate > 0) {
        deadline +=
            std::chrono::milliseconds(body_received / opt.min_body_rate * 1000 +
                                      body_received % opt.min_body_rate * 1000 / opt.min_body_rate);
      }
      return deadline;
    };
    if (!have_response && !body_done) {
      if (route->stream) {
        // The body goes to the route's sink as it arrives (see server.hpp).
        Dispatcher::Stream begun = dispatcher.BeginStream(req, *route);
        if (!begun.sink) {
          res = std::move(begun.answer);
          have_response = true;
          keep_alive = false;
        } else {
          if (auto expect = req.Header("Expect");
              expect && EqualsIgnoreCase(*expect, "100-continue")) {
            stream.expires_after(opt.write_timeout);
            auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(kContinue), kTuple);
            if (cec) break;
          }
          bhttp::request_parser<bhttp::buffer_body> body_parser(std::move(*parser));
          body_parser.body_limit(body_limit);
          std::unique_ptr<char[]> chunk(new char[opt.stream_chunk]);
          bool gone = false;
          stream.expires_at(body_deadline());
          while (!body_parser.is_done()) {
            auto& piece = body_parser.get().body();
            piece.data = chunk.get();
            piece.size = opt.stream_chunk;
            auto [bec, bn] = co_await bhttp::async_read_some(stream, buffer, body_parser, kTuple);
            body_received += bn;
            stream.expires_at(body_deadline());
            if (bec == bhttp::error::need_buffer) bec = {};
            if (bec == bhttp::error::body_limit) {
              too_large(fmt::format("chunked body > limit {}", body_limit));
              break;
            }
            if (bec) {
              if (!IsProtocolError(bec)) {
                gone = true;  // timeout or the client went away mid-body
                break;
              }
              res = PlainStatus(400);
              have_response = true;
              keep_alive = false;
              break;
            }
            const std::size_t got = opt.stream_chunk - piece.size;
            if (got == 0) continue;
            if (auto answer =
                    dispatcher.StreamBody(req, *begun.sink, std::string_view(chunk.get(), got))) {
              res = std::move(*answer);
              have_response = true;
              keep_alive = false;
              break;
            }
          }
          body_done = body_parser.is_done();
          if (gone) break;
          if (!have_response) {
            BodySink& sink = *begun.sink;
            // (No co_await inside a conditional expression: GCC 12 miscompiles temporaries there.)
            if (blocking) {
              res = co_await OnPool(
                  [&] { return Gated(gated, [&] { return dispatcher.FinishStream(req, sink); }); });
            } else {
              res = Gated(gated, [&] { return dispatcher.FinishStream(req, sink); });
            }
            have_response = true;
          }
        }
      } else {
        if (auto expect = req.Header("Expect");
            expect && EqualsIgnoreCase(*expect, "100-continue")) {
          stream.expires_after(opt.write_timeout);
          auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(kContinue), kTuple);
          if (cec) break;
        }
        parser->body_limit(body_limit);
        stream.expires_at(body_deadline());
        beast::error_code bec;
        while (!parser->is_done()) {
          auto [ec, bn] = co_await bhttp::async_read_some(stream, buffer, *parser, kTuple);
          if (ec) {
            bec = ec;
            break;
          }
          body_received += bn;
          stream.expires_at(body_deadline());
        }
        body_done = parser->is_done();
        if (bec == bhttp::error::body_limit) {
          too_large(fmt::format("chunked body > limit {}", body_limit));
        } else if (bec) {
          if (IsProtocolError(bec)) {
            res = PlainStatus(400);
            have_response = true;
            keep_alive = false;
          } else {
            break;  // timeout or the client went away mid-body
          }
        }
      }
    }
    if (!have_response) {
      req.body = std::move(parser->get().body());
      if (blocking) {
        res = co_await OnPool(
            [&] { return Gated(gated, [&] { return dispatcher.DispatchAdmitted(req, *route); }); });
      } else {
        res = Gated(gated, [&] { return dispatcher.DispatchAdmitted(req, *route); });
      }
    }
    if (gated) {
      const bool durable = co_await WaitForGate();
      if (!durable) {
        spdlog::error("answer_gate_failed rid={} status={}", req.request_id, res.status);
        res = dispatcher.RenderError(req, MakeError(ErrorCode::kInternal, {}));
        keep_alive = false;
      }
    }

    if (stopping) keep_alive = false;
    const bool head_only = req.method == Method::kHead;
    bool no_body_status = res.status == 204 || res.status == 304 || res.status < 200;
    const bool streamed = res.stream_body != nullptr && !no_body_status;
    std::string_view body = no_body_status || streamed ? std::string_view() : res.BodyView();
    const std::uint64_t body_size = streamed ? res.stream_body->size() : body.size();
    SerializeHead(head, res, req, keep_alive, http10, body_size);
    std::string_view to_send = head_only ? std::string_view() : body;
    std::array<asio::const_buffer, 2> bufs{asio::buffer(head),
                                           asio::buffer(to_send.data(), to_send.size())};
    stream.expires_after(opt.write_timeout);
    auto [wec, wn] = co_await asio::async_write(stream, bufs, kTuple);
    std::uint64_t sent = to_send.size();
    if (!wec && streamed && !head_only) {
      // Piece by piece; a piece that cannot be produced ends the connection (see BodyStream).
      while (true) {
        Result<std::string_view> piece = res.stream_body->Next();
        if (!piece.ok() || sent + piece->size() > body_size) {
          spdlog::error("response_stream_failed rid={} sent={} of={} error=\"{} {}\"",
                        req.request_id, sent, body_size,
                        piece.ok() ? "longer than announced" : piece.error().message,
                        piece.ok() ? "" : piece.error().detail);
          wec = asio::error::operation_aborted;
          break;
        }
        if (piece->empty()) break;
        stream.expires_after(opt.write_timeout);
        auto [pec, pn] = co_await asio::async_write(stream, asio::buffer(*piece), kTuple);
        sent += pn;
        if (pec) {
          wec = pec;
          break;
        }
      }
      if (!wec && sent != body_size) {
        spdlog::error(
            "response_stream_failed rid={} sent={} of={} error=\"shorter than "
            "announced\"",
            req.request_id, sent, body_size);
        wec = asio::error::operation_aborted;
      }
    }

    auto dur = Clock::now() - start;
    metrics.ObserveRequest(req.route_slot, req.method, res.status, dur);
    metrics.RequestFinished();
    conn.busy = false;
    AccessLog(req, res.status, static_cast<std::size_t>(sent), dur, start_wall);
    if (wec) break;
    if (!keep_alive) {
      // Unread request bytes (an unread body, pipelined requests) would turn our close into a
      // reset that can destroy the answer in flight; drain them first. Clean closes skip this.
      if (!body_done || buffer.size() > 0 || stream.socket().available(ec) > 0) {
        co_await Linger(stream);
      }
      break;
    }
  }
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream.close();
}

Server::Server(ServerOptions options, Dispatcher& dispatcher, Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), dispatcher, metrics)) {}

Server::~Server() = default;

Status Server::Listen() { return impl_->Listen(); }
std::uint16_t Server::port() const { return impl_->bound_port.load(); }
Status Server::Run() { return impl_->Run(); }
void Server::Stop() { impl_->Stop(); }

Status Server::AddOpsRoutes(Dispatcher& dispatcher, Metrics& metrics, std::function<bool()> ready) {
  Status st = dispatcher.Add(Method::kGet, "/health/live", RouteInfo{"", "health_live"},
                             [](Request&) -> Result<Response> { return Response::Text("ok\n"); });
  if (!st.ok()) return st;
  st = dispatcher.Add(Method::kGet, "/health/ready", RouteInfo{"", "health_ready"},
                      [ready = std::move(ready)](Request&) -> Result<Response> {
                        if (ready && !ready()) return PlainStatus(503);
                        return Response::Text("ready\n");
                      });
  if (!st.ok()) return st;
  return dispatcher.Add(
      Method::kGet, "/metrics", RouteInfo{"", "metrics"}, [&metrics](Request&) -> Result<Response> {
        return Response::Make(200, std::string(Metrics::kContentType), metrics.Render());
      });
}

}  // namespace norreg::http
