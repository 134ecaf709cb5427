// AddressSpace: export to and import from checkpoint records.
#include <fmt/format.h>

#include <mutex>

#include "server/vm/address_space.h"

namespace memserver {

void AddressSpace::Export(AddressSpaceRecord* record,
                          const std::function<void(MemoryObject*, uint32_t*, uint64_t*)>& name,
                          std::vector<Page*>* pages) {
  std::shared_lock<std::shared_mutex> lock(mm_lock_);
  record->limits = limits_;
  record->brk_start = brk_start_;
  record->brk = brk_;
  record->lock_future = lock_future_;
  for (const Vma& v : vmas_.All()) {
    VmaRecord r{v.start, v.end, v.prot, v.flags, v.vm, 0, 0, v.pgoff};
    if (v.object) name(v.object.get(), &r.object_kind, &r.object_id);
    record->vmas.push_back(r);
  }
  pages_.ForEach(0, top_ >> page_shift_, [&](uint64_t vpn, Page* page) {
    record->pages.push_back(PageRef{vpn, page->id(), false});
    pages->push_back(page);
  });
}

Status AddressSpace::Import(const AddressSpaceRecord& record, const std::function<Page*(const PageRef&)>& page,
                            const std::function<std::shared_ptr<MemoryObject>(uint32_t, uint64_t)>& object) {
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (!vmas_.All().empty()) return Status::Internal("import into a non-empty address space");
  limits_ = record.limits;
  brk_start_ = record.brk_start;
  brk_ = record.brk;
  lock_future_ = record.lock_future;
  for (const VmaRecord& r : record.vmas) {
    if (r.start >= r.end || r.end > top_ || (r.start & page_mask_) || (r.end & page_mask_) ||
        vmas_.Overlaps(r.start, r.end)) {
      return Status(StatusCode::kDataLoss, fmt::format("checkpoint mapping [{:#x}, {:#x}) is invalid", r.start, r.end),
                    "EIO");
    }
    Vma v;
    v.start = r.start;
    v.end = r.end;
    v.prot = r.prot;
    v.flags = r.flags;
    v.vm = r.vm & ~kVmLocked;  // re-locked below, once the pages are in
    v.pgoff = r.pgoff;
    if (r.object_kind != 0) {
      v.object = object(r.object_kind, r.object_id);
      if (!v.object) {
        return Status(StatusCode::kDataLoss,
                      fmt::format("checkpoint mapping at {:#x} names a missing object", r.start), "EIO");
      }
    }
    vmas_.Insert(v);
  }
  for (const PageRef& ref : record.pages) {
    const Vma* v = vmas_.Find(ref.key << page_shift_);
    if (v == nullptr || v->is_shared()) {
      return Status(StatusCode::kDataLoss, fmt::format("checkpoint page at vpn {:#x} is outside a private mapping", ref.key),
                    "EIO");
    }
    pages_.Install(ref.key, page(ref));
  }
  for (const VmaRecord& r : record.vmas) {
    if (r.vm & kVmLocked) {
      Status s = LockRangeLocked(r.start, r.end);
      (void)s;  // a restored lock that no longer fits the cap is dropped, not fatal
    }
  }
  return Status::OK();
}

}  // namespace memserver
