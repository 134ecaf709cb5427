#include "client/memload/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace memserver::memload {

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO) == 1) {}

ProgressLine::~ProgressLine() { Stop(); }

void ProgressLine::Start(std::string label, const std::vector<LiveCounters>* counters) {
  if (!enabled_) return;
  Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this, label = std::move(label), counters] {
    const Clock::time_point start = Clock::now();
    uint64_t last_ops = 0;
    Clock::time_point last = start;
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
      uint64_t ops = 0;
      uint64_t errors = 0;
      for (const LiveCounters& c : *counters) {
        ops += c.ops.load(std::memory_order_relaxed);
        errors += c.errors.load(std::memory_order_relaxed);
      }
      const Clock::time_point now = Clock::now();
      const double interval = std::chrono::duration<double>(now - last).count();
      const double rate = interval > 0 ? static_cast<double>(ops - last_ops) / interval : 0;
      fmt::print(stderr, "\r{:<9} {:>5.0f}s  ops/s {:>9.0f}  total {:>10}  errors {:<8}", label,
                 std::chrono::duration<double>(now - start).count(), rate, ops, errors);
      std::fflush(stderr);
      last_ops = ops;
      last = now;
    }
    fmt::print(stderr, "\r{:79}\r", "");
    std::fflush(stderr);
  });
}

void ProgressLine::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

}  // namespace memserver::memload
