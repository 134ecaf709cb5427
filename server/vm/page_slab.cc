#include "server/vm/page_slab.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <functional>
#include <new>
#include <thread>

namespace memserver {

namespace {

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

size_t OsPageSize() {
  static const size_t size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

PageSlab::PageSlab(size_t object_size, size_t alignment, uint32_t max_objects)
    : stride_(RoundUp(std::max<size_t>(object_size, sizeof(uint32_t)), std::max<size_t>(alignment, 4))),
      max_objects_(max_objects),
      reservation_bytes_(RoundUp((static_cast<size_t>(max_objects) + 1) * stride_, OsPageSize())) {
  assert(max_objects >= 1);
  // Address space only: PROT_NONE pages are neither committed nor charged.
  void* p = mmap(nullptr, reservation_bytes_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  base_ = static_cast<char*>(p);
}

PageSlab::~PageSlab() { munmap(base_, reservation_bytes_); }

PageSlab::Shard& PageSlab::MyShard() {
  thread_local const size_t index = std::hash<std::thread::id>()(std::this_thread::get_id()) % kShards;
  return shards_[index];
}

uint32_t PageSlab::Grow() {
  std::lock_guard<std::mutex> l(grow_mu_);
  const uint64_t first = carved_;
  const uint64_t end = std::min<uint64_t>(first + kObjectsPerChunk, uint64_t{max_objects_} + 1);
  if (first >= end) throw std::bad_alloc();  // max_objects_ live objects
  const size_t need = std::min(RoundUp(end * stride_, OsPageSize()), reservation_bytes_);
  if (need > committed_bytes_) {
    if (mprotect(base_ + committed_bytes_, need - committed_bytes_, PROT_READ | PROT_WRITE) != 0) {
      throw std::bad_alloc();
    }
    committed_bytes_ = need;
  }
  for (uint64_t h = first; h < end; ++h) NextOf(static_cast<uint32_t>(h)) = h + 1 < end ? static_cast<uint32_t>(h + 1) : 0;
  carved_ = static_cast<uint32_t>(end);
  return static_cast<uint32_t>(first);
}

void* PageSlab::Allocate() {
  Shard& mine = MyShard();
  std::lock_guard<std::mutex> l(mine.mu);
  if (mine.head == 0) {
    // Take another shard's whole list before growing.
    for (Shard& other : shards_) {
      if (&other == &mine) continue;
      std::unique_lock<std::mutex> ol(other.mu, std::try_to_lock);
      if (ol.owns_lock() && other.head != 0) {
        mine.head = other.head;
        other.head = 0;
        break;
      }
    }
    if (mine.head == 0) mine.head = Grow();
  }
  const uint32_t handle = mine.head;
  mine.head = NextOf(handle);
  return At(handle);
}

void PageSlab::Free(void* object) {
  Shard& mine = MyShard();
  const uint32_t handle = HandleOf(object);
  std::lock_guard<std::mutex> l(mine.mu);
  NextOf(handle) = mine.head;
  mine.head = handle;
}

size_t PageSlab::reserved_bytes() const {
  std::lock_guard<std::mutex> l(grow_mu_);
  return static_cast<size_t>(carved_ - 1) * stride_;
}

}  // namespace memserver
