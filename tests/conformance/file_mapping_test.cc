// mmap(2) of files: MAP_SHARED writes are seen at once by every mapping and
// by read; MAP_PRIVATE reads follow the file until the process writes a page
// (copy-on-write), and never change the file. Pages wholly past end of file
// are SIGBUS; the tail of the last partial page reads zero.
#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {
namespace {

class FileMappingTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(256);
  }
};

TEST_F(FileMappingTest, SharedMappingReadsTheFile) {
  PutPatternFile("/f", 1, 3 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 3 * kPage, kMapShared);
  EXPECT_EQ(ReadBytes(pid, at, 3 * kPage), Pattern(1, 0, 3 * kPage));
  EXPECT_EQ(MappingAt(pid, at).backing, "/f");
}

TEST_F(FileMappingTest, MappingAtAnOffsetStartsAtThatFilePage) {
  PutPatternFile("/f", 1, 4 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 2 * kPage, kMapShared, kProtRead, 2 * kPage);
  EXPECT_EQ(ReadBytes(pid, at, 2 * kPage), Pattern(1, 2 * kPage, 2 * kPage));
  EXPECT_EQ(MappingAt(pid, at).offset, 2 * kPage);
}

TEST_F(FileMappingTest, SharedWriteIsSeenByReadFileAtOnce) {
  PutPatternFile("/f", 1, 2 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 2 * kPage, kMapShared);
  WriteBytes(pid, at + kPage + 7, "shared write");
  std::string data;
  ASSERT_OK(engine().ReadFile("/f", kPage + 7, 12, &data));
  EXPECT_EQ(data, "shared write");
}

TEST_F(FileMappingTest, SharedWriteIsSeenByAnotherProcessAtOnce) {
  PutPatternFile("/f", 1, 2 * kPage);
  const Pid a = NewProcess(), b = NewProcess();
  const uint64_t at_a = MapFile(a, "/f", 2 * kPage, kMapShared);
  const uint64_t at_b = MapFile(b, "/f", 2 * kPage, kMapShared, kProtRead);
  EXPECT_EQ(ReadBytes(b, at_b, 16), Pattern(1, 0, 16));  // cached before the write
  WriteBytes(a, at_a, "written by a");
  EXPECT_EQ(ReadBytes(b, at_b, 12), "written by a");
}

TEST_F(FileMappingTest, TwoMappingsOfTheSameFilePageInOneProcessAlias) {
  PutPatternFile("/f", 1, 4 * kPage);
  const Pid pid = NewProcess();
  const uint64_t whole = MapFile(pid, "/f", 4 * kPage, kMapShared);
  const uint64_t tail = MapFile(pid, "/f", 2 * kPage, kMapShared, kRW, 2 * kPage);
  WriteBytes(pid, tail + 5, "alias");
  EXPECT_EQ(ReadBytes(pid, whole + 2 * kPage + 5, 5), "alias");
}

TEST_F(FileMappingTest, WriteFileIsSeenThroughExistingMappings) {
  PutPatternFile("/f", 1, 2 * kPage);
  const Pid pid = NewProcess();
  const uint64_t shared = MapFile(pid, "/f", 2 * kPage, kMapShared, kProtRead);
  const uint64_t priv = MapFile(pid, "/f", 2 * kPage, kMapPrivate, kProtRead);
  EXPECT_EQ(ReadBytes(pid, shared, 4), Pattern(1, 0, 4));
  FileInfo info;
  ASSERT_OK(engine().WriteFile("/f", 100, "new bytes", &info));
  EXPECT_EQ(ReadBytes(pid, shared + 100, 9), "new bytes");
  EXPECT_EQ(ReadBytes(pid, priv + 100, 9), "new bytes");  // not copied yet: the file's page
}

TEST_F(FileMappingTest, MappingsOfOneFileShareThePageCache) {
  PutPatternFile("/f", 1, 16 * kPage);
  const Pid a = NewProcess(), b = NewProcess();
  const uint64_t at_a = MapFile(a, "/f", 16 * kPage, kMapShared, kProtRead);
  ReadChunked(a, at_a, 16 * kPage);
  const uint64_t used = FramesUsed();
  const uint64_t at_b = MapFile(b, "/f", 16 * kPage, kMapPrivate, kProtRead);
  EXPECT_EQ(ReadChunked(b, at_b, 16 * kPage), Pattern(1, 0, 16 * kPage));
  EXPECT_EQ(FramesUsed(), used);
}

TEST_F(FileMappingTest, PrivateWriteNeverReachesTheFile) {
  PutPatternFile("/f", 1, 2 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 2 * kPage, kMapPrivate);
  WriteBytes(pid, at + 3, "private");
  EXPECT_EQ(ReadBytes(pid, at + 3, 7), "private");
  ASSERT_OK(engine().Munmap(pid, at, 2 * kPage));
  ASSERT_OK(engine().Exit(pid));
  EXPECT_EQ(FileContents("/f"), Pattern(1, 0, 2 * kPage));
  Reopen();
  EXPECT_EQ(FileContents("/f"), Pattern(1, 0, 2 * kPage));
}

TEST_F(FileMappingTest, PrivateWriteIsNotSeenByOtherMappings) {
  PutPatternFile("/f", 1, kPage);
  const Pid a = NewProcess(), b = NewProcess();
  const uint64_t priv = MapFile(a, "/f", kPage, kMapPrivate);
  const uint64_t other_priv = MapFile(a, "/f", kPage, kMapPrivate);
  const uint64_t shared = MapFile(b, "/f", kPage, kMapShared);
  WriteBytes(a, priv, "mine");
  EXPECT_EQ(ReadBytes(a, other_priv, 4), Pattern(1, 0, 4));
  EXPECT_EQ(ReadBytes(b, shared, 4), Pattern(1, 0, 4));
}

TEST_F(FileMappingTest, PrivateMappingSeesFileWritesOnlyOnPagesItHasNotCopied) {
  PutPatternFile("/f", 1, 3 * kPage);
  const Pid reader = NewProcess(), writer = NewProcess();
  const uint64_t priv = MapFile(reader, "/f", 3 * kPage, kMapPrivate);
  EXPECT_EQ(ReadBytes(reader, priv + kPage, 8), Pattern(1, kPage, 8));  // page 1 read, not copied
  WriteBytes(reader, priv, "copied");                                   // page 0 copied
  const uint64_t shared = MapFile(writer, "/f", 3 * kPage, kMapShared);
  WritePattern(writer, 2, shared, 3 * kPage);
  // Page 0: the private copy (the file's old byte after "copied");
  // pages 1 and 2: the file's new content.
  EXPECT_EQ(ReadBytes(reader, priv, 7), "copied" + Pattern(1, 6, 1));
  EXPECT_EQ(ReadBytes(reader, priv + kPage, 2 * kPage), Pattern(2, shared + kPage, 2 * kPage));
  ExpectInvariants();
}

TEST_F(FileMappingTest, MunmapOfTheMiddlePageKeepsBothEnds) {
  PutPatternFile("/f", 1, 3 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 3 * kPage, kMapShared);
  ASSERT_OK(engine().Munmap(pid, at + kPage, kPage));
  EXPECT_FAULT(ReadStatus(pid, at + kPage + 10), kMapError, at + kPage + 10);
  EXPECT_FAULT(WriteStatus(pid, at + kPage), kMapError, at + kPage);
  EXPECT_EQ(ReadBytes(pid, at, kPage), Pattern(1, 0, kPage));
  EXPECT_EQ(ReadBytes(pid, at + 2 * kPage, kPage), Pattern(1, 2 * kPage, kPage));
  const MappingInfo tail = MappingAt(pid, at + 2 * kPage);
  EXPECT_EQ(tail.start, at + 2 * kPage);
  EXPECT_EQ(tail.offset, 2 * kPage);
  // Both ends still write through to the file.
  WriteBytes(pid, at + 2 * kPage, "tail");
  std::string data;
  ASSERT_OK(engine().ReadFile("/f", 2 * kPage, 4, &data));
  EXPECT_EQ(data, "tail");
  ExpectInvariants();
}

TEST_F(FileMappingTest, MprotectReadOnlyAfterCopyOnWriteStillReadsThePrivateCopy) {
  PutPatternFile("/f", 1, 2 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 2 * kPage, kMapPrivate);
  WriteBytes(pid, at + 16, "cow copy");
  ASSERT_OK(engine().Mprotect(pid, at, 2 * kPage, kProtRead));
  EXPECT_EQ(ReadBytes(pid, at + 16, 8), "cow copy");
  EXPECT_EQ(ReadBytes(pid, at + kPage, kPage), Pattern(1, kPage, kPage));
  EXPECT_FAULT(WriteStatus(pid, at + 16), kAccessError, at + 16);
  EXPECT_EQ(FileContents("/f"), Pattern(1, 0, 2 * kPage));
}

TEST_F(FileMappingTest, WriteToAReadOnlySharedMappingIsAnAccessError) {
  PutPatternFile("/f", 1, kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", kPage, kMapShared, kProtRead);
  EXPECT_FAULT(WriteStatus(pid, at + 1), kAccessError, at + 1);
  EXPECT_EQ(FileContents("/f"), Pattern(1, 0, kPage));
}

TEST_F(FileMappingTest, AccessToAPageWhollyPastEndOfFileIsABusError) {
  PutPatternFile("/f", 1, 100);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 3 * kPage, kMapShared);  // longer than the file: allowed
  const Status read = ReadStatus(pid, at + kPage + 5);
  EXPECT_EQ(read.code(), StatusCode::kFailedPrecondition) << read.ToString();
  EXPECT_EQ(read.fault_kind(), FaultKind::kBusError) << read.ToString();
  EXPECT_FAULT(WriteStatus(pid, at + 2 * kPage), kBusError, at + 2 * kPage);
  const uint64_t priv = MapFile(pid, "/f", 2 * kPage, kMapPrivate);
  EXPECT_FAULT(WriteStatus(pid, priv + kPage), kBusError, priv + kPage);
  EXPECT_EQ(Stat("/f").size, 100u);  // nothing extended the file
}

TEST_F(FileMappingTest, BytesPastEndOfFileInTheLastPageReadZero) {
  PutPatternFile("/f", 1, 100);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", kPage, kMapShared);
  EXPECT_EQ(ReadBytes(pid, at, 100), Pattern(1, 0, 100));
  EXPECT_TRUE(IsZero(pid, at + 100, kPage - 100));
  EXPECT_EQ(Stat("/f").size, 100u);
}

TEST_F(FileMappingTest, TruncatingAMappedFileMakesCutPagesBusErrors) {
  PutPatternFile("/f", 1, 3 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 3 * kPage, kMapShared);
  EXPECT_EQ(ReadBytes(pid, at, 3 * kPage), Pattern(1, 0, 3 * kPage));  // all cached
  ASSERT_OK(engine().TruncateFile("/f", kPage + 100));
  EXPECT_FAULT(ReadStatus(pid, at + 2 * kPage), kBusError, at + 2 * kPage);
  EXPECT_EQ(ReadBytes(pid, at + kPage, 100), Pattern(1, kPage, 100));
  EXPECT_TRUE(IsZero(pid, at + kPage + 100, kPage - 100));  // the cut tail of the last page
  ExpectInvariants();
}

TEST_F(FileMappingTest, ExtendingTheFileMakesMappedPagesAccessible) {
  PutPatternFile("/f", 1, kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 2 * kPage, kMapShared);
  EXPECT_FAULT(ReadStatus(pid, at + kPage), kBusError, at + kPage);
  ASSERT_OK(engine().TruncateFile("/f", 2 * kPage));
  EXPECT_TRUE(IsZero(pid, at + kPage, kPage));
  WriteBytes(pid, at + kPage, "grown");
  std::string data;
  ASSERT_OK(engine().ReadFile("/f", kPage, 5, &data));
  EXPECT_EQ(data, "grown");
}

TEST_F(FileMappingTest, UnalignedOffsetIsInvalid) {
  PutPatternFile("/f", 1, 2 * kPage);
  const Pid pid = NewProcess();
  MmapArgs a;
  a.length = kPage;
  a.flags = kMapShared;
  a.path = "/f";
  a.offset = 100;
  uint64_t addr = 0;
  EXPECT_ERRNO(engine().Mmap(pid, a, &addr), kInvalidArgument, "EINVAL");
  EXPECT_TRUE(Mappings(pid).empty());
}

TEST_F(FileMappingTest, MappingAMissingFileIsNotFound) {
  const Pid pid = NewProcess();
  MmapArgs a;
  a.length = kPage;
  a.flags = kMapShared;
  a.path = "/missing";
  uint64_t addr = 0;
  EXPECT_ERRNO(engine().Mmap(pid, a, &addr), kNotFound, "ENOENT");
}

TEST_F(FileMappingTest, MmapReadsNothingFromStorage) {
  PutPatternFile("/f", 1, 8 * kPage);
  Reopen();  // nothing of the file is cached now
  const Pid pid = NewProcess();
  const uint64_t gets = engine().store()->GetStats().gets;
  const uint64_t at = MapFile(pid, "/f", 8 * kPage, kMapShared);
  const uint64_t priv = MapFile(pid, "/f", 8 * kPage, kMapPrivate);
  EXPECT_EQ(engine().store()->GetStats().gets, gets);
  EXPECT_EQ(Stat("/f").cached_pages, 0u);
  EXPECT_EQ(Stats(pid).resident_pages, 0u);
  EXPECT_EQ(ReadBytes(pid, at + 3 * kPage, 4), Pattern(1, 3 * kPage, 4));
  EXPECT_EQ(ReadBytes(pid, priv + 3 * kPage, 4), Pattern(1, 3 * kPage, 4));
  EXPECT_EQ(Stat("/f").cached_pages, 1u);
}

TEST_F(FileMappingTest, EvictedSharedPageIsReadBackWithItsWrites) {
  PutPatternFile("/f", 1, 4 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 4 * kPage, kMapShared);
  WritePattern(pid, 2, at, 4 * kPage);
  ApplyMemoryPressure(600);
  EXPECT_LT(Stats(pid).resident_pages, 4u);
  EXPECT_EQ(ReadBytes(pid, at, 4 * kPage), Pattern(2, at, 4 * kPage));
  EXPECT_EQ(FileContents("/f"), Pattern(2, at, 4 * kPage));
  ExpectInvariants();
}

TEST_F(FileMappingTest, EvictedPrivateCopyKeepsItsContentAndTheFileItsOwn) {
  PutPatternFile("/f", 1, 4 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 4 * kPage, kMapPrivate);
  WritePattern(pid, 2, at, 2 * kPage);
  ApplyMemoryPressure(600);
  EXPECT_EQ(Stats(pid).swapped_pages, 2u);
  EXPECT_EQ(ReadBytes(pid, at, 2 * kPage), Pattern(2, at, 2 * kPage));
  EXPECT_EQ(ReadBytes(pid, at + 2 * kPage, 2 * kPage), Pattern(1, 2 * kPage, 2 * kPage));
  EXPECT_EQ(FileContents("/f"), Pattern(1, 0, 4 * kPage));
  ExpectInvariants();
}

TEST_F(FileMappingTest, UnlinkedFileStaysReadableThroughItsMapping) {
  PutPatternFile("/f", 1, 2 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 2 * kPage, kMapShared);
  ASSERT_OK(engine().DeleteFile("/f"));
  FileInfo info;
  EXPECT_ERRNO(engine().StatFile("/f", &info), kNotFound, "ENOENT");
  EXPECT_EQ(ReadBytes(pid, at, 2 * kPage), Pattern(1, 0, 2 * kPage));
  WriteBytes(pid, at, "still mapped");
  EXPECT_EQ(ReadBytes(pid, at, 12), "still mapped");
  // A new file under the old name is a different file.
  PutPatternFile("/f", 3, kPage);
  EXPECT_EQ(ReadBytes(pid, at + 12, 4), Pattern(1, 12, 4));
  ASSERT_OK(engine().Munmap(pid, at, 2 * kPage));
  EXPECT_EQ(FileContents("/f"), Pattern(3, 0, kPage));
  ExpectInvariants();
}

TEST_F(FileMappingTest, MappingEntirelyPastEndOfFileGivesBusErrors) {
  PutPatternFile("/f", 1, kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 2 * kPage, kMapShared, kRW, 4 * kPage);  // allowed
  EXPECT_FAULT(ReadStatus(pid, at), kBusError, at);
  EXPECT_FAULT(WriteStatus(pid, at + kPage), kBusError, at + kPage);
}

TEST_F(FileMappingTest, TruncationDiscardsPrivateCopiesOfCutPages) {
  PutPatternFile("/f", 1, 2 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 2 * kPage, kMapPrivate);
  WriteBytes(pid, at + kPage, "private copy");
  ASSERT_OK(engine().TruncateFile("/f", kPage));
  EXPECT_FAULT(ReadStatus(pid, at + kPage), kBusError, at + kPage);
  // Growing the file back shows the file's (zero) content, not the
  // discarded copy (truncate(2) unmaps even private COW pages).
  ASSERT_OK(engine().TruncateFile("/f", 2 * kPage));
  EXPECT_TRUE(IsZero(pid, at + kPage, kPage));
  ExpectInvariants();
}

TEST_F(FileMappingTest, TruncationKeepsThePrivateCopyOfThePartialLastPage) {
  PutPatternFile("/f", 1, 2 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", 2 * kPage, kMapPrivate);
  WriteBytes(pid, at + 10, "mine");
  ASSERT_OK(engine().TruncateFile("/f", 100));  // page 0 is cut only partly
  EXPECT_EQ(ReadBytes(pid, at + 10, 4), "mine");
  EXPECT_FAULT(ReadStatus(pid, at + kPage), kBusError, at + kPage);
  ExpectInvariants();
}

TEST_F(FileMappingTest, TruncationDiscardsPrivateCopiesInEveryProcess) {
  PutPatternFile("/f", 1, 2 * kPage);
  const Pid parent = NewProcess();
  const uint64_t at = MapFile(parent, "/f", 2 * kPage, kMapPrivate);
  WriteBytes(parent, at + kPage, "parent");
  const Pid child = ForkOf(parent);
  WriteBytes(child, at + kPage, "child");
  ASSERT_OK(engine().TruncateFile("/f", kPage));
  ASSERT_OK(engine().TruncateFile("/f", 2 * kPage));
  EXPECT_TRUE(IsZero(parent, at + kPage, kPage));
  EXPECT_TRUE(IsZero(child, at + kPage, kPage));
  EXPECT_EQ(ReadBytes(child, at, 16), Pattern(1, 0, 16));  // the kept page still reads the file
  ExpectInvariants();
}

TEST_F(FileMappingTest, ExtendingAFileZeroesWhatMappedWritesLeftPastItsEnd) {
  PutPatternFile("/f", 1, 100);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/f", kPage, kMapShared);
  WriteBytes(pid, at + 200, "past the end");  // inside the last page, past EOF
  ASSERT_OK(engine().Msync(pid, at, kPage, kMsSync));
  EXPECT_EQ(Stat("/f").size, 100u);
  FileInfo info;
  ASSERT_OK(engine().WriteFile("/f", 1000, "x", &info));
  std::string data;
  ASSERT_OK(engine().ReadFile("/f", 100, 900, &data));
  EXPECT_EQ(data, std::string(900, '\0'));
  ASSERT_OK(engine().TruncateFile("/f", 50));
  ASSERT_OK(engine().TruncateFile("/f", 2000));
  ASSERT_OK(engine().ReadFile("/f", 50, 1950, &data));
  EXPECT_EQ(data, std::string(1950, '\0'));
}

TEST_F(FileMappingTest, ExtendingAFileZeroesBytesPastItsEndThatReachedTheStore) {
  PutPatternFile("/f", 1, 100);
  {
    const Pid pid = NewProcess();
    const uint64_t at = MapFile(pid, "/f", kPage, kMapShared);
    WriteBytes(pid, at + 200, "past the end");
    ASSERT_OK(engine().Msync(pid, at, kPage, kMsSync));  // the whole page, tail included, is stored
  }
  Reopen();  // nothing cached: the extension must read the page back and zero its tail
  FileInfo info;
  ASSERT_OK(engine().WriteFile("/f", 300, "y", &info));
  std::string data;
  ASSERT_OK(engine().ReadFile("/f", 0, 301, &data));
  EXPECT_EQ(data.substr(0, 100), Pattern(1, 0, 100));
  EXPECT_EQ(data.substr(100, 200), std::string(200, '\0'));
  EXPECT_EQ(data.substr(300), "y");
  Reopen();  // and the zeroes are durable
  ASSERT_OK(engine().ReadFile("/f", 100, 200, &data));
  EXPECT_EQ(data, std::string(200, '\0'));
}

}  // namespace
}  // namespace memserver::conformance
