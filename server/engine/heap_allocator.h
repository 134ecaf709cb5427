// HeapAllocator: malloc/free/realloc/calloc for one process, run by the
// server on the process's own heap, like glibc's malloc over brk and mmap.
//
//   - Requests up to kMmapThreshold come from size classes (16-byte steps to
//     128, then four classes per power of two) carved from the brk heap;
//     freed blocks go to their class's free list and are handed out again.
//   - Larger requests get their own anonymous mapping (munmap on free,
//     mremap on realloc), as glibc's M_MMAP_THRESHOLD.
//   - The allocator's bookkeeping lives in the server, not in the process's
//     memory, so a client scribbling over its heap cannot corrupt it, and
//     every free is checked: a double free or a pointer malloc never
//     returned is INVALID_ARGUMENT naming the address; nothing changes.
//   - Blocks never overlap: a block is live in exactly one place (live_) or
//     free in exactly one free list (free_), never both.
//
// Thread-safety: one mutex per process allocator, taken before the address
// space's mm lock.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/common/status.h"
#include "server/vm/address_space.h"

namespace memserver {

class HeapAllocator {
 public:
  static constexpr uint64_t kMmapThreshold = 128ull << 10;
  static constexpr uint64_t kMaxAllocation = 1ull << 40;

  // `mm` is borrowed and must outlive the allocator.
  explicit HeapAllocator(AddressSpace* mm);

  Status Malloc(uint64_t size, uint64_t* addr);
  Status Calloc(uint64_t count, uint64_t size, uint64_t* addr);
  // realloc(0, n) is malloc(n); realloc(p, 0) frees p and gives 0.
  Status Realloc(uint64_t addr, uint64_t size, uint64_t* new_addr);
  // free(0) does nothing.
  Status Free(uint64_t addr);
  // Bytes usable at a live block (malloc_usable_size).
  Status UsableSize(uint64_t addr, uint64_t* size);

  struct Stats {
    uint64_t live_blocks = 0;
    uint64_t live_bytes = 0;    // requested sizes
    uint64_t free_blocks = 0;   // on free lists
    uint64_t arena_bytes = 0;   // carved from brk so far
    uint64_t mmapped_bytes = 0;
  };
  Stats GetStats();
  // Forgets every block (exec replaced the address space).
  void Reset();
  // Snapshots: the allocator's bookkeeping as bytes (the same bookkeeping
  // gives the same bytes), and back.
  std::string Export();
  // For a snapshot's instant: the allocator's lock (taken before the mm
  // lock), and Export under it.
  std::unique_lock<std::mutex> LockForCapture() { return std::unique_lock<std::mutex>(mu_); }
  std::string ExportLocked();
  bool Import(std::string_view record);

 private:
  struct Block {
    uint64_t size;      // requested
    int32_t size_class; // -1: its own mapping
    uint64_t mapped;    // mapping length for mmapped blocks
  };
  int ClassOf(uint64_t size) const;
  Status MallocLocked(uint64_t size, uint64_t* addr, bool* fresh);
  Status FreeLocked(uint64_t addr);
  Status ZeroLocked(uint64_t addr, uint64_t len);
  Status CopyLocked(uint64_t from, uint64_t to, uint64_t len);

  AddressSpace* const mm_;
  std::vector<uint64_t> class_sizes_;
  std::mutex mu_;
  std::unordered_map<uint64_t, Block> live_;             // GUARDED_BY(mu_)
  std::unordered_map<uint64_t, int32_t> free_;           // GUARDED_BY(mu_): addr -> class
  std::vector<std::vector<uint64_t>> free_lists_;        // GUARDED_BY(mu_)
  uint64_t arena_cur_ = 0, arena_end_ = 0;               // GUARDED_BY(mu_)
  uint64_t arena_bytes_ = 0, mmapped_bytes_ = 0;         // GUARDED_BY(mu_)
};

}  // namespace memserver
