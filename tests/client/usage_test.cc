// smaps-style usage through the client: RSS, PSS and USS of private pages
// shared by fork, dirty/clean, swap-free accounting, and the totals in stats.
#include "tests/client/client_fixture.h"

namespace memserver::client {
namespace {

using UsageTest = ClientTest;

constexpr uint64_t kPages = 4;

// Maps kPages private anonymous pages at kBase and writes every one of them.
uint64_t MapAndTouch(Process& p) {
  uint64_t a = p.Mmap(kBase, kPages * kPage, kRw, kPrivateAnon | kMapFixedNoreplace);
  for (uint64_t i = 0; i < kPages; ++i) p.Write(a + i * kPage, "x");
  return a;
}

TEST_F(UsageTest, PrivatePagesOfOneProcessAreAllUssAndPrivateDirty) {
  Process p = client().CreateProcess();
  MapAndTouch(p);
  std::vector<Mapping> m = p.Mappings();
  ASSERT_EQ(m.size(), 1u);
  const MemoryUsage& u = m[0].usage;
  EXPECT_EQ(u.rss, kPages * kPage);
  EXPECT_EQ(u.pss, kPages * kPage);
  EXPECT_EQ(u.uss, kPages * kPage);
  EXPECT_EQ(u.private_dirty, kPages * kPage);
  EXPECT_EQ(u.shared_clean + u.shared_dirty + u.private_clean, 0u);
  EXPECT_EQ(u.swap, 0u);
  EXPECT_EQ(u.locked, 0u);
  EXPECT_EQ(m[0].resident_pages, kPages);
}

TEST_F(UsageTest, AfterForkSharedPagesCountHalfInPssAndNothingInUss) {
  Process parent = client().CreateProcess();
  uint64_t a = MapAndTouch(parent);
  Process child = parent.Fork();
  for (Process* p : {&parent, &child}) {
    std::vector<Mapping> m = p->Mappings();
    ASSERT_EQ(m.size(), 1u);
    const MemoryUsage& u = m[0].usage;
    EXPECT_EQ(u.rss, kPages * kPage);
    EXPECT_EQ(u.pss, u.rss / 2);
    EXPECT_EQ(u.uss, 0u);
    EXPECT_EQ(u.shared_dirty + u.shared_clean, u.rss);
    EXPECT_EQ(u.private_dirty + u.private_clean, 0u);
  }

  // A write in the child copies one page: it becomes private to each side.
  child.Write(a, "y");
  for (Process* p : {&parent, &child}) {
    const MemoryUsage u = p->Mappings().at(0).usage;
    EXPECT_EQ(u.rss, kPages * kPage);
    EXPECT_EQ(u.uss, kPage);
    EXPECT_EQ(u.pss, kPage + (kPages - 1) * kPage / 2);
    EXPECT_EQ(u.private_dirty, kPage);
  }
}

TEST_F(UsageTest, ProcessStatsUsageIsTheSumOverItsMappings) {
  Process p = client().CreateProcess();
  MapAndTouch(p);
  uint64_t b = p.Mmap(kBase + 64 * kPage, 2 * kPage, kRw, kMapShared | kMapAnonymous);
  p.Write(b, "shared");
  p.Mlock(b, 2 * kPage);
  MemoryUsage sum;
  for (const Mapping& m : p.Mappings()) sum += m.usage;
  ProcessStats stats = p.Stats();
  EXPECT_EQ(stats.usage.rss, sum.rss);
  EXPECT_EQ(stats.usage.pss, sum.pss);
  EXPECT_EQ(stats.usage.uss, sum.uss);
  EXPECT_EQ(stats.usage.private_dirty, sum.private_dirty);
  EXPECT_EQ(stats.usage.locked, sum.locked);
  EXPECT_EQ(sum.locked, 2 * kPage);
  EXPECT_EQ(stats.locked_bytes, 2 * kPage);
  EXPECT_EQ(stats.usage.rss, stats.resident_pages * kPage);
}

TEST_F(UsageTest, SharedAnonymousMappingIsShmemBacked) {
  Process p = client().CreateProcess();
  p.Mmap(kBase, kPage, kRw, kMapShared | kMapAnonymous | kMapFixedNoreplace);
  std::vector<Mapping> m = p.Mappings();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].backing, "[shmem]");
}

}  // namespace
}  // namespace memserver::client
