// gVisor test/syscalls/linux/munmap.cc, ported: every TEST (3).
#include "tests/conformance/gvisor_fixture.h"

namespace memserver::gvisor {
namespace {

class MunmapTest : public GvisorTest {
 protected:
  void SetUp() override {
    GvisorTest::SetUp();
    m_ = MmapAnon(kPageSize, kRW, kMapPrivate);
    ASSERT_NE(m_, 0u);
  }
  uint64_t m_ = 0;
};

TEST_F(MunmapTest, HappyCase) { EXPECT_OK(Munmap(m_, kPageSize)); }

TEST_F(MunmapTest, ZeroLength) { EXPECT_ERRNO(Munmap(m_, 0), kInvalidArgument, "EINVAL"); }

TEST_F(MunmapTest, LastPageRoundUp) {
  // Attempt to unmap up to and including the last page.
  EXPECT_ERRNO(Munmap(m_, static_cast<uint64_t>(-kPageSize + 1)), kInvalidArgument, "EINVAL");
}

}  // namespace
}  // namespace memserver::gvisor
