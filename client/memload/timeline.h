// Timeline: latency and throughput over time, one entry per interval of the
// measured phase (the --json report's "timeline"; tests/bench/plot.sh draws
// it).
//
// Each worker records into its own TimelineRecorder, which holds only the
// interval it is in; when an op completes in a later interval the recorder
// folds what it holds into the shared Timeline (one mutex acquisition per
// worker and interval, none per op).
//
// Guarantees:
//   - Bounded memory, whatever the run's length: at most kMaxEntries
//     interval histograms in the Timeline plus one per recorder, each a
//     Histogram of kPrecisionBits (1,920 counters, 15 KiB; values reported
//     overestimate by less than 2^-(kPrecisionBits-1) = 3.1%), so at most
//     7.5 MiB + 15 KiB per worker.
//   - A phase longer than kMaxEntries intervals is not cut off: the entries
//     are coalesced pairwise (the width doubles) as often as needed, so the
//     timeline always covers the whole phase, in at most kMaxEntries entries
//     of equal width (Entries() reports the width used).
//   - Counting is exact: every op recorded lands in exactly one entry (the
//     interval in which it completed), so the entries' ops sum to the ops
//     recorded. Intervals in which nothing completed are present, with zeros.
//
// Thread-safety: Timeline::Add and Entries may be called from any thread; a
// TimelineRecorder belongs to one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "client/memload/histogram.h"

namespace memserver::memload {

struct TimelineEntry {
  double t_start_s = 0;  // since the phase started
  double seconds = 0;    // covered: the width, less for a last, partial entry
  uint64_t ops = 0;      // completed in the entry, failed ones included
  uint64_t errors = 0;   // of which failed
  double ops_per_second = 0;  // successful ops / seconds
  // Latency of the successful ops, in ns (0 when there were none).
  uint64_t p50_ns = 0;
  uint64_t p90_ns = 0;
  uint64_t p99_ns = 0;
  uint64_t max_ns = 0;
};

class Timeline {
 public:
  static constexpr int kPrecisionBits = 6;
  static constexpr size_t kMaxEntries = 512;

  // REQUIRES: interval > 0.
  Timeline(std::chrono::steady_clock::time_point start, std::chrono::nanoseconds interval);
  Timeline(const Timeline&) = delete;
  Timeline& operator=(const Timeline&) = delete;

  std::chrono::steady_clock::time_point start() const { return start_; }
  std::chrono::nanoseconds interval() const { return interval_; }
  // The interval (of the initial width) in which `t` falls; 0 before start.
  uint64_t IntervalOf(std::chrono::steady_clock::time_point t) const;

  // Adds one recorder's counts for interval `index` (of the initial width).
  // REQUIRES: latency.precision_bits() == kPrecisionBits.
  void Add(uint64_t index, const Histogram& latency, uint64_t ops, uint64_t errors);

  // The entries covering [0, elapsed_seconds) of the phase (and any later
  // interval something was recorded in), after every recorder has flushed.
  std::vector<TimelineEntry> Entries(double elapsed_seconds) const;

 private:
  struct Slot {
    Histogram latency{kPrecisionBits};
    uint64_t ops = 0;
    uint64_t errors = 0;
  };
  // Halves the number of slots by merging neighbours; the width doubles.
  void CoalesceLocked();

  const std::chrono::steady_clock::time_point start_;
  const std::chrono::nanoseconds interval_;
  mutable std::mutex mu_;
  int shift_ = 0;            // guarded by mu_: an entry is interval_ << shift_ wide
  std::vector<Slot> slots_;  // guarded by mu_: at most kMaxEntries
};

// One worker's side of a Timeline. With a null timeline it records nothing.
class TimelineRecorder {
 public:
  // `timeline` is borrowed (may be null) and must outlive the recorder.
  explicit TimelineRecorder(Timeline* timeline);
  ~TimelineRecorder() { Flush(); }
  TimelineRecorder(const TimelineRecorder&) = delete;
  TimelineRecorder& operator=(const TimelineRecorder&) = delete;

  // `ok` successful ops of latency `latency_ns` and `failed` failed ones,
  // completed at `end`.
  void Record(std::chrono::steady_clock::time_point end, uint64_t latency_ns, uint64_t ok,
              uint64_t failed);
  // Hands what is held to the timeline (done by the destructor too).
  void Flush();

 private:
  Timeline* const timeline_;
  uint64_t index_ = 0;
  Histogram latency_;
  uint64_t ops_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace memserver::memload
