// setrlimit(2)-style per-process limits: RLIMIT_AS bounds every mapping,
// RLIMIT_DATA bounds private writable mappings and the heap; a call that
// would exceed one fails with ENOMEM and changes nothing.
#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {
namespace {

class LimitsTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(256);
    pid_ = NewProcess();
  }

  void SetLimit(uint64_t ProcessLimits::*which, uint64_t bytes) {
    ProcessLimits limits;
    ASSERT_OK(engine().GetLimits(pid_, &limits));
    limits.*which = bytes;
    ASSERT_OK(engine().SetLimits(pid_, limits));
  }

  Status TryMap(uint64_t length, uint32_t prot, uint32_t flags, uint64_t* addr = nullptr) {
    MmapArgs a;
    a.length = length;
    a.prot = prot;
    a.flags = flags;
    uint64_t ignored = 0;
    return engine().Mmap(pid_, a, addr ? addr : &ignored);
  }

  Pid pid_ = 0;
};

TEST_F(LimitsTest, NewProcessesGetTheDefaultLimits) {
  ProcessLimits limits;
  ASSERT_OK(engine().GetLimits(pid_, &limits));
  EXPECT_EQ(limits.as, kUnlimited);
  EXPECT_EQ(limits.data, kUnlimited);
  EXPECT_EQ(limits.stack, 8ull << 20);
  EXPECT_EQ(limits.memlock, 8ull << 20);
  EXPECT_EQ(Stats(pid_).limits.memlock, 8ull << 20);
}

TEST_F(LimitsTest, SetLimitsIsPerProcess) {
  const Pid other = NewProcess();
  SetLimit(&ProcessLimits::as, 64 * kPage);
  ProcessLimits theirs;
  ASSERT_OK(engine().GetLimits(other, &theirs));
  EXPECT_EQ(theirs.as, kUnlimited);
}

TEST_F(LimitsTest, MmapBeyondRlimitAsFailsWithENOMEM) {
  SetLimit(&ProcessLimits::as, 8 * kPage);
  ASSERT_OK(TryMap(6 * kPage, kRW, kAnon));
  EXPECT_ERRNO(TryMap(3 * kPage, kRW, kAnon), kResourceExhausted, "ENOMEM");
  EXPECT_EQ(Stats(pid_).virtual_bytes, 6 * kPage);
  EXPECT_OK(TryMap(2 * kPage, kRW, kAnon));  // exactly up to the limit
}

TEST_F(LimitsTest, RlimitAsCountsEveryKindOfMapping) {
  SetLimit(&ProcessLimits::as, 8 * kPage);
  PutPatternFile("/f", 1, 2 * kPage);
  ASSERT_OK(TryMap(2 * kPage, kProtRead, kAnon));
  ASSERT_OK(TryMap(2 * kPage, kRW, kSharedAnon));
  MmapArgs file;
  file.length = 2 * kPage;
  file.flags = kMapShared;
  file.path = "/f";
  uint64_t at = 0;
  ASSERT_OK(engine().Mmap(pid_, file, &at));
  ASSERT_OK(TryMap(2 * kPage, kProtNone, kAnon));
  EXPECT_ERRNO(TryMap(kPage, kProtNone, kAnon), kResourceExhausted, "ENOMEM");
  EXPECT_ERRNO(engine().Mmap(pid_, file, &at), kResourceExhausted, "ENOMEM");
}

TEST_F(LimitsTest, MunmapMakesRoomUnderRlimitAs) {
  SetLimit(&ProcessLimits::as, 4 * kPage);
  uint64_t at = 0;
  ASSERT_OK(TryMap(4 * kPage, kRW, kAnon, &at));
  EXPECT_ERRNO(TryMap(kPage, kRW, kAnon), kResourceExhausted, "ENOMEM");
  ASSERT_OK(engine().Munmap(pid_, at, kPage));
  EXPECT_OK(TryMap(kPage, kRW, kAnon));
}

TEST_F(LimitsTest, MapFixedOverAnExistingMappingNeedsNoExtraRoom) {
  SetLimit(&ProcessLimits::as, 4 * kPage);
  uint64_t at = 0;
  ASSERT_OK(TryMap(4 * kPage, kRW, kAnon, &at));
  MmapArgs a;
  a.addr = at + kPage;
  a.length = 2 * kPage;
  a.flags = kAnon | kMapFixed;
  uint64_t got = 0;
  EXPECT_OK(engine().Mmap(pid_, a, &got));
  EXPECT_EQ(Stats(pid_).virtual_bytes, 4 * kPage);
}

TEST_F(LimitsTest, LoweringRlimitAsKeepsExistingMappings) {
  uint64_t at = 0;
  ASSERT_OK(TryMap(4 * kPage, kRW, kAnon, &at));
  WritePattern(pid_, 1, at, 4 * kPage);
  SetLimit(&ProcessLimits::as, kPage);
  EXPECT_TRUE(HasPattern(pid_, 1, at, 4 * kPage));
  EXPECT_ERRNO(TryMap(kPage, kRW, kAnon), kResourceExhausted, "ENOMEM");
}

TEST_F(LimitsTest, PrivateWritableMmapBeyondRlimitDataFails) {
  SetLimit(&ProcessLimits::data, 4 * kPage);
  ASSERT_OK(TryMap(4 * kPage, kRW, kAnon));
  EXPECT_ERRNO(TryMap(kPage, kRW, kAnon), kResourceExhausted, "ENOMEM");
  PutPatternFile("/f", 1, kPage);
  MmapArgs file;
  file.length = kPage;
  file.flags = kMapPrivate;
  file.path = "/f";
  uint64_t at = 0;
  EXPECT_ERRNO(engine().Mmap(pid_, file, &at), kResourceExhausted, "ENOMEM");
}

TEST_F(LimitsTest, ReadOnlyAndSharedMappingsDoNotCountTowardsRlimitData) {
  SetLimit(&ProcessLimits::data, 2 * kPage);
  EXPECT_OK(TryMap(8 * kPage, kProtRead, kAnon));
  EXPECT_OK(TryMap(8 * kPage, kRW, kSharedAnon));
  EXPECT_OK(TryMap(2 * kPage, kRW, kAnon));
}

TEST_F(LimitsTest, HeapGrowthCountsTowardsRlimitData) {
  SetLimit(&ProcessLimits::data, 4 * kPage);
  ASSERT_OK(TryMap(3 * kPage, kRW, kAnon));
  uint64_t start = 0, previous = 0;
  ASSERT_OK(engine().Sbrk(pid_, kPage, &start));
  EXPECT_ERRNO(engine().Sbrk(pid_, kPage, &previous), kResourceExhausted, "ENOMEM");
  uint64_t brk = 0;
  ASSERT_OK(engine().Brk(pid_, 0, &brk));
  EXPECT_EQ(brk, start + kPage);
}

TEST_F(LimitsTest, MallocFailsWithENOMEMUnderALowRlimitAs) {
  SetLimit(&ProcessLimits::as, 64 * kPage);
  uint64_t p = 0;
  EXPECT_ERRNO(engine().Malloc(pid_, 1 << 20, &p), kResourceExhausted, "ENOMEM");
  EXPECT_OK(engine().Malloc(pid_, 100, &p));
}

TEST_F(LimitsTest, LimitsOfAnUnknownProcessAreNotFound) {
  ProcessLimits limits;
  EXPECT_ERRNO(engine().GetLimits(pid_ + 100, &limits), kNotFound, "ESRCH");
  EXPECT_ERRNO(engine().SetLimits(pid_ + 100, limits), kNotFound, "ESRCH");
}

}  // namespace
}  // namespace memserver::conformance
