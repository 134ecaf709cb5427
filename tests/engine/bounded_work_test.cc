// Work that a caller's length could make unbounded: MAP_POPULATE and
// MADV_WILLNEED over tens of TiB stop at the frame pool, run in steps that
// drop the mm lock, and stop at the call's deadline or cancellation.
//
// The lock is proved dropped deterministically: the CallControl's
// `cancelled` callback runs between steps, and from there another thread
// makes calls that need this process's mm lock exclusively (mprotect) and
// every process's (ListProcesses). Were the lock still held, those calls
// would not return; they are given a bounded wait.
#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "server/common/call_control.h"
#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kTiB = 1ull << 40;
constexpr uint64_t kFrames = 1024;
// Far beyond what a correct call needs; a wedged one never gets there.
constexpr auto kBound = std::chrono::seconds(30);

class BoundedWorkTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    OpenWithFrames(kFrames);
    pid_ = NewProcess("hostile");
    other_ = NewProcess("other");
    other_addr_ = Map(other_, 4 * page());
    WritePattern(other_, 3, other_addr_, 4 * page());
    side_ = Map(pid_, 3 * page());  // mprotected from the callback
  }

  MmapArgs Huge(uint32_t flags) const {
    MmapArgs a;
    a.length = 64 * kTiB;
    a.prot = kRW;
    a.flags = flags;
    return a;
  }

  // From another thread, as a concurrent client would: calls that need
  // this process's mm lock exclusively and every process's lock shared.
  // True when they all returned within the bound.
  bool OthersGetThrough() {
    auto done = std::async(std::launch::async, [this] {
      const Status p = engine().Mprotect(pid_, side_ + page(), page(), kProtRead);
      const Status q = engine().Mprotect(pid_, side_ + page(), page(), kRW);
      const std::vector<ProcessStats> all = engine().ListProcesses();
      ProcessStats stats;
      const Status r = engine().GetProcessStats(other_, &stats);
      return p.ok() && q.ok() && r.ok() && all.size() == 2;
    });
    if (done.wait_for(kBound) != std::future_status::ready) return false;
    return done.get();
  }

  Pid pid_ = 0, other_ = 0;
  uint64_t other_addr_ = 0, side_ = 0;
};

TEST_F(BoundedWorkTest, MapPopulateOfTensOfTebibytesStopsAtTheFramePool) {
  const auto t0 = Clock::now();
  uint64_t addr = 0;
  ASSERT_OK(engine().Mmap(pid_, Huge(kAnon | kMapPopulate), &addr));
  EXPECT_LT(Clock::now() - t0, kBound);
  const ProcessStats s = Stats(pid_);
  EXPECT_GT(s.resident_pages, 0u) << "populate did nothing";
  EXPECT_LE(s.resident_pages, kFrames);
  EXPECT_EQ(s.virtual_bytes, 64 * kTiB + 3 * page());
  EXPECT_TRUE(CheckPattern(other_, 3, other_addr_, 4 * page()));
  ExpectInvariants();
}

TEST_F(BoundedWorkTest, MapPopulateOfHugeSharedMemoryStopsAtTheFramePool) {
  uint64_t addr = 0;
  ASSERT_OK(engine().Mmap(pid_, Huge(kMapShared | kMapAnonymous | kMapPopulate), &addr));
  EXPECT_LE(Stats(pid_).resident_pages, kFrames);
  WriteBytes(pid_, addr + 63 * kTiB, "still usable");
  EXPECT_EQ(ReadBytes(pid_, addr + 63 * kTiB, 12), "still usable");
  ExpectInvariants();
}

TEST_F(BoundedWorkTest, MapPopulateDropsTheMmLockBetweenSteps) {
  std::atomic<int> checks{0};
  std::atomic<int> blocked{0};
  const CallControl control(CallControl::Clock::time_point::max(), [&] {
    ++checks;
    if (!OthersGetThrough()) ++blocked;
    return false;
  });
  uint64_t addr = 0;
  ASSERT_OK(engine().Mmap(pid_, Huge(kAnon | kMapPopulate), &addr, control));
  // 1024 pages in steps of at most 256: several steps, each followed by a check.
  EXPECT_GE(checks.load(), 4);
  EXPECT_EQ(blocked.load(), 0) << "a call waited for the mm lock while populate was between steps";
  ExpectInvariants();
}

TEST_F(BoundedWorkTest, MapPopulateStopsWhenTheCallIsCancelled) {
  std::atomic<int> checks{0};
  const CallControl control(CallControl::Clock::time_point::max(), [&] { return ++checks >= 2; });
  uint64_t addr = 0;
  ASSERT_OK(engine().Mmap(pid_, Huge(kAnon | kMapPopulate), &addr, control));  // the mapping stands
  EXPECT_EQ(checks.load(), 2);
  const uint64_t resident = Stats(pid_).resident_pages;
  EXPECT_GT(resident, 0u);
  EXPECT_LE(resident, 256u) << "populate went on after the cancellation";
  WriteBytes(pid_, addr + 10 * kTiB, "mapped");
  ExpectInvariants();
}

TEST_F(BoundedWorkTest, MapPopulatePastItsDeadlineMapsWithoutPopulating) {
  const CallControl control(CallControl::Clock::now() - std::chrono::seconds(1), nullptr);
  uint64_t addr = 0;
  ASSERT_OK(engine().Mmap(pid_, Huge(kAnon | kMapPopulate), &addr, control));
  EXPECT_EQ(Stats(pid_).resident_pages, 0u);
  EXPECT_EQ(Mappings(pid_).size(), 2u);
}

TEST_F(BoundedWorkTest, WillNeedOverTensOfTebibytesReturnsWithinABound) {
  uint64_t priv = 0, shared = 0;
  ASSERT_OK(engine().Mmap(pid_, Huge(kAnon), &priv));
  WritePattern(pid_, 1, priv, page());
  WritePattern(pid_, 2, priv + 40 * kTiB, page());
  MmapArgs s = Huge(kMapShared | kMapAnonymous);
  s.length = 32 * kTiB;
  ASSERT_OK(engine().Mmap(pid_, s, &shared));
  WritePattern(pid_, 4, shared + 31 * kTiB, page());
  const auto t0 = Clock::now();
  EXPECT_OK(engine().Madvise(pid_, priv, 64 * kTiB, kMadvWillNeed));
  EXPECT_OK(engine().Madvise(pid_, shared, 32 * kTiB, kMadvWillNeed));
  EXPECT_LT(Clock::now() - t0, kBound);
  EXPECT_TRUE(CheckPattern(pid_, 1, priv, page()));
  EXPECT_TRUE(CheckPattern(pid_, 2, priv + 40 * kTiB, page()));
  EXPECT_TRUE(CheckPattern(pid_, 4, shared + 31 * kTiB, page()));
  ExpectInvariants();
}

TEST_F(BoundedWorkTest, WillNeedOnAHugeFileMappingStopsAtTheEndOfTheFile) {
  FileInfo info;
  ASSERT_OK(engine().WriteFile("/small", 0, Pattern(5, 0, 3 * page()), &info));
  MmapArgs a = Huge(kMapShared);
  a.path = "/small";
  uint64_t addr = 0;
  ASSERT_OK(engine().Mmap(pid_, a, &addr));
  const auto t0 = Clock::now();
  EXPECT_OK(engine().Madvise(pid_, addr, 64 * kTiB, kMadvWillNeed));
  EXPECT_LT(Clock::now() - t0, kBound);
  EXPECT_EQ(ReadBytes(pid_, addr, 3 * page()), Pattern(5, 0, 3 * page()));
  ExpectInvariants();
}

TEST_F(BoundedWorkTest, WillNeedDropsTheMmLockBetweenSteps) {
  uint64_t addr = 0;
  ASSERT_OK(engine().Mmap(pid_, Huge(kAnon), &addr));
  WritePattern(pid_, 1, addr + 5 * kTiB, page());
  std::atomic<int> checks{0};
  std::atomic<int> blocked{0};
  const CallControl control(CallControl::Clock::time_point::max(), [&] {
    // Every step checks; probing the first few is proof enough.
    if (++checks <= 3 && !OthersGetThrough()) ++blocked;
    return false;
  });
  EXPECT_OK(engine().Madvise(pid_, addr, 64 * kTiB, kMadvWillNeed, control));
  EXPECT_GE(checks.load(), 3);
  EXPECT_EQ(blocked.load(), 0) << "a call waited for the mm lock while WILLNEED was between steps";
  ExpectInvariants();
}

TEST_F(BoundedWorkTest, WillNeedStopsWhenTheCallIsCancelled) {
  uint64_t addr = 0;
  ASSERT_OK(engine().Mmap(pid_, Huge(kAnon), &addr));
  std::atomic<int> checks{0};
  const CallControl control(CallControl::Clock::time_point::max(), [&] { return ++checks >= 3; });
  EXPECT_OK(engine().Madvise(pid_, addr, 64 * kTiB, kMadvWillNeed, control));  // advice: not an error
  EXPECT_EQ(checks.load(), 3) << "WILLNEED went on after the cancellation";
}

TEST_F(BoundedWorkTest, HugeRangeCallsLeaveOtherProcessesAnswering) {
  std::atomic<bool> done{false};
  std::thread hostile([&] {
    for (int i = 0; i < 3; ++i) {
      uint64_t addr = 0;
      EXPECT_OK(engine().Mmap(pid_, Huge(kAnon | kMapPopulate), &addr));
      EXPECT_OK(engine().Madvise(pid_, addr, 64 * kTiB, kMadvWillNeed));
      EXPECT_OK(engine().Munmap(pid_, addr, 64 * kTiB));
    }
    done = true;
  });
  Clock::duration worst{};
  int answered = 0;
  const auto deadline = Clock::now() + kBound;
  while (!done && Clock::now() < deadline) {
    const auto t0 = Clock::now();
    ProcessStats stats;
    EXPECT_OK(engine().GetProcessStats(other_, &stats));
    EXPECT_EQ(engine().ListProcesses().size(), 2u);
    std::string out;
    EXPECT_OK(ReadInto(other_, other_addr_, page(), &out));
    worst = std::max(worst, Clock::now() - t0);
    ++answered;
  }
  hostile.join();
  EXPECT_TRUE(done) << "the hostile calls did not finish within the bound";
  EXPECT_GE(answered, 1);
  // Each round takes every process's lock shared once; a wedged hostile
  // call would hold this for its whole length.
  EXPECT_LT(worst, std::chrono::seconds(5)) << "another process's calls stalled behind the hostile ones";
  EXPECT_TRUE(CheckPattern(other_, 3, other_addr_, 4 * page()));
  ExpectInvariants();
}

}  // namespace
}  // namespace memserver
