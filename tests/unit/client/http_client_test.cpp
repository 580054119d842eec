#include "client/http_client.hpp"

#include <gtest/gtest.h>

#include <string>

#include "fake_http_server.hpp"

namespace norreg::client {
namespace {

using testing::FakeHttpServer;
using testing::FakeRequest;
using testing::FakeResponse;

FakeResponse Echo(const FakeRequest& request) {
  FakeResponse response;
  response.status = request.target == "/missing" ? 404 : 200;
  response.headers = {{"Content-Type", "text/plain"},
                      {"X-Method", request.method},
                      {"X-Trimmed", "   spaced value  "}};
  response.body = request.method + " " + request.target + " " + request.body;
  return response;
}

TEST(HttpClientTest, GetReturnsStatusBodyAndLowerCasedHeaders) {
  FakeHttpServer server(Echo);
  HttpClient client;
  auto response = client.Get(server.Url("/hello?x=1"), {{"X-Custom", "abc"}});
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "GET /hello?x=1 ");
  EXPECT_EQ(response->Header("content-type"), "text/plain");
  EXPECT_EQ(response->Header("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(response->Header("x-trimmed"), "spaced value");
  EXPECT_FALSE(response->Header("x-absent").has_value());
  for (const auto& [name, value] : response->headers) {
    for (char c : name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << name;
  }
  auto received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].Header("x-custom"), "abc");
  EXPECT_EQ(received[0].Header("user-agent"), "norreg/0.1");
}

TEST(HttpClientTest, NonSuccessStatusIsAnAnswerNotAnError) {
  FakeHttpServer server(Echo);
  HttpClient client;
  auto response = client.Get(server.Url("/missing"));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 404);
}

TEST(HttpClientTest, PostSendsBodyAndContentType) {
  FakeHttpServer server(Echo);
  HttpClient client;
  std::string big(5000, 'x');  // larger than curl's Expect: 100-continue threshold
  auto response = client.Post(server.Url("/p"), big, "application/json");
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->body, "POST /p " + big);
  auto received = server.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].Header("content-type"), "application/json");
  EXPECT_EQ(received[0].Header("expect"), "");
}

TEST(HttpClientTest, MethodsAreSentAsGiven) {
  FakeHttpServer server(Echo);
  HttpClient client;
  struct Case {
    std::string method;
    std::string body;
    std::string expected_body;
  };
  for (const Case& c : std::vector<Case>{{"PUT", "data", "PUT /m data"},
                                         {"DELETE", "", "DELETE /m "},
                                         {"POST", "", "POST /m "},
                                         {"GET", "", "GET /m "},
                                         {"HEAD", "", ""},
                                         {"PATCH", "p", "PATCH /m p"}}) {
    auto response = client.Request(c.method, server.Url("/m"), c.body, {});
    ASSERT_TRUE(response.ok()) << c.method << ": " << response.error().message;
    EXPECT_EQ(response->Header("x-method"), c.method);
    EXPECT_EQ(response->body, c.expected_body) << c.method;
  }
  // All on one keep-alive connection, even across methods.
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClientTest, ReusesKeepAliveConnection) {
  FakeHttpServer server(Echo);
  HttpClient client;
  ASSERT_TRUE(client.Get(server.Url("/a")).ok());
  ASSERT_TRUE(client.Post(server.Url("/b"), "x", "text/plain").ok());
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(server.accepted(), 1);
}

TEST(HttpClientTest, SeparateClientsUseSeparateConnections) {
  FakeHttpServer server(Echo);
  HttpClient a, b;
  ASSERT_TRUE(a.Get(server.Url("/a")).ok());
  ASSERT_TRUE(b.Get(server.Url("/b")).ok());
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClientTest, ConnectionRefusedIsTransportError) {
  HttpClient client({.connect_timeout = std::chrono::seconds(2)});
  auto response = client.Get("http://127.0.0.1:" + std::to_string(testing::ClosedPort()) + "/x");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(IsTransportError(response.error()));
  EXPECT_NE(response.error().message.find("127.0.0.1"), std::string::npos);
}

TEST(HttpClientTest, DroppedConnectionIsTransportError) {
  FakeHttpServer server([](const FakeRequest&) {
    FakeResponse response;
    response.close_without_answer = true;
    return response;
  });
  HttpClient client;
  auto response = client.Get(server.Url("/x"));
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(IsTransportError(response.error()));
}

TEST(HttpClientTest, TimeoutIsTransportError) {
  FakeHttpServer server([](const FakeRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    return FakeResponse{};
  });
  HttpClient client({.timeout = std::chrono::milliseconds(150)});
  auto response = client.Get(server.Url("/slow"));
  ASSERT_FALSE(response.ok());
  EXPECT_TRUE(IsTransportError(response.error()));
}

TEST(HttpClientTest, OtherErrorsAreNotTransportErrors) {
  EXPECT_FALSE(IsTransportError(MakeError(ErrorCode::kInternal, "boom")));
  EXPECT_FALSE(IsTransportError(MakeError(ErrorCode::kNotFound, "x", "[transport] x")));
  EXPECT_TRUE(IsTransportError(MakeTransportError("x")));
  HttpClient client;
  auto response = client.Request("", "", "", {});
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidInput);
  EXPECT_FALSE(IsTransportError(response.error()));
}

TEST(HttpClientTest, FetchUrlRequires200) {
  FakeHttpServer server(Echo);
  HttpClient client;
  auto ok = client.FetchUrl(server.Url("/jwk"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, "GET /jwk ");
  auto missing = client.FetchUrl(server.Url("/missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(IsTransportError(missing.error()));
  EXPECT_NE(missing.error().message.find("404"), std::string::npos);
}

// An answer longer than max_body_bytes ends the transfer with an error (not a transport error:
// asking again would give the same), whatever it announces.
TEST(HttpClientTest, AnswersPastTheBodyCapAreErrors) {
  FakeHttpServer server([](const FakeRequest& request) {
    FakeResponse response;
    response.body = std::string(request.target == "/big" ? 300000 : 1000, 'k');
    return response;
  });
  HttpClient client({.max_body_bytes = 100000});
  auto small = client.FetchUrl(server.Url("/small"));
  ASSERT_TRUE(small.ok()) << small.error().message;
  EXPECT_EQ(small->size(), 1000u);
  auto big = client.FetchUrl(server.Url("/big"));
  ASSERT_FALSE(big.ok());
  EXPECT_FALSE(IsTransportError(big.error()));
  EXPECT_NE(big.error().message.find("longer than 100000 bytes"), std::string::npos)
      << big.error().message;
  EXPECT_TRUE(client.FetchUrl(server.Url("/small")).ok());  // the client keeps working
}

TEST(HttpClientTest, MovedClientKeepsWorking) {
  FakeHttpServer server(Echo);
  HttpClient first;
  ASSERT_TRUE(first.Get(server.Url("/a")).ok());
  HttpClient second = std::move(first);
  ASSERT_TRUE(second.Get(server.Url("/b")).ok());
  EXPECT_EQ(server.accepted(), 1);
}

TEST(FormUrlEncodeTest, EncodesReservedCharacters) {
  struct Case {
    std::string in, out;
  };
  for (const Case& c : std::vector<Case>{{"abc-._~XYZ09", "abc-._~XYZ09"},
                                         {"a b", "a%20b"},
                                         {"urn:ietf:params", "urn%3Aietf%3Aparams"},
                                         {"a+b=c&d/é", "a%2Bb%3Dc%26d%2F%C3%A9"},
                                         {"", ""}}) {
    EXPECT_EQ(FormUrlEncode(c.in), c.out) << c.in;
  }
}

}  // namespace
}  // namespace norreg::client
