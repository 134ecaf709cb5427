// A faulting access comes back as FAILED_PRECONDITION whose binary details
// (the grpc-status-details-bin trailer) decode to the fault kind and the
// exact first faulting address, and the access changed nothing.
#include "tests/service/service_fixture.h"

namespace memserver::service {
namespace {

using grpc::StatusCode;

TEST_F(ServiceTest, ReadIntoAHoleIsMapErrAtTheFirstUnmappedByte) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 3);
  ASSERT_TRUE(Munmap(pid, addr + 2 * kPage, kPage).ok());
  grpc::Status s = Read(pid, addr + 2 * kPage - 10, 20);
  ASSERT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << Describe(s);
  v1::ErrorDetail detail = DecodeErrorDetail(s);
  EXPECT_EQ(detail.fault_kind(), v1::SEGV_MAPERR);
  EXPECT_EQ(detail.fault_address(), addr + 2 * kPage);
  EXPECT_EQ(detail.errno_name(), "SIGSEGV");
}

TEST_F(ServiceTest, ReadStartingInAHoleIsMapErrAtTheExactAddress) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 2);
  ASSERT_TRUE(Munmap(pid, addr, 2 * kPage).ok());
  grpc::Status s = Read(pid, addr + 123, 1);
  ASSERT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << Describe(s);
  v1::ErrorDetail detail = DecodeErrorDetail(s);
  EXPECT_EQ(detail.fault_kind(), v1::SEGV_MAPERR);
  EXPECT_EQ(detail.fault_address(), addr + 123);
}

TEST_F(ServiceTest, WriteIntoAReadOnlyPageIsAccErrAndChangesNothing) {
  uint64_t pid = CreateProcess();
  uint64_t addr = MapPages(pid, 2);
  ASSERT_TRUE(Write(pid, addr + kPage - 5, std::string(5, 'a')).ok());
  ASSERT_TRUE(Mprotect(pid, addr + kPage, kPage, v1::PROT_READ).ok());

  grpc::Status s = Write(pid, addr + kPage - 5, std::string(10, 'b'));
  ASSERT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << Describe(s);
  v1::ErrorDetail detail = DecodeErrorDetail(s);
  EXPECT_EQ(detail.fault_kind(), v1::SEGV_ACCERR);
  EXPECT_EQ(detail.fault_address(), addr + kPage);
  EXPECT_EQ(detail.errno_name(), "SIGSEGV");

  std::string back;
  ASSERT_TRUE(Read(pid, addr + kPage - 5, 10, &back).ok());
  EXPECT_EQ(back, std::string(5, 'a') + std::string(5, '\0'));
}

TEST_F(ServiceTest, ReadOfAProtNonePageIsAccErrAtTheExactAddress) {
  uint64_t pid = CreateProcess();
  uint64_t addr = 0;
  ASSERT_TRUE(Mmap(pid, 0, 2 * kPage, v1::PROT_NONE, kPrivateAnon, &addr).ok());
  grpc::Status s = Read(pid, addr + kPage + 7, 3);
  ASSERT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << Describe(s);
  v1::ErrorDetail detail = DecodeErrorDetail(s);
  EXPECT_EQ(detail.fault_kind(), v1::SEGV_ACCERR);
  EXPECT_EQ(detail.fault_address(), addr + kPage + 7);
}

TEST_F(ServiceTest, FaultDetailsTravelInTheStandardTrailer) {
  uint64_t pid = CreateProcess();
  v1::ReadRequest request;
  request.set_pid(pid);
  request.set_addr(0x1234'5000);
  request.set_length(8);
  v1::ReadResponse response;
  auto context = Context();
  grpc::Status s = stub_->Read(context.get(), request, &response);
  ASSERT_EQ(s.error_code(), StatusCode::FAILED_PRECONDITION) << Describe(s);

  const auto& trailers = context->GetServerTrailingMetadata();
  auto it = trailers.find("grpc-status-details-bin");
  ASSERT_NE(it, trailers.end());
  v1::RpcStatus rpc_status;  // decoded from the raw trailer, not the Status
  ASSERT_TRUE(rpc_status.ParseFromArray(it->second.data(), static_cast<int>(it->second.size())));
  EXPECT_EQ(rpc_status.code(), static_cast<int>(StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(rpc_status.message(), s.error_message());
  ASSERT_EQ(rpc_status.details_size(), 1);
  v1::ErrorDetail detail;
  ASSERT_TRUE(rpc_status.details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.fault_kind(), v1::SEGV_MAPERR);
  EXPECT_EQ(detail.fault_address(), 0x1234'5000u);
}

}  // namespace
}  // namespace memserver::service
