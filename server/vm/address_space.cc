// AddressSpace: mmap, munmap, mprotect, mremap, brk, limits, teardown.
#include "server/vm/address_space.h"

#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <mutex>

namespace memserver {

AddressSpace::AddressSpace(const EngineOptions& options, Pager* pager)
    : options_(options),
      pager_(pager),
      page_shift_(static_cast<unsigned>(std::countr_zero(options.page_size))),
      page_mask_(options.page_size - 1),
      top_(1ull << options.address_bits),
      vmas_(page_shift_, top_),
      pages_(options.address_bits - page_shift_, pager->slab()) {
  limits_.as = options.default_rlimit_as;
  limits_.data = options.default_rlimit_data;
  limits_.stack = options.default_rlimit_stack;
  limits_.memlock = options.default_rlimit_memlock;
  // Without exec, the heap starts at an eighth of the address space, far
  // below the top-down mmap area.
  brk_start_ = brk_ = top_ / 8;
}

AddressSpace::~AddressSpace() { Teardown(); }

Status AddressSpace::CheckRange(uint64_t addr, uint64_t length, uint64_t* end) const {
  if (addr & page_mask_) {
    return Status::InvalidArgument(fmt::format("address {:#x} is not page-aligned (page size {})", addr,
                                               options_.page_size));
  }
  if (length == 0) return Status::InvalidArgument("length must be greater than 0");
  if (length > top_ || addr > top_ - length) {
    return Status::InvalidArgument(fmt::format(
        "range [{:#x}, +{:#x}) runs past the end of the {}-bit address space", addr, length,
        options_.address_bits));
  }
  *end = (addr + length + page_mask_) & ~page_mask_;
  return Status::OK();
}

uint64_t AddressSpace::DataBytesLocked() const {
  // Linux's data_vm: private writable mappings that are not the stack.
  return vmas_.data_bytes();
}

Status AddressSpace::CheckMapLimitsLocked(uint64_t add_bytes, bool counts_as_data) const {
  if (limits_.as != kUnlimited && vmas_.total_bytes() + add_bytes > limits_.as) {
    return Status::ResourceExhausted(fmt::format(
        "RLIMIT_AS: mapping {:#x} more bytes would exceed the limit of {:#x}", add_bytes, limits_.as));
  }
  if (counts_as_data && limits_.data != kUnlimited && DataBytesLocked() + add_bytes > limits_.data) {
    return Status::ResourceExhausted(fmt::format(
        "RLIMIT_DATA: {:#x} more private writable bytes would exceed the limit of {:#x}", add_bytes,
        limits_.data));
  }
  if (vmas_.size() >= options_.max_mappings) {
    return Status::ResourceExhausted(
        fmt::format("process has reached the limit of {} mappings", options_.max_mappings));
  }
  return Status::OK();
}

Status AddressSpace::Mmap(const MmapArgs& args, std::shared_ptr<MemoryObject> file, uint64_t* addr) {
  ReleaseBatch release;
  Status s;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    s = MmapLocked(args, std::move(file), addr, &release);
  }
  Status f = pager_->Flush(&release);
  return s.ok() ? f : s;
}

Status AddressSpace::MmapLocked(const MmapArgs& args, std::shared_ptr<MemoryObject> file, uint64_t* addr,
                                ReleaseBatch* release) {
  if (args.length == 0) return Status::InvalidArgument("mmap length must be greater than 0");
  if (args.prot & ~kProtMask) {
    return Status::InvalidArgument(fmt::format("unknown prot bits {:#x} (valid: READ=1 WRITE=2 EXEC=4)",
                                               args.prot & ~kProtMask));
  }
  if (args.flags & ~kMapSupported) {
    return Status::InvalidArgument(fmt::format("unsupported mmap flag bits {:#x}", args.flags & ~kMapSupported));
  }
  const bool shared = args.flags & kMapShared, priv = args.flags & kMapPrivate;
  if (shared == priv) return Status::InvalidArgument("exactly one of MAP_SHARED and MAP_PRIVATE is required");
  const bool anonymous = args.flags & kMapAnonymous;
  if (!anonymous && !file) return Status::InvalidArgument("a file mapping needs a file", "EBADF");
  if (args.length > top_) {
    return Status::ResourceExhausted(fmt::format("mmap length {:#x} exceeds the address space", args.length));
  }
  if (!anonymous && (args.offset & page_mask_)) {
    return Status::InvalidArgument(fmt::format("file offset {:#x} is not page-aligned", args.offset));
  }
  const uint64_t len = (args.length + page_mask_) & ~page_mask_;
  if (!anonymous && args.offset > (1ull << 52) - len) {
    return Status::InvalidArgument("file offset + length overflows the largest file", "EOVERFLOW");
  }
  const bool fixed = args.flags & (kMapFixed | kMapFixedNoReplace);
  if (fixed) {
    if (args.addr & page_mask_) {
      return Status::InvalidArgument(fmt::format("MAP_FIXED address {:#x} is not page-aligned", args.addr));
    }
    if (args.addr > top_ - len) {
      return Status::ResourceExhausted(
          fmt::format("MAP_FIXED range [{:#x}, +{:#x}) is outside the address space", args.addr, len));
    }
    if (args.addr < options_.mmap_min_addr) {
      return Status::PermissionDenied(
          fmt::format("MAP_FIXED address {:#x} is below mmap_min_addr {:#x}", args.addr, options_.mmap_min_addr),
          "EPERM");
    }
  }
  const bool locked = (args.flags & kMapLocked) || lock_future_;
  if (locked && limits_.memlock != kUnlimited && locked_bytes_ + len > limits_.memlock) {
    return Status::ResourceExhausted(
        fmt::format("RLIMIT_MEMLOCK: locking {:#x} more bytes would exceed the limit of {:#x}", len, limits_.memlock),
        "EAGAIN");
  }

  uint64_t start;
  uint64_t replaced = 0;
  if (fixed) {
    start = args.addr;
    if (vmas_.Overlaps(start, start + len)) {
      if (args.flags & kMapFixedNoReplace) {
        return Status::AlreadyExists(
            fmt::format("MAP_FIXED_NOREPLACE: [{:#x}, {:#x}) overlaps an existing mapping", start, start + len));
      }
      for (const Vma& v : vmas_.Intersecting(start, start + len)) replaced += v.length();
    }
  } else {
    const uint64_t hint = args.addr & ~page_mask_;
    if (hint >= options_.mmap_min_addr && hint <= top_ - len && !vmas_.Overlaps(hint, hint + len)) {
      start = hint;
    } else if (!vmas_.FindGapTopDown(len, options_.mmap_min_addr, mmap_base(), options_.page_size, &start)) {
      return Status::ResourceExhausted(fmt::format("no free range of {:#x} bytes left in the address space", len));
    }
  }
  const bool data = priv && (args.prot & kProtWrite);
  if (len > replaced) MEMSERVER_RETURN_IF_ERROR(CheckMapLimitsLocked(len - replaced, data));
  if (replaced > 0) UnmapLocked(start, start + len, release);

  Vma vma;
  vma.start = start;
  vma.end = start + len;
  vma.prot = args.prot;
  vma.flags = args.flags & (kMapShared | kMapPrivate | kMapAnonymous);
  if (!anonymous) {
    vma.object = std::move(file);
    vma.pgoff = args.offset >> page_shift_;
  } else if (shared) {
    vma.object = std::make_shared<MemoryObject>(MemoryObject::Kind::kShmem, pager_, 0, len);
  }
  vmas_.Insert(vma);
  *addr = start;

  if (locked) {
    Status s = LockRangeLocked(start, start + len);
    if (!s.ok()) {
      UnmapLocked(start, start + len, release);
      return s;
    }
  } else if (args.flags & kMapPopulate) {
    // Best effort, as Linux: a failure to populate does not fail mmap.
    Status s = PopulateLocked(vma, start, start + len);
    (void)s;
  }
  return Status::OK();
}

Status AddressSpace::Munmap(uint64_t addr, uint64_t length) {
  uint64_t end;
  MEMSERVER_RETURN_IF_ERROR(CheckRange(addr, length, &end));
  ReleaseBatch release;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    UnmapLocked(addr, end, &release);
  }
  return pager_->Flush(&release);
}

void AddressSpace::UnmapLocked(uint64_t start, uint64_t end, ReleaseBatch* release) {
  for (const Vma& v : vmas_.Intersecting(start, end)) {
    if (v.vm & kVmLocked) {
      UnlockPagesLocked(v, v.start, v.end);
      locked_bytes_ -= v.length();
      pager_->ReleaseLockBudget(v.length() >> page_shift_);
    }
    if (v.is_shared() && v.object && v.object->kind() == MemoryObject::Kind::kFile) {
      // Shared file pages reach the file store on munmap.
      Status s = SyncObjectRangeLocked(v, v.start, v.end);
      (void)s;  // still dirty in the page cache: eviction or a later msync writes it
    }
  }
  vmas_.Remove(start, end);
  ReleasePagesLocked(start, end, release);
}

void AddressSpace::DiscardPrivateCopies(const MemoryObject* object, uint64_t from_index) {
  ReleaseBatch release;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return;
    for (const Vma& v : vmas_.Intersecting(0, top_)) {
      if (v.object.get() != object || v.is_shared()) continue;
      const uint64_t start_vpn = v.start >> page_shift_;
      const uint64_t end_vpn = v.end >> page_shift_;
      const uint64_t first = from_index <= v.pgoff ? start_vpn : start_vpn + (from_index - v.pgoff);
      if (first >= end_vpn) continue;
      const bool locked = (v.vm & kVmLocked) != 0;
      pages_.ClearRange(first, end_vpn, [&](uint64_t, Page* page) {
        if (locked) pager_->Unlock(page);
        pager_->Unref(page, &release);
      });
    }
  }
  Status s = pager_->Flush(&release);
  (void)s;  // a swap key left behind is reported by CheckInvariants
}

void AddressSpace::ReleasePagesLocked(uint64_t start, uint64_t end, ReleaseBatch* batch) {
  pages_.ClearRange(start >> page_shift_, end >> page_shift_,
                    [&](uint64_t, Page* page) { pager_->Unref(page, batch); });
}

Status AddressSpace::Mprotect(uint64_t addr, uint64_t length, uint32_t prot) {
  if (prot & ~kProtMask) {
    return Status::InvalidArgument(fmt::format("unknown prot bits {:#x} (valid: READ=1 WRITE=2 EXEC=4)",
                                               prot & ~kProtMask));
  }
  uint64_t end;
  MEMSERVER_RETURN_IF_ERROR(CheckRange(addr, length, &end));
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  if (!vmas_.Covers(addr, end)) {
    return Status::FailedPrecondition(
        fmt::format("mprotect: [{:#x}, {:#x}) contains unmapped pages; nothing changed", addr, end), "ENOMEM");
  }
  vmas_.Protect(addr, end, prot);
  return Status::OK();
}

Status AddressSpace::Mremap(uint64_t old_addr, uint64_t old_size, uint64_t new_size, uint32_t flags,
                            uint64_t new_addr, uint64_t* result) {
  if (old_addr & page_mask_) return Status::InvalidArgument(fmt::format("old address {:#x} is not page-aligned", old_addr));
  if (flags & ~(kMremapMayMove | kMremapFixed)) return Status::InvalidArgument("unknown mremap flags");
  if ((flags & kMremapFixed) && !(flags & kMremapMayMove)) {
    return Status::InvalidArgument("MREMAP_FIXED requires MREMAP_MAYMOVE");
  }
  if (new_size == 0) return Status::InvalidArgument("new size must be greater than 0");
  if (old_size == 0) return Status::InvalidArgument("old size 0 (duplicating a shared mapping) is not supported");
  if (old_size > top_ || new_size > top_ || old_addr > top_ - old_size) {
    return Status::InvalidArgument("mremap range outside the address space");
  }
  const uint64_t old_len = (old_size + page_mask_) & ~page_mask_;
  const uint64_t new_len = (new_size + page_mask_) & ~page_mask_;
  ReleaseBatch release;
  Status s;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    const Vma* found = vmas_.Find(old_addr);
    if (found == nullptr || old_addr + old_len > found->end) {
      return Status::FailedPrecondition(
          fmt::format("mremap: [{:#x}, +{:#x}) is not inside one mapping", old_addr, old_len), "EFAULT");
    }
    const Vma vma = *found;
    if (flags & kMremapFixed) {
      if (new_addr & page_mask_) return Status::InvalidArgument("MREMAP_FIXED address is not page-aligned");
      if (new_addr > top_ - new_len || new_addr < options_.mmap_min_addr) {
        return Status::InvalidArgument("MREMAP_FIXED range is outside the address space");
      }
      if (new_addr < old_addr + old_len && old_addr < new_addr + new_len) {
        return Status::InvalidArgument("MREMAP_FIXED: old and new ranges overlap");
      }
      s = MoveLocked(vma, old_addr, old_len, new_addr, new_len, &release);
      if (s.ok()) *result = new_addr;
    } else if (new_len <= old_len) {
      if (new_len < old_len) UnmapLocked(old_addr + new_len, old_addr + old_len, &release);
      *result = old_addr;
    } else if (old_addr + old_len == vma.end && vma.end <= top_ - (new_len - old_len) &&
               !vmas_.Overlaps(vma.end, old_addr + new_len) &&
               (vma.vm & kVmGrowsDown) == 0) {
      // Grow in place.
      const uint64_t grow = new_len - old_len;
      s = CheckMapLimitsLocked(grow, !vma.is_shared() && (vma.prot & kProtWrite));
      if (s.ok() && (vma.vm & kVmLocked) && limits_.memlock != kUnlimited && locked_bytes_ + grow > limits_.memlock) {
        s = Status::ResourceExhausted("RLIMIT_MEMLOCK exceeded by growing a locked mapping", "EAGAIN");
      }
      if (s.ok()) {
        vmas_.SetEnd(vma.start, old_addr + new_len);
        if (vma.object && vma.object->kind() == MemoryObject::Kind::kShmem) {
          std::unique_lock<std::shared_mutex> ol(vma.object->mu());
          uint64_t need = (ObjectIndex(vma, (old_addr + new_len) >> page_shift_)) << page_shift_;
          if (need > vma.object->size()) s = vma.object->Resize(need, &release);
        }
        if (s.ok() && (vma.vm & kVmLocked)) {
          Vma grown = vma;
          grown.end = old_addr + new_len;
          if (!pager_->ReserveLockBudget(grow >> page_shift_)) {
            s = Status::ResourceExhausted("the server-wide mlock cap is reached", "EAGAIN");
          } else {
            s = LockPagesLocked(grown, vma.end, grown.end);
            if (s.ok()) {
              locked_bytes_ += grow;
            } else {
              pager_->ReleaseLockBudget(grow >> page_shift_);
            }
          }
          if (!s.ok()) vmas_.SetEnd(vma.start, vma.end);
        }
        if (s.ok()) *result = old_addr;
      }
    } else if (flags & kMremapMayMove) {
      uint64_t dest;
      if (!vmas_.FindGapTopDown(new_len, options_.mmap_min_addr, mmap_base(), options_.page_size, &dest)) {
        s = Status::ResourceExhausted("mremap: no free range for the moved mapping");
      } else {
        s = MoveLocked(vma, old_addr, old_len, dest, new_len, &release);
        if (s.ok()) *result = dest;
      }
    } else {
      s = Status::ResourceExhausted(
          "mremap: cannot grow in place (the next range is in use) and MREMAP_MAYMOVE was not given");
    }
  }
  Status f = pager_->Flush(&release);
  return s.ok() ? f : s;
}

Status AddressSpace::MoveLocked(const Vma& vma, uint64_t old_addr, uint64_t old_len, uint64_t new_addr,
                                uint64_t new_len, ReleaseBatch* release) {
  const bool data = !vma.is_shared() && (vma.prot & kProtWrite);
  if (new_len > old_len) MEMSERVER_RETURN_IF_ERROR(CheckMapLimitsLocked(new_len - old_len, data));
  if (vma.vm & kVmLocked) {
    if (new_len > old_len && limits_.memlock != kUnlimited && locked_bytes_ + new_len - old_len > limits_.memlock) {
      return Status::ResourceExhausted("RLIMIT_MEMLOCK exceeded by growing a locked mapping", "EAGAIN");
    }
  }
  // Clear the destination (MREMAP_FIXED replaces what is there).
  UnmapLocked(new_addr, new_addr + new_len, release);
  if (new_len < old_len) UnmapLocked(old_addr + new_len, old_addr + old_len, release);
  const uint64_t moved = std::min(old_len, new_len);
  Vma moved_vma = vma;
  moved_vma.start = new_addr;
  moved_vma.end = new_addr + new_len;
  if (vma.object) moved_vma.pgoff = ObjectIndex(vma, old_addr >> page_shift_);
  // Take the old range out without unlocking or releasing its pages: they move.
  vmas_.Remove(old_addr, old_addr + moved);
  const uint64_t old_vpn = old_addr >> page_shift_, new_vpn = new_addr >> page_shift_;
  std::vector<std::pair<uint64_t, Page*>> moving;
  pages_.ClearRange(old_vpn, old_vpn + (moved >> page_shift_),
                    [&](uint64_t vpn, Page* page) { moving.emplace_back(vpn - old_vpn + new_vpn, page); });
  for (auto& [vpn, page] : moving) pages_.Install(vpn, page);
  vmas_.Insert(moved_vma);
  if (moved_vma.object && moved_vma.object->kind() == MemoryObject::Kind::kShmem) {
    std::unique_lock<std::shared_mutex> ol(moved_vma.object->mu());
    uint64_t need = ObjectIndex(moved_vma, moved_vma.end >> page_shift_) << page_shift_;
    if (need > moved_vma.object->size()) MEMSERVER_RETURN_IF_ERROR(moved_vma.object->Resize(need, release));
  }
  if ((vma.vm & kVmLocked) && new_len > old_len) {
    const uint64_t grow = new_len - old_len;
    if (!pager_->ReserveLockBudget(grow >> page_shift_)) {
      moved_vma.vm &= ~kVmLocked;  // cannot lock the growth: unlock the moved mapping instead
      UnlockPagesLocked(moved_vma, new_addr, new_addr + old_len);
      vmas_.Update(new_addr, new_addr + new_len, [](Vma& v) { v.vm &= ~kVmLocked; });
      locked_bytes_ -= old_len;
      pager_->ReleaseLockBudget(old_len >> page_shift_);
      return Status::ResourceExhausted("the server-wide mlock cap is reached", "EAGAIN");
    }
    MEMSERVER_RETURN_IF_ERROR(LockPagesLocked(moved_vma, new_addr + old_len, new_addr + new_len));
    locked_bytes_ += grow;
  }
  return Status::OK();
}

Status AddressSpace::Brk(uint64_t addr, uint64_t* result) {
  ReleaseBatch release;
  Status s;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    if (addr != 0) s = BrkLocked(addr, &release);
    *result = brk_;
  }
  Status f = pager_->Flush(&release);
  return s.ok() ? f : s;
}

Status AddressSpace::Sbrk(int64_t increment, uint64_t* previous) {
  ReleaseBatch release;
  Status s;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    *previous = brk_;
    if (increment != 0) {
      if ((increment < 0 && static_cast<uint64_t>(-increment) > brk_ - brk_start_) ||
          (increment > 0 && static_cast<uint64_t>(increment) > top_ - brk_)) {
        s = Status::ResourceExhausted(fmt::format("sbrk({}) moves the break outside the heap", increment));
      } else {
        s = BrkLocked(brk_ + increment, &release);
      }
    }
  }
  Status f = pager_->Flush(&release);
  return s.ok() ? f : s;
}

Status AddressSpace::BrkLocked(uint64_t addr, ReleaseBatch* release) {
  if (addr < brk_start_ || addr > mmap_base()) {
    return Status::ResourceExhausted(
        fmt::format("brk {:#x} is outside the heap [{:#x}, {:#x})", addr, brk_start_, mmap_base()));
  }
  const uint64_t old_end = (brk_ + page_mask_) & ~page_mask_;
  const uint64_t new_end = (addr + page_mask_) & ~page_mask_;
  if (new_end > old_end) {
    const uint64_t grow = new_end - old_end;
    if (vmas_.Overlaps(old_end, new_end + options_.page_size)) {
      return Status::ResourceExhausted(fmt::format("brk {:#x}: the heap would run into a mapping", addr));
    }
    if (limits_.data != kUnlimited && DataBytesLocked() + grow > limits_.data) {
      return Status::ResourceExhausted(
          fmt::format("RLIMIT_DATA: growing the heap to {:#x} exceeds the limit of {:#x}", addr, limits_.data));
    }
    MEMSERVER_RETURN_IF_ERROR(CheckMapLimitsLocked(grow, false));
    Vma heap;
    heap.start = old_end;
    heap.end = new_end;
    heap.prot = kProtRead | kProtWrite;
    heap.flags = kMapPrivate | kMapAnonymous;
    heap.vm = kVmHeap;
    vmas_.Insert(heap);  // merges with the existing heap mapping
    if (lock_future_) {
      Status s = LockRangeLocked(old_end, new_end);
      if (!s.ok()) {
        UnmapLocked(old_end, new_end, release);
        return s;
      }
    }
  } else if (new_end < old_end) {
    UnmapLocked(new_end, old_end, release);  // shrinking frees the pages
  }
  brk_ = addr;
  return Status::OK();
}

ProcessLimits AddressSpace::limits() const {
  std::shared_lock<std::shared_mutex> lock(mm_lock_);
  return limits_;
}

Status AddressSpace::SetLimits(const ProcessLimits& limits) {
  if (limits.stack != kUnlimited && limits.stack > kStackReserve - kStackGuardGap) {
    return Status::InvalidArgument(fmt::format("RLIMIT_STACK may be at most {:#x} bytes here",
                                               kStackReserve - kStackGuardGap));
  }
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  limits_ = limits;
  return Status::OK();
}

void AddressSpace::Teardown() {
  ReleaseBatch release;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return;
    dead_ = true;
    UnmapLocked(0, top_, &release);
  }
  Status s = pager_->Flush(&release);
  (void)s;  // leaked swap keys are reported by CheckInvariants
}

}  // namespace memserver
