// The file store: create/write/read/stat/truncate/delete/list with the
// semantics of open(2) O_CREAT|O_EXCL / O_TRUNC, pwrite(2), pread(2),
// stat(2), truncate(2), unlink(2); paths are checked; files persist across
// an engine restart on the same RocksDB directory.
#include <map>

#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {
namespace {

class FileStoreTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(256);
  }
};

TEST_F(FileStoreTest, CreateMakesAnEmptyFile) {
  FileInfo info;
  ASSERT_OK(engine().CreateFile("/a", false, &info));
  EXPECT_EQ(info.path, "/a");
  EXPECT_EQ(info.size, 0u);
  EXPECT_EQ(Stat("/a").size, 0u);
  EXPECT_EQ(FileContents("/a"), "");
}

TEST_F(FileStoreTest, CreatingAnExistingFileIsAlreadyExists) {
  PutFile("/a", "content");
  FileInfo info;
  EXPECT_ERRNO(engine().CreateFile("/a", false, &info), kAlreadyExists, "EEXIST");
  EXPECT_EQ(FileContents("/a"), "content");
}

TEST_F(FileStoreTest, CreateWithTruncateEmptiesAnExistingFile) {
  PutFile("/a", "content");
  FileInfo info;
  ASSERT_OK(engine().CreateFile("/a", true, &info));
  EXPECT_EQ(info.size, 0u);
  EXPECT_EQ(FileContents("/a"), "");
}

TEST_F(FileStoreTest, WriteCreatesAMissingFile) {
  FileInfo info;
  ASSERT_OK(engine().WriteFile("/new", 0, "hello", &info));
  EXPECT_EQ(info.size, 5u);
  EXPECT_EQ(FileContents("/new"), "hello");
}

TEST_F(FileStoreTest, WritePastTheEndLeavesAHoleOfZeros) {
  FileInfo info;
  ASSERT_OK(engine().WriteFile("/holes", 3 * kPage + 10, "tail", &info));
  EXPECT_EQ(info.size, 3 * kPage + 14);
  EXPECT_EQ(FileContents("/holes"), std::string(3 * kPage + 10, '\0') + "tail");
}

TEST_F(FileStoreTest, WriteOverwritesInPlace) {
  PutPatternFile("/a", 1, 2 * kPage);
  FileInfo info;
  ASSERT_OK(engine().WriteFile("/a", kPage - 2, "span", &info));
  EXPECT_EQ(info.size, 2 * kPage);
  std::string want = Pattern(1, 0, 2 * kPage);
  want.replace(kPage - 2, 4, "span");
  EXPECT_EQ(FileContents("/a"), want);
}

TEST_F(FileStoreTest, ReadIsShortAtEndOfFile) {
  PutFile("/a", "0123456789");
  std::string data;
  ASSERT_OK(engine().ReadFile("/a", 6, 100, &data));
  EXPECT_EQ(data, "6789");
}

TEST_F(FileStoreTest, ReadAtEndOfFileIsEmpty) {
  PutFile("/a", "0123456789");
  std::string data = "stale";
  ASSERT_OK(engine().ReadFile("/a", 10, 5, &data));
  EXPECT_EQ(data, "");
  ASSERT_OK(engine().ReadFile("/a", 1000, 5, &data));
  EXPECT_EQ(data, "");
}

TEST_F(FileStoreTest, UnknownFileIsNotFound) {
  FileInfo info;
  std::string data;
  EXPECT_ERRNO(engine().StatFile("/nope", &info), kNotFound, "ENOENT");
  EXPECT_ERRNO(engine().ReadFile("/nope", 0, 1, &data), kNotFound, "ENOENT");
  EXPECT_ERRNO(engine().TruncateFile("/nope", 0), kNotFound, "ENOENT");
  EXPECT_ERRNO(engine().DeleteFile("/nope"), kNotFound, "ENOENT");
}

TEST_F(FileStoreTest, TruncateShrinksAndRegrowsWithZeros) {
  PutPatternFile("/a", 1, 3 * kPage);
  ASSERT_OK(engine().TruncateFile("/a", kPage + 10));
  EXPECT_EQ(FileContents("/a"), Pattern(1, 0, kPage + 10));
  ASSERT_OK(engine().TruncateFile("/a", 3 * kPage));
  EXPECT_EQ(FileContents("/a"), Pattern(1, 0, kPage + 10) + std::string(2 * kPage - 10, '\0'));
}

TEST_F(FileStoreTest, DeleteRemovesTheFile) {
  PutFile("/a", "x");
  ASSERT_OK(engine().DeleteFile("/a"));
  FileInfo info;
  EXPECT_ERRNO(engine().StatFile("/a", &info), kNotFound, "ENOENT");
  EXPECT_TRUE(engine().ListFiles("/").empty());
  ASSERT_OK(engine().CreateFile("/a", false, &info));  // the name is free again
  EXPECT_EQ(info.size, 0u);
}

TEST_F(FileStoreTest, ListFilesReturnsThePrefixInPathOrder) {
  PutFile("/dir/b", "22");
  PutFile("/dir/a", "1");
  PutFile("/other", "333");
  const std::vector<FileInfo> files = engine().ListFiles("/dir/");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "/dir/a");
  EXPECT_EQ(files[0].size, 1u);
  EXPECT_EQ(files[1].path, "/dir/b");
  EXPECT_EQ(engine().ListFiles("/").size(), 3u);
  EXPECT_NE(files[0].inode, files[1].inode);
}

TEST_F(FileStoreTest, RelativePathIsInvalid) {
  FileInfo info;
  EXPECT_CODE(engine().CreateFile("relative/path", false, &info), kInvalidArgument);
  EXPECT_CODE(engine().WriteFile("", 0, "x", &info), kInvalidArgument);
  EXPECT_CODE(engine().StatFile("relative", &info), kInvalidArgument);
  std::string data;
  EXPECT_CODE(engine().ReadFile("relative", 0, 1, &data), kInvalidArgument);
  EXPECT_CODE(engine().DeleteFile("relative"), kInvalidArgument);
}

TEST_F(FileStoreTest, DotComponentIsInvalid) {
  FileInfo info;
  EXPECT_CODE(engine().CreateFile("/a/./b", false, &info), kInvalidArgument);
  EXPECT_CODE(engine().WriteFile("/.", 0, "x", &info), kInvalidArgument);
}

TEST_F(FileStoreTest, DotDotComponentIsInvalid) {
  FileInfo info;
  EXPECT_CODE(engine().CreateFile("/a/../b", false, &info), kInvalidArgument);
  EXPECT_CODE(engine().WriteFile("/..", 0, "x", &info), kInvalidArgument);
}

TEST_F(FileStoreTest, EmptyComponentIsInvalid) {
  FileInfo info;
  EXPECT_CODE(engine().CreateFile("/a//b", false, &info), kInvalidArgument);
  EXPECT_CODE(engine().CreateFile("/a/", false, &info), kInvalidArgument);
  EXPECT_CODE(engine().CreateFile("/", false, &info), kInvalidArgument);
  EXPECT_TRUE(engine().ListFiles("/").empty());
}

TEST_F(FileStoreTest, LargeFileRoundTripsInChunks) {
  const std::string big = Pattern(4, 0, (3ull << 20) + 123);
  PutFile("/big", big);
  EXPECT_EQ(Stat("/big").size, big.size());
  EXPECT_TRUE(Matches(FileContents("/big"), big, 0));
}

TEST_F(FileStoreTest, FilesPersistAcrossAnEngineRestart) {
  PutPatternFile("/keep/a", 1, 2 * kPage + 5);
  PutFile("/keep/empty", "");
  ASSERT_OK(engine().DeleteFile("/keep/empty"));
  PutFile("/keep/b", "bee");
  ASSERT_OK(engine().TruncateFile("/keep/b", 2));
  Reopen();
  EXPECT_EQ(FileContents("/keep/a"), Pattern(1, 0, 2 * kPage + 5));
  EXPECT_EQ(FileContents("/keep/b"), "be");
  EXPECT_EQ(engine().ListFiles("/keep/").size(), 2u);
  EXPECT_EQ(Global().processes, 0u);  // processes are not persisted
}

TEST_F(FileStoreTest, WritesAreDurableWhenTheCallReturns) {
  PutPatternFile("/d", 1, 2 * kPage);
  ASSERT_OK(engine().TruncateFile("/d", kPage + 7));
  PutFile("/gone", "x");
  ASSERT_OK(engine().DeleteFile("/gone"));
  const std::unique_ptr<Engine> recovered = OpenCrashCopy();
  ASSERT_NE(recovered, nullptr);
  std::string data;
  ASSERT_OK(recovered->ReadFile("/d", 0, 2 * kPage, &data));
  EXPECT_EQ(data, Pattern(1, 0, kPage + 7));
  FileInfo info;
  EXPECT_ERRNO(recovered->StatFile("/gone", &info), kNotFound, "ENOENT");
}

TEST_F(FileStoreTest, SharedMappingWritesPersistAcrossAnEngineRestart) {
  PutPatternFile("/m", 1, 2 * kPage);
  const Pid pid = NewProcess();
  const uint64_t at = MapFile(pid, "/m", 2 * kPage, kMapShared);
  WritePattern(pid, 2, at + kPage, kPage);
  ASSERT_OK(engine().Munmap(pid, at, 2 * kPage));
  Reopen();
  EXPECT_EQ(FileContents("/m"), Pattern(1, 0, kPage) + Pattern(2, at + kPage, kPage));
}

// The owner is on the inode record: after a restart each tenant's files are
// still its own, charged to its quota again, and a record written before
// owners existed reads as the no-tenant owner's.
TEST_F(FileStoreTest, OwnedFilesKeepTheirOwnerAndChargeAcrossARestart) {
  PutFile("/legacy", "no owner");
  FileInfo info;
  ASSERT_OK(engine().WriteFile("alice", "/legacy", 0, "alice's", &info));
  ASSERT_OK(engine().WriteFile("bob", "/b", 0, "bob's", &info));
  Reopen();
  EXPECT_EQ(FileContents("/legacy"), "no owner");
  std::string data;
  ASSERT_OK(engine().ReadFile("alice", "/legacy", 0, 64, &data));
  EXPECT_EQ(data, "alice's");
  EXPECT_ERRNO(engine().StatFile("alice", "/b", &info), kNotFound, "ENOENT");
  std::map<std::string, uint64_t> bytes;
  for (const TenantUsage& u : engine().TenantUsages()) bytes[u.owner] = u.used[static_cast<int>(TenantResource::kFileBytes)];
  EXPECT_EQ(bytes["alice"], 7u);
  EXPECT_EQ(bytes["bob"], 5u);
  EXPECT_EQ(bytes[""], 8u);
}

TEST_F(FileStoreTest, CreateAfterRestartDoesNotReuseALiveInode) {
  PutFile("/a", "a");
  const uint32_t inode = Stat("/a").inode;
  Reopen();
  PutFile("/b", "b");
  EXPECT_NE(Stat("/b").inode, inode);
  EXPECT_EQ(FileContents("/a"), "a");
}

}  // namespace
}  // namespace memserver::conformance
