#include "cli/async_log.hpp"

#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

namespace norreg::cli {

AsyncLog::AsyncLog(spdlog::sink_ptr sink, std::size_t queue_lines)
    : previous_(spdlog::default_logger()) {
  if (!sink) sink = std::make_shared<spdlog::sinks::stdout_color_sink_mt>();
  spdlog::init_thread_pool(queue_lines, 1);
  auto logger =
      std::make_shared<spdlog::async_logger>("norreg", std::move(sink), spdlog::thread_pool(),
                                             spdlog::async_overflow_policy::overrun_oldest);
  logger->set_level(previous_->level());
  logger->flush_on(spdlog::level::trace);  // each line leaves the queue whole, at once
  spdlog::set_default_logger(std::move(logger));
}

AsyncLog::~AsyncLog() {
  if (!finished_) (void)Finish(0);
}

std::size_t AsyncLog::dropped() const {
  auto pool = spdlog::thread_pool();
  return pool ? pool->overrun_counter() : 0;
}

int AsyncLog::Finish(int exit_code, std::chrono::milliseconds drain_timeout) {
  if (finished_) return exit_code;
  finished_ = true;
  // The writer drains the queue and stops when the pool is released; a writer blocked in write()
  // never would, so the release runs on a thread of its own, waited for a bounded time.
  auto logger = spdlog::default_logger();
  spdlog::set_default_logger(previous_);
  std::promise<void> released;
  std::future<void> done = released.get_future();
  std::thread([logger = std::move(logger), released = std::move(released)]() mutable {
    logger.reset();
    spdlog::details::registry::instance().set_tp(nullptr);  // joins the writer after the queue
    released.set_value();
  }).detach();
  if (done.wait_for(drain_timeout) == std::future_status::timeout) {
    std::fflush(nullptr);
    std::_Exit(exit_code);
  }
  return exit_code;
}

}  // namespace norreg::cli
