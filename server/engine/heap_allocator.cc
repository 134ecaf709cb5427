#include "server/engine/heap_allocator.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "server/common/coding.h"

namespace memserver {

namespace {
// The heap grows by at least this much at a time (glibc's M_TOP_PAD is 128 KiB).
constexpr uint64_t kArenaGrowth = 128ull << 10;
constexpr uint64_t kCopyChunk = 1ull << 20;
}  // namespace

HeapAllocator::HeapAllocator(AddressSpace* mm) : mm_(mm) {
  for (uint64_t s = 16; s <= 128; s += 16) class_sizes_.push_back(s);
  for (uint64_t base = 128; base < kMmapThreshold; base *= 2) {
    for (int q = 1; q <= 4; ++q) class_sizes_.push_back(base + base / 4 * q);
  }
  free_lists_.resize(class_sizes_.size());
}

int HeapAllocator::ClassOf(uint64_t size) const {
  auto it = std::lower_bound(class_sizes_.begin(), class_sizes_.end(), std::max<uint64_t>(size, 1));
  return it == class_sizes_.end() ? -1 : static_cast<int>(it - class_sizes_.begin());
}

Status HeapAllocator::Malloc(uint64_t size, uint64_t* addr) {
  std::lock_guard<std::mutex> l(mu_);
  bool fresh;
  return MallocLocked(size, addr, &fresh);
}

Status HeapAllocator::MallocLocked(uint64_t size, uint64_t* addr, bool* fresh) {
  if (size > kMaxAllocation) {
    return Status::ResourceExhausted(fmt::format("malloc({}) is larger than the {} byte limit", size, kMaxAllocation));
  }
  const int cls = size < kMmapThreshold ? ClassOf(size) : -1;
  if (cls < 0) {
    const uint64_t ps = mm_->page_size();
    MmapArgs a;
    a.length = (std::max<uint64_t>(size, 1) + ps - 1) / ps * ps;
    a.flags = kMapPrivate | kMapAnonymous;
    MEMSERVER_RETURN_IF_ERROR(mm_->Mmap(a, nullptr, addr));
    live_[*addr] = Block{size, -1, a.length};
    mmapped_bytes_ += a.length;
    *fresh = true;
    return Status::OK();
  }
  std::vector<uint64_t>& list = free_lists_[cls];
  if (!list.empty()) {
    *addr = list.back();
    list.pop_back();
    free_.erase(*addr);
    live_[*addr] = Block{size, cls, 0};
    *fresh = false;
    return Status::OK();
  }
  const uint64_t csize = class_sizes_[cls];
  if (arena_end_ - arena_cur_ < csize) {
    const uint64_t grow = std::max(kArenaGrowth, csize);
    uint64_t old_brk;
    MEMSERVER_RETURN_IF_ERROR(mm_->Sbrk(static_cast<int64_t>(grow), &old_brk));
    if (old_brk != arena_end_) arena_cur_ = old_brk;  // the break moved under us: start afresh there
    arena_end_ = old_brk + grow;
    arena_bytes_ += grow;
    // Keep blocks 16-byte aligned.
    arena_cur_ = (arena_cur_ + 15) & ~15ull;
  }
  *addr = arena_cur_;
  arena_cur_ += csize;
  live_[*addr] = Block{size, cls, 0};
  *fresh = true;
  return Status::OK();
}

Status HeapAllocator::Calloc(uint64_t count, uint64_t size, uint64_t* addr) {
  if (size != 0 && count > kMaxAllocation / size) {
    return Status::ResourceExhausted(fmt::format("calloc({}, {}) overflows", count, size));
  }
  std::lock_guard<std::mutex> l(mu_);
  bool fresh;
  MEMSERVER_RETURN_IF_ERROR(MallocLocked(count * size, addr, &fresh));
  if (!fresh && count * size > 0) return ZeroLocked(*addr, count * size);  // reused memory holds old bytes
  return Status::OK();
}

Status HeapAllocator::Free(uint64_t addr) {
  if (addr == 0) return Status::OK();
  std::lock_guard<std::mutex> l(mu_);
  return FreeLocked(addr);
}

Status HeapAllocator::FreeLocked(uint64_t addr) {
  auto it = live_.find(addr);
  if (it == live_.end()) {
    if (free_.count(addr)) {
      return Status::InvalidArgument(fmt::format("free(): double free of {:#x}", addr));
    }
    return Status::InvalidArgument(fmt::format("free(): invalid pointer {:#x} (not returned by malloc)", addr));
  }
  const Block b = it->second;
  if (b.size_class < 0) {
    MEMSERVER_RETURN_IF_ERROR(mm_->Munmap(addr, b.mapped));
    mmapped_bytes_ -= b.mapped;
    live_.erase(it);
    return Status::OK();
  }
  live_.erase(it);
  free_lists_[b.size_class].push_back(addr);
  free_[addr] = b.size_class;
  return Status::OK();
}

Status HeapAllocator::Realloc(uint64_t addr, uint64_t size, uint64_t* new_addr) {
  std::lock_guard<std::mutex> l(mu_);
  bool fresh;
  if (addr == 0) return MallocLocked(size, new_addr, &fresh);
  auto it = live_.find(addr);
  if (it == live_.end()) {
    return Status::InvalidArgument(fmt::format("realloc(): invalid pointer {:#x} (not a live malloc block)", addr));
  }
  if (size == 0) {
    *new_addr = 0;
    return FreeLocked(addr);
  }
  Block& b = it->second;
  if (b.size_class >= 0 && size <= class_sizes_[b.size_class] && size >= class_sizes_[b.size_class] / 2) {
    b.size = size;  // still fits its class well: stay in place
    *new_addr = addr;
    return Status::OK();
  }
  if (b.size_class < 0 && size >= kMmapThreshold) {
    const uint64_t ps = mm_->page_size();
    const uint64_t len = (size + ps - 1) / ps * ps;
    MEMSERVER_RETURN_IF_ERROR(mm_->Mremap(addr, b.mapped, len, kMremapMayMove, 0, new_addr));
    mmapped_bytes_ = mmapped_bytes_ - b.mapped + len;
    Block moved{size, -1, len};
    live_.erase(it);
    live_[*new_addr] = moved;
    return Status::OK();
  }
  const uint64_t keep = std::min(b.size, size);
  MEMSERVER_RETURN_IF_ERROR(MallocLocked(size, new_addr, &fresh));
  Status s = CopyLocked(addr, *new_addr, keep);
  if (!s.ok()) {
    FreeLocked(*new_addr);
    return s;
  }
  return FreeLocked(addr);
}

Status HeapAllocator::UsableSize(uint64_t addr, uint64_t* size) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = live_.find(addr);
  if (it == live_.end()) return Status::InvalidArgument(fmt::format("{:#x} is not a live malloc block", addr));
  *size = it->second.size_class < 0 ? it->second.mapped : class_sizes_[it->second.size_class];
  return Status::OK();
}

Status HeapAllocator::ZeroLocked(uint64_t addr, uint64_t len) {
  const std::string zeros(std::min({len, kCopyChunk, mm_->max_io_bytes()}), '\0');
  for (uint64_t done = 0; done < len;) {
    const uint64_t n = std::min<uint64_t>(len - done, zeros.size());
    MEMSERVER_RETURN_IF_ERROR(mm_->Write(addr + done, std::string_view(zeros.data(), n)));
    done += n;
  }
  return Status::OK();
}

Status HeapAllocator::CopyLocked(uint64_t from, uint64_t to, uint64_t len) {
  std::string buf;
  for (uint64_t done = 0; done < len;) {
    const uint64_t n = std::min({len - done, kCopyChunk, mm_->max_io_bytes()});
    buf.resize(n);
    MEMSERVER_RETURN_IF_ERROR(mm_->Read(from + done, n, buf.data()));
    MEMSERVER_RETURN_IF_ERROR(mm_->Write(to + done, buf));
    done += n;
  }
  return Status::OK();
}

void HeapAllocator::Reset() {
  std::lock_guard<std::mutex> l(mu_);
  live_.clear();
  free_.clear();
  for (auto& list : free_lists_) list.clear();
  arena_cur_ = arena_end_ = arena_bytes_ = mmapped_bytes_ = 0;
}

std::string HeapAllocator::Export() {
  std::lock_guard<std::mutex> l(mu_);
  return ExportLocked();
}

std::string HeapAllocator::ExportLocked() {
  // In address order: the same bookkeeping always gives the same bytes, so
  // a snapshot can tell an unchanged heap by its record.
  std::vector<std::pair<uint64_t, Block>> live(live_.begin(), live_.end());
  std::sort(live.begin(), live.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<uint64_t, int32_t>> free(free_.begin(), free_.end());
  std::sort(free.begin(), free.end());
  std::string out;
  coding::PutVarint(&out, 1);
  for (uint64_t v : {arena_cur_, arena_end_, arena_bytes_, mmapped_bytes_}) coding::PutVarint(&out, v);
  coding::PutVarint(&out, live.size());
  for (auto& [addr, b] : live) {
    coding::PutVarint(&out, addr);
    coding::PutVarint(&out, b.size);
    coding::PutVarint(&out, static_cast<uint64_t>(b.size_class + 1));
    coding::PutVarint(&out, b.mapped);
  }
  coding::PutVarint(&out, free.size());
  for (auto& [addr, cls] : free) {
    coding::PutVarint(&out, addr);
    coding::PutVarint(&out, static_cast<uint64_t>(cls));
  }
  return out;
}

bool HeapAllocator::Import(std::string_view in) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t version, n;
  if (!coding::GetVarint(&in, &version) || version != 1) return false;
  for (uint64_t* v : {&arena_cur_, &arena_end_, &arena_bytes_, &mmapped_bytes_}) {
    if (!coding::GetVarint(&in, v)) return false;
  }
  if (!coding::GetVarint(&in, &n) || n > in.size()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t addr, size, cls, mapped;
    if (!coding::GetVarint(&in, &addr) || !coding::GetVarint(&in, &size) || !coding::GetVarint(&in, &cls) ||
        !coding::GetVarint(&in, &mapped) || cls > class_sizes_.size()) {
      return false;
    }
    live_[addr] = Block{size, static_cast<int32_t>(cls) - 1, mapped};
  }
  if (!coding::GetVarint(&in, &n) || n > in.size()) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t addr, cls;
    if (!coding::GetVarint(&in, &addr) || !coding::GetVarint(&in, &cls) || cls >= class_sizes_.size()) return false;
    free_[addr] = static_cast<int32_t>(cls);
    free_lists_[cls].push_back(addr);
  }
  return in.empty();
}

HeapAllocator::Stats HeapAllocator::GetStats() {
  std::lock_guard<std::mutex> l(mu_);
  Stats s;
  s.live_blocks = live_.size();
  for (auto& [a, b] : live_) s.live_bytes += b.size;
  s.free_blocks = free_.size();
  s.arena_bytes = arena_bytes_;
  s.mmapped_bytes = mmapped_bytes_;
  return s;
}

}  // namespace memserver
