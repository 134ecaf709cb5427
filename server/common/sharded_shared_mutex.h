// ShardedSharedMutex: a reader-writer lock for data read on every call and
// written rarely (the engine's process table), whose readers on different
// threads touch different cache lines, as Linux's per-CPU rwsems and
// brlocks do: a shared_mutex's reader count is one word that every reader
// writes, which caps how far reads scale across cores.
//
// Guarantees: the same exclusion as std::shared_mutex (many readers, or one
// writer). A reader locks one of kShards shards, chosen per thread (a thread
// keeps its shard for life); a writer locks every shard, in index order, so
// writers cost kShards lock operations. Usable with std::shared_lock and
// std::unique_lock; lock_shared and unlock_shared must run on one thread
// (as std::shared_lock does).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <shared_mutex>

namespace memserver {

class ShardedSharedMutex {
 public:
  static constexpr size_t kShards = 16;

  ShardedSharedMutex() = default;
  ShardedSharedMutex(const ShardedSharedMutex&) = delete;
  ShardedSharedMutex& operator=(const ShardedSharedMutex&) = delete;

  void lock() {
    for (Shard& s : shards_) s.mu.lock();
  }
  void unlock() {
    for (size_t i = kShards; i-- > 0;) shards_[i].mu.unlock();
  }
  void lock_shared() { shards_[ThreadShard()].mu.lock_shared(); }
  void unlock_shared() { shards_[ThreadShard()].mu.unlock_shared(); }

 private:
  // 128 bytes: Intel fetches cache lines in pairs (the adjacent-line
  // prefetcher), so 64-byte neighbours would still share.
  struct alignas(128) Shard {
    std::shared_mutex mu;
  };
  // Threads take shards round-robin at their first read of any instance.
  static size_t ThreadShard() {
    static std::atomic<size_t> next{0};
    thread_local const size_t shard = next.fetch_add(1, std::memory_order_relaxed) % kShards;
    return shard;
  }
  std::array<Shard, kShards> shards_;
};

}  // namespace memserver
