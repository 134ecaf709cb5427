// gVisor test/syscalls/linux/fork.cc, ported: the 7 of its 24 TESTs that
// are about memory. Not applicable (GVISOR.md): ForkTest.ExitCode (Exit
// takes no status and nothing waits), ForkTest.Pipe (no pipes),
// ForkTest.Cpuid, ForkTest.Alarm, ForkTest.SigAltStack, ForkTest.Affinity
// (no CPU, signals or scheduler: a process is an address space), and the
// eleven CloneTest cases (no clone flags, threads or namespaces).
//
// gVisor's fixture gives every test a shared and a private anonymous page;
// its child waits on a pipe for the parent's write, which here is simply
// the order of the calls.
#include <atomic>
#include <thread>

#include "tests/conformance/gvisor_fixture.h"

namespace memserver::gvisor {
namespace {

class ForkTest : public GvisorTest {
 protected:
  void SetUp() override {
    GvisorTest::SetUp();
    shared_ = MmapAnon(kPageSize, kRW, kMapShared);
    private_ = MmapAnon(kPageSize, kRW, kMapPrivate);
    ASSERT_NE(shared_, 0u);
    ASSERT_NE(private_, 0u);
  }
  void TearDown() override {
    EXPECT_OK(Munmap(shared_, kPageSize));
    EXPECT_OK(Munmap(private_, kPageSize));
    GvisorTest::TearDown();
  }
  bool Alive(Pid pid) {
    for (const ProcessStats& p : engine().ListProcesses()) {
      if (p.pid == pid) return true;
    }
    return false;
  }
  char ByteAt(Pid pid, uint64_t addr) {
    const std::string b = ReadBytes(pid, addr, 1);
    return b.empty() ? '?' : b[0];
  }

  uint64_t shared_ = 0;
  uint64_t private_ = 0;
};

TEST_F(ForkTest, Simple) {
  const Pid child = ForkOf(pid_);
  ASSERT_NE(child, 0u);
  EXPECT_TRUE(Alive(child));
  EXPECT_OK(engine().Exit(child));
  EXPECT_FALSE(Alive(child));
  EXPECT_TRUE(Alive(pid_));
}

TEST_F(ForkTest, Multi) {
  const Pid child1 = ForkOf(pid_);
  const Pid child2 = ForkOf(pid_);
  ASSERT_NE(child1, child2);
  EXPECT_OK(engine().Exit(child1));
  EXPECT_TRUE(Alive(child2));
  EXPECT_OK(engine().Exit(child2));
  EXPECT_TRUE(Alive(pid_));
}

TEST_F(ForkTest, SharedMapping) {
  const Pid child = ForkOf(pid_);
  // Change the mapping in the parent; the child sees it.
  ASSERT_EQ(ByteAt(pid_, shared_), 0);
  WriteBytes(pid_, shared_, std::string(1, 1));
  EXPECT_EQ(ByteAt(child, shared_), 1);
}

TEST_F(ForkTest, PrivateMapping) {
  const Pid child = ForkOf(pid_);
  // Change the mapping in the parent; the child does not see it.
  ASSERT_EQ(ByteAt(pid_, private_), 0);
  WriteBytes(pid_, private_, std::string(1, 1));
  EXPECT_EQ(ByteAt(child, private_), 0);
}

TEST_F(ForkTest, Mmap) {
  const Pid child = ForkOf(pid_);
  uint64_t addr = 0;
  MmapArgs a;
  a.length = kPageSize;
  a.prot = kProtRead;
  EXPECT_OK(engine().Mmap(child, a, &addr));
  EXPECT_FALSE(IsMapped(addr));  // the child's mapping is the child's
}

TEST_F(ForkTest, PrivateMemory) {
  // gVisor's `local` is a counter in private memory, incremented by a child
  // and a grandchild.
  const Pid child1 = ForkOf(pid_);
  WriteBytes(child1, private_, std::string(1, static_cast<char>(ByteAt(child1, private_) + 1)));
  const Pid child2 = ForkOf(child1);
  WriteBytes(child2, private_, std::string(1, static_cast<char>(ByteAt(child2, private_) + 1)));
  EXPECT_EQ(ByteAt(child2, private_), 2);
  EXPECT_OK(engine().Exit(child2));
  EXPECT_EQ(ByteAt(child1, private_), 1);
  EXPECT_OK(engine().Exit(child1));
  EXPECT_EQ(ByteAt(pid_, private_), 0);
}

TEST_F(ForkTest, COWSegment) {
  // A buffer the "kernel" fills (gVisor: a blocked read from a pipe) stays
  // coherent across copy-on-write: a fork and a write to the same page by
  // another thread while a reader keeps reading it.
  constexpr uint64_t kBufSize = 1024;
  const uint64_t read_buf = private_;
  const uint64_t touch = private_ + kPageSize / 2;
  const std::string contents(kBufSize, 'a');
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!stop) {
      std::string got;
      if (!ReadInto(pid_, read_buf, kBufSize, &got).ok()) continue;
      if (got != std::string(kBufSize, '\0') && got != contents) ++torn;
    }
  });
  Pid child = 0;
  {
    // Fork to mark the private page copy-on-write, then break it.
    child = ForkOf(pid_);
    WriteBytes(pid_, touch, std::string(1, 42));
    // The "pipe data" arriving in the buffer after the copy.
    WriteBytes(pid_, read_buf, contents);
  }
  stop = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0) << "a reader saw a buffer that was neither before nor after";
  EXPECT_EQ(ReadBytes(pid_, read_buf, kBufSize), contents);
  EXPECT_EQ(ByteAt(pid_, touch), 42);
  EXPECT_EQ(ReadBytes(child, read_buf, kBufSize), std::string(kBufSize, '\0'));  // the child keeps the old page
  EXPECT_OK(engine().Exit(child));
}

}  // namespace
}  // namespace memserver::gvisor
