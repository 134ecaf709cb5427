// msync(2) and write-back of MAP_SHARED file mappings: dirty pages reach the
// file store on msync (durable when it returns), munmap, exit and eviction;
// clean pages are not written again.
#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {
namespace {

class MsyncTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(64);
    pid_ = NewProcess();
    PutPatternFile("/f", 1, 4 * kPage);
    at_ = MapFile(pid_, "/f", 4 * kPage, kMapShared);
  }

  uint64_t BytesWritten() { return engine().store()->GetStats().bytes_written; }

  Pid pid_ = 0;
  uint64_t at_ = 0;
};

TEST_F(MsyncTest, MsyncWritesDirtyPagesToTheStore) {
  WritePattern(pid_, 2, at_ + kPage, 2 * kPage);
  const uint64_t before = BytesWritten();
  ASSERT_OK(engine().Msync(pid_, at_, 4 * kPage, kMsSync));
  EXPECT_GE(BytesWritten() - before, 2 * kPage);
  EXPECT_LT(BytesWritten() - before, 4 * kPage);  // the two clean pages were not written
}

TEST_F(MsyncTest, MsyncOfCleanPagesWritesNothing) {
  WritePattern(pid_, 2, at_, kPage);
  ASSERT_OK(engine().Msync(pid_, at_, 4 * kPage, kMsSync));
  const uint64_t before = BytesWritten();
  ASSERT_OK(engine().Msync(pid_, at_, 4 * kPage, kMsSync));
  EXPECT_EQ(BytesWritten(), before);
}

TEST_F(MsyncTest, MsyncedWritesSurviveACrash) {
  WritePattern(pid_, 2, at_, 4 * kPage);
  ASSERT_OK(engine().Msync(pid_, at_, 4 * kPage, kMsSync));
  const std::unique_ptr<Engine> recovered = OpenCrashCopy();
  ASSERT_NE(recovered, nullptr);
  FileInfo info;
  ASSERT_OK(recovered->StatFile("/f", &info));
  EXPECT_EQ(info.size, 4 * kPage);
  std::string data;
  ASSERT_OK(recovered->ReadFile("/f", 0, 4 * kPage, &data));
  EXPECT_TRUE(Matches(data, Pattern(2, at_, 4 * kPage), 0));
}

TEST_F(MsyncTest, AsyncMsyncSucceedsAndKeepsTheContent) {
  WritePattern(pid_, 2, at_, kPage);
  ASSERT_OK(engine().Msync(pid_, at_, kPage, kMsAsync));
  EXPECT_TRUE(HasPattern(pid_, 2, at_, kPage));
  std::string data;
  ASSERT_OK(engine().ReadFile("/f", 0, kPage, &data));
  EXPECT_EQ(data, Pattern(2, at_, kPage));
}

TEST_F(MsyncTest, SyncAndAsyncTogetherAreInvalid) {
  EXPECT_ERRNO(engine().Msync(pid_, at_, kPage, kMsSync | kMsAsync), kInvalidArgument, "EINVAL");
}

TEST_F(MsyncTest, UnalignedAddressIsInvalid) {
  EXPECT_ERRNO(engine().Msync(pid_, at_ + 8, kPage, kMsSync), kInvalidArgument, "EINVAL");
}

TEST_F(MsyncTest, UnmappedRangeIsENOMEM) {
  ASSERT_OK(engine().Munmap(pid_, at_ + 2 * kPage, 2 * kPage));
  EXPECT_ERRNO(engine().Msync(pid_, at_, 4 * kPage, kMsSync), kFailedPrecondition, "ENOMEM");
  EXPECT_ERRNO(engine().Msync(pid_, at_ + 2 * kPage, kPage, kMsSync), kFailedPrecondition, "ENOMEM");
}

TEST_F(MsyncTest, MsyncOfPrivateMemoryNeverReachesTheFile) {
  const uint64_t anon = Map(pid_, 2 * kPage);
  WritePattern(pid_, 2, anon, 2 * kPage);
  const uint64_t priv = MapFile(pid_, "/f", 2 * kPage, kMapPrivate);
  WritePattern(pid_, 3, priv, 2 * kPage);
  ASSERT_OK(engine().Msync(pid_, anon, 2 * kPage, kMsSync));
  ASSERT_OK(engine().Msync(pid_, priv, 2 * kPage, kMsSync));
  EXPECT_EQ(FileContents("/f"), Pattern(1, 0, 4 * kPage));
}

TEST_F(MsyncTest, SecondMsyncOfUnchangedPrivateMemoryWritesNothing) {
  const uint64_t anon = Map(pid_, 4 * kPage);
  WritePattern(pid_, 2, anon, 4 * kPage);
  ASSERT_OK(engine().Msync(pid_, anon, 4 * kPage, kMsSync));
  const uint64_t before = BytesWritten();
  ASSERT_OK(engine().Msync(pid_, anon, 4 * kPage, kMsSync));
  EXPECT_EQ(BytesWritten(), before);
}

TEST_F(MsyncTest, MunmapWritesBackDirtyPages) {
  WritePattern(pid_, 2, at_, 2 * kPage);
  const uint64_t before = BytesWritten();
  ASSERT_OK(engine().Munmap(pid_, at_, 4 * kPage));
  EXPECT_GE(BytesWritten() - before, 2 * kPage);
  EXPECT_EQ(FileContents("/f"), Pattern(2, at_, 2 * kPage) + Pattern(1, 2 * kPage, 2 * kPage));
}

TEST_F(MsyncTest, ExitWritesBackDirtyPages) {
  WritePattern(pid_, 2, at_ + 3 * kPage, kPage);
  const uint64_t before = BytesWritten();
  ASSERT_OK(engine().Exit(pid_));
  EXPECT_GE(BytesWritten() - before, kPage);
  Reopen();
  EXPECT_EQ(FileContents("/f"), Pattern(1, 0, 3 * kPage) + Pattern(2, at_ + 3 * kPage, kPage));
}

TEST_F(MsyncTest, EvictionWritesBackDirtyPages) {
  WritePattern(pid_, 2, at_, 4 * kPage);
  ApplyMemoryPressure(256);
  EXPECT_EQ(Stats(pid_).resident_pages, 0u);
  // Eviction wrote the pages: msync finds nothing left to write, and the
  // content comes back from the file store.
  const uint64_t after_eviction = BytesWritten();
  ASSERT_OK(engine().Msync(pid_, at_, 4 * kPage, kMsSync));
  EXPECT_EQ(BytesWritten(), after_eviction);
  EXPECT_EQ(ReadBytes(pid_, at_, 4 * kPage), Pattern(2, at_, 4 * kPage));
}

TEST_F(MsyncTest, InvalidateOnALockedRangeIsEBUSY) {
  ASSERT_OK(engine().Mlock(pid_, at_, 4 * kPage));
  const Status s = engine().Msync(pid_, at_, 4 * kPage, kMsSync | kMsInvalidate);
  EXPECT_EQ(s.errno_name(), "EBUSY") << s.ToString();
  EXPECT_FALSE(s.ok());
}

TEST_F(MsyncTest, ClosingTheEngineWritesBackDirtyPages) {
  WritePattern(pid_, 2, at_ + kPage, kPage);
  Reopen();  // no munmap, no exit, no msync
  EXPECT_EQ(FileContents("/f"), Pattern(1, 0, kPage) + Pattern(2, at_ + kPage, kPage) +
                                    Pattern(1, 2 * kPage, 2 * kPage));
}

}  // namespace
}  // namespace memserver::conformance
