// smaps-style accounting (proc(5): Rss, Pss, Shared_/Private_Clean/Dirty,
// Swap, Locked) per process and per mapping, and the fault counters. A page
// mapped by n processes counts 1/n towards each one's PSS, so PSS summed
// over every process is the memory actually in use.
#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {
namespace {

class AccountingTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(256);
    pid_ = NewProcess();
  }

  Pid pid_ = 0;
};

TEST_F(AccountingTest, ResidentPrivatePagesArePrivateDirtyAndUnique) {
  const uint64_t at = Map(pid_, 16 * kPage);
  WritePattern(pid_, 1, at, 10 * kPage);
  const MemoryUsage u = Stats(pid_).usage;
  EXPECT_EQ(u.rss, 10 * kPage);
  EXPECT_EQ(u.pss, 10 * kPage);
  EXPECT_EQ(u.uss, 10 * kPage);
  EXPECT_EQ(u.private_dirty, 10 * kPage);
  EXPECT_EQ(u.shared_clean + u.shared_dirty + u.private_clean, 0u);
  EXPECT_EQ(Stats(pid_).resident_pages, 10u);
}

TEST_F(AccountingTest, ReadingNeverWrittenMemoryTakesNoFrame) {
  const uint64_t at = Map(pid_, 8 * kPage);
  const uint64_t used = FramesUsed();
  EXPECT_TRUE(IsZero(pid_, at, 8 * kPage));
  EXPECT_EQ(FramesUsed(), used);
  EXPECT_EQ(Stats(pid_).usage.rss, 0u);
}

TEST_F(AccountingTest, AfterForkWithoutWritesEachSideHasHalfThePss) {
  const uint64_t at = Map(pid_, 10 * kPage);
  WritePattern(pid_, 1, at, 10 * kPage);
  const Pid child = ForkOf(pid_);
  for (const Pid p : {pid_, child}) {
    const MemoryUsage u = Stats(p).usage;
    EXPECT_EQ(u.rss, 10 * kPage) << "pid " << p;
    EXPECT_EQ(u.pss, u.rss / 2) << "pid " << p;
    EXPECT_EQ(u.uss, 0u) << "pid " << p;
    EXPECT_EQ(u.shared_dirty, 10 * kPage) << "pid " << p;
    EXPECT_EQ(u.private_dirty, 0u) << "pid " << p;
  }
}

TEST_F(AccountingTest, PagesWrittenAfterForkBecomeUnique) {
  const uint64_t at = Map(pid_, 10 * kPage);
  WritePattern(pid_, 1, at, 10 * kPage);
  const Pid child = ForkOf(pid_);
  WritePattern(child, 2, at, 2 * kPage);
  const MemoryUsage c = Stats(child).usage;
  EXPECT_EQ(c.uss, 2 * kPage);
  EXPECT_EQ(c.pss, 2 * kPage + 8 * kPage / 2);
  EXPECT_EQ(c.private_dirty, 2 * kPage);
  EXPECT_EQ(c.shared_dirty, 8 * kPage);
  const MemoryUsage p = Stats(pid_).usage;
  EXPECT_EQ(p.uss, 2 * kPage);  // the parent's two originals are its own now
  EXPECT_EQ(p.pss, 2 * kPage + 8 * kPage / 2);
}

TEST_F(AccountingTest, PssSummedOverProcessesIsTheMemoryInUse) {
  // Distinct resident mapped pages, built up step by step:
  const uint64_t anon = Map(pid_, 10 * kPage);
  WritePattern(pid_, 1, anon, 10 * kPage);  // 10 private pages
  const uint64_t shm = Map(pid_, 4 * kPage, kRW, kSharedAnon);
  WritePattern(pid_, 2, shm, 3 * kPage);  // 3 shared anonymous pages
  PutPatternFile("/f", 3, 5 * kPage);
  const uint64_t file = MapFile(pid_, "/f", 5 * kPage, kMapShared, kProtRead);
  ReadBytes(pid_, file, 5 * kPage);  // 5 file pages
  const Pid a = ForkOf(pid_), b = ForkOf(pid_);
  const Pid c = ForkOf(a);
  WritePattern(a, 4, anon, 2 * kPage);  // 2 copies
  WritePattern(c, 5, anon + 5 * kPage, kPage);  // 1 copy
  WritePattern(b, 6, shm + 3 * kPage, kPage);  // 1 more shared anonymous page
  const uint64_t distinct = 10 + 3 + 5 + 2 + 1 + 1;
  uint64_t pss = 0, rss = 0, uss = 0;
  for (const ProcessStats& s : engine().ListProcesses()) {
    pss += s.usage.pss;
    rss += s.usage.rss;
    uss += s.usage.uss;
  }
  EXPECT_LE(pss, distinct * kPage);
  EXPECT_GE(pss, distinct * kPage - distinct * 4);  // each page loses < 1 byte per mapper
  EXPECT_GT(rss, pss);
  EXPECT_EQ(uss, 3 * kPage);  // only the copies are unshared
}

TEST_F(AccountingTest, FilePagesReadByOneProcessArePrivateClean) {
  PutPatternFile("/f", 1, 3 * kPage);
  const uint64_t at = MapFile(pid_, "/f", 3 * kPage, kMapShared, kProtRead);
  ReadBytes(pid_, at, 3 * kPage);
  const MemoryUsage u = Stats(pid_).usage;
  EXPECT_EQ(u.rss, 3 * kPage);
  EXPECT_EQ(u.private_clean, 3 * kPage);
}

TEST_F(AccountingTest, FilePagesReadByTwoProcessesAreSharedClean) {
  PutPatternFile("/f", 1, 3 * kPage);
  const Pid other = NewProcess();
  ReadBytes(pid_, MapFile(pid_, "/f", 3 * kPage, kMapShared, kProtRead), 3 * kPage);
  ReadBytes(other, MapFile(other, "/f", 3 * kPage, kMapPrivate, kProtRead), 3 * kPage);
  for (const Pid p : {pid_, other}) {
    const MemoryUsage u = Stats(p).usage;
    EXPECT_EQ(u.shared_clean, 3 * kPage) << "pid " << p;
    EXPECT_EQ(u.pss, 3 * kPage / 2) << "pid " << p;
    EXPECT_EQ(u.uss, 0u) << "pid " << p;
  }
}

TEST_F(AccountingTest, ListMappingsReportsEachMappingsUsage) {
  PutPatternFile("/f", 1, 4 * kPage);
  Reopen();  // nothing of the file is cached
  pid_ = NewProcess();
  const uint64_t a = Map(pid_, 4 * kPage);
  WritePattern(pid_, 1, a, 3 * kPage);
  const uint64_t f = MapFile(pid_, "/f", 2 * kPage, kMapPrivate, kProtRead, 2 * kPage);
  ReadBytes(pid_, f, kPage);
  const MappingInfo anon = MappingAt(pid_, a);
  EXPECT_EQ(anon.resident_pages, 3u);
  EXPECT_EQ(anon.usage.rss, 3 * kPage);
  EXPECT_EQ(anon.backing, "");
  const MappingInfo file = MappingAt(pid_, f);
  EXPECT_EQ(file.resident_pages, 1u);
  EXPECT_EQ(file.usage.rss, kPage);
  EXPECT_EQ(file.backing, "/f");
  EXPECT_EQ(file.offset, 2 * kPage);
  EXPECT_EQ(file.end - file.start, 2 * kPage);
}

TEST_F(AccountingTest, VirtualSizeAndMappingCountFollowMmapAndMunmap) {
  const uint64_t a = Map(pid_, 4 * kPage);
  Map(pid_, 2 * kPage, kProtRead);
  EXPECT_EQ(Stats(pid_).virtual_bytes, 6 * kPage);
  EXPECT_EQ(Stats(pid_).mappings, 2u);
  ASSERT_OK(engine().Munmap(pid_, a + kPage, kPage));  // splits the first mapping
  EXPECT_EQ(Stats(pid_).virtual_bytes, 5 * kPage);
  EXPECT_EQ(Stats(pid_).mappings, 3u);
}

TEST_F(AccountingTest, SwappedPagesAreReportedAsSwap) {
  const uint64_t at = Map(pid_, 8 * kPage);
  WritePattern(pid_, 1, at, 8 * kPage);
  ApplyMemoryPressure(600);
  const ProcessStats s = Stats(pid_);
  EXPECT_EQ(s.swapped_pages, 8u);
  EXPECT_EQ(s.usage.swap, 8 * kPage);
  EXPECT_EQ(s.usage.rss, 0u);
  EXPECT_EQ(MappingAt(pid_, at).swapped_pages, 8u);
  EXPECT_EQ(Global().swap_pages, SwapKeys());
  ASSERT_OK(engine().Exit(pid_));
  EXPECT_EQ(SwapKeys(), 0u);
}

TEST_F(AccountingTest, FirstTouchesAreMinorFaultsAndPageInsAreMajor) {
  const uint64_t at = Map(pid_, 8 * kPage);
  const ProcessStats before = Stats(pid_);
  WritePattern(pid_, 1, at, 8 * kPage);
  const ProcessStats touched = Stats(pid_);
  EXPECT_EQ(touched.minor_faults - before.minor_faults, 8u);
  EXPECT_EQ(touched.major_faults, before.major_faults);
  ApplyMemoryPressure(600);
  ASSERT_EQ(Stats(pid_).swapped_pages, 8u);
  const uint64_t page_ins = Global().page_ins;
  EXPECT_TRUE(HasPattern(pid_, 1, at, 8 * kPage));
  // Every page came back from storage; readahead may bring several in on
  // one major fault (as Linux's swap readahead), but at least one faulted.
  EXPECT_GE(Global().page_ins - page_ins, 8u);
  const uint64_t majors = Stats(pid_).major_faults - touched.major_faults;
  EXPECT_GE(majors, 1u);
  EXPECT_LE(majors, 8u);
  EXPECT_EQ(Stats(pid_).minor_faults, touched.minor_faults);
}

TEST_F(AccountingTest, StatsOfAnUnknownProcessAreNotFound) {
  ProcessStats s;
  std::vector<MappingInfo> m;
  EXPECT_ERRNO(engine().GetProcessStats(pid_ + 100, &s), kNotFound, "ESRCH");
  EXPECT_ERRNO(engine().ListMappings(pid_ + 100, &m), kNotFound, "ESRCH");
  ASSERT_OK(engine().Exit(pid_));
  EXPECT_ERRNO(engine().GetProcessStats(pid_, &s), kNotFound, "ESRCH");
}

TEST_F(AccountingTest, GlobalStatsCountProcessesFilesAndFrames) {
  NewProcess();
  PutFile("/a", "a");
  PutFile("/b", "b");
  const GlobalStats g = Global();
  EXPECT_EQ(g.processes, 2u);
  EXPECT_EQ(g.files, 2u);
  EXPECT_EQ(g.page_size, kPage);
  EXPECT_EQ(g.frames_total, 256u);
  EXPECT_LE(g.frames_free, g.frames_total);
}

}  // namespace
}  // namespace memserver::conformance
