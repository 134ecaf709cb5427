// ArcPolicy: Adaptive Replacement Cache, N. Megiddo and D. S. Modha, "ARC: A
// Self-Tuning, Low Overhead Replacement Cache", FAST 2003 (Fig. 4).
//
// Resident pages are in T1 (seen once recently) or T2 (seen at least twice);
// ghosts B1/B2 remember the keys evicted from T1/T2. A ghost hit adapts the
// target size p of T1: +max(1, |B2|/|B1|) on a B1 hit, -max(1, |B1|/|B2|) on
// a B2 hit, clamped to [0, capacity]. p is real-valued, as in the paper: with
// it memsim reproduces the paper's ARC hit ratios (OLTP, P2, multi2, sprite,
// 2_pools) to 0.01 points, except OLTP at c=1000 (38.95 vs 38.93); integer
// division, as in Caffeine's and libCacheSim's simulators, gives 39.06 there.
//
// Guarantees, on top of replacement_policy.h and BufferedPolicy:
//   - With OnMiss(key) announced before each miss (MissObserver), in
//     single-threaded use, the policy is exactly ARC(c) of the paper: hits
//     move to the MRU end of T2; OnMiss runs the adaptation and directory
//     cases II-IV; Victim is REPLACE(x, p) (or, in case IV.A with |T1| = c,
//     deletes the LRU page of T1 without a ghost); Insert puts x at the MRU
//     end of T2 (ghost hit) or T1.
//   - Without OnMiss, Victim runs REPLACE as if x were not in B2 with the
//     current p, and Insert does the adaptation of a ghost hit afterwards.
//   - History is bounded: |T1|+|B1| <= c, |T1|+|T2|+|B1|+|B2| <= 2c and
//     |B1|+|B2| <= c after every Insert (one more ghost transiently between a
//     Victim and its Insert).
//   - Remove forgets the page (no ghost). can_evict rejections: REPLACE's list
//     is searched from its LRU end, then the other list; each rejected page
//     stays where it is.
#pragma once

#include <cstdint>
#include <vector>

#include "server/frames/buffered_policy.h"
#include "server/frames/ghost_lists.h"
#include "server/frames/index_list.h"
#include "server/frames/miss_observer.h"

namespace memserver {

class ArcPolicy final : public BufferedPolicy, public MissObserver {
 public:
  explicit ArcPolicy(uint32_t capacity);
  const char* Name() const override { return "arc"; }

  void OnMiss(uint64_t key) override;

  // Introspection for tests: sizes of the four lists and p.
  struct State {
    uint32_t t1, t2, b1, b2;
    double p;
  };
  State GetState();

 private:
  enum Where : uint8_t { kUntracked, kInT1, kInT2 };
  static constexpr int kB1 = 0, kB2 = 1;

  void InsertLocked(FrameId frame, uint64_t key) override;
  void HitLocked(FrameId frame) override;
  void RemoveLocked(FrameId frame) override;
  bool VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) override;

  // Adapts p for a hit of `key` in ghost list `list`.
  void AdaptLocked(int list);
  // Evicts the first page of `from` (LRU first) accepted by can_evict; its key
  // goes to ghost list `ghost` unless ghost == GhostLists::kNone.
  bool EvictFromLocked(IndexList& from, int ghost,
                       const std::function<bool(FrameId)>& can_evict, FrameId* frame);
  void TrimGhostsLocked(uint32_t max_ghosts);

  // All guarded by BufferedPolicy's lock.
  std::vector<Where> where_;
  std::vector<uint64_t> key_;
  IndexLinks links_;
  IndexList t1_, t2_;  // newest = MRU
  GhostLists ghosts_;  // kB1, kB2
  double p_ = 0;  // target size of T1, in [0, capacity_]

  // The miss announced by OnMiss, until its Insert.
  struct PendingMiss {
    bool valid = false;
    uint64_t key = 0;
    bool ghost_hit = false;       // key was in B1 or B2 (p already adapted)
    bool in_b2 = false;           // key was in B2
    bool discard_t1_lru = false;  // case IV.A with |T1| = c
  };
  PendingMiss pending_;
};

}  // namespace memserver
