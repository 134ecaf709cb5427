// AddressSpace: mremap(2), as Linux's mm/mremap.c (and gVisor's MRemap,
// pkg/sentry/mm/syscalls.go, whose matrix this follows).
//
// old and new are old_size and new_size rounded up to whole pages; an
// old_size that rounds up past 2^64 counts as 0, a new one is EINVAL.
//
//   move        | old = 0      | old < new               | old = new | old > new
//   ------------+--------------+-------------------------+-----------+-----------------
//   (none)      | ENOMEM [1]   | grow in place           | no-op     | shrink in place
//   MAYMOVE     | copy [1]     | grow in place, or move  | no-op     | shrink in place
//   MAYMOVE|    | copy         | move and grow           | move      | shrink and move
//     FIXED     |              |                         |           |
//
// [1] growing in place is impossible: the mapping at old_addr already holds
//     the range a copy would grow into. So without MAYMOVE it fails, with
//     MAYMOVE it copies elsewhere.
//
// Every case needs a mapping at old_addr (EFAULT).
//   - Shrinking in place only unmaps [old_addr + new, old_addr + old): the
//     old range may span mappings, or holes, past old_addr.
//   - Growing and moving need [old_addr, old_addr + old) inside one mapping
//     (EFAULT). Growing in place also needs that range to end where the
//     mapping ends, and the range after it free; a stack (grows down) never
//     grows up in place.
//   - "copy" (old = 0) duplicates a shared mapping: a second mapping of the
//     same object at the same offset, the first left alone. For a private
//     mapping that would be a new, unrelated mapping: EINVAL (Linux 4.14).
//   - MREMAP_FIXED first unmaps the destination, then (old > new) the old
//     range's tail, and only then checks the old range: when that check
//     fails (EFAULT, EINVAL), what it unmapped stays unmapped, as on Linux.
//   - A locked mapping may not grow past RLIMIT_MEMLOCK: EAGAIN, even when
//     the limit is 0 (mremap does not check can_do_mlock, unlike mlock).
//   - Growth counts against RLIMIT_AS and RLIMIT_DATA (ENOMEM).
//   - A shared anonymous mapping grown past its object (mapping more pages
//     than the mmap that made it) is a bus error there: the object keeps the
//     size it was created with, as Linux's shmem file does.
//   - Mapping count: a move needs count < max_mappings - 3, and MREMAP_FIXED
//     count + 2 < max_mappings - 3, checked before anything changes (Linux's
//     move_vma and mremap_to); shrinking in place follows munmap's rule.
// Pages move with their mapping (no copy); locked pages stay locked.
#include <fmt/format.h>

#include <mutex>

#include "server/vm/address_space.h"

namespace memserver {

namespace {
// Linux's move_vma (and mremap_to) refuse to start a move that could split
// its way past the limit: they want the count `margin` below it.
Status MoveCountError(size_t count, size_t margin) {
  return Status::ResourceExhausted(fmt::format(
      "mremap: moving a mapping needs fewer than max_mappings - {} mappings (as Linux's move_vma); the process has {}",
      margin, count));
}
}  // namespace

Status AddressSpace::CheckLockGrowthLocked(const Vma& vma, uint64_t grow) const {
  if (!(vma.vm & kVmLocked) || grow == 0 || limits_.memlock == kUnlimited) return Status::OK();
  if (locked_bytes_ + grow <= limits_.memlock) return Status::OK();
  return Status::ResourceExhausted(
      fmt::format("RLIMIT_MEMLOCK: growing a locked mapping by {:#x} bytes would exceed the limit of {:#x}", grow,
                  limits_.memlock),
      "EAGAIN");
}

Status AddressSpace::Mremap(uint64_t old_addr, uint64_t old_size, uint64_t new_size, uint32_t flags,
                            uint64_t new_addr, uint64_t* result) {
  if (flags & ~(kMremapMayMove | kMremapFixed)) {
    return Status::InvalidArgument(fmt::format("unknown mremap flag bits {:#x}", flags & ~(kMremapMayMove | kMremapFixed)));
  }
  if ((flags & kMremapFixed) && !(flags & kMremapMayMove)) {
    return Status::InvalidArgument("MREMAP_FIXED requires MREMAP_MAYMOVE");
  }
  if (old_addr & page_mask_) return Status::InvalidArgument(fmt::format("old address {:#x} is not page-aligned", old_addr));
  const uint64_t old_len = old_size > ~0ull - page_mask_ ? 0 : (old_size + page_mask_) & ~page_mask_;
  if (new_size == 0 || new_size > ~0ull - page_mask_) {
    return Status::InvalidArgument("new size must be greater than 0 and not overflow when rounded up to a page");
  }
  uint64_t new_len = (new_size + page_mask_) & ~page_mask_;
  if (old_addr >= top_ || old_len > top_ - old_addr) {
    return Status::InvalidArgument(fmt::format("mremap: [{:#x}, +{:#x}) is outside the address space", old_addr, old_len));
  }
  const bool fixed = flags & kMremapFixed;
  if (fixed) {
    if (new_addr & page_mask_) return Status::InvalidArgument("MREMAP_FIXED address is not page-aligned");
    if (new_len > top_ || new_addr > top_ - new_len) {
      return Status::InvalidArgument("MREMAP_FIXED range is outside the address space");
    }
    if (old_addr + old_len > new_addr && new_addr + new_len > old_addr) {
      return Status::InvalidArgument("MREMAP_FIXED: old and new ranges overlap");
    }
    if (new_addr < options_.mmap_min_addr) {
      return Status::PermissionDenied(
          fmt::format("MREMAP_FIXED address {:#x} is below mmap_min_addr {:#x}", new_addr, options_.mmap_min_addr),
          "EPERM");
    }
  }
  ReleaseBatch release;
  Status s;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    const Vma* found = vmas_.Find(old_addr);
    if (found == nullptr) {
      return Status::FailedPrecondition(fmt::format("mremap: nothing is mapped at {:#x}", old_addr), "EFAULT");
    }
    uint64_t len = old_len;
    if (!fixed && new_len <= len) {
      // No-op or shrink in place: munmap of the tail.
      if (new_len < len) {
        s = CheckMapCountLocked(vmas_.CountAfterRemove(old_addr + new_len, old_addr + len), "mremap");
        if (s.ok()) UnmapLocked(old_addr + new_len, old_addr + len, &release);
      }
      if (s.ok()) *result = old_addr;
    } else {
      if (fixed) {
        if (vmas_.size() + 2 + 3 >= options_.max_mappings) {
          s = MoveCountError(vmas_.size(), 5);
        } else {
          // Past this point Linux has changed the address space even if the
          // checks below fail.
          UnmapLocked(new_addr, new_addr + new_len, &release);
          if (len > new_len) {
            UnmapLocked(old_addr + new_len, old_addr + len, &release);
            len = new_len;
          }
          found = vmas_.Find(old_addr);  // the destination may have held it (old = 0)
        }
      }
      if (s.ok() && found == nullptr) {
        s = Status::FailedPrecondition(fmt::format("mremap: nothing is mapped at {:#x}", old_addr), "EFAULT");
      }
      if (s.ok() && old_addr + len > found->end) {
        s = Status::FailedPrecondition(
            fmt::format("mremap: [{:#x}, +{:#x}) is not inside one mapping", old_addr, len), "EFAULT");
      }
      if (s.ok() && len == 0 && !found->is_shared()) {
        s = Status::InvalidArgument("mremap with old size 0 duplicates shared mappings only");
      }
      if (s.ok() && found->object && found->pgoff + ((old_addr - found->start + new_len) >> page_shift_) < found->pgoff) {
        s = Status::InvalidArgument("mremap: the new size overflows the mapping's file offset");
      }
      const Vma vma = s.ok() ? *found : Vma();
      if (s.ok()) s = CheckLockGrowthLocked(vma, new_len - len);
      if (s.ok()) s = CheckMapLimitsLocked(new_len - len, !vma.is_shared() && (vma.prot & kProtWrite));
      if (s.ok() && fixed) {
        s = MoveLocked(vma, old_addr, len, new_addr, new_len, &release);
        if (s.ok()) *result = new_addr;
      } else if (s.ok()) {
        const bool room = vma.end <= top_ - (new_len - len) && !vmas_.Overlaps(vma.end, old_addr + new_len);
        if (len > 0 && old_addr + len == vma.end && room && !(vma.vm & kVmGrowsDown)) {
          s = GrowInPlaceLocked(vma, old_addr, len, new_len, &release);
          if (s.ok()) *result = old_addr;
        } else if (!(flags & kMremapMayMove)) {
          s = Status::ResourceExhausted(
              "mremap: cannot grow in place (the next range is in use) and MREMAP_MAYMOVE was not given");
        } else if (vmas_.size() + 3 >= options_.max_mappings) {
          s = MoveCountError(vmas_.size(), 3);
        } else {
          uint64_t dest;
          if (!vmas_.FindGapTopDown(new_len, options_.mmap_min_addr, mmap_base(), options_.page_size, &dest)) {
            s = Status::ResourceExhausted("mremap: no free range for the moved mapping");
          } else {
            s = MoveLocked(vma, old_addr, len, dest, new_len, &release);
            if (s.ok()) *result = dest;
          }
        }
      }
    }
  }
  Status f = pager_->Flush(&release);
  return s.ok() ? f : s;
}

Status AddressSpace::GrowInPlaceLocked(const Vma& vma, uint64_t old_addr, uint64_t old_len, uint64_t new_len,
                                       ReleaseBatch* release) {
  const uint64_t grow = new_len - old_len;
  const bool locked = vma.vm & kVmLocked;
  Status refused;
  if (locked && !ReserveLockBudget(grow >> page_shift_, &refused)) return refused;
  vmas_.SetEnd(vma.start, old_addr + new_len);
  if (locked) {
    Vma grown = vma;
    grown.end = old_addr + new_len;
    Status s = LockPagesLocked(grown, vma.end, grown.end);
    if (!s.ok()) {
      ReleaseLockBudget(grow >> page_shift_);
      vmas_.SetEnd(vma.start, vma.end);
      ReleasePagesLocked(vma.end, grown.end, release);  // pages the lock created
      return s;
    }
    locked_bytes_ += grow;
  }
  return Status::OK();
}

Status AddressSpace::MoveLocked(const Vma& vma, uint64_t old_addr, uint64_t old_len, uint64_t new_addr,
                                uint64_t new_len, ReleaseBatch* release) {
  Vma moved = vma;
  moved.start = new_addr;
  moved.end = new_addr + new_len;
  if (vma.object) moved.pgoff = ObjectIndex(vma, old_addr >> page_shift_);
  const bool locked = vma.vm & kVmLocked;
  // The pages that need a lock of their own: the growth of a move; all of
  // a copy (it maps the same object pages a second time).
  const uint64_t lock_from = new_addr + old_len;
  const uint64_t lock_pages = (moved.end - lock_from) >> page_shift_;
  if (locked && lock_pages > 0) {
    Status refused;
    if (!ReserveLockBudget(lock_pages, &refused)) return refused;
    // Locked before anything moves, through the new mapping's description
    // (its PTEs are free); undone completely on failure.
    Status s = LockPagesLocked(moved, lock_from, moved.end);
    if (!s.ok()) {
      ReleaseLockBudget(lock_pages);
      ReleasePagesLocked(lock_from, moved.end, release);
      return s;
    }
    locked_bytes_ += lock_pages << page_shift_;
  }
  if (old_len > 0) {
    // Take the old range out without unlocking or releasing its pages: they
    // move with their PTEs.
    vmas_.Remove(old_addr, old_addr + old_len);
    const uint64_t old_vpn = old_addr >> page_shift_, new_vpn = new_addr >> page_shift_;
    std::vector<std::pair<uint64_t, Page*>> moving;
    pages_.ClearRange(old_vpn, old_vpn + (old_len >> page_shift_),
                      [&](uint64_t vpn, Page* page) { moving.emplace_back(vpn - old_vpn + new_vpn, page); });
    for (auto& [vpn, page] : moving) pages_.Install(vpn, page);
  }
  vmas_.Insert(moved);
  return Status::OK();
}

}  // namespace memserver
