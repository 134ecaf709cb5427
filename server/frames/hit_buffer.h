// HitBuffer: records frame hits without a lock, for policies whose hit
// handling must run under their lock (LRU, ARC, LIRS, 2Q move a page in a
// list on a hit).
//
// Guarantees:
//   - TryAppend never blocks and takes no lock: the calling thread appends to
//     its own stripe (threads are spread over kStripes stripes) with one CAS
//     on that stripe's tail. It fails only when the stripe is full.
//   - Drain hands every appended hit to `apply` exactly once. Hits appended by
//     one thread are handed over in the order they were appended; hits of
//     different threads (stripes) are handed over stripe after stripe, an
//     order as good as any for accesses that raced.
//   - Hence, in single-threaded use, the hits appended before a Drain are
//     applied in exactly the order they happened.
//   - Drain has one caller at a time (the owner's lock); it may stop early at
//     a slot claimed by an append still in progress, which the next Drain
//     picks up.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "server/frames/replacement_policy.h"

namespace memserver {

class HitBuffer {
 public:
  static constexpr uint32_t kStripes = 8;
  static constexpr uint32_t kSlotsPerStripe = 64;  // power of two

  HitBuffer();
  HitBuffer(const HitBuffer&) = delete;
  HitBuffer& operator=(const HitBuffer&) = delete;

  // False when this thread's stripe is full (drain, then retry or drop).
  bool TryAppend(FrameId frame);

  // REQUIRES: the caller excludes concurrent Drain calls.
  template <typename Apply>
  void Drain(Apply&& apply) {
    for (Stripe& s : stripes_) {
      uint64_t head = s.head.load(std::memory_order_relaxed);
      const uint64_t tail = s.tail.load(std::memory_order_acquire);
      while (head < tail) {
        std::atomic<FrameId>& slot = s.slots[head & (kSlotsPerStripe - 1)];
        const FrameId frame = slot.load(std::memory_order_acquire);
        if (frame == kNoFrame) break;  // claimed, not yet written
        slot.store(kNoFrame, std::memory_order_relaxed);
        ++head;
        apply(frame);
      }
      // Release: an appender that sees the new head also sees the cleared slots.
      s.head.store(head, std::memory_order_release);
    }
  }

 private:
  struct alignas(64) Stripe {
    std::atomic<uint64_t> tail{0};               // next slot to claim (appenders)
    alignas(64) std::atomic<uint64_t> head{0};   // next slot to drain (drainer)
    alignas(64) std::array<std::atomic<FrameId>, kSlotsPerStripe> slots;
  };

  static uint32_t ThisThreadStripe();

  std::array<Stripe, kStripes> stripes_;
};

}  // namespace memserver
