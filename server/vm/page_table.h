// PageTable: a sparse radix tree from virtual page number to Page*, like
// x86-64's 4-level page tables: 512 entries per node, at most as many levels
// as the virtual page number needs (4 for 48-bit addresses and 4 KiB pages).
// Its memory grows with the pages touched, not with the address range: an
// empty table has no node at all, and the tree is only as tall as its
// highest entry needs (like Linux's xarray), so a one-page file's cache is
// a single 2 KiB leaf instead of three 4 KiB interior nodes above it.
//
// A leaf entry (the PTE) is 4 bytes: the page's PageSlab handle, 0 when
// empty; interior entries are node pointers. So a mapped page costs 4 bytes
// of leaf plus 1/512 of the levels above (~0.01 byte).
//
// Concurrency (the owner, AddressSpace, holds its mm lock):
//   - Lookup and Install may run concurrently under the shared mm lock:
//     interior nodes and entries are installed with compare-and-swap.
//   - Entries may be replaced with Exchange/CompareExchange under the shared
//     lock (copy-on-write).
//   - ClearRange and ForEach that removes nodes require the exclusive mm lock:
//     nodes are freed only there (the root too, once empty).
//   - The root grows a level (a new root whose slot 0 is the old one) by
//     compare-and-swap under the shared lock: a reader holding the old root
//     still sees every entry it covers.
// The table does not own the Pages' references: the AddressSpace does.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>

namespace memserver {

struct Page;
class PageSlab;

class PageTable {
 public:
  // vpn_bits: width of a virtual page number (address bits - page shift).
  // `slab`: where every Page installed comes from (borrowed; outlives the
  // table).
  PageTable(unsigned vpn_bits, const PageSlab* slab);
  // REQUIRES: every entry cleared (ClearRange over everything).
  ~PageTable();
  PageTable(const PageTable&) = delete;
  PageTable& operator=(const PageTable&) = delete;

  // The page mapped at vpn, or nullptr.
  Page* Lookup(uint64_t vpn) const;

  // Installs `page` at vpn if the entry is empty. Returns the page now in the
  // entry: `page` on success, the existing one otherwise (caller keeps
  // ownership of `page` then).
  Page* Install(uint64_t vpn, Page* page);

  // Replaces the entry at vpn iff it still holds `expected`. REQUIRES: entry
  // exists (expected != nullptr).
  bool Replace(uint64_t vpn, Page* expected, Page* desired);

  // Calls fn(vpn, page) for every non-empty entry in [begin, end), in order.
  void ForEach(uint64_t begin, uint64_t end, const std::function<void(uint64_t, Page*)>& fn) const;

  // Empties every entry in [begin, end), calling fn(vpn, page) for each page
  // removed, and frees nodes left empty. REQUIRES: exclusive mm lock.
  void ClearRange(uint64_t begin, uint64_t end, const std::function<void(uint64_t, Page*)>& fn);

  uint64_t entries() const { return entries_.load(std::memory_order_relaxed); }
  // Bytes of node memory (metadata cost of the table).
  uint64_t node_bytes() const {
    return nodes_.load(std::memory_order_relaxed) * sizeof(Node) +
           leaves_.load(std::memory_order_relaxed) * sizeof(LeafNode);
  }

 private:
  static constexpr unsigned kBits = 9;
  static constexpr unsigned kFanout = 1u << kBits;
  // Interior node: slots hold child pointers (Node* or, at the last
  // interior level, LeafNode*). Nodes are 8-aligned: the root pointer keeps
  // the tree's height in its low 3 bits.
  struct alignas(8) Node {
    std::atomic<uint32_t> used{0};  // non-empty slots
    std::atomic<uintptr_t> slots[kFanout] = {};
  };
  // Leaf: slots hold PageSlab handles (0: empty).
  struct alignas(8) LeafNode {
    std::atomic<uint32_t> used{0};
    std::atomic<uint32_t> slots[kFanout] = {};
  };
  uint32_t HandleOf(Page* page) const;
  Page* PageAt(uint32_t handle) const;

  // A tree of `height` levels: level 0 is the root, level height-1 the
  // leaves; it covers vpns below 2^(kBits * height).
  static unsigned Index(uint64_t vpn, unsigned level, unsigned height) {
    return (vpn >> (kBits * (height - 1 - level))) & (kFanout - 1);
  }
  static uint64_t SpanOf(unsigned level, unsigned height) { return 1ull << (kBits * (height - 1 - level)); }
  bool Covers(unsigned height, uint64_t vpn) const {
    return height >= levels_ || (vpn >> (kBits * height)) == 0;
  }
  // The fewest levels that cover vpn.
  unsigned HeightFor(uint64_t vpn) const;
  static void* NodeOf(uintptr_t root) { return reinterpret_cast<void*>(root & ~uintptr_t{7}); }
  static unsigned HeightOf(uintptr_t root) { return static_cast<unsigned>(root & 7); }
  // Leaf node holding vpn, creating the path (and growing the root) when
  // `create`.
  LeafNode* Leaf(uint64_t vpn, bool create);
  const LeafNode* FindLeaf(uint64_t vpn, unsigned* height) const;
  // The node at `level` is a LeafNode when level + 1 == height (then `node`
  // points at one), else a Node. Returns true when the node is empty
  // afterwards (the caller frees it).
  bool ClearNode(void* node, unsigned level, unsigned height, uint64_t base, uint64_t begin, uint64_t end,
                 const std::function<void(uint64_t, Page*)>& fn);
  void ForEachNode(const void* node, unsigned level, unsigned height, uint64_t base, uint64_t begin,
                   uint64_t end, const std::function<void(uint64_t, Page*)>& fn) const;
  void* NewNode(bool leaf);
  void DeleteNode(void* node, bool leaf);

  const unsigned levels_;  // the most levels: what the widest vpn needs
  const PageSlab* const slab_;
  std::atomic<uint64_t> nodes_{0}, leaves_{0};
  std::atomic<uintptr_t> root_{0};  // node | height; 0: empty (no node)
  std::atomic<uint64_t> entries_{0};
};

}  // namespace memserver
