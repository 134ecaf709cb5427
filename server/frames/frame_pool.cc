#include "server/frames/frame_pool.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace memserver {

FramePool::FramePool(uint32_t capacity, uint32_t page_size)
    : capacity_(capacity), page_size_(page_size), free_count_(capacity) {
  size_t bytes = static_cast<size_t>(capacity) * page_size;
  // MAP_NORESERVE: the kernel backs frames lazily; an untouched pool costs
  // no RSS on the server machine.
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  base_ = static_cast<char*>(p);
}

FramePool::~FramePool() { munmap(base_, static_cast<size_t>(capacity_) * page_size_); }

bool FramePool::TryAllocate(FrameId* frame) {
  std::lock_guard<std::mutex> l(mu_);
  if (free_head_ != kNoFrame) {
    *frame = free_head_;
    free_head_ = NextFree(free_head_);
  } else if (untouched_ < capacity_) {
    *frame = untouched_++;  // low frames first
  } else {
    return false;
  }
  free_count_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

void FramePool::Free(FrameId frame) {
  std::lock_guard<std::mutex> l(mu_);
  NextFree(frame) = free_head_;
  free_head_ = frame;
  free_count_.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace memserver
