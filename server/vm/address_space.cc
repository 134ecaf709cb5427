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

bool AddressSpace::RoundedEnd(uint64_t addr, uint64_t length, uint64_t* end) const {
  if (length > ~0ull - page_mask_) return false;  // PAGE_ALIGN(length) wraps to 0
  const uint64_t aligned = (length + page_mask_) & ~page_mask_;
  if (addr > ~0ull - aligned) return false;
  *end = addr + aligned;
  return true;
}

Status AddressSpace::CheckMapCountLocked(size_t after, const char* call) const {
  if (after <= options_.max_mappings || after <= vmas_.size()) return Status::OK();
  return Status::ResourceExhausted(fmt::format(
      "{} would leave the process {} mappings, over its limit of {} (max_mappings, as vm.max_map_count)", call,
      after, options_.max_mappings));
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
  return Status::OK();
}

Status AddressSpace::Mmap(const MmapArgs& args, std::shared_ptr<MemoryObject> file, uint64_t* addr,
                          const CallControl& control) {
  ReleaseBatch release;
  Status s;
  bool populate = false;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    s = MmapLocked(args, std::move(file), addr, &release);
    populate = s.ok() && (args.flags & kMapPopulate) && !(args.flags & kMapLocked) && !lock_future_;
  }
  Status f = pager_->Flush(&release);
  // Best effort, as Linux: a failure to populate does not fail mmap.
  if (populate) Populate(*addr, *addr + ((args.length + page_mask_) & ~page_mask_), control);
  return s.ok() ? f : s;
}

Status AddressSpace::MmapLocked(const MmapArgs& args, std::shared_ptr<MemoryObject> file, uint64_t* addr,
                                ReleaseBatch* release) {
  // Checks in the order of Linux's do_mmap and mmap_region.
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
  // Linux's file_mmap_ok: a regular file's offsets end at MAX_LFS_FILESIZE.
  if (!anonymous && args.offset > kMaxFileOffset - len) {
    return Status::InvalidArgument(
        fmt::format("file offset {:#x} + length {:#x} overflows the largest file offset", args.offset, len),
        "EOVERFLOW");
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
  if (locked && limits_.memlock == 0) {
    return Status::PermissionDenied("MAP_LOCKED with RLIMIT_MEMLOCK 0: this process may not lock memory", "EPERM");
  }
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
    // MAP_32BIT (x86-64): the first 2 GiB, above 1 GiB, as Linux places it.
    const uint64_t low = (args.flags & kMap32Bit) ? std::max<uint64_t>(options_.mmap_min_addr, 1ull << 30) : options_.mmap_min_addr;
    const uint64_t high = (args.flags & kMap32Bit) ? std::min<uint64_t>(mmap_base(), 2ull << 30) : mmap_base();
    const uint64_t hint = args.addr & ~page_mask_;
    const uint64_t hint_limit = (args.flags & kMap32Bit) ? high : top_;
    if (hint >= low && hint <= hint_limit && len <= hint_limit - hint && !vmas_.Overlaps(hint, hint + len)) {
      start = hint;
    } else if (!vmas_.FindGapTopDown(len, low, high, options_.page_size, &start)) {
      return Status::ResourceExhausted(fmt::format("no free range of {:#x} bytes left in the address space", len));
    }
  }
  const bool data = priv && (args.prot & kProtWrite);
  if (len > replaced) MEMSERVER_RETURN_IF_ERROR(CheckMapLimitsLocked(len - replaced, data));
  // One mapping more, less those it replaces whole (merging is not counted).
  MEMSERVER_RETURN_IF_ERROR(CheckMapCountLocked(vmas_.CountAfterRemove(start, start + len) + 1, "mmap"));
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
    bool unpopulated = false;
    Status s = LockRangeLocked(start, start + len, &unpopulated);
    if (!s.ok()) {
      UnmapLocked(start, start + len, release);
      return s;
    }
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
    // Unmapping the middle of a mapping leaves one more.
    MEMSERVER_RETURN_IF_ERROR(CheckMapCountLocked(vmas_.CountAfterRemove(addr, end), "munmap"));
    UnmapLocked(addr, end, &release);
  }
  return pager_->Flush(&release);
}

void AddressSpace::UnmapLocked(uint64_t start, uint64_t end, ReleaseBatch* release) {
  for (const Vma& v : vmas_.Intersecting(start, end)) {
    if (v.vm & kVmLocked) {
      UnlockPagesLocked(v, v.start, v.end);
      locked_bytes_ -= v.length();
      ReleaseLockBudget(v.length() >> page_shift_);
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
    MarkLayoutChanged();
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
  // Checks in the order of Linux's do_mprotect_pkey.
  if (addr & page_mask_) {
    return Status::InvalidArgument(fmt::format("mprotect address {:#x} is not page-aligned", addr));
  }
  if (length == 0) return Status::OK();
  uint64_t end;
  if (!RoundedEnd(addr, length, &end) || end > top_) {  // Linux: ENOMEM; a malformed request all the same
    return Status::InvalidArgument(
        fmt::format("mprotect: [{:#x}, +{:#x}) runs past the end of the address space", addr, length), "ENOMEM");
  }
  if (prot & ~kProtMask) {
    return Status::InvalidArgument(fmt::format("unknown prot bits {:#x} (valid: READ=1 WRITE=2 EXEC=4)",
                                               prot & ~kProtMask));
  }
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  if (!vmas_.Covers(addr, end)) {
    return Status::FailedPrecondition(
        fmt::format("mprotect: [{:#x}, {:#x}) contains unmapped pages; nothing changed", addr, end), "ENOMEM");
  }
  MEMSERVER_RETURN_IF_ERROR(
      CheckMapCountLocked(vmas_.CountAfterUpdate(addr, end, [prot](Vma& v) { v.prot = prot; }), "mprotect"));
  vmas_.Protect(addr, end, prot);
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
    Vma as_locked = heap;  // what it becomes under mlockall(MCL_FUTURE)
    if (lock_future_) as_locked.vm |= kVmLocked;
    MEMSERVER_RETURN_IF_ERROR(CheckMapCountLocked(vmas_.CountAfterInsert(as_locked), "brk"));
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
