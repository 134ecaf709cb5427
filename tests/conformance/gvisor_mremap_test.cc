// gVisor test/syscalls/linux/mremap.cc, ported: every TEST (19), Linux's
// results. gVisor runs most in a forked child only so that no other thread
// maps pages meanwhile; a memserver process has no other threads.
#include "tests/conformance/gvisor_fixture.h"

namespace memserver::gvisor {
namespace {

class MremapParamTest : public GvisorTest, public ::testing::WithParamInterface<uint32_t> {
 protected:
  uint64_t Map(uint64_t length, uint32_t prot) { return MmapAnon(length, prot, GetParam()); }
};

TEST_P(MremapParamTest, Noop) {
  const uint64_t m = Map(kPageSize, kProtNone);
  uint64_t addr = 0;
  ASSERT_OK(Mremap(m, kPageSize, kPageSize, 0, 0, &addr));
  EXPECT_EQ(addr, m);
  EXPECT_TRUE(IsMapped(m));
}

TEST_P(MremapParamTest, InPlace_ShrinkingWholeVMA) {
  const uint64_t m = Map(2 * kPageSize, kProtNone);
  uint64_t addr = 0;
  ASSERT_OK(Mremap(m, 2 * kPageSize, kPageSize, 0, 0, &addr));
  EXPECT_EQ(addr, m);
  EXPECT_TRUE(IsMapped(m));
  EXPECT_FALSE(IsMapped(m + kPageSize));
}

TEST_P(MremapParamTest, InPlace_ShrinkingPartialVMA) {
  const uint64_t m = Map(3 * kPageSize, kProtNone);
  uint64_t addr = 0;
  ASSERT_OK(Mremap(m, 2 * kPageSize, kPageSize, 0, 0, &addr));
  EXPECT_EQ(addr, m);
  EXPECT_TRUE(IsMapped(m));
  EXPECT_FALSE(IsMapped(m + kPageSize));
  EXPECT_TRUE(IsMapped(m + 2 * kPageSize));
}

TEST_P(MremapParamTest, InPlace_ShrinkingAcrossVMAs) {
  const uint64_t m = Map(3 * kPageSize, kProtRead);
  // Changing permissions on the first page forces it to become a separate vma.
  ASSERT_OK(Mprotect(m, kPageSize, kProtNone));
  // Both old_size and new_size now span two vmas; mremap shouldn't care.
  uint64_t addr = 0;
  ASSERT_OK(Mremap(m, 3 * kPageSize, 2 * kPageSize, 0, 0, &addr));
  EXPECT_EQ(addr, m);
  EXPECT_TRUE(IsMapped(m));
  EXPECT_TRUE(IsMapped(m + kPageSize));
  EXPECT_FALSE(IsMapped(m + 2 * kPageSize));
}

TEST_P(MremapParamTest, InPlace_ExpansionSuccess) {
  const uint64_t m = Map(2 * kPageSize, kProtNone);
  // Unmap the second page so that the first can be expanded back into it.
  ASSERT_OK(Munmap(m + kPageSize, kPageSize));
  uint64_t addr = 0;
  ASSERT_OK(Mremap(m, kPageSize, 2 * kPageSize, 0, 0, &addr));
  EXPECT_EQ(addr, m);
  EXPECT_TRUE(IsMapped(m));
  EXPECT_TRUE(IsMapped(m + kPageSize));
}

TEST_P(MremapParamTest, InPlace_ExpansionFailure) {
  const uint64_t m = Map(3 * kPageSize, kProtNone);
  // A one-page hole: growing the first page to three fails, the third page
  // being mapped still.
  ASSERT_OK(Munmap(m + kPageSize, kPageSize));
  uint64_t addr = 0;
  EXPECT_ERRNO(Mremap(m, kPageSize, 3 * kPageSize, 0, 0, &addr), kResourceExhausted, "ENOMEM");
  EXPECT_TRUE(IsMapped(m));
  EXPECT_FALSE(IsMapped(m + kPageSize));
  EXPECT_TRUE(IsMapped(m + 2 * kPageSize));
}

TEST_P(MremapParamTest, MayMove_Expansion) {
  const uint64_t m = Map(3 * kPageSize, kProtNone);
  // The same hole: with MREMAP_MAYMOVE the mapping moves instead.
  ASSERT_OK(Munmap(m + kPageSize, kPageSize));
  uint64_t m2 = 0;
  ASSERT_OK(Mremap(m, kPageSize, 3 * kPageSize, kMremapMayMove, 0, &m2));
  EXPECT_NE(m, m2);
  EXPECT_FALSE(IsMapped(m));
  EXPECT_FALSE(IsMapped(m + kPageSize));
  EXPECT_TRUE(IsMapped(m + 2 * kPageSize));
  EXPECT_TRUE(IsMapped(m2));
  EXPECT_TRUE(IsMapped(m2 + kPageSize));
  EXPECT_TRUE(IsMapped(m2 + 2 * kPageSize));
}

TEST_P(MremapParamTest, Fixed_SourceAndDestinationCannotOverlap) {
  const uint64_t m = Map(kPageSize, kProtNone);
  uint64_t addr = 0;
  EXPECT_ERRNO(Mremap(m, kPageSize, kPageSize, kMremapMayMove | kMremapFixed, m, &addr), kInvalidArgument, "EINVAL");
  EXPECT_TRUE(IsMapped(m));
}

TEST_P(MremapParamTest, Fixed_SameSize) {
  const uint64_t src = Map(kPageSize, kProtNone), dst = Map(kPageSize, kProtNone);
  // Unmap dst to create a hole.
  ASSERT_OK(Munmap(dst, kPageSize));
  uint64_t addr = 0;
  ASSERT_OK(Mremap(src, kPageSize, kPageSize, kMremapMayMove | kMremapFixed, dst, &addr));
  EXPECT_EQ(addr, dst);
  EXPECT_FALSE(IsMapped(src));
  EXPECT_TRUE(IsMapped(dst));
}

TEST_P(MremapParamTest, Fixed_SameSize_Unmapping) {
  // Like Fixed_SameSize, but mremap unmaps the destination itself.
  const uint64_t src = Map(kPageSize, kProtNone), dst = Map(kPageSize, kProtNone);
  uint64_t addr = 0;
  ASSERT_OK(Mremap(src, kPageSize, kPageSize, kMremapMayMove | kMremapFixed, dst, &addr));
  EXPECT_EQ(addr, dst);
  EXPECT_FALSE(IsMapped(src));
  EXPECT_TRUE(IsMapped(dst));
}

TEST_P(MremapParamTest, Fixed_ShrinkingWholeVMA) {
  const uint64_t src = Map(2 * kPageSize, kProtNone), dst = Map(2 * kPageSize, kProtNone);
  // Unmap dst so we can check that mremap does not keep the second page.
  ASSERT_OK(Munmap(dst, 2 * kPageSize));
  uint64_t addr = 0;
  ASSERT_OK(Mremap(src, 2 * kPageSize, kPageSize, kMremapMayMove | kMremapFixed, dst, &addr));
  EXPECT_EQ(addr, dst);
  EXPECT_FALSE(IsMapped(src));
  EXPECT_FALSE(IsMapped(src + kPageSize));
  EXPECT_TRUE(IsMapped(dst));
  EXPECT_FALSE(IsMapped(dst + kPageSize));
}

TEST_P(MremapParamTest, Fixed_ShrinkingPartialVMA) {
  const uint64_t src = Map(3 * kPageSize, kProtNone), dst = Map(2 * kPageSize, kProtNone);
  ASSERT_OK(Munmap(dst, 2 * kPageSize));
  uint64_t addr = 0;
  ASSERT_OK(Mremap(src, 2 * kPageSize, kPageSize, kMremapMayMove | kMremapFixed, dst, &addr));
  EXPECT_EQ(addr, dst);
  EXPECT_FALSE(IsMapped(src));
  EXPECT_FALSE(IsMapped(src + kPageSize));
  EXPECT_TRUE(IsMapped(src + 2 * kPageSize));
  EXPECT_TRUE(IsMapped(dst));
  EXPECT_FALSE(IsMapped(dst + kPageSize));
}

TEST_P(MremapParamTest, Fixed_ShrinkingAcrossVMAs) {
  const uint64_t src = Map(3 * kPageSize, kProtRead);
  // Changing permissions on the first page forces it to become a separate vma.
  ASSERT_OK(Mprotect(src, kPageSize, kProtNone));
  const uint64_t dst = Map(2 * kPageSize, kProtNone);
  // Unlike flags=0, MREMAP_FIXED requires that [old_address,
  // old_address+new_size) only spans a single vma.
  uint64_t addr = 0;
  EXPECT_ERRNO(Mremap(src, 3 * kPageSize, 2 * kPageSize, kMremapMayMove | kMremapFixed, dst, &addr),
               kFailedPrecondition, "EFAULT");
  EXPECT_TRUE(IsMapped(src));
  EXPECT_TRUE(IsMapped(src + kPageSize));
  // Despite failing, mremap should have unmapped [old_address+new_size,
  // old_address+old_size) (i.e. the third page).
  EXPECT_FALSE(IsMapped(src + 2 * kPageSize));
  // Despite failing, mremap should have unmapped the destination pages.
  EXPECT_FALSE(IsMapped(dst));
  EXPECT_FALSE(IsMapped(dst + kPageSize));
}

TEST_P(MremapParamTest, Fixed_Expansion) {
  const uint64_t src = Map(kPageSize, kProtNone), dst = Map(2 * kPageSize, kProtNone);
  // Unmap dst so we can check that mremap actually maps all pages at the
  // destination.
  ASSERT_OK(Munmap(dst, 2 * kPageSize));
  uint64_t addr = 0;
  ASSERT_OK(Mremap(src, kPageSize, 2 * kPageSize, kMremapMayMove | kMremapFixed, dst, &addr));
  EXPECT_EQ(addr, dst);
  EXPECT_FALSE(IsMapped(src));
  EXPECT_TRUE(IsMapped(dst));
  EXPECT_TRUE(IsMapped(dst + kPageSize));
}

INSTANTIATE_TEST_SUITE_P(PrivateShared, MremapParamTest, ::testing::Values(kMapPrivate, kMapShared),
                         [](const ::testing::TestParamInfo<uint32_t>& info) {
                           return info.param == kMapPrivate ? "MAP_PRIVATE" : "MAP_SHARED";
                         });

// mremap with old_size == 0 only works with MAP_SHARED after Linux 4.14
// (dba58d3b8c50 "mm/mremap: fail map duplication attempts for private
// mappings").
using MremapTest = GvisorTest;

TEST_F(MremapTest, InPlace_Copy) {
  const uint64_t m = MmapAnon(kPageSize, kProtNone, kMapShared);
  uint64_t addr = 0;
  EXPECT_ERRNO(Mremap(m, 0, kPageSize, 0, 0, &addr), kResourceExhausted, "ENOMEM");
}

TEST_F(MremapTest, MayMove_Copy) {
  const uint64_t m = MmapAnon(kPageSize, kProtNone, kMapShared);
  uint64_t ptr = 0;
  ASSERT_OK(Mremap(m, 0, kPageSize, kMremapMayMove, 0, &ptr));
  EXPECT_NE(ptr, m);
  EXPECT_TRUE(IsMapped(m));
  EXPECT_TRUE(IsMapped(ptr));
}

TEST_F(MremapTest, MustMove_Copy) {
  const uint64_t src = MmapAnon(kPageSize, kProtNone, kMapShared);
  const uint64_t dst = MmapAnon(kPageSize, kProtNone, kMapPrivate);
  uint64_t ptr = 0;
  ASSERT_OK(Mremap(src, 0, kPageSize, kMremapMayMove | kMremapFixed, dst, &ptr));
  EXPECT_EQ(ptr, dst);
  EXPECT_TRUE(IsMapped(src));
  EXPECT_TRUE(IsMapped(dst));
}

TEST_F(MremapTest, ExpansionPreservesCOWPagesAndExposesNewFilePages) {
  // A file with 3 pages: 'a', 'b' and 'c'.
  PutFile("/file", std::string(kPageSize, 'a') + std::string(kPageSize, 'b') + std::string(kPageSize, 'c'));
  // A private mapping of the first 2 pages; the second filled with 'd'.
  uint64_t src = 0;
  ASSERT_OK(MmapStatus(0, 2 * kPageSize, kRW, kMapPrivate, "/file", 0, &src));
  Fill(src + kPageSize, kPageSize, 'd');
  // Moving the mapping while expanding it to 3 pages gives the file's first
  // page, the private copy of the second, then the file's third page.
  const uint64_t dst = MmapAnon(3 * kPageSize, kProtNone, kMapPrivate);
  uint64_t addr = 0;
  ASSERT_OK(Mremap(src, 2 * kPageSize, 3 * kPageSize, kMremapMayMove | kMremapFixed, dst, &addr));
  EXPECT_EQ(addr, dst);
  EXPECT_TRUE(AllBytesAre(dst, kPageSize, 'a'));
  EXPECT_TRUE(AllBytesAre(dst + kPageSize, kPageSize, 'd'));
  EXPECT_TRUE(AllBytesAre(dst + 2 * kPageSize, kPageSize, 'c'));
}

using MremapDeathTest = GvisorTest;

TEST_F(MremapDeathTest, SharedAnon) {
  // Reserve 4 pages of address space.
  const uint64_t reserved = MmapAnon(4 * kPageSize, kProtNone, kMapPrivate);
  // A 2-page shared anonymous mapping at the start of the reservation: 'a'
  // in the first page, 'b' in the second.
  uint64_t m = 0;
  ASSERT_OK(MmapAnonStatus(2 * kPageSize, kRW, kMapShared | kMapFixed, &m, reserved));
  ASSERT_EQ(m, reserved);
  Fill(m, kPageSize, 'a');
  Fill(m + kPageSize, kPageSize, 'b');
  // Shrink the mapping to 1 page in place.
  uint64_t addr = 0;
  ASSERT_OK(Mremap(m, 2 * kPageSize, kPageSize, 0, m, &addr));
  ASSERT_EQ(addr, m);
  // Expand it to 3 pages, moving it forward by 1 page (old and new may not
  // overlap).
  const uint64_t new_m = m + kPageSize;
  ASSERT_OK(Mremap(m, kPageSize, 3 * kPageSize, kMremapMayMove | kMremapFixed, new_m, &addr));
  ASSERT_EQ(addr, new_m);
  // The first 2 pages still hold what was written (shrinking kept the
  // object's second page); the third is past the shared object: SIGBUS.
  EXPECT_TRUE(AllBytesAre(new_m, kPageSize, 'a'));
  EXPECT_TRUE(AllBytesAre(new_m + kPageSize, kPageSize, 'b'));
  EXPECT_FAULT(ReadStatus(pid_, new_m + 2 * kPageSize, kPageSize), kBusError, new_m + 2 * kPageSize);
}

}  // namespace
}  // namespace memserver::gvisor
