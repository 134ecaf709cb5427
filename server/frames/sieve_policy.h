// SievePolicy: SIEVE, Y. Zhang et al., "SIEVE is Simpler than LRU: an
// Efficient Turn-Key Eviction Algorithm for Web Caches", NSDI 2024.
//
// A FIFO queue (new pages enter at the head, visited bit clear) and a hand
// that moves from the tail towards the head: a visited page has its bit
// cleared and is passed over (it keeps its place, unlike CLOCK's reinsert);
// the first unvisited page is evicted and the hand stays just past it.
//
// Guarantees, on top of replacement_policy.h:
//   - Touch is a relaxed atomic load and at most one relaxed store to the
//     frame's own visited bit: no lock (like ClockPolicy).
//   - Single-threaded, the policy is exactly the paper's SIEVE.
//   - Victim offers unvisited frames to can_evict; a rejected frame keeps its
//     place and the hand moves on. At most 3 turns of the queue, then false.
//
// Locking: mu_ guards queue_, tracked_ and hand_; visited_ bits are atomics.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "server/frames/index_list.h"
#include "server/frames/replacement_policy.h"

namespace memserver {

class SievePolicy final : public ReplacementPolicy {
 public:
  explicit SievePolicy(uint32_t capacity);
  SievePolicy(const SievePolicy&) = delete;
  SievePolicy& operator=(const SievePolicy&) = delete;

  const char* Name() const override { return "sieve"; }
  void Insert(FrameId frame, uint64_t key) override;
  void Touch(FrameId frame) override;
  void Remove(FrameId frame) override;
  bool Victim(const std::function<bool(FrameId)>& can_evict, FrameId* frame) override;

 private:
  // Moves the hand off `frame` (towards the head) before it leaves the queue.
  void UnlinkLocked(FrameId frame);

  const uint32_t capacity_;
  std::unique_ptr<std::atomic<uint8_t>[]> visited_;  // lock-free

  std::mutex mu_;
  std::vector<bool> tracked_;     // guarded by mu_
  IndexLinks links_;              // guarded by mu_
  IndexList queue_;               // guarded by mu_; newest = head
  uint32_t hand_ = kNilIndex;     // guarded by mu_; kNilIndex = start at tail
};

}  // namespace memserver
