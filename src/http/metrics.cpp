#include "http/metrics.hpp"

#include <fmt/format.h>

#include <iterator>

namespace norreg::http {
namespace {

void AppendLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

Metrics::Metrics() : routes_(std::make_unique<RouteStats[]>(kMaxRoutes)) {
  routes_[0].name = "unmatched";
  route_count_.store(1, std::memory_order_release);
}

std::uint32_t Metrics::RouteSlot(std::string_view name) {
  std::lock_guard lock(mu_);
  std::size_t n = route_count_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < n; ++i) {
    if (routes_[i].name == name) return static_cast<std::uint32_t>(i);
  }
  if (n >= kMaxRoutes) return kUnmatched;
  routes_[n].name = std::string(name);
  route_count_.store(n + 1, std::memory_order_release);
  return static_cast<std::uint32_t>(n);
}

void Metrics::ObserveRequest(std::uint32_t slot, Method method, int status,
                             std::chrono::nanoseconds duration) {
  if (slot >= route_count_.load(std::memory_order_acquire)) slot = kUnmatched;
  RouteStats& rs = routes_[slot];
  if (status < 100 || status > 599) status = 0;
  const std::uint32_t key =
      ((static_cast<std::uint32_t>(method) << 16) | static_cast<std::uint32_t>(status)) + 1;
  std::size_t h = (key * 2654435761u) % kStatusKeys;
  bool recorded = false;
  for (std::size_t probe = 0; probe < kStatusKeys; ++probe) {
    std::size_t i = (h + probe) % kStatusKeys;
    std::uint32_t k = rs.keys[i].load(std::memory_order_acquire);
    if (k == 0) {
      std::uint32_t expected = 0;
      if (rs.keys[i].compare_exchange_strong(expected, key, std::memory_order_acq_rel)) {
        k = key;
      } else {
        k = expected;
      }
    }
    if (k == key) {
      rs.counts[i].fetch_add(1, std::memory_order_relaxed);
      recorded = true;
      break;
    }
  }
  if (!recorded) dropped_.fetch_add(1, std::memory_order_relaxed);

  const double secs = std::chrono::duration<double>(duration).count();
  std::size_t b = 0;
  while (b < kBuckets.size() && secs > kBuckets[b]) ++b;
  rs.buckets[b].fetch_add(1, std::memory_order_relaxed);
  rs.sum_ns.fetch_add(static_cast<std::uint64_t>(duration.count() < 0 ? 0 : duration.count()),
                      std::memory_order_relaxed);
  rs.count.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::AddCollector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(4096);
  auto it = std::back_inserter(out);

  out +=
      "# HELP norreg_http_requests_total HTTP requests by route, method and status.\n"
      "# TYPE norreg_http_requests_total counter\n";
  const std::size_t nroutes = route_count_.load(std::memory_order_acquire);
  for (std::size_t r = 0; r < nroutes; ++r) {
    const RouteStats& rs = routes_[r];
    for (std::size_t i = 0; i < kStatusKeys; ++i) {
      std::uint32_t k = rs.keys[i].load(std::memory_order_acquire);
      if (k == 0) continue;
      --k;
      auto method = static_cast<Method>(k >> 16);
      unsigned status = k & 0xFFFF;
      out += "norreg_http_requests_total{route=\"";
      AppendLabelValue(out, rs.name);
      fmt::format_to(it, "\",method=\"{}\",status=\"{}\"}} {}\n", MethodName(method), status,
                     rs.counts[i].load(std::memory_order_relaxed));
    }
  }

  out +=
      "# HELP norreg_http_request_duration_seconds Time from request header to response sent.\n"
      "# TYPE norreg_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < nroutes; ++r) {
    const RouteStats& rs = routes_[r];
    std::uint64_t total = rs.count.load(std::memory_order_relaxed);
    if (total == 0) continue;
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += rs.buckets[b].load(std::memory_order_relaxed);
      out += "norreg_http_request_duration_seconds_bucket{route=\"";
      AppendLabelValue(out, rs.name);
      if (b < kBuckets.size()) {
        fmt::format_to(it, "\",le=\"{}\"}} {}\n", kBuckets[b], cumulative);
      } else {
        fmt::format_to(it, "\",le=\"+Inf\"}} {}\n", cumulative);
      }
    }
    out += "norreg_http_request_duration_seconds_sum{route=\"";
    AppendLabelValue(out, rs.name);
    fmt::format_to(it, "\"}} {}\n", static_cast<double>(rs.sum_ns.load()) / 1e9);
    out += "norreg_http_request_duration_seconds_count{route=\"";
    AppendLabelValue(out, rs.name);
    // The count is the sum of the buckets read above, so _count == le="+Inf" even mid-update.
    fmt::format_to(it, "\"}} {}\n", cumulative);
  }

  fmt::format_to(
      it,
      "# HELP norreg_http_requests_in_flight Requests being handled now.\n"
      "# TYPE norreg_http_requests_in_flight gauge\n"
      "norreg_http_requests_in_flight {}\n"
      "# HELP norreg_http_open_connections Open client connections.\n"
      "# TYPE norreg_http_open_connections gauge\n"
      "norreg_http_open_connections {}\n"
      "# HELP norreg_http_connections_refused_total Connections answered 503 over a cap.\n"
      "# TYPE norreg_http_connections_refused_total counter\n"
      "norreg_http_connections_refused_total {}\n"
      "# HELP norreg_http_metrics_dropped_total Observations without a free slot.\n"
      "# TYPE norreg_http_metrics_dropped_total counter\n"
      "norreg_http_metrics_dropped_total {}\n",
      in_flight_.load(), open_connections_.load(), refused_.load(), dropped_.load());
  for (const auto& c : collectors_) c(out);
  return out;
}

}  // namespace norreg::http
