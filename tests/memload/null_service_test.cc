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

}  // namespace
}  // namespace memserver::memload
