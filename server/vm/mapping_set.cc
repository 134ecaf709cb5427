#include "server/vm/mapping_set.h"

#include <fmt/format.h>

#include <algorithm>

#include "server/engine/types.h"

namespace memserver {

bool Vma::is_shared() const { return (flags & kMapShared) != 0; }

MappingSet::MappingSet(unsigned page_shift, uint64_t top) : page_shift_(page_shift), top_(top) {
  gaps_.Insert(0, top_);
}

bool MappingSet::IsData(const Vma& v) {
  return !v.is_shared() && (v.prot & kProtWrite) && !(v.vm & kVmGrowsDown);
}

void MappingSet::Account(const Vma& v, int sign) {
  const uint64_t len = v.length();
  total_bytes_ += sign > 0 ? len : -len;
  if (IsData(v)) data_bytes_ += sign > 0 ? len : -len;
}

void MappingSet::Occupy(uint64_t start, uint64_t end) {
  GapTree::Gap g;
  const bool found = gaps_.Floor(start, &g);
  if (!found || g.end < end) return;  // not free: CheckInvariants reports the overlap
  gaps_.Erase(g.start);
  if (g.start < start) gaps_.Insert(g.start, start);
  if (end < g.end) gaps_.Insert(end, g.end);
}

void MappingSet::Free(uint64_t start, uint64_t end) {
  GapTree::Gap below, above;
  if (start > 0 && gaps_.Floor(start - 1, &below) && below.end == start) {
    gaps_.Erase(below.start);
    start = below.start;
  }
  if (gaps_.Ceil(end, &above) && above.start == end) {
    gaps_.Erase(above.start);
    end = above.end;
  }
  gaps_.Insert(start, end);
}

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
  Account(vma, +1);
  Occupy(vma.start, vma.end);
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
    const Vma& v = it->second;
    Account(v, -1);
    Free(v.start, v.end);
    it = vmas_.erase(it);
  }
}

void MappingSet::Protect(uint64_t start, uint64_t end, uint32_t prot) {
  Update(start, end, [prot](Vma& v) { v.prot = prot; });
}

void MappingSet::SetEnd(uint64_t start, uint64_t new_end) {
  Vma& v = vmas_.at(start);
  const uint64_t old_end = v.end;
  Account(v, -1);
  v.end = new_end;
  Account(v, +1);
  if (new_end > old_end) Occupy(old_end, new_end);
  if (new_end < old_end) Free(new_end, old_end);
  MergeAround(start);
}

void MappingSet::SetStart(uint64_t old_start, uint64_t new_start) {
  auto node = vmas_.extract(old_start);
  Vma& v = node.mapped();
  Account(v, -1);
  if (v.object) v.pgoff -= (old_start - new_start) >> page_shift_;
  v.start = new_start;
  Account(v, +1);
  node.key() = new_start;
  vmas_.insert(std::move(node));
  Occupy(new_start, old_start);
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
    Account(it->second, -1);
    fn(it->second);
    Account(it->second, +1);
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

size_t MappingSet::CountAfterUpdate(uint64_t start, uint64_t end, const std::function<void(Vma&)>& fn) const {
  // Rebuild the affected stretch locally: the neighbour before, the pieces
  // of [start, end) (edges split off), the neighbour after; then count the
  // runs left once Mergeable neighbours are joined.
  auto first = vmas_.upper_bound(start);
  if (first != vmas_.begin() && std::prev(first)->second.end > start) --first;
  if (first != vmas_.begin()) --first;  // the neighbour before
  std::vector<Vma> local;
  size_t before = 0;
  for (auto it = first; it != vmas_.end(); ++it) {
    const Vma& v = it->second;
    if (v.start > end) break;
    ++before;
    if (v.end <= start || v.start >= end) {
      local.push_back(v);  // a neighbour, unchanged
      if (v.start >= end) break;
      continue;
    }
    Vma head = v, mid = v, tail = v;
    if (v.start < start) {
      head.end = start;
      local.push_back(head);
      mid.start = start;
      if (mid.object) mid.pgoff += (start - v.start) >> page_shift_;
    }
    if (v.end > end) {
      mid.end = end;
      tail.start = end;
      if (tail.object) tail.pgoff += (end - v.start) >> page_shift_;
    }
    fn(mid);
    local.push_back(mid);
    if (v.end > end) {
      local.push_back(tail);
      break;
    }
  }
  size_t after = local.empty() ? 0 : 1;
  for (size_t i = 1; i < local.size(); ++i) {
    if (!Mergeable(local[i - 1], local[i])) ++after;
  }
  return vmas_.size() - before + after;
}

size_t MappingSet::CountAfterRemove(uint64_t start, uint64_t end) const {
  auto it = vmas_.upper_bound(start);
  if (it != vmas_.begin() && std::prev(it)->second.end > start) --it;
  size_t removed = 0, remnants = 0;
  for (; it != vmas_.end() && it->second.start < end; ++it) {
    ++removed;
    if (it->second.start < start) ++remnants;
    if (it->second.end > end) ++remnants;
  }
  return vmas_.size() - removed + remnants;
}

size_t MappingSet::CountAfterInsert(const Vma& vma) const {
  size_t after = vmas_.size() + 1;
  auto next = vmas_.lower_bound(vma.start);
  if (next != vmas_.end() && Mergeable(vma, next->second)) --after;
  if (next != vmas_.begin() && Mergeable(std::prev(next)->second, vma)) --after;
  return after;
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
  // Where a new range may go inside the gap [g.start, g.end), clipped to
  // [low, high): a guard from every mapping edge that lies inside the bounds.
  const auto fit = [&](const GapTree::Gap& g, uint64_t* at) {
    if (g.end <= low || g.start >= high) return false;
    const uint64_t top = g.end < high ? (g.end >= guard ? g.end - guard : 0) : high;
    const uint64_t bottom = g.start > low ? g.start + guard : low;
    if (top < bottom || top - bottom < len) return false;
    *at = top - len;
    return true;
  };
  // 1. The highest gap that starts below `high` (it may straddle it).
  GapTree::Gap g;
  if (high == 0 || !gaps_.Floor(high - 1, &g)) return false;
  if (fit(g, addr)) return true;
  // 2. Gaps wholly inside the bounds need room for both guards: the highest
  //    long enough one, found in one descent of the gap tree.
  GapTree::Gap c;
  if (len <= ~0ull - 2 * guard && gaps_.LastFitting(g.start, len + 2 * guard, &c) && c.start > low) {
    *addr = c.end - guard - len;
    return true;
  }
  // 3. The gap holding `low`, which needs a guard above it only.
  GapTree::Gap l;
  return gaps_.Floor(low, &l) && l.start < g.start && fit(l, addr);
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
  uint64_t total = 0, data = 0;
  const Vma* prev = nullptr;
  uint64_t free_from = 0;  // where the next gap must start
  size_t gaps = 0;
  const auto expect_gap = [&](uint64_t start, uint64_t end) {
    if (start == end) return Status::OK();
    GapTree::Gap g;
    ++gaps;
    if (!gaps_.Floor(start, &g) || g.start != start || g.end != end) {
      return Status::Internal(fmt::format("free range [{:#x}, {:#x}) missing from the gap tree", start, end));
    }
    return Status::OK();
  };
  for (const auto& [s, v] : vmas_) {
    if (s != v.start || v.start >= v.end || v.end > top_) {
      return Status::Internal(fmt::format("bad mapping [{:#x}, {:#x})", v.start, v.end));
    }
    if (prev && prev->end > v.start) {
      return Status::Internal(fmt::format("mappings overlap at {:#x}", v.start));
    }
    if (prev && Mergeable(*prev, v)) {
      return Status::Internal(fmt::format("unmerged equal neighbours at {:#x}", v.start));
    }
    MEMSERVER_RETURN_IF_ERROR(expect_gap(free_from, v.start));
    free_from = v.end;
    total += v.length();
    if (IsData(v)) data += v.length();
    prev = &v;
  }
  MEMSERVER_RETURN_IF_ERROR(expect_gap(free_from, top_));
  if (gaps != gaps_.size()) {
    return Status::Internal(fmt::format("gap tree holds {} gaps, the mappings leave {}", gaps_.size(), gaps));
  }
  MEMSERVER_RETURN_IF_ERROR(gaps_.CheckInvariants());
  if (total != total_bytes_) return Status::Internal("mapping byte count out of date");
  if (data != data_bytes_) return Status::Internal("data byte count out of date");
  return Status::OK();
}

}  // namespace memserver
