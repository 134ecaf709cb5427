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
  EXPECT_EQ(t.node_bytes(), t.node_bytes());  // root only
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
  uint64_t empty = t.node_bytes();
  // Two pages at opposite ends of a 2^36-page space cost two paths, not the range.
  t.Install(0, Fake(1));
  t.Install((1ull << 36) - 1, Fake(2));
  EXPECT_LE(t.node_bytes(), empty * 7);
  t.ClearRange(0, 1ull << 36, [](uint64_t, Page*) {});
  EXPECT_EQ(t.node_bytes(), empty);  // interior nodes freed again
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
