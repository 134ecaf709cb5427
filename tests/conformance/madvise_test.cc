// madvise(2): MADV_DONTNEED drops private pages (anonymous memory reads
// zero after, private file mappings read the file again) and keeps shared
// ones; MADV_FREE lets the server drop private anonymous pages lazily;
// MADV_WILLNEED only hints. Bad advice or ranges fail as on Linux.
#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {
namespace {

class MadviseTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(64);
    pid_ = NewProcess();
  }

  Pid pid_ = 0;
};

TEST_F(MadviseTest, DontNeedMakesPrivateAnonymousMemoryReadZero) {
  const uint64_t at = Map(pid_, 4 * kPage);
  WritePattern(pid_, 1, at, 4 * kPage);
  const uint64_t used = FramesUsed();
  ASSERT_OK(engine().Madvise(pid_, at + kPage, 2 * kPage, kMadvDontNeed));
  EXPECT_EQ(FramesUsed(), used - 2);
  EXPECT_TRUE(HasPattern(pid_, 1, at, kPage));
  EXPECT_TRUE(IsZero(pid_, at + kPage, 2 * kPage));
  EXPECT_TRUE(HasPattern(pid_, 1, at + 3 * kPage, kPage));
  WriteBytes(pid_, at + kPage, "still mapped");
  ExpectInvariants();
}

TEST_F(MadviseTest, DontNeedDeletesTheSwapOfDroppedPages) {
  const uint64_t at = Map(pid_, 8 * kPage);
  WritePattern(pid_, 1, at, 8 * kPage);
  ApplyMemoryPressure(256);
  ASSERT_GT(SwapKeys(), 0u);
  ASSERT_OK(engine().Madvise(pid_, at, 8 * kPage, kMadvDontNeed));
  EXPECT_EQ(SwapKeys(), 0u);
  EXPECT_EQ(Stats(pid_).swapped_pages, 0u);
  EXPECT_TRUE(IsZero(pid_, at, 8 * kPage));
  ExpectInvariants();
}

TEST_F(MadviseTest, DontNeedMakesAPrivateFileMappingReadTheFileAgain) {
  PutPatternFile("/f", 1, 2 * kPage);
  const uint64_t at = MapFile(pid_, "/f", 2 * kPage, kMapPrivate);
  WritePattern(pid_, 2, at, 2 * kPage);
  ASSERT_OK(engine().Madvise(pid_, at, 2 * kPage, kMadvDontNeed));
  EXPECT_EQ(ReadBytes(pid_, at, 2 * kPage), Pattern(1, 0, 2 * kPage));
  ExpectInvariants();
}

TEST_F(MadviseTest, DontNeedKeepsSharedContent) {
  const uint64_t shm = Map(pid_, 2 * kPage, kRW, kSharedAnon);
  WritePattern(pid_, 1, shm, 2 * kPage);
  PutPatternFile("/f", 2, 2 * kPage);
  const uint64_t file = MapFile(pid_, "/f", 2 * kPage, kMapShared);
  WritePattern(pid_, 3, file, kPage);
  ASSERT_OK(engine().Madvise(pid_, shm, 2 * kPage, kMadvDontNeed));
  ASSERT_OK(engine().Madvise(pid_, file, 2 * kPage, kMadvDontNeed));
  EXPECT_TRUE(HasPattern(pid_, 1, shm, 2 * kPage));
  EXPECT_TRUE(HasPattern(pid_, 3, file, kPage));
  EXPECT_EQ(ReadBytes(pid_, file + kPage, kPage), Pattern(2, kPage, kPage));
}

TEST_F(MadviseTest, DontNeedInAChildLeavesTheParentsPages) {
  const uint64_t at = Map(pid_, 2 * kPage);
  WritePattern(pid_, 1, at, 2 * kPage);
  const Pid child = ForkOf(pid_);
  ASSERT_OK(engine().Madvise(child, at, 2 * kPage, kMadvDontNeed));
  EXPECT_TRUE(IsZero(child, at, 2 * kPage));
  EXPECT_TRUE(HasPattern(pid_, 1, at, 2 * kPage));
  ExpectInvariants();
}

TEST_F(MadviseTest, DontNeedOnALockedRangeIsInvalid) {
  const uint64_t at = Map(pid_, 2 * kPage);
  WritePattern(pid_, 1, at, 2 * kPage);
  ASSERT_OK(engine().Mlock(pid_, at, 2 * kPage));
  EXPECT_ERRNO(engine().Madvise(pid_, at, 2 * kPage, kMadvDontNeed), kInvalidArgument, "EINVAL");
  EXPECT_TRUE(HasPattern(pid_, 1, at, 2 * kPage));
}

TEST_F(MadviseTest, FreedPagesReadTheirContentOrZero) {
  const uint64_t at = Map(pid_, 8 * kPage);
  WritePattern(pid_, 1, at, 8 * kPage);
  ASSERT_OK(engine().Madvise(pid_, at, 8 * kPage, kMadvFree));
  ApplyMemoryPressure(256);
  for (uint64_t i = 0; i < 8; ++i) {
    const uint64_t page = at + i * kPage;
    const std::string got = ReadBytes(pid_, page, kPage);
    EXPECT_TRUE(got == Pattern(1, page, kPage) || got == std::string(kPage, '\0')) << "page " << i;
  }
  ExpectInvariants();
}

TEST_F(MadviseTest, FreedPageWrittenAgainKeepsItsContent) {
  const uint64_t at = Map(pid_, 4 * kPage);
  WritePattern(pid_, 1, at, 4 * kPage);
  ASSERT_OK(engine().Madvise(pid_, at, 4 * kPage, kMadvFree));
  WritePattern(pid_, 2, at, 4 * kPage);
  ApplyMemoryPressure(256);
  EXPECT_TRUE(HasPattern(pid_, 2, at, 4 * kPage));
}

TEST_F(MadviseTest, FreeOnSharedOrFileMemoryIsInvalid) {
  const uint64_t shm = Map(pid_, kPage, kRW, kSharedAnon);
  EXPECT_ERRNO(engine().Madvise(pid_, shm, kPage, kMadvFree), kInvalidArgument, "EINVAL");
  PutPatternFile("/f", 1, kPage);
  const uint64_t file = MapFile(pid_, "/f", kPage, kMapPrivate);
  EXPECT_ERRNO(engine().Madvise(pid_, file, kPage, kMadvFree), kInvalidArgument, "EINVAL");
}

TEST_F(MadviseTest, WipeOnForkOnSharedMemoryIsInvalid) {
  const uint64_t shm = Map(pid_, kPage, kRW, kSharedAnon);
  EXPECT_ERRNO(engine().Madvise(pid_, shm, kPage, kMadvWipeOnFork), kInvalidArgument, "EINVAL");
}

TEST_F(MadviseTest, WillNeedKeepsTheContent) {
  const uint64_t at = Map(pid_, 8 * kPage);
  WritePattern(pid_, 1, at, 8 * kPage);
  ApplyMemoryPressure(256);
  ASSERT_OK(engine().Madvise(pid_, at, 8 * kPage, kMadvWillNeed));
  EXPECT_TRUE(HasPattern(pid_, 1, at, 8 * kPage));
  PutPatternFile("/f", 2, 4 * kPage);
  const uint64_t file = MapFile(pid_, "/f", 4 * kPage, kMapShared);
  ASSERT_OK(engine().Madvise(pid_, file, 4 * kPage, kMadvWillNeed));
  EXPECT_EQ(ReadBytes(pid_, file, 4 * kPage), Pattern(2, 0, 4 * kPage));
}

TEST_F(MadviseTest, AccessPatternAdviceIsAccepted) {
  const uint64_t at = Map(pid_, 4 * kPage);
  WritePattern(pid_, 1, at, 4 * kPage);
  EXPECT_OK(engine().Madvise(pid_, at, 4 * kPage, kMadvSequential));
  EXPECT_OK(engine().Madvise(pid_, at, 2 * kPage, kMadvRandom));
  EXPECT_OK(engine().Madvise(pid_, at, 4 * kPage, kMadvNormal));
  EXPECT_TRUE(HasPattern(pid_, 1, at, 4 * kPage));
}

TEST_F(MadviseTest, UnknownAdviceIsInvalid) {
  const uint64_t at = Map(pid_, kPage);
  EXPECT_ERRNO(engine().Madvise(pid_, at, kPage, 999), kInvalidArgument, "EINVAL");
  EXPECT_ERRNO(engine().Madvise(pid_, at, kPage, -1), kInvalidArgument, "EINVAL");
}

TEST_F(MadviseTest, UnalignedAddressIsInvalid) {
  const uint64_t at = Map(pid_, 2 * kPage);
  EXPECT_ERRNO(engine().Madvise(pid_, at + 1, kPage, kMadvDontNeed), kInvalidArgument, "EINVAL");
}

TEST_F(MadviseTest, UnmappedRangeIsENOMEM) {
  const uint64_t at = Map(pid_, kPage);
  WritePattern(pid_, 1, at, kPage);
  EXPECT_ERRNO(engine().Madvise(pid_, at, 2 * kPage, kMadvNormal), kFailedPrecondition, "ENOMEM");
}

}  // namespace
}  // namespace memserver::conformance
