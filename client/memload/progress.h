// ProgressLine: a live status line on stderr, rewritten in place ("\r")
// once per second while a phase runs:
//
//   measure    12s  ops/s 45123  total 541234  errors 0
//
// Only drawn when enabled and stderr is a terminal; otherwise every method
// is a no-op. Start() and Stop() are called from one thread; the counters
// must outlive the phase (Stop() joins the drawing thread).
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/memload/worker.h"

namespace memserver::memload {

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled);
  ~ProgressLine();  // Stop()
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  void Start(std::string label, const std::vector<LiveCounters>* counters);
  // Erases the line and returns once the drawing thread has ended.
  void Stop();

 private:
  const bool enabled_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
};

}  // namespace memserver::memload
