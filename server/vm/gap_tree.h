// GapTree: the free ranges ("gaps") of one address space, in a balanced
// search tree keyed by start address whose every node also records the
// longest gap in its subtree. Finding the highest gap of at least N bytes
// below an address is then one descent: O(log n) in the number of gaps,
// where walking the mappings is O(n). The anchors: gVisor's gap-augmented
// segment set (pkg/segment, "maxGap"), Linux's rb_subtree_gap and, since
// 6.1, the maple tree's per-node gap.
//
// The tree is a treap (a binary search tree by start, a heap by a random
// priority), so its expected depth is O(log n) whatever the order of
// insertions; nodes live in one vector and name each other by 32-bit index.
// 40 bytes per gap; an address space has at most one gap more than it has
// mappings, and the node vector keeps its high-water mark (at most
// max_mappings + 1 nodes: 2.6 MB at 65,530) until the process exits.
//
// Invariants (checked by CheckInvariants):
//   - gaps are non-empty, disjoint and never adjacent (two touching gaps
//     would be one: the owner merges them before inserting);
//   - in-order traversal is by increasing start; every node's priority is
//     at least its children's;
//   - max_len of a node is the longest gap length in its subtree.
// Not thread-safe: the owner (MappingSet) is guarded by the mm lock.
#pragma once

#include <cstdint>
#include <vector>

#include "server/common/status.h"

namespace memserver {

class GapTree {
 public:
  struct Gap {
    uint64_t start = 0;
    uint64_t end = 0;  // exclusive
    uint64_t length() const { return end - start; }
  };

  GapTree();

  // Adds [start, end). REQUIRES: start < end, disjoint from and not
  // touching any gap.
  void Insert(uint64_t start, uint64_t end);
  // Removes the gap that starts at `start`. REQUIRES: one does.
  void Erase(uint64_t start);

  // The gap with the greatest start <= addr. False when there is none.
  bool Floor(uint64_t addr, Gap* gap) const;
  // The gap with the smallest start >= addr. False when there is none.
  bool Ceil(uint64_t addr, Gap* gap) const;
  // Among gaps starting before `before`, the one with the greatest start
  // whose length is at least `min_length`. False when there is none.
  bool LastFitting(uint64_t before, uint64_t min_length, Gap* gap) const;

  size_t size() const { return size_; }
  Status CheckInvariants() const;

 private:
  using Index = uint32_t;  // 0: no node
  struct Node {
    uint64_t start = 0;
    uint64_t end = 0;
    uint64_t max_len = 0;  // longest gap in this subtree
    Index left = 0;
    Index right = 0;
    uint32_t priority = 0;
  };

  Index NewNode(uint64_t start, uint64_t end);
  void FreeNode(Index n);
  void Pull(Index n);
  // Splits `t` into keys < key (*l) and keys >= key (*r).
  void Split(Index t, uint64_t key, Index* l, Index* r);
  // Joins l and r; every key of l is below every key of r.
  Index Merge(Index l, Index r);
  Index LastFittingIn(Index t, uint64_t before, uint64_t min_length) const;
  Status CheckNode(Index t, uint64_t lo, uint64_t hi, uint64_t* max_len, size_t* count) const;
  uint32_t NextPriority();

  std::vector<Node> nodes_;   // nodes_[0] is the null sentinel
  std::vector<Index> free_;   // released node slots, reused first
  Index root_ = 0;
  size_t size_ = 0;
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;  // xorshift state: deterministic runs
};

}  // namespace memserver
