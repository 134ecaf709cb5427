// gVisor test/syscalls/linux/mlock.cc, ported: 17 of its 20 TESTs, Linux's
// results for an unprivileged process (memserver grants no CAP_IPC_LOCK).
// Not applicable: Mlock2Test.NoFlags, Mlock2Test.MlockOnfault,
// Mlock2Test.UnknownFlags (there is no mlock2 call; Mlock is mlock(2)).
// gVisor skips its tests where RLIMIT_MEMLOCK is 0 (CanMlock); a new
// process here has 8 MiB, so every one of them runs.
#include "tests/conformance/gvisor_fixture.h"

namespace memserver::gvisor {
namespace {

class MlockFixture : public GvisorTest {
 protected:
  void SetMemlock(uint64_t bytes) {
    ProcessLimits l = Limits();
    l.memlock = bytes;  // setrlimit(RLIMIT_MEMLOCK, {bytes, ...}), no CAP_IPC_LOCK
    SetLimits(l);
  }
};
using MlockTest = MlockFixture;
using MunlockTest = MlockFixture;
using MlockallTest = MlockFixture;
using MunlockallTest = MlockFixture;
using MapLockedTest = MlockFixture;
using MremapLockedTest = MlockFixture;

TEST_F(MlockTest, Basic) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate);
  EXPECT_FALSE(IsPageMlocked(m));
  ASSERT_OK(engine().Mlock(pid_, m, kPageSize));
  EXPECT_TRUE(IsPageMlocked(m));
}

TEST_F(MlockTest, ProtNone) {
  const uint64_t m = MmapAnon(kPageSize, kProtNone, kMapPrivate);
  EXPECT_FALSE(IsPageMlocked(m));
  EXPECT_ERRNO(engine().Mlock(pid_, m, kPageSize), kFailedPrecondition, "ENOMEM");
  // ENOMEM is returned because mlock can't populate the page, but it's still
  // considered locked.
  EXPECT_TRUE(IsPageMlocked(m));
}

TEST_F(MlockTest, MadviseDontneed) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate);
  ASSERT_OK(engine().Mlock(pid_, m, kPageSize));
  EXPECT_ERRNO(engine().Madvise(pid_, m, kPageSize, kMadvDontNeed), kInvalidArgument, "EINVAL");
}

TEST_F(MlockTest, MsyncInvalidate) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate);
  ASSERT_OK(engine().Mlock(pid_, m, kPageSize));
  EXPECT_ERRNO(engine().Msync(pid_, m, kPageSize, kMsAsync | kMsInvalidate), kFailedPrecondition, "EBUSY");
  EXPECT_ERRNO(engine().Msync(pid_, m, kPageSize, kMsSync | kMsInvalidate), kFailedPrecondition, "EBUSY");
}

TEST_F(MlockTest, Fork) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate);
  EXPECT_FALSE(IsPageMlocked(m));
  ASSERT_OK(engine().Mlock(pid_, m, kPageSize));
  EXPECT_TRUE(IsPageMlocked(m));
  const Pid child = ForkOf(pid_);
  EXPECT_FALSE(IsPageMlockedIn(child, m));
}

TEST_F(MlockTest, RlimitMemlockZero) {
  SetMemlock(0);
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate);
  EXPECT_FALSE(IsPageMlocked(m));
  EXPECT_ERRNO(engine().Mlock(pid_, m, kPageSize), kPermissionDenied, "EPERM");
}

TEST_F(MlockTest, RlimitMemlockInsufficient) {
  SetMemlock(kPageSize);
  const uint64_t m = MmapAnon(2 * kPageSize, kRW, kMapPrivate);
  EXPECT_FALSE(IsPageMlocked(m));
  EXPECT_ERRNO(engine().Mlock(pid_, m, 2 * kPageSize), kResourceExhausted, "ENOMEM");
}

TEST_F(MunlockTest, Basic) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate);
  EXPECT_FALSE(IsPageMlocked(m));
  ASSERT_OK(engine().Mlock(pid_, m, kPageSize));
  EXPECT_TRUE(IsPageMlocked(m));
  ASSERT_OK(engine().Munlock(pid_, m, kPageSize));
  EXPECT_FALSE(IsPageMlocked(m));
}

TEST_F(MunlockTest, NotLocked) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate);
  EXPECT_FALSE(IsPageMlocked(m));
  EXPECT_OK(engine().Munlock(pid_, m, kPageSize));
  EXPECT_FALSE(IsPageMlocked(m));
}

TEST_F(MlockallTest, Future) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate);
  EXPECT_FALSE(IsPageMlocked(m));
  ASSERT_OK(engine().Mlockall(pid_, kMclFuture));
  const uint64_t m2 = MmapAnon(kPageSize, kRW, kMapPrivate);
  EXPECT_TRUE(IsPageMlocked(m2));
  // munlockall() turns mlockall(MCL_FUTURE) off.
  ASSERT_OK(engine().Munlockall(pid_));
  const uint64_t m3 = MmapAnon(kPageSize, kRW, kMapPrivate);
  EXPECT_FALSE(IsPageMlocked(m2));
  EXPECT_FALSE(IsPageMlocked(m3));
}

TEST_F(MunlockallTest, Basic) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate | kMapLocked);
  EXPECT_TRUE(IsPageMlocked(m));
  ASSERT_OK(engine().Munlockall(pid_));
  EXPECT_FALSE(IsPageMlocked(m));
}

TEST_F(MapLockedTest, Basic) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate | kMapLocked);
  EXPECT_TRUE(IsPageMlocked(m));
  EXPECT_OK(engine().Munlock(pid_, m, kPageSize));
  EXPECT_FALSE(IsPageMlocked(m));
}

TEST_F(MapLockedTest, RlimitMemlockZero) {
  SetMemlock(0);
  uint64_t m = 0;
  EXPECT_ERRNO(MmapAnonStatus(kPageSize, kRW, kMapPrivate | kMapLocked, &m), kPermissionDenied, "EPERM");
}

TEST_F(MapLockedTest, RlimitMemlockInsufficient) {
  SetMemlock(kPageSize);
  uint64_t m = 0;
  EXPECT_ERRNO(MmapAnonStatus(2 * kPageSize, kRW, kMapPrivate | kMapLocked, &m), kResourceExhausted, "EAGAIN");
}

TEST_F(MremapLockedTest, Basic) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate | kMapLocked);
  EXPECT_TRUE(IsPageMlocked(m));
  uint64_t addr = 0;
  ASSERT_OK(engine().Mremap(pid_, m, kPageSize, 2 * kPageSize, kMremapMayMove, 0, &addr));
  EXPECT_TRUE(IsPageMlocked(addr));
  EXPECT_TRUE(IsPageMlocked(addr + kPageSize));
}

TEST_F(MremapLockedTest, RlimitMemlockZero) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate | kMapLocked);
  EXPECT_TRUE(IsPageMlocked(m));
  SetMemlock(0);
  // Unlike mlock, mremap does not check can_do_mlock: EAGAIN, not EPERM.
  uint64_t addr = 0;
  EXPECT_ERRNO(engine().Mremap(pid_, m, kPageSize, 2 * kPageSize, kMremapMayMove, 0, &addr), kResourceExhausted,
               "EAGAIN");
}

TEST_F(MremapLockedTest, RlimitMemlockInsufficient) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate | kMapLocked);
  EXPECT_TRUE(IsPageMlocked(m));
  SetMemlock(kPageSize);
  uint64_t addr = 0;
  EXPECT_ERRNO(engine().Mremap(pid_, m, kPageSize, 2 * kPageSize, kMremapMayMove, 0, &addr), kResourceExhausted,
               "EAGAIN");
}

}  // namespace
}  // namespace memserver::gvisor
