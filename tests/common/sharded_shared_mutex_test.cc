// ShardedSharedMutex (server/common/sharded_shared_mutex.h): readers on
// different threads (different shards) hold it together; a writer excludes
// every reader, whatever shard it is on.
#include "server/common/sharded_shared_mutex.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace memserver {
namespace {

TEST(ShardedSharedMutexTest, ReadersOnManyThreadsHoldItTogether) {
  ShardedSharedMutex mu;
  constexpr int kReaders = 2 * ShardedSharedMutex::kShards;  // every shard, some twice
  std::atomic<int> inside{0};
  std::promise<void> all_in;
  std::promise<void> go;
  std::shared_future<void> gate = go.get_future().share();
  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&] {
      std::shared_lock<ShardedSharedMutex> l(mu);
      if (inside.fetch_add(1) + 1 == kReaders) all_in.set_value();
      gate.wait();  // every reader holds the lock at once here
    });
  }
  EXPECT_EQ(all_in.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << inside.load() << " of " << kReaders << " readers got in";
  go.set_value();
  for (std::thread& t : readers) t.join();
}

TEST(ShardedSharedMutexTest, AWriterExcludesReadersOnEveryShard) {
  ShardedSharedMutex mu;
  uint64_t a = 0, b = 0;  // the writer keeps a == b; a reader must never see them differ
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> torn{0}, reads{0};
  std::vector<std::thread> readers;
  for (size_t i = 0; i < ShardedSharedMutex::kShards; ++i) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        std::shared_lock<ShardedSharedMutex> l(mu);
        const uint64_t x = a;
        std::this_thread::yield();
        if (b != x) torn.fetch_add(1);
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (int i = 0; i < 2000; ++i) {
    std::unique_lock<ShardedSharedMutex> l(mu);
    ++a;
    std::this_thread::yield();
    ++b;
  }
  stop = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0u) << "of " << reads.load() << " reads";
  EXPECT_EQ(a, 2000u);
  EXPECT_EQ(b, 2000u);
}

}  // namespace
}  // namespace memserver
