#include "server/vm/gap_tree.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

namespace memserver {

GapTree::GapTree() { nodes_.emplace_back(); }

uint32_t GapTree::NextPriority() {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return static_cast<uint32_t>(rng_ >> 32);
}

GapTree::Index GapTree::NewNode(uint64_t start, uint64_t end) {
  Index n;
  if (!free_.empty()) {
    n = free_.back();
    free_.pop_back();
  } else {
    n = static_cast<Index>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& node = nodes_[n];
  node = Node();
  node.start = start;
  node.end = end;
  node.max_len = end - start;
  node.priority = NextPriority();
  return n;
}

void GapTree::FreeNode(Index n) { free_.push_back(n); }

void GapTree::Pull(Index n) {
  Node& node = nodes_[n];
  node.max_len = std::max({node.end - node.start, nodes_[node.left].max_len, nodes_[node.right].max_len});
}

void GapTree::Split(Index t, uint64_t key, Index* l, Index* r) {
  if (t == 0) {
    *l = *r = 0;
    return;
  }
  if (nodes_[t].start < key) {
    Index right_l, right_r;
    Split(nodes_[t].right, key, &right_l, &right_r);
    nodes_[t].right = right_l;
    Pull(t);
    *l = t;
    *r = right_r;
  } else {
    Index left_l, left_r;
    Split(nodes_[t].left, key, &left_l, &left_r);
    nodes_[t].left = left_r;
    Pull(t);
    *l = left_l;
    *r = t;
  }
}

GapTree::Index GapTree::Merge(Index l, Index r) {
  if (l == 0) return r;
  if (r == 0) return l;
  if (nodes_[l].priority >= nodes_[r].priority) {
    nodes_[l].right = Merge(nodes_[l].right, r);
    Pull(l);
    return l;
  }
  nodes_[r].left = Merge(l, nodes_[r].left);
  Pull(r);
  return r;
}

void GapTree::Insert(uint64_t start, uint64_t end) {
  assert(start < end);
  Index l, r;
  Split(root_, start, &l, &r);
  root_ = Merge(Merge(l, NewNode(start, end)), r);
  ++size_;
}

void GapTree::Erase(uint64_t start) {
  Index l, mid, r;
  Split(root_, start, &l, &r);
  Split(r, start + 1, &mid, &r);
  assert(mid != 0 && nodes_[mid].left == 0 && nodes_[mid].right == 0);
  if (mid != 0) {
    FreeNode(mid);
    --size_;
  }
  root_ = Merge(l, r);
}

bool GapTree::Floor(uint64_t addr, Gap* gap) const {
  Index best = 0;
  for (Index t = root_; t != 0;) {
    if (nodes_[t].start <= addr) {
      best = t;
      t = nodes_[t].right;
    } else {
      t = nodes_[t].left;
    }
  }
  if (best == 0) return false;
  *gap = Gap{nodes_[best].start, nodes_[best].end};
  return true;
}

bool GapTree::Ceil(uint64_t addr, Gap* gap) const {
  Index best = 0;
  for (Index t = root_; t != 0;) {
    if (nodes_[t].start >= addr) {
      best = t;
      t = nodes_[t].left;
    } else {
      t = nodes_[t].right;
    }
  }
  if (best == 0) return false;
  *gap = Gap{nodes_[best].start, nodes_[best].end};
  return true;
}

GapTree::Index GapTree::LastFittingIn(Index t, uint64_t before, uint64_t min_length) const {
  // Walks down the boundary `before`; a subtree wholly below it is entered
  // only when its max_len says it holds a fit, and then always finds one on
  // its first descent. So the walk is O(depth).
  while (t != 0 && nodes_[t].max_len >= min_length) {
    const Node& node = nodes_[t];
    if (node.start >= before) {
      t = node.left;
      continue;
    }
    if (Index found = LastFittingIn(node.right, before, min_length); found != 0) return found;
    if (node.end - node.start >= min_length) return t;
    t = node.left;  // every key here is below `before`
  }
  return 0;
}

bool GapTree::LastFitting(uint64_t before, uint64_t min_length, Gap* gap) const {
  const Index found = LastFittingIn(root_, before, min_length);
  if (found == 0) return false;
  *gap = Gap{nodes_[found].start, nodes_[found].end};
  return true;
}

Status GapTree::CheckNode(Index t, uint64_t lo, uint64_t hi, uint64_t* max_len, size_t* count) const {
  *max_len = 0;
  if (t == 0) return Status::OK();
  const Node& n = nodes_[t];
  if (n.start >= n.end || n.start < lo || n.end > hi) {
    return Status::Internal(fmt::format("gap [{:#x}, {:#x}) empty or out of order", n.start, n.end));
  }
  for (Index c : {n.left, n.right}) {
    if (c != 0 && nodes_[c].priority > n.priority) return Status::Internal("gap tree heap order broken");
  }
  uint64_t left_max = 0, right_max = 0;
  // Strict bounds: a child may not touch its parent (touching gaps merge).
  MEMSERVER_RETURN_IF_ERROR(CheckNode(n.left, lo, n.start == 0 ? 0 : n.start - 1, &left_max, count));
  MEMSERVER_RETURN_IF_ERROR(CheckNode(n.right, n.end + 1, hi, &right_max, count));
  *max_len = std::max({n.end - n.start, left_max, right_max});
  if (*max_len != n.max_len) {
    return Status::Internal(fmt::format("gap [{:#x}, {:#x}) has max_len {:#x}, its subtree {:#x}", n.start,
                                        n.end, n.max_len, *max_len));
  }
  ++*count;
  return Status::OK();
}

Status GapTree::CheckInvariants() const {
  uint64_t max_len = 0;
  size_t count = 0;
  MEMSERVER_RETURN_IF_ERROR(CheckNode(root_, 0, ~0ull, &max_len, &count));
  if (count != size_) return Status::Internal(fmt::format("gap tree holds {} gaps, counts {}", count, size_));
  return Status::OK();
}

}  // namespace memserver
