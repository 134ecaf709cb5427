// AddressSpace: mlock/munlock, madvise, msync (MAP_POPULATE and MADV_WILLNEED:
// populate.cc).
//
// mlock invariant: in a mapping marked kVmLocked, the page each address
// resolves to carries exactly one lock count for that mapping (Page::locks),
// taken when the mapping was locked (or the page was copied on write into
// it) and dropped when the mapping is unlocked or unmapped. The server-wide
// cap is a budget of locked pages reserved in the Pager.
#include <fmt/format.h>

#include <mutex>

#include "server/vm/address_space.h"

namespace memserver {

Status AddressSpace::LockPagesLocked(const Vma& vma, uint64_t start, uint64_t end) {
  std::vector<Page*> locked;
  // A shmem object never grows: addresses past its end resolve to nothing
  // now and forever, so there is nothing to lock there.
  uint64_t stop = end;
  if (vma.object && vma.object->kind() == MemoryObject::Kind::kShmem) {
    const uint64_t size = vma.object->size_pages();
    const uint64_t first = ObjectIndex(vma, start >> page_shift_);
    stop = first >= size ? start : std::min(end, start + ((size - first) << page_shift_));
  }
  for (uint64_t a = start; a < stop; a += options_.page_size) {
    Page* page;
    std::shared_lock<std::shared_mutex> object_lock;
    // Private anonymous pages are created (zero-filled); file pages read.
    Status s = ResolveLocked(vma, a >> page_shift_, /*create=*/true, &page, &object_lock);
    if (s.ok()) s = pager_->Lock(page, &faults_);
    if (!s.ok()) {
      for (Page* p : locked) pager_->Unlock(p);
      return s;
    }
    locked.push_back(page);
  }
  return Status::OK();
}

void AddressSpace::UnlockPagesLocked(const Vma& vma, uint64_t start, uint64_t end) {
  for (uint64_t a = start; a < end; a += options_.page_size) {
    Page* page;
    std::shared_lock<std::shared_mutex> object_lock;
    if (ResolveLocked(vma, a >> page_shift_, /*create=*/false, &page, &object_lock).ok() && page) {
      pager_->Unlock(page);
    }
  }
}

Status AddressSpace::LockRangeLocked(uint64_t start, uint64_t end, bool* unpopulated) {
  // Count what is not locked yet, check the limits, then lock; on failure
  // undo everything this call locked.
  uint64_t add = 0;
  std::vector<Vma> pieces;
  for (const Vma& v : vmas_.Intersecting(start, end)) {
    if (!(v.vm & kVmLocked)) {
      add += v.length();
      pieces.push_back(v);
    }
    if ((v.prot & kProtMask) == 0 && unpopulated != nullptr) *unpopulated = true;
  }
  if (add == 0) return Status::OK();
  if (limits_.memlock != kUnlimited && locked_bytes_ + add > limits_.memlock) {
    return Status::ResourceExhausted(
        fmt::format("RLIMIT_MEMLOCK: locking {:#x} more bytes would exceed the limit of {:#x}", add, limits_.memlock),
        "ENOMEM");
  }
  MEMSERVER_RETURN_IF_ERROR(
      CheckMapCountLocked(vmas_.CountAfterUpdate(start, end, [](Vma& x) { x.vm |= kVmLocked; }), "mlock"));
  Status refused;
  if (!ReserveLockBudget(add >> page_shift_, &refused)) return refused;
  size_t done = 0;
  Status s;
  for (; done < pieces.size(); ++done) {
    s = LockPagesLocked(pieces[done], pieces[done].start, pieces[done].end);
    if (!s.ok()) break;
  }
  if (!s.ok()) {
    for (size_t i = 0; i < done; ++i) UnlockPagesLocked(pieces[i], pieces[i].start, pieces[i].end);
    ReleaseLockBudget(add >> page_shift_);
    return s;
  }
  for (const Vma& v : pieces) vmas_.Update(v.start, v.end, [](Vma& x) { x.vm |= kVmLocked; });
  locked_bytes_ += add;
  return Status::OK();
}

void AddressSpace::UnlockRangeLocked(uint64_t start, uint64_t end) {
  for (const Vma& v : vmas_.Intersecting(start, end)) {
    if (!(v.vm & kVmLocked)) continue;
    UnlockPagesLocked(v, v.start, v.end);
    locked_bytes_ -= v.length();
    ReleaseLockBudget(v.length() >> page_shift_);
    vmas_.Update(v.start, v.end, [](Vma& x) { x.vm &= ~kVmLocked; });
  }
}

Status AddressSpace::Mlock(uint64_t addr, uint64_t length) {
  // As Linux's do_mlock: no locking at all with RLIMIT_MEMLOCK 0 (EPERM,
  // can_do_mlock); addr is rounded down to a page and the length grows by
  // what that added; a range that wraps is EINVAL, one with unmapped pages
  // ENOMEM.
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  if (limits_.memlock == 0) {
    return Status::PermissionDenied("mlock: RLIMIT_MEMLOCK is 0, so this process may not lock memory", "EPERM");
  }
  const uint64_t start = addr & ~page_mask_;
  // Linux's unsigned arithmetic: PAGE_ALIGN(len + offset) may wrap to 0,
  // which locks nothing and succeeds.
  const uint64_t len = (length + (addr - start) + page_mask_) & ~page_mask_;
  if (len == 0) return Status::OK();
  if (start + len < start) return Status::InvalidArgument(fmt::format("mlock: [{:#x}, +{:#x}) wraps around", addr, length));
  const uint64_t end = start + len;
  if (end > top_) {
    return Status::InvalidArgument(fmt::format("mlock: [{:#x}, {:#x}) runs past the end of the address space", start, end),
                                   "ENOMEM");
  }
  if (!vmas_.Covers(start, end)) {
    return Status::FailedPrecondition(fmt::format("mlock: [{:#x}, {:#x}) contains unmapped pages", start, end), "ENOMEM");
  }
  bool unpopulated = false;
  MEMSERVER_RETURN_IF_ERROR(LockRangeLocked(start, end, &unpopulated));
  if (unpopulated) {
    return Status::FailedPrecondition(
        fmt::format("mlock: [{:#x}, {:#x}) is locked, but holds PROT_NONE pages, which Linux cannot populate", start,
                    end),
        "ENOMEM");
  }
  return Status::OK();
}

Status AddressSpace::Munlock(uint64_t addr, uint64_t length) {
  const uint64_t start = addr & ~page_mask_;
  const uint64_t len = (length + (addr - start) + page_mask_) & ~page_mask_;  // as mlock
  if (len == 0) return Status::OK();
  if (start + len < start) return Status::InvalidArgument(fmt::format("munlock: [{:#x}, +{:#x}) wraps around", addr, length));
  const uint64_t end = start + len;
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  if (end > top_) {
    return Status::InvalidArgument(
        fmt::format("munlock: [{:#x}, {:#x}) runs past the end of the address space", start, end), "ENOMEM");
  }
  if (!vmas_.Covers(start, end)) {
    return Status::FailedPrecondition(fmt::format("munlock: [{:#x}, {:#x}) contains unmapped pages", start, end), "ENOMEM");
  }
  MEMSERVER_RETURN_IF_ERROR(
      CheckMapCountLocked(vmas_.CountAfterUpdate(start, end, [](Vma& x) { x.vm &= ~kVmLocked; }), "munlock"));
  UnlockRangeLocked(start, end);
  return Status::OK();
}

Status AddressSpace::Mlockall(uint32_t flags) {
  if (flags == 0 || (flags & ~(kMclCurrent | kMclFuture))) {
    return Status::InvalidArgument("mlockall flags must be MCL_CURRENT and/or MCL_FUTURE");
  }
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  if (limits_.memlock == 0) {
    return Status::PermissionDenied("mlockall: RLIMIT_MEMLOCK is 0, so this process may not lock memory", "EPERM");
  }
  if (flags & kMclCurrent) MEMSERVER_RETURN_IF_ERROR(LockRangeLocked(0, top_));
  lock_future_ = (flags & kMclFuture) != 0;
  return Status::OK();
}

Status AddressSpace::Munlockall() {
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  UnlockRangeLocked(0, top_);
  lock_future_ = false;
  return Status::OK();
}

Status AddressSpace::SyncObjectRangeLocked(const Vma& vma, uint64_t start, uint64_t end) {
  MemoryObject* object = vma.object.get();
  std::vector<Page*> pages;
  std::shared_lock<std::shared_mutex> ol(object->mu());
  object->ForEach(ObjectIndex(vma, start >> page_shift_), ObjectIndex(vma, end >> page_shift_),
                  [&](uint64_t, Page* page) { pages.push_back(page); });
  return pager_->Sync(pages);
}

Status AddressSpace::Madvise(uint64_t addr, uint64_t length, int advice, const CallControl& control) {
  // Checks in the order of Linux's do_madvise.
  switch (advice) {
    case kMadvNormal: case kMadvRandom: case kMadvSequential: case kMadvWillNeed: case kMadvDontNeed:
    case kMadvFree: case kMadvDontFork: case kMadvDoFork: case kMadvWipeOnFork: case kMadvKeepOnFork:
      break;
    default:
      return Status::InvalidArgument(fmt::format("unknown madvise advice {}", advice));
  }
  if (addr & page_mask_) return Status::InvalidArgument(fmt::format("madvise address {:#x} is not page-aligned", addr));
  if (length == 0) return Status::OK();
  uint64_t end;
  if (!RoundedEnd(addr, length, &end)) {
    return Status::InvalidArgument(fmt::format("madvise: [{:#x}, +{:#x}) wraps around", addr, length));
  }
  if (end > top_) {
    return Status::InvalidArgument(
        fmt::format("madvise: [{:#x}, {:#x}) runs past the end of the address space", addr, end), "ENOMEM");
  }
  if (advice == kMadvWillNeed) return WillNeed(addr, end, control);
  ReleaseBatch release;
  Status s;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    if (!vmas_.Covers(addr, end)) {
      return Status::FailedPrecondition(fmt::format("madvise: [{:#x}, {:#x}) contains unmapped pages", addr, end),
                                        "ENOMEM");
    }
    const std::vector<Vma> pieces = vmas_.Intersecting(addr, end);
    // Check first so that an invalid piece changes nothing.
    for (const Vma& v : pieces) {
      if ((advice == kMadvDontNeed || advice == kMadvFree) && (v.vm & kVmLocked)) {
        return Status::InvalidArgument("MADV_DONTNEED/MADV_FREE on locked memory");
      }
      if ((advice == kMadvFree || advice == kMadvWipeOnFork) && (v.is_shared() || v.object)) {
        return Status::InvalidArgument("MADV_FREE and MADV_WIPEONFORK apply to private anonymous memory only");
      }
    }
    uint32_t set = 0, clear = 0;
    if (advice == kMadvNormal) clear = kVmSequential | kVmRandom;
    if (advice == kMadvRandom) set = kVmRandom, clear = kVmSequential;
    if (advice == kMadvSequential) set = kVmSequential, clear = kVmRandom;
    if (advice == kMadvDontFork) set = kVmDontFork;
    if (advice == kMadvDoFork) clear = kVmDontFork;
    if (advice == kMadvWipeOnFork) set = kVmWipeOnFork;
    if (advice == kMadvKeepOnFork) clear = kVmWipeOnFork;
    const auto apply = [set, clear](Vma& x) { x.vm = (x.vm | set) & ~clear; };
    if (set | clear) MEMSERVER_RETURN_IF_ERROR(CheckMapCountLocked(vmas_.CountAfterUpdate(addr, end, apply), "madvise"));
    for (const Vma& v : pieces) {
      switch (advice) {
        case kMadvDontNeed:
          // Private pages go: anonymous memory reads zeros after, a private
          // file mapping reads the file again. Shared pages keep their content.
          if (!v.is_shared()) ReleasePagesLocked(v.start, v.end, &release);
          break;
        case kMadvFree:
          pages_.ForEach(v.start >> page_shift_, v.end >> page_shift_, [&](uint64_t, Page* page) {
            if (page->mappers() == 1) pager_->MarkLazyFree(page);
          });
          break;
        default:
          vmas_.Update(v.start, v.end, apply);
      }
    }
  }
  Status f = pager_->Flush(&release);
  return s.ok() ? f : s;
}

Status AddressSpace::Msync(uint64_t addr, uint64_t length, uint32_t flags, const SyncCommitter& committer) {
  // Argument checks in the order of Linux's msync(2): flags, alignment,
  // MS_ASYNC with MS_SYNC (EINVAL); a range that wraps when rounded up, or
  // runs past the address space, is ENOMEM as on Linux (INVALID_ARGUMENT:
  // the request is malformed).
  if (flags & ~(kMsAsync | kMsSync | kMsInvalidate)) return Status::InvalidArgument("unknown msync flags");
  if (addr & page_mask_) return Status::InvalidArgument(fmt::format("msync address {:#x} is not page-aligned", addr));
  if ((flags & kMsAsync) && (flags & kMsSync)) return Status::InvalidArgument("MS_ASYNC and MS_SYNC together");
  if (length == 0) return Status::OK();
  uint64_t end;
  if (!RoundedEnd(addr, length, &end) || end > top_) {
    return Status::InvalidArgument(
        fmt::format("msync: [{:#x}, +{:#x}) runs past the end of the address space", addr, length), "ENOMEM");
  }
  // One journal writer per process at a time: records of overlapping
  // ranges reach the journal in the order their content was taken.
  std::unique_lock<std::mutex> sync_lock(sync_mu_, std::defer_lock);
  if ((flags & kMsSync) && committer) sync_lock.lock();
  std::shared_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  if (!vmas_.Covers(addr, end)) {
    return Status::FailedPrecondition(fmt::format("msync: [{:#x}, {:#x}) contains unmapped pages", addr, end), "ENOMEM");
  }
  if (flags & kMsInvalidate) {
    for (const Vma& v : vmas_.Intersecting(addr, end)) {
      if (v.vm & kVmLocked) {
        return Status::FailedPrecondition("MS_INVALIDATE on locked memory", "EBUSY");
      }
    }
  }
  // Both MS_SYNC and MS_ASYNC write shared file mappings back now. MS_SYNC
  // with a committer (the engine's journal) also makes the range's
  // anonymous and private memory durable: when it returns, a crash keeps
  // what the range holds (server/engine/snapshotter.h).
  for (const Vma& v : vmas_.Intersecting(addr, end)) {
    if (v.is_shared() && v.object && v.object->kind() == MemoryObject::Kind::kFile) {
      MEMSERVER_RETURN_IF_ERROR(SyncObjectRangeLocked(v, v.start, v.end));
    }
    if ((flags & kMsSync) && committer) MEMSERVER_RETURN_IF_ERROR(SyncPieceLocked(v, v.start, v.end, committer));
  }
  return Status::OK();
}

}  // namespace memserver
