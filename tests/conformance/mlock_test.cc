// mlock(2), munlock, mlockall, munlockall, MAP_LOCKED, MAP_POPULATE:
// locked pages are paged in at once and never evicted; RLIMIT_MEMLOCK and
// the server-wide cap are checked before anything is locked, so a failed
// call locks nothing.
#include "tests/conformance/conformance_fixture.h"
#include "tests/conformance/elf_builder.h"

namespace memserver::conformance {
namespace {

class MlockTest : public ConformanceTest {
 protected:
  static constexpr uint64_t kFrames = 64;  // the global cap is 50%: 32 pages

  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(kFrames);
    pid_ = NewProcess();
  }

  void SetMemlock(Pid pid, uint64_t bytes) {
    ProcessLimits limits;
    ASSERT_OK(engine().GetLimits(pid, &limits));
    limits.memlock = bytes;
    ASSERT_OK(engine().SetLimits(pid, limits));
  }

  // Nothing of `pid` is locked, by every measure.
  void ExpectNothingLocked(Pid pid) {
    EXPECT_EQ(Stats(pid).locked_bytes, 0u);
    EXPECT_EQ(Stats(pid).usage.locked, 0u);
    for (const MappingInfo& m : Mappings(pid)) EXPECT_FALSE(m.locked) << std::hex << m.start;
  }

  Pid pid_ = 0;
};

TEST_F(MlockTest, MlockPagesEverythingInAtOnce) {
  const uint64_t at = Map(pid_, 8 * kPage);
  ASSERT_EQ(Stats(pid_).resident_pages, 0u);
  ASSERT_OK(engine().Mlock(pid_, at, 8 * kPage));
  const ProcessStats stats = Stats(pid_);
  EXPECT_EQ(stats.resident_pages, 8u);
  EXPECT_EQ(stats.locked_bytes, 8 * kPage);
  EXPECT_EQ(stats.usage.locked, 8 * kPage);
  EXPECT_TRUE(MappingAt(pid_, at).locked);
  EXPECT_TRUE(IsZero(pid_, at, 8 * kPage));
  ExpectInvariants();
}

TEST_F(MlockTest, LockedPagesAreNeverEvicted) {
  const uint64_t at = Map(pid_, 8 * kPage);
  WritePattern(pid_, 1, at, 8 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 8 * kPage));
  ApplyMemoryPressure(4 * kFrames);
  EXPECT_GT(Global().evictions, 0u);
  const uint64_t majors = Stats(pid_).major_faults;
  EXPECT_TRUE(HasPattern(pid_, 1, at, 8 * kPage));
  EXPECT_EQ(Stats(pid_).major_faults, majors);
  EXPECT_EQ(Stats(pid_).resident_pages, 8u);
  EXPECT_EQ(Stats(pid_).usage.locked, 8 * kPage);
  ExpectInvariants();
}

TEST_F(MlockTest, UnlockedPagesCanBeEvictedAgain) {
  const uint64_t at = Map(pid_, 8 * kPage);
  WritePattern(pid_, 1, at, 8 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 8 * kPage));
  ASSERT_OK(engine().Munlock(pid_, at, 8 * kPage));
  EXPECT_EQ(Global().locked_pages, 0u);
  ExpectNothingLocked(pid_);
  ApplyMemoryPressure(4 * kFrames);
  EXPECT_GT(Stats(pid_).swapped_pages, 0u);
  EXPECT_TRUE(HasPattern(pid_, 1, at, 8 * kPage));
}

TEST_F(MlockTest, MlockBeyondRlimitMemlockFailsAndLocksNothing) {
  SetMemlock(pid_, 4 * kPage);
  const uint64_t at = Map(pid_, 8 * kPage);
  EXPECT_ERRNO(engine().Mlock(pid_, at, 8 * kPage), kResourceExhausted, "ENOMEM");
  ExpectNothingLocked(pid_);
  EXPECT_EQ(Global().locked_pages, 0u);
  ASSERT_OK(engine().Mlock(pid_, at, 4 * kPage));  // within the limit it works
  EXPECT_EQ(Stats(pid_).locked_bytes, 4 * kPage);
  ExpectInvariants();
}

TEST_F(MlockTest, MlockAcrossMappingsBeyondTheLimitLocksNoneOfThem) {
  SetMemlock(pid_, 4 * kPage);
  MmapArgs a;
  a.addr = 0x10000000;
  a.length = 3 * kPage;
  a.flags = kAnon | kMapFixed;
  uint64_t first = 0, second = 0;
  ASSERT_OK(engine().Mmap(pid_, a, &first));
  a.addr += 3 * kPage;
  a.prot = kProtRead;  // a different mapping, right after the first
  ASSERT_OK(engine().Mmap(pid_, a, &second));
  EXPECT_ERRNO(engine().Mlock(pid_, first, 6 * kPage), kResourceExhausted, "ENOMEM");
  ExpectNothingLocked(pid_);
  EXPECT_EQ(Global().locked_pages, 0u);
  EXPECT_EQ(Stats(pid_).resident_pages, 0u);
}

TEST_F(MlockTest, MlockBeyondTheServerWideCapFailsWithEAGAIN) {
  SetMemlock(pid_, kUnlimited);
  const uint64_t at = Map(pid_, 40 * kPage);
  EXPECT_ERRNO(engine().Mlock(pid_, at, 40 * kPage), kResourceExhausted, "EAGAIN");
  ExpectNothingLocked(pid_);
  EXPECT_EQ(Global().locked_pages, 0u);
  ASSERT_OK(engine().Mlock(pid_, at, 20 * kPage));
  // The cap is shared by every process.
  const Pid other = NewProcess();
  SetMemlock(other, kUnlimited);
  const uint64_t theirs = Map(other, 20 * kPage);
  EXPECT_ERRNO(engine().Mlock(other, theirs, 20 * kPage), kResourceExhausted, "EAGAIN");
  ExpectNothingLocked(other);
  EXPECT_EQ(Stats(pid_).locked_bytes, 20 * kPage);
  ExpectInvariants();
}

TEST_F(MlockTest, LockingTwiceCountsOnce) {
  const uint64_t at = Map(pid_, 4 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 4 * kPage));
  ASSERT_OK(engine().Mlock(pid_, at, 4 * kPage));
  EXPECT_EQ(Stats(pid_).locked_bytes, 4 * kPage);
  EXPECT_EQ(Stats(pid_).usage.locked, 4 * kPage);
  ASSERT_OK(engine().Munlock(pid_, at, 4 * kPage));
  EXPECT_EQ(Global().locked_pages, 0u);
}

TEST_F(MlockTest, MlockOfAnUnmappedRangeIsENOMEM) {
  const uint64_t at = Map(pid_, 2 * kPage);
  EXPECT_ERRNO(engine().Mlock(pid_, at, 3 * kPage), kFailedPrecondition, "ENOMEM");
  ExpectNothingLocked(pid_);
}

TEST_F(MlockTest, MunmapOfALockedRangeReleasesTheLock) {
  const uint64_t at = Map(pid_, 4 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 4 * kPage));
  ASSERT_OK(engine().Munmap(pid_, at, 4 * kPage));
  EXPECT_EQ(Stats(pid_).locked_bytes, 0u);
  EXPECT_EQ(Global().locked_pages, 0u);
  ExpectInvariants();
}

TEST_F(MlockTest, ExitReleasesTheLock) {
  const uint64_t at = Map(pid_, 16 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 16 * kPage));
  ASSERT_OK(engine().Exit(pid_));
  EXPECT_EQ(Global().locked_pages, 0u);
  // The budget came back too: another process may lock as much.
  const Pid other = NewProcess();
  const uint64_t theirs = Map(other, 30 * kPage);
  SetMemlock(other, kUnlimited);
  EXPECT_OK(engine().Mlock(other, theirs, 30 * kPage));
}

TEST_F(MlockTest, MlockallCurrentLocksEveryMapping) {
  const uint64_t a = Map(pid_, 2 * kPage);
  const uint64_t b = Map(pid_, 3 * kPage, kProtRead);
  ASSERT_OK(engine().Mlockall(pid_, kMclCurrent));
  EXPECT_TRUE(MappingAt(pid_, a).locked);
  EXPECT_TRUE(MappingAt(pid_, b).locked);
  EXPECT_EQ(Stats(pid_).locked_bytes, 5 * kPage);
  const uint64_t later = Map(pid_, kPage);
  EXPECT_FALSE(MappingAt(pid_, later).locked);  // no MCL_FUTURE
}

TEST_F(MlockTest, MlockallFutureLocksLaterMappings) {
  ASSERT_OK(engine().Mlockall(pid_, kMclFuture));
  const uint64_t at = Map(pid_, 4 * kPage);
  EXPECT_TRUE(MappingAt(pid_, at).locked);
  EXPECT_EQ(Stats(pid_).resident_pages, 4u);
  uint64_t previous = 0;
  ASSERT_OK(engine().Sbrk(pid_, 2 * kPage, &previous));
  EXPECT_TRUE(MappingAt(pid_, previous).locked);
  EXPECT_EQ(Stats(pid_).locked_bytes, 6 * kPage);
  ExpectInvariants();
}

TEST_F(MlockTest, MunlockallUnlocksEverythingAndStopsFutureLocking) {
  const uint64_t at = Map(pid_, 4 * kPage);
  ASSERT_OK(engine().Mlockall(pid_, kMclCurrent | kMclFuture));
  ASSERT_OK(engine().Munlockall(pid_));
  ExpectNothingLocked(pid_);
  const uint64_t later = Map(pid_, kPage);
  EXPECT_FALSE(MappingAt(pid_, later).locked);
  EXPECT_FALSE(MappingAt(pid_, at).locked);
  EXPECT_EQ(Global().locked_pages, 0u);
}

TEST_F(MlockTest, MlockallWithoutFlagsIsInvalid) {
  EXPECT_ERRNO(engine().Mlockall(pid_, 0), kInvalidArgument, "EINVAL");
}

TEST_F(MlockTest, MapLockedLocksAtOnce) {
  const uint64_t at = Map(pid_, 4 * kPage, kRW, kAnon | kMapLocked);
  EXPECT_TRUE(MappingAt(pid_, at).locked);
  EXPECT_EQ(Stats(pid_).resident_pages, 4u);
  EXPECT_EQ(Stats(pid_).usage.locked, 4 * kPage);
}

TEST_F(MlockTest, MapLockedBeyondRlimitMemlockFailsWithEAGAIN) {
  SetMemlock(pid_, 2 * kPage);
  MmapArgs a;
  a.length = 4 * kPage;
  a.flags = kAnon | kMapLocked;
  uint64_t at = 0;
  EXPECT_ERRNO(engine().Mmap(pid_, a, &at), kResourceExhausted, "EAGAIN");
  EXPECT_TRUE(Mappings(pid_).empty());
  EXPECT_EQ(Global().locked_pages, 0u);
}

TEST_F(MlockTest, MapPopulatePagesInWithoutLocking) {
  const uint64_t at = Map(pid_, 6 * kPage, kRW, kAnon | kMapPopulate);
  EXPECT_EQ(Stats(pid_).resident_pages, 6u);
  EXPECT_FALSE(MappingAt(pid_, at).locked);
  EXPECT_TRUE(IsZero(pid_, at, 6 * kPage));
  PutPatternFile("/f", 1, 3 * kPage);
  Reopen();
  const Pid pid = NewProcess();
  const uint64_t file = MapFile(pid, "/f", 3 * kPage, kMapShared | kMapPopulate, kProtRead);
  EXPECT_EQ(Stat("/f").cached_pages, 3u);
  const uint64_t majors = Stats(pid).major_faults;
  EXPECT_EQ(ReadBytes(pid, file, 3 * kPage), Pattern(1, 0, 3 * kPage));
  EXPECT_EQ(Stats(pid).major_faults, majors);
}

TEST_F(MlockTest, CopyOnWriteOfALockedPageKeepsItLocked) {
  const uint64_t at = Map(pid_, 2 * kPage);
  WritePattern(pid_, 1, at, 2 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 2 * kPage));
  const Pid child = ForkOf(pid_);
  WritePattern(pid_, 2, at, kPage);  // the parent copies a page it shares with the child
  EXPECT_EQ(Stats(pid_).usage.locked, 2 * kPage);
  ApplyMemoryPressure(4 * kFrames);
  const uint64_t majors = Stats(pid_).major_faults;
  EXPECT_TRUE(HasPattern(pid_, 2, at, kPage));
  EXPECT_TRUE(HasPattern(pid_, 1, at + kPage, kPage));
  EXPECT_EQ(Stats(pid_).major_faults, majors);
  EXPECT_TRUE(HasPattern(child, 1, at, 2 * kPage));
  ExpectInvariants();
}

TEST_F(MlockTest, LockedFileMappingStaysResident) {
  PutPatternFile("/f", 1, 4 * kPage);
  const uint64_t at = MapFile(pid_, "/f", 4 * kPage, kMapShared);
  ASSERT_OK(engine().Mlock(pid_, at, 4 * kPage));
  WritePattern(pid_, 2, at, 4 * kPage);
  ApplyMemoryPressure(4 * kFrames);
  const uint64_t majors = Stats(pid_).major_faults;
  EXPECT_TRUE(HasPattern(pid_, 2, at, 4 * kPage));
  EXPECT_EQ(Stats(pid_).major_faults, majors);
  EXPECT_EQ(Stats(pid_).usage.locked, 4 * kPage);
}

TEST_F(MlockTest, GlobalStatsCountLockedPagesOnce) {
  const uint64_t at = Map(pid_, 8 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 8 * kPage));
  EXPECT_EQ(Global().locked_pages, 8u);
  // One file page locked by two processes is one locked page.
  PutPatternFile("/f", 1, 4 * kPage);
  const Pid other = NewProcess();
  ASSERT_OK(engine().Mlock(pid_, MapFile(pid_, "/f", 4 * kPage, kMapShared), 4 * kPage));
  ASSERT_OK(engine().Mlock(other, MapFile(other, "/f", 4 * kPage, kMapShared), 4 * kPage));
  EXPECT_EQ(Global().locked_pages, 12u);
  ASSERT_OK(engine().Munlock(pid_, at, 8 * kPage));
  EXPECT_EQ(Global().locked_pages, 4u);
  ASSERT_OK(engine().Exit(other));
  EXPECT_EQ(Global().locked_pages, 4u);
  ASSERT_OK(engine().Munlockall(pid_));
  EXPECT_EQ(Global().locked_pages, 0u);
}

TEST_F(MlockTest, MunmapOfPartOfALockedMappingUnlocksOnlyThatPart) {
  const uint64_t at = Map(pid_, 4 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 4 * kPage));
  ASSERT_OK(engine().Munmap(pid_, at + kPage, kPage));
  EXPECT_EQ(Stats(pid_).locked_bytes, 3 * kPage);
  EXPECT_EQ(Stats(pid_).usage.locked, 3 * kPage);
  EXPECT_TRUE(MappingAt(pid_, at).locked);
  EXPECT_TRUE(MappingAt(pid_, at + 2 * kPage).locked);
  ASSERT_OK(engine().Munmap(pid_, at, 4 * kPage));
  EXPECT_EQ(Stats(pid_).locked_bytes, 0u);
  ExpectInvariants();
}

TEST_F(MlockTest, MunlockOfPartOfAMappingSplitsIt) {
  const uint64_t at = Map(pid_, 4 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 4 * kPage));
  ASSERT_OK(engine().Munlock(pid_, at + 2 * kPage, kPage));
  EXPECT_TRUE(MappingAt(pid_, at + kPage).locked);
  EXPECT_FALSE(MappingAt(pid_, at + 2 * kPage).locked);
  EXPECT_TRUE(MappingAt(pid_, at + 3 * kPage).locked);
  EXPECT_EQ(Stats(pid_).locked_bytes, 3 * kPage);
  ExpectInvariants();
}

TEST_F(MlockTest, MlockRoundsTheRangeOutToWholePages) {
  const uint64_t at = Map(pid_, 4 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at + 100, 10));
  EXPECT_EQ(Stats(pid_).locked_bytes, kPage);
  ASSERT_OK(engine().Mlock(pid_, at + 2 * kPage - 1, 2));  // straddles pages 1 and 2
  EXPECT_EQ(Stats(pid_).locked_bytes, 3 * kPage);
  EXPECT_FALSE(MappingAt(pid_, at + 3 * kPage).locked);
}

TEST_F(MlockTest, MapFixedOverALockedRangeReleasesItsLock) {
  const uint64_t at = Map(pid_, 4 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 4 * kPage));
  MmapArgs a;
  a.addr = at;
  a.length = 2 * kPage;
  a.flags = kAnon | kMapFixed;
  uint64_t got = 0;
  ASSERT_OK(engine().Mmap(pid_, a, &got));
  EXPECT_FALSE(MappingAt(pid_, at).locked);
  EXPECT_EQ(Stats(pid_).locked_bytes, 2 * kPage);
  ExpectInvariants();
}

TEST_F(MlockTest, MlockallFutureMappingBeyondRlimitMemlockFails) {
  SetMemlock(pid_, 4 * kPage);
  ASSERT_OK(engine().Mlockall(pid_, kMclFuture));
  MmapArgs a;
  a.length = 8 * kPage;
  uint64_t at = 0;
  EXPECT_CODE(engine().Mmap(pid_, a, &at), kResourceExhausted);
  EXPECT_TRUE(Mappings(pid_).empty());
  a.length = 4 * kPage;
  ASSERT_OK(engine().Mmap(pid_, a, &at));
  EXPECT_TRUE(MappingAt(pid_, at).locked);
}

TEST_F(MlockTest, LockedStackDoesNotGrowBeyondRlimitMemlock) {
  OpenWithFrames(1024);  // room under the global cap for a whole locked image
  pid_ = NewProcess();
  PutFile("/bin/standard", BuildElf(StandardLayout::Spec()));
  ExecImage image;
  ASSERT_OK(engine().Exec(pid_, "/bin/standard", &image));
  SetMemlock(pid_, kUnlimited);
  ASSERT_OK(engine().Mlockall(pid_, kMclCurrent));
  const uint64_t locked = Stats(pid_).locked_bytes;
  SetMemlock(pid_, locked + 2 * kPage);
  WriteBytes(pid_, image.stack_bottom - 2 * kPage, "within");  // two more pages: fits
  const uint64_t beyond = image.stack_bottom - 8 * kPage;
  EXPECT_FAULT(WriteStatus(pid_, beyond), kMapError, beyond);
  EXPECT_LE(Stats(pid_).locked_bytes, locked + 2 * kPage);
  ExpectInvariants();
}

}  // namespace
}  // namespace memserver::conformance
