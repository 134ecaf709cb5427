// FramePool: every frame handed out once until freed, low frames first,
// freed frames reused before the pool reports exhaustion, and the free list
// kept inside free frames without disturbing frames in use.
#include "server/frames/frame_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace memserver {
namespace {

TEST(FramePoolTest, HandsOutEveryFrameOnceLowFramesFirstThenRunsDry) {
  FramePool pool(64, 4096);
  for (FrameId want = 0; want < 64; ++want) {
    FrameId f = kNoFrame;
    ASSERT_TRUE(pool.TryAllocate(&f));
    EXPECT_EQ(f, want);
  }
  FrameId f = kNoFrame;
  EXPECT_FALSE(pool.TryAllocate(&f));
  EXPECT_EQ(pool.free_count(), 0u);
}

TEST(FramePoolTest, FreedFramesAreReusedAndNoFrameIsHandedOutTwice) {
  FramePool pool(16, 4096);
  std::vector<FrameId> held(16);
  for (FrameId& f : held) ASSERT_TRUE(pool.TryAllocate(&f));
  for (int i = 0; i < 16; i += 2) pool.Free(held[i]);
  EXPECT_EQ(pool.free_count(), 8u);
  std::set<FrameId> again;
  FrameId f = kNoFrame;
  while (pool.TryAllocate(&f)) EXPECT_TRUE(again.insert(f).second) << "frame " << f << " handed out twice";
  EXPECT_EQ(again, (std::set<FrameId>{0, 2, 4, 6, 8, 10, 12, 14}));
}

TEST(FramePoolTest, TheFreeListNeverWritesIntoFramesInUse) {
  FramePool pool(32, 4096);
  std::vector<FrameId> held(32);
  for (FrameId& f : held) {
    ASSERT_TRUE(pool.TryAllocate(&f));
    std::memset(pool.Data(f), 0xA5, pool.page_size());
  }
  // Free and reallocate half of them many times; the other half must keep
  // every byte.
  for (int round = 0; round < 10; ++round) {
    for (size_t i = 0; i < held.size(); i += 2) pool.Free(held[i]);
    for (size_t i = 0; i < held.size(); i += 2) ASSERT_TRUE(pool.TryAllocate(&held[i]));
  }
  for (size_t i = 1; i < held.size(); i += 2) {
    const char* d = pool.Data(held[i]);
    for (uint32_t b = 0; b < pool.page_size(); ++b) ASSERT_EQ(static_cast<unsigned char>(d[b]), 0xA5);
  }
}

TEST(FramePoolTest, ConcurrentAllocateAndFreeKeepFramesExclusive) {
  FramePool pool(256, 4096);
  std::vector<std::thread> threads;
  std::atomic<int> conflicts{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 5000; ++r) {
        FrameId f = kNoFrame;
        if (!pool.TryAllocate(&f)) continue;
        char* d = pool.Data(f);
        std::memset(d, t + 1, 64);
        for (int b = 0; b < 64; ++b) {
          if (d[b] != t + 1) conflicts.fetch_add(1);
        }
        pool.Free(f);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(conflicts.load(), 0);
  EXPECT_EQ(pool.free_count(), 256u);
}

}  // namespace
}  // namespace memserver
