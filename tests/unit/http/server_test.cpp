// In-process server tests: a real Server on 127.0.0.1:0 in a thread, driven by a raw-socket
// client (raw sockets so the tests control every byte and never block past their deadlines).
#include "http/server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http/error_mapping.hpp"

namespace norreg::http {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct HttpResp {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect failed");
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response; nullopt when the peer closed or the deadline passed first.
  std::optional<HttpResp> Read(std::chrono::milliseconds timeout = 5000ms, bool head = false) {
    auto deadline = Clock::now() + timeout;
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    HttpResp r;
    std::istringstream hs(buf_.substr(0, end));
    std::string line;
    std::getline(hs, line);
    if (line.rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
    r.status = std::stoi(line.substr(9, 3));
    while (std::getline(hs, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[name] = value;
    }
    buf_.erase(0, end + 4);
    std::size_t len = 0;
    if (!head && r.headers.count("content-length")) len = std::stoul(r.headers["content-length"]);
    while (buf_.size() < len) {
      if (!Fill(deadline)) return std::nullopt;
    }
    r.body = buf_.substr(0, len);
    buf_.erase(0, len);
    return r;
  }

  // True when the server closes the connection (EOF or reset) within `timeout`; data that
  // arrives meanwhile is kept.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (!Fill(deadline)) return closed_;
    }
    return closed_;
  }

 private:
  bool Fill(Clock::time_point deadline) {
    if (closed_) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
  bool closed_ = false;
};

std::string Get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n";
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiSpec freg;
    freg.id = "freg";
    freg.prefix = "/freg";
    freg.render_error = RenderFregError;
    ASSERT_TRUE(dispatcher_.AddApi(std::move(freg)).ok());
    auto text = [](std::string body) {
      return [body](Request&) -> Result<Response> { return Response::Text(body); };
    };
    ASSERT_TRUE(dispatcher_.Add(Method::kGet, "/hello", {"", "hello"}, text("hello")).ok());
    ASSERT_TRUE(dispatcher_
                    .Add(Method::kGet, "/whoami", {"", "whoami"},
                         [](Request& r) -> Result<Response> { return Response::Text(r.remote); })
                    .ok());
    ASSERT_TRUE(dispatcher_
                    .Add(Method::kPost, "/echo", {"", "echo"},
                         [](Request& r) -> Result<Response> { return Response::Text(r.body); })
                    .ok());
    ASSERT_TRUE(dispatcher_
                    .Add(Method::kPost, "/freg/upload", {"freg", "upload"},
                         [](Request& r) -> Result<Response> { return Response::Json(r.body); })
                    .ok());
    ASSERT_TRUE(dispatcher_
                    .Add(Method::kGet, "/freg/x/{id}", {"freg", "x"},
                         [](Request& r) -> Result<Response> {
                           if (r.Param("id") == "boom") throw std::runtime_error("db password");
                           return Response::Json("{}");
                         })
                    .ok());
    ASSERT_TRUE(dispatcher_
                    .Add(Method::kGet, "/throw", {"", "throw"},
                         [](Request&) -> Result<Response> { throw std::logic_error("internal"); })
                    .ok());
    ASSERT_TRUE(dispatcher_
                    .Add(Method::kGet, "/slow", {"", "slow"},
                         [this](Request&) -> Result<Response> {
                           slow_started_ = true;
                           std::this_thread::sleep_for(400ms);
                           return Response::Text(std::string(100000, 's'));
                         })
                    .ok());
    shared_ = std::make_shared<const std::string>(200000, 'z');
    ASSERT_TRUE(dispatcher_
                    .Add(Method::kGet, "/shared", {"", "shared"},
                         [this](Request&) -> Result<Response> {
                           return Response::Shared(shared_, "application/json");
                         })
                    .ok());
    ASSERT_TRUE(Server::AddOpsRoutes(dispatcher_, metrics_, [this] { return ready_.load(); }).ok());

    log_sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    options_.host = "127.0.0.1";
    options_.port = 0;
    options_.threads = 2;
    options_.header_timeout = 300ms;
    options_.idle_timeout = 500ms;
    options_.body_timeout = 500ms;
    options_.shutdown_grace = 3000ms;
    options_.body_limit = 1024;
    options_.access_logger = std::make_shared<spdlog::logger>("access_test", log_sink_);
  }

  void Start() {
    server_ = std::make_unique<Server>(options_, dispatcher_, metrics_);
    ASSERT_TRUE(server_->Listen().ok());
    ASSERT_NE(server_->port(), 0);
    thread_ = std::thread([this] {
      Status st = server_->Run();
      EXPECT_TRUE(st.ok());
      run_returned_ = true;
    });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  std::uint16_t port() const { return server_->port(); }

  Metrics metrics_;
  Dispatcher dispatcher_{&metrics_};
  ServerOptions options_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::atomic<bool> slow_started_{false};
  std::atomic<bool> run_returned_{false};
  std::atomic<bool> ready_{true};
  std::shared_ptr<const std::string> shared_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> log_sink_;
};

TEST_F(ServerTest, KeepAliveReusesTheConnection) {
  Start();
  RawClient c(port());
  std::string first_remote;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send(Get("/whoami")));
    auto r = c.Read();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->Header("connection"), "");
    EXPECT_FALSE(r->Header("date").empty());
    if (i == 0) first_remote = r->body;
    EXPECT_EQ(r->body, first_remote) << "same client port = same connection";
  }
  EXPECT_NE(first_remote.find("127.0.0.1:"), std::string::npos);
}

TEST_F(ServerTest, PipelinedRequestsAnswerInOrder) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send(Get("/hello") + Get("/nope") + Get("/hello")));
  auto a = c.Read();
  auto b = c.Read();
  auto d = c.Read();
  ASSERT_TRUE(a && b && d);
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->body, "hello");
  EXPECT_EQ(b->status, 404);
  EXPECT_EQ(d->status, 200);
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowed) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send(Get("/nope")));
  auto plain = c.Read();
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 404);
  EXPECT_EQ(plain->body, "404 Not Found\n");

  ASSERT_TRUE(c.Send(Get("/freg/ukjent/sti/")));
  auto api = c.Read();
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 404);
  EXPECT_EQ(api->Header("content-type"), "application/json");
  EXPECT_EQ(boost::json::parse(api->body).at("kode").as_string(), "FREG-001");

  ASSERT_TRUE(c.Send("DELETE /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto m = c.Read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 405);
  EXPECT_EQ(m->Header("allow"), "GET, HEAD");

  ASSERT_TRUE(c.Send("BREW /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto brew = c.Read();
  ASSERT_TRUE(brew);
  EXPECT_EQ(brew->status, 405);
}

TEST_F(ServerTest, HeadHasLengthButNoBody) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send("HEAD /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.Read(5000ms, /*head=*/true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"), "5");
  ASSERT_TRUE(c.Send(Get("/hello")));  // the connection is still in sync
  auto g = c.Read();
  ASSERT_TRUE(g);
  EXPECT_EQ(g->body, "hello");
}

TEST_F(ServerTest, OversizedHeaderGets431) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send(Get("/hello", "X-Big: " + std::string(20000, 'a') + "\r\n")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 431);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed(3000ms));
}

TEST_F(ServerTest, OversizedBodyGets413InTheApiShape) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(
      c.Send("POST /freg/upload HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "Content-Length: 5000\r\n\r\n" +
             std::string(100, 'x')));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(boost::json::parse(r->body).at("kode").as_string(), "FREG-001");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitClosed(3000ms));
}

// A client that sends the whole refused body before reading (no 100-continue) still reads the
// 413: the server drains the body before it closes, so the close is no reset that destroys the
// answer in flight.
TEST_F(ServerTest, A413IsReadByAClientThatSendsTheWholeBodyFirst) {
  Start();
  RawClient c(port());
  const std::size_t size = 20u << 20;
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(size) +
                     "\r\n\r\n"));
  ASSERT_TRUE(c.Send(std::string(size, 'z')));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c.WaitClosed(3000ms));
}

TEST_F(ServerTest, OversizedChunkedBodyGets413) {
  Start();
  RawClient c(port());
  std::string chunk(800, 'y');
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "320\r\n" +
             chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->body, "413 Content Too Large\n");
}

// Sends `request` on a connection of its own; the answer, or nullopt when none came.
std::optional<HttpResp> Exchange(std::uint16_t port, const std::string& request) {
  RawClient c(port);
  if (!c.Send(request)) return std::nullopt;
  return c.Read();
}

// A GET needs no body: one larger than bodiless_limit is refused from its Content-Length, on a
// route of no API too (the operations routes).
TEST_F(ServerTest, AGetCarriesNoLargeBody) {
  options_.body_limit = 1 << 20;
  options_.bodiless_limit = 16;
  Start();
  auto refused = Exchange(port(), "GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n\r\n");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 413);
  auto answered = Exchange(
      port(), "GET /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n\r\n0123456789abcdef");
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 200);
}

// An API of root paths (no prefix, e.g. the token endpoint) still has its own body limit: it is
// taken from the route's API, before the body is read.
TEST_F(ServerTest, ARouteOfAnApiWithoutPrefixHasItsApisBodyLimit) {
  ApiSpec root;
  root.id = "root";
  root.body_limit = 10;
  ASSERT_TRUE(dispatcher_.AddApi(std::move(root)).ok());
  ASSERT_TRUE(dispatcher_
                  .Add(Method::kPost, "/grant", {"root", "grant"},
                       [](Request& r) -> Result<Response> { return Response::Text(r.body); })
                  .ok());
  options_.body_limit = 1 << 20;
  Start();
  auto refused = Exchange(port(), "POST /grant HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 413);
  auto answered =
      Exchange(port(), "POST /grant HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 200);
  EXPECT_EQ(answered->body, "0123456789");
}

TEST_F(ServerTest, BodyWithinLimitIsEchoed) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nabcd" +
                     std::string("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                                 "\r\n3\r\nxyz\r\n0\r\n\r\n")));
  auto a = c.Read();
  auto b = c.Read();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->body, "abcd");
  EXPECT_EQ(b->body, "xyz");
}

TEST_F(ServerTest, Expect100Continue) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
             "Content-Length: 5\r\n\r\n"));
  auto cont = c.Read();
  ASSERT_TRUE(cont);
  EXPECT_EQ(cont->status, 100);
  ASSERT_TRUE(c.Send("hello"));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
}

TEST_F(ServerTest, SlowClientWithHalfAHeaderIsCutOff) {
  Start();
  RawClient c(port());
  auto t0 = Clock::now();
  ASSERT_TRUE(c.Send("GET /hello HTTP/1.1\r\nHost: t\r\n"));
  EXPECT_TRUE(c.WaitClosed(3000ms));
  auto took = Clock::now() - t0;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 2500ms);
  // And the server still serves.
  RawClient d(port());
  ASSERT_TRUE(d.Send(Get("/hello")));
  auto r = d.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, SilentConnectionAndIdleKeepAliveAreClosed) {
  Start();
  RawClient silent(port());
  RawClient idle(port());
  ASSERT_TRUE(idle.Send(Get("/hello")));
  ASSERT_TRUE(idle.Read());
  EXPECT_TRUE(silent.WaitClosed(3000ms));
  EXPECT_TRUE(idle.WaitClosed(3000ms));
}

TEST_F(ServerTest, GarbageGets400AndTheServerKeepsServing) {
  Start();
  {
    RawClient c(port());
    ASSERT_TRUE(c.Send(std::string("\x01\x02\xff garbage\r\n\r\n", 15)));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_TRUE(c.WaitClosed(3000ms));
  }
  {
    RawClient c(port());
    ASSERT_TRUE(c.Send("GET /hello HTTP/9.9\r\n\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
  }
  {
    RawClient c(port());  // a bad target in a well-formed request
    ASSERT_TRUE(c.Send("GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto r = c.Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
  }
  {
    RawClient c(port());  // connect and vanish
  }
  RawClient ok(port());
  ASSERT_TRUE(ok.Send(Get("/hello")));
  auto r = ok.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// Over the cap of connections from one address (or in all), a new connection is answered 503
// with Retry-After and closed, and counted; a closed connection makes room again.
TEST_F(ServerTest, ConnectionsOverACapGet503) {
  options_.max_connections_per_client = 2;
  Start();
  auto first = std::make_unique<RawClient>(port());
  RawClient second(port());
  ASSERT_TRUE(first->Send(Get("/hello")));
  ASSERT_TRUE(first->Read());  // both are admitted and counted
  ASSERT_TRUE(second.Send(Get("/hello")));
  ASSERT_TRUE(second.Read());
  RawClient third(port());
  auto refused = third.Read(2000ms);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->Header("retry-after"), "1");
  EXPECT_TRUE(third.WaitClosed(3000ms));
  EXPECT_EQ(metrics_.connections_refused(), 1u);
  EXPECT_NE(metrics_.Render().find("norreg_http_connections_refused_total 1"), std::string::npos);
  first.reset();  // closing one makes room
  for (int i = 0; i < 100 && metrics_.open_connections() > 1; ++i)
    std::this_thread::sleep_for(10ms);
  RawClient fourth(port());
  ASSERT_TRUE(fourth.Send(Get("/hello")));
  auto hello = fourth.Read();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->status, 200);
}

// Refusals are bounded too: while max_refusing refused connections are being answered and
// drained, one more is closed at once without an answer (and still counted).
TEST_F(ServerTest, RefusalsPastTheirCapAreClosedWithoutAnAnswer) {
  options_.max_connections_per_client = 1;
  options_.max_refusing = 1;
  Start();
  RawClient admitted(port());
  ASSERT_TRUE(admitted.Send(Get("/hello")));
  ASSERT_TRUE(admitted.Read());
  auto refused = std::make_unique<RawClient>(port());  // answered, then drained while open
  auto busy = refused->Read(2000ms);
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  RawClient cut(port());
  EXPECT_FALSE(cut.Read(1000ms));
  EXPECT_TRUE(cut.WaitClosed(1000ms));
  EXPECT_EQ(metrics_.connections_refused(), 2u);
  refused.reset();  // its drain ends, and its slot is free again
  std::optional<HttpResp> answer;
  for (int i = 0; i < 100 && !answer; ++i) {
    RawClient again(port());
    answer = again.Read(500ms);
    if (!answer) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 503);
}

// A request target in absolute form (RFC 9112 section 3.2.2) reaches the same route.
TEST_F(ServerTest, AnAbsoluteFormTargetIsServed) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send(Get("http://127.0.0.1:" + std::to_string(port()) + "/hello")));
  auto hello = c.Read();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->status, 200);
}

TEST_F(ServerTest, HandlerExceptionIsGeneric500) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send(Get("/throw")));
  auto plain = c.Read();
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 500);
  EXPECT_EQ(plain->body, "500 Internal Server Error\n");

  ASSERT_TRUE(c.Send(Get("/freg/x/boom", "Accept: application/xml\r\n")));
  auto api = c.Read();
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 500);
  EXPECT_EQ(api->Header("content-type"), "application/xml");
  EXPECT_EQ(api->body.find("password"), std::string::npos);
  EXPECT_NE(api->body.find("<kode>FREG-001</kode>"), std::string::npos);

  ASSERT_TRUE(c.Send(Get("/hello")));  // the connection survives
  auto ok = c.Read();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, GracefulStopLetsTheSlowHandlerFinish) {
  Start();
  RawClient busy(port());
  RawClient idle(port());
  ASSERT_TRUE(idle.Send(Get("/hello")));
  ASSERT_TRUE(idle.Read());
  ASSERT_TRUE(busy.Send(Get("/slow")));
  auto t0 = Clock::now();
  while (!slow_started_ && Clock::now() - t0 < 3s) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(slow_started_);
  server_->Stop();
  auto r = busy.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 100000u);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(busy.WaitClosed(2000ms));
  EXPECT_TRUE(idle.WaitClosed(2000ms));
  thread_.join();
  EXPECT_TRUE(run_returned_);
  // New connections are refused once stopped.
  EXPECT_THROW(RawClient late(port()), std::runtime_error);
}

TEST_F(ServerTest, StopWithoutConnectionsReturnsQuickly) {
  Start();
  auto t0 = Clock::now();
  server_->Stop();
  thread_.join();
  EXPECT_LT(Clock::now() - t0, 1000ms);
}

TEST_F(ServerTest, SharedBodyAndRequestIds) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send(Get("/shared", "X-Request-Id: abc-123\r\n")));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, *shared_);
  EXPECT_EQ(r->Header("x-request-id"), "abc-123");
  ASSERT_TRUE(c.Send(Get("/hello", "X-Request-Id: bad id with spaces\r\n")));
  auto g = c.Read();
  ASSERT_TRUE(g);
  EXPECT_FALSE(g->Header("x-request-id").empty());
  EXPECT_NE(g->Header("x-request-id"), "bad id with spaces");
}

TEST_F(ServerTest, OpsRoutesAndMetrics) {
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send(Get("/health/live")));
  auto live = c.Read();
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  ready_ = false;
  ASSERT_TRUE(c.Send(Get("/health/ready")));
  auto not_ready = c.Read();
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  ready_ = true;
  ASSERT_TRUE(c.Send(Get("/health/ready")));
  auto ready = c.Read();
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  ASSERT_TRUE(c.Send(Get("/nope")));
  ASSERT_TRUE(c.Read());
  ASSERT_TRUE(c.Send(Get("/metrics")));
  auto m = c.Read();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m->body.find("norreg_http_requests_total{route=\"health_ready\",method=\"GET\","
                         "status=\"503\"} 1"),
            std::string::npos)
      << m->body;
  EXPECT_NE(m->body.find("norreg_http_requests_total{route=\"unmatched\",method=\"GET\","
                         "status=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(m->body.find("norreg_http_open_connections 1"), std::string::npos);
  EXPECT_NE(m->body.find("norreg_http_requests_in_flight 1"), std::string::npos);
}

TEST_F(ServerTest, AccessLogHasOneLinePerRequest) {
  Start();
  {
    RawClient c(port());
    ASSERT_TRUE(c.Send(Get("/hello?fnr=123", "X-Request-Id: rid-1\r\n")));
    ASSERT_TRUE(c.Read());
  }
  server_->Stop();
  thread_.join();
  log_sink_->flush();
  std::string log = log_.str();
  EXPECT_NE(log.find("access ts="), std::string::npos) << log;
  EXPECT_NE(log.find("rid=rid-1 remote=127.0.0.1:"), std::string::npos) << log;
  EXPECT_NE(log.find("method=GET path=/hello?fnr=* status=200 bytes=5 duration_us="),
            std::string::npos)
      << log;
}

// Identity numbers and search criteria never reach the access log: an 11-digit run in the path
// is starred out, query values are dropped (the names stay).
TEST_F(ServerTest, AccessLogRedactsNumbersAndQueryValues) {
  Start();
  {
    RawClient c(port());
    ASSERT_TRUE(c.Send(Get("/freg/x/14838540024")));
    ASSERT_TRUE(c.Read());
    ASSERT_TRUE(c.Send(Get("/freg/x/1483854002412?navn=Kari%20Nordmann&foedselsdato=19811013&x")));
    ASSERT_TRUE(c.Read());
  }
  server_->Stop();
  thread_.join();
  log_sink_->flush();
  const std::string log = log_.str();
  EXPECT_NE(log.find("path=/freg/x/*********** status=200"), std::string::npos) << log;
  EXPECT_NE(log.find("path=/freg/x/1483854002412?navn=*&foedselsdato=*&x status="),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("14838540024 "), std::string::npos) << log;
  EXPECT_EQ(log.find("Nordmann"), std::string::npos) << log;
  EXPECT_EQ(log.find("19811013"), std::string::npos) << log;
}

TEST(ServerListenTest, PortInUseFails) {
  Metrics metrics;
  Dispatcher d(&metrics);
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 1;
  Server a(o, d, metrics);
  ASSERT_TRUE(a.Listen().ok());
  o.port = a.port();
  Server b(o, d, metrics);
  Status st = b.Listen();
  EXPECT_FALSE(st.ok());
  o.host = "no.such.host.invalid";
  o.port = 0;
  Server c(o, d, metrics);
  EXPECT_FALSE(c.Listen().ok());
}

TEST(ServerListenTest, StopBeforeRunMakesRunReturn) {
  Metrics metrics;
  Dispatcher d(&metrics);
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  Server s(o, d, metrics);
  s.Stop();
  auto t0 = Clock::now();
  EXPECT_TRUE(s.Run().ok());
  EXPECT_LT(Clock::now() - t0, 1000ms);
  EXPECT_FALSE(s.Run().ok()) << "Run is once only";
}

// --- Streaming request bodies, blocking routes and streamed responses ---

// Records what a streaming route's sink saw; shared with the test (the sink is the server's).
struct SinkLog {
  std::atomic<int> opened{0};
  std::atomic<int> destroyed{0};
  std::atomic<int> finished{0};
  std::atomic<std::size_t> bytes{0};
  std::atomic<std::size_t> largest_piece{0};
};

class LoggingSink final : public BodySink {
 public:
  explicit LoggingSink(SinkLog& log) : log_(log) { ++log_.opened; }
  ~LoggingSink() override { ++log_.destroyed; }
  Status Write(std::string_view bytes) override {
    if (bytes.find('!') != std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidInput, "no '!' allowed");
    }
    log_.bytes += bytes.size();
    if (bytes.size() > log_.largest_piece) log_.largest_piece = bytes.size();
    content_.append(bytes);
    return Status::Ok();
  }
  Result<Response> Finish() override {
    ++log_.finished;
    return Response::Text(std::to_string(content_.size()) + ":" + content_.substr(0, 8));
  }

 private:
  SinkLog& log_;
  std::string content_;
};

class StreamingServerTest : public ServerTest {
 protected:
  void AddStreamingRoutes() {
    ApiSpec up;
    up.id = "up";
    up.prefix = "/up";
    up.body_limit = 200000;
    up.before.push_back([](Request& r) -> std::optional<Error> {
      if (r.Header("X-Deny")) return MakeError(ErrorCode::kForbidden, "denied");
      return std::nullopt;
    });
    ASSERT_TRUE(dispatcher_.AddApi(std::move(up)).ok());
    ASSERT_TRUE(dispatcher_
                    .Add(Method::kPost, "/up/plain", {"up", "up_plain"},
                         [this](Request& r) -> Result<Response> {
                           ++plain_calls_;
                           return Response::Text(std::to_string(r.body.size()));
                         })
                    .ok());
    ASSERT_TRUE(dispatcher_
                    .AddStreaming(Method::kPost, "/up/load", {"up", "up_load"},
                                  [this](Request&) -> Result<std::unique_ptr<BodySink>> {
                                    return std::unique_ptr<BodySink>(
                                        std::make_unique<LoggingSink>(sink_log_));
                                  })
                    .ok());
    options_.stream_chunk = 1000;
  }
  SinkLog sink_log_;
  std::atomic<int> plain_calls_{0};
};

// Sends `body` after `head` in `pieces` equal pieces, `gap` apart; false when the server closed.
bool SendInPieces(RawClient& c, const std::string& head, const std::string& body, int pieces,
                  std::chrono::milliseconds gap) {
  if (!c.Send(head)) return false;
  const std::size_t size = body.size() / static_cast<std::size_t>(pieces);
  for (int i = 0; i < pieces; ++i) {
    std::this_thread::sleep_for(gap);
    const std::size_t from = static_cast<std::size_t>(i) * size;
    if (!c.Send(body.substr(from, i + 1 == pieces ? std::string::npos : size))) return false;
  }
  return true;
}

// A body that keeps the minimum rate may take longer than body_timeout (500 ms here): 4 000 bytes
// over ~0.9 s at ~4.4 kB/s, against a minimum of 4 000 bytes/s. Buffered and streamed routes alike.
TEST_F(StreamingServerTest, ABodyAtTheMinimumRateMayTakeLongerThanTheBodyTimeout) {
  AddStreamingRoutes();
  options_.min_body_rate = 4000;
  Start();
  const std::string body(4000, 'r');
  for (const char* path : {"/up/plain", "/up/load"}) {
    RawClient c(port());
    const auto t0 = Clock::now();
    ASSERT_TRUE(SendInPieces(
        c, std::string("POST ") + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: 4000\r\n\r\n",
        body, 10, 90ms))
        << path;
    auto r = c.Read();
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_GT(Clock::now() - t0, options_.body_timeout) << path;
  }
}

// A slowloris body (a byte every 50 ms, 20 bytes/s) is cut off body_timeout after it began, on
// buffered and streamed routes, and the sink is dropped without an answer.
TEST_F(StreamingServerTest, ATricklingBodyIsCutOff) {
  AddStreamingRoutes();
  options_.min_body_rate = 4000;
  Start();
  for (const char* path : {"/up/plain", "/up/load"}) {
    RawClient c(port());
    ASSERT_TRUE(c.Send(std::string("POST ") + path +
                       " HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"));
    const auto t0 = Clock::now();
    bool closed = false;
    for (int i = 0; i < 60 && !closed; ++i) {
      closed = !c.Send("x") || c.WaitClosed(50ms);
    }
    EXPECT_TRUE(closed || c.WaitClosed(1000ms)) << path;
    const auto took = Clock::now() - t0;
    EXPECT_GE(took, 400ms) << path;
    EXPECT_LT(took, 1500ms) << path;
  }
  EXPECT_EQ(plain_calls_.load(), 0);
  EXPECT_EQ(sink_log_.finished.load(), 0);
  // Each sink goes with its session, which may end just after the client saw the close.
  for (int i = 0; i < 100 && sink_log_.destroyed.load() != sink_log_.opened.load(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(sink_log_.destroyed.load(), sink_log_.opened.load());
  // The server still serves.
  RawClient d(port());
  ASSERT_TRUE(d.Send(Get("/hello")));
  auto r = d.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// With no minimum rate the whole body must arrive within body_timeout, as before.
TEST_F(StreamingServerTest, WithoutAMinimumRateTheBodyTimeoutBoundsTheWholeBody) {
  AddStreamingRoutes();
  options_.min_body_rate = 0;
  Start();
  RawClient c(port());
  (void)SendInPieces(c, "POST /up/plain HTTP/1.1\r\nHost: t\r\nContent-Length: 4000\r\n\r\n",
                     std::string(4000, 'r'), 10, 90ms);
  EXPECT_TRUE(c.WaitClosed(1000ms));
  EXPECT_EQ(plain_calls_.load(), 0);
}

TEST_F(StreamingServerTest, BodyArrivesInPiecesNoLargerThanTheChunk) {
  AddStreamingRoutes();
  Start();
  RawClient c(port());
  const std::string body = "ABCDEFGH" + std::string(99992, 'b');
  ASSERT_TRUE(c.Send("POST /up/load HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n" + body));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "100000:ABCDEFGH");
  EXPECT_LE(sink_log_.largest_piece.load(), 1000u);
  // A chunked body on the same connection, and an empty one.
  ASSERT_TRUE(
      c.Send("POST /up/load HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n7d0\r\n" +
             std::string(2000, 'w') + "\r\n0\r\n\r\n" +
             "POST /up/load HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"));
  auto chunked = c.Read();
  auto empty = c.Read();
  ASSERT_TRUE(chunked && empty);
  EXPECT_EQ(chunked->body, "2005:hellowww");
  EXPECT_EQ(empty->body, "0:");
  EXPECT_EQ(sink_log_.finished.load(), 3);
}

TEST_F(StreamingServerTest, ChunkedBodyPastTheLimitIs413AndTheSinkIsDropped) {
  AddStreamingRoutes();
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send("POST /up/load HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  const std::string piece = "ffff\r\n" + std::string(0xffff, 'x') + "\r\n";
  for (int i = 0; i < 4 && c.Send(piece); ++i) {
  }
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(c.WaitClosed(3000ms));
  EXPECT_EQ(sink_log_.opened.load(), 1);
  EXPECT_EQ(sink_log_.finished.load(), 0);
  EXPECT_LE(sink_log_.bytes.load(), 200000u);
  // The server keeps serving.
  RawClient d(port());
  ASSERT_TRUE(d.Send(Get("/hello")));
  auto hello = d.Read();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->body, "hello");
  EXPECT_EQ(sink_log_.destroyed.load(), 1);
}

TEST_F(StreamingServerTest, RefusalsAreAnsweredBeforeTheBodyIsRead) {
  AddStreamingRoutes();
  Start();
  {
    // The before-step refuses: answered at once although the body has not come.
    RawClient c(port());
    ASSERT_TRUE(
        c.Send("POST /up/load HTTP/1.1\r\nHost: t\r\nX-Deny: 1\r\n"
               "Content-Length: 100000\r\n\r\nfirst bytes"));
    auto r = c.Read(1000ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    EXPECT_EQ(r->Header("connection"), "close");
  }
  {
    // Past the API's limit by Content-Length.
    RawClient c(port());
    ASSERT_TRUE(c.Send("POST /up/load HTTP/1.1\r\nHost: t\r\nContent-Length: 200001\r\n\r\n"));
    auto r = c.Read(1000ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 413);
  }
  EXPECT_EQ(sink_log_.opened.load(), 0);
}

// Every route, streaming or not, and every unknown path: what will be refused is answered from
// the headers, before a byte of the body is read (an unauthenticated 30 MB POST costs its headers).
TEST_F(StreamingServerTest, EveryRefusalComesBeforeTheBody) {
  AddStreamingRoutes();
  Start();
  for (const char* target : {"/up/plain", "/up/no-such-path", "/up/load/extra"}) {
    RawClient c(port());
    ASSERT_TRUE(c.Send(std::string("POST ") + target +
                       " HTTP/1.1\r\nHost: t\r\nX-Deny: 1\r\nContent-Length: 150000\r\n\r\n"
                       "first bytes"));
    auto r = c.Read(400ms);  // less than the body timeout: nobody waited for the body
    ASSERT_TRUE(r) << target;
    EXPECT_EQ(r->status, std::string_view(target) == "/up/plain" ? 403 : 404) << target;
    EXPECT_EQ(r->Header("connection"), "close") << target;
    EXPECT_TRUE(c.WaitClosed(3000ms)) << target;
  }
  {
    // A wrong method under a known path: 405, also before the body.
    RawClient c(port());
    ASSERT_TRUE(c.Send("PUT /up/plain HTTP/1.1\r\nHost: t\r\nContent-Length: 150000\r\n\r\n"));
    auto r = c.Read(400ms);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 405);
  }
  EXPECT_EQ(plain_calls_.load(), 0);
  EXPECT_EQ(sink_log_.opened.load(), 0);
  // Admitted, the route gets its whole body, and the connection stays open.
  RawClient c(port());
  ASSERT_TRUE(c.Send("POST /up/plain HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" +
                     std::string(100, 'p')));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "100");
  ASSERT_TRUE(c.Send(Get("/hello")));
  auto hello = c.Read();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->body, "hello");
  EXPECT_EQ(plain_calls_.load(), 1);
}

TEST_F(StreamingServerTest, ASinkErrorEndsTheRequest) {
  AddStreamingRoutes();
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send("POST /up/load HTTP/1.1\r\nHost: t\r\nContent-Length: 50000\r\n\r\n" +
                     std::string(3000, 'a') + "!" + std::string(46999, 'a')));
  auto r = c.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_EQ(sink_log_.finished.load(), 0);
  EXPECT_TRUE(c.WaitClosed(3000ms));
  EXPECT_EQ(sink_log_.destroyed.load(), 1);
}

TEST_F(StreamingServerTest, ABodyReadWholeIsStreamedByDispatch) {
  AddStreamingRoutes();
  Request req;
  ASSERT_TRUE(req.SetTarget("/up/load").ok());
  req.method = Method::kPost;
  req.body = "whole body";
  Response r = dispatcher_.Dispatch(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "10:whole bo");
  req.body = "bad!";
  EXPECT_EQ(dispatcher_.Dispatch(req).status, 400);
  EXPECT_EQ(sink_log_.destroyed.load(), 2);
}

// An AnswerGate that holds answers until the test opens it; a handler "writes" by setting
// t_wrote on its thread.
thread_local bool t_wrote = false;

class HoldingGate final : public AnswerGate {
 public:
  bool Take() override { return std::exchange(t_wrote, false); }
  void WhenOpen(std::function<void(bool)> done) override {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(done));
  }
  // Opens for everything waiting; returns how many answers it released.
  size_t Open(bool ok) {
    std::vector<std::function<void(bool)>> pending;
    {
      std::lock_guard lock(mu_);
      pending.swap(pending_);
    }
    for (auto& done : pending) done(ok);
    return pending.size();
  }

 private:
  std::mutex mu_;
  std::vector<std::function<void(bool)>> pending_;
};

class GatedServerTest : public ServerTest {
 protected:
  void AddGatedRoutes() {
    for (bool blocking : {false, true}) {
      ASSERT_TRUE(dispatcher_
                      .Add(Method::kGet, blocking ? "/gated/pool" : "/gated/io",
                           {"", blocking ? "gated_pool" : "gated_io", blocking},
                           [](Request&) -> Result<Response> {
                             t_wrote = true;
                             return Response::Text("secret");
                           })
                      .ok());
    }
    gate_ = std::make_shared<HoldingGate>();
    options_.answer_gate = gate_;
    options_.threads = 1;
  }
  std::shared_ptr<HoldingGate> gate_;
};

// An answer whose handler wrote leaves only once the gate opens, from the io thread and from the
// pool alike; the only io thread serves other connections meanwhile; an answer whose handler
// wrote nothing is not held.
TEST_F(GatedServerTest, AnAnswerWaitsForTheGateWithoutHoldingTheIoThread) {
  AddGatedRoutes();
  Start();
  RawClient io(port());
  RawClient pool(port());
  ASSERT_TRUE(io.Send(Get("/gated/io")));
  ASSERT_TRUE(pool.Send(Get("/gated/pool")));
  EXPECT_FALSE(io.Read(300ms));
  EXPECT_FALSE(pool.Read(100ms));
  RawClient other(port());
  ASSERT_TRUE(other.Send(Get("/hello")));
  auto hello = other.Read();
  ASSERT_TRUE(hello);
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(gate_->Open(true), 2u);
  for (RawClient* c : {&io, &pool}) {
    auto r = c->Read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "secret");
  }
}

// A gate that opens with ok = false (the writes failed), or not within gate_timeout: the answer
// is replaced by a 500 and never sent.
TEST_F(GatedServerTest, AnAnswerWhoseWritesFailedBecomesA500) {
  AddGatedRoutes();
  options_.gate_timeout = 400ms;
  Start();
  RawClient failed(port());
  ASSERT_TRUE(failed.Send(Get("/gated/io")));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(gate_->Open(false), 1u);
  auto r = failed.Read();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body.find("secret"), std::string::npos);
  RawClient never(port());
  ASSERT_TRUE(never.Send(Get("/gated/pool")));
  auto late = never.Read(3000ms);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 500);
  EXPECT_EQ(late->body.find("secret"), std::string::npos);
  EXPECT_EQ(gate_->Open(true), 1u);  // too late: the answer has gone; nothing is sent twice
  EXPECT_FALSE(never.Read(200ms));
}

TEST_F(ServerTest, BlockingRoutesLeaveTheIoThreadFree) {
  std::atomic<std::thread::id> blocking_thread{};
  ASSERT_TRUE(dispatcher_
                  .Add(Method::kPut, "/wait", {"", "wait", /*blocking=*/true},
                       [&](Request&) -> Result<Response> {
                         blocking_thread = std::this_thread::get_id();
                         std::this_thread::sleep_for(400ms);
                         return Response::Text("waited");
                       })
                  .ok());
  options_.threads = 1;
  Start();
  RawClient slow(port());
  ASSERT_TRUE(slow.Send("PUT /wait HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"));
  std::this_thread::sleep_for(50ms);
  // The only io thread answers another connection while the blocking handler waits.
  const auto t0 = Clock::now();
  RawClient fast(port());
  ASSERT_TRUE(fast.Send(Get("/whoami")));
  auto quick = fast.Read();
  ASSERT_TRUE(quick);
  EXPECT_LT(Clock::now() - t0, 300ms);
  auto waited = slow.Read();
  ASSERT_TRUE(waited);
  EXPECT_EQ(waited->body, "waited");
  EXPECT_NE(blocking_thread.load(), std::thread::id{});
}

// A stream of `pieces` pieces of `piece` bytes; fails at piece `fail_at` (-1: never).
class PieceStream final : public BodyStream {
 public:
  PieceStream(int pieces, std::size_t piece, int fail_at)
      : pieces_(pieces), piece_(piece, 'p'), fail_at_(fail_at) {}
  std::uint64_t size() const override {
    return static_cast<std::uint64_t>(pieces_) * piece_.size();
  }
  Result<std::string_view> Next() override {
    if (next_ == fail_at_) return MakeError(ErrorCode::kInternal, "stored content is corrupt");
    if (next_ == pieces_) return std::string_view();
    ++next_;
    return std::string_view(piece_);
  }

 private:
  int pieces_;
  std::string piece_;
  int fail_at_;
  int next_ = 0;
};

TEST_F(ServerTest, StreamedResponsesArriveWholeOrCutShort) {
  for (const auto& [path, fail_at] : {std::pair{"/pieces", -1}, std::pair{"/broken", 3}}) {
    const int fail = fail_at;
    ASSERT_TRUE(dispatcher_
                    .Add(Method::kGet, path, {"", path + 1},
                         [fail](Request&) -> Result<Response> {
                           Response r;
                           r.content_type = "application/octet-stream";
                           r.stream_body = std::make_shared<PieceStream>(10, 70000, fail);
                           return r;
                         })
                    .ok());
  }
  Start();
  RawClient c(port());
  ASSERT_TRUE(c.Send(Get("/pieces") + "HEAD /pieces HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto whole = c.Read();
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, std::string(700000, 'p'));
  auto head = c.Read(5000ms, /*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->Header("content-length"), "700000");
  // A piece that cannot be produced: the body stops short and the connection closes.
  RawClient d(port());
  ASSERT_TRUE(d.Send(Get("/broken")));
  EXPECT_FALSE(d.Read(3000ms));
  EXPECT_TRUE(d.WaitClosed(3000ms));
  EXPECT_NE(log_.str().find("path=/broken status=200 bytes=210000"), std::string::npos)
      << log_.str();
}

}  // namespace
}  // namespace norreg::http
