// AddressSpace: MAP_POPULATE and MADV_WILLNEED, the two calls whose work a
// caller can make as large as the address space (tens of TiB). Both are
// bounded and interruptible:
//   - at most PrefaultBudget() pages per call: the frame pool, what can be
//     resident at once (touching more would only evict what the call itself
//     brought in). Linux, too, populates only what fits; WILLNEED is advice.
//   - pages are visited only where something exists or would be created:
//     read-only private anonymous memory and PROT_NONE are skipped (they
//     read as zeros or not at all); WILLNEED walks the page table and the
//     object's page list (populated entries only) and file pages up to the
//     end of the file.
//   - the work runs in steps under the SHARED mm lock (PTEs are installed
//     by compare-and-swap, as on a read fault), dropped between steps; then
//     the call's CallControl says whether to go on (deadline, cancellation
//     by the client or a server shutdown). A step holds this process's lock
//     only, for at most kStepPages faults (or one kWindowPages window of a
//     page-table walk), so munmap, fork, GetStats and ListProcesses wait at
//     most one step, and other processes not at all.
//   - each step looks the mapping up again: a concurrent munmap or mprotect
//     only changes what the next step sees.
// Neither reports stopping early as an error: populating is best effort,
// as on Linux, and WILLNEED a hint.
#include <fmt/format.h>

#include <mutex>

#include "server/vm/address_space.h"

namespace memserver {

namespace {
// Page faults one step may take under the mm lock.
constexpr uint64_t kStepPages = 256;
// Address range (in pages) one step of a page-table walk covers: 1 GiB of
// 4 KiB pages. An empty window costs a few node visits.
constexpr uint64_t kWindowPages = 1ull << 18;
}  // namespace

uint64_t AddressSpace::PrefaultBudget() const { return pager_->frames_total(); }

void AddressSpace::Populate(uint64_t start, uint64_t end, const CallControl& control) {
  uint64_t budget = PrefaultBudget();
  for (uint64_t a = start; a < end && budget > 0;) {
    if (!control.Check().ok()) return;  // no lock held here
    std::shared_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return;
    const Vma* found = vmas_.Find(a);
    if (found == nullptr) {
      const Vma* next = vmas_.NextFrom(a);
      if (next == nullptr || next->start >= end) return;
      a = next->start;
      continue;
    }
    const Vma vma = *found;
    const uint64_t stop = std::min(end, vma.end);
    const bool nothing_to_do = (vma.prot & kProtMask) == 0 || (!vma.object && !(vma.prot & kProtWrite));
    a = nothing_to_do ? stop : PopulateStepLocked(vma, a, stop, &budget);
  }
}

uint64_t AddressSpace::PopulateStepLocked(const Vma& vma, uint64_t start, uint64_t end, uint64_t* budget) {
  const bool shmem = vma.object && vma.object->kind() == MemoryObject::Kind::kShmem;
  const bool writable = (vma.prot & kProtWrite) != 0;
  // Private anonymous and shmem pages are created (zero frames for a
  // writable mapping); file pages are read; private file pages are not
  // copied (no copy-on-write without a write).
  const bool create = vma.object ? shmem : writable;
  const bool for_write = writable && (!vma.object || shmem);
  uint64_t a = start;
  for (uint64_t n = 0; a < end && n < kStepPages && *budget > 0; ++n, a += options_.page_size) {
    Page* page;
    std::shared_lock<std::shared_mutex> object_lock;
    Status s = ResolveLocked(vma, a >> page_shift_, create, &page, &object_lock);
    if (s.ok() && page != nullptr) {
      --*budget;
      s = pager_->Prefetch(page, for_write, &faults_);
    }
    if (!s.ok()) return end;  // past the end of the file, a store error: skip the rest, as Linux
  }
  return a;
}

Status AddressSpace::WillNeed(uint64_t start, uint64_t end, const CallControl& control) {
  {
    std::shared_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    if (!vmas_.Covers(start, end)) {
      return Status::FailedPrecondition(fmt::format("madvise: [{:#x}, {:#x}) contains unmapped pages", start, end),
                                        "ENOMEM");
    }
  }
  uint64_t budget = PrefaultBudget();
  std::vector<Page*> prefetch;  // each holds a reference, dropped by the pager
  const auto take = [&](Page* page) {
    if (budget == 0) return;
    pager_->Ref(page);
    prefetch.push_back(page);
    --budget;
  };
  for (uint64_t a = start; a < end && budget > 0;) {
    if (!control.Check().ok()) break;  // no lock held here
    std::shared_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) break;
    const Vma* found = vmas_.Find(a);
    if (found == nullptr) {  // unmapped since the check: go on after it
      const Vma* next = vmas_.NextFrom(a);
      if (next == nullptr || next->start >= end) break;
      a = next->start;
      continue;
    }
    const Vma vma = *found;
    const uint64_t stop = std::min(end, vma.end);
    const uint64_t vpn = a >> page_shift_;
    if (vma.object && vma.object->kind() == MemoryObject::Kind::kFile) {
      // File pages exist up to the end of the file whether cached or not:
      // one by one (a private copy shadows its file page), at most a step.
      uint64_t n = 0;
      for (; a < stop && n < kStepPages && budget > 0; ++n, a += options_.page_size) {
        Page* page;
        std::shared_lock<std::shared_mutex> object_lock;
        if (!ResolveLocked(vma, a >> page_shift_, /*create=*/false, &page, &object_lock).ok()) {
          a = stop;  // past the end of the file
          break;
        }
        if (page != nullptr) take(page);
      }
      continue;
    }
    // Anonymous memory: only the pages that exist, a window at a time.
    const uint64_t window_end = std::min(stop >> page_shift_, vpn + kWindowPages);
    if (!vma.is_shared()) {
      pages_.ForEach(vpn, window_end, [&](uint64_t, Page* page) { take(page); });
    } else {
      std::shared_lock<std::shared_mutex> object_lock(vma.object->mu());
      vma.object->ForEach(ObjectIndex(vma, vpn), ObjectIndex(vma, window_end),
                          [&](uint64_t, Page* page) { take(page); });
    }
    a = window_end << page_shift_;
  }
  if (!prefetch.empty()) pager_->PrefetchAsync(std::move(prefetch), faults_.charge_slot);  // returns at once
  return Status::OK();
}

}  // namespace memserver
