#include "server/vm/page_table.h"

#include <algorithm>
#include <cassert>

namespace memserver {

PageTable::PageTable(unsigned vpn_bits)
    : levels_(std::max(1u, (vpn_bits + kBits - 1) / kBits)), root_(new Node) {}

PageTable::~PageTable() {
  ClearRange(0, ~0ull, [](uint64_t, Page*) { assert(false && "page table destroyed with pages"); });
  delete root_;
}

const PageTable::Node* PageTable::FindLeaf(uint64_t vpn) const {
  const Node* node = root_;
  for (unsigned level = 0; level + 1 < levels_; ++level) {
    uintptr_t child = node->slots[Index(vpn, level)].load(std::memory_order_acquire);
    if (child == 0) return nullptr;
    node = reinterpret_cast<const Node*>(child);
  }
  return node;
}

PageTable::Node* PageTable::Leaf(uint64_t vpn, bool create) {
  Node* node = root_;
  for (unsigned level = 0; level + 1 < levels_; ++level) {
    std::atomic<uintptr_t>& slot = node->slots[Index(vpn, level)];
    uintptr_t child = slot.load(std::memory_order_acquire);
    if (child == 0) {
      if (!create) return nullptr;
      Node* fresh = new Node;
      uintptr_t expected = 0;
      if (slot.compare_exchange_strong(expected, reinterpret_cast<uintptr_t>(fresh),
                                       std::memory_order_acq_rel)) {
        node->used.fetch_add(1, std::memory_order_relaxed);
        nodes_.fetch_add(1, std::memory_order_relaxed);
        child = reinterpret_cast<uintptr_t>(fresh);
      } else {
        delete fresh;  // another thread installed it first
        child = expected;
      }
    }
    node = reinterpret_cast<Node*>(child);
  }
  return node;
}

Page* PageTable::Lookup(uint64_t vpn) const {
  const Node* leaf = FindLeaf(vpn);
  if (!leaf) return nullptr;
  return reinterpret_cast<Page*>(leaf->slots[Index(vpn, levels_ - 1)].load(std::memory_order_acquire));
}

Page* PageTable::Install(uint64_t vpn, Page* page) {
  Node* leaf = Leaf(vpn, true);
  uintptr_t expected = 0;
  if (leaf->slots[Index(vpn, levels_ - 1)].compare_exchange_strong(
          expected, reinterpret_cast<uintptr_t>(page), std::memory_order_acq_rel)) {
    leaf->used.fetch_add(1, std::memory_order_relaxed);
    entries_.fetch_add(1, std::memory_order_relaxed);
    return page;
  }
  return reinterpret_cast<Page*>(expected);
}

bool PageTable::Replace(uint64_t vpn, Page* expected, Page* desired) {
  Node* leaf = Leaf(vpn, false);
  if (!leaf) return false;
  uintptr_t e = reinterpret_cast<uintptr_t>(expected);
  return leaf->slots[Index(vpn, levels_ - 1)].compare_exchange_strong(
      e, reinterpret_cast<uintptr_t>(desired), std::memory_order_acq_rel);
}

void PageTable::ForEach(uint64_t begin, uint64_t end,
                        const std::function<void(uint64_t, Page*)>& fn) const {
  if (begin < end) ForEachNode(root_, 0, 0, begin, end, fn);
}

void PageTable::ForEachNode(const Node* node, unsigned level, uint64_t base, uint64_t begin,
                            uint64_t end, const std::function<void(uint64_t, Page*)>& fn) const {
  const uint64_t span = SpanOf(level);
  const bool leaf = level + 1 == levels_;
  unsigned first = begin > base ? static_cast<unsigned>(std::min<uint64_t>((begin - base) / span, kFanout)) : 0;
  for (unsigned i = first; i < kFanout; ++i) {
    uint64_t child_base = base + i * span;
    if (child_base >= end) break;
    uintptr_t v = node->slots[i].load(std::memory_order_acquire);
    if (v == 0) continue;
    if (leaf) {
      fn(child_base, reinterpret_cast<Page*>(v));
    } else {
      ForEachNode(reinterpret_cast<const Node*>(v), level + 1, child_base, begin, end, fn);
    }
  }
}

void PageTable::ClearRange(uint64_t begin, uint64_t end,
                           const std::function<void(uint64_t, Page*)>& fn) {
  if (begin < end) ClearNode(root_, 0, 0, begin, end, fn);
}

// Returns true when `node` is empty afterwards (the caller frees it).
bool PageTable::ClearNode(Node* node, unsigned level, uint64_t base, uint64_t begin, uint64_t end,
                          const std::function<void(uint64_t, Page*)>& fn) {
  const uint64_t span = SpanOf(level);
  const bool leaf = level + 1 == levels_;
  unsigned first = begin > base ? static_cast<unsigned>(std::min<uint64_t>((begin - base) / span, kFanout)) : 0;
  for (unsigned i = first; i < kFanout && node->used.load(std::memory_order_relaxed) > 0; ++i) {
    uint64_t child_base = base + i * span;
    if (child_base >= end) break;
    uintptr_t v = node->slots[i].load(std::memory_order_acquire);
    if (v == 0) continue;
    if (leaf) {
      node->slots[i].store(0, std::memory_order_release);
      node->used.fetch_sub(1, std::memory_order_relaxed);
      entries_.fetch_sub(1, std::memory_order_relaxed);
      fn(child_base, reinterpret_cast<Page*>(v));
    } else {
      Node* child = reinterpret_cast<Node*>(v);
      if (ClearNode(child, level + 1, child_base, begin, end, fn)) {
        node->slots[i].store(0, std::memory_order_release);
        node->used.fetch_sub(1, std::memory_order_relaxed);
        nodes_.fetch_sub(1, std::memory_order_relaxed);
        delete child;
      }
    }
  }
  return node != root_ && node->used.load(std::memory_order_relaxed) == 0;
}

}  // namespace memserver
