#include "server/frames/hit_buffer.h"

namespace memserver {

HitBuffer::HitBuffer() {
  for (Stripe& s : stripes_) {
    for (std::atomic<FrameId>& slot : s.slots) slot.store(kNoFrame, std::memory_order_relaxed);
  }
}

uint32_t HitBuffer::ThisThreadStripe() {
  static std::atomic<uint32_t> next_thread{0};
  thread_local const uint32_t stripe =
      next_thread.fetch_add(1, std::memory_order_relaxed) % kStripes;
  return stripe;
}

bool HitBuffer::TryAppend(FrameId frame) {
  Stripe& s = stripes_[ThisThreadStripe()];
  uint64_t tail = s.tail.load(std::memory_order_relaxed);
  do {
    // Acquire pairs with Drain's release of head: the slot we claim is clear.
    if (tail - s.head.load(std::memory_order_acquire) >= kSlotsPerStripe) return false;
  } while (!s.tail.compare_exchange_weak(tail, tail + 1, std::memory_order_relaxed,
                                         std::memory_order_relaxed));
  s.slots[tail & (kSlotsPerStripe - 1)].store(frame, std::memory_order_release);
  return true;
}

}  // namespace memserver
