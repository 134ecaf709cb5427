// AddressSpace: one process's virtual memory: its mappings (MappingSet),
// its page table of private pages (PageTable) and the POSIX calls over them.
//
// What backs an address (the resolved page of a vpn):
//   - private anonymous mapping: the page in the page table, or zeros;
//   - private file mapping: the page table's private copy if the process
//     wrote the page (copy-on-write), else the file's page-cache page;
//   - shared mapping (shmem or file): the object's page, never a PTE.
// Private pages are shared after fork (refs > 1) and copied on first write.
//
// Layout: usable addresses are [mmap_min_addr, 2^address_bits). Mappings
// placed automatically go top-down from mmap_base() = top - kStackReserve,
// with a guard gap of one page from any neighbour; the stack sits at the top
// and grows down on fault, up to RLIMIT_STACK, keeping kStackGuardGap from
// the mapping below; the heap (brk) starts after exec's highest segment.
//
// Bounds: every call's work is bounded by what exists (mappings, pages) or
// by the frame pool, never by a length alone: MAP_POPULATE and
// MADV_WILLNEED touch at most one frame pool's worth of pages, in steps that
// drop the mm lock and consult the call's CallControl (deadline,
// cancellation) in between; a call that would leave more than max_mappings
// mappings (a split by munmap, mprotect, mremap, madvise or mlock) is
// ENOMEM, as Linux's vm.max_map_count.
//
// Locking: mm_lock_ is this process's outermost lock (lock tree in
// server/vm/pager.h; MemoryObject::mu() ranks between it and the page
// stripes). Read and Write hold it shared; everything that changes mappings
// or replaces a PTE's page (copy-on-write, stack growth) holds it
// exclusive, so an access never sees half a change. Every PTE holds one
// reference on its Page; private pages are only ever replaced under the
// exclusive lock, so a page found under the shared lock stays alive.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/common/call_control.h"
#include "server/common/status.h"
#include "server/engine/options.h"
#include "server/engine/types.h"
#include "server/vm/mapping_set.h"
#include "server/vm/memory_object.h"
#include "server/vm/page_table.h"
#include "server/vm/pager.h"
#include "server/vm/snapshot_format.h"

namespace memserver {

class TenantAccount;

// One PT_LOAD segment of an executable, already validated (elf_image.h).
struct LoadSegment {
  uint64_t vaddr = 0;   // virtual address of the first byte (load bias applied)
  uint64_t offset = 0;  // file offset of that byte
  uint64_t filesz = 0;
  uint64_t memsz = 0;
  uint32_t prot = 0;
};

class AddressSpace {
 public:
  // Room kept free below the top of the address space for the stack.
  static constexpr uint64_t kStackReserve = 128ull << 20;
  // Gap kept between a growing stack and the mapping below it (Linux's
  // stack_guard_gap is 256 pages).
  static constexpr uint64_t kStackGuardGap = 1ull << 20;
  // Size of the stack mapping exec creates; it grows from there.
  static constexpr uint64_t kInitialStack = 128ull << 10;
  // Largest end of a file mapping's byte range: Linux's MAX_LFS_FILESIZE,
  // which mmap checks offset + length against (EOVERFLOW). Pages past the
  // file's end are a bus error whatever the offset.
  static constexpr uint64_t kMaxFileOffset = (1ull << 63) - 1;

  // `pager` is borrowed and must outlive this object.
  AddressSpace(const EngineOptions& options, Pager* pager);
  ~AddressSpace();  // Teardown() if not done
  AddressSpace(const AddressSpace&) = delete;
  AddressSpace& operator=(const AddressSpace&) = delete;

  // What msync(MS_SYNC) makes durable, one mapping piece and at most
  // kSyncPieceEntries pages at a time: the engine's committer adds its
  // journal record to the batch, which msync then writes synchronously.
  static constexpr size_t kSyncPieceEntries = 1024;
  struct SyncedPiece {
    uint64_t start = 0, end = 0;
    VmaRecord vma;                        // clipped to [start, end)
    std::vector<PageRef> pages;           // private pages, by vpn
    const MemoryObject* object = nullptr; // shared anonymous memory, else null
    uint64_t object_first = 0, object_end = 0;
    std::vector<PageRef> object_pages;    // its pages in [first, end)
  };
  // Adds the piece's record to batch->wb (its value kept in batch->values).
  using SyncCommitter = std::function<Status(const SyncedPiece&, Pager::SyncBatch*)>;
  // The owner's account: locked bytes are charged to it (its max_locked
  // quota, besides the server-wide mlock cap), and so are the frames and
  // swap copies its faults make (its memory slot); null: none. Borrowed
  // (the engine's ledger outlives every process). Set before the first
  // access, once.
  void SetAccount(TenantAccount* account);
  // The memory slot its faults charge (FaultCounters::charge_slot).
  uint16_t charge_slot() const { return faults_.charge_slot; }

  // `file` is the object to map when args.flags lacks kMapAnonymous.
  // MAP_POPULATE is best effort, as Linux: it stops at the frame pool's
  // size, at an error, or when `control` says stop; the mapping stands.
  Status Mmap(const MmapArgs& args, std::shared_ptr<MemoryObject> file, uint64_t* addr,
              const CallControl& control = CallControl::None());
  Status Munmap(uint64_t addr, uint64_t length);
  Status Mprotect(uint64_t addr, uint64_t length, uint32_t prot);
  Status Mremap(uint64_t old_addr, uint64_t old_size, uint64_t new_size, uint32_t flags,
                uint64_t new_addr, uint64_t* result);
  // brk(2) as glibc's brk(): sets the break to `addr`; ENOMEM when it cannot.
  // addr 0 only reports the current break in *result.
  Status Brk(uint64_t addr, uint64_t* result);
  // sbrk(3): moves the break by `increment`, *previous = the old break.
  Status Sbrk(int64_t increment, uint64_t* previous);

  Status Read(uint64_t addr, uint64_t length, char* out);
  Status Write(uint64_t addr, std::string_view data);

  Status Mlock(uint64_t addr, uint64_t length);
  Status Munlock(uint64_t addr, uint64_t length);
  Status Mlockall(uint32_t flags);
  Status Munlockall();
  // MADV_WILLNEED queues at most one frame pool's worth of pages for
  // read-ahead, collected in steps under the shared lock; it stops early
  // (still OK: it is advice) when `control` says stop.
  Status Madvise(uint64_t addr, uint64_t length, int advice, const CallControl& control = CallControl::None());
  // With MS_SYNC and a committer, anonymous and private memory of the range
  // becomes durable too (see SyncedPiece); without one, only shared file
  // mappings are written back.
  Status Msync(uint64_t addr, uint64_t length, uint32_t flags, const SyncCommitter& committer = nullptr);

  // Makes `child` (a fresh, empty address space) a copy-on-write copy of
  // this one, as fork(2): no page content is copied. Cost is proportional
  // to the page table, not the data.
  Status ForkInto(AddressSpace* child);

  // execve's memory half: replaces everything with the segments of an
  // executable mapped from `file`, a heap after them and a stack at the top.
  Status Exec(const std::vector<LoadSegment>& segments, uint64_t entry,
              std::shared_ptr<MemoryObject> file, ExecImage* image);

  // --- address_space_snapshot.cc: snapshots, restore, msync records ---
  // The exclusive mm lock for a snapshot's instant: the snapshotter holds
  // every process's at once (in pid order, each after its heap's lock).
  std::unique_lock<std::shared_mutex> LockForCapture() { return std::unique_lock<std::shared_mutex>(mm_lock_); }
  // REQUIRES: LockForCapture held, and the pager between BeginCapture and
  // EndCapture. False for a torn-down address space. Fills `record`, every
  // private page (frozen by the pager, sorted by vpn) in `pages`, and hands
  // every shared anonymous object mapped to `shmem` (maybe more than once).
  bool CaptureLocked(AddressSpaceRecord* record, std::vector<PageRef>* pages,
                     const std::function<void(const std::shared_ptr<MemoryObject>&)>& shmem,
                     std::vector<std::pair<Page*, uint64_t>>* held);
  // REQUIRES: LockForCapture held. Calls fn for every shared anonymous
  // object mapped (maybe more than once).
  void ForEachShmemLocked(const std::function<void(const std::shared_ptr<MemoryObject>&)>& fn) const;
  // Anything a snapshot records changed since the last capture. Set by
  // every call that changes mappings, pages or bookkeeping (MarkChanged).
  bool changed() const { return changed_.load(std::memory_order_relaxed); }
  void MarkChanged() {
    if (!changed_.load(std::memory_order_relaxed)) changed_.store(true, std::memory_order_relaxed);
  }
  // A change of mappings or of which page a vpn names (not of a page's
  // content): also tells msync that the durable state no longer describes
  // the layout, so a piece with no page to write still gets its record.
  void MarkLayoutChanged() {
    layout_epoch_.fetch_add(1, std::memory_order_relaxed);
    MarkChanged();
  }
  // Restore into a fresh address space. `page(ref)` gives the page for a
  // PTE with a reference for it; `object(vma)` the object a mapping names,
  // or null: such a mapping (a file deleted while mapped) is dropped, with
  // its pages, and described in *dropped.
  using PageSource = std::function<Page*(const PageRef&)>;
  using ObjectSource = std::function<std::shared_ptr<MemoryObject>(const VmaRecord&)>;
  Status Import(const AddressSpaceRecord& record, const std::vector<PageRef>& pages, const PageSource& page,
                const ObjectSource& object, std::vector<std::string>* dropped);
  // Journal replay: [start, end) becomes `vmas` (clipped to it) over the
  // private `pages`, as when the msync that wrote the record returned.
  Status ReplaceRange(uint64_t start, uint64_t end, const std::vector<VmaRecord>& vmas,
                      const std::vector<PageRef>& pages, const PageSource& page, const ObjectSource& object,
                      std::vector<std::string>* dropped);
  static VmaRecord RecordOf(const Vma& v);

  ProcessLimits limits() const;
  Status SetLimits(const ProcessLimits& limits);

  // truncate(2)'s unmap_mapping_range(..., even_cows=1): drops this
  // process's private copies of `object` pages with index >= from_index, so
  // a page cut by truncation and later grown back reads the file again, not
  // the discarded copy. Pages of locked mappings are unlocked first.
  void DiscardPrivateCopies(const MemoryObject* object, uint64_t from_index);

  // Unmaps everything (writing back shared file pages); later calls fail
  // with NotFound. Idempotent.
  void Teardown();

  void FillStats(ProcessStats* stats);
  // Calls fn(vma, vpn, page) for every page this process resolves to a
  // cached page (private pages, then object pages not shadowed by a copy).
  void ForEachResolvedPage(const std::function<void(const Vma&, uint64_t, Page*)>& fn);
  // Mappings with smaps figures; mapcount(page) gives how many mappings
  // across the server resolve to it (1 when unknown).
  std::vector<MappingInfo> Mappings(const std::function<uint32_t(Page*)>& mapcount);
  // Adds every PTE page to `refs` and every mapped object to `objects`.
  // REQUIRES: quiescent.
  Status CollectPages(std::unordered_map<const Page*, uint32_t>* refs,
                      std::unordered_map<MemoryObject*, std::shared_ptr<MemoryObject>>* objects);

  uint64_t top() const { return top_; }
  uint64_t mmap_base() const { return top_ - kStackReserve; }
  uint32_t page_size() const { return options_.page_size; }
  uint64_t max_io_bytes() const { return options_.max_io_bytes; }

 private:
  // --- address_space.cc: mappings ---
  Status CheckRange(uint64_t addr, uint64_t length, uint64_t* end) const;
  // addr + length rounded up to a page: false when that wraps past 2^64
  // (or the length rounds up to 0), which each call reports with its own
  // errno, as Linux does.
  bool RoundedEnd(uint64_t addr, uint64_t length, uint64_t* end) const;
  // ENOMEM unless a call that leaves `after` mappings (from `now`) stays
  // within max_mappings; a call that does not add mappings always may.
  Status CheckMapCountLocked(size_t after, const char* call) const;
  Status MmapLocked(const MmapArgs& args, std::shared_ptr<MemoryObject> file, uint64_t* addr,
                    ReleaseBatch* release);
  // Removes [start, end): unlocks locked pages, writes back shared file
  // pages, drops private pages. REQUIRES: mm_lock_ exclusive.
  void UnmapLocked(uint64_t start, uint64_t end, ReleaseBatch* release);
  void ReleasePagesLocked(uint64_t start, uint64_t end, ReleaseBatch* batch);
  // --- mremap.cc ---
  // Moves (old_len > 0) or duplicates (old_len == 0, shared mappings)
  // [old_addr, +old_len) of `vma` to the free range [new_addr, +new_len).
  // REQUIRES: old_len <= new_len; the old range inside `vma`; mm_lock_
  // exclusive. Changes nothing on error.
  Status MoveLocked(const Vma& vma, uint64_t old_addr, uint64_t old_len, uint64_t new_addr,
                    uint64_t new_len, ReleaseBatch* release);
  Status GrowInPlaceLocked(const Vma& vma, uint64_t old_addr, uint64_t old_len, uint64_t new_len,
                           ReleaseBatch* release);
  // RLIMIT_MEMLOCK for a locked mapping growing by `grow` bytes: EAGAIN.
  Status CheckLockGrowthLocked(const Vma& vma, uint64_t grow) const;
  Status BrkLocked(uint64_t addr, ReleaseBatch* release);
  Status CheckMapLimitsLocked(uint64_t add_bytes, bool counts_as_data) const;
  uint64_t DataBytesLocked() const;

  // --- access.cc: reads, writes, faults ---
  Status Access(uint64_t addr, uint64_t length, char* buf, bool write);
  // Validates an access under the shared lock. *fixup: the access needs
  // the exclusive lock first (copy-on-write, stack growth).
  Status ValidateLocked(uint64_t addr, uint64_t length, bool write, bool* fixup);
  // Does under the exclusive lock what ValidateLocked asked for.
  Status FixupLocked(uint64_t addr, uint64_t length, bool write);
  bool TryGrowStackLocked(uint64_t addr);
  Status CopyLocked(uint64_t addr, uint64_t length, char* buf, bool write);
  // Every page of a multi-page write [addr, end), resolved (with a
  // reference) and prepared (Pager::PrepareWrite), in order.
  Status PrepareLocked(uint64_t addr, uint64_t end, std::vector<Pager::PreparedWrite>* prepared);
  void ReleasePrepared(std::vector<Pager::PreparedWrite>* prepared);
  // The page backing vpn in `vma`, creating what a write or a file read
  // needs. *page is null for zeros. REQUIRES: mm_lock_ held.
  Status ResolveLocked(const Vma& vma, uint64_t vpn, bool create, Page** page,
                       std::shared_lock<std::shared_mutex>* object_lock);
  uint64_t ObjectIndex(const Vma& vma, uint64_t vpn) const {
    return vma.pgoff + (vpn - (vma.start >> page_shift_));
  }
  // Zeroes [addr, addr+len) ignoring protection (exec's bss).
  Status ZeroLocked(uint64_t addr, uint64_t len);

  // --- advice.cc: mlock, madvise, msync ---
  // Locks every mapping of [start, end) not locked yet, after checking
  // RLIMIT_MEMLOCK, the server-wide cap and max_mappings. *unpopulated (if
  // given) is set when a PROT_NONE piece was locked: Linux cannot populate
  // those, and mlock then reports ENOMEM although the range is locked.
  Status LockRangeLocked(uint64_t start, uint64_t end, bool* unpopulated = nullptr);
  void UnlockRangeLocked(uint64_t start, uint64_t end);
  // Locks every page of [start, end) within one locked-to-be mapping;
  // undoes its own work on failure. Addresses past the end of a shmem
  // object resolve to no page and are skipped (the object never grows).
  Status LockPagesLocked(const Vma& vma, uint64_t start, uint64_t end);
  void UnlockPagesLocked(const Vma& vma, uint64_t start, uint64_t end);
  // --- populate.cc: MAP_POPULATE and MADV_WILLNEED, bounded and in steps ---
  // Prefaults [start, end) as MAP_POPULATE; entered without mm_lock_.
  void Populate(uint64_t start, uint64_t end, const CallControl& control);
  // Prefaults at most *budget pages of [start, end) within `vma`, under the
  // shared lock; returns where it stopped.
  uint64_t PopulateStepLocked(const Vma& vma, uint64_t start, uint64_t end, uint64_t* budget);
  // Queues [start, end)'s pages for read-ahead; entered without mm_lock_.
  Status WillNeed(uint64_t start, uint64_t end, const CallControl& control);
  // Pages one process may prefault or queue in one call: the frame pool.
  uint64_t PrefaultBudget() const;
  Status SyncObjectRangeLocked(const Vma& vma, uint64_t start, uint64_t end);
  // msync(MS_SYNC) of one mapping piece [start, end): see SyncedPiece.
  Status SyncPieceLocked(const Vma& vma, uint64_t start, uint64_t end, const SyncCommitter& committer);
  Status CommitSyncPiece(SyncedPiece* piece, std::vector<Page*>* pages, std::vector<Page*>* object_pages,
                         const SyncCommitter& committer);

  // --- lock_budget.cc: locked memory's two bounds ---
  // Reserves `pages` of locked memory in the owner's account (max_locked)
  // and then in the pager's server-wide cap; false, reserving nothing, when
  // either refuses, with *why (when non-null) the error naming which.
  // ReleaseLockBudget gives back what a successful reserve took.
  bool ReserveLockBudget(uint64_t pages, Status* why = nullptr);
  void ReleaseLockBudget(uint64_t pages);

  const EngineOptions options_;
  Pager* const pager_;
  const unsigned page_shift_;
  const uint64_t page_mask_;  // page_size - 1
  const uint64_t top_;        // 2^address_bits

  mutable std::shared_mutex mm_lock_;
  MappingSet vmas_;            // GUARDED_BY(mm_lock_)
  PageTable pages_;            // private pages; entries CAS'd under shared mm_lock_
  bool dead_ = false;          // GUARDED_BY(mm_lock_)
  ProcessLimits limits_;       // GUARDED_BY(mm_lock_)
  uint64_t brk_start_ = 0;     // GUARDED_BY(mm_lock_)
  uint64_t brk_ = 0;           // GUARDED_BY(mm_lock_)
  uint64_t locked_bytes_ = 0;  // GUARDED_BY(mm_lock_): bytes of kVmLocked mappings
  bool lock_future_ = false;   // GUARDED_BY(mm_lock_): mlockall(MCL_FUTURE)
  TenantAccount* lock_account_ = nullptr;  // see SetAccount
  FaultCounters faults_;
  std::atomic<bool> changed_{true};  // a fresh address space is new to every snapshot
  // The layout's version, and the version the durable state (the committed
  // snapshot and the journal) describes; equal: msync may skip a piece whose
  // pages are all durable already.
  std::atomic<uint64_t> layout_epoch_{1};
  std::atomic<uint64_t> durable_layout_epoch_{0};
  // Ranges whose layout a journal record holds, valid while the layout
  // epoch is journaled_epoch_ (start -> end). GUARDED_BY(sync_mu_).
  uint64_t journaled_epoch_ = 0;
  std::map<uint64_t, uint64_t> journaled_;
  bool LayoutDurableLocked(uint64_t start, uint64_t end);  // REQUIRES: sync_mu_
  std::mutex sync_mu_;               // one msync(MS_SYNC) journal at a time, in order
  // Readahead state (a heuristic: relaxed, races only cost accuracy): the
  // vpn a sequential run's next major fault would hit, and the last window.
  std::atomic<uint64_t> ra_next_vpn_{~0ull};
  std::atomic<uint32_t> ra_window_{0};
  void CollectReadahead(const Vma& vma, uint64_t vpn, bool object_locked, std::vector<Page*>* more);
};

}  // namespace memserver
