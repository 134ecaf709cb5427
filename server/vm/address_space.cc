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
      pages_(options.address_bits - page_shift_) {}

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

Status AddressSpace::Mmap(const MmapArgs& args, uint64_t* addr) {
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
  if (!(args.flags & kMapAnonymous)) {
    return Status::InvalidArgument("only anonymous mappings (MAP_ANONYMOUS) are supported", "ENODEV");
  }
  if (args.length > top_) {
    return Status::ResourceExhausted(fmt::format("mmap length {:#x} exceeds the address space", args.length));
  }
  const uint64_t len = (args.length + page_mask_) & ~page_mask_;
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

  ReleaseBatch release;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    uint64_t start;
    if (fixed) {
      start = args.addr;
      if (vmas_.Overlaps(start, start + len)) {
        if (args.flags & kMapFixedNoReplace) {
          return Status::AlreadyExists(
              fmt::format("MAP_FIXED_NOREPLACE: [{:#x}, {:#x}) overlaps an existing mapping", start, start + len));
        }
        vmas_.Remove(start, start + len);
        ReleasePagesLocked(start, start + len, &release);
      }
    } else {
      const uint64_t hint = args.addr & ~page_mask_;
      if (hint >= options_.mmap_min_addr && hint <= top_ - len && !vmas_.Overlaps(hint, hint + len)) {
        start = hint;
      } else if (!vmas_.FindGapTopDown(len, options_.mmap_min_addr, mmap_base(), options_.page_size, &start)) {
        return Status::ResourceExhausted(
            fmt::format("no free range of {:#x} bytes left in the address space", len));
      }
    }
    if (vmas_.size() >= options_.max_mappings) {
      return Status::ResourceExhausted(
          fmt::format("process has reached the limit of {} mappings", options_.max_mappings));
    }
    vmas_.Insert(Vma{start, start + len, args.prot, args.flags & (kMapShared | kMapPrivate | kMapAnonymous)});
    *addr = start;
  }
  return pager_->Flush(&release);
}

Status AddressSpace::Munmap(uint64_t addr, uint64_t length) {
  uint64_t end;
  MEMSERVER_RETURN_IF_ERROR(CheckRange(addr, length, &end));
  ReleaseBatch release;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    vmas_.Remove(addr, end);
    ReleasePagesLocked(addr, end, &release);
  }
  return pager_->Flush(&release);
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

Status AddressSpace::Read(uint64_t addr, uint64_t length, char* out) {
  return Access(addr, length, out, /*write=*/false);
}

Status AddressSpace::Write(uint64_t addr, std::string_view data) {
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
  std::shared_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  // Validate the whole range before touching a byte: a fault changes nothing.
  if (length > top_ - addr) {
    MEMSERVER_RETURN_IF_ERROR(vmas_.CheckAccess(addr, top_ - addr, write));
    return Status::Fault(FaultKind::kMapError, top_);
  }
  MEMSERVER_RETURN_IF_ERROR(vmas_.CheckAccess(addr, length, write));

  uint64_t a = addr;
  const uint64_t end = addr + length;
  while (a < end) {
    const uint64_t vpn = a >> page_shift_;
    const uint32_t off = static_cast<uint32_t>(a & page_mask_);
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(end - a, options_.page_size - off));
    Page* page = pages_.Lookup(vpn);
    if (write) {
      if (page == nullptr) {
        Page* fresh = pager_->NewZeroPage();
        page = pages_.Install(vpn, fresh);
        if (page != fresh) pager_->Unref(fresh, nullptr);  // lost the race; a zero page owns nothing
      }
      MEMSERVER_RETURN_IF_ERROR(pager_->Write(page, off, buf, n, &faults_));
    } else if (page == nullptr) {
      std::memset(buf, 0, n);  // never written: zeros, no frame
    } else {
      MEMSERVER_RETURN_IF_ERROR(pager_->Read(page, off, buf, n, &faults_));
    }
    buf += n;
    a += n;
  }
  return Status::OK();
}

void AddressSpace::ReleasePagesLocked(uint64_t start, uint64_t end, ReleaseBatch* batch) {
  pages_.ClearRange(start >> page_shift_, end >> page_shift_,
                    [&](uint64_t, Page* page) { pager_->Unref(page, batch); });
}

void AddressSpace::Teardown() {
  ReleaseBatch release;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return;
    dead_ = true;
    vmas_.Remove(0, top_);
    ReleasePagesLocked(0, top_, &release);
  }
  Status s = pager_->Flush(&release);
  (void)s;  // leaked swap keys are reported by CheckInvariants
}

void AddressSpace::CountPages(uint64_t start, uint64_t end, uint64_t* resident, uint64_t* swapped) {
  pages_.ForEach(start >> page_shift_, end >> page_shift_, [&](uint64_t, Page* page) {
    PageState s = pager_->StateOf(page);
    if (s == PageState::kResident || s == PageState::kWritingOut) ++*resident;
    if (s == PageState::kSwapped || s == PageState::kPagingIn) ++*swapped;
  });
}

void AddressSpace::FillStats(ProcessStats* stats) {
  std::shared_lock<std::shared_mutex> lock(mm_lock_);
  stats->virtual_bytes = vmas_.total_bytes();
  stats->mappings = vmas_.size();
  stats->resident_pages = stats->swapped_pages = 0;
  CountPages(0, top_, &stats->resident_pages, &stats->swapped_pages);
  stats->minor_faults = faults_.minor.load(std::memory_order_relaxed);
  stats->major_faults = faults_.major.load(std::memory_order_relaxed);
}

std::vector<MappingInfo> AddressSpace::Mappings() {
  std::shared_lock<std::shared_mutex> lock(mm_lock_);
  std::vector<MappingInfo> out;
  for (const Vma& v : vmas_.All()) {
    MappingInfo m{v.start, v.end, v.prot, v.flags, 0, 0};
    CountPages(v.start, v.end, &m.resident_pages, &m.swapped_pages);
    out.push_back(m);
  }
  return out;
}

Status AddressSpace::CollectPages(std::unordered_map<const Page*, uint32_t>* refs) {
  std::shared_lock<std::shared_mutex> lock(mm_lock_);
  MEMSERVER_RETURN_IF_ERROR(vmas_.CheckInvariants());
  Status s;
  pages_.ForEach(0, top_ >> page_shift_, [&](uint64_t vpn, Page* page) {
    ++(*refs)[page];
    if (s.ok() && vmas_.Find(vpn << page_shift_) == nullptr) {
      s = Status::Internal(fmt::format("page table entry at {:#x} outside any mapping", vpn << page_shift_));
    }
  });
  return s;
}

}  // namespace memserver
