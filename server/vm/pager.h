// Pager: moves page content between frames and the backing store.
//
// Owns the frame pool, the replacement policy and the frame -> page reverse
// map. Every access to page content goes through Read/Write here, which page
// the content in first when needed (a page fault), so an access to a
// non-resident page completes as if the page had been there all along.
//
// Lock order (outermost first; a lock may only be taken while holding those
// above it):
//
//   AddressSpace::mm_lock_ (shared for access, exclusive for mmap/munmap/...)
//     Pager::evict_mu_          (one evictor at a time; never taken with a
//                                stripe held)
//       ReplacementPolicy internal mutex
//         PageLocks stripe      (ONLY try_lock under the policy: TryBeginEvict)
//       PageLocks stripe        (finishing a write-out)
//     PageLocks stripe          (page state, frame binding, content copy)
//       ReplacementPolicy internal mutex (Insert/Remove)
//     FramePool::mu_            (leaf)
//
// Memory charges (pager_charges.cc; only with a ledger, see the
// constructor): every frame in use is charged to one account's
// kResidentBytes, named by the frame's slot (frame_slot_), from the moment
// AllocateFrame hands it out until FreeFrame takes it back. Every anonymous
// page with a copy in swap (has_swap) is charged one page of kSwapBytes to
// its "swap slot": the slot of its frame while it is in one (kResident,
// kWritingOut), and the number kept in Page::frame while it is not
// (kSwapped, kPagingIn), where that field is otherwise unused; kNoFrame
// there means nobody. A page-in moves the swap charge to the new frame's
// slot. A fault of an account at max_resident first evicts that account's
// own pages (never another's); the evictor never gives a dirty page its
// first swap copy when its account is at max_swap.
//
// No lock of the pager is held across a call into the backing store except
// evict_mu_, which only serialises evictors (a fault that needs a frame waits
// for the eviction in progress instead of starting its own). Accessors of
// resident pages never touch evict_mu_.
//
// Fault paths: Read/Write are entered with the caller's mm lock held shared
// and the page referenced by a PTE; they take the page's stripe lock, and
// drop it around frame allocation and storage reads (the page is then in
// kPagingIn, which makes every other accessor wait). They return with no
// pager lock held.
//
// Durability (pager_durability.cc; the states are in page.h): the pager keeps
// frozen content immutable under its key. A change of a frozen page's
// content re-keys it first, and a pending page's content is copied into the
// store (a memtable insert, no disk wait) by the first writer, evictor or
// freer that would lose it. Keys of frozen content no page names any more
// are "retired": the snapshotter deletes them once a committed snapshot no
// longer needs them (TakeRetired at its instant, deleted at its commit).
// The pager never deletes a frozen key itself.
#pragma once

#include <atomic>
#include <iterator>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/common/status.h"
#include "server/engine/options.h"
#include "server/engine/tenant_ledger.h"
#include "server/engine/types.h"
#include "server/frames/frame_pool.h"
#include "server/frames/miss_observer.h"
#include "server/frames/replacement_policy.h"
#include "server/vm/page.h"
#include "server/vm/page_slab.h"
#include "storage/backing_store.h"

namespace memserver {

// Per-process fault counters, updated by the pager on behalf of a process.
// `charge_slot` names the account that pays for the frames these faults take
// (TenantAccount::slot(); 0: nobody). Set before the first fault, then fixed.
// `advice`: the faults are advice (MADV_WILLNEED in the background): over
// max_resident they stop instead of evicting the tenant's own pages.
struct FaultCounters {
  std::atomic<uint64_t> minor{0};
  std::atomic<uint64_t> major{0};
  uint16_t charge_slot = 0;
  bool advice = false;
};

// Swap entries of pages freed during one operation; deleted from the store
// in one batch by Pager::Flush once the caller dropped its locks.
struct ReleaseBatch {
  std::vector<uint64_t> swap_ids;
};

// What a snapshot or an msync record names for one page: its key, or zero.
struct FrozenPage {
  uint64_t id = 0;
  bool zero = false;
};

class Pager {
 public:
  // `store` is borrowed and must outlive the pager. With `ledger` (borrowed,
  // outliving the pager), frames and swap copies are charged to accounts
  // (Memory charges above); without it nothing is charged and frames cost
  // no owner slot.
  Pager(const EngineOptions& options, storage::BackingStore* store,
        std::unique_ptr<ReplacementPolicy> policy, const TenantLedger* ledger = nullptr);
  ~Pager();
  Pager(const Pager&) = delete;
  Pager& operator=(const Pager&) = delete;

  uint32_t page_size() const { return frames_.page_size(); }
  // The store pages go to (borrowed).
  storage::BackingStore* store() const { return store_; }
  // Where every Page comes from: page tables keep PageSlab handles.
  const PageSlab* slab() const { return &slab_; }
  // Bytes of Page storage carved so far (metadata accounting).
  uint64_t page_slab_bytes() const { return slab_.reserved_bytes(); }

  // A new anonymous page in kZero with one reference (the caller's).
  Page* NewZeroPage();
  // A new page of file `inode` at page `index`, in kSwapped (its content is
  // in the file store, or a hole), with one reference.
  Page* NewFilePage(uint32_t inode, uint64_t index);
  // A new anonymous page, resident and dirty, holding a copy of `src`'s
  // content (copy-on-write). May page `src` in.
  Status CopyPage(Page* src, FaultCounters* counters, Page** copy);
  // Adds a reference to a page the caller already references.
  void Ref(Page* page) { page->refs.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference. The last one frees the frame and queues the swap
  // entry's deletion in `batch`.
  void Unref(Page* page, ReleaseBatch* batch);
  // Deletes the swap entries queued in `batch`. Call with no lock held.
  Status Flush(ReleaseBatch* batch);

  // Copies page[offset, offset+len) to out. Reading a kZero page gives
  // zeros and takes no frame. May page in (major fault).
  // Called on a major fault (page about to be read from the store) with no
  // pager lock held; it may add pages to read ahead in one batch.
  using ReadaheadFn = std::function<void(std::vector<Page*>*)>;

  // When no frame can be had (every frame dirty and the store refusing
  // writes, say), a swapped-out page is read straight from the store: a
  // read of acknowledged data never fails for lack of frames.
  Status Read(Page* page, uint32_t offset, char* out, uint32_t len, FaultCounters* counters,
              const ReadaheadFn* readahead = nullptr);

  // A write over several pages that must change nothing when it fails
  // (Engine::Write's promise) prepares every page first: PrepareWrite makes
  // the page writable without any storage call later — resident and pinned
  // (the evictor skips it until ReleaseWrite), or, when it will be
  // overwritten whole or zero-filled, with a free frame set aside for it.
  // On failure nothing was pinned or set aside by this call.
  struct PreparedWrite {
    Page* page = nullptr;
    FrameId pinned = kNoFrame;    // the frame pinned
    FrameId reserved = kNoFrame;  // a free frame for the page's fault
  };
  Status PrepareWrite(Page* page, bool whole, FaultCounters* counters, PreparedWrite* out);
  void ReleaseWrite(PreparedWrite* prepared);

  // Copies data into page[offset, ...). May zero-fill (minor fault) or page
  // in (major fault). Marks the page dirty. With `prepared`, a fault uses
  // its reserved frame and cannot fail for lack of one.
  Status Write(Page* page, uint32_t offset, const char* data, uint32_t len, FaultCounters* counters,
               const ReadaheadFn* readahead = nullptr, PreparedWrite* prepared = nullptr);

  // Zeroes page[offset, offset+len). A kZero page stays as it is.
  Status Zero(Page* page, uint32_t offset, uint32_t len, FaultCounters* counters);
  // Brings the page into a frame without copying anything (MADV_WILLNEED,
  // MAP_POPULATE). A kZero page stays zero unless `for_write`.
  Status Prefetch(Page* page, bool for_write, FaultCounters* counters);

  // mlock: pages the page in (zero-filled if need be) and pins it: the
  // evictor never chooses a page with locks > 0. Unlock undoes one Lock.
  Status Lock(Page* page, FaultCounters* counters);
  void Unlock(Page* page);

  // Writes every resident dirty file page of `pages` back to the file store
  // in one synchronous batch (durable on return) and marks them clean.
  // REQUIRES: file pages (anonymous memory uses FreezeForSync).
  Status Sync(const std::vector<Page*>& pages);

  // Pages `pages` in with one batched store read (readahead). Only pages
  // still swapped out are read; the others are skipped. Counted as page-ins,
  // not faults. REQUIRES: the caller keeps the pages alive (mm/object lock).
  // New frames are charged to `charge_slot`, never past its max_resident
  // (readahead is advice: it stops there instead of reclaiming).
  Status PageInBatch(const std::vector<Page*>& pages, uint16_t charge_slot = 0);

  // The server-wide mlock budget: at most max_locked_percent of the frames.
  // Reserve returns false (and reserves nothing) when `pages` do not fit.
  bool ReserveLockBudget(uint64_t pages);
  void ReleaseLockBudget(uint64_t pages);

  // MADV_WILLNEED: pages the pages in on a background thread and drops the
  // reference the caller took on each. Returns at once. Frames are charged
  // to `charge_slot`, and stop at its max_resident (advice never reclaims).
  void PrefetchAsync(std::vector<Page*> pages, uint16_t charge_slot = 0);

  // MADV_FREE: the content may be dropped (page becomes zero) instead of
  // written out if the page is evicted before its next write.
  void MarkLazyFree(Page* page);

  // Restore: a page whose content is in swap under `id` (or all zero), with
  // one reference, frozen and durable (a committed snapshot or msync record
  // names it). Page ids handed out later are all larger than `id`.
  // A non-zero page's swap copy is charged to `charge_slot`.
  Page* RestorePage(uint64_t id, bool zero, uint16_t charge_slot = 0);

  // --- Durability (pager_durability.cc) ---
  // Page ids are never reused on one store: ids below `floor` may name keys
  // of an earlier run. `reserve(mark)` makes "ids below mark may be in use"
  // durable; it is called (outside every pager lock but the reservation's
  // own) before an id at or past the last mark is handed out. A failed
  // reservation is not fatal: a page whose id meets a leftover key simply
  // overwrites it when it is first written out.
  using IdReserver = std::function<Status(uint64_t mark)>;
  void SetIdFloor(uint64_t floor, uint64_t reserved_mark, IdReserver reserve);
  // Ids of shared memory objects (MemoryObject::id()): never reused on a
  // store either; a restore raises the floor past every id it saw.
  uint64_t NextObjectId() { return next_object_id_.fetch_add(1, std::memory_order_relaxed); }
  void SetObjectIdFloor(uint64_t floor) {
    uint64_t next = next_object_id_.load();
    while (next < floor && !next_object_id_.compare_exchange_weak(next, floor)) {
    }
  }
  uint64_t next_object_id() const { return next_object_id_.load(std::memory_order_relaxed); }
  uint64_t next_page_id() const { return next_page_id_.load(std::memory_order_relaxed); }

  // Snapshot capture. BeginCapture waits for the eviction in flight and keeps
  // new ones out until EndCapture; between the two the caller, holding every
  // mm lock exclusively, calls CapturePage for each page a snapshot names.
  // CapturePage freezes the page and, when its content is not yet durable,
  // takes the snapshot's hold on it and appends it to *held (pending when
  // the content exists only in the frame). REQUIRES: anonymous page.
  void BeginCapture();
  void EndCapture();
  FrozenPage CapturePage(Page* page, std::vector<std::pair<Page*, uint64_t>>* held);
  // Writes the content of every held page still pending under its id
  // (without the WAL: the snapshotter flushes), in batches. Stops at the
  // first failure and returns it. REQUIRES: a capture's held list.
  // *written counts the pages this call wrote.
  Status WritePending(const std::vector<std::pair<Page*, uint64_t>>& held, uint64_t* written);
  // Ends a snapshot: committed, every held page still under its captured id
  // becomes durable; not committed, pages still pending lose their frozen
  // state (their content is dirty again). Releases every hold.
  void FinishCapture(const std::vector<std::pair<Page*, uint64_t>>& held, bool committed);
  // True once a writer could not copy a pending page into the store since
  // the last BeginCapture: the snapshot in progress cannot be committed.
  bool capture_failed() const { return capture_failed_.load(std::memory_order_acquire); }
  // Retired keys (see Durability above): moves out every key retired so
  // far; ReturnRetired puts back those a failed snapshot could not delete.
  std::vector<uint64_t> TakeRetired();
  void ReturnRetired(std::vector<uint64_t> ids);
  uint64_t retired_count() const { return retired_count_.load(std::memory_order_relaxed); }

  // msync(MS_SYNC) of anonymous pages, in two steps around the caller's
  // synchronous write of batch->wb (to which it adds its own record):
  // FreezeForSync freezes each page and adds to batch->wb what makes its
  // content durable under its id (the frame's content, or the store's copy
  // read and written again with the WAL); FinishSync then marks the pages
  // durable, or (the write failed) unfreezes those whose content was only
  // in the frame. batch->frozen[i] names pages[i].
  // REQUIRES: the caller keeps the pages alive (mm lock held); anonymous.
  struct SyncBatch {
    storage::WriteBatch wb;
    std::vector<std::unique_ptr<std::string>> values;  // borrowed by wb
    std::vector<Page*> pages;
    std::vector<FrozenPage> frozen;
    std::vector<uint8_t> action;  // pager-private: what FinishSync undoes
  };
  Status FreezeForSync(const std::vector<Page*>& pages, SyncBatch* batch);
  void FinishSync(const SyncBatch& batch, bool ok);
  // Stops background reclaim and waits for a pass in progress to finish
  // (before a checkpoint: nothing may evict behind its back).
  void StopReclaim();
  // Waits until every background task queued so far (reclaim, prefetch) ran.
  void Drain();

  // A snapshot of a page's state for statistics (takes its stripe lock).
  struct PageInfo {
    PageState state;
    bool dirty;
    bool has_swap;
    bool locked;
  };
  PageInfo Inspect(Page* page);
  PageState StateOf(Page* page) { return Inspect(page).state; }
  uint64_t locked_pages() const { return locked_pages_.load(std::memory_order_relaxed); }
  uint32_t frames_total() const { return frames_.capacity(); }

  GlobalStats Stats() const;
  // `refs` maps every page reachable from a page table to the number of
  // PTEs referencing it. Verifies refcounts, the frame reverse map, the free
  // frame count and the swap entry count against a recount.
  Status CheckInvariants(const std::unordered_map<const Page*, uint32_t>& refs);

  // The snapshot's hold (page.h): drops it; frees the page if nothing else
  // references it.
  void ReleaseSnapshotHold(Page* page);

 private:
  struct Victim {
    Page* page;
    FrameId frame;
    bool dirty;
    bool has_swap;
    bool lazy;          // MADV_FREE'd: drop the content
    bool frozen;        // the key is a snapshot's: never dropped as zero
    bool zero = false;  // content found all zero
    uint16_t swap_charged = 0;  // slot charged for the swap copy this eviction makes
  };
  // The last reference went: frees the frame, queues the swap key's
  // deletion (or retires a frozen key). REQUIRES: no reference left.
  void Free(Page* page, ReleaseBatch* batch);
  // A change of a frozen page's content is about to happen: the page takes a
  // fresh id and its old key is retired. REQUIRES: stripe lock, frozen, not
  // pending.
  void RekeyLocked(Page* page);
  // A writer meets a pending page: copies its content into the store under
  // its id, with the stripe lock dropped and the page in kWritingOut.
  // Entered and left with `lock` held. A failed copy fails the capture (the
  // snapshot cannot commit) and unfreezes the page; the write goes on.
  void SaveForSnapshot(Page* page, std::unique_lock<std::mutex>& lock, PageLocks::Stripe& stripe);
  // A fresh anonymous page id; extends the durable reservation in the
  // background when it runs low.
  uint64_t NextId();
  void Retire(uint64_t id);
  void ExtendIdReservation();

  enum class Op { kRead, kWrite, kZero, kPrefetch, kPrefetchWrite, kLock, kPin };
  // Shared body of every operation on a page's content. kPin brings the page
  // in (reading its content) and pins its frame.
  Status Access(Page* page, uint32_t offset, char* buf, uint32_t len, Op op,
                FaultCounters* counters, const ReadaheadFn* readahead = nullptr,
                PreparedWrite* prepared = nullptr);
  // A read of a swapped-out page straight from the store, for when no frame
  // can be had. Entered and left with `lock` held.
  Status ReadDirect(Page* page, uint32_t offset, char* out, uint32_t len, std::unique_lock<std::mutex>& lock);
  // Brings a kZero or kSwapped page into a frame. Entered and left with the
  // page's stripe lock held (`lock`); drops it while allocating and reading.
  // `overwrite`: the caller writes the whole page next, so a swapped-out
  // page's old content is not read (no I/O: a minor fault).
  // `reserved`: a free frame to use instead of allocating one (consumed:
  // set to kNoFrame). *no_frame: the failure was that no frame could be had.
  Status FaultIn(Page* page, std::unique_lock<std::mutex>& lock, PageLocks::Stripe& stripe,
                 FaultCounters* counters, bool overwrite = false, const ReadaheadFn* readahead = nullptr,
                 FrameId* reserved = nullptr, bool* no_frame = nullptr);
  // Takes a free frame for an access charged to `slot`, evicting when none
  // is free; an account at max_resident evicts its own pages first, and
  // fails with its quota's error when none of them can go.
  // With !reclaim_own, an account at max_resident fails at once instead.
  Status AllocateFrame(FrameId* frame, uint16_t slot, bool reclaim_own = true);
  // Returns a frame to the pool and its charge to its account.
  void FreeFrame(FrameId frame);
  // AllocateFrame's frame, uncharged.
  Status TakeFrame(FrameId* frame);

  // --- Memory charges (pager_charges.cc) ---
  TenantAccount* ChargeAccount(uint16_t slot) const {
    return ledger_ == nullptr || slot == 0 ? nullptr : ledger_->AtSlot(slot);
  }
  uint16_t FrameSlot(FrameId frame) const {
    return frame_slot_ == nullptr ? 0 : frame_slot_[frame].load(std::memory_order_relaxed);
  }
  // The slot charged for `page`'s swap copy (Memory charges above).
  // REQUIRES: stripe lock, or a transition this thread owns.
  uint16_t SwapSlotLocked(const Page* page) const;
  // Charges `slot` one page of `resource` (quota checked, or forced).
  Status ChargePage(uint16_t slot, TenantResource resource);
  void ForceChargePage(uint16_t slot, TenantResource resource);
  void ReleasePage(uint16_t slot, TenantResource resource);
  // An account's first charge of a frame: over max_resident, evicts its
  // own pages until the charge fits or none can go.
  Status ChargeFrame(uint16_t slot, bool reclaim_own);
  // Evicts a batch of pages whose frames are charged to `slot`.
  Status EvictOwn(uint16_t slot, uint32_t* freed);
  // A page entering a frame charged to `to`: its swap charge moves there.
  // REQUIRES: stripe lock; `from` = SwapSlotLocked before the page-in.
  void MoveSwapCharge(const Page* page, uint16_t from, uint16_t to);
  // Evicts up to options_.eviction_batch pages. Returns how many frames it
  // freed. A foreground call returns at once when a frame is already free.
  // When the store refuses the write, evicts clean pages only (no write).
  Status EvictBatch(uint32_t* freed, bool background = false);
  // One batch; with `only_slot`, of frames charged to that slot only.
  // REQUIRES: evict_mu_.
  Status EvictLocked(bool clean_only, uint32_t* freed, ReleaseBatch* release, uint16_t only_slot = 0);
  // Policy callback: claims frame's page for eviction if it can (try-lock):
  // never a pinned frame; with clean_only, only a page whose store copy is
  // current.
  bool TryBeginEvict(FrameId frame, std::vector<Victim>* victims, bool clean_only);
  bool TryRef(Page* page);
  // Where a page's content lives in the store.
  static storage::Space SpaceOf(const Page* page) {
    return page->is_file() ? storage::Space::kFiles : storage::Space::kSwap;
  }
  static std::string KeyOf(const Page* page);
  // Policy key of a file page: distinct from anonymous page ids (top bit set).
  static uint64_t FileKeyOf(const Page* page) {
    return (1ull << 63) | ((static_cast<uint64_t>(page->inode()) << 36) ^ page->id());
  }

  const EngineOptions options_;
  storage::BackingStore* const store_;
  // Storage of every Page (declared early: destroyed after everything that
  // could still free a page).
  PageSlab slab_{sizeof(Page), alignof(Page)};
  Page* AllocPage(uint64_t id, uint32_t inode = 0) { return new (slab_.Allocate()) Page(id, inode); }
  FramePool frames_;
  std::unique_ptr<ReplacementPolicy> policy_;
  MissObserver* const miss_observer_;  // policy_ when it wants misses announced, else null
  PageLocks locks_;
  // Reverse map: frame -> the page it backs while that page is kResident or
  // kWritingOut; nullptr otherwise. Written under the page's stripe lock.
  // Entries are PageSlab handles (0: none), 4 bytes a frame.
  std::unique_ptr<std::atomic<uint32_t>[]> owner_;
  Page* Owner(FrameId frame, std::memory_order order = std::memory_order_seq_cst) const {
    const uint32_t h = owner_[frame].load(order);
    return h == 0 ? nullptr : static_cast<Page*>(slab_.At(h));
  }
  void SetOwner(FrameId frame, Page* page, std::memory_order order = std::memory_order_seq_cst) {
    owner_[frame].store(page == nullptr ? 0 : slab_.HandleOf(page), order);
  }

  // Memory charges (see above): the ledger, and each frame's slot (2 bytes
  // a frame, only with a ledger). A frame's slot is written by
  // AllocateFrame before anyone else can see the frame and cleared by
  // FreeFrame.
  const TenantLedger* const ledger_;
  std::unique_ptr<std::atomic<uint16_t>[]> frame_slot_;

  // Pins (PrepareWrite): a pinned frame is never chosen by the evictor. One
  // byte a frame; a frame pinned 255 times waits for an unpin.
  std::unique_ptr<std::atomic<uint8_t>[]> pins_;

  std::atomic<uint64_t> lock_budget_used_{0};
  const uint64_t lock_budget_;
  const uint32_t reclaim_low_, reclaim_high_;  // free-frame watermarks
  // Runs PrefetchAsync work; joined in ~Pager before any member goes.
  std::unique_ptr<boost::asio::thread_pool> background_;

  std::mutex evict_mu_;
  std::condition_variable frame_freed_;  // with evict_mu_

  std::atomic<uint64_t> next_page_id_{1};
  std::atomic<uint64_t> next_object_id_{1};
  // Id reservation (SetIdFloor): ids below id_mark_ are durably reserved.
  static constexpr uint64_t kIdBlock = uint64_t{1} << 24;
  std::mutex id_mu_;                       // leaf; held across the reserver's write
  std::atomic<uint64_t> id_mark_{~0ull};   // no reservation until SetIdFloor
  std::atomic<bool> id_extending_{false};  // an extension is queued
  IdReserver reserve_ids_;                 // GUARDED_BY(id_mu_)
  // Retired keys (Durability above), with their count for invariants.
  std::mutex retired_mu_;                  // leaf
  std::vector<uint64_t> retired_;          // GUARDED_BY(retired_mu_)
  std::atomic<uint64_t> retired_count_{0};
  std::atomic<bool> capture_failed_{false};
  // Counters (relaxed): see GlobalStats in server/engine/types.h.
  std::atomic<uint64_t> pages_{0}, zero_pages_{0}, swap_pages_{0};
  std::atomic<uint64_t> minor_{0}, major_{0}, page_ins_{0}, page_outs_{0};
  std::atomic<uint64_t> evictions_{0}, clean_evictions_{0}, zero_evictions_{0};
  std::atomic<uint64_t> locked_pages_{0}, writebacks_{0}, readahead_pages_{0}, reclaim_runs_{0};
  std::atomic<uint64_t> direct_reads_{0};
  // Background reclaim (see EngineOptions): free-frame watermarks and
  // whether a reclaim task is queued on background_.
  std::atomic<bool> reclaim_queued_{false};
  std::atomic<bool> reclaim_stopped_{false};
  void MaybeStartReclaim();
  void Reclaim();
  // Fault latency histogram (see GlobalStats): relaxed atomic buckets.
  static constexpr size_t kLatencyBuckets = std::size(kFaultLatencyBoundsUs) + 1;
  std::atomic<uint64_t> fault_latency_[kLatencyBuckets] = {};
  std::atomic<uint64_t> fault_latency_sum_ns_{0};
  void RecordFaultLatency(uint64_t ns);
};

}  // namespace memserver
