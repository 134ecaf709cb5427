// fork(2): the child's address space is a copy-on-write copy of the
// parent's. No data is copied at fork; the first write on either side copies
// that page alone. Shared mappings stay shared; MADV_DONTFORK mappings are
// not inherited; MADV_WIPEONFORK mappings read zeros in the child; mlock is
// not inherited.
#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {
namespace {

class ForkTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(256);
  }

  // A process with `pages` pages of the pattern of `seed`; *addr gets them.
  Pid ProcessWithPages(uint64_t pages, uint64_t seed, uint64_t* addr) {
    const Pid pid = NewProcess();
    *addr = Map(pid, pages * kPage);
    WritePattern(pid, seed, *addr, pages * kPage);
    return pid;
  }
};

TEST_F(ForkTest, ChildSeesTheParentsMemory) {
  uint64_t at;
  const Pid parent = ProcessWithPages(8, 1, &at);
  const Pid child = ForkOf(parent);
  EXPECT_TRUE(HasPattern(child, 1, at, 8 * kPage));
  EXPECT_EQ(Mappings(child).size(), Mappings(parent).size());
  ExpectInvariants();
}

TEST_F(ForkTest, ChildWriteDoesNotReachTheParent) {
  uint64_t at;
  const Pid parent = ProcessWithPages(4, 1, &at);
  const Pid child = ForkOf(parent);
  WritePattern(child, 2, at + kPage, kPage);
  EXPECT_TRUE(HasPattern(child, 2, at + kPage, kPage));
  EXPECT_TRUE(HasPattern(parent, 1, at, 4 * kPage));
  ExpectInvariants();
}

TEST_F(ForkTest, ParentWriteAfterForkDoesNotReachTheChild) {
  uint64_t at;
  const Pid parent = ProcessWithPages(4, 1, &at);
  const Pid child = ForkOf(parent);
  WritePattern(parent, 3, at, 2 * kPage);
  EXPECT_TRUE(HasPattern(parent, 3, at, 2 * kPage));
  EXPECT_TRUE(HasPattern(child, 1, at, 4 * kPage));
  ExpectInvariants();
}

TEST_F(ForkTest, ForkOfAProcessWithManyResidentPagesCopiesNoData) {
  uint64_t at;
  const Pid parent = ProcessWithPages(200, 1, &at);
  ASSERT_EQ(Stats(parent).resident_pages, 200u);
  const GlobalStats before = Global();
  const Pid child = ForkOf(parent);
  const GlobalStats after = Global();
  EXPECT_EQ(after.frames_free, before.frames_free);
  EXPECT_EQ(after.pages, before.pages);
  EXPECT_EQ(after.page_outs, before.page_outs);
  EXPECT_EQ(Stats(child).resident_pages, 200u);
  ExpectInvariants();
}

TEST_F(ForkTest, FirstWriteCopiesOnlyThatPage) {
  uint64_t at;
  const Pid parent = ProcessWithPages(16, 1, &at);
  const Pid child = ForkOf(parent);
  const uint64_t base = FramesUsed();
  WriteBytes(child, at + 5 * kPage + 100, "c");
  EXPECT_EQ(FramesUsed(), base + 1);
  WriteBytes(child, at + 5 * kPage + 200, "c");  // already the child's own page
  EXPECT_EQ(FramesUsed(), base + 1);
  WriteBytes(parent, at + 6 * kPage, "p");
  EXPECT_EQ(FramesUsed(), base + 2);
  // The page the child copied is now the parent's alone: no second copy.
  WriteBytes(parent, at + 5 * kPage, "p");
  EXPECT_EQ(FramesUsed(), base + 2);
  ExpectInvariants();
}

TEST_F(ForkTest, SharedPagesAreFreedWhenTheLastMapperGoes) {
  const uint64_t empty = FramesUsed();
  uint64_t at;
  const Pid parent = ProcessWithPages(50, 1, &at);
  const uint64_t loaded = FramesUsed();
  const Pid child = ForkOf(parent);
  ASSERT_OK(engine().Exit(parent));
  EXPECT_EQ(FramesUsed(), loaded);  // the child still maps every page
  EXPECT_TRUE(HasPattern(child, 1, at, 50 * kPage));
  ASSERT_OK(engine().Exit(child));
  EXPECT_EQ(FramesUsed(), empty);
  EXPECT_EQ(Global().pages, 0u);
  ExpectInvariants();
}

TEST_F(ForkTest, SharedAnonymousMappingStaysSharedAcrossFork) {
  const Pid parent = NewProcess();
  const uint64_t at = Map(parent, 4 * kPage, kRW, kSharedAnon);
  WritePattern(parent, 1, at, kPage);
  const Pid child = ForkOf(parent);
  WritePattern(child, 2, at, 64);                // a page touched before the fork
  WritePattern(child, 3, at + 3 * kPage, kPage);  // a page first touched after it
  EXPECT_TRUE(HasPattern(parent, 2, at, 64));
  EXPECT_TRUE(HasPattern(parent, 3, at + 3 * kPage, kPage));
  WritePattern(parent, 4, at + 2 * kPage, kPage);
  EXPECT_TRUE(HasPattern(child, 4, at + 2 * kPage, kPage));
  EXPECT_EQ(MappingAt(child, at).backing, "[shmem]");
  ExpectInvariants();
}

TEST_F(ForkTest, ChildMunmapOfASharedRegionLeavesTheParentsMapping) {
  const Pid parent = NewProcess();
  const uint64_t at = Map(parent, 4 * kPage, kRW, kSharedAnon);
  WritePattern(parent, 1, at, 4 * kPage);
  const Pid child = ForkOf(parent);
  ASSERT_OK(engine().Munmap(child, at, 4 * kPage));
  EXPECT_FAULT(ReadStatus(child, at), kMapError, at);
  EXPECT_TRUE(HasPattern(parent, 1, at, 4 * kPage));
  WritePattern(parent, 2, at + kPage, kPage);
  EXPECT_TRUE(HasPattern(parent, 2, at + kPage, kPage));
  ExpectInvariants();
}

TEST_F(ForkTest, ChildMunmapOfAPrivateRegionLeavesTheParentsMapping) {
  uint64_t at;
  const Pid parent = ProcessWithPages(4, 1, &at);
  const Pid child = ForkOf(parent);
  ASSERT_OK(engine().Munmap(child, at, 4 * kPage));
  EXPECT_TRUE(HasPattern(parent, 1, at, 4 * kPage));
  ASSERT_OK(engine().Exit(child));
  EXPECT_TRUE(HasPattern(parent, 1, at, 4 * kPage));
  ExpectInvariants();
}

TEST_F(ForkTest, ChildMprotectDoesNotChangeTheParent) {
  uint64_t at;
  const Pid parent = ProcessWithPages(2, 1, &at);
  const Pid child = ForkOf(parent);
  ASSERT_OK(engine().Mprotect(child, at, 2 * kPage, kProtRead));
  EXPECT_FAULT(WriteStatus(child, at), kAccessError, at);
  WriteBytes(parent, at, "still writable");
  EXPECT_TRUE(HasPattern(child, 1, at, 2 * kPage));
}

TEST_F(ForkTest, DontForkMappingIsAbsentInTheChild) {
  uint64_t at;
  const Pid parent = ProcessWithPages(3, 1, &at);
  ASSERT_OK(engine().Madvise(parent, at + kPage, kPage, kMadvDontFork));
  const Pid child = ForkOf(parent);
  EXPECT_FAULT(ReadStatus(child, at + kPage), kMapError, at + kPage);
  EXPECT_TRUE(HasPattern(child, 1, at, kPage));
  EXPECT_TRUE(HasPattern(child, 1, at + 2 * kPage, kPage));
  EXPECT_TRUE(HasPattern(parent, 1, at, 3 * kPage));
  ExpectInvariants();
}

TEST_F(ForkTest, DoForkRestoresInheritance) {
  uint64_t at;
  const Pid parent = ProcessWithPages(2, 1, &at);
  ASSERT_OK(engine().Madvise(parent, at, 2 * kPage, kMadvDontFork));
  ASSERT_OK(engine().Madvise(parent, at, 2 * kPage, kMadvDoFork));
  const Pid child = ForkOf(parent);
  EXPECT_TRUE(HasPattern(child, 1, at, 2 * kPage));
}

TEST_F(ForkTest, WipeOnForkChildReadsZeros) {
  uint64_t at;
  const Pid parent = ProcessWithPages(2, 1, &at);
  ASSERT_OK(engine().Madvise(parent, at, 2 * kPage, kMadvWipeOnFork));
  const Pid child = ForkOf(parent);
  EXPECT_TRUE(IsZero(child, at, 2 * kPage));
  EXPECT_TRUE(HasPattern(parent, 1, at, 2 * kPage));
  WriteBytes(child, at, "fresh");  // still mapped and writable in the child
  EXPECT_TRUE(HasPattern(parent, 1, at, 2 * kPage));
  ExpectInvariants();
}

TEST_F(ForkTest, KeepOnForkUndoesWipeOnFork) {
  uint64_t at;
  const Pid parent = ProcessWithPages(2, 1, &at);
  ASSERT_OK(engine().Madvise(parent, at, 2 * kPage, kMadvWipeOnFork));
  ASSERT_OK(engine().Madvise(parent, at, 2 * kPage, kMadvKeepOnFork));
  const Pid child = ForkOf(parent);
  EXPECT_TRUE(HasPattern(child, 1, at, 2 * kPage));
}

TEST_F(ForkTest, MlockIsNotInheritedByTheChild) {
  uint64_t at;
  const Pid parent = ProcessWithPages(4, 1, &at);
  ASSERT_OK(engine().Mlock(parent, at, 4 * kPage));
  const Pid child = ForkOf(parent);
  EXPECT_EQ(Stats(child).locked_bytes, 0u);
  EXPECT_FALSE(MappingAt(child, at).locked);
  EXPECT_TRUE(MappingAt(parent, at).locked);
  EXPECT_EQ(Stats(parent).locked_bytes, 4 * kPage);
  EXPECT_TRUE(HasPattern(child, 1, at, 4 * kPage));
  // The child writes its own copy; the parent's locked pages are untouched.
  WritePattern(child, 2, at, kPage);
  EXPECT_TRUE(HasPattern(parent, 1, at, 4 * kPage));
  EXPECT_EQ(Stats(parent).usage.locked, 4 * kPage);
  ExpectInvariants();
}

TEST_F(ForkTest, SwappedOutSharedPageIsPagedInOnceForBothProcesses) {
  uint64_t at;
  const Pid parent = ProcessWithPages(1, 1, &at);
  const Pid child = ForkOf(parent);
  ApplyMemoryPressure(600);  // more than the 256 frames: evicts the shared page
  ASSERT_EQ(Stats(parent).swapped_pages, 1u);
  ASSERT_EQ(Stats(child).swapped_pages, 1u);
  const uint64_t global_before = Global().major_faults;
  const uint64_t parent_before = Stats(parent).major_faults;
  const uint64_t child_before = Stats(child).major_faults;
  EXPECT_TRUE(HasPattern(parent, 1, at, kPage));
  EXPECT_TRUE(HasPattern(child, 1, at, kPage));
  EXPECT_EQ(Global().major_faults, global_before + 1);
  EXPECT_EQ(Stats(parent).major_faults, parent_before + 1);
  EXPECT_EQ(Stats(child).major_faults, child_before);
  EXPECT_EQ(Stats(child).resident_pages, 1u);
  ExpectInvariants();
}

TEST_F(ForkTest, GrandchildSeesItsParentsCopyNotTheGrandparents) {
  uint64_t at;
  const Pid grandparent = ProcessWithPages(2, 1, &at);
  const Pid parent = ForkOf(grandparent);
  WritePattern(parent, 2, at, kPage);
  const Pid child = ForkOf(parent);
  EXPECT_TRUE(HasPattern(child, 2, at, kPage));
  EXPECT_TRUE(HasPattern(child, 1, at + kPage, kPage));
  WritePattern(child, 3, at + kPage, kPage);
  EXPECT_TRUE(HasPattern(parent, 2, at, kPage));
  EXPECT_TRUE(HasPattern(parent, 1, at + kPage, kPage));
  EXPECT_TRUE(HasPattern(grandparent, 1, at, 2 * kPage));
  ASSERT_OK(engine().Exit(parent));
  EXPECT_TRUE(HasPattern(child, 2, at, kPage));
  EXPECT_TRUE(HasPattern(grandparent, 1, at, 2 * kPage));
  ExpectInvariants();
}

TEST_F(ForkTest, ChildInheritsTheBreakAndLimits) {
  const Pid parent = NewProcess();
  uint64_t old_brk = 0;
  ASSERT_OK(engine().Sbrk(parent, 3 * kPage, &old_brk));
  WritePattern(parent, 1, old_brk, 3 * kPage);
  ProcessLimits limits;
  ASSERT_OK(engine().GetLimits(parent, &limits));
  limits.as = 1ull << 30;
  ASSERT_OK(engine().SetLimits(parent, limits));
  const Pid child = ForkOf(parent);
  uint64_t brk = 0;
  ASSERT_OK(engine().Brk(child, 0, &brk));
  EXPECT_EQ(brk, old_brk + 3 * kPage);
  EXPECT_TRUE(HasPattern(child, 1, old_brk, 3 * kPage));
  ProcessLimits inherited;
  ASSERT_OK(engine().GetLimits(child, &inherited));
  EXPECT_EQ(inherited.as, 1ull << 30);
}

TEST_F(ForkTest, PrivateFileCopyIsInheritedNotTheFile) {
  PutPatternFile("/data/f", 5, 2 * kPage);
  const Pid parent = NewProcess();
  const uint64_t at = MapFile(parent, "/data/f", 2 * kPage, kMapPrivate);
  WriteBytes(parent, at, "parent's copy");
  const Pid child = ForkOf(parent);
  EXPECT_EQ(ReadBytes(child, at, 13), "parent's copy");
  EXPECT_EQ(ReadBytes(child, at + kPage, kPage), Pattern(5, kPage, kPage));
  EXPECT_EQ(FileContents("/data/f"), Pattern(5, 0, 2 * kPage));
  ExpectInvariants();
}

TEST_F(ForkTest, SharedFileMappingStaysSharedAcrossFork) {
  PutPatternFile("/data/f", 5, kPage);
  const Pid parent = NewProcess();
  const uint64_t at = MapFile(parent, "/data/f", kPage, kMapShared);
  const Pid child = ForkOf(parent);
  WriteBytes(child, at + 10, "from the child");
  EXPECT_EQ(ReadBytes(parent, at + 10, 14), "from the child");
  std::string data;
  ASSERT_OK(engine().ReadFile("/data/f", 10, 14, &data));
  EXPECT_EQ(data, "from the child");
}

TEST_F(ForkTest, ForkOfAnUnknownProcessIsNotFound) {
  Pid child = 0;
  EXPECT_ERRNO(engine().Fork(12345, &child), kNotFound, "ESRCH");
  EXPECT_EQ(Global().processes, 0u);
}

TEST_F(ForkTest, ChildCanFreeBlocksMallocedBeforeTheFork) {
  const Pid parent = NewProcess();
  uint64_t small = 0, large = 0;
  ASSERT_OK(engine().Malloc(parent, 100, &small));
  ASSERT_OK(engine().Malloc(parent, 300000, &large));
  WriteBytes(parent, small, "small block");
  const Pid child = ForkOf(parent);
  EXPECT_EQ(ReadBytes(child, small, 11), "small block");
  EXPECT_OK(engine().Free(child, small));
  EXPECT_OK(engine().Free(child, large));
  EXPECT_EQ(ReadBytes(parent, small, 11), "small block");  // the parent's heap is its own
  EXPECT_OK(engine().Free(parent, small));
}

TEST_F(ForkTest, ChildMallocNeverReturnsALiveBlockOfTheParent) {
  const Pid parent = NewProcess();
  std::vector<uint64_t> blocks;
  for (int i = 0; i < 20; ++i) {
    uint64_t p = 0;
    ASSERT_OK(engine().Malloc(parent, 64, &p));
    WriteBytes(parent, p, Pattern(i, 0, 64));
    blocks.push_back(p);
  }
  const Pid child = ForkOf(parent);
  for (int i = 0; i < 20; ++i) {
    uint64_t p = 0;
    ASSERT_OK(engine().Malloc(child, 64, &p));
    for (uint64_t b : blocks) EXPECT_FALSE(p < b + 64 && b < p + 64) << std::hex << "child got " << p;
    WriteBytes(child, p, std::string(64, 'c'));
  }
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ReadBytes(child, blocks[i], 64), Pattern(i, 0, 64));
}

TEST_F(ForkTest, SwappedPagesAreSharedByForkAndDeletedWithTheLastMapper) {
  uint64_t at;
  const Pid parent = ProcessWithPages(8, 1, &at);
  ApplyMemoryPressure(600);
  ASSERT_EQ(Stats(parent).swapped_pages, 8u);
  const uint64_t keys = SwapKeys();
  const Pid child = ForkOf(parent);
  EXPECT_EQ(SwapKeys(), keys);  // fork copies no swap either
  EXPECT_TRUE(HasPattern(child, 1, at, 8 * kPage));
  ASSERT_OK(engine().Exit(child));
  ApplyMemoryPressure(600);
  EXPECT_TRUE(HasPattern(parent, 1, at, 8 * kPage));  // the child's exit kept the parent's swap
  ApplyMemoryPressure(600);
  ASSERT_OK(engine().Exit(parent));
  EXPECT_EQ(SwapKeys(), 0u);
  ExpectInvariants();
}

TEST_F(ForkTest, WipeOnForkStaysSetInTheChild) {
  uint64_t at;
  const Pid parent = ProcessWithPages(1, 1, &at);
  ASSERT_OK(engine().Madvise(parent, at, kPage, kMadvWipeOnFork));
  const Pid child = ForkOf(parent);
  WriteBytes(child, at, "child data");
  const Pid grandchild = ForkOf(child);
  EXPECT_TRUE(IsZero(grandchild, at, kPage));
  EXPECT_EQ(ReadBytes(child, at, 10), "child data");
}

}  // namespace
}  // namespace memserver::conformance
