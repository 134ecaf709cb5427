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
//   - Memory is fixed at construction: nothing is allocated (or freed) after
//     it, in particular not per eviction under the lock.
//
// Memory, with C = capacity, H = history bound and P = bit_ceil(2 * H) index
// slots (P in [2H, 4H)):
//     C * (8 key + 8 S links + 8 Q links + 1 state)
//   + H * (8 key + 8 S links + 8 age/free links) + 4 * P
//   = 25 C + 24 H + 4 P bytes, whether the history is empty or full, plus
// sizeof(LirsPolicy) (3.5 KB, mostly the HitBuffer); MemoryBytes() reports
// the tables. With the default H = 2C: 73 + 4 * bit_ceil(4C) / C bytes per
// frame, from 89 (C a power of two) to just under 105 (e.g. 89.4 at C =
// 1000, 104.9 at C = 1025). The std::unordered_map history this replaced
// took 112 bytes per frame empty and 176 full (at C = 1000, by mallinfo2),
// with a malloc per eviction of a block still in S.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "server/frames/buffered_policy.h"
#include "server/frames/index_list.h"
#include "server/frames/key_index.h"

namespace memserver {

class LirsPolicy final : public BufferedPolicy {
 public:
  // History bound: 2 * capacity non-resident entries.
  explicit LirsPolicy(uint32_t capacity);
  // Explicit history bound (>= 1), e.g. effectively unbounded for comparisons
  // with the paper's unbounded stack. Costs 32 to 40 bytes per entry.
  LirsPolicy(uint32_t capacity, uint32_t max_nonresident);
  const char* Name() const override { return "lirs"; }

  // Introspection for tests.
  struct State {
    uint32_t lir, hir_resident, non_resident, stack;
  };
  State GetState();

  // Bytes held by the policy's tables (the formula above); constant.
  size_t MemoryBytes() const;

 private:
  // Nodes [0, C) are frames, each with a state byte: a Status plus kInStack.
  // Nodes [C, C + H) are non-resident entries of S; an entry is in use iff it
  // is in S (it leaves S only by being freed), so it needs no state byte.
  enum Status : uint8_t { kFree = 0, kLir = 1, kHirResident = 2 };
  static constexpr uint8_t kStatusMask = 3;
  static constexpr uint8_t kInStack = 4;  // frame is in S

  void InsertLocked(FrameId frame, uint64_t key) override;
  void HitLocked(FrameId frame) override;
  void RemoveLocked(FrameId frame) override;
  bool VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) override;

  bool IsFrame(uint32_t node) const { return node < capacity_; }
  Status StatusOf(uint32_t frame) const { return Status(state_[frame] & kStatusMask); }
  bool InStack(uint32_t frame) const { return (state_[frame] & kInStack) != 0; }
  void SetStatus(uint32_t frame, Status s) {
    state_[frame] = static_cast<uint8_t>((state_[frame] & kInStack) | s);
  }
  void SetInStack(uint32_t frame, bool in) {
    state_[frame] = static_cast<uint8_t>((state_[frame] & kStatusMask) | (in ? kInStack : 0));
  }
  bool IsLir(uint32_t node) const { return IsFrame(node) && StatusOf(node) == kLir; }

  void PushLirLocked(uint32_t frame);        // new LIR at the top of S
  void DemoteBottomLirLocked();              // bottom LIR of S -> end of Q
  void PruneLocked();                        // drop HIR entries at S's bottom
  void LeaveStackLocked(uint32_t node);      // erase from S; free if non-resident
  void MakeNonResidentLocked(uint32_t frame);
  void FreeNonResidentLocked(uint32_t node);  // REQUIRES: an entry in use

  const uint32_t lir_capacity_;
  const uint32_t max_nonresident_;

  // All guarded by BufferedPolicy's lock.
  std::vector<uint64_t> key_;      // by node
  std::vector<uint8_t> state_;     // by frame
  IndexLinks stack_links_;         // all nodes
  IndexList stack_;                // S; newest = top
  IndexLinks queue_links_;         // frames
  IndexList queue_;                // Q; oldest = front
  // Non-resident entries by entry id = node - C: an entry in use is in
  // nonresident_age_; a free one is on the free list chained by .newer.
  IndexLinks age_links_;
  IndexList nonresident_age_;      // oldest = became non-resident first
  uint32_t free_head_;             // entry id, kNilIndex when none is free
  KeyIndex nonresident_;           // key -> node, over key_
  uint32_t lir_count_ = 0;
};

}  // namespace memserver
