#include "server/vm/page_table.h"

#include "server/vm/page.h"
#include "server/vm/page_slab.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace memserver {
namespace {

// Entries are PageSlab handles: a page is named by its slot in a slab. The
// tests never dereference a page, so a slot's address is enough.
const PageSlab& Slab() {
  static const PageSlab slab(sizeof(Page), alignof(Page));
  return slab;
}
Page* Fake(uint32_t n) { return static_cast<Page*>(Slab().At(n)); }

TEST(PageTableTest, LookupOfUntouchedPageIsEmpty) {
  PageTable t(36, &Slab());
  EXPECT_EQ(t.Lookup(0), nullptr);
  EXPECT_EQ(t.Lookup((1ull << 36) - 1), nullptr);
  EXPECT_EQ(t.node_bytes(), 0u);  // an empty table has no node at all
}

TEST(PageTableTest, LowIndicesCostOneLeafAndTheTreeGrowsOnlyAsTallAsNeeded) {
  PageTable t(28, &Slab());  // a 1 TiB file's page cache: up to 4 levels
  t.Install(0, Fake(1));
  const uint64_t one_leaf = t.node_bytes();
  EXPECT_LT(one_leaf, 2100u) << "one 512-entry leaf of 4-byte handles";
  t.Install(511, Fake(2));
  EXPECT_EQ(t.node_bytes(), one_leaf);
  t.Install(512, Fake(3));  // a second leaf and a root above the two
  EXPECT_GT(t.node_bytes(), 2 * one_leaf);
  t.Install((1ull << 28) - 1, Fake(4));  // the full height
  EXPECT_EQ(t.Lookup(0), Fake(1));
  EXPECT_EQ(t.Lookup(511), Fake(2));
  EXPECT_EQ(t.Lookup(512), Fake(3));
  EXPECT_EQ(t.Lookup((1ull << 28) - 1), Fake(4));
  EXPECT_EQ(t.Lookup(1ull << 20), nullptr);
  std::vector<uint64_t> seen;
  t.ForEach(0, ~0ull, [&](uint64_t vpn, Page*) { seen.push_back(vpn); });
  EXPECT_EQ(seen, (std::vector<uint64_t>{0, 511, 512, (1ull << 28) - 1}));
  t.ClearRange(0, ~0ull, [](uint64_t, Page*) {});
  EXPECT_EQ(t.node_bytes(), 0u);
  EXPECT_EQ(t.entries(), 0u);
}

TEST(PageTableTest, ConcurrentInstallsThatGrowTheRootAllLand) {
  for (int round = 0; round < 20; ++round) {
    PageTable t(36, &Slab());
    std::vector<std::thread> threads;
    for (int th = 0; th < 4; ++th) {
      // Each thread's first install needs a taller root than the last one's.
      threads.emplace_back([&, th] {
        for (uint64_t v = 1; v < (1ull << 36); v <<= 3) EXPECT_EQ(t.Install(v + th, Fake(th + 1)), Fake(th + 1));
      });
    }
    for (auto& th : threads) th.join();
    for (int th = 0; th < 4; ++th) {
      for (uint64_t v = 1; v < (1ull << 36); v <<= 3) ASSERT_EQ(t.Lookup(v + th), Fake(th + 1)) << v + th;
    }
    t.ClearRange(0, 1ull << 36, [](uint64_t, Page*) {});
    EXPECT_EQ(t.node_bytes(), 0u);
  }
}

TEST(PageTableTest, InstallIsFirstWriterWins) {
  PageTable t(36, &Slab());
  EXPECT_EQ(t.Install(42, Fake(1)), Fake(1));
  EXPECT_EQ(t.Install(42, Fake(2)), Fake(1));
  EXPECT_EQ(t.Lookup(42), Fake(1));
  EXPECT_EQ(t.entries(), 1u);
  t.ClearRange(0, 1ull << 36, [](uint64_t, Page*) {});
}

TEST(PageTableTest, MemoryGrowsWithTouchedPagesNotRange) {
  PageTable t(36, &Slab());
  // Two pages at opposite ends of a 2^36-page space cost two paths, not the
  // range: a root and three nodes below it on each side.
  t.Install(0, Fake(1));
  t.Install((1ull << 36) - 1, Fake(2));
  EXPECT_LE(t.node_bytes(), 7 * 4200u);
  t.ClearRange(0, 1ull << 36, [](uint64_t, Page*) {});
  EXPECT_EQ(t.node_bytes(), 0u);  // every node freed again, the root too
}

TEST(PageTableTest, ClearRangeRemovesOnlyThatRangeInOrder) {
  PageTable t(36, &Slab());
  for (uint64_t v = 0; v < 2000; ++v) t.Install(v, Fake(v + 1));
  std::vector<uint64_t> seen;
  t.ClearRange(500, 1500, [&](uint64_t vpn, Page* p) {
    EXPECT_EQ(p, Fake(vpn + 1));
    seen.push_back(vpn);
  });
  ASSERT_EQ(seen.size(), 1000u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 500 + i);
  EXPECT_EQ(t.Lookup(499), Fake(500));
  EXPECT_EQ(t.Lookup(500), nullptr);
  EXPECT_EQ(t.Lookup(1500), Fake(1501));
  EXPECT_EQ(t.entries(), 1000u);
  t.ClearRange(0, 1ull << 36, [](uint64_t, Page*) {});
}

TEST(PageTableTest, ReplaceSwapsOnlyExpectedEntry) {
  PageTable t(36, &Slab());
  t.Install(7, Fake(1));
  EXPECT_FALSE(t.Replace(7, Fake(2), Fake(3)));
  EXPECT_TRUE(t.Replace(7, Fake(1), Fake(3)));
  EXPECT_EQ(t.Lookup(7), Fake(3));
  t.ClearRange(0, 1ull << 36, [](uint64_t, Page*) {});
}

TEST(PageTableTest, ConcurrentInstallsOnSharedPathsAllLand) {
  PageTable t(36, &Slab());
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&, th] {
      for (uint64_t v = th; v < 40000; v += 4) EXPECT_EQ(t.Install(v * 37, Fake(v + 1)), Fake(v + 1));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(t.entries(), 40000u);
  for (uint64_t v = 0; v < 40000; ++v) ASSERT_EQ(t.Lookup(v * 37), Fake(v + 1));
  t.ClearRange(0, 1ull << 36, [](uint64_t, Page*) {});
}

}  // namespace
}  // namespace memserver
