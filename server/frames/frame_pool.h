// FramePool: the fixed pool of physical frames that back resident pages.
//
// Guarantees:
//   - capacity() frames of page_size() bytes each, allocated once at
//     construction (one anonymous mapping, never resized) and never moved:
//     Data(f) is stable for the pool's lifetime.
//   - TryAllocate/Free are thread-safe; a frame is handed out at most once
//     until it is freed. Frames handed out are NOT zeroed.
//   - No per-frame bookkeeping: frames never handed out are taken in order
//     from a high-water mark, and a freed frame is linked into the free list
//     through its own first 4 bytes (as SLUB keeps its free pointer inside
//     free objects), so the free list costs no memory and an untouched frame
//     is never written by the pool.
// The pool knows nothing of pages: who owns a frame is recorded by the
// Pager (server/vm/pager.h), which also decides what to evict.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "server/frames/replacement_policy.h"

namespace memserver {

class FramePool {
 public:
  // REQUIRES: capacity >= 1, page_size a power of two.
  FramePool(uint32_t capacity, uint32_t page_size);
  ~FramePool();
  FramePool(const FramePool&) = delete;
  FramePool& operator=(const FramePool&) = delete;

  uint32_t capacity() const { return capacity_; }
  uint32_t page_size() const { return page_size_; }

  char* Data(FrameId frame) const { return base_ + static_cast<uint64_t>(frame) * page_size_; }

  // Takes a free frame. Returns false when none is free.
  bool TryAllocate(FrameId* frame);
  // Returns a frame to the free list. REQUIRES: allocated and not yet freed.
  void Free(FrameId frame);

  uint32_t free_count() const { return free_count_.load(std::memory_order_relaxed); }

 private:
  const uint32_t capacity_;
  const uint32_t page_size_;
  char* base_;  // capacity_ * page_size_ bytes, owned (munmap in destructor)

  // The link stored in a free frame: the next free frame, or kNoFrame.
  FrameId& NextFree(FrameId frame) const { return *reinterpret_cast<FrameId*>(Data(frame)); }

  std::mutex mu_;                  // leaf lock
  FrameId free_head_ = kNoFrame;   // freed frames, LIFO; GUARDED_BY(mu_)
  uint32_t untouched_ = 0;         // frames [untouched_, capacity_) never handed out; GUARDED_BY(mu_)
  std::atomic<uint32_t> free_count_;
};

}  // namespace memserver
