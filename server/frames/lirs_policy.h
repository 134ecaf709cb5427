// LirsPolicy: S. Jiang and X. Zhang, "LIRS: an efficient low inter-reference
// recency set replacement policy to improve buffer cache performance",
// SIGMETRICS 2002.
//
// Blocks are LIR (low inter-reference recency; never evicted while HIR blocks
// are resident) or HIR. Stack S orders recently seen blocks, LIR and HIR,
// resident or not, by recency; its bottom is always an LIR block ("stack
// pruning" removes HIR entries from the bottom). List Q holds the resident HIR
// blocks; its front is the next victim. The frames are split into Llirs =
// capacity - Lhirs and Lhirs = max(1, capacity / 100) (the paper's 1%).
//   - hit on LIR: to the top of S (prune if it was the bottom);
//   - hit on resident HIR: if it is in S it becomes LIR and the bottom LIR
//     of S becomes HIR at the end of Q (then prune); else to the top of S and
//     the end of Q;
//   - miss (Victim): the front of Q is evicted; if it is in S it stays there
//     as non-resident HIR;
//   - insert: a key non-resident in S becomes LIR (demoting the bottom LIR as
//     above); any other key is HIR at the top of S and the end of Q; while
//     fewer than Llirs blocks are LIR, new blocks are LIR (warm-up).
//
// Guarantees, on top of replacement_policy.h and BufferedPolicy:
//   - Exactly the paper's LIRS in single-threaded use as long as the history
//     bound below is not reached (memsim's hit counts then equal those of an
//     independent model of the paper's algorithm).
//   - History is bounded: at most 2 * capacity non-resident entries by
//     default; beyond that the entry that became non-resident first is
//     forgotten (the paper keeps them until pruned). The bound moves hit
//     ratios slightly: multi2 at 500 frames 51.09% (unbounded: 50.86%),
//     sprite at 500 76.09% (76.09%), loop unchanged.
//   - Remove forgets the block (no non-resident entry). If Q has no
//     acceptable frame, Victim falls back to LIR frames from the bottom of S
//     (forgotten, no entry left); every tracked frame is offered at most once.
#pragma once

#include <unordered_map>
#include <vector>

#include "server/frames/buffered_policy.h"
#include "server/frames/index_list.h"

namespace memserver {

class LirsPolicy final : public BufferedPolicy {
 public:
  // History bound: 2 * capacity non-resident entries.
  explicit LirsPolicy(uint32_t capacity);
  // Explicit history bound (>= 1), e.g. effectively unbounded for comparisons
  // with the paper's unbounded stack. Costs about 64 bytes per entry.
  LirsPolicy(uint32_t capacity, uint32_t max_nonresident);
  const char* Name() const override { return "lirs"; }

  // Introspection for tests.
  struct State {
    uint32_t lir, hir_resident, non_resident, stack;
  };
  State GetState();

 private:
  // Nodes [0, capacity_) are frames; [capacity_, capacity_ + max_nonresident_)
  // are non-resident entries of S.
  enum Status : uint8_t { kFree, kLir, kHirResident, kHirNonResident };

  void InsertLocked(FrameId frame, uint64_t key) override;
  void HitLocked(FrameId frame) override;
  void RemoveLocked(FrameId frame) override;
  bool VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) override;

  void PushLirLocked(uint32_t frame);        // new LIR at the top of S
  void DemoteBottomLirLocked();              // bottom LIR of S -> end of Q
  void PruneLocked();                        // drop HIR entries at S's bottom
  void LeaveStackLocked(uint32_t node);      // erase from S; free if non-resident
  void MakeNonResidentLocked(uint32_t frame);
  void FreeNonResidentLocked(uint32_t node);

  const uint32_t lir_capacity_;
  const uint32_t max_nonresident_;

  // All guarded by BufferedPolicy's lock.
  std::vector<Status> status_;     // by node
  std::vector<bool> in_stack_;     // by node
  std::vector<uint64_t> key_;      // by node
  IndexLinks stack_links_;         // all nodes
  IndexList stack_;                // S; newest = top
  IndexLinks queue_links_;         // frames
  IndexList queue_;                // Q; oldest = front
  IndexLinks age_links_;           // non-resident nodes
  IndexList nonresident_age_;      // oldest = became non-resident first
  std::vector<uint32_t> free_nodes_;
  std::unordered_map<uint64_t, uint32_t> nonresident_;  // key -> node
  uint32_t lir_count_ = 0;
};

}  // namespace memserver
