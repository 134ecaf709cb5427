#include "server/frames/sieve_policy.h"

namespace memserver {

SievePolicy::SievePolicy(uint32_t capacity)
    : capacity_(capacity),
      visited_(new std::atomic<uint8_t>[capacity]),
      tracked_(capacity, false),
      links_(capacity),
      queue_(&links_) {
  for (uint32_t i = 0; i < capacity_; ++i) visited_[i].store(0, std::memory_order_relaxed);
}

void SievePolicy::Insert(FrameId frame, uint64_t /*key*/) {
  if (frame >= capacity_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (tracked_[frame]) return;
  tracked_[frame] = true;
  visited_[frame].store(0, std::memory_order_relaxed);
  queue_.PushNewest(frame);
}

void SievePolicy::Touch(FrameId frame) {
  if (frame >= capacity_) return;
  std::atomic<uint8_t>& bit = visited_[frame];
  if (bit.load(std::memory_order_relaxed) == 0) bit.store(1, std::memory_order_relaxed);
}

void SievePolicy::UnlinkLocked(FrameId frame) {
  if (hand_ == frame) hand_ = queue_.Newer(frame);
  queue_.Erase(frame);
  tracked_[frame] = false;
  visited_[frame].store(0, std::memory_order_relaxed);
}

void SievePolicy::Remove(FrameId frame) {
  if (frame >= capacity_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (tracked_[frame]) UnlinkLocked(frame);
}

bool SievePolicy::Victim(const std::function<bool(FrameId)>& can_evict, FrameId* frame) {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.empty()) return false;
  const uint64_t max_steps = 3ull * queue_.size();
  uint32_t f = hand_;
  for (uint64_t step = 0; step < max_steps; ++step) {
    if (f == kNilIndex) f = queue_.Oldest();
    if (visited_[f].load(std::memory_order_relaxed) != 0) {
      visited_[f].store(0, std::memory_order_relaxed);
      f = queue_.Newer(f);
      continue;
    }
    if (!can_evict(f)) {
      f = queue_.Newer(f);
      continue;
    }
    hand_ = f;  // UnlinkLocked moves it to the next newer page
    UnlinkLocked(f);
    *frame = f;
    return true;
  }
  hand_ = f;
  return false;
}

}  // namespace memserver
