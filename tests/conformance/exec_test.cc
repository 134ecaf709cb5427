// execve(2)'s memory half: how an ELF64 image is mapped (text shared through
// the page cache, data copy-on-write, bss zero, heap after the image, a
// stack at the top that grows down), and that a bad image changes nothing.
#include <elf.h>

#include "tests/conformance/conformance_fixture.h"
#include "tests/conformance/elf_builder.h"

namespace memserver::conformance {
namespace {

using L = StandardLayout;

class ExecTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(1024);
  }

  // Uploads `file` to `path` and execs it in a new process.
  Pid ExecNew(const std::string& path, const std::string& file, ExecImage* image) {
    PutFile(path, file);
    const Pid pid = NewProcess(path);
    const Status s = engine().Exec(pid, path, image);
    if (!s.ok()) ADD_FAILURE() << "Exec(" << path << "): " << s.ToString();
    return pid;
  }

  // Exec of `bad` must fail with ENOEXEC and leave a process that already
  // ran the standard image, plus an anonymous mapping, exactly as it was.
  void ExpectRejected(const std::string& bad) {
    const std::string good = BuildElf(L::Spec());
    ExecImage image;
    const Pid pid = ExecNew("/bin/good", good, &image);
    const uint64_t anon = Map(pid, 2 * kPage);
    WritePattern(pid, 1, anon, 2 * kPage);
    const std::vector<MappingInfo> before = Mappings(pid);

    PutFile("/bin/bad", bad);
    ExecImage ignored;
    const Status s = engine().Exec(pid, "/bin/bad", &ignored);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_EQ(s.errno_name(), "ENOEXEC") << s.ToString();

    const std::vector<MappingInfo> after = Mappings(pid);
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < after.size(); ++i) {
      EXPECT_EQ(after[i].start, before[i].start);
      EXPECT_EQ(after[i].end, before[i].end);
      EXPECT_EQ(after[i].prot, before[i].prot);
      EXPECT_EQ(after[i].backing, before[i].backing);
    }
    EXPECT_TRUE(HasPattern(pid, 1, anon, 2 * kPage));
    EXPECT_EQ(ReadBytes(pid, L::kTextAddr, L::kTextSize), good.substr(0, L::kTextSize));
  }
};

TEST_F(ExecTest, MapsEachLoadSegmentWithItsPermissions) {
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", BuildElf(L::Spec()), &image);
  EXPECT_EQ(image.segments, 2u);
  EXPECT_EQ(image.entry, L::kEntry);
  EXPECT_EQ(image.load_base, L::kTextAddr);

  const MappingInfo text = MappingAt(pid, L::kTextAddr);
  EXPECT_EQ(text.start, L::kTextAddr);
  EXPECT_EQ(text.end, L::kTextAddr + L::kTextSize);
  EXPECT_EQ(text.prot, kProtRead | kProtExec);
  EXPECT_EQ(text.backing, "/bin/standard");
  EXPECT_EQ(text.offset, 0u);

  const MappingInfo data = MappingAt(pid, L::kDataAddr);
  EXPECT_EQ(data.start, L::kDataAddr);
  EXPECT_EQ(data.prot, kRW);
  EXPECT_EQ(data.backing, "/bin/standard");
  EXPECT_EQ(data.offset, L::kDataOffset);
  EXPECT_FALSE(data.flags & kMapShared);
  // The bss past the last file page is anonymous and writable.
  const MappingInfo bss = MappingAt(pid, L::kEnd - 1);
  EXPECT_EQ(bss.prot, kRW);
  EXPECT_EQ(bss.end, L::kEnd);
}

TEST_F(ExecTest, TextReadsTheFileContents) {
  const std::string file = BuildElf(L::Spec());
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", file, &image);
  EXPECT_EQ(ReadBytes(pid, L::kTextAddr, L::kTextSize), file.substr(0, L::kTextSize));
  EXPECT_EQ(ReadBytes(pid, L::kDataAddr, L::kDataFileSize), file.substr(L::kDataOffset, L::kDataFileSize));
}

TEST_F(ExecTest, WritingTextIsAnAccessError) {
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", BuildElf(L::Spec()), &image);
  EXPECT_FAULT(WriteStatus(pid, L::kTextAddr + 8), kAccessError, L::kTextAddr + 8);
}

TEST_F(ExecTest, DataIsPrivateCopyOnWrite) {
  const std::string file = BuildElf(L::Spec());
  ExecImage image;
  const Pid writer = ExecNew("/bin/standard", file, &image);
  const Pid other = NewProcess();
  ASSERT_OK(engine().Exec(other, "/bin/standard", &image));

  WriteBytes(writer, L::kDataAddr + 16, "private data");
  EXPECT_EQ(ReadBytes(writer, L::kDataAddr + 16, 12), "private data");
  EXPECT_EQ(ReadBytes(other, L::kDataAddr, L::kDataFileSize), file.substr(L::kDataOffset, L::kDataFileSize));
  EXPECT_EQ(FileContents("/bin/standard"), file);
  ExpectInvariants();
}

TEST_F(ExecTest, BssReadsZeroIncludingThePartialPageAfterFileData) {
  const std::string file = BuildElf(L::Spec());
  ASSERT_NE(file[L::kDataOffset + L::kDataFileSize], 0);  // the file has junk there
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", file, &image);
  EXPECT_TRUE(IsZero(pid, L::kBssAddr, L::kEnd - L::kBssAddr));
  // The last data byte from the file is intact right before the bss.
  EXPECT_EQ(ReadBytes(pid, L::kBssAddr - 1, 1), file.substr(L::kDataOffset + L::kDataFileSize - 1, 1));
  EXPECT_EQ(FileContents("/bin/standard"), file);  // zeroing did not reach the file
}

TEST_F(ExecTest, HeapStartsAfterTheHighestSegment) {
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", BuildElf(L::Spec()), &image);
  EXPECT_EQ(image.brk_start, L::kEnd);
  uint64_t brk = 0;
  ASSERT_OK(engine().Brk(pid, 0, &brk));
  EXPECT_EQ(brk, image.brk_start);
  uint64_t previous = 0;
  ASSERT_OK(engine().Sbrk(pid, 2 * kPage, &previous));
  EXPECT_EQ(previous, image.brk_start);
  const MappingInfo heap = MappingAt(pid, image.brk_start);
  EXPECT_EQ(heap.backing, "[heap]");
  EXPECT_EQ(heap.start, image.brk_start);
  WriteBytes(pid, image.brk_start + kPage, "heap");
}

TEST_F(ExecTest, StackIsMappedAtTheTop) {
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", BuildElf(L::Spec()), &image);
  EXPECT_GT(image.stack_top, image.stack_bottom);
  const MappingInfo stack = MappingAt(pid, image.stack_top - 1);
  EXPECT_EQ(stack.backing, "[stack]");
  EXPECT_EQ(stack.start, image.stack_bottom);
  EXPECT_EQ(stack.end, image.stack_top);
  EXPECT_EQ(stack.prot, kRW);
  WriteBytes(pid, image.stack_top - 8, "argv[0]!");
  EXPECT_TRUE(IsZero(pid, image.stack_bottom, kPage));
}

TEST_F(ExecTest, StackGrowsDownOnFaultWithinRlimitStack) {
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", BuildElf(L::Spec()), &image);
  const uint64_t below = image.stack_bottom - 64 * kPage;
  ASSERT_LT(image.stack_top - below, 8ull << 20);
  WriteBytes(pid, below, "grown");
  EXPECT_EQ(ReadBytes(pid, below, 5), "grown");
  const MappingInfo stack = MappingAt(pid, below);
  EXPECT_EQ(stack.backing, "[stack]");
  EXPECT_LE(stack.start, below);
  EXPECT_EQ(stack.end, image.stack_top);
}

TEST_F(ExecTest, StackGrowthBeyondRlimitStackIsMapError) {
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", BuildElf(L::Spec()), &image);
  ProcessLimits limits;
  ASSERT_OK(engine().GetLimits(pid, &limits));
  limits.stack = 1ull << 20;
  ASSERT_OK(engine().SetLimits(pid, limits));
  const uint64_t lowest = image.stack_top - limits.stack;  // the last page the stack may reach
  WriteBytes(pid, lowest, "edge");
  EXPECT_FAULT(WriteStatus(pid, lowest - 1), kMapError, lowest - 1);
  EXPECT_FAULT(ReadStatus(pid, lowest - kPage), kMapError, lowest - kPage);
}

TEST_F(ExecTest, ExecReplacesThePreviousImage) {
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", BuildElf(L::Spec()), &image);
  const uint64_t anon = Map(pid, kPage);
  WriteBytes(pid, anon, "old image");
  uint64_t previous = 0;
  ASSERT_OK(engine().Sbrk(pid, kPage, &previous));
  ASSERT_OK(engine().Exec(pid, "/bin/standard", &image));
  EXPECT_FAULT(ReadStatus(pid, anon), kMapError, anon);
  uint64_t brk = 0;
  ASSERT_OK(engine().Brk(pid, 0, &brk));
  EXPECT_EQ(brk, L::kEnd);
  EXPECT_FAULT(ReadStatus(pid, L::kEnd), kMapError, L::kEnd);
}

TEST_F(ExecTest, PositionIndependentImageLoadsAtABias) {
  ElfSpec spec;
  spec.type = ET_DYN;
  spec.entry = 0x1040;
  spec.segments.push_back(ElfSegment{PT_LOAD, PF_R | PF_X, 0, 0, 0x2000, 0x2000});
  spec.segments.push_back(ElfSegment{PT_LOAD, PF_R | PF_W, 0x3000, 0x2000, 0x100, 0x1000});
  const std::string file = BuildElf(spec);
  ExecImage image;
  const Pid pid = ExecNew("/bin/pie", file, &image);
  EXPECT_NE(image.load_base, 0u);
  EXPECT_EQ(image.load_base % kPage, 0u);
  EXPECT_EQ(image.entry, image.load_base + 0x1040);
  EXPECT_EQ(ReadBytes(pid, image.load_base, 0x2000), file.substr(0, 0x2000));
  EXPECT_EQ(ReadBytes(pid, image.load_base + 0x3000, 0x100), file.substr(0x2000, 0x100));
  EXPECT_TRUE(IsZero(pid, image.load_base + 0x3100, 0xf00));
  EXPECT_EQ(image.brk_start, image.load_base + 0x4000);
}

TEST_F(ExecTest, AArch64ImageIsAccepted) {
  ElfSpec spec = L::Spec();
  spec.machine = EM_AARCH64;
  ExecImage image;
  const Pid pid = ExecNew("/bin/arm", BuildElf(spec), &image);
  EXPECT_EQ(image.segments, 2u);
  EXPECT_EQ(MappingAt(pid, L::kTextAddr).backing, "/bin/arm");
}

TEST_F(ExecTest, MissingFileIsNotFound) {
  const Pid pid = NewProcess();
  ExecImage image;
  EXPECT_ERRNO(engine().Exec(pid, "/bin/missing", &image), kNotFound, "ENOENT");
}

TEST_F(ExecTest, RejectsTruncatedHeader) { ExpectRejected(BuildElf(L::Spec()).substr(0, 40)); }

TEST_F(ExecTest, RejectsElfClass32) {
  ElfSpec spec = L::Spec();
  spec.elf_class = ELFCLASS32;
  ExpectRejected(BuildElf(spec));
}

TEST_F(ExecTest, RejectsWrongMachine) {
  ElfSpec spec = L::Spec();
  spec.machine = EM_386;
  ExpectRejected(BuildElf(spec));
}

TEST_F(ExecTest, RejectsOverlappingSegments) {
  ElfSpec spec = L::Spec();
  spec.segments[1].vaddr = L::kTextAddr + 0x2000;  // inside the text
  spec.segments[1].offset = 0x2000;
  ExpectRejected(BuildElf(spec));
}

TEST_F(ExecTest, RejectsFileSizeLargerThanMemorySize) {
  ElfSpec spec = L::Spec();
  spec.segments[1].memsz = spec.segments[1].filesz - 1;
  ExpectRejected(BuildElf(spec));
}

TEST_F(ExecTest, RejectsSegmentPastTheEndOfTheFile) {
  ElfSpec spec = L::Spec();
  spec.file_size = L::kDataOffset + L::kDataFileSize - 1;
  ExpectRejected(BuildElf(spec));
}

TEST_F(ExecTest, RejectsAFileThatIsNotElf) { ExpectRejected("#!/bin/sh\necho hello\n" + std::string(4096, 'x')); }

TEST_F(ExecTest, RejectsAnImageWithoutLoadSegments) {
  ElfSpec spec = L::Spec();
  for (ElfSegment& s : spec.segments) s.type = PT_NOTE;
  ExpectRejected(BuildElf(spec));
}

// Real programs of this machine, uploaded in 1 MiB chunks and executed:
// every PT_LOAD's file bytes are where its header says.
class ExecRealBinaryTest : public ExecTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(ExecRealBinaryTest, LoadsEverySegmentAtItsAddress) {
  const std::string file = HostFile(GetParam());
  // Every Debian machine has these (coreutils, libc6): a missing one is a
  // broken test machine, not a reason to check nothing.
  ASSERT_FALSE(file.empty()) << GetParam() << " is not readable on this machine (coreutils/libc6 installed?)";
  const std::vector<Elf64_Phdr> loads = LoadHeaders(file);
  ASSERT_FALSE(loads.empty());
  ExecImage image;
  const Pid pid = ExecNew(GetParam(), file, &image);
  ASSERT_FALSE(::testing::Test::HasFailure());
  EXPECT_EQ(image.segments, loads.size());
  uint64_t lowest = ~0ull, highest = 0;
  for (const Elf64_Phdr& ph : loads) {
    lowest = std::min<uint64_t>(lowest, ph.p_vaddr & ~(kPage - 1));
    highest = std::max<uint64_t>(highest, (ph.p_vaddr + ph.p_memsz + kPage - 1) & ~(kPage - 1));
  }
  const uint64_t bias = image.load_base - lowest;
  Elf64_Ehdr eh;
  std::memcpy(&eh, file.data(), sizeof(eh));
  EXPECT_EQ(image.entry, eh.e_entry + bias);
  EXPECT_EQ(image.brk_start, highest + bias);
  for (const Elf64_Phdr& ph : loads) {
    const uint64_t at = ph.p_vaddr + bias;
    const MappingInfo m = MappingAt(pid, at);
    EXPECT_EQ(m.backing, GetParam()) << std::hex << "segment at " << ph.p_vaddr;
    const uint32_t prot = ((ph.p_flags & PF_R) ? kProtRead : 0) | ((ph.p_flags & PF_W) ? kProtWrite : 0) |
                          ((ph.p_flags & PF_X) ? kProtExec : 0);
    EXPECT_EQ(m.prot, prot) << std::hex << "segment at " << ph.p_vaddr;
    EXPECT_TRUE(Matches(ReadChunked(pid, at, ph.p_filesz), std::string_view(file).substr(ph.p_offset, ph.p_filesz),
                        at));
    if (ph.p_memsz > ph.p_filesz) {
      EXPECT_TRUE(IsZero(pid, at + ph.p_filesz, ph.p_memsz - ph.p_filesz));
    }
  }
  EXPECT_EQ(FileContents(GetParam()), file);
}

INSTANTIATE_TEST_SUITE_P(HostPrograms, ExecRealBinaryTest, ::testing::Values("/bin/true", "/bin/ls"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param).substr(5);
                         });

TEST_F(ExecTest, HundredProcessesShareOneCopyOfText) {
  constexpr uint64_t kTextPages = 32;
  const std::string file = BuildElf(TextOnlySpec(kTextPages));
  PutFile("/bin/shared", file);
  auto run = [&](Pid pid) {
    ExecImage image;
    EXPECT_OK(engine().Exec(pid, "/bin/shared", &image));
    for (uint64_t i = 0; i < kTextPages; ++i) ReadBytes(pid, 0x400000 + i * kPage, 8);  // touch every page
  };
  std::vector<Pid> pids{NewProcess()};
  run(pids[0]);
  const uint64_t one = FramesUsed();
  for (int i = 1; i < 100; ++i) {
    pids.push_back(NewProcess());
    run(pids.back());
  }
  const uint64_t hundred = FramesUsed();
  EXPECT_LT(hundred - one, 100 * kTextPages / 10) << "one process: " << one << " frames, 100: " << hundred;
  const MappingInfo text = MappingAt(pids[0], 0x400000);
  EXPECT_EQ(text.usage.rss, kTextPages * kPage);
  EXPECT_LE(text.usage.pss, text.usage.rss / 50);
  EXPECT_EQ(text.usage.uss, 0u);
  ExpectInvariants();
}

TEST_F(ExecTest, SegmentWithoutFileBytesIsMappedFromItsFirstPage) {
  ElfSpec spec = L::Spec();
  // A bss-only segment starting in the middle of a page (its offset is
  // congruent with its address, as linkers emit them).
  spec.segments.push_back(ElfSegment{PT_LOAD, PF_R | PF_W, 0x700800, 0x4800, 0, 0x2000});
  ExecImage image;
  const Pid pid = ExecNew("/bin/bss", BuildElf(spec), &image);
  EXPECT_EQ(image.brk_start, 0x703000u);
  EXPECT_EQ(MappingAt(pid, 0x700800).prot, kRW);
  EXPECT_TRUE(IsZero(pid, 0x700800, 0x2000));
  WriteBytes(pid, 0x700800, "bss start");
}

TEST_F(ExecTest, StackDoesNotGrowIntoTheGuardGapOfAMappingBelow) {
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", BuildElf(L::Spec()), &image);
  // A mapping 64 pages below the stack: growing close to it is refused
  // (Linux keeps stack_guard_gap between a stack and the mapping below).
  MmapArgs a;
  a.addr = image.stack_bottom - 64 * kPage;
  a.length = kPage;
  a.flags = kAnon | kMapFixed;
  uint64_t below = 0;
  ASSERT_OK(engine().Mmap(pid, a, &below));
  const uint64_t target = image.stack_bottom - 32 * kPage;
  EXPECT_FAULT(WriteStatus(pid, target), kMapError, target);
  EXPECT_EQ(MappingAt(pid, image.stack_top - 1).start, image.stack_bottom);
}

TEST_F(ExecTest, ExecRemovesMemoryLocks) {
  ExecImage image;
  const Pid pid = ExecNew("/bin/standard", BuildElf(L::Spec()), &image);
  const uint64_t at = Map(pid, 4 * kPage);
  ASSERT_OK(engine().Mlockall(pid, kMclCurrent | kMclFuture));
  ASSERT_GT(Stats(pid).locked_bytes, 0u);
  ASSERT_OK(engine().Exec(pid, "/bin/standard", &image));
  EXPECT_EQ(Stats(pid).locked_bytes, 0u);
  EXPECT_EQ(Stats(pid).usage.locked, 0u);
  const uint64_t later = Map(pid, kPage);  // MCL_FUTURE is gone too
  EXPECT_FALSE(MappingAt(pid, later).locked);
  EXPECT_FAULT(ReadStatus(pid, at), kMapError, at);
}

TEST_F(ExecTest, ExecKeepsResourceLimits) {
  const Pid pid = NewProcess();
  ProcessLimits limits;
  ASSERT_OK(engine().GetLimits(pid, &limits));
  limits.as = 1ull << 32;
  limits.stack = 1ull << 20;
  ASSERT_OK(engine().SetLimits(pid, limits));
  PutFile("/bin/standard", BuildElf(L::Spec()));
  ExecImage image;
  ASSERT_OK(engine().Exec(pid, "/bin/standard", &image));
  ProcessLimits after;
  ASSERT_OK(engine().GetLimits(pid, &after));
  EXPECT_EQ(after.as, 1ull << 32);
  EXPECT_EQ(after.stack, 1ull << 20);
}

TEST_F(ExecTest, ExecStartsAFreshMallocHeap) {
  const Pid pid = NewProcess();
  uint64_t old_block = 0;
  ASSERT_OK(engine().Malloc(pid, 64, &old_block));
  PutFile("/bin/standard", BuildElf(L::Spec()));
  ExecImage image;
  ASSERT_OK(engine().Exec(pid, "/bin/standard", &image));
  EXPECT_ERRNO(engine().Free(pid, old_block), kInvalidArgument, "EINVAL");
  uint64_t block = 0;
  ASSERT_OK(engine().Malloc(pid, 64, &block));
  EXPECT_GE(block, image.brk_start);
  WriteBytes(pid, block, "new heap");
  EXPECT_EQ(MappingAt(pid, block).backing, "[heap]");
}

}  // namespace
}  // namespace memserver::conformance
