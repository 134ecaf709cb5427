#include "client/memload/null_service.h"

#include <gtest/gtest.h>

namespace memserver::memload {
namespace {

// The handlers called directly, without sockets (they never touch the
// ServerContext).
class NullServiceTest : public ::testing::Test {
 protected:
  NullMemoryService service_;
};

TEST_F(NullServiceTest, CreateProcessReturnsIncreasingPids) {
  v1::CreateProcessRequest request;
  v1::CreateProcessResponse first, second;
  ASSERT_TRUE(service_.CreateProcess(nullptr, &request, &first).ok());
  ASSERT_TRUE(service_.CreateProcess(nullptr, &request, &second).ok());
  EXPECT_GT(first.pid(), 0u);
  EXPECT_GT(second.pid(), first.pid());
}

TEST_F(NullServiceTest, OverlongProcessNameIsInvalidArgument) {
  v1::CreateProcessRequest request;
  request.set_name(std::string(257, 'x'));
  v1::CreateProcessResponse response;
  EXPECT_EQ(service_.CreateProcess(nullptr, &request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(NullServiceTest, MmapReturnsTheFixedAddress) {
  v1::MmapRequest request;
  request.set_length(1 << 20);
  v1::MmapResponse response;
  ASSERT_TRUE(service_.Mmap(nullptr, &request, &response).ok());
  EXPECT_EQ(response.addr(), kNullMmapAddress);
  request.set_length(0);
  EXPECT_EQ(service_.Mmap(nullptr, &request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(NullServiceTest, ReadReturnsLengthZeroBytes) {
  v1::ReadRequest request;
  request.set_length(4096);
  v1::ReadResponse response;
  ASSERT_TRUE(service_.Read(nullptr, &request, &response).ok());
  EXPECT_EQ(response.data(), std::string(4096, '\0'));
  request.set_length(kNullMaxIoBytes);
  ASSERT_TRUE(service_.Read(nullptr, &request, &response).ok());
  EXPECT_EQ(response.data().size(), kNullMaxIoBytes);
}

TEST_F(NullServiceTest, ReadBeyondTheIoBoundIsResourceExhausted) {
  v1::ReadRequest request;
  request.set_length(kNullMaxIoBytes + 1);
  v1::ReadResponse response;
  EXPECT_EQ(service_.Read(nullptr, &request, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(response.data().empty());
  request.set_length(UINT64_MAX);
  EXPECT_EQ(service_.Read(nullptr, &request, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  request.set_length(0);
  EXPECT_EQ(service_.Read(nullptr, &request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(NullServiceTest, WriteSucceedsWithinTheIoBound) {
  v1::WriteRequest request;
  request.set_data(std::string(4096, 'a'));
  v1::WriteResponse response;
  EXPECT_TRUE(service_.Write(nullptr, &request, &response).ok());
  request.set_data(std::string(kNullMaxIoBytes + 1, 'a'));
  EXPECT_EQ(service_.Write(nullptr, &request, &response).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(NullServiceTest, GetStatsReturnsZeros) {
  v1::GetStatsRequest request;
  request.set_pid(5);
  v1::GetStatsResponse response;
  ASSERT_TRUE(service_.GetStats(nullptr, &request, &response).ok());
  EXPECT_EQ(response.process().pid(), 5u);
  EXPECT_EQ(response.global().major_faults(), 0u);
  EXPECT_EQ(response.global().frames_total(), 0u);
  EXPECT_EQ(response.global().page_size(), 0u);
}

TEST_F(NullServiceTest, EverythingElseSucceedsEmpty) {
  v1::ExitRequest exit_request;
  v1::ExitResponse exit_response;
  EXPECT_TRUE(service_.Exit(nullptr, &exit_request, &exit_response).ok());
  v1::MunmapRequest munmap_request;
  v1::MunmapResponse munmap_response;
  EXPECT_TRUE(service_.Munmap(nullptr, &munmap_request, &munmap_response).ok());
  v1::MprotectRequest mprotect_request;
  v1::MprotectResponse mprotect_response;
  EXPECT_TRUE(service_.Mprotect(nullptr, &mprotect_request, &mprotect_response).ok());
  v1::ListProcessesRequest ps_request;
  v1::ListProcessesResponse ps_response;
  EXPECT_TRUE(service_.ListProcesses(nullptr, &ps_request, &ps_response).ok());
  EXPECT_EQ(ps_response.processes_size(), 0);
  v1::ListMappingsRequest maps_request;
  v1::ListMappingsResponse maps_response;
  EXPECT_TRUE(service_.ListMappings(nullptr, &maps_request, &maps_response).ok());
  EXPECT_EQ(maps_response.mappings_size(), 0);
}

TEST_F(NullServiceTest, ForkAndExecAnswerWithoutMemoryWork) {
  v1::CreateProcessRequest create;
  v1::CreateProcessResponse parent;
  ASSERT_TRUE(service_.CreateProcess(nullptr, &create, &parent).ok());
  v1::ForkRequest fork;
  fork.set_pid(parent.pid());
  v1::ForkResponse child;
  ASSERT_TRUE(service_.Fork(nullptr, &fork, &child).ok());
  EXPECT_GT(child.child_pid(), parent.pid());

  v1::ExecRequest exec;
  exec.set_pid(child.child_pid());
  exec.set_path("/memload/true");
  v1::ExecResponse image;
  ASSERT_TRUE(service_.Exec(nullptr, &exec, &image).ok());
  EXPECT_EQ(image.entry(), kNullExecEntry);
  EXPECT_EQ(image.segments(), 1u);
  exec.set_path("relative/true");
  EXPECT_EQ(service_.Exec(nullptr, &exec, &image).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(NullServiceTest, FileCallsKeepNothingAndValidatePaths) {
  v1::WriteFileRequest write;
  write.set_path("/memload/true");
  write.set_offset(4096);
  write.set_data(std::string(100, 'x'));
  v1::FileInfo info;
  ASSERT_TRUE(service_.WriteFile(nullptr, &write, &info).ok());
  EXPECT_EQ(info.size(), 4196u);
  EXPECT_EQ(info.path(), "/memload/true");

  v1::StatFileRequest stat;
  stat.set_path("/memload/true");
  EXPECT_EQ(service_.StatFile(nullptr, &stat, &info).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::ReadFileRequest read;
  read.set_path("/memload/true");
  v1::ReadFileResponse data;
  EXPECT_EQ(service_.ReadFile(nullptr, &read, &data).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::DeleteFileRequest del;
  del.set_path("/memload/true");
  v1::DeleteFileResponse deleted;
  EXPECT_TRUE(service_.DeleteFile(nullptr, &del, &deleted).ok());

  // Hostile shapes: no path, a relative or overlong one, an offset that
  // would overflow, a payload over the I/O bound.
  for (const std::string& path : {std::string(), std::string("a/b"), "/" + std::string(4096, 'p')}) {
    write.set_path(path);
    EXPECT_EQ(service_.WriteFile(nullptr, &write, &info).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    del.set_path(path);
    EXPECT_EQ(service_.DeleteFile(nullptr, &del, &deleted).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  write.set_path("/f");
  write.set_offset(UINT64_MAX - 10);
  EXPECT_EQ(service_.WriteFile(nullptr, &write, &info).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  write.set_offset(0);
  write.set_data(std::string(kNullMaxIoBytes + 1, 'x'));
  EXPECT_EQ(service_.WriteFile(nullptr, &write, &info).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace memserver::memload
