#include "server/vm/mapping_set.h"

#include <fmt/format.h>

#include "server/engine/types.h"

namespace memserver {

bool Vma::is_shared() const { return (flags & kMapShared) != 0; }

const Vma* MappingSet::Find(uint64_t addr) const {
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return nullptr;
  --it;
  return addr < it->second.end ? &it->second : nullptr;
}

Status MappingSet::CheckAccess(uint64_t addr, uint64_t len, bool write) const {
  const uint64_t end = addr + len;
  uint64_t a = addr;
  while (a < end) {
    const Vma* vma = Find(a);
    if (vma == nullptr) return Status::Fault(FaultKind::kMapError, a);
    bool allowed = write ? (vma->prot & kProtWrite) != 0 : (vma->prot & kProtMask) != 0;
    if (!allowed) return Status::Fault(FaultKind::kAccessError, a);
    a = vma->end;
  }
  return Status::OK();
}

bool MappingSet::Overlaps(uint64_t start, uint64_t end) const {
  auto it = vmas_.lower_bound(end);  // first mapping starting at/after end
  if (it == vmas_.begin()) return false;
  --it;  // last mapping starting before end
  return it->second.end > start;
}

bool MappingSet::Covers(uint64_t start, uint64_t end) const {
  uint64_t a = start;
  while (a < end) {
    const Vma* vma = Find(a);
    if (vma == nullptr) return false;
    a = vma->end;
  }
  return true;
}

void MappingSet::Insert(const Vma& vma) {
  vmas_.emplace(vma.start, vma);
  total_bytes_ += vma.length();
  MergeAround(vma.start);
}

void MappingSet::SplitAt(uint64_t addr) {
  auto it = vmas_.upper_bound(addr);
  if (it == vmas_.begin()) return;
  --it;
  Vma& v = it->second;
  if (v.start == addr || v.end <= addr) return;
  Vma tail = v;
  tail.start = addr;
  if (tail.object) tail.pgoff += (addr - v.start) >> page_shift_;
  v.end = addr;
  vmas_.emplace(addr, tail);
}

void MappingSet::Remove(uint64_t start, uint64_t end) {
  SplitAt(start);
  SplitAt(end);
  auto it = vmas_.lower_bound(start);
  while (it != vmas_.end() && it->second.start < end) {
    total_bytes_ -= it->second.length();
    it = vmas_.erase(it);
  }
}

void MappingSet::Protect(uint64_t start, uint64_t end, uint32_t prot) {
  Update(start, end, [prot](Vma& v) { v.prot = prot; });
}

void MappingSet::SetEnd(uint64_t start, uint64_t new_end) {
  Vma& v = vmas_.at(start);
  total_bytes_ = total_bytes_ - v.length() + (new_end - v.start);
  v.end = new_end;
  MergeAround(start);
}

void MappingSet::SetStart(uint64_t old_start, uint64_t new_start) {
  auto node = vmas_.extract(old_start);
  Vma& v = node.mapped();
  total_bytes_ += old_start - new_start;
  if (v.object) v.pgoff -= (old_start - new_start) >> page_shift_;
  v.start = new_start;
  node.key() = new_start;
  vmas_.insert(std::move(node));
  MergeAround(new_start);
}

const Vma* MappingSet::NextFrom(uint64_t addr) const {
  auto it = vmas_.lower_bound(addr);
  return it == vmas_.end() ? nullptr : &it->second;
}

const Vma* MappingSet::PrevBefore(uint64_t addr) const {
  auto it = vmas_.lower_bound(addr);
  if (it == vmas_.begin()) return nullptr;
  --it;
  return it->second.end <= addr ? &it->second : nullptr;
}

void MappingSet::Update(uint64_t start, uint64_t end, const std::function<void(Vma&)>& fn) {
  SplitAt(start);
  SplitAt(end);
  std::vector<uint64_t> starts;
  for (auto it = vmas_.lower_bound(start); it != vmas_.end() && it->second.start < end; ++it) {
    fn(it->second);
    starts.push_back(it->first);
  }
  for (uint64_t s : starts) {
    if (vmas_.count(s)) MergeAround(s);
  }
  // The pieces just outside the range may now merge with the range's ends.
  if (const Vma* v = Find(start)) MergeAround(v->start);
  if (end > 0) {
    if (const Vma* v = Find(end - 1)) MergeAround(v->start);
  }
}

void MappingSet::MergeAround(uint64_t start) {
  auto it = vmas_.find(start);
  if (it == vmas_.end()) return;
  // Merge with the previous mapping.
  if (it != vmas_.begin()) {
    auto prev = std::prev(it);
    if (Mergeable(prev->second, it->second)) {
      prev->second.end = it->second.end;
      vmas_.erase(it);
      it = prev;
    }
  }
  // Merge with the next mapping.
  auto next = std::next(it);
  if (next != vmas_.end() && Mergeable(it->second, next->second)) {
    it->second.end = next->second.end;
    vmas_.erase(next);
  }
}

bool MappingSet::FindGapTopDown(uint64_t len, uint64_t low, uint64_t high, uint64_t guard,
                                uint64_t* addr) const {
  if (len == 0 || high < low || high - low < len) return false;
  // Walk gaps from the top: [prev.end, next.start), starting at `high`.
  uint64_t ceiling = high;  // the gap's upper bound (next mapping's start or high)
  bool ceiling_is_mapping = false;
  auto it = vmas_.lower_bound(high);
  // A mapping that straddles `high` caps the first gap at its start.
  if (it != vmas_.begin()) {
    auto prev = std::prev(it);
    if (prev->second.end > high) {
      ceiling = prev->second.start;
      ceiling_is_mapping = true;
      it = prev;
    }
  }
  while (true) {
    uint64_t floor = low;
    bool floor_is_mapping = false;
    auto below = it;
    if (below != vmas_.begin()) {
      --below;
      if (below->second.end > low) {
        floor = below->second.end;
        floor_is_mapping = true;
      }
    }
    uint64_t top = ceiling_is_mapping ? (ceiling >= guard ? ceiling - guard : 0) : ceiling;
    uint64_t bottom = floor_is_mapping ? floor + guard : floor;
    if (top >= bottom && top - bottom >= len) {
      *addr = top - len;
      return true;
    }
    if (!floor_is_mapping) return false;
    ceiling = below->second.start;
    ceiling_is_mapping = true;
    it = below;
    if (ceiling <= low) return false;
  }
}

std::vector<Vma> MappingSet::All() const {
  std::vector<Vma> out;
  out.reserve(vmas_.size());
  for (const auto& [s, v] : vmas_) out.push_back(v);
  return out;
}

std::vector<Vma> MappingSet::Intersecting(uint64_t start, uint64_t end) const {
  std::vector<Vma> out;
  auto it = vmas_.upper_bound(start);
  if (it != vmas_.begin()) --it;
  for (; it != vmas_.end() && it->second.start < end; ++it) {
    if (it->second.end <= start) continue;
    Vma v = it->second;
    v.start = std::max(v.start, start);
    v.end = std::min(v.end, end);
    if (v.object) v.pgoff += (v.start - it->second.start) >> page_shift_;  // the clipped piece's first page
    out.push_back(v);
  }
  return out;
}

Status MappingSet::CheckInvariants() const {
  uint64_t total = 0;
  const Vma* prev = nullptr;
  for (const auto& [s, v] : vmas_) {
    if (s != v.start || v.start >= v.end) {
      return Status::Internal(fmt::format("bad mapping [{:#x}, {:#x})", v.start, v.end));
    }
    if (prev && prev->end > v.start) {
      return Status::Internal(fmt::format("mappings overlap at {:#x}", v.start));
    }
    if (prev && Mergeable(*prev, v)) {
      return Status::Internal(fmt::format("unmerged equal neighbours at {:#x}", v.start));
    }
    total += v.length();
    prev = &v;
  }
  if (total != total_bytes_) return Status::Internal("mapping byte count out of date");
  return Status::OK();
}

}  // namespace memserver
