#include "http/metrics.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace norreg::http {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

bool HasLine(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l == line) return true;
  }
  return false;
}

TEST(MetricsTest, SlotsAreStablePerName) {
  Metrics m;
  auto a = m.RouteSlot("person");
  auto b = m.RouteSlot("feed");
  EXPECT_NE(a, Metrics::kUnmatched);
  EXPECT_NE(a, b);
  EXPECT_EQ(m.RouteSlot("person"), a);
}

TEST(MetricsTest, CountersAndHistogramInExpositionFormat) {
  Metrics m;
  auto person = m.RouteSlot("person");
  m.ObserveRequest(person, Method::kGet, 200, microseconds(50));           // <= 100 µs
  m.ObserveRequest(person, Method::kGet, 200, microseconds(300));          // <= 500 µs
  m.ObserveRequest(person, Method::kGet, 404, milliseconds(2));            // <= 2.5 ms
  m.ObserveRequest(person, Method::kHead, 200, std::chrono::seconds(20));  // +Inf only
  m.ObserveRequest(Metrics::kUnmatched, Method::kPost, 404, microseconds(10));
  m.ObserveRequest(999, Method::kGet, 400, microseconds(10));  // unknown slot -> unmatched

  const std::string t = m.Render();
  EXPECT_TRUE(HasLine(t, "# TYPE norreg_http_requests_total counter"));
  EXPECT_TRUE(
      HasLine(t, "norreg_http_requests_total{route=\"person\",method=\"GET\",status=\"200\"} 2"));
  EXPECT_TRUE(
      HasLine(t, "norreg_http_requests_total{route=\"person\",method=\"GET\",status=\"404\"} 1"));
  EXPECT_TRUE(
      HasLine(t, "norreg_http_requests_total{route=\"person\",method=\"HEAD\",status=\"200\"} 1"));
  EXPECT_TRUE(HasLine(
      t, "norreg_http_requests_total{route=\"unmatched\",method=\"POST\",status=\"404\"} 1"));
  EXPECT_TRUE(HasLine(
      t, "norreg_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"400\"} 1"));

  EXPECT_TRUE(HasLine(t, "# TYPE norreg_http_request_duration_seconds histogram"));
  const std::string b = "norreg_http_request_duration_seconds_bucket{route=\"person\",le=\"";
  EXPECT_TRUE(HasLine(t, b + "0.0001\"} 1"));
  EXPECT_TRUE(HasLine(t, b + "0.00025\"} 1"));
  EXPECT_TRUE(HasLine(t, b + "0.0005\"} 2"));
  EXPECT_TRUE(HasLine(t, b + "0.0025\"} 3"));
  EXPECT_TRUE(HasLine(t, b + "10\"} 3"));
  EXPECT_TRUE(HasLine(t, b + "+Inf\"} 4"));
  EXPECT_TRUE(HasLine(t, "norreg_http_request_duration_seconds_count{route=\"person\"} 4"));
  EXPECT_NE(t.find("norreg_http_request_duration_seconds_sum{route=\"person\"} 20.00235"),
            std::string::npos)
      << t;
  // Routes without observations have no histogram lines.
  m.RouteSlot("idle");
  EXPECT_EQ(m.Render().find("route=\"idle\""), std::string::npos);
}

TEST(MetricsTest, Gauges) {
  Metrics m;
  m.ConnectionOpened();
  m.ConnectionOpened();
  m.ConnectionClosed();
  m.RequestStarted();
  const std::string t = m.Render();
  EXPECT_TRUE(HasLine(t, "# TYPE norreg_http_open_connections gauge"));
  EXPECT_TRUE(HasLine(t, "norreg_http_open_connections 1"));
  EXPECT_TRUE(HasLine(t, "# TYPE norreg_http_requests_in_flight gauge"));
  EXPECT_TRUE(HasLine(t, "norreg_http_requests_in_flight 1"));
}

TEST(MetricsTest, LabelValuesAreEscapedAndCollectorsAppended) {
  Metrics m;
  auto s = m.RouteSlot("we\"ird\\name");
  m.ObserveRequest(s, Method::kGet, 200, microseconds(1));
  m.AddCollector([](std::string& out) { out += "norreg_custom 7\n"; });
  const std::string t = m.Render();
  EXPECT_NE(t.find("route=\"we\\\"ird\\\\name\""), std::string::npos);
  EXPECT_TRUE(HasLine(t, "norreg_custom 7"));
}

TEST(MetricsTest, ConcurrentObservationsAreAllCounted) {
  Metrics m;
  auto s = m.RouteSlot("r");
  constexpr int kThreads = 4;
  constexpr int kEach = 5000;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kEach; ++j) {
        m.ObserveRequest(s, Method::kGet, 200 + (i % 2), microseconds(j % 1000));
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::string t = m.Render();
  EXPECT_TRUE(
      HasLine(t, "norreg_http_requests_total{route=\"r\",method=\"GET\",status=\"200\"} 10000"));
  EXPECT_TRUE(
      HasLine(t, "norreg_http_requests_total{route=\"r\",method=\"GET\",status=\"201\"} 10000"));
  EXPECT_TRUE(HasLine(t, "norreg_http_request_duration_seconds_count{route=\"r\"} 20000"));
}

}  // namespace
}  // namespace norreg::http
