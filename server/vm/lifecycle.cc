// AddressSpace: fork (copy-on-write copy) and exec (load an image).
#include <fmt/format.h>

#include <mutex>

#include "server/vm/address_space.h"

namespace memserver {

Status AddressSpace::ForkInto(AddressSpace* child) {
  // Exclusive: no access is in flight while pages become shared, so no
  // writer can slip a write into a page after the child shares it.
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (dead_) return Status::NotFound("process has exited");
  std::unique_lock<std::shared_mutex> child_lock(child->mm_lock_);
  for (const Vma& v : vmas_.All()) {
    if (v.vm & kVmDontFork) continue;
    Vma copy = v;
    copy.vm &= ~kVmLocked;  // mlock is not inherited (fork(2))
    child->vmas_.Insert(copy);
    if (v.vm & kVmWipeOnFork) continue;  // the child reads zeros
    // Private pages become shared; the first write on either side copies.
    pages_.ForEach(v.start >> page_shift_, v.end >> page_shift_, [&](uint64_t vpn, Page* page) {
      pager_->Ref(page);
      child->pages_.Install(vpn, page);
    });
  }
  child->limits_ = limits_;
  child->brk_start_ = brk_start_;
  child->brk_ = brk_;
  return Status::OK();
}

Status AddressSpace::Exec(const std::vector<LoadSegment>& segments, uint64_t entry,
                          std::shared_ptr<MemoryObject> file, ExecImage* image) {
  ReleaseBatch release;
  Status s;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    // Past this point the old image is gone, as after execve's point of no return.
    UnmapLocked(0, top_, &release);
    lock_future_ = false;
    uint64_t highest = 0, lowest = ~0ull;
    for (const LoadSegment& seg : segments) {
      const uint64_t start = seg.vaddr & ~page_mask_;
      const uint64_t file_end = (seg.vaddr + seg.filesz + page_mask_) & ~page_mask_;
      const uint64_t mem_end = (seg.vaddr + seg.memsz + page_mask_) & ~page_mask_;
      lowest = std::min(lowest, start);
      highest = std::max(highest, mem_end);
      uint64_t addr;
      if (seg.filesz > 0) {
        // Text and data map the file privately: text pages stay the page
        // cache's (one frame for every process running the program), data
        // pages are copied on first write.
        MmapArgs a;
        a.addr = start;
        a.length = file_end - start;
        a.prot = seg.prot;
        a.flags = kMapPrivate | kMapFixed;
        a.offset = seg.offset & ~page_mask_;
        s = MmapLocked(a, file, &addr, &release);
        if (!s.ok()) break;
        // bss starts inside the last file page: zero its tail (padzero).
        const uint64_t bss = seg.vaddr + seg.filesz;
        if (seg.memsz > seg.filesz && (bss & page_mask_)) {
          s = ZeroLocked(bss, std::min(file_end, seg.vaddr + seg.memsz) - bss);
          if (!s.ok()) break;
        }
      }
      const uint64_t anon_start = seg.filesz > 0 ? file_end : start;
      if (mem_end > anon_start) {
        MmapArgs a;
        a.addr = anon_start;
        a.length = mem_end - a.addr;
        a.prot = seg.prot;
        a.flags = kMapPrivate | kMapAnonymous | kMapFixed;
        s = MmapLocked(a, nullptr, &addr, &release);
        if (!s.ok()) break;
      }
    }
    if (s.ok()) {
      brk_start_ = brk_ = highest;
      Vma stack;
      stack.start = top_ - kInitialStack;
      stack.end = top_;
      stack.prot = kProtRead | kProtWrite;
      stack.flags = kMapPrivate | kMapAnonymous;
      stack.vm = kVmGrowsDown;
      if (vmas_.Overlaps(stack.start, stack.end)) {
        s = Status::InvalidArgument("the executable overlaps the stack at the top of the address space", "ENOEXEC");
      } else {
        vmas_.Insert(stack);
        image->entry = entry;
        image->load_base = lowest;
        image->brk_start = highest;
        image->stack_top = top_;
        image->stack_bottom = stack.start;
        image->segments = static_cast<uint32_t>(segments.size());
      }
    }
  }
  Status f = pager_->Flush(&release);
  return s.ok() ? f : s;
}

}  // namespace memserver
