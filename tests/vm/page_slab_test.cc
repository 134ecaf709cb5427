// PageSlab: every object distinct and aligned, storage reused after Free,
// free storage on another thread's shard reused before the slab grows, and
// a Page costs exactly sizeof(Page) of slab storage.
#include "server/vm/page_slab.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <iterator>
#include <new>
#include <set>
#include <thread>
#include <vector>

#include "server/vm/page.h"

namespace memserver {
namespace {

TEST(PageSlabTest, ObjectsAreDistinctAlignedAndDoNotOverlap) {
  PageSlab slab(sizeof(Page), alignof(Page));
  std::set<uintptr_t> seen;
  for (size_t i = 0; i < 3 * PageSlab::kObjectsPerChunk; ++i) {
    auto a = reinterpret_cast<uintptr_t>(slab.Allocate());
    EXPECT_EQ(a % alignof(Page), 0u);
    auto [it, fresh] = seen.insert(a);
    ASSERT_TRUE(fresh) << "address handed out twice";
    if (it != seen.begin()) {
      EXPECT_GE(a - *std::prev(it), sizeof(Page));
    }
    if (std::next(it) != seen.end()) {
      EXPECT_GE(*std::next(it) - a, sizeof(Page));
    }
  }
}

TEST(PageSlabTest, ChunksHoldExactlySizeofPagePerObject) {
  PageSlab slab(sizeof(Page), alignof(Page));
  for (size_t i = 0; i < PageSlab::kObjectsPerChunk; ++i) slab.Allocate();
  EXPECT_EQ(slab.reserved_bytes(), PageSlab::kObjectsPerChunk * sizeof(Page));
  slab.Allocate();
  EXPECT_EQ(slab.reserved_bytes(), 2 * PageSlab::kObjectsPerChunk * sizeof(Page));
}

TEST(PageSlabTest, FreedStorageIsReusedBeforeTheSlabGrows) {
  PageSlab slab(sizeof(Page), alignof(Page));
  std::vector<void*> objects;
  for (size_t i = 0; i < 2 * PageSlab::kObjectsPerChunk; ++i) objects.push_back(slab.Allocate());
  const size_t reserved = slab.reserved_bytes();
  for (int round = 0; round < 5; ++round) {
    for (void* o : objects) slab.Free(o);
    objects.clear();
    for (size_t i = 0; i < 2 * PageSlab::kObjectsPerChunk; ++i) objects.push_back(slab.Allocate());
  }
  EXPECT_EQ(slab.reserved_bytes(), reserved);
}

TEST(PageSlabTest, StorageFreedOnAnotherThreadIsReused) {
  PageSlab slab(sizeof(Page), alignof(Page));
  std::vector<void*> objects;
  for (size_t i = 0; i < PageSlab::kObjectsPerChunk; ++i) objects.push_back(slab.Allocate());
  const size_t reserved = slab.reserved_bytes();
  // Free everything on other threads (other shards, most likely), then
  // allocate it all again here: the slab must steal, not grow.
  std::vector<std::thread> threads;
  const size_t per = objects.size() / 4;
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t * per; i < (t + 1) * per; ++i) slab.Free(objects[i]);
    });
  }
  for (auto& th : threads) th.join();
  std::set<void*> again;
  for (size_t i = 0; i < 4 * per; ++i) again.insert(slab.Allocate());
  EXPECT_EQ(again.size(), 4 * per);
  // Each thread's list is stolen whole by one Allocate; at most one shard
  // can be busy-skipped (try_lock) at a time, and nothing else runs here.
  EXPECT_EQ(slab.reserved_bytes(), reserved);
}

TEST(PageSlabTest, HandlesNameObjectsBothWaysAndZeroIsNeverAnObject) {
  PageSlab slab(sizeof(Page), alignof(Page));
  EXPECT_EQ(slab.stride(), sizeof(Page));
  std::set<uint32_t> handles;
  for (size_t i = 0; i < 2 * PageSlab::kObjectsPerChunk + 3; ++i) {
    void* object = slab.Allocate();
    const uint32_t h = slab.HandleOf(object);
    EXPECT_NE(h, 0u);
    EXPECT_EQ(slab.At(h), object);
    EXPECT_TRUE(handles.insert(h).second) << "handle " << h << " given twice";
  }
}

TEST(PageSlabTest, AHandleSurvivesTheSlabGrowing) {
  // Storage never moves: a Page found through a handle before the slab grew
  // is the same object, with the same content, afterwards.
  PageSlab slab(sizeof(Page), alignof(Page));
  Page* first = new (slab.Allocate()) Page(77);
  const uint32_t h = slab.HandleOf(first);
  for (size_t i = 0; i < 3 * PageSlab::kObjectsPerChunk; ++i) slab.Allocate();
  EXPECT_EQ(static_cast<Page*>(slab.At(h)), first);
  EXPECT_EQ(static_cast<Page*>(slab.At(h))->id(), 77u);
}

TEST(PageSlabTest, AllocatingPastMaxObjectsThrowsBadAlloc) {
  PageSlab slab(sizeof(Page), alignof(Page), /*max_objects=*/10);
  std::vector<void*> objects;
  for (int i = 0; i < 10; ++i) objects.push_back(slab.Allocate());
  EXPECT_THROW(slab.Allocate(), std::bad_alloc);
  slab.Free(objects[3]);
  EXPECT_EQ(slab.Allocate(), objects[3]);  // freed storage still serves
}

TEST(PageSlabTest, ConcurrentAllocateAndFreeNeverShareAnObject) {
  PageSlab slab(sizeof(Page), alignof(Page));
  constexpr int kThreads = 8;
  constexpr int kRounds = 20000;
  std::vector<std::thread> threads;
  std::atomic<int> overlaps{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint64_t*> mine;
      for (int r = 0; r < kRounds; ++r) {
        auto* p = static_cast<uint64_t*>(slab.Allocate());
        *p = static_cast<uint64_t>(t) << 32 | static_cast<uint32_t>(r);
        mine.push_back(p);
        if (mine.size() > 64) {
          for (size_t i = 0; i < 32; ++i) {
            if ((*mine[i] >> 32) != static_cast<uint64_t>(t)) overlaps.fetch_add(1);
            slab.Free(mine[i]);
          }
          mine.erase(mine.begin(), mine.begin() + 32);
        }
      }
      for (uint64_t* p : mine) {
        if ((*p >> 32) != static_cast<uint64_t>(t)) overlaps.fetch_add(1);
        slab.Free(p);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(overlaps.load(), 0);
}

}  // namespace
}  // namespace memserver
