// Paging: working sets far larger than the frame pool go to swap in the
// store and come back intact; zero pages are never stored; swap entries and
// frames are released with the pages that own them.
#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

class PagingTest : public EngineFixture {
 protected:
  static constexpr uint64_t kFrames = 16;
};

TEST_F(PagingTest, TenTimesMorePagesThanFramesKeepTheirContent) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t n = 10 * kFrames;
  const uint64_t a = Map(pid, n * page());
  WritePages(pid, 1, a, n);
  ExpectInvariants();
  const GlobalStats written = engine().GetGlobalStats();
  EXPECT_GE(written.evictions, n - kFrames);
  EXPECT_GE(written.page_outs, n - kFrames);
  EXPECT_EQ(written.frames_total, kFrames);
  // Twice, so pages read back from swap are evicted and read back again.
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t i = 0; i < n; ++i) {
      ASSERT_TRUE(CheckPattern(pid, 1, a + i * page(), page())) << "pass " << pass << " page " << i;
    }
    ExpectInvariants();
  }
  // Every page that left memory came back from the store, but swap
  // readahead may bring a page in before its fault, which then counts as
  // minor (as a swap-cache hit on Linux): major faults are at most page-ins.
  const GlobalStats g = engine().GetGlobalStats();
  EXPECT_GE(g.page_ins, n - kFrames);
  EXPECT_GT(g.major_faults, 0u);
  EXPECT_LE(g.major_faults, g.page_ins);
  const ProcessStats s = Stats(pid);
  EXPECT_GT(s.major_faults, 0u);
  EXPECT_LE(s.major_faults, g.major_faults);
  EXPECT_EQ(s.resident_pages + s.swapped_pages, n);
  EXPECT_LE(s.resident_pages, kFrames);
}

TEST_F(PagingTest, UnalignedAccessesAcrossSwappedPagesKeepTheirContent) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t n = 4 * kFrames;
  const uint64_t a = Map(pid, n * page());
  WritePages(pid, 2, a, n);
  // Overwrite windows that straddle page boundaries, then check everything.
  for (uint64_t i = 1; i < n; i += 3) WritePattern(pid, 3, a + i * page() - 33, 66);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t p = a + i * page();
    if (i % 3 == 1) {
      EXPECT_TRUE(CheckPattern(pid, 3, p - 33, 66)) << "window " << i;
      EXPECT_TRUE(CheckPattern(pid, 2, p + 33, page() - 33)) << "page " << i;
    } else if (i % 3 == 2) {
      EXPECT_TRUE(CheckPattern(pid, 2, p, page())) << "page " << i;
    } else {
      EXPECT_TRUE(CheckPattern(pid, 2, p, page() - 33)) << "page " << i;
    }
  }
  ExpectInvariants();
}

TEST_F(PagingTest, SwappedPagesAreCountedPerMapping) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t a = Map(pid, 2 * kFrames * page());
  const uint64_t b = Map(pid, 2 * kFrames * page());
  WritePages(pid, 1, a, 2 * kFrames);
  WritePages(pid, 1, b, 2 * kFrames);
  uint64_t resident = 0, swapped = 0;
  for (const MappingInfo& m : Mappings(pid)) {
    EXPECT_EQ(m.resident_pages + m.swapped_pages, 2 * kFrames) << std::hex << m.start;
    resident += m.resident_pages;
    swapped += m.swapped_pages;
  }
  const ProcessStats s = Stats(pid);
  EXPECT_EQ(s.resident_pages, resident);
  EXPECT_EQ(s.swapped_pages, swapped);
  EXPECT_GE(swapped, 3 * kFrames);
  EXPECT_EQ(SwapKeys(), engine().GetGlobalStats().swap_pages);
  ExpectInvariants();
}

TEST_F(PagingTest, EvictedZeroPagesAreNotStored) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t n = 10 * kFrames;
  const uint64_t a = Map(pid, n * page());
  // Each write takes a frame, but every page stays all-zero.
  for (uint64_t i = 0; i < n; ++i) WriteBytes(pid, a + i * page() + i % page(), std::string(1, '\0'));
  const GlobalStats g = engine().GetGlobalStats();
  EXPECT_GE(g.evictions, n - kFrames);
  EXPECT_GE(g.zero_evictions, n - kFrames);
  EXPECT_EQ(g.page_outs, 0u);
  EXPECT_EQ(SwapKeys(), 0u);
  for (uint64_t i = 0; i < n; ++i) EXPECT_TRUE(CheckZero(pid, a + i * page(), page())) << i;
  // Nothing to read back from the store.
  EXPECT_EQ(engine().GetGlobalStats().page_ins, 0u);
  EXPECT_EQ(SwapKeys(), 0u);
  ExpectInvariants();
}

TEST_F(PagingTest, PageZeroedBeforeEvictionLeavesNoSwapEntry) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t a = Map(pid, page());
  const uint64_t b = Map(pid, 4 * kFrames * page());
  WritePattern(pid, 1, a, page());
  WriteBytes(pid, a, std::string(page(), '\0'));
  const uint64_t zero_before = engine().GetGlobalStats().zero_evictions;
  // Push page `a` out with zero pages only: nothing may be written.
  for (uint64_t i = 0; i < 4 * kFrames; ++i) WriteBytes(pid, b + i * page(), std::string(8, '\0'));
  EXPECT_GT(engine().GetGlobalStats().zero_evictions, zero_before);
  EXPECT_EQ(SwapKeys(), 0u);
  EXPECT_TRUE(CheckZero(pid, a, page()));
  ExpectInvariants();
}

TEST_F(PagingTest, RewrittenSwappedPageKeepsTheNewContent) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t n = 4 * kFrames;
  const uint64_t a = Map(pid, n * page());
  WritePages(pid, 1, a, n);
  // Page 0 is long evicted; change half of it, push it out again.
  WritePattern(pid, 2, a + page() / 2, page() / 2);
  for (uint64_t i = 1; i < n; ++i) EXPECT_TRUE(CheckPattern(pid, 1, a + i * page(), page()));
  EXPECT_TRUE(CheckPattern(pid, 1, a, page() / 2));
  EXPECT_TRUE(CheckPattern(pid, 2, a + page() / 2, page() / 2));
  EXPECT_EQ(SwapKeys(), engine().GetGlobalStats().swap_pages);
  ExpectInvariants();
}

TEST_F(PagingTest, ReadOnlyPassOverSwappedPagesWritesNothing) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t n = 8 * kFrames;
  const uint64_t a = Map(pid, n * page());
  WritePages(pid, 1, a, n);
  // One read pass leaves every page with a clean swap copy.
  for (uint64_t i = 0; i < n; ++i) CheckPattern(pid, 1, a + i * page(), page());
  const GlobalStats before = engine().GetGlobalStats();
  for (uint64_t i = 0; i < n; ++i) CheckPattern(pid, 1, a + i * page(), page());
  const GlobalStats after = engine().GetGlobalStats();
  EXPECT_EQ(after.page_outs, before.page_outs) << "clean pages were written out again";
  EXPECT_GT(after.clean_evictions, before.clean_evictions);
  ExpectInvariants();
}

TEST_F(PagingTest, MunmapDeletesSwapEntriesAndFreesFrames) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t n = 6 * kFrames;
  const uint64_t a = Map(pid, n * page());
  WritePages(pid, 1, a, n);
  ASSERT_GT(SwapKeys(), 0u);
  // Half first: the other half stays intact.
  ASSERT_OK(engine().Munmap(pid, a, n / 2 * page()));
  ExpectInvariants();
  EXPECT_TRUE(CheckPages(pid, 1, a + n / 2 * page(), n / 2));
  ASSERT_OK(engine().Munmap(pid, a + n / 2 * page(), n / 2 * page()));
  EXPECT_EQ(SwapKeys(), 0u);
  const GlobalStats g = engine().GetGlobalStats();
  EXPECT_EQ(g.frames_free, g.frames_total);
  EXPECT_EQ(g.swap_pages, 0u);
  const ProcessStats s = Stats(pid);
  EXPECT_EQ(s.resident_pages, 0u);
  EXPECT_EQ(s.swapped_pages, 0u);
  ExpectInvariants();
}

TEST_F(PagingTest, ExitRightAfterReadaheadFreesEverything) {
  OpenWithFrames(kFrames);
  for (int round = 0; round < 5; ++round) {
    const Pid pid = NewProcess();
    const uint64_t n = 6 * kFrames;
    const uint64_t a = Map(pid, n * page());
    WritePages(pid, 1, a, n);
    // A sequential run of major faults starts readahead in the background;
    // Exit must not leave its frames or swap entries behind.
    EXPECT_TRUE(CheckPages(pid, 1, a, kFrames));
    ASSERT_OK(engine().Exit(pid));
    const GlobalStats g = engine().GetGlobalStats();
    EXPECT_EQ(g.frames_free, g.frames_total) << "round " << round;
    EXPECT_EQ(SwapKeys(), 0u) << "round " << round;
  }
  ExpectInvariants();
}

TEST_F(PagingTest, MapFixedOverSwappedPagesDeletesTheirSwapEntries) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t n = 4 * kFrames;
  const uint64_t a = 1ull << 30;
  MapFixed(pid, a, n * page());
  WritePages(pid, 1, a, n);
  ASSERT_GT(SwapKeys(), 0u);
  MapFixed(pid, a, n * page(), kProtRead);
  EXPECT_EQ(SwapKeys(), 0u);
  EXPECT_TRUE(CheckZero(pid, a, n * page()));
  ExpectInvariants();
}

TEST_F(PagingTest, MprotectOfSwappedPagesKeepsThemReadable) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t n = 4 * kFrames;
  const uint64_t a = Map(pid, n * page());
  WritePages(pid, 1, a, n);
  ASSERT_OK(engine().Mprotect(pid, a + page(), n / 2 * page(), kProtRead));
  EXPECT_TRUE(CheckPages(pid, 1, a, n));
  ExpectInvariants();
}

TEST_F(PagingTest, SingleIoLargerThanThePoolSucceeds) {
  OpenWithFrames(kFrames);
  const Pid pid = NewProcess();
  const uint64_t n = 4 * kFrames;
  const uint64_t a = Map(pid, n * page() + page());
  WritePattern(pid, 5, a + 7, n * page());
  EXPECT_TRUE(CheckPattern(pid, 5, a + 7, n * page()));
  ExpectInvariants();
}

TEST_F(PagingTest, EvictionBatchLargerThanThePoolStillPages) {
  EngineOptions o = Options(8);
  o.eviction_batch = 32;
  ASSERT_OK(Open(o));
  const Pid pid = NewProcess();
  const uint64_t a = Map(pid, 64 * page());
  WritePages(pid, 1, a, 64);
  EXPECT_TRUE(CheckPages(pid, 1, a, 64));
  ExpectInvariants();
}

TEST_F(PagingTest, SixteenKiBPagesSwapAndComeBack) {
  OpenWithFrames(kFrames, 16384);
  const Pid pid = NewProcess();
  const uint64_t n = 5 * kFrames;
  const uint64_t a = Map(pid, n * page());
  WritePages(pid, 4, a, n);
  EXPECT_TRUE(CheckPages(pid, 4, a, n));
  EXPECT_GT(engine().GetGlobalStats().page_ins, 0u);
  ExpectInvariants();
}

}  // namespace
}  // namespace memserver
