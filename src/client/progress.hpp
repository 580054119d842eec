#pragma once
// Progress reporting for long consumer runs (extracts): persons done / total, rate and ETA.
//
// On a terminal the line is redrawn in place with '\r' (at most every 200 ms); otherwise a plain
// log line is written every `log_interval`. Finish() prints the summary line.
//
// Thread-safety: Add, AddRetry, AddTotal and Tick may be called from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace norreg::client {

struct ProgressOptions {
  // Where the lines go; nullptr = nowhere (quiet). Default stderr.
  std::FILE* out = stderr;
  // Redraw in place; default: whether `out` is a terminal (decided by the constructor when
  // unset).
  int terminal = -1;  // -1 = detect, 0 = no, 1 = yes
  // Interval of plain log lines when not on a terminal. Default 5 s.
  std::chrono::milliseconds log_interval{std::chrono::seconds(5)};
  // What the line is about, e.g. "uttrekk".
  std::string label = "uttrekk";
};

struct ProgressSnapshot {
  uint64_t done = 0;
  uint64_t total = 0;  // known so far (sum of batch sizes seen)
  bool total_is_estimate = false;
  uint64_t retries = 0;
  double seconds = 0;
};

// "uttrekk: 12 345 / ~200 000 personer (6.2 %), 45 000/s, ETA 0:04:15" (ETA "?" when unknown).
std::string FormatProgressLine(const std::string& label, const ProgressSnapshot& snapshot);
// "uttrekk: 200000 personer på 12.3 s (16260 personer/s), 4 nye forsøk".
std::string FormatSummaryLine(const std::string& label, const ProgressSnapshot& snapshot);

class Progress {
 public:
  explicit Progress(ProgressOptions options = {});

  void Add(uint64_t persons) { done_.fetch_add(persons, std::memory_order_relaxed); }
  void AddRetry() { retries_.fetch_add(1, std::memory_order_relaxed); }
  void SetRetries(uint64_t retries) { retries_.store(retries, std::memory_order_relaxed); }
  // Known total grows as batches are seen; `estimate` marks it as a lower bound still growing.
  void AddTotal(uint64_t persons) { total_.fetch_add(persons, std::memory_order_relaxed); }
  void SetTotalIsEstimate(bool estimate) { estimate_.store(estimate); }
  // Sets the starting point of a resumed run (counts done before this process).
  void SetDone(uint64_t persons) {
    done_.store(persons);
    done_at_start_.store(persons);
  }

  // Redraws / logs when due.
  void Tick();
  // Writes the final line (ending the redrawn line with '\n' first).
  void Finish();

  ProgressSnapshot Snapshot() const;
  uint64_t retries() const { return retries_.load(); }

 private:
  ProgressOptions options_;
  bool terminal_ = false;
  std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> done_{0};
  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<bool> estimate_{false};
  std::atomic<uint64_t> done_at_start_{0};  // for the rate of a resumed run
  std::mutex mutex_;                        // one writer of the line at a time
  std::chrono::steady_clock::time_point last_draw_;
  bool drew_line_ = false;
};

}  // namespace norreg::client
