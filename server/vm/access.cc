// AddressSpace: byte-level reads and writes, and the faults they take:
// zero-fill, copy-on-write, stack growth, bus errors past end of file.
//
// Fault path (Linux's do_user_addr_fault, in two passes):
//   1. Under the shared mm lock, ValidateLocked checks every byte of the range
//      (map/access errors, SIGBUS past EOF) and whether any page needs a
//      change only the exclusive lock may make (copy-on-write of a shared
//      private page, growing the stack). Nothing is copied yet.
//   2. If so, the shared lock is dropped, FixupLocked makes the changes under
//      the exclusive lock, and we start over at 1.
//   3. Otherwise CopyLocked moves the bytes, still under the shared lock:
//      zero-fill and first file reads install pages with compare-and-swap;
//      the pager pages content in as needed (page stripe locks only).
#include <fmt/format.h>

#include <cstring>
#include <mutex>

#include "server/vm/address_space.h"

namespace memserver {

namespace {
// Fixups a single access may need before it goes through; more means a
// fork storm keeps re-sharing the pages, and the caller should retry.
constexpr int kMaxFixupRounds = 64;
}  // namespace

Status AddressSpace::Read(uint64_t addr, uint64_t length, char* out) {
  return Access(addr, length, out, /*write=*/false);
}

Status AddressSpace::Write(uint64_t addr, std::string_view data) {
  MarkChanged();  // before any byte moves: a snapshot that misses it sees the old bytes
  return Access(addr, data.size(), const_cast<char*>(data.data()), /*write=*/true);
}

Status AddressSpace::Access(uint64_t addr, uint64_t length, char* buf, bool write) {
  if (length == 0) return Status::InvalidArgument("length must be greater than 0");
  if (length > options_.max_io_bytes) {
    return Status::ResourceExhausted(
        fmt::format("{} of {} bytes exceeds the limit of {} bytes per request; split it",
                    write ? "write" : "read", length, options_.max_io_bytes),
        "E2BIG");
  }
  if (addr >= top_) return Status::Fault(FaultKind::kMapError, addr);
  for (int round = 0; round < kMaxFixupRounds; ++round) {
    {
      std::shared_lock<std::shared_mutex> lock(mm_lock_);
      if (dead_) return Status::NotFound("process has exited");
      bool fixup = false;
      MEMSERVER_RETURN_IF_ERROR(ValidateLocked(addr, length, write, &fixup));
      if (!fixup) return CopyLocked(addr, length, buf, write);
    }
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    MEMSERVER_RETURN_IF_ERROR(FixupLocked(addr, length, write));
  }
  return Status(StatusCode::kAborted, "the pages kept being re-shared by forks; retry the access", "EAGAIN");
}

Status AddressSpace::ValidateLocked(uint64_t addr, uint64_t length, bool write, bool* fixup) {
  if (length > top_ - addr) {
    MEMSERVER_RETURN_IF_ERROR(vmas_.CheckAccess(addr, top_ - addr, write));
    return Status::Fault(FaultKind::kMapError, top_);
  }
  Status s = vmas_.CheckAccess(addr, length, write);
  if (!s.ok()) {
    // A map error just below the stack may be the stack growing.
    if (s.fault_kind() == FaultKind::kMapError) {
      const Vma* next = vmas_.NextFrom(s.fault_address());
      if (next && (next->vm & kVmGrowsDown) && next->end - (s.fault_address() & ~page_mask_) <= limits_.stack) {
        *fixup = true;
        return Status::OK();
      }
    }
    return s;
  }
  const uint64_t end = addr + length;
  uint64_t a = addr;
  while (a < end) {
    const Vma* vma = vmas_.Find(a);
    const uint64_t stop = std::min(end, vma->end);
    if (vma->object) {
      // Pages wholly past the end of the file (or of a shmem object, which a
      // mapping grown by mremap can outsize) are a bus error.
      const uint64_t last_vpn = (stop - 1) >> page_shift_;
      const uint64_t eof_pages = vma->object->size_pages();
      if (ObjectIndex(*vma, last_vpn) >= eof_pages) {
        uint64_t first_bad_vpn = (vma->start >> page_shift_) + (eof_pages > vma->pgoff ? eof_pages - vma->pgoff : 0);
        return Status::Fault(FaultKind::kBusError, std::max(a, first_bad_vpn << page_shift_));
      }
    }
    if (write && !vma->is_shared()) {
      for (uint64_t vpn = a >> page_shift_; vpn <= (stop - 1) >> page_shift_; ++vpn) {
        Page* page = pages_.Lookup(vpn);
        if ((page && page->mappers() > 1) || (!page && vma->object)) {
          *fixup = true;  // copy-on-write: a fork's shared page, or a file page
          return Status::OK();
        }
      }
    }
    a = stop;
  }
  return Status::OK();
}

bool AddressSpace::TryGrowStackLocked(uint64_t addr) {
  const Vma* stack = vmas_.NextFrom(addr);
  if (!stack || !(stack->vm & kVmGrowsDown)) return false;
  const uint64_t new_start = addr & ~page_mask_;
  if (stack->end - new_start > limits_.stack) return false;
  const Vma* below = vmas_.PrevBefore(new_start);
  if (below && below->end + kStackGuardGap > new_start) return false;
  if (CheckMapLimitsLocked(stack->start - new_start, false).ok()) {
    const uint64_t old_start = stack->start;
    const bool locked = stack->vm & kVmLocked;
    if (locked && limits_.memlock != kUnlimited && locked_bytes_ + (old_start - new_start) > limits_.memlock) {
      return false;  // a locked stack may not outgrow RLIMIT_MEMLOCK
    }
    vmas_.SetStart(old_start, new_start);
    MarkLayoutChanged();
    if (locked) {
      const Vma* grown = vmas_.Find(new_start);
      if (ReserveLockBudget((old_start - new_start) >> page_shift_) &&
          LockPagesLocked(*grown, new_start, old_start).ok()) {
        locked_bytes_ += old_start - new_start;
      }
    }
    return true;
  }
  return false;
}

Status AddressSpace::FixupLocked(uint64_t addr, uint64_t length, bool write) {
  Status s = vmas_.CheckAccess(addr, std::min(length, top_ - addr), write);
  while (!s.ok()) {
    if (s.fault_kind() != FaultKind::kMapError || !TryGrowStackLocked(s.fault_address())) return s;
    s = vmas_.CheckAccess(addr, std::min(length, top_ - addr), write);
  }
  if (!write) return Status::OK();
  const uint64_t end = addr + length;
  for (uint64_t a = addr & ~page_mask_; a < end; a += options_.page_size) {
    const Vma* vma = vmas_.Find(a);
    if (vma->is_shared()) continue;
    const uint64_t vpn = a >> page_shift_;
    Page* page = pages_.Lookup(vpn);
    Page* source = page;
    std::shared_lock<std::shared_mutex> object_lock;
    if (page == nullptr) {
      if (!vma->object) continue;  // zero-fill needs no exclusive lock
      object_lock = std::shared_lock<std::shared_mutex>(vma->object->mu());
      const uint64_t index = ObjectIndex(*vma, vpn);
      if (index >= vma->object->size_pages()) return Status::Fault(FaultKind::kBusError, std::max(a, addr));
      source = vma->object->FindOrCreate(index);
    } else if (page->mappers() <= 1) {
      continue;  // sole owner: write in place
    }
    Page* copy = nullptr;
    MEMSERVER_RETURN_IF_ERROR(pager_->CopyPage(source, &faults_, &copy));
    if (vma->vm & kVmLocked) {
      MEMSERVER_RETURN_IF_ERROR(pager_->Lock(copy, &faults_));
      pager_->Unlock(source);  // the lock moves to this process's copy
    }
    if (page == nullptr) {
      pages_.Install(vpn, copy);
    } else {
      pages_.Replace(vpn, page, copy);
      ReleaseBatch release;
      pager_->Unref(page, &release);  // others still map it: no swap to free
      MEMSERVER_RETURN_IF_ERROR(pager_->Flush(&release));
    }
  }
  return Status::OK();
}

Status AddressSpace::ResolveLocked(const Vma& vma, uint64_t vpn, bool create, Page** page,
                                   std::shared_lock<std::shared_mutex>* object_lock) {
  *page = nullptr;
  if (!vma.is_shared()) {
    Page* p = pages_.Lookup(vpn);
    if (p || !vma.object) {
      if (!p && create) {
        Page* fresh = pager_->NewZeroPage();
        p = pages_.Install(vpn, fresh);
        if (p != fresh) pager_->Unref(fresh, nullptr);  // lost the race; a zero page owns nothing
      }
      *page = p;
      return Status::OK();
    }
  }
  MemoryObject* object = vma.object.get();
  *object_lock = std::shared_lock<std::shared_mutex>(object->mu());
  const uint64_t index = ObjectIndex(vma, vpn);
  if (index >= object->size_pages()) {
    return Status::Fault(FaultKind::kBusError, vpn << page_shift_);  // past the end (or truncated meanwhile)
  }
  if (object->kind() == MemoryObject::Kind::kFile) {
    *page = object->FindOrCreate(index);  // file pages come from the store
  } else {
    *page = create ? object->FindOrCreate(index) : object->Find(index);
  }
  return Status::OK();
}

Status AddressSpace::CopyLocked(uint64_t addr, uint64_t length, char* buf, bool write) {
  const uint64_t end = addr + length;
  const uint64_t pages = ((end - 1) >> page_shift_) - (addr >> page_shift_) + 1;
  // A write over several pages must change nothing when it fails: every
  // page is made writable first (pinned, or given a frame), so the copy
  // itself needs no storage call. Past a quarter of the pool that would
  // starve everyone else: such writes (only possible with a frame pool under
  // 4x max_io_bytes) go page by page.
  std::vector<Pager::PreparedWrite> prepared;
  if (write && pages > 1 && pages <= pager_->frames_total() / 4) {
    prepared.reserve(pages);
    Status s = PrepareLocked(addr, end, &prepared);
    if (!s.ok()) {
      ReleasePrepared(&prepared);
      return s;
    }
  }
  uint64_t a = addr;
  const Vma* vma = nullptr;
  size_t index = 0;
  Status s;
  while (a < end && s.ok()) {
    if (vma == nullptr || a >= vma->end) vma = vmas_.Find(a);
    const uint64_t vpn = a >> page_shift_;
    const uint32_t off = static_cast<uint32_t>(a & page_mask_);
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(end - a, options_.page_size - off));
    Page* page;
    std::shared_lock<std::shared_mutex> object_lock;
    if (!prepared.empty()) {
      page = prepared[index++].page;  // resolved (and referenced) by PrepareLocked
    } else {
      s = ResolveLocked(*vma, vpn, write, &page, &object_lock);
      if (!s.ok()) break;
    }
    const Pager::ReadaheadFn readahead = [&](std::vector<Page*>* more) {
      CollectReadahead(*vma, vpn, object_lock.owns_lock(), more);
    };
    if (page == nullptr) {
      std::memset(buf, 0, n);  // never written: zeros, no frame
    } else if (write) {
      if (vma->object && vma->object->kind() == MemoryObject::Kind::kShmem) vma->object->MarkChanged();
      s = pager_->Write(page, off, buf, n, &faults_, &readahead, prepared.empty() ? nullptr : &prepared[index - 1]);
    } else {
      s = pager_->Read(page, off, buf, n, &faults_, &readahead);
    }
    buf += n;
    a += n;
  }
  ReleasePrepared(&prepared);
  return s;
}

Status AddressSpace::PrepareLocked(uint64_t addr, uint64_t end, std::vector<Pager::PreparedWrite>* prepared) {
  const Vma* vma = nullptr;
  for (uint64_t a = addr; a < end;) {
    if (vma == nullptr || a >= vma->end) vma = vmas_.Find(a);
    const uint64_t vpn = a >> page_shift_;
    const uint32_t off = static_cast<uint32_t>(a & page_mask_);
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(end - a, options_.page_size - off));
    Page* page;
    {
      std::shared_lock<std::shared_mutex> object_lock;
      MEMSERVER_RETURN_IF_ERROR(ResolveLocked(*vma, vpn, /*create=*/true, &page, &object_lock));
      pager_->Ref(page);  // alive until ReleasePrepared, whatever the object does meanwhile
    }
    prepared->emplace_back();
    MEMSERVER_RETURN_IF_ERROR(
        pager_->PrepareWrite(page, off == 0 && n == options_.page_size, &faults_, &prepared->back()));
    a += n;
  }
  return Status::OK();
}

void AddressSpace::ReleasePrepared(std::vector<Pager::PreparedWrite>* prepared) {
  ReleaseBatch release;
  for (Pager::PreparedWrite& p : *prepared) {
    pager_->ReleaseWrite(&p);
    if (p.page != nullptr) pager_->Unref(p.page, &release);
  }
  prepared->clear();
  Status s = pager_->Flush(&release);
  (void)s;  // our references were never the last of a page with swap: nothing to delete
}

void AddressSpace::CollectReadahead(const Vma& vma, uint64_t vpn, bool object_locked, std::vector<Page*>* more) {
  // Linux-style window: a major fault where the last run predicted the next
  // one is sequential, and the window doubles; anything else resets it.
  const uint32_t max = options_.readahead_max_pages;
  if (max == 0 || (vma.vm & kVmRandom)) return;
  uint32_t window;
  if (vma.vm & kVmSequential) {
    window = max;
  } else if (vpn == ra_next_vpn_.load(std::memory_order_relaxed)) {
    window = std::min(max, std::max(4u, ra_window_.load(std::memory_order_relaxed) * 2));
  } else {
    ra_window_.store(0, std::memory_order_relaxed);
    ra_next_vpn_.store(vpn + 1, std::memory_order_relaxed);
    return;
  }
  const uint64_t last = std::min((vma.end >> page_shift_) - 1, vpn + window);
  for (uint64_t v = vpn + 1; v <= last; ++v) {
    Page* p = vma.is_shared() ? nullptr : pages_.Lookup(v);
    if (p == nullptr && vma.object && object_locked) {
      const uint64_t index = ObjectIndex(vma, v);
      if (vma.object->kind() == MemoryObject::Kind::kFile) {
        if (index >= vma.object->size_pages()) break;
        p = vma.object->FindOrCreate(index);  // file pages not cached yet come from the store
      } else {
        p = vma.object->Find(index);
      }
    }
    if (p != nullptr) more->push_back(p);
  }
  ra_window_.store(window, std::memory_order_relaxed);
  ra_next_vpn_.store(last + 1, std::memory_order_relaxed);
}

Status AddressSpace::ZeroLocked(uint64_t addr, uint64_t len) {
  // Used by exec for the bss tail of the last file page: force the private
  // copy (whatever the protection) and zero it.
  const uint64_t end = addr + len;
  for (uint64_t a = addr; a < end;) {
    const Vma* vma = vmas_.Find(a);
    if (vma == nullptr) return Status::Fault(FaultKind::kMapError, a);
    const uint64_t vpn = a >> page_shift_;
    const uint32_t off = static_cast<uint32_t>(a & page_mask_);
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(end - a, options_.page_size - off));
    Page* page = pages_.Lookup(vpn);
    if (page == nullptr && vma->object) {
      std::shared_lock<std::shared_mutex> ol(vma->object->mu());
      Page* source = vma->object->FindOrCreate(ObjectIndex(*vma, vpn));
      MEMSERVER_RETURN_IF_ERROR(pager_->CopyPage(source, &faults_, &page));
      pages_.Install(vpn, page);
    }
    if (page != nullptr) MEMSERVER_RETURN_IF_ERROR(pager_->Zero(page, off, n, &faults_));
    a += n;
  }
  return Status::OK();
}

}  // namespace memserver
