// The file store through the client: the file calls, UploadFile and
// DownloadFile in chunks, file mappings (shared writes, private copies, bus
// errors past end of file) and msync.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "tests/client/client_fixture.h"

namespace memserver::client {
namespace {

using FileTest = ClientTest;

void WriteLocal(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadLocal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

uint64_t Dirty(const MemoryUsage& u) { return u.shared_dirty + u.private_dirty; }
uint64_t Clean(const MemoryUsage& u) { return u.shared_clean + u.private_clean; }

TEST_F(FileTest, WriteCreatesTheFileAndReadStatSeeIt) {
  FileInfo info = client().WriteFile("/data/a", 0, "hello");
  EXPECT_EQ(info.path, "/data/a");
  EXPECT_EQ(info.size, 5u);
  info = client().WriteFile("/data/a", 10, "world");  // a hole of zeros in between
  EXPECT_EQ(info.size, 15u);
  EXPECT_EQ(client().ReadFile("/data/a", 0, 15), std::string("hello\0\0\0\0\0world", 15));
  FileInfo stat = client().StatFile("/data/a");
  EXPECT_EQ(stat.size, 15u);
  EXPECT_EQ(stat.inode, info.inode);
}

TEST_F(FileTest, ReadAtEndOfFileIsShortAndPastItEmpty) {
  client().WriteFile("/short", 0, "abcdef");
  EXPECT_EQ(client().ReadFile("/short", 4, 100), "ef");
  EXPECT_EQ(client().ReadFile("/short", 6, 10), "");
  EXPECT_EQ(client().ReadFile("/short", 1000, 10), "");
}

TEST_F(FileTest, CreateOfExistingFileIsAlreadyExistsUnlessTruncate) {
  client().WriteFile("/c", 0, "content");
  Error e = ErrorOf([&] { client().CreateFile("/c"); });
  EXPECT_EQ(e.code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(client().StatFile("/c").size, 7u);
  EXPECT_EQ(client().CreateFile("/c", /*truncate=*/true).size, 0u);
  EXPECT_EQ(client().ReadFile("/c", 0, 10), "");
}

TEST_F(FileTest, TruncateCutsAndExtendsWithZeros) {
  client().WriteFile("/t", 0, "0123456789");
  client().TruncateFile("/t", 4);
  EXPECT_EQ(client().ReadFile("/t", 0, 100), "0123");
  client().TruncateFile("/t", 6);
  EXPECT_EQ(client().ReadFile("/t", 0, 100), std::string("0123\0\0", 6));
}

TEST_F(FileTest, DeletedFileIsNotFound) {
  client().CreateFile("/gone");
  client().DeleteFile("/gone");
  EXPECT_EQ(ErrorOf([&] { client().StatFile("/gone"); }).code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ErrorOf([&] { client().DeleteFile("/gone"); }).code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(FileTest, RelativePathIsInvalidArgument) {
  EXPECT_EQ(ErrorOf([&] { client().CreateFile("relative"); }).code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(FileTest, ListFilesFiltersByPrefix) {
  client().CreateFile("/lib/a");
  client().CreateFile("/lib/b");
  client().CreateFile("/bin/c");
  std::vector<FileInfo> lib = client().ListFiles("/lib/");
  ASSERT_EQ(lib.size(), 2u);
  EXPECT_EQ(lib[0].path, "/lib/a");
  EXPECT_EQ(lib[1].path, "/lib/b");
  EXPECT_EQ(client().ListFiles().size(), 3u);
  EXPECT_TRUE(client().ListFiles("/none").empty());
  EXPECT_EQ(client().GetGlobalStats().files, 3u);
}

TEST_F(FileTest, UploadThenDownloadOfAMultiChunkFileIsByteIdentical) {
  // Two whole chunks and a partial one.
  const std::string content = RandomBytes(2 * Client::kFileChunkBytes + 12345, 7);
  const std::string local = dir_.path() + "/upload.bin";
  WriteLocal(local, content);
  FileInfo info = client().UploadFile(local, "/big");
  EXPECT_EQ(info.size, content.size());
  EXPECT_EQ(client().ReadFile("/big", Client::kFileChunkBytes - 3, 6),
            content.substr(Client::kFileChunkBytes - 3, 6));

  const std::string back = dir_.path() + "/download.bin";
  EXPECT_EQ(client().DownloadFile("/big", back), content.size());
  EXPECT_TRUE(ReadLocal(back) == content);
}

TEST_F(FileTest, UploadReplacesALongerRemoteFile) {
  client().WriteFile("/replace", 0, std::string(10000, 'x'));
  const std::string local = dir_.path() + "/small";
  WriteLocal(local, "tiny");
  EXPECT_EQ(client().UploadFile(local, "/replace").size, 4u);
  EXPECT_EQ(client().ReadFile("/replace", 0, 100), "tiny");
}

TEST_F(FileTest, ExactlyOneChunkAndEmptyFilesRoundTrip) {
  for (size_t size : {size_t{0}, size_t{Client::kFileChunkBytes}}) {
    const std::string content = RandomBytes(size, 3);
    const std::string local = dir_.path() + "/exact";
    WriteLocal(local, content);
    EXPECT_EQ(client().UploadFile(local, "/exact").size, size);
    const std::string back = dir_.path() + "/exact.back";
    EXPECT_EQ(client().DownloadFile("/exact", back), size);
    EXPECT_TRUE(ReadLocal(back) == content) << size;
  }
}

TEST_F(FileTest, UploadOfMissingLocalFileIsNotFoundAndCreatesNothing) {
  Error e = ErrorOf([&] { client().UploadFile(dir_.path() + "/missing", "/never"); });
  EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(e.errno_name(), "ENOENT");
  EXPECT_EQ(ErrorOf([&] { client().StatFile("/never"); }).code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(FileTest, UploadOfADirectoryFailsAndLeavesTheRemoteFileAlone) {
  client().WriteFile("/keep", 0, "kept");
  Error e = ErrorOf([&] { client().UploadFile(dir_.path(), "/keep"); });
  EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.errno_name(), "EISDIR");
  EXPECT_EQ(client().ReadFile("/keep", 0, 10), "kept");
}

TEST_F(FileTest, DownloadOfMissingRemoteFileLeavesTheLocalFileAlone) {
  const std::string local = dir_.path() + "/local";
  WriteLocal(local, "untouched");
  EXPECT_EQ(ErrorOf([&] { client().DownloadFile("/missing", local); }).code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ReadLocal(local), "untouched");
}

TEST_F(FileTest, DownloadIntoAMissingDirectoryIsALocalNotFound) {
  client().WriteFile("/x", 0, "x");
  Error e = ErrorOf([&] { client().DownloadFile("/x", dir_.path() + "/no/such/dir/x"); });
  EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(e.errno_name(), "ENOENT");
}

TEST_F(FileTest, SharedFileMappingWriteIsVisibleThroughReadFile) {
  client().WriteFile("/shared", 0, std::string(2 * kPage, 'f'));
  Process p = client().CreateProcess();
  uint64_t a = p.MmapFile("/shared", kPage, kPage);  // the second page
  p.Write(a + 10, "through-the-mapping");
  EXPECT_EQ(client().ReadFile("/shared", kPage + 10, 19), "through-the-mapping");
  EXPECT_EQ(client().ReadFile("/shared", 10, 4), "ffff");  // the first page untouched

  // And the other way: the file API writes into the mapped page.
  client().WriteFile("/shared", kPage + 100, "from-the-file-api");
  EXPECT_EQ(p.Read(a + 100, 17), "from-the-file-api");

  std::vector<Mapping> mappings = p.Mappings();
  ASSERT_EQ(mappings.size(), 1u);
  EXPECT_EQ(mappings[0].backing, "/shared");
  EXPECT_EQ(mappings[0].offset, kPage);
  EXPECT_EQ(mappings[0].flags & kMapShared, kMapShared);
}

TEST_F(FileTest, PrivateFileMappingWriteDoesNotReachTheFile) {
  client().WriteFile("/private", 0, std::string(kPage, 'o'));
  Process p = client().CreateProcess();
  uint64_t a = p.MmapFile("/private", 0, kPage, kRw, kMapPrivate);
  EXPECT_EQ(p.Read(a, 4), "oooo");
  p.Write(a, "mine");
  EXPECT_EQ(p.Read(a, 4), "mine");
  EXPECT_EQ(client().ReadFile("/private", 0, 4), "oooo");
}

TEST_F(FileTest, MsyncMakesTheDirtyPagesOfASharedFileMappingClean) {
  client().WriteFile("/synced", 0, std::string(2 * kPage, '\0'));
  Process p = client().CreateProcess();
  uint64_t a = p.MmapFile("/synced", 0, 2 * kPage);
  p.Write(a + kPage - 3, "dirty!");  // dirties both pages
  MemoryUsage before = p.Mappings().at(0).usage;
  EXPECT_EQ(Dirty(before), 2 * kPage);

  p.Msync(a, 2 * kPage, kMsSync);
  MemoryUsage after = p.Mappings().at(0).usage;
  EXPECT_EQ(Dirty(after), 0u);
  EXPECT_EQ(Clean(after), 2 * kPage);
  EXPECT_EQ(after.rss, 2 * kPage);
  EXPECT_EQ(client().ReadFile("/synced", kPage - 3, 6), "dirty!");

  p.Write(a, "again");
  p.Msync(a, kPage, kMsAsync);  // MS_ASYNC writes back too (see the proto)
  EXPECT_EQ(Dirty(p.Mappings().at(0).usage), 0u);
}

TEST_F(FileTest, MsyncRejectsBadFlagsUnalignedAddressesAndUnmappedRanges) {
  client().WriteFile("/m", 0, std::string(kPage, 'm'));
  Process p = client().CreateProcess();
  uint64_t a = p.MmapFile("/m", 0, kPage);
  EXPECT_EQ(ErrorOf([&] { p.Msync(a, kPage, kMsAsync | kMsSync); }).code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ErrorOf([&] { p.Msync(a + 1, kPage, kMsSync); }).code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  Error e = ErrorOf([&] { p.Msync(a, 2 * kPage, kMsSync); });
  EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(e.errno_name(), "ENOMEM");
}

TEST_F(FileTest, AccessPastEndOfFileIsABusErrorAtTheFirstPageBeyond) {
  client().WriteFile("/one-page", 0, std::string(kPage, 'a'));
  Process p = client().CreateProcess();
  uint64_t a = p.MmapFile("/one-page", 0, 2 * kPage);  // mapping longer than the file is allowed
  EXPECT_EQ(p.Read(a + kPage - 2, 2), "aa");
  Error e = ErrorOf([&] { p.Read(a + kPage - 2, 4); });
  EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(e.is_fault());
  EXPECT_EQ(e.fault_kind(), FaultKind::kBusError);
  EXPECT_EQ(e.fault_address(), a + kPage);
  EXPECT_EQ(e.errno_name(), "SIGBUS");
}

TEST_F(FileTest, TruncateUnderAMappingTurnsAccessesIntoBusErrors) {
  client().WriteFile("/shrinking", 0, std::string(2 * kPage, 's'));
  Process p = client().CreateProcess();
  uint64_t a = p.MmapFile("/shrinking", 0, 2 * kPage);
  EXPECT_EQ(p.Read(a + kPage, 1), "s");
  client().TruncateFile("/shrinking", kPage);
  Error e = ErrorOf([&] { p.Write(a + kPage, "x"); });
  EXPECT_EQ(e.fault_kind(), FaultKind::kBusError);
  EXPECT_EQ(e.fault_address(), a + kPage);
  EXPECT_EQ(p.Read(a, 1), "s");
}

TEST_F(FileTest, MappingAMissingFileIsNotFound) {
  Process p = client().CreateProcess();
  Error e = ErrorOf([&] { p.MmapFile("/absent", 0, kPage); });
  EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace memserver::client
