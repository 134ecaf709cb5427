// The file store calls through the service, and file mappings (mmap with a
// path, msync).
#include "tests/service/service_fixture.h"

namespace memserver::service {
namespace {

using grpc::StatusCode;

class FileCallsTest : public ServiceTest {
 protected:
  grpc::Status WriteFile(const std::string& path, uint64_t offset, const std::string& data,
                         v1::FileInfo* info = nullptr) {
    v1::WriteFileRequest request;
    request.set_path(path);
    request.set_offset(offset);
    request.set_data(data);
    v1::FileInfo response;
    grpc::Status s = Call(&v1::Memory::Stub::WriteFile, request, &response);
    if (info) *info = response;
    return s;
  }
  grpc::Status ReadFile(const std::string& path, uint64_t offset, uint64_t length,
                        std::string* data = nullptr) {
    v1::ReadFileRequest request;
    request.set_path(path);
    request.set_offset(offset);
    request.set_length(length);
    v1::ReadFileResponse response;
    grpc::Status s = Call(&v1::Memory::Stub::ReadFile, request, &response);
    if (data) *data = response.data();
    return s;
  }
  grpc::Status StatFile(const std::string& path, v1::FileInfo* info) {
    v1::StatFileRequest request;
    request.set_path(path);
    return Call(&v1::Memory::Stub::StatFile, request, info);
  }
};

TEST_F(FileCallsTest, CreateWriteReadStatTruncateDelete) {
  v1::CreateFileRequest create;
  create.set_path("/data/a");
  v1::FileInfo info;
  ASSERT_TRUE(Call(&v1::Memory::Stub::CreateFile, create, &info).ok());
  EXPECT_EQ(info.path(), "/data/a");
  EXPECT_EQ(info.size(), 0u);
  EXPECT_NE(info.inode(), 0u);
  grpc::Status s = Call(&v1::Memory::Stub::CreateFile, create, &info);
  EXPECT_EQ(s.error_code(), StatusCode::ALREADY_EXISTS) << Describe(s);

  ASSERT_TRUE(WriteFile("/data/a", 5000, "hello", &info).ok());
  EXPECT_EQ(info.size(), 5005u);
  std::string back;
  ASSERT_TRUE(ReadFile("/data/a", 4998, 100, &back).ok());
  EXPECT_EQ(back, std::string(2, '\0') + "hello");  // short at end of file

  v1::TruncateFileRequest truncate;
  truncate.set_path("/data/a");
  truncate.set_size(10);
  v1::TruncateFileResponse truncated;
  ASSERT_TRUE(Call(&v1::Memory::Stub::TruncateFile, truncate, &truncated).ok());
  ASSERT_TRUE(StatFile("/data/a", &info).ok());
  EXPECT_EQ(info.size(), 10u);

  v1::DeleteFileRequest del;
  del.set_path("/data/a");
  v1::DeleteFileResponse deleted;
  ASSERT_TRUE(Call(&v1::Memory::Stub::DeleteFile, del, &deleted).ok());
  s = StatFile("/data/a", &info);
  EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND) << Describe(s);
}

TEST_F(FileCallsTest, ListFilesByPrefixInPathOrder) {
  for (const char* path : {"/x/2", "/x/1", "/y/1"}) ASSERT_TRUE(WriteFile(path, 0, path).ok());
  v1::ListFilesRequest request;
  request.set_prefix("/x/");
  v1::ListFilesResponse response;
  ASSERT_TRUE(Call(&v1::Memory::Stub::ListFiles, request, &response).ok());
  ASSERT_EQ(response.files_size(), 2);
  EXPECT_EQ(response.files(0).path(), "/x/1");
  EXPECT_EQ(response.files(1).path(), "/x/2");
  EXPECT_EQ(response.files(1).size(), 4u);
}

TEST_F(FileCallsTest, ReadFileOverMaxIoIsResourceExhausted) {
  ASSERT_TRUE(WriteFile("/f", 0, "x").ok());
  for (uint64_t length : {kMaxIo + 1, uint64_t{UINT64_MAX}}) {
    grpc::Status s = ReadFile("/f", 0, length);
    EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
  }
}

TEST_F(FileCallsTest, BadPathsAreInvalidArgument) {
  for (const std::string& path : {std::string("relative"), std::string(""),
                                  "/" + std::string(5000, 'p')}) {
    grpc::Status s = WriteFile(path, 0, "x");
    EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT) << path.size() << " " << Describe(s);
  }
}

TEST_F(FileCallsTest, SharedFileMappingWritesReachTheFileOnMsync) {
  ASSERT_TRUE(WriteFile("/shared", 0, std::string(2 * kPage, 'f')).ok());
  uint64_t pid = CreateProcess();
  v1::MmapRequest map;
  map.set_pid(pid);
  map.set_length(kPage);
  map.set_prot(kRw);
  map.set_flags(v1::MAP_SHARED);
  map.set_path("/shared");
  map.set_offset(kPage);
  v1::MmapResponse mapped;
  grpc::Status s = Call(&v1::Memory::Stub::Mmap, map, &mapped);
  ASSERT_TRUE(s.ok()) << Describe(s);
  std::string back;
  ASSERT_TRUE(Read(pid, mapped.addr(), 3, &back).ok());
  EXPECT_EQ(back, "fff");
  ASSERT_TRUE(Write(pid, mapped.addr() + 10, "via memory").ok());

  v1::MsyncRequest sync;
  sync.set_pid(pid);
  sync.set_addr(mapped.addr());
  sync.set_length(kPage);
  sync.set_flags(v1::MS_SYNC);
  v1::MsyncResponse synced;
  ASSERT_TRUE(Call(&v1::Memory::Stub::Msync, sync, &synced).ok());
  ASSERT_TRUE(ReadFile("/shared", kPage + 10, 10, &back).ok());
  EXPECT_EQ(back, "via memory");

  v1::ListMappingsRequest list;
  list.set_pid(pid);
  v1::ListMappingsResponse mappings;
  ASSERT_TRUE(Call(&v1::Memory::Stub::ListMappings, list, &mappings).ok());
  ASSERT_EQ(mappings.mappings_size(), 1);
  EXPECT_EQ(mappings.mappings(0).backing(), "/shared");
  EXPECT_EQ(mappings.mappings(0).offset(), kPage);
}

}  // namespace
}  // namespace memserver::service
