// Storage failures (FaultInjectionStore): an access that needs a failed
// write-out or page-in returns an error instead of corrupting memory, and
// once the store works again no data has been lost.
#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

class StorageFailureTest : public EngineFixture {
 protected:
  static constexpr uint64_t kFrames = 16;
  void SetUp() override {
    EngineFixture::SetUp();
    ASSERT_OK(Open(Options(kFrames), /*faulty=*/true));
    pid_ = NewProcess();
    a_ = Map(pid_, 4 * kFrames * page());
  }

  // Writes the pattern to pages [first, first+count), one call per page,
  // and returns which writes failed. Each failure must be Unavailable.
  std::vector<uint64_t> WriteAllowingFailures(uint64_t first, uint64_t count) {
    std::vector<uint64_t> failed;
    for (uint64_t i = first; i < first + count; ++i) {
      const uint64_t p = a_ + i * page();
      const Status s = engine().Write(pid_, p, Pattern(1, p, page()));
      if (!s.ok()) {
        EXPECT_EQ(s.code(), StatusCode::kUnavailable) << "page " << i << ": " << s.ToString();
        failed.push_back(i);
      }
    }
    return failed;
  }

  Pid pid_ = 0;
  uint64_t a_ = 0;
};

TEST_F(StorageFailureTest, FailedWriteOutFailsTheAccessAndLosesNothing) {
  WritePages(pid_, 1, a_, kFrames);  // every frame now holds a dirty page
  faulty_store()->FailWrites(true);
  const std::vector<uint64_t> failed = WriteAllowingFailures(kFrames, kFrames);
  EXPECT_FALSE(failed.empty()) << "32 dirty pages fit in 16 frames with no working store?";
  EXPECT_GT(faulty_store()->failed_writes(), 0u);
  // Pages whose write failed were left untouched.
  for (uint64_t i : failed) EXPECT_TRUE(CheckZero(pid_, a_ + i * page(), page())) << i;
  faulty_store()->FailWrites(false);
  ExpectInvariants();

  for (uint64_t i : failed) WritePattern(pid_, 1, a_ + i * page(), page());
  EXPECT_TRUE(CheckPages(pid_, 1, a_, 2 * kFrames));
  ExpectInvariants();
  ASSERT_OK(engine().Exit(pid_));
  EXPECT_EQ(SwapKeys(), 0u);
  const GlobalStats g = engine().GetGlobalStats();
  EXPECT_EQ(g.frames_free, g.frames_total);
}

TEST_F(StorageFailureTest, WriteFailingInTheMiddleOfEvictionLosesNothing) {
  WritePages(pid_, 1, a_, 2 * kFrames);  // half of them in swap already
  faulty_store()->FailWritesAfter(1);
  const std::vector<uint64_t> failed = WriteAllowingFailures(2 * kFrames, 2 * kFrames);
  faulty_store()->FailWrites(false);
  ExpectInvariants();
  for (uint64_t i : failed) EXPECT_TRUE(CheckZero(pid_, a_ + i * page(), page())) << i;
  for (uint64_t i : failed) WritePattern(pid_, 1, a_ + i * page(), page());
  EXPECT_TRUE(CheckPages(pid_, 1, a_, 4 * kFrames));
  EXPECT_EQ(SwapKeys(), engine().GetGlobalStats().swap_pages);
  ExpectInvariants();
}

TEST_F(StorageFailureTest, FailedPageInIsUnavailableAndRetryable) {
  WritePages(pid_, 1, a_, 3 * kFrames);  // page 0 is in swap
  ASSERT_GT(Stats(pid_).swapped_pages, 0u);
  faulty_store()->FailReads(true);
  uint64_t failures = 0;
  std::string got;
  for (uint64_t i = 0; i < 3 * kFrames; ++i) {
    const uint64_t p = a_ + i * page();
    got.assign(page(), '\x77');
    const Status s = engine().Read(pid_, p, page(), got.data());
    if (s.ok()) {
      ComparePattern(1, p, got);  // resident pages still read fine
    } else {
      EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
      EXPECT_EQ(got, std::string(page(), '\x77')) << "failed read copied bytes out";
      ++failures;
    }
  }
  EXPECT_GT(failures, 0u);
  faulty_store()->FailReads(false);
  ExpectInvariants();
  EXPECT_TRUE(CheckPages(pid_, 1, a_, 3 * kFrames));
  ExpectInvariants();
}

TEST_F(StorageFailureTest, FailedWriteDoesNotBreakOtherProcesses) {
  const Pid other = NewProcess("other");
  const uint64_t b = Map(other, kFrames * page());
  WritePages(other, 2, b, kFrames / 2);
  WritePages(pid_, 1, a_, kFrames);
  faulty_store()->FailWrites(true);
  const std::vector<uint64_t> failed = WriteAllowingFailures(kFrames, kFrames / 2);
  faulty_store()->FailWrites(false);
  EXPECT_FALSE(failed.empty());
  EXPECT_TRUE(CheckPages(other, 2, b, kFrames / 2));
  EXPECT_TRUE(CheckPages(pid_, 1, a_, kFrames));
  ASSERT_OK(engine().Exit(other));
  ASSERT_OK(engine().Exit(pid_));
  EXPECT_EQ(SwapKeys(), 0u);
  ExpectInvariants();
}

TEST_F(StorageFailureTest, AFailedWriteOverSeveralPagesChangesNoByte) {
  WritePages(pid_, 1, a_, 2 * kFrames);  // half in swap, every frame dirty
  const uint64_t at = a_ + kFrames * page() - page() / 2;  // straddles resident and swapped pages
  const std::string expected = ReadBytes(pid_, at, 3 * page());
  WritePages(pid_, 1, a_ + kFrames * page(), kFrames);  // the frames hold dirty pages again
  faulty_store()->FailWrites(true);
  uint64_t failures = 0;
  for (uint64_t i = 0; i < 8; ++i) {
    const uint64_t target = a_ + (i * 5 % (4 * kFrames - 3)) * page() + 100;
    const std::string old = ReadBytes(pid_, target, 3 * page() - 200);
    const Status s = engine().Write(pid_, target, std::string(3 * page() - 200, 'X'));
    if (s.ok()) continue;
    ++failures;
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
    EXPECT_EQ(ReadBytes(pid_, target, 3 * page() - 200), old) << "a failed write changed bytes at +" << i;
  }
  EXPECT_GT(failures, 0u);
  EXPECT_EQ(ReadBytes(pid_, at, 3 * page()), expected);
  faulty_store()->FailWrites(false);
  ExpectInvariants();
}

TEST_F(StorageFailureTest, SwappedPagesStayReadableWhileTheStoreRefusesWrites) {
  WritePages(pid_, 1, a_, 3 * kFrames);  // two thirds in swap
  WritePages(pid_, 2, a_ + 3 * kFrames * page(), kFrames);  // every frame dirty, none evictable cleanly
  faulty_store()->FailWrites(true);
  EXPECT_TRUE(CheckPages(pid_, 1, a_, 3 * kFrames));
  EXPECT_TRUE(CheckPages(pid_, 2, a_ + 3 * kFrames * page(), kFrames));
  EXPECT_GT(engine().GetGlobalStats().direct_reads + engine().GetGlobalStats().clean_evictions, 0u);
  faulty_store()->FailWrites(false);
  // Once the store takes writes again, so does the memory.
  WritePages(pid_, 3, a_, 4 * kFrames);
  EXPECT_TRUE(CheckPages(pid_, 3, a_, 4 * kFrames));
  ExpectInvariants();
}

}  // namespace
}  // namespace memserver
