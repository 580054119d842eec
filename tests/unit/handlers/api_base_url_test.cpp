// The base URL of the Folkeregisteret API as the client addressed it (the Atom feed's links).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "http/handlers/freg/freg_api.hpp"

namespace norreg::http::freg_api {
namespace {

struct Case {
  std::map<std::string, std::string> headers;
  std::string local;
  std::string expected_origin;  // kBasePath follows
};

TEST(ApiBaseUrlTest, SchemeFromProxyHeadersAuthorityFromHost) {
  const Case cases[] = {
      {{{"Host", "127.0.0.1:8080"}}, "", "http://127.0.0.1:8080"},
      {{{"Host", " api.example.no "}}, "", "http://api.example.no"},
      {{{"Host", "[::1]:9000"}}, "", "http://[::1]:9000"},
      {{{"Host", "a.no"}, {"X-Forwarded-Proto", "https"}}, "", "https://a.no"},
      {{{"Host", "a.no"}, {"X-Forwarded-Proto", "HTTPS, http"}}, "", "https://a.no"},
      {{{"Host", "a.no"}, {"X-Forwarded-Proto", "gopher"}}, "", "http://a.no"},
      {{{"Host", "a.no"}, {"Forwarded", "for=1.2.3.4; proto=https"}}, "", "https://a.no"},
      {{{"Host", "a.no"}, {"Forwarded", "for=1.2.3.4;Proto=\"https\""}}, "", "https://a.no"},
      {{{"Host", "a.no"}, {"Forwarded", "for=1.2.3.4, proto=https"}}, "", "http://a.no"},
      // A missing or implausible Host: the listening address, else localhost.
      {{}, "127.0.0.1:8080", "http://127.0.0.1:8080"},
      {{{"Host", "a.no/evil"}}, "127.0.0.1:8080", "http://127.0.0.1:8080"},
      {{{"Host", "\"><x>"}}, "", "http://localhost"},
      {{{"Host", std::string(256, 'a')}}, "[::1]:1", "http://[::1]:1"},
  };
  for (const Case& c : cases) {
    Request request;
    for (const auto& [name, value] : c.headers) request.AddHeader(name, value);
    request.local = c.local;
    EXPECT_EQ(ApiBaseUrl(request, kBasePath), c.expected_origin + std::string(kBasePath))
        << c.expected_origin;
    EXPECT_EQ(ApiBaseUrl(request, "/folkeregisteret/api/finans/v1"),
              c.expected_origin + "/folkeregisteret/api/finans/v1");
  }
}

}  // namespace
}  // namespace norreg::http::freg_api
