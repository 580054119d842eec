#include "client/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

namespace norreg::client {
namespace {

std::string Duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  auto s = static_cast<uint64_t>(seconds + 0.5);
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

double Rate(const ProgressSnapshot& snapshot, uint64_t done_at_start) {
  if (snapshot.seconds <= 0 || snapshot.done < done_at_start) return 0;
  return static_cast<double>(snapshot.done - done_at_start) / snapshot.seconds;
}

std::string Line(const std::string& label, const ProgressSnapshot& snapshot,
                 uint64_t done_at_start) {
  const double rate = Rate(snapshot, done_at_start);
  std::string total = snapshot.total == 0 ? "?"
                                          : (snapshot.total_is_estimate ? "~" : "") +
                                                std::to_string(snapshot.total);
  std::string percent;
  if (snapshot.total > 0) {
    percent = fmt::format(" ({:.1f} %)", 100.0 * static_cast<double>(snapshot.done) /
                                             static_cast<double>(snapshot.total));
  }
  std::string eta = "?";
  if (rate > 0 && snapshot.total >= snapshot.done && snapshot.total > 0) {
    eta = Duration(static_cast<double>(snapshot.total - snapshot.done) / rate);
  }
  return fmt::format("{}: {} / {} personer{}, {:.0f}/s, ETA {}", label, snapshot.done, total,
                     percent, rate, eta);
}

}  // namespace

std::string FormatProgressLine(const std::string& label, const ProgressSnapshot& snapshot) {
  return Line(label, snapshot, 0);
}

std::string FormatSummaryLine(const std::string& label, const ProgressSnapshot& snapshot) {
  return fmt::format("{}: {} personer på {:.1f} s ({:.0f} personer/s), {} nye forsøk", label,
                     snapshot.done, snapshot.seconds, Rate(snapshot, 0), snapshot.retries);
}

Progress::Progress(ProgressOptions options)
    : options_(std::move(options)), start_(std::chrono::steady_clock::now()), last_draw_(start_) {
  if (options_.terminal < 0) {
    terminal_ = options_.out != nullptr && ::isatty(::fileno(options_.out)) == 1;
  } else {
    terminal_ = options_.terminal == 1;
  }
}

ProgressSnapshot Progress::Snapshot() const {
  ProgressSnapshot s;
  s.done = done_.load();
  s.total = std::max(total_.load(), s.done);
  s.total_is_estimate = estimate_.load();
  s.retries = retries_.load();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return s;
}

void Progress::Tick() {
  if (options_.out == nullptr) return;
  std::lock_guard lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  auto due = terminal_ ? std::chrono::milliseconds(200) : options_.log_interval;
  if (now - last_draw_ < due) return;
  last_draw_ = now;
  std::string line = Line(options_.label, Snapshot(), done_at_start_.load());
  if (terminal_) {
    std::fprintf(options_.out, "\r%s\x1b[K", line.c_str());
    drew_line_ = true;
  } else {
    std::fprintf(options_.out, "%s\n", line.c_str());
  }
  std::fflush(options_.out);
}

void Progress::Finish() {
  if (options_.out == nullptr) return;
  std::lock_guard lock(mutex_);
  if (drew_line_) std::fputc('\n', options_.out);
  drew_line_ = false;
  ProgressSnapshot s = Snapshot();
  // The rate of this process only (a resumed run did the rest earlier).
  std::string summary = FormatSummaryLine(options_.label, s);
  const uint64_t before = done_at_start_.load();
  if (before > 0) {
    summary += fmt::format(" ({} i denne kjøringen)", s.done - std::min(s.done, before));
  }
  std::fprintf(options_.out, "%s\n", summary.c_str());
  std::fflush(options_.out);
}

}  // namespace norreg::client
