#include "client/memload/timeline.h"

#include <algorithm>
#include <cmath>

namespace memserver::memload {

Timeline::Timeline(std::chrono::steady_clock::time_point start,
                   std::chrono::nanoseconds interval)
    : start_(start), interval_(interval) {}

uint64_t Timeline::IntervalOf(std::chrono::steady_clock::time_point t) const {
  if (t <= start_) return 0;
  return static_cast<uint64_t>((t - start_) / interval_);
}

void Timeline::CoalesceLocked() {
  std::vector<Slot> merged((slots_.size() + 1) / 2);
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& to = merged[i / 2];
    to.latency.Merge(slots_[i].latency);
    to.ops += slots_[i].ops;
    to.errors += slots_[i].errors;
  }
  slots_ = std::move(merged);
  ++shift_;
}

void Timeline::Add(uint64_t index, const Histogram& latency, uint64_t ops, uint64_t errors) {
  std::lock_guard<std::mutex> lock(mu_);
  // An index beyond any representable shift cannot occur (a phase is at
  // most 30 days of at least 1 ms intervals), but stay in bounds anyway.
  while (shift_ < 63 && (index >> shift_) >= kMaxEntries) CoalesceLocked();
  const size_t slot = std::min<uint64_t>(index >> shift_, kMaxEntries - 1);
  if (slot >= slots_.size()) slots_.resize(slot + 1);
  Slot& s = slots_[slot];
  s.latency.Merge(latency);
  s.ops += ops;
  s.errors += errors;
}

std::vector<TimelineEntry> Timeline::Entries(double elapsed_seconds) const {
  std::lock_guard<std::mutex> lock(mu_);
  const double width = std::chrono::duration<double>(interval_).count() *
                       static_cast<double>(uint64_t{1} << shift_);
  size_t count = slots_.size();
  if (elapsed_seconds > 0) {
    // The tolerance keeps a phase of exactly k widths at k entries despite
    // rounding (153.6 s / 0.4 s is 384.00000000000006).
    const double needed = std::ceil(elapsed_seconds / width - 1e-9);
    count = std::max(count, static_cast<size_t>(std::min(needed, double(kMaxEntries))));
  }
  std::vector<TimelineEntry> entries(count);
  for (size_t i = 0; i < count; ++i) {
    TimelineEntry& e = entries[i];
    e.t_start_s = static_cast<double>(i) * width;
    const double left = elapsed_seconds - e.t_start_s;
    e.seconds = left > 0 && left < width ? left : width;
    if (i >= slots_.size()) continue;
    const Slot& s = slots_[i];
    e.ops = s.ops;
    e.errors = s.errors;
    e.ops_per_second = static_cast<double>(s.ops - s.errors) / e.seconds;
    e.p50_ns = s.latency.ValueAtPercentile(50);
    e.p90_ns = s.latency.ValueAtPercentile(90);
    e.p99_ns = s.latency.ValueAtPercentile(99);
    e.max_ns = s.latency.max();
  }
  return entries;
}

TimelineRecorder::TimelineRecorder(Timeline* timeline)
    : timeline_(timeline), latency_(timeline != nullptr ? Timeline::kPrecisionBits : 2) {}

void TimelineRecorder::Record(std::chrono::steady_clock::time_point end, uint64_t latency_ns,
                              uint64_t ok, uint64_t failed) {
  if (timeline_ == nullptr) return;
  const uint64_t index = timeline_->IntervalOf(end);
  if (index != index_) {
    Flush();
    index_ = index;
  }
  if (ok > 0) latency_.RecordN(latency_ns, ok);
  ops_ += ok + failed;
  errors_ += failed;
}

void TimelineRecorder::Flush() {
  if (timeline_ == nullptr || ops_ == 0) return;
  timeline_->Add(index_, latency_, ops_, errors_);
  latency_.Reset();
  ops_ = 0;
  errors_ = 0;
}

}  // namespace memserver::memload
