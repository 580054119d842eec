// The server's log through a bounded queue (cli/async_log.hpp): a sink that blocks — stdout to a
// reader that stalled — costs lines, never the threads that log.
#include "cli/async_log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace norreg::cli {
namespace {

using namespace std::chrono_literals;

// Keeps the lines it is given; while closed, the writer blocks in it as in a write() to a full
// pipe.
class GateSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void Open() {
    {
      std::lock_guard lock(gate_mu_);
      open_ = true;
    }
    gate_cv_.notify_all();
  }
  std::vector<std::string> Lines() {
    std::lock_guard lock(lines_mu_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::unique_lock gate(gate_mu_);
    gate_cv_.wait(gate, [&] { return open_; });
    std::lock_guard lock(lines_mu_);
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool open_ = false;
  std::mutex lines_mu_;
  std::vector<std::string> lines_;
};

TEST(AsyncLogTest, ABlockedSinkDropsTheOldestLinesAndNeverBlocksTheCaller) {
  auto sink = std::make_shared<GateSink>();
  AsyncLog log(sink, 64);
  // 5 000 lines against a writer that cannot write: with a synchronous logger the first call
  // would never return.
  auto logged = std::async(std::launch::async, [] {
    for (int i = 0; i < 5000; ++i) spdlog::info("line {}", i);
  });
  ASSERT_EQ(logged.wait_for(10s), std::future_status::ready);
  EXPECT_GT(log.dropped(), 4000u);
  sink->Open();
  EXPECT_EQ(log.Finish(7), 7);
  const auto lines = sink->Lines();
  ASSERT_FALSE(lines.empty());
  EXPECT_LE(lines.size(), 66u);          // the queue, and the line the writer held when it blocked
  EXPECT_EQ(lines.back(), "line 4999");  // the newest lines are kept
  // The previous (synchronous) default logger is back.
  EXPECT_NE(spdlog::default_logger()->name(), "norreg");
}

TEST(AsyncLogTest, FinishWritesOutEverythingQueued) {
  auto sink = std::make_shared<GateSink>();
  sink->Open();
  {
    AsyncLog log(sink, 1024);
    for (int i = 0; i < 500; ++i) spdlog::info("line {}", i);
    EXPECT_EQ(log.Finish(0), 0);
    EXPECT_EQ(log.dropped(), 0u);
  }
  const auto lines = sink->Lines();
  ASSERT_EQ(lines.size(), 500u);
  EXPECT_EQ(lines.front(), "line 0");
  EXPECT_EQ(lines.back(), "line 499");
}

// A writer stuck for good (stdout never drains): the process ends with the server's exit code
// instead of hanging in its exit.
TEST(AsyncLogDeathTest, AWriterStuckForGoodDoesNotHoldTheExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        auto sink = std::make_shared<GateSink>();
        AsyncLog log(sink, 16);
        spdlog::info("never written");
        (void)log.Finish(3, 200ms);
        std::exit(0);
      },
      ::testing::ExitedWithCode(3), "");
}

}  // namespace
}  // namespace norreg::cli
