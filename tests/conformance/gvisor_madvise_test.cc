// gVisor test/syscalls/linux/madvise.cc, ported: every TEST (17).
//
// MadviseDontneedHugePageSubrangeTest: memserver has no transparent huge
// pages; the ranges are 2 MiB-aligned anonymous memory, as posix_memalign
// gives gVisor, and MADV_DONTNEED of a subrange must zero exactly it.
#include <limits>

#include "tests/conformance/gvisor_fixture.h"

namespace memserver::gvisor {
namespace {

using MadviseDontneedTest = GvisorTest;
using MadviseDontforkTest = GvisorTest;

TEST_F(MadviseDontneedTest, ZerosPrivateAnonPage) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate);
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 0));
  Fill(m, kPageSize, 1);
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 1));
  ASSERT_OK(engine().Madvise(pid_, m, kPageSize, kMadvDontNeed));
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 0));
}

TEST_F(MadviseDontneedTest, ZerosCOWAnonPageInCallerOnly) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapPrivate);
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 0));
  Fill(m, kPageSize, 2);
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 2));
  // madvise in a child process.
  const Pid child = ForkOf(pid_);
  EXPECT_TRUE(AllBytesAre(child, m, kPageSize, 2));
  ASSERT_OK(engine().Madvise(child, m, kPageSize, kMadvDontNeed));
  EXPECT_TRUE(AllBytesAre(child, m, kPageSize, 0));
  ASSERT_OK(engine().Exit(child));
  // The child's madvise did not affect the parent.
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 2));
}

TEST_F(MadviseDontneedTest, DoesNotModifySharedAnonPage) {
  const uint64_t m = MmapAnon(kPageSize, kRW, kMapShared);
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 0));
  Fill(m, kPageSize, 3);
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 3));
  ASSERT_OK(engine().Madvise(pid_, m, kPageSize, kMadvDontNeed));
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 3));
}

TEST_F(MadviseDontneedTest, CleansPrivateFilePage) {
  PutFile("/f", std::string(kPageSize, 4));
  const uint64_t m = MapFile(pid_, "/f", kPageSize, kMapPrivate);
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 4));
  Fill(m, kPageSize, 5);
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 5));
  ASSERT_OK(engine().Madvise(pid_, m, kPageSize, kMadvDontNeed));
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 4));
}

TEST_F(MadviseDontneedTest, DoesNotModifySharedFilePage) {
  PutFile("/f", std::string(kPageSize, 6));
  const uint64_t m = MapFile(pid_, "/f", kPageSize, kMapShared);
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 6));
  Fill(m, kPageSize, 7);
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 7));
  ASSERT_OK(engine().Madvise(pid_, m, kPageSize, kMadvDontNeed));
  EXPECT_TRUE(AllBytesAre(m, kPageSize, 7));
}

TEST_F(MadviseDontneedTest, IgnoresPermissions) {
  const uint64_t m = MmapAnon(kPageSize, kProtNone, kMapPrivate);
  EXPECT_OK(engine().Madvise(pid_, m, kPageSize, kMadvDontNeed));
}

class MadviseDontneedHugePageSubrangeTest : public GvisorTest {
 protected:
  static constexpr uint64_t kHugePageSize = 2 << 20;
  static constexpr char kDataValue = 9;

  // posix_memalign(kHugePageSize, length) and memset(kDataValue).
  void GetAndFillHugePages(uint64_t length) {
    uint64_t addr = 0;
    // Over-allocate, then keep an aligned stretch.
    ASSERT_OK(MmapAnonStatus(length + kHugePageSize, kRW, kMapPrivate, &addr));
    data_start_ = (addr + kHugePageSize - 1) & ~(kHugePageSize - 1);
    data_len_ = length;
    Fill(data_start_, data_len_, kDataValue);
  }

  void TestMadvDontneedSubrange(uint64_t start_off, uint64_t end_off) {
    ASSERT_LE(start_off, data_len_);
    ASSERT_LE(end_off, data_len_);
    ASSERT_LE(start_off, end_off);
    ASSERT_OK(engine().Madvise(pid_, data_start_ + start_off, end_off - start_off, kMadvDontNeed));
    EXPECT_TRUE(AllBytesAre(data_start_, start_off, kDataValue)) << "before MADV_DONTNEED";
    EXPECT_TRUE(AllBytesAre(data_start_ + start_off, end_off - start_off, 0)) << "under MADV_DONTNEED";
    EXPECT_TRUE(AllBytesAre(data_start_ + end_off, data_len_ - end_off, kDataValue)) << "after MADV_DONTNEED";
  }

  uint64_t data_start_ = 0;
  uint64_t data_len_ = 0;
};

TEST_F(MadviseDontneedHugePageSubrangeTest, OneHugePageWhole) {
  GetAndFillHugePages(kHugePageSize);
  TestMadvDontneedSubrange(0, kHugePageSize);
}

TEST_F(MadviseDontneedHugePageSubrangeTest, OneHugePagePartial) {
  GetAndFillHugePages(kHugePageSize);
  TestMadvDontneedSubrange(kHugePageSize / 4, kHugePageSize * 3 / 4);
}

TEST_F(MadviseDontneedHugePageSubrangeTest, TwoHugePagesPartialStart) {
  GetAndFillHugePages(kHugePageSize * 2);
  TestMadvDontneedSubrange(kHugePageSize / 2, kHugePageSize);
}

TEST_F(MadviseDontneedHugePageSubrangeTest, TwoHugePagesPartialEnd) {
  GetAndFillHugePages(kHugePageSize * 2);
  TestMadvDontneedSubrange(kHugePageSize, kHugePageSize * 3 / 2);
}

TEST_F(MadviseDontneedHugePageSubrangeTest, TwoHugePagesPartialStartAndEnd) {
  GetAndFillHugePages(kHugePageSize * 2);
  TestMadvDontneedSubrange(kHugePageSize / 2, kHugePageSize * 3 / 2);
}

TEST_F(MadviseDontneedHugePageSubrangeTest, ThreeHugePagesPartialStart) {
  GetAndFillHugePages(kHugePageSize * 3);
  TestMadvDontneedSubrange(kHugePageSize / 2, kHugePageSize * 2);
}

TEST_F(MadviseDontneedHugePageSubrangeTest, ThreeHugePagesPartialEnd) {
  GetAndFillHugePages(kHugePageSize * 3);
  TestMadvDontneedSubrange(kHugePageSize, kHugePageSize * 5 / 2);
}

TEST_F(MadviseDontneedHugePageSubrangeTest, ThreeHugePagesPartialStartAndEnd) {
  GetAndFillHugePages(kHugePageSize * 3);
  TestMadvDontneedSubrange(kHugePageSize / 2, kHugePageSize * 5 / 2);
}

TEST_F(MadviseDontforkTest, AddressLength) {
  const uint64_t addr = MmapAnon(kPageSize, kProtNone, kMapPrivate);
  // Address must be page aligned.
  EXPECT_ERRNO(engine().Madvise(pid_, addr + 1, kPageSize, kMadvDontFork), kInvalidArgument, "EINVAL");
  // Zero length madvise always succeeds.
  EXPECT_OK(engine().Madvise(pid_, addr, 0, kMadvDontFork));
  // Length must not roll over after rounding up.
  const uint64_t badlen = std::numeric_limits<uint64_t>::max() - (kPageSize / 2);
  EXPECT_ERRNO(engine().Madvise(pid_, 0, badlen, kMadvDontFork), kInvalidArgument, "EINVAL");
  // Length need not be page aligned: it is rounded up.
  EXPECT_OK(engine().Madvise(pid_, addr, 1, kMadvDontFork));
  EXPECT_OK(engine().Madvise(pid_, addr, kPageSize, kMadvDontFork));
}

TEST_F(MadviseDontforkTest, DontforkShared) {
  // Two shared file-backed pages; MADV_DONTFORK the second.
  PutFile("/f", std::string(kPageSize * 2, 2));
  const uint64_t m = MapFile(pid_, "/f", 2 * kPageSize, kMapShared);
  const uint64_t ms1 = m, ms2 = m + kPageSize;
  ASSERT_OK(engine().Madvise(pid_, ms2, kPageSize, kMadvDontFork));
  const Pid child = ForkOf(pid_);
  // The first page is mapped in the child; its writes reach the parent
  // through the shared mapping.
  EXPECT_TRUE(IsMappedIn(child, ms1));
  EXPECT_TRUE(AllBytesAre(child, ms1, kPageSize, 2));
  Fill(child, ms1, kPageSize, 1);
  EXPECT_TRUE(AllBytesAre(child, ms1, kPageSize, 1));
  // The second page is not mapped in the child.
  EXPECT_FALSE(IsMappedIn(child, ms2));
  ASSERT_OK(engine().Exit(child));
  EXPECT_TRUE(AllBytesAre(ms1, kPageSize, 1));  // modified by the child
  EXPECT_TRUE(AllBytesAre(ms2, kPageSize, 2));  // unchanged
}

TEST_F(MadviseDontforkTest, DontforkAnonPrivate) {
  // Three anonymous pages; MADV_DONTFORK the middle one.
  const uint64_t m = MmapAnon(3 * kPageSize, kRW, kMapPrivate);
  const uint64_t mp1 = m, mp2 = m + kPageSize, mp3 = m + 2 * kPageSize;
  ASSERT_OK(engine().Madvise(pid_, mp2, kPageSize, kMadvDontFork));
  EXPECT_TRUE(AllBytesAre(mp1, kPageSize, 0));
  Fill(mp1, kPageSize, 1);
  EXPECT_TRUE(AllBytesAre(mp2, kPageSize, 0));
  Fill(mp2, kPageSize, 2);
  EXPECT_TRUE(AllBytesAre(mp3, kPageSize, 0));
  Fill(mp3, kPageSize, 3);
  const Pid child = ForkOf(pid_);
  // Pages 1 and 3 are mapped in the child, privately: its writes stay its own.
  EXPECT_TRUE(IsMappedIn(child, mp1));
  EXPECT_TRUE(AllBytesAre(child, mp1, kPageSize, 1));
  Fill(child, mp1, kPageSize, 11);
  EXPECT_TRUE(AllBytesAre(child, mp1, kPageSize, 11));
  EXPECT_FALSE(IsMappedIn(child, mp2));
  EXPECT_TRUE(IsMappedIn(child, mp3));
  EXPECT_TRUE(AllBytesAre(child, mp3, kPageSize, 3));
  Fill(child, mp3, kPageSize, 13);
  EXPECT_TRUE(AllBytesAre(child, mp3, kPageSize, 13));
  ASSERT_OK(engine().Exit(child));
  // The fork and the child's copy-on-write did not affect the parent.
  EXPECT_TRUE(AllBytesAre(mp1, kPageSize, 1));
  EXPECT_TRUE(AllBytesAre(mp2, kPageSize, 2));
  EXPECT_TRUE(AllBytesAre(mp3, kPageSize, 3));
}

}  // namespace
}  // namespace memserver::gvisor
