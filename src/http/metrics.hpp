#pragma once
// HTTP metrics in the Prometheus text exposition format (version 0.0.4):
//   norreg_http_requests_total{route,method,status}          counter
//   norreg_http_request_duration_seconds{route}               histogram, 100 µs .. 10 s
//   norreg_http_requests_in_flight                            gauge
//   norreg_http_open_connections                              gauge
//   norreg_http_connections_refused_total                     counter (over a connection cap)
// The route label is RouteInfo::name (bounded cardinality); slot 0 is "unmatched".
//
// Thread-safety: Observe*/gauges are lock-free (relaxed atomics) and callable from any thread.
// RouteSlot() takes a mutex (setup time). Render() takes the same mutex and reads atomics, so a
// scrape sees each counter consistently but not a global snapshot.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"

namespace norreg::http {

class Metrics {
 public:
  // Upper bounds in seconds; +Inf is implicit.
  static constexpr std::array<double, 16> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                      1.0,    2.5,     5.0,    10.0};
  static constexpr std::uint32_t kUnmatched = 0;

  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The slot for a route name, created on first use; the same name always gets the same slot.
  // Beyond kMaxRoutes distinct names, returns kUnmatched.
  std::uint32_t RouteSlot(std::string_view name);
  static constexpr std::size_t kMaxRoutes = 256;

  // Records one finished request. An out-of-range slot counts as "unmatched". Status codes
  // outside 100..599 are recorded as 0. At most kStatusKeys distinct (method, status) pairs
  // per route are kept; further pairs are dropped (and counted in
  // norreg_http_metrics_dropped_total).
  void ObserveRequest(std::uint32_t slot, Method method, int status,
                      std::chrono::nanoseconds duration);

  void ConnectionOpened() { open_connections_.fetch_add(1, std::memory_order_relaxed); }
  void ConnectionClosed() { open_connections_.fetch_sub(1, std::memory_order_relaxed); }
  void ConnectionRefused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t connections_refused() const { return refused_.load(); }
  void RequestStarted() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void RequestFinished() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  std::int64_t open_connections() const { return open_connections_.load(); }
  std::int64_t in_flight() const { return in_flight_.load(); }

  // Extra exposition text from elsewhere in the app (appended verbatim to Render()'s output).
  void AddCollector(std::function<void(std::string&)> collector);

  // The whole exposition text. Content-Type: kContentType.
  std::string Render() const;
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  static constexpr std::size_t kStatusKeys = 64;
  struct RouteStats {
    std::string name;
    // Open-addressed (method, status) -> count; key 0 = empty, else (method << 16 | status) + 1.
    std::array<std::atomic<std::uint32_t>, kStatusKeys> keys{};
    std::array<std::atomic<std::uint64_t>, kStatusKeys> counts{};
    std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};  // not cumulative
    std::atomic<std::uint64_t> sum_ns{0};
    std::atomic<std::uint64_t> count{0};
  };

  mutable std::mutex mu_;
  // Fixed capacity so that observers index it without a lock while RouteSlot() adds names.
  std::unique_ptr<RouteStats[]> routes_;
  std::atomic<std::size_t> route_count_{0};
  std::vector<std::function<void(std::string&)>> collectors_;
  std::atomic<std::int64_t> open_connections_{0};
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace norreg::http
