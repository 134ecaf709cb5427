// AddressSpace: statistics, smaps-style accounting, invariant checks.
#include <fmt/format.h>

#include <mutex>

#include "server/vm/address_space.h"

namespace memserver {

void AddressSpace::ForEachResolvedPage(const std::function<void(const Vma&, uint64_t, Page*)>& fn) {
  std::shared_lock<std::shared_mutex> lock(mm_lock_);
  for (const Vma& v : vmas_.All()) {
    const uint64_t first = v.start >> page_shift_, last = v.end >> page_shift_;
    std::vector<uint64_t> copied;  // vpns shadowed by a private copy
    if (!v.is_shared()) {
      pages_.ForEach(first, last, [&](uint64_t vpn, Page* page) {
        fn(v, vpn, page);
        copied.push_back(vpn);
      });
    }
    if (!v.object) continue;
    std::shared_lock<std::shared_mutex> ol(v.object->mu());
    size_t c = 0;
    v.object->ForEach(ObjectIndex(v, first), ObjectIndex(v, last), [&](uint64_t index, Page* page) {
      const uint64_t vpn = first + (index - v.pgoff);
      while (c < copied.size() && copied[c] < vpn) ++c;
      if (c < copied.size() && copied[c] == vpn) return;
      fn(v, vpn, page);
    });
  }
}

std::vector<MappingInfo> AddressSpace::Mappings(const std::function<uint32_t(Page*)>& mapcount) {
  std::vector<MappingInfo> out;
  std::vector<Vma> vmas;
  {
    std::shared_lock<std::shared_mutex> lock(mm_lock_);
    vmas = vmas_.All();
  }
  std::unordered_map<uint64_t, size_t> index_of;  // vma start -> out index
  for (const Vma& v : vmas) {
    MappingInfo m;
    m.start = v.start;
    m.end = v.end;
    m.prot = v.prot;
    m.flags = v.flags;
    m.locked = v.vm & kVmLocked;
    if (v.vm & kVmHeap) m.backing = "[heap]";
    else if (v.vm & kVmGrowsDown) m.backing = "[stack]";
    else if (v.object && v.object->kind() == MemoryObject::Kind::kShmem) m.backing = "[shmem]";
    else if (v.object) m.backing = v.object->name();
    m.offset = v.pgoff << page_shift_;
    index_of[v.start] = out.size();
    out.push_back(std::move(m));
  }
  const uint64_t ps = options_.page_size;
  ForEachResolvedPage([&](const Vma& v, uint64_t, Page* page) {
    auto it = index_of.find(v.start);
    if (it == index_of.end()) return;  // mappings changed meanwhile
    MappingInfo& m = out[it->second];
    const Pager::PageInfo info = pager_->Inspect(page);
    if (info.state == PageState::kSwapped || info.state == PageState::kPagingIn) {
      if (!page->is_file()) {
        ++m.swapped_pages;
        m.usage.swap += ps;
      }
      return;
    }
    if (info.state == PageState::kZero) return;
    const uint32_t mappers = std::max<uint32_t>(1, mapcount(page));
    ++m.resident_pages;
    m.usage.rss += ps;
    m.usage.pss += ps / mappers;
    if (mappers == 1) {
      m.usage.uss += ps;
      (info.dirty ? m.usage.private_dirty : m.usage.private_clean) += ps;
    } else {
      (info.dirty ? m.usage.shared_dirty : m.usage.shared_clean) += ps;
    }
    if (m.locked) m.usage.locked += ps;
  });
  return out;
}

void AddressSpace::FillStats(ProcessStats* stats) {
  {
    std::shared_lock<std::shared_mutex> lock(mm_lock_);
    stats->virtual_bytes = vmas_.total_bytes();
    stats->mappings = vmas_.size();
    stats->brk = brk_;
    stats->locked_bytes = locked_bytes_;
    stats->limits = limits_;
  }
  stats->resident_pages = stats->swapped_pages = 0;
  ForEachResolvedPage([&](const Vma&, uint64_t, Page* page) {
    PageState s = pager_->StateOf(page);
    if (s == PageState::kResident || s == PageState::kWritingOut) ++stats->resident_pages;
    if ((s == PageState::kSwapped || s == PageState::kPagingIn) && !page->is_file()) ++stats->swapped_pages;
  });
  stats->minor_faults = faults_.minor.load(std::memory_order_relaxed);
  stats->major_faults = faults_.major.load(std::memory_order_relaxed);
}

Status AddressSpace::CollectPages(std::unordered_map<const Page*, uint32_t>* refs,
                                  std::unordered_map<MemoryObject*, std::shared_ptr<MemoryObject>>* objects) {
  std::shared_lock<std::shared_mutex> lock(mm_lock_);
  MEMSERVER_RETURN_IF_ERROR(vmas_.CheckInvariants());
  Status s;
  pages_.ForEach(0, top_ >> page_shift_, [&](uint64_t vpn, Page* page) {
    ++(*refs)[page];
    const Vma* v = vmas_.Find(vpn << page_shift_);
    if (s.ok() && (v == nullptr || v->is_shared())) {
      s = Status::Internal(fmt::format("private page at {:#x} outside any private mapping", vpn << page_shift_));
    }
  });
  for (const Vma& v : vmas_.All()) {
    if (v.object) (*objects)[v.object.get()] = v.object;
  }
  return s;
}

}  // namespace memserver
