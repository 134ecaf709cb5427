// ClockPolicy: CLOCK (second chance), the policy memserverd uses by default.
//
// Frames form a ring in frame-id order with one reference bit each and a hand.
// Guarantees, on top of replacement_policy.h:
//   - Touch is one relaxed atomic load and at most one relaxed store to the
//     frame's own bit: no lock, no shared cache line written. Touch on an
//     untracked frame may set its bit; Insert clears it, Victim skips it.
//   - A newly inserted page starts with its bit CLEAR (as in the reference
//     simulator of the ARC paper): it is evicted on the next pass unless hit.
//   - Victim sweeps from the hand: a tracked frame with its bit set has it
//     cleared and is passed over (its second chance); a tracked frame with a
//     clear bit is offered to can_evict. The accepted frame is returned and
//     the hand stops just past it. At most 3 full turns are made (enough to
//     clear every bit and offer every frame twice); then Victim returns false.
//   - Single-threaded, the result is exactly textbook CLOCK when frames are
//     filled in id order (memsim does so).
//
// Locking: mu_ guards tracked_, hand_ and tracked_count_; bits_ are atomics
// written by Touch without it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "server/frames/replacement_policy.h"

namespace memserver {

class ClockPolicy final : public ReplacementPolicy {
 public:
  explicit ClockPolicy(uint32_t capacity);
  ClockPolicy(const ClockPolicy&) = delete;
  ClockPolicy& operator=(const ClockPolicy&) = delete;

  const char* Name() const override { return "clock"; }
  void Insert(FrameId frame, uint64_t key) override;
  void Touch(FrameId frame) override;
  void Remove(FrameId frame) override;
  bool Victim(const std::function<bool(FrameId)>& can_evict, FrameId* frame) override;

 private:
  const uint32_t capacity_;
  std::unique_ptr<std::atomic<uint8_t>[]> bits_;  // reference bits, lock-free

  std::mutex mu_;
  std::vector<bool> tracked_;    // guarded by mu_
  uint32_t tracked_count_ = 0;   // guarded by mu_
  uint32_t hand_ = 0;            // guarded by mu_
};

}  // namespace memserver
