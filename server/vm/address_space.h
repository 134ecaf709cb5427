// AddressSpace: one process's virtual memory: its mappings (MappingSet),
// its page table (PageTable) and the POSIX-style calls over them.
//
// Layout: usable addresses are [mmap_min_addr, 2^address_bits). Mappings
// placed automatically go top-down from mmap_base() = top - kStackReserve,
// leaving room for a stack at the top, with a guard gap of one page between
// any two of them, as Linux's stack_guard_gap keeps mappings apart.
//
// Locking: mm_lock_ is this process's outermost lock (see the lock tree in
// server/vm/pager.h). Read and Write hold it shared for the whole call, so a
// munmap or exit (exclusive) waits for accesses in flight and an access
// never sees half a munmap. Every PTE holds one reference on its Page.
#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/common/status.h"
#include "server/engine/options.h"
#include "server/engine/types.h"
#include "server/vm/mapping_set.h"
#include "server/vm/page_table.h"
#include "server/vm/pager.h"

namespace memserver {

class AddressSpace {
 public:
  // Room kept free below the top of the address space for the stack.
  static constexpr uint64_t kStackReserve = 128ull << 20;

  // `pager` is borrowed and must outlive this object.
  AddressSpace(const EngineOptions& options, Pager* pager);
  ~AddressSpace();  // Teardown() if not done
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  Status Mmap(const MmapArgs& args, uint64_t* addr);
  Status Munmap(uint64_t addr, uint64_t length);
  Status Mprotect(uint64_t addr, uint64_t length, uint32_t prot);
  Status Read(uint64_t addr, uint64_t length, char* out);
  Status Write(uint64_t addr, std::string_view data);

  // Unmaps everything; later calls fail with NotFound. Idempotent.
  void Teardown();

  void FillStats(ProcessStats* stats);
  std::vector<MappingInfo> Mappings();
  // Adds every mapped page to `refs` (page -> PTE count). REQUIRES: quiescent.
  Status CollectPages(std::unordered_map<const Page*, uint32_t>* refs);

  uint64_t top() const { return top_; }
  uint64_t mmap_base() const { return top_ - kStackReserve; }

 private:
  // Validates [addr, addr+length) for munmap/mprotect: aligned, non-empty,
  // inside the address space. On success *end is the page-rounded end.
  Status CheckRange(uint64_t addr, uint64_t length, uint64_t* end) const;
  Status Access(uint64_t addr, uint64_t length, char* buf, bool write);
  // Drops every page in [start, end). REQUIRES: mm_lock_ exclusive.
  void ReleasePagesLocked(uint64_t start, uint64_t end, ReleaseBatch* batch);
  void CountPages(uint64_t start, uint64_t end, uint64_t* resident, uint64_t* swapped);

  const EngineOptions options_;
  Pager* const pager_;
  const unsigned page_shift_;
  const uint64_t page_mask_;  // page_size - 1
  const uint64_t top_;        // 2^address_bits

  mutable std::shared_mutex mm_lock_;
  MappingSet vmas_;   // GUARDED_BY(mm_lock_)
  PageTable pages_;   // entries: CAS under shared mm_lock_; nodes freed under exclusive
  bool dead_ = false; // GUARDED_BY(mm_lock_)
  FaultCounters faults_;
};

}  // namespace memserver
