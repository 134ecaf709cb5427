// brk(2)/sbrk(3): the program break. Growing maps zeroed read-write pages
// ("[heap]"); shrinking unmaps and frees them; a break that cannot be set
// fails with ENOMEM and leaves the break where it was.
#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {
namespace {

class BrkTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(256);
    pid_ = NewProcess();
    ASSERT_OK(engine().Brk(pid_, 0, &start_));
  }

  uint64_t Break() {
    uint64_t brk = 0;
    EXPECT_OK(engine().Brk(pid_, 0, &brk));
    return brk;
  }

  Pid pid_ = 0;
  uint64_t start_ = 0;  // the initial break
};

TEST_F(BrkTest, ZeroReportsTheCurrentBreak) {
  EXPECT_NE(start_, 0u);
  EXPECT_EQ(start_ % kPage, 0u);
  EXPECT_EQ(Break(), start_);
  EXPECT_EQ(Stats(pid_).brk, start_);
  EXPECT_TRUE(Mappings(pid_).empty());  // an empty heap maps nothing
}

TEST_F(BrkTest, GrowingMapsZeroedReadWriteHeap) {
  uint64_t result = 0;
  ASSERT_OK(engine().Brk(pid_, start_ + 4 * kPage, &result));
  EXPECT_EQ(result, start_ + 4 * kPage);
  const MappingInfo heap = MappingAt(pid_, start_);
  EXPECT_EQ(heap.backing, "[heap]");
  EXPECT_EQ(heap.start, start_);
  EXPECT_EQ(heap.end, start_ + 4 * kPage);
  EXPECT_EQ(heap.prot, kRW);
  EXPECT_TRUE(IsZero(pid_, start_, 4 * kPage));
  WritePattern(pid_, 1, start_, 4 * kPage);
  EXPECT_TRUE(HasPattern(pid_, 1, start_, 4 * kPage));
}

TEST_F(BrkTest, UnalignedBreakMapsTheWholeLastPage) {
  uint64_t result = 0;
  ASSERT_OK(engine().Brk(pid_, start_ + 100, &result));
  EXPECT_EQ(result, start_ + 100);
  EXPECT_EQ(Break(), start_ + 100);
  WriteBytes(pid_, start_ + kPage - 1, "x");  // same page as the break
  EXPECT_FAULT(ReadStatus(pid_, start_ + kPage), kMapError, start_ + kPage);
}

TEST_F(BrkTest, ShrinkingFreesThePages) {
  uint64_t result = 0;
  ASSERT_OK(engine().Brk(pid_, start_ + 8 * kPage, &result));
  WritePattern(pid_, 1, start_, 8 * kPage);
  const uint64_t used = FramesUsed();
  ASSERT_OK(engine().Brk(pid_, start_ + 2 * kPage, &result));
  EXPECT_EQ(result, start_ + 2 * kPage);
  EXPECT_EQ(FramesUsed(), used - 6);
  EXPECT_FAULT(ReadStatus(pid_, start_ + 2 * kPage), kMapError, start_ + 2 * kPage);
  EXPECT_FAULT(ReadStatus(pid_, start_ + 7 * kPage), kMapError, start_ + 7 * kPage);
  EXPECT_TRUE(HasPattern(pid_, 1, start_, 2 * kPage));
  ExpectInvariants();
}

TEST_F(BrkTest, RegrowingAfterAShrinkReadsZeros) {
  uint64_t result = 0;
  ASSERT_OK(engine().Brk(pid_, start_ + 4 * kPage, &result));
  WritePattern(pid_, 1, start_, 4 * kPage);
  ASSERT_OK(engine().Brk(pid_, start_ + kPage, &result));
  ASSERT_OK(engine().Brk(pid_, start_ + 4 * kPage, &result));
  EXPECT_TRUE(HasPattern(pid_, 1, start_, kPage));
  EXPECT_TRUE(IsZero(pid_, start_ + kPage, 3 * kPage));
}

TEST_F(BrkTest, SbrkReturnsThePreviousBreak) {
  uint64_t previous = 0;
  ASSERT_OK(engine().Sbrk(pid_, 3 * kPage, &previous));
  EXPECT_EQ(previous, start_);
  ASSERT_OK(engine().Sbrk(pid_, 0, &previous));
  EXPECT_EQ(previous, start_ + 3 * kPage);
  ASSERT_OK(engine().Sbrk(pid_, -static_cast<int64_t>(kPage), &previous));
  EXPECT_EQ(previous, start_ + 3 * kPage);
  EXPECT_EQ(Break(), start_ + 2 * kPage);
}

TEST_F(BrkTest, HeapContentSurvivesGrowth) {
  uint64_t previous = 0;
  ASSERT_OK(engine().Sbrk(pid_, 2 * kPage, &previous));
  WritePattern(pid_, 1, start_, 2 * kPage);
  ASSERT_OK(engine().Sbrk(pid_, 64 * kPage, &previous));
  EXPECT_TRUE(HasPattern(pid_, 1, start_, 2 * kPage));
  EXPECT_EQ(MappingAt(pid_, start_ + 65 * kPage).start, start_);  // still one heap mapping
}

TEST_F(BrkTest, BreakBelowTheStartFailsWithENOMEM) {
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Brk(pid_, start_ - kPage, &result), kResourceExhausted, "ENOMEM");
  EXPECT_EQ(Break(), start_);
  uint64_t previous = 0;
  EXPECT_ERRNO(engine().Sbrk(pid_, -static_cast<int64_t>(kPage), &previous), kResourceExhausted, "ENOMEM");
  EXPECT_EQ(Break(), start_);
}

TEST_F(BrkTest, BreakIntoAnExistingMappingFailsAndKeepsIt) {
  MmapArgs a;
  a.addr = start_ + 4 * kPage;
  a.length = kPage;
  a.flags = kAnon | kMapFixed;
  uint64_t blocker = 0;
  ASSERT_OK(engine().Mmap(pid_, a, &blocker));
  WriteBytes(pid_, blocker, "blocker");
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Brk(pid_, start_ + 8 * kPage, &result), kResourceExhausted, "ENOMEM");
  EXPECT_EQ(Break(), start_);
  EXPECT_EQ(ReadBytes(pid_, blocker, 7), "blocker");
  EXPECT_EQ(MappingAt(pid_, blocker).backing, "");
}

TEST_F(BrkTest, BreakBeyondRlimitDataFails) {
  ProcessLimits limits;
  ASSERT_OK(engine().GetLimits(pid_, &limits));
  limits.data = 16 * kPage;
  ASSERT_OK(engine().SetLimits(pid_, limits));
  uint64_t result = 0;
  ASSERT_OK(engine().Brk(pid_, start_ + 16 * kPage, &result));
  EXPECT_ERRNO(engine().Brk(pid_, start_ + 17 * kPage, &result), kResourceExhausted, "ENOMEM");
  EXPECT_EQ(Break(), start_ + 16 * kPage);
}

TEST_F(BrkTest, UnknownProcessIsNotFound) {
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Brk(pid_ + 100, 0, &result), kNotFound, "ESRCH");
}

}  // namespace
}  // namespace memserver::conformance
