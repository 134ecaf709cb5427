// MappingSet: the mappings (VMAs) of one address space, like Linux's
// mm->mmap tree and gVisor's vmas set, and the free ranges between them.
//
// The mappings are a std::map keyed by start; the free ranges ("gaps") are
// a GapTree (server/vm/gap_tree.h) kept in step with every change, so
// placing a new mapping (FindGapTopDown) is O(log n) in the number of
// mappings. Every other operation is O(log n + k) for the k mappings it
// touches; byte counts are kept, not recounted.
//
// Invariants (checked by CheckInvariants):
//   - every mapping is page-aligned, non-empty, and no two overlap;
//   - two adjacent mappings with the same attributes (Mergeable) are always
//     merged into one, as Linux's vma_merge does, so a split undone by a later
//     mprotect leaves one mapping again;
//   - the gaps are exactly the complement of the mappings in [0, top), each
//     maximal; total_bytes and data_bytes match a recount.
// Not thread-safe: the owning AddressSpace guards it with its mm lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "server/common/status.h"
#include "server/vm/gap_tree.h"

namespace memserver {

class MemoryObject;

// Per-mapping state bits beyond prot and the mmap flags (Linux's VM_*).
inline constexpr uint32_t kVmLocked = 1u << 0;      // mlock: pages resident and pinned
inline constexpr uint32_t kVmDontFork = 1u << 1;    // MADV_DONTFORK: not inherited
inline constexpr uint32_t kVmWipeOnFork = 1u << 2;  // MADV_WIPEONFORK: child sees zeros
inline constexpr uint32_t kVmSequential = 1u << 3;  // MADV_SEQUENTIAL
inline constexpr uint32_t kVmRandom = 1u << 4;      // MADV_RANDOM
inline constexpr uint32_t kVmGrowsDown = 1u << 5;   // the stack: grows down on fault
inline constexpr uint32_t kVmHeap = 1u << 6;        // the brk heap

struct Vma {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  uint32_t prot = 0;
  uint32_t flags = 0;  // kMapShared/kMapPrivate/kMapAnonymous
  uint32_t vm = 0;     // kVm* bits
  // What the mapping views: a shmem object or a file's page cache; null for
  // private anonymous memory. `pgoff` is the object page index at `start`.
  std::shared_ptr<MemoryObject> object;
  uint64_t pgoff = 0;

  uint64_t length() const { return end - start; }
  bool is_shared() const;  // MAP_SHARED
};

class MappingSet {
 public:
  // Addresses are [0, top); top is a multiple of the page size.
  MappingSet(unsigned page_shift, uint64_t top);

  // The mapping containing addr, or nullptr.
  const Vma* Find(uint64_t addr) const;

  // OK when every byte of [addr, addr+len) is mapped with a protection that
  // allows the access (`write` needs PROT_WRITE; a read needs any of
  // PROT_READ/WRITE/EXEC, as on x86-64). Otherwise the fault at the first
  // byte that cannot be accessed: kMapError (unmapped) or kAccessError.
  // REQUIRES: len > 0 and addr + len does not overflow.
  Status CheckAccess(uint64_t addr, uint64_t len, bool write) const;

  // True when any mapping intersects [start, end).
  bool Overlaps(uint64_t start, uint64_t end) const;
  // True when [start, end) is entirely covered by mappings.
  bool Covers(uint64_t start, uint64_t end) const;

  // Adds a mapping. REQUIRES: no overlap. Merges with equal neighbours.
  void Insert(const Vma& vma);
  // Removes [start, end) from every mapping it intersects, splitting them.
  // Calls removed(piece) for every piece removed.
  void Remove(uint64_t start, uint64_t end);
  // Sets prot on [start, end). REQUIRES: Covers(start, end).
  void Protect(uint64_t start, uint64_t end, uint32_t prot);
  // Applies fn to every mapping piece of [start, end) (splitting at the
  // edges), then merges what became equal. REQUIRES: Covers(start, end).
  void Update(uint64_t start, uint64_t end, const std::function<void(Vma&)>& fn);
  // Moves the end of the mapping that starts at `start` (grow or shrink in
  // place). REQUIRES: the mapping exists and a grown range is free.
  void SetEnd(uint64_t start, uint64_t new_end);
  // Moves the start of the mapping starting at `old_start` down (stack growth).
  // REQUIRES: [new_start, old_start) is free.
  void SetStart(uint64_t old_start, uint64_t new_start);

  // How many mappings there would be after Update(start, end, fn) (splits
  // at the edges, then merges), or after Remove(start, end). Nothing
  // changes. O(log n + k). REQUIRES for CountAfterUpdate: Covers(start, end).
  size_t CountAfterUpdate(uint64_t start, uint64_t end, const std::function<void(Vma&)>& fn) const;
  size_t CountAfterRemove(uint64_t start, uint64_t end) const;
  // How many mappings there would be after Insert(vma): one more, less the
  // neighbours it merges with. REQUIRES: vma's range is free.
  size_t CountAfterInsert(const Vma& vma) const;
  // The first mapping starting at or after addr, or nullptr.
  const Vma* NextFrom(uint64_t addr) const;
  // The last mapping ending at or before addr, or nullptr.
  const Vma* PrevBefore(uint64_t addr) const;

  // Highest address a with [a, a+len) free, a >= low, a+len <= high, and at
  // least `guard` bytes between the new range and any mapping (a mapping
  // starting exactly at `high` or ending exactly at `low` needs no guard).
  // False if none. O(log n).
  bool FindGapTopDown(uint64_t len, uint64_t low, uint64_t high, uint64_t guard, uint64_t* addr) const;

  size_t size() const { return vmas_.size(); }
  uint64_t total_bytes() const { return total_bytes_; }
  // Bytes of private writable mappings that are not the stack (Linux's
  // data_vm, what RLIMIT_DATA limits).
  uint64_t data_bytes() const { return data_bytes_; }
  std::vector<Vma> All() const;
  // Mappings intersecting [start, end), clipped to it (pgoff names the
  // clipped piece's first page).
  std::vector<Vma> Intersecting(uint64_t start, uint64_t end) const;

  Status CheckInvariants() const;

 private:
  bool Mergeable(const Vma& a, const Vma& b) const {
    return a.end == b.start && a.prot == b.prot && a.flags == b.flags && a.vm == b.vm &&
           a.object == b.object &&
           (!a.object || a.pgoff + ((a.end - a.start) >> page_shift_) == b.pgoff);
  }
  // Splits the mapping containing addr (if any) so that a mapping starts at addr.
  void SplitAt(uint64_t addr);
  // Merges the mapping starting at `start` with its neighbours where Mergeable.
  void MergeAround(uint64_t start);
  // Byte counters for a mapping entering (+1) or leaving (-1) the set.
  void Account(const Vma& v, int sign);
  static bool IsData(const Vma& v);
  // [start, end) stops being free: the gap holding it shrinks or splits.
  // REQUIRES: the range is inside one gap.
  void Occupy(uint64_t start, uint64_t end);
  // [start, end) becomes free: a gap, merged with the gaps it touches.
  // REQUIRES: the range holds no mapping and is not in a gap yet.
  void Free(uint64_t start, uint64_t end);

  const unsigned page_shift_;
  const uint64_t top_;
  std::map<uint64_t, Vma> vmas_;  // keyed by start
  GapTree gaps_;                  // the complement of vmas_ in [0, top_)
  uint64_t total_bytes_ = 0;
  uint64_t data_bytes_ = 0;
};

}  // namespace memserver
