// GvisorTest: the base of the tests ported from gVisor's test/syscalls/linux/
// (mmap.cc, mremap.cc, mlock.cc, brk.cc, madvise.cc, msync.cc, munmap.cc,
// fork.cc). Each ported TEST keeps its gVisor suite and test name and
// asserts what Linux does, through the engine API, on one process.
//
// How gVisor's means map onto the engine (tests/conformance/GVISOR.md lists
// every case, ported or not and why):
//   - a memory access is Read/Write of the process: a SIGSEGV or SIGBUS
//     "death" is a FAILED_PRECONDITION status with the fault kind and
//     address (EXPECT_FAULT);
//   - a file descriptor is a path in the file store: write(2)/pread(2) are
//     WriteFile/ReadFile, ftruncate is TruncateFile; /dev/zero is
//     MAP_ANONYMOUS (Linux maps /dev/zero shared as shmem, privately as
//     anonymous memory);
//   - InForkedProcess (there only to keep other threads from mapping) is
//     the process itself, or a Fork of it where the test is about fork;
//   - setrlimit and prlimit are SetLimits; /proc/self/statm's size is
//     ProcessStats::virtual_bytes;
//   - IsMapped is "some mapping contains the address" (ListMappings);
//     IsPageMlocked is gVisor's own probe, msync(MS_ASYNC | MS_INVALIDATE)
//     failing with EBUSY.
#pragma once

#include "tests/conformance/conformance_fixture.h"

namespace memserver::gvisor {

using conformance::ConformanceTest;

inline constexpr uint64_t kPageSize = 4096;

class GvisorTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(1024);
    pid_ = NewProcess("gvisor");
  }

  // mmap(nullptr, length, prot, flags | MAP_ANONYMOUS, -1, 0); 0 on failure.
  uint64_t MmapAnon(uint64_t length, uint32_t prot, uint32_t flags) {
    return Map(pid_, length, prot, flags | kMapAnonymous);
  }
  Status MmapAnonStatus(uint64_t length, uint32_t prot, uint32_t flags, uint64_t* addr, uint64_t hint = 0) {
    MmapArgs a;
    a.addr = hint;
    a.length = length;
    a.prot = prot;
    a.flags = flags | kMapAnonymous;
    return engine().Mmap(pid_, a, addr);
  }
  Status MmapStatus(uint64_t hint, uint64_t length, uint32_t prot, uint32_t flags, const std::string& path,
                    uint64_t offset, uint64_t* addr) {
    MmapArgs a;
    a.addr = hint;
    a.length = length;
    a.prot = prot;
    a.flags = flags;
    a.path = path;
    a.offset = offset;
    return engine().Mmap(pid_, a, addr);
  }
  Status Mremap(uint64_t old_addr, uint64_t old_size, uint64_t new_size, uint32_t flags, uint64_t new_addr,
                uint64_t* result) {
    return engine().Mremap(pid_, old_addr, old_size, new_size, flags, new_addr, result);
  }
  Status Munmap(uint64_t addr, uint64_t length) { return engine().Munmap(pid_, addr, length); }
  Status Mprotect(uint64_t addr, uint64_t length, uint32_t prot) {
    return engine().Mprotect(pid_, addr, length, prot);
  }

  bool IsMapped(uint64_t addr) { return IsMappedIn(pid_, addr); }
  bool IsMappedIn(Pid pid, uint64_t addr) { return MappingAt(pid, addr).end != 0; }
  bool IsPageMlocked(uint64_t addr) { return IsPageMlockedIn(pid_, addr); }
  bool IsPageMlockedIn(Pid pid, uint64_t addr) {
    const Status s = engine().Msync(pid, addr & ~(kPageSize - 1), kPageSize, kMsAsync | kMsInvalidate);
    if (s.ok()) return false;
    EXPECT_EQ(s.errno_name(), "EBUSY") << "msync failed with an unexpected errno: " << s.ToString();
    return true;
  }

  // Every byte of [addr, addr + length) is `c`.
  bool AllBytesAre(Pid pid, uint64_t addr, uint64_t length, char c) {
    return Matches(ReadChunked(pid, addr, length), std::string(length, c), addr);
  }
  bool AllBytesAre(uint64_t addr, uint64_t length, char c) { return AllBytesAre(pid_, addr, length, c); }
  // Writes `c` over [addr, addr + length), in calls of at most 1 MiB.
  void Fill(Pid pid, uint64_t addr, uint64_t length, char c) {
    for (uint64_t done = 0; done < length;) {
      const uint64_t n = std::min<uint64_t>(length - done, 1ull << 20);
      WriteBytes(pid, addr + done, std::string(n, c));
      done += n;
    }
  }
  void Fill(uint64_t addr, uint64_t length, char c) { Fill(pid_, addr, length, c); }

  ProcessLimits Limits() {
    ProcessLimits l;
    EXPECT_OK(engine().GetLimits(pid_, &l));
    return l;
  }
  void SetLimits(const ProcessLimits& l) { ASSERT_OK(engine().SetLimits(pid_, l)); }

  Pid pid_ = 0;
};

}  // namespace memserver::gvisor
