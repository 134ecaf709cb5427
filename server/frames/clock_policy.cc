#include "server/frames/clock_policy.h"

namespace memserver {

ClockPolicy::ClockPolicy(uint32_t capacity)
    : capacity_(capacity),
      bits_(new std::atomic<uint8_t>[capacity]),
      tracked_(capacity, false) {
  for (uint32_t i = 0; i < capacity_; ++i) bits_[i].store(0, std::memory_order_relaxed);
}

void ClockPolicy::Insert(FrameId frame, uint64_t /*key*/) {
  if (frame >= capacity_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (tracked_[frame]) return;  // contract violation; keep state consistent
  tracked_[frame] = true;
  ++tracked_count_;
  bits_[frame].store(0, std::memory_order_relaxed);
}

void ClockPolicy::Touch(FrameId frame) {
  if (frame >= capacity_) return;
  std::atomic<uint8_t>& bit = bits_[frame];
  // Read first: a hot page's bit is usually set already, and a load keeps the
  // cache line shared between the cores touching it.
  if (bit.load(std::memory_order_relaxed) == 0) bit.store(1, std::memory_order_relaxed);
}

void ClockPolicy::Remove(FrameId frame) {
  if (frame >= capacity_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!tracked_[frame]) return;
  tracked_[frame] = false;
  --tracked_count_;
  bits_[frame].store(0, std::memory_order_relaxed);
}

bool ClockPolicy::Victim(const std::function<bool(FrameId)>& can_evict, FrameId* frame) {
  std::lock_guard<std::mutex> lock(mu_);
  if (tracked_count_ == 0) return false;
  const uint64_t max_steps = 3ull * capacity_;
  for (uint64_t step = 0; step < max_steps; ++step) {
    const FrameId f = hand_;
    hand_ = (hand_ + 1 == capacity_) ? 0 : hand_ + 1;
    if (!tracked_[f]) continue;
    if (bits_[f].load(std::memory_order_relaxed) != 0) {
      bits_[f].store(0, std::memory_order_relaxed);  // second chance
      continue;
    }
    if (!can_evict(f)) continue;
    tracked_[f] = false;
    --tracked_count_;
    *frame = f;
    return true;
  }
  return false;
}

}  // namespace memserver
