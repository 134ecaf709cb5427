// AddressSpace: mlock/munlock, madvise, msync, MAP_POPULATE.
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
  for (uint64_t a = start; a < end; a += options_.page_size) {
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

Status AddressSpace::LockRangeLocked(uint64_t start, uint64_t end) {
  // Count what is not locked yet, check both limits, then lock; on failure
  // undo everything this call locked.
  uint64_t add = 0;
  std::vector<Vma> pieces;
  for (const Vma& v : vmas_.Intersecting(start, end)) {
    if (!(v.vm & kVmLocked)) {
      add += v.length();
      pieces.push_back(v);
    }
  }
  if (add == 0) return Status::OK();
  if (limits_.memlock != kUnlimited && locked_bytes_ + add > limits_.memlock) {
    return Status::ResourceExhausted(
        fmt::format("RLIMIT_MEMLOCK: locking {:#x} more bytes would exceed the limit of {:#x}", add, limits_.memlock),
        "ENOMEM");
  }
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
  // As Linux: addr is rounded down to a page, the range must be mapped.
  const uint64_t start = addr & ~page_mask_;
  if (length == 0) return Status::OK();
  uint64_t end;
  MEMSERVER_RETURN_IF_ERROR(CheckRange(start, length + (addr - start), &end));
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  if (!vmas_.Covers(start, end)) {
    return Status::FailedPrecondition(fmt::format("mlock: [{:#x}, {:#x}) contains unmapped pages", start, end), "ENOMEM");
  }
  return LockRangeLocked(start, end);
}

Status AddressSpace::Munlock(uint64_t addr, uint64_t length) {
  const uint64_t start = addr & ~page_mask_;
  if (length == 0) return Status::OK();
  uint64_t end;
  MEMSERVER_RETURN_IF_ERROR(CheckRange(start, length + (addr - start), &end));
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  if (!vmas_.Covers(start, end)) {
    return Status::FailedPrecondition(fmt::format("munlock: [{:#x}, {:#x}) contains unmapped pages", start, end), "ENOMEM");
  }
  UnlockRangeLocked(start, end);
  return Status::OK();
}

Status AddressSpace::Mlockall(uint32_t flags) {
  if (flags == 0 || (flags & ~(kMclCurrent | kMclFuture))) {
    return Status::InvalidArgument("mlockall flags must be MCL_CURRENT and/or MCL_FUTURE");
  }
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
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

Status AddressSpace::PopulateLocked(const Vma& vma, uint64_t start, uint64_t end) {
  const bool for_write = !vma.is_shared() ? (vma.prot & kProtWrite) && !vma.object : true;
  for (uint64_t a = start; a < end; a += options_.page_size) {
    Page* page;
    std::shared_lock<std::shared_mutex> object_lock;
    MEMSERVER_RETURN_IF_ERROR(ResolveLocked(vma, a >> page_shift_, /*create=*/for_write, &page, &object_lock));
    if (page) MEMSERVER_RETURN_IF_ERROR(pager_->Prefetch(page, for_write, &faults_));
  }
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

Status AddressSpace::Madvise(uint64_t addr, uint64_t length, int advice) {
  if (addr & page_mask_) return Status::InvalidArgument(fmt::format("madvise address {:#x} is not page-aligned", addr));
  switch (advice) {
    case kMadvNormal: case kMadvRandom: case kMadvSequential: case kMadvWillNeed: case kMadvDontNeed:
    case kMadvFree: case kMadvDontFork: case kMadvDoFork: case kMadvWipeOnFork: case kMadvKeepOnFork:
      break;
    default:
      return Status::InvalidArgument(fmt::format("unknown madvise advice {}", advice));
  }
  if (length == 0) return Status::OK();
  uint64_t end;
  MEMSERVER_RETURN_IF_ERROR(CheckRange(addr, length, &end));
  ReleaseBatch release;
  std::vector<Page*> prefetch;
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
        case kMadvWillNeed:
          for (uint64_t a = v.start; a < v.end; a += options_.page_size) {
            Page* page;
            std::shared_lock<std::shared_mutex> ol;
            if (ResolveLocked(v, a >> page_shift_, false, &page, &ol).ok() && page) {
              pager_->Ref(page);
              prefetch.push_back(page);
            }
          }
          break;
        default: {
          uint32_t set = 0, clear = 0;
          if (advice == kMadvNormal) clear = kVmSequential | kVmRandom;
          if (advice == kMadvRandom) set = kVmRandom, clear = kVmSequential;
          if (advice == kMadvSequential) set = kVmSequential, clear = kVmRandom;
          if (advice == kMadvDontFork) set = kVmDontFork;
          if (advice == kMadvDoFork) clear = kVmDontFork;
          if (advice == kMadvWipeOnFork) set = kVmWipeOnFork;
          if (advice == kMadvKeepOnFork) clear = kVmWipeOnFork;
          vmas_.Update(v.start, v.end, [&](Vma& x) { x.vm = (x.vm | set) & ~clear; });
        }
      }
    }
  }
  if (!prefetch.empty()) pager_->PrefetchAsync(std::move(prefetch));  // returns at once
  Status f = pager_->Flush(&release);
  return s.ok() ? f : s;
}

Status AddressSpace::Msync(uint64_t addr, uint64_t length, uint32_t flags, const SyncCommitter& committer) {
  if (addr & page_mask_) return Status::InvalidArgument(fmt::format("msync address {:#x} is not page-aligned", addr));
  if (flags & ~(kMsAsync | kMsSync | kMsInvalidate)) return Status::InvalidArgument("unknown msync flags");
  if ((flags & kMsAsync) && (flags & kMsSync)) return Status::InvalidArgument("MS_ASYNC and MS_SYNC together");
  if (length == 0) return Status::OK();
  uint64_t end;
  MEMSERVER_RETURN_IF_ERROR(CheckRange(addr, length, &end));
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
