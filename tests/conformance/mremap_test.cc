// mremap(2): shrink in place, grow in place when the next range is free,
// otherwise ENOMEM or (MREMAP_MAYMOVE) move with the contents; MREMAP_FIXED
// moves to an exact address, replacing what was there.
#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {
namespace {

class MremapTest : public ConformanceTest {
 protected:
  static constexpr uint64_t kBase = 0x10000000;

  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(256);
    pid_ = NewProcess();
  }

  // An anonymous private mapping exactly at `addr`.
  void MapAt(uint64_t addr, uint64_t length, uint32_t flags = kAnon) {
    MmapArgs a;
    a.addr = addr;
    a.length = length;
    a.flags = flags | kMapFixed;
    uint64_t got = 0;
    ASSERT_OK(engine().Mmap(pid_, a, &got));
    ASSERT_EQ(got, addr);
  }

  Pid pid_ = 0;
};

TEST_F(MremapTest, ShrinkReturnsTheOldAddressAndUnmapsTheTail) {
  MapAt(kBase, 4 * kPage);
  WritePattern(pid_, 1, kBase, 4 * kPage);
  const uint64_t used = FramesUsed();
  uint64_t result = 0;
  ASSERT_OK(engine().Mremap(pid_, kBase, 4 * kPage, kPage, 0, 0, &result));
  EXPECT_EQ(result, kBase);
  EXPECT_TRUE(HasPattern(pid_, 1, kBase, kPage));
  EXPECT_FAULT(ReadStatus(pid_, kBase + kPage), kMapError, kBase + kPage);
  EXPECT_EQ(FramesUsed(), used - 3);
  ExpectInvariants();
}

TEST_F(MremapTest, GrowsInPlaceWhenTheNextRangeIsFree) {
  MapAt(kBase, 2 * kPage);
  WritePattern(pid_, 1, kBase, 2 * kPage);
  uint64_t result = 0;
  ASSERT_OK(engine().Mremap(pid_, kBase, 2 * kPage, 6 * kPage, 0, 0, &result));
  EXPECT_EQ(result, kBase);
  EXPECT_TRUE(HasPattern(pid_, 1, kBase, 2 * kPage));
  EXPECT_TRUE(IsZero(pid_, kBase + 2 * kPage, 4 * kPage));
  EXPECT_EQ(MappingAt(pid_, kBase).end, kBase + 6 * kPage);
}

TEST_F(MremapTest, GrowWithoutMayMoveFailsWhenTheNextRangeIsTaken) {
  MapAt(kBase, 2 * kPage);
  MapAt(kBase + 3 * kPage, kPage);
  WritePattern(pid_, 1, kBase, 2 * kPage);
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Mremap(pid_, kBase, 2 * kPage, 4 * kPage, 0, 0, &result), kResourceExhausted, "ENOMEM");
  EXPECT_EQ(MappingAt(pid_, kBase).end, kBase + 2 * kPage);
  EXPECT_TRUE(HasPattern(pid_, 1, kBase, 2 * kPage));
}

TEST_F(MremapTest, GrowWithMayMoveMovesTheContents) {
  MapAt(kBase, 2 * kPage);
  MapAt(kBase + 2 * kPage, kPage);
  WritePattern(pid_, 1, kBase, 2 * kPage);
  WriteBytes(pid_, kBase + 2 * kPage, "neighbour");
  const uint64_t used = FramesUsed();
  uint64_t result = 0;
  ASSERT_OK(engine().Mremap(pid_, kBase, 2 * kPage, 8 * kPage, kMremapMayMove, 0, &result));
  EXPECT_NE(result, kBase);
  EXPECT_EQ(ReadBytes(pid_, result, 2 * kPage), Pattern(1, kBase, 2 * kPage));
  EXPECT_TRUE(IsZero(pid_, result + 2 * kPage, 6 * kPage));
  EXPECT_FAULT(ReadStatus(pid_, kBase), kMapError, kBase);
  EXPECT_EQ(ReadBytes(pid_, kBase + 2 * kPage, 9), "neighbour");
  EXPECT_EQ(FramesUsed(), used);  // pages moved, not copied
  ExpectInvariants();
}

TEST_F(MremapTest, FixedMovesToTheNewAddressReplacingWhatWasThere) {
  MapAt(kBase, 2 * kPage);
  WritePattern(pid_, 1, kBase, 2 * kPage);
  const uint64_t target = kBase + 64 * kPage;
  MapAt(target, 4 * kPage);
  WritePattern(pid_, 2, target, 4 * kPage);
  uint64_t result = 0;
  ASSERT_OK(engine().Mremap(pid_, kBase, 2 * kPage, 2 * kPage, kMremapMayMove | kMremapFixed, target, &result));
  EXPECT_EQ(result, target);
  EXPECT_EQ(ReadBytes(pid_, target, 2 * kPage), Pattern(1, kBase, 2 * kPage));
  // The rest of the replaced mapping is untouched.
  EXPECT_TRUE(HasPattern(pid_, 2, target + 2 * kPage, 2 * kPage));
  EXPECT_FAULT(ReadStatus(pid_, kBase), kMapError, kBase);
  ExpectInvariants();
}

TEST_F(MremapTest, FixedWithoutMayMoveIsInvalid) {
  MapAt(kBase, kPage);
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Mremap(pid_, kBase, kPage, kPage, kMremapFixed, kBase + 16 * kPage, &result),
               kInvalidArgument, "EINVAL");
}

TEST_F(MremapTest, UnalignedOldAddressIsInvalid) {
  MapAt(kBase, 2 * kPage);
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Mremap(pid_, kBase + 1, kPage, 2 * kPage, kMremapMayMove, 0, &result), kInvalidArgument,
               "EINVAL");
}

TEST_F(MremapTest, RangeNotInsideOneMappingIsEFAULT) {
  MapAt(kBase, 2 * kPage);
  MapAt(kBase + 2 * kPage, 2 * kPage, kMapShared | kMapAnonymous);
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Mremap(pid_, kBase, 4 * kPage, 8 * kPage, kMremapMayMove, 0, &result),
               kFailedPrecondition, "EFAULT");
  EXPECT_ERRNO(engine().Mremap(pid_, kBase + 32 * kPage, kPage, 2 * kPage, kMremapMayMove, 0, &result),
               kFailedPrecondition, "EFAULT");
}

TEST_F(MremapTest, MovingPartOfAMappingSplitsIt) {
  MapAt(kBase, 4 * kPage);
  MapAt(kBase + 4 * kPage, kPage);
  WritePattern(pid_, 1, kBase, 4 * kPage);
  uint64_t result = 0;
  ASSERT_OK(engine().Mremap(pid_, kBase + kPage, kPage, 3 * kPage, kMremapMayMove, 0, &result));
  EXPECT_EQ(ReadBytes(pid_, result, kPage), Pattern(1, kBase + kPage, kPage));
  EXPECT_TRUE(HasPattern(pid_, 1, kBase, kPage));
  EXPECT_FAULT(ReadStatus(pid_, kBase + kPage), kMapError, kBase + kPage);
  EXPECT_TRUE(HasPattern(pid_, 1, kBase + 2 * kPage, 2 * kPage));
  ExpectInvariants();
}

TEST_F(MremapTest, MovedFileMappingKeepsItsFileOffset) {
  PutPatternFile("/f", 1, 4 * kPage);
  MmapArgs a;
  a.addr = kBase;
  a.length = 2 * kPage;
  a.flags = kMapShared | kMapFixed;
  a.path = "/f";
  a.offset = 2 * kPage;
  uint64_t got = 0;
  ASSERT_OK(engine().Mmap(pid_, a, &got));
  MapAt(kBase + 2 * kPage, kPage);
  uint64_t result = 0;
  ASSERT_OK(engine().Mremap(pid_, kBase, 2 * kPage, 2 * kPage, kMremapMayMove | kMremapFixed, kBase + 32 * kPage,
                            &result));
  EXPECT_EQ(ReadBytes(pid_, result, 2 * kPage), Pattern(1, 2 * kPage, 2 * kPage));
  EXPECT_EQ(MappingAt(pid_, result).offset, 2 * kPage);
  WriteBytes(pid_, result + kPage, "moved");
  std::string data;
  ASSERT_OK(engine().ReadFile("/f", 3 * kPage, 5, &data));
  EXPECT_EQ(data, "moved");
}

TEST_F(MremapTest, MovedSharedAnonymousMappingStaysSharedWithAForkedChild) {
  MapAt(kBase, 2 * kPage, kMapShared | kMapAnonymous);
  WritePattern(pid_, 1, kBase, 2 * kPage);
  const Pid child = ForkOf(pid_);
  MapAt(kBase + 2 * kPage, kPage);
  uint64_t result = 0;
  ASSERT_OK(engine().Mremap(pid_, kBase, 2 * kPage, 4 * kPage, kMremapMayMove, 0, &result));
  ASSERT_NE(result, kBase);
  WriteBytes(child, kBase + kPage, "from the child");
  EXPECT_EQ(ReadBytes(pid_, result + kPage, 14), "from the child");
  EXPECT_EQ(ReadBytes(pid_, result, kPage), Pattern(1, kBase, kPage));
  ExpectInvariants();
}

TEST_F(MremapTest, GrowingALockedMappingLocksTheNewPages) {
  MapAt(kBase, 2 * kPage);
  ASSERT_OK(engine().Mlock(pid_, kBase, 2 * kPage));
  MapAt(kBase + 2 * kPage, kPage);
  uint64_t result = 0;
  ASSERT_OK(engine().Mremap(pid_, kBase, 2 * kPage, 4 * kPage, kMremapMayMove, 0, &result));
  EXPECT_TRUE(MappingAt(pid_, result).locked);
  EXPECT_EQ(Stats(pid_).locked_bytes, 4 * kPage);
  EXPECT_EQ(Stats(pid_).usage.locked, 4 * kPage);
  EXPECT_EQ(Stats(pid_).resident_pages, 4u);
  ExpectInvariants();
}

TEST_F(MremapTest, GrowingBeyondRlimitAsFails) {
  MapAt(kBase, 2 * kPage);
  ProcessLimits limits;
  ASSERT_OK(engine().GetLimits(pid_, &limits));
  limits.as = 4 * kPage;
  ASSERT_OK(engine().SetLimits(pid_, limits));
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Mremap(pid_, kBase, 2 * kPage, 8 * kPage, kMremapMayMove, 0, &result), kResourceExhausted,
               "ENOMEM");
  ASSERT_OK(engine().Mremap(pid_, kBase, 2 * kPage, 4 * kPage, kMremapMayMove, 0, &result));
}

TEST_F(MremapTest, ZeroNewSizeIsInvalid) {
  MapAt(kBase, kPage);
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Mremap(pid_, kBase, kPage, 0, kMremapMayMove, 0, &result), kInvalidArgument, "EINVAL");
}

TEST_F(MremapTest, GrowingAFileMappingPastEndOfFileGivesBusErrors) {
  PutPatternFile("/f", 1, kPage);
  MmapArgs a;
  a.addr = kBase;
  a.length = kPage;
  a.flags = kMapShared | kMapFixed;
  a.path = "/f";
  uint64_t got = 0;
  ASSERT_OK(engine().Mmap(pid_, a, &got));
  uint64_t result = 0;
  ASSERT_OK(engine().Mremap(pid_, kBase, kPage, 3 * kPage, kMremapMayMove, 0, &result));
  EXPECT_EQ(ReadBytes(pid_, result, kPage), Pattern(1, 0, kPage));
  EXPECT_FAULT(ReadStatus(pid_, result + kPage), kBusError, result + kPage);
  EXPECT_EQ(Stat("/f").size, kPage);
}

TEST_F(MremapTest, ShrinkingALockedMappingUnlocksTheTail) {
  MapAt(kBase, 4 * kPage);
  ASSERT_OK(engine().Mlock(pid_, kBase, 4 * kPage));
  uint64_t result = 0;
  ASSERT_OK(engine().Mremap(pid_, kBase, 4 * kPage, kPage, 0, 0, &result));
  EXPECT_EQ(Stats(pid_).locked_bytes, kPage);
  EXPECT_EQ(Stats(pid_).usage.locked, kPage);
  ExpectInvariants();
}

}  // namespace
}  // namespace memserver::conformance
