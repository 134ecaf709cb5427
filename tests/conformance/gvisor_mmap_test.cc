// gVisor test/syscalls/linux/mmap.cc, ported: 74 of its 89 TESTs, Linux's
// results. Not applicable (GVISOR.md has the reasons): MapPipe,
// MapDevZeroSharedFdNoPersistence, MapCharDevice, MapDirectory, ProtExec,
// NoProtExecDeath, WritePrivateOnReadOnlyFd, WriteSharedOnReadOnlyFd,
// MmapFileWithOpath, WriteOnlyFd, InternalSigBus, InternalSigBusZeroing,
// SelfRead, SelfWrite, MapReadOnlyAfterCreateWriteOnly.
// This file: anonymous memory; file mappings are in gvisor_mmap_file_test.cc.
#include "tests/conformance/gvisor_mmap_fixture.h"

namespace memserver::gvisor {
namespace {

// /dev/zero mapped shared is shmem on Linux, privately it is anonymous
// memory: here both are MAP_ANONYMOUS.
TEST_F(MMapTest, MapDevZeroShared) { ASSERT_OK(Map(0, kPageSize, kRW, kSharedAnon)); }

TEST_F(MMapTest, MapDevZeroPrivate) { ASSERT_OK(Map(0, kPageSize, kRW, kPrivAnon)); }

TEST_F(MMapTest, MapDevZeroNoPersistence) {
  // Two independent mappings of /dev/zero do not share a "backing file".
  ASSERT_OK(Map(0, kPageSize, kRW, kSharedAnon));
  uint64_t second = 0;
  ASSERT_OK(MmapAnonStatus(kPageSize, kRW, kMapShared, &second));
  ASSERT_NE(second, addr_);
  EXPECT_TRUE(AllBytesAre(addr_, kPageSize, '\0'));
  Fill(addr_, kPageSize, '\xff');
  EXPECT_TRUE(AllBytesAre(addr_, kPageSize, '\xff'));
  EXPECT_TRUE(AllBytesAre(second, kPageSize, '\0'));
}

TEST_F(MMapTest, MapDevZeroSharedMultiplePages) {
  ASSERT_OK(Map(0, 2 * kPageSize, kRW, kPrivAnon));  // gVisor maps it MAP_PRIVATE
  EXPECT_TRUE(AllBytesAre(addr_, 2 * kPageSize, '\0'));
  Fill(addr_, 2 * kPageSize, '\xff');
  EXPECT_TRUE(AllBytesAre(addr_, 2 * kPageSize, '\xff'));
}

TEST_F(MMapTest, MapDevZeroSegfaultAfterUnmap) {
  ASSERT_OK(Map(0, kPageSize, kRW, kSharedAnon));
  const uint64_t saved = addr_;
  ASSERT_OK(Unmap());
  EXPECT_FAULT(WriteStatus(pid_, saved, 4), kMapError, saved);
}

TEST_F(MMapTest, MapDevZeroUnaligned) {
  const uint64_t size = kPageSize + kPageSize / 2;
  ASSERT_OK(Map(0, size, kRW, kSharedAnon));
  EXPECT_TRUE(AllBytesAre(addr_, size, '\0'));
  ASSERT_OK(Unmap());
  ASSERT_OK(Map(0, size, kRW, kPrivAnon));
  EXPECT_TRUE(AllBytesAre(addr_, size, '\0'));
}

TEST_F(MMapTest, MapAnything) {
  ASSERT_OK(Map(0, kPageSize, kProtNone, kPrivAnon));
  EXPECT_GT(addr_, 0u);
}

TEST_F(MMapTest, SmallMap) { EXPECT_OK(Map(0, 128, kProtNone, kPrivAnon)); }

TEST_F(MMapTest, HintAddress) { EXPECT_OK(Map(0x30000000, kPageSize, kProtNone, kPrivAnon)); }

TEST_F(MMapTest, MapFixed) {
  ASSERT_OK(Map(0x30000000, kPageSize, kProtNone, kPrivAnon | kMapFixed));
  EXPECT_EQ(addr_, 0x30000000u);
}

TEST_F(MMapTest, MapFixed64) {
  ASSERT_OK(Map(0x300000000000, kPageSize, kProtNone, kPrivAnon | kMapFixed));
  EXPECT_EQ(addr_, 0x300000000000u);
}

TEST_F(MMapTest, MapFixedNoReplaceEmpty) {
  ASSERT_OK(Map(0x30000000, kPageSize, kProtNone, kPrivAnon | kMapFixedNoReplace));
  EXPECT_EQ(addr_, 0x30000000u);
}

TEST_F(MMapTest, MapFixedNoReplaceExisting) {
  ASSERT_OK(Map(0x30000000, kPageSize, kRW, kPrivAnon | kMapFixed));
  const std::string sentinel("\xef\xbe\xad\xde", 4);  // 0xdeadbeef
  WriteBytes(pid_, addr_, sentinel);
  uint64_t other = 0;
  EXPECT_ERRNO(MmapStatus(0x30000000, kPageSize, kProtNone, kPrivAnon | kMapFixedNoReplace, "", 0, &other),
               kAlreadyExists, "EEXIST");
  EXPECT_EQ(ReadBytes(pid_, addr_, 4), sentinel);
}

TEST_F(MMapTest, MapFixedNoReplacePartialOverlap) {
  ASSERT_OK(Map(0x30001000, kPageSize, kProtNone, kPrivAnon | kMapFixed));
  uint64_t other = 0;
  EXPECT_ERRNO(MmapStatus(0x30000000, 2 * kPageSize, kProtNone, kPrivAnon | kMapFixedNoReplace, "", 0, &other),
               kAlreadyExists, "EEXIST");
}

TEST_F(MMapTest, MapFixedNoReplaceWithMapFixed) {
  ASSERT_OK(Map(0x30000000, kPageSize, kProtNone, kPrivAnon | kMapFixed));
  uint64_t other = 0;
  EXPECT_ERRNO(MmapStatus(0x30000000, kPageSize, kProtNone, kPrivAnon | kMapFixed | kMapFixedNoReplace, "", 0, &other),
               kAlreadyExists, "EEXIST");
}

TEST_F(MMapTest, MapFixedNoReplaceAlignment) {
  EXPECT_ERRNO(Map(0x30000001, kPageSize, kProtNone, kPrivAnon | kMapFixedNoReplace), kInvalidArgument, "EINVAL");
}

TEST_F(MMapTest, MapStack) { EXPECT_OK(Map(0, kPageSize, kProtNone, kPrivAnon | kMapStack)); }

TEST_F(MMapTest, MapLocked) { EXPECT_OK(Map(0, kPageSize, kProtNone, kPrivAnon | kMapLocked)); }

TEST_F(MMapTest, NotPrivateOrShared) {
  EXPECT_ERRNO(Map(0, kPageSize, kProtNone, kMapAnonymous), kInvalidArgument, "EINVAL");
}

TEST_F(MMapTest, PrivateAndShared) {
  EXPECT_ERRNO(Map(0, kPageSize, kProtNone, kMapPrivate | kMapShared | kMapAnonymous), kInvalidArgument, "EINVAL");
}

TEST_F(MMapTest, FixedAlignment) {
  EXPECT_ERRNO(Map(0x30000001, kPageSize, kProtNone, kPrivAnon | kMapFixed), kInvalidArgument, "EINVAL");
}

TEST_F(MMapTest, NonFixedAlignment) { EXPECT_OK(Map(0x30000001, kPageSize, kProtNone, kPrivAnon)); }

TEST_F(MMapTest, InvalidLength) { EXPECT_ERRNO(Map(0, 0, kProtNone, kPrivAnon), kInvalidArgument, "EINVAL"); }

TEST_F(MMapTest, BadFd) {
  // No file descriptors: a file mapping names no file.
  path_ = "";
  EXPECT_ERRNO(Map(0, kPageSize, kProtNone, kMapPrivate), kInvalidArgument, "EBADF");
}

TEST_F(MMapTest, ProtWrite) {
  ASSERT_OK(Map(0, kPageSize, kRW, kPrivAnon));
  Fill(addr_, kPageSize, 42);
  EXPECT_TRUE(AllBytesAre(addr_, 4, 42));
}

TEST_F(MMapTest, ProtWriteOnly) {
  // "Write-only" mappings are writable *and* readable.
  ASSERT_OK(Map(0, kPageSize, kProtWrite, kPrivAnon));
  Fill(addr_, kPageSize, 42);
  EXPECT_TRUE(AllBytesAre(addr_, 4, 42));
}

TEST_F(MMapTest, ProtWriteOnlyReadable) {
  // Readable even when the first access is a read.
  ASSERT_OK(Map(0, kPageSize, kProtWrite, kPrivAnon));
  EXPECT_TRUE(AllBytesAre(addr_, 8, '\0'));
}

TEST_F(MMapTest, ProtectProtWrite) {
  ASSERT_OK(Map(0, kPageSize, kProtNone, kPrivAnon));
  ASSERT_OK(Mprotect(addr_, kPageSize, kRW));
  Fill(addr_, kPageSize, 42);
  EXPECT_TRUE(AllBytesAre(addr_, 4, 42));
}

TEST_F(MMapTest, ProtNoneDeath) {
  ASSERT_OK(Map(0, kPageSize, kProtNone, kPrivAnon));
  EXPECT_FAULT(ReadStatus(pid_, addr_, 4), kAccessError, addr_);
}

TEST_F(MMapTest, ReadOnlyDeath) {
  ASSERT_OK(Map(0, kPageSize, kProtRead, kPrivAnon));
  EXPECT_FAULT(WriteStatus(pid_, addr_, 4), kAccessError, addr_);
}

TEST_F(MMapTest, MprotectReadOnlyDeath) {
  ASSERT_OK(Map(0, kPageSize, kRW, kPrivAnon));
  Fill(addr_, 4, 42);  // page it in
  ASSERT_OK(Mprotect(addr_, kPageSize, kProtRead));
  EXPECT_FAULT(WriteStatus(pid_, addr_, 4), kAccessError, addr_);
  EXPECT_TRUE(AllBytesAre(addr_, 4, 42));
}

TEST_F(MMapTest, MprotectNotPageAligned) {
  ASSERT_OK(Map(0, kPageSize, kRW, kPrivAnon));
  EXPECT_ERRNO(Mprotect(addr_ + 1, kPageSize - 1, kProtRead), kInvalidArgument, "EINVAL");
}

TEST_F(MMapTest, MprotectProtNone) {
  ASSERT_OK(Map(0, kPageSize, kRW, kPrivAnon));
  Fill(addr_, 1, 1);  // ensure the page is present
  ASSERT_OK(Mprotect(addr_, kPageSize, kProtNone));
  EXPECT_FAULT(ReadStatus(pid_, addr_, 1), kAccessError, addr_);  // si_code SEGV_ACCERR
}

TEST_F(MMapTest, MprotectHugeLength) {
  ASSERT_OK(Map(0, kPageSize, kRW, kPrivAnon));
  // Linux's errno; the status says the request itself is malformed.
  EXPECT_ERRNO(Mprotect(addr_, std::numeric_limits<uint64_t>::max(), kProtRead), kInvalidArgument, "ENOMEM");
}

TEST_F(MMapTest, NoExceedLimitData) {
  uint64_t prevbrk = 0, now = 0;
  ASSERT_OK(engine().Sbrk(pid_, 0, &prevbrk));
  ProcessLimits l = Limits();
  l.data = kUnlimited;
  SetLimits(l);
  EXPECT_OK(engine().Brk(pid_, prevbrk + 1, &now));
  EXPECT_EQ(now, prevbrk + 1);
}

TEST_F(MMapTest, ExceedLimitData) {
  uint64_t prevbrk = 0, now = 0;
  ASSERT_OK(engine().Sbrk(pid_, 0, &prevbrk));
  ProcessLimits l = Limits();
  l.data = 0;  // setrlimit(RLIMIT_DATA, 0)
  SetLimits(l);
  EXPECT_ERRNO(engine().Brk(pid_, prevbrk + 8192, &now), kResourceExhausted, "ENOMEM");
}

TEST_F(MMapTest, ExceedLimitDataPrlimit) {
  // prlimit(0, ...) and setrlimit are both SetLimits of the process.
  uint64_t prevbrk = 0, now = 0;
  ASSERT_OK(engine().Sbrk(pid_, 0, &prevbrk));
  ProcessLimits l;
  ASSERT_OK(engine().GetLimits(pid_, &l));
  l.data = 0;
  ASSERT_OK(engine().SetLimits(pid_, l));
  EXPECT_ERRNO(engine().Brk(pid_, prevbrk + 8192, &now), kResourceExhausted, "ENOMEM");
}

TEST_F(MMapTest, ExceedLimitDataPrlimitPID) {
  // prlimit of an explicit pid: SetLimits names the pid in every case;
  // another process's limit stays.
  const Pid other = NewProcess("other");
  uint64_t prevbrk = 0, now = 0;
  ASSERT_OK(engine().Sbrk(pid_, 0, &prevbrk));
  ProcessLimits l = Limits();
  l.data = 0;
  ASSERT_OK(engine().SetLimits(pid_, l));
  EXPECT_ERRNO(engine().Brk(pid_, prevbrk + 8192, &now), kResourceExhausted, "ENOMEM");
  ASSERT_OK(engine().Sbrk(other, 0, &prevbrk));
  EXPECT_OK(engine().Brk(other, prevbrk + 8192, &now));
}

TEST_F(MMapTest, NoExceedLimitAS) {
  constexpr uint64_t kAllocBytes = 200 << 20;
  constexpr uint64_t kExtraASBytes = kAllocBytes + (20 << 20);
  ProcessLimits l = Limits();
  l.as = Stats(pid_).virtual_bytes + kExtraASBytes;
  SetLimits(l);
  ASSERT_OK(Map(0, kAllocBytes, kProtNone, kPrivAnon));
  EXPECT_GT(addr_, 0u);
}

TEST_F(MMapTest, ExceedLimitAS) {
  constexpr uint64_t kAllocBytes = 200 << 20;
  constexpr uint64_t kExtraASBytes = 20 << 20;
  ProcessLimits l = Limits();
  l.as = Stats(pid_).virtual_bytes + kExtraASBytes;
  SetLimits(l);
  EXPECT_ERRNO(Map(0, kAllocBytes, kProtNone, kPrivAnon), kResourceExhausted, "ENOMEM");
}

TEST_F(MMapTest, SettingProtNoneDoesntFreeMemory) {
  ASSERT_OK(Map(0, kPageSize, kRW, kPrivAnon));
  Fill(addr_, kPageSize, 42);
  ASSERT_OK(Mprotect(addr_, kPageSize, kProtNone));
  ASSERT_OK(Mprotect(addr_, kPageSize, kRW));
  EXPECT_TRUE(AllBytesAre(addr_, 4, 42));
}

TEST_F(MMapTest, HugeLength) {
  EXPECT_ERRNO(Map(0, static_cast<uint64_t>(-kPageSize + 1), kProtNone, kPrivAnon), kResourceExhausted, "ENOMEM");
}

TEST_F(MMapTest, AccessCOWInvalidatesCachedSegments) {
  // A two-page private mapping of 1s, made copy-on-write by a fork.
  ASSERT_OK(Map(0, 2 * kPageSize, kRW, kPrivAnon));
  Fill(addr_, 2 * kPageSize, 1);
  const Pid child = ForkOf(pid_);
  // A read of the first page (gVisor: pwrite from it to a file) ...
  std::string page;
  ASSERT_OK(ReadInto(pid_, addr_, kPageSize, &page));
  PutFile(path_, page);
  // ... a write of both pages (pread from /dev/zero into them), which
  // copies them ...
  WriteBytes(pid_, addr_, std::string(2 * kPageSize, '\0'));
  // ... and the first page read again holds the zeros, not the stale 1s.
  ASSERT_OK(ReadInto(pid_, addr_, kPageSize, &page));
  PutFile(path_, page);
  EXPECT_EQ(FileContents(path_), std::string(kPageSize, '\0'));
  EXPECT_TRUE(AllBytesAre(child, addr_, 2 * kPageSize, 1));  // the child keeps its copy
}

TEST_F(MMapTest, NoReserve) {
  const uint64_t kSize = 10 << 20;
  ASSERT_OK(Map(0, kSize, kRW, kPrivAnon | kMapNoReserve));
  EXPECT_GT(addr_, 0u);
  for (uint64_t j = 0; j < kSize; j += kPageSize) {
    EXPECT_EQ(ReadBytes(pid_, addr_ + j, 1), std::string(1, '\0'));
    WriteBytes(pid_, addr_ + j, std::string(1, static_cast<char>(j)));
  }
}

using MMapNoFixtureTest = GvisorTest;

TEST_F(MMapNoFixtureTest, Map32Bit) {
  uint64_t addr = 0;
  ASSERT_OK(MmapAnonStatus(kPageSize, kProtNone, kMapPrivate | kMap32Bit, &addr));
  EXPECT_LT(addr, 1ull << 32);
  EXPECT_LE(addr + kPageSize, 1ull << 32);
}

}  // namespace
}  // namespace memserver::gvisor
