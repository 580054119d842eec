#pragma once
// The server's log — messages and the access log's line per request — through a bounded queue to
// one writer thread (docs/design.md, "Logging"). spdlog's default logger writes in the caller's
// thread under a lock: when stdout blocks (a log reader that stalled, a full pipe), every io
// thread that logs waits on it and the server stops answering. Here a full queue drops its oldest
// lines instead (counted in dropped()), and the server keeps serving.
#include <spdlog/common.h>
#include <spdlog/logger.h>

#include <chrono>
#include <cstddef>
#include <memory>

namespace norreg::cli {

class AsyncLog {
 public:
  // Installs the queue as spdlog's default logger, writing to `sink` (null: stdout), at the level
  // the default logger had.
  explicit AsyncLog(spdlog::sink_ptr sink = nullptr, std::size_t queue_lines = 2048);
  ~AsyncLog();
  AsyncLog(const AsyncLog&) = delete;
  AsyncLog& operator=(const AsyncLog&) = delete;

  // Lines dropped so far because the queue was full.
  std::size_t dropped() const;

  // Writes out what is queued and returns `exit_code`. When the writer is still stuck after
  // `drain_timeout` (stdout blocks for good), the process exits with `exit_code` at once rather
  // than hang in its exit on a thread that can never finish.
  int Finish(int exit_code, std::chrono::milliseconds drain_timeout = std::chrono::seconds(5));

 private:
  std::shared_ptr<spdlog::logger> previous_;
  bool finished_ = false;
};

}  // namespace norreg::cli
