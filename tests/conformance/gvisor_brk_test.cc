// gVisor test/syscalls/linux/brk.cc, ported: its one TEST.
//
// The raw brk(2) system call answers a break it cannot set with the old
// break; the Brk call models glibc's brk(), which reports that as ENOMEM.
// Both halves hold here: the call fails with ENOMEM and its result is the
// old break.
#include "tests/conformance/gvisor_fixture.h"

namespace memserver::gvisor {
namespace {

using BrkTest = GvisorTest;

TEST_F(BrkTest, BrkSyscallReturnsOldBrkOnFailure) {
  uint64_t old_brk = 0;
  ASSERT_OK(engine().Sbrk(pid_, 0, &old_brk));
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Brk(pid_, static_cast<uint64_t>(-1), &result), kResourceExhausted, "ENOMEM");
  EXPECT_EQ(result, old_brk);
  ASSERT_OK(engine().Brk(pid_, 0, &result));  // and the break did not move
  EXPECT_EQ(result, old_brk);
}

}  // namespace
}  // namespace memserver::gvisor
