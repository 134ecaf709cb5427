#include "server/vm/page_table.h"

#include <algorithm>
#include <cassert>

#include "server/vm/page_slab.h"

namespace memserver {

PageTable::PageTable(unsigned vpn_bits, const PageSlab* slab)
    : levels_(std::max(1u, (vpn_bits + kBits - 1) / kBits)), slab_(slab) {
  assert(levels_ <= 7 && "the height must fit the root pointer's 3 low bits");
}

PageTable::~PageTable() {
  ClearRange(0, ~0ull, [](uint64_t, Page*) { assert(false && "page table destroyed with pages"); });
  const uintptr_t root = root_.load(std::memory_order_relaxed);
  if (root != 0) DeleteNode(NodeOf(root), HeightOf(root) == 1);
}

void* PageTable::NewNode(bool leaf) {
  if (leaf) {
    leaves_.fetch_add(1, std::memory_order_relaxed);
    return new LeafNode;
  }
  nodes_.fetch_add(1, std::memory_order_relaxed);
  return new Node;
}

void PageTable::DeleteNode(void* node, bool leaf) {
  if (leaf) {
    leaves_.fetch_sub(1, std::memory_order_relaxed);
    delete static_cast<LeafNode*>(node);
  } else {
    nodes_.fetch_sub(1, std::memory_order_relaxed);
    delete static_cast<Node*>(node);
  }
}

uint32_t PageTable::HandleOf(Page* page) const { return slab_->HandleOf(page); }
Page* PageTable::PageAt(uint32_t handle) const { return static_cast<Page*>(slab_->At(handle)); }

unsigned PageTable::HeightFor(uint64_t vpn) const {
  unsigned h = 1;
  while (!Covers(h, vpn)) ++h;
  return h;
}

const PageTable::LeafNode* PageTable::FindLeaf(uint64_t vpn, unsigned* height) const {
  const uintptr_t root = root_.load(std::memory_order_acquire);
  if (root == 0) return nullptr;
  const unsigned h = HeightOf(root);
  if (!Covers(h, vpn)) return nullptr;
  const void* node = NodeOf(root);
  for (unsigned level = 0; level + 1 < h; ++level) {
    uintptr_t child = static_cast<const Node*>(node)->slots[Index(vpn, level, h)].load(std::memory_order_acquire);
    if (child == 0) return nullptr;
    node = reinterpret_cast<const void*>(child);
  }
  *height = h;
  return static_cast<const LeafNode*>(node);
}

PageTable::LeafNode* PageTable::Leaf(uint64_t vpn, bool create) {
  uintptr_t root = root_.load(std::memory_order_acquire);
  // The root first: made tall enough for vpn, or grown a level at a time.
  while (root == 0 || !Covers(HeightOf(root), vpn)) {
    if (!create) return nullptr;
    uintptr_t fresh;
    bool fresh_leaf = false;
    if (root == 0) {
      const unsigned h = HeightFor(vpn);
      fresh_leaf = h == 1;
      fresh = reinterpret_cast<uintptr_t>(NewNode(fresh_leaf)) | h;
    } else {
      Node* top = static_cast<Node*>(NewNode(false));
      top->slots[0].store(reinterpret_cast<uintptr_t>(NodeOf(root)), std::memory_order_relaxed);
      top->used.store(1, std::memory_order_relaxed);
      fresh = reinterpret_cast<uintptr_t>(top) | (HeightOf(root) + 1);
    }
    if (root_.compare_exchange_strong(root, fresh, std::memory_order_acq_rel)) {
      root = fresh;
    } else {
      DeleteNode(NodeOf(fresh), fresh_leaf);  // lost the race; `root` is now the winner's
    }
  }
  const unsigned h = HeightOf(root);
  void* node = NodeOf(root);
  for (unsigned level = 0; level + 1 < h; ++level) {
    Node* interior = static_cast<Node*>(node);
    std::atomic<uintptr_t>& slot = interior->slots[Index(vpn, level, h)];
    uintptr_t child = slot.load(std::memory_order_acquire);
    if (child == 0) {
      if (!create) return nullptr;
      void* fresh = NewNode(level + 2 == h);
      uintptr_t expected = 0;
      if (slot.compare_exchange_strong(expected, reinterpret_cast<uintptr_t>(fresh), std::memory_order_acq_rel)) {
        interior->used.fetch_add(1, std::memory_order_relaxed);
        child = reinterpret_cast<uintptr_t>(fresh);
      } else {
        DeleteNode(fresh, level + 2 == h);  // another thread installed it first
        child = expected;
      }
    }
    node = reinterpret_cast<void*>(child);
  }
  return static_cast<LeafNode*>(node);
}

Page* PageTable::Lookup(uint64_t vpn) const {
  unsigned h = 0;
  const LeafNode* leaf = FindLeaf(vpn, &h);
  if (!leaf) return nullptr;
  const uint32_t handle = leaf->slots[Index(vpn, h - 1, h)].load(std::memory_order_acquire);
  return handle == 0 ? nullptr : PageAt(handle);
}

Page* PageTable::Install(uint64_t vpn, Page* page) {
  LeafNode* leaf = Leaf(vpn, true);
  uint32_t expected = 0;
  if (leaf->slots[vpn & (kFanout - 1)].compare_exchange_strong(expected, HandleOf(page),
                                                               std::memory_order_acq_rel)) {
    leaf->used.fetch_add(1, std::memory_order_relaxed);
    entries_.fetch_add(1, std::memory_order_relaxed);
    return page;
  }
  return PageAt(expected);
}

bool PageTable::Replace(uint64_t vpn, Page* expected, Page* desired) {
  LeafNode* leaf = Leaf(vpn, false);
  if (!leaf) return false;
  uint32_t e = HandleOf(expected);
  return leaf->slots[vpn & (kFanout - 1)].compare_exchange_strong(e, HandleOf(desired), std::memory_order_acq_rel);
}

void PageTable::ForEach(uint64_t begin, uint64_t end, const std::function<void(uint64_t, Page*)>& fn) const {
  const uintptr_t root = root_.load(std::memory_order_acquire);
  if (begin < end && root != 0) ForEachNode(NodeOf(root), 0, HeightOf(root), 0, begin, end, fn);
}

void PageTable::ForEachNode(const void* node, unsigned level, unsigned height, uint64_t base, uint64_t begin,
                            uint64_t end, const std::function<void(uint64_t, Page*)>& fn) const {
  const uint64_t span = SpanOf(level, height);
  unsigned first = begin > base ? static_cast<unsigned>(std::min<uint64_t>((begin - base) / span, kFanout)) : 0;
  if (level + 1 == height) {
    const LeafNode* leaf = static_cast<const LeafNode*>(node);
    for (unsigned i = first; i < kFanout; ++i) {
      const uint64_t vpn = base + i;
      if (vpn >= end) break;
      const uint32_t h = leaf->slots[i].load(std::memory_order_acquire);
      if (h != 0) fn(vpn, PageAt(h));
    }
    return;
  }
  const Node* interior = static_cast<const Node*>(node);
  for (unsigned i = first; i < kFanout; ++i) {
    uint64_t child_base = base + i * span;
    if (child_base >= end) break;
    uintptr_t v = interior->slots[i].load(std::memory_order_acquire);
    if (v != 0) ForEachNode(reinterpret_cast<const void*>(v), level + 1, height, child_base, begin, end, fn);
  }
}

void PageTable::ClearRange(uint64_t begin, uint64_t end, const std::function<void(uint64_t, Page*)>& fn) {
  const uintptr_t root = root_.load(std::memory_order_acquire);
  if (begin >= end || root == 0) return;
  if (ClearNode(NodeOf(root), 0, HeightOf(root), 0, begin, end, fn)) {
    // Empty: the table goes back to no node at all (exclusive lock held).
    root_.store(0, std::memory_order_release);
    DeleteNode(NodeOf(root), HeightOf(root) == 1);
  }
}

bool PageTable::ClearNode(void* node, unsigned level, unsigned height, uint64_t base, uint64_t begin, uint64_t end,
                          const std::function<void(uint64_t, Page*)>& fn) {
  const uint64_t span = SpanOf(level, height);
  unsigned first = begin > base ? static_cast<unsigned>(std::min<uint64_t>((begin - base) / span, kFanout)) : 0;
  if (level + 1 == height) {
    LeafNode* leaf = static_cast<LeafNode*>(node);
    for (unsigned i = first; i < kFanout && leaf->used.load(std::memory_order_relaxed) > 0; ++i) {
      const uint64_t vpn = base + i;
      if (vpn >= end) break;
      const uint32_t h = leaf->slots[i].load(std::memory_order_acquire);
      if (h == 0) continue;
      leaf->slots[i].store(0, std::memory_order_release);
      leaf->used.fetch_sub(1, std::memory_order_relaxed);
      entries_.fetch_sub(1, std::memory_order_relaxed);
      fn(vpn, PageAt(h));
    }
    return leaf->used.load(std::memory_order_relaxed) == 0;
  }
  Node* interior = static_cast<Node*>(node);
  for (unsigned i = first; i < kFanout && interior->used.load(std::memory_order_relaxed) > 0; ++i) {
    uint64_t child_base = base + i * span;
    if (child_base >= end) break;
    uintptr_t v = interior->slots[i].load(std::memory_order_acquire);
    if (v == 0) continue;
    void* child = reinterpret_cast<void*>(v);
    if (ClearNode(child, level + 1, height, child_base, begin, end, fn)) {
      interior->slots[i].store(0, std::memory_order_release);
      interior->used.fetch_sub(1, std::memory_order_relaxed);
      DeleteNode(child, level + 2 == height);
    }
  }
  return interior->used.load(std::memory_order_relaxed) == 0;
}

}  // namespace memserver
