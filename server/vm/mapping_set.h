// MappingSet: the mappings (VMAs) of one address space, like Linux's
// mm->mmap tree and gVisor's vmas set.
//
// Invariants (checked by CheckInvariants):
//   - every mapping is page-aligned, non-empty, and no two overlap;
//   - two adjacent mappings with the same attributes (Mergeable) are always
//     merged into one, as Linux's vma_merge does, so a split undone by a later
//     mprotect leaves one mapping again.
// Not thread-safe: the owning AddressSpace guards it with its mm lock.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "server/common/status.h"

namespace memserver {

struct Vma {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  uint32_t prot = 0;
  uint32_t flags = 0;  // kMap* bits describing the mapping (shared/private, anonymous)

  uint64_t length() const { return end - start; }
};

class MappingSet {
 public:
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

  // Highest address a with [a, a+len) free, a >= low, a+len <= high, and at
  // least `guard` bytes between the new range and any mapping. False if none.
  bool FindGapTopDown(uint64_t len, uint64_t low, uint64_t high, uint64_t guard, uint64_t* addr) const;

  size_t size() const { return vmas_.size(); }
  uint64_t total_bytes() const { return total_bytes_; }
  std::vector<Vma> All() const;
  // Mappings intersecting [start, end), clipped to it.
  std::vector<Vma> Intersecting(uint64_t start, uint64_t end) const;

  Status CheckInvariants() const;

 private:
  static bool Mergeable(const Vma& a, const Vma& b) {
    return a.end == b.start && a.prot == b.prot && a.flags == b.flags;
  }
  // Splits the mapping containing addr (if any) so that a mapping starts at addr.
  void SplitAt(uint64_t addr);
  // Merges the mapping starting at `start` with its neighbours where Mergeable.
  void MergeAround(uint64_t start);

  std::map<uint64_t, Vma> vmas_;  // keyed by start
  uint64_t total_bytes_ = 0;
};

}  // namespace memserver
