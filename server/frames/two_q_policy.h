// TwoQPolicy: the full 2Q of T. Johnson and D. Shasha, "2Q: A Low Overhead
// High Performance Buffer Management Replacement Algorithm", VLDB 1994.
//
// A1in: FIFO of pages seen once (target Kin = 25% of the frames); A1out:
// ghost FIFO of keys evicted from A1in (at most Kout = 50% of the frames);
// Am: LRU of pages re-referenced after leaving A1in (the paper's tuning).
//   - hit in Am: move to the head of Am; hit in A1in: nothing;
//   - miss whose key is in A1out: the page goes to the head of Am;
//     other misses: head of A1in;
//   - reclaim (Victim): if |A1in| > Kin, the tail of A1in, whose key enters
//     A1out (dropping A1out's tail beyond Kout); else the tail of Am.
//
// Guarantees, on top of replacement_policy.h and BufferedPolicy: exactly the
// paper's 2Q in single-threaded use; history bounded by Kout keys. When the
// preferred queue has no acceptable page, Victim tries the other one (pages
// from Am leave no ghost); every tracked frame is offered at most once.
// Remove leaves no ghost.
#pragma once

#include <vector>

#include "server/frames/buffered_policy.h"
#include "server/frames/ghost_lists.h"
#include "server/frames/index_list.h"

namespace memserver {

class TwoQPolicy final : public BufferedPolicy {
 public:
  explicit TwoQPolicy(uint32_t capacity);
  const char* Name() const override { return "2q"; }

 private:
  enum Where : uint8_t { kUntracked, kInA1in, kInAm };

  void InsertLocked(FrameId frame, uint64_t key) override;
  void HitLocked(FrameId frame) override;
  void RemoveLocked(FrameId frame) override;
  bool VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) override;
  bool EvictFromLocked(IndexList& from, bool remember,
                       const std::function<bool(FrameId)>& can_evict, FrameId* frame);

  const uint32_t kin_;   // target size of A1in
  const uint32_t kout_;  // maximum size of A1out

  // All guarded by BufferedPolicy's lock.
  std::vector<Where> where_;
  std::vector<uint64_t> key_;
  IndexLinks links_;
  IndexList a1in_, am_;  // newest = head
  GhostLists a1out_;     // one list
};

}  // namespace memserver
