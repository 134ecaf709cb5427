// The unary Access call against a real server: ops run in order, each with
// its own result and the unary calls' error details, and the batch limits
// refuse a batch as a whole before any op runs.
#include <gtest/gtest.h>

#include <string>

#include "server/service/access_batch.h"
#include "tests/service/service_fixture.h"

namespace memserver::service {
namespace {

void AddRead(v1::AccessRequest* request, uint64_t addr, uint64_t length) {
  v1::AccessOp* op = request->add_ops();
  op->set_kind(v1::AccessOp::READ);
  op->set_addr(addr);
  op->set_length(length);
}

void AddWrite(v1::AccessRequest* request, uint64_t addr, const std::string& data) {
  v1::AccessOp* op = request->add_ops();
  op->set_kind(v1::AccessOp::WRITE);
  op->set_addr(addr);
  op->set_data(data);
}

// The one ErrorDetail of a per-op status.
v1::ErrorDetail DetailOf(const v1::RpcStatus& status) {
  v1::ErrorDetail detail;
  EXPECT_EQ(status.details_size(), 1);
  if (status.details_size() >= 1) {
    EXPECT_TRUE(status.details(0).UnpackTo(&detail));
  }
  return detail;
}

class AccessCallsTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    pid_ = CreateProcess("access");
    base_ = MapPages(pid_, 2);
  }

  grpc::Status Access(const v1::AccessRequest& request, v1::AccessResponse* response) {
    return Call(&v1::Memory::Stub::Access, request, response);
  }
  v1::AccessRequest Batch() {
    v1::AccessRequest request;
    request.set_pid(pid_);
    return request;
  }

  uint64_t pid_ = 0;
  uint64_t base_ = 0;
};

TEST_F(AccessCallsTest, WriteThenReadInOneBatchSeesTheWrite) {
  v1::AccessRequest request = Batch();
  AddWrite(&request, base_ + kPage - 3, "hello");  // across the page boundary
  AddRead(&request, base_ + kPage - 3, 5);
  v1::AccessResponse response;
  grpc::Status s = Access(request, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(0).status().code(), 0);
  EXPECT_TRUE(response.results(0).data().empty());
  EXPECT_EQ(response.results(1).status().code(), 0);
  EXPECT_EQ(response.results(1).data(), "hello");
}

TEST_F(AccessCallsTest, OpsRunInRequestOrder) {
  v1::AccessRequest request = Batch();
  AddRead(&request, base_, 3);
  AddWrite(&request, base_, "abc");
  AddWrite(&request, base_ + 1, "X");
  AddRead(&request, base_, 3);
  v1::AccessResponse response;
  ASSERT_TRUE(Access(request, &response).ok());
  ASSERT_EQ(response.results_size(), 4);
  EXPECT_EQ(response.results(0).data(), std::string(3, '\0'));
  EXPECT_EQ(response.results(3).data(), "aXc");
}

TEST_F(AccessCallsTest, FaultingOpFailsAloneAndLaterOpsStillApply) {
  const uint64_t unmapped = base_ + 2 * kPage;
  v1::AccessRequest request = Batch();
  AddWrite(&request, base_, "A");
  AddWrite(&request, unmapped - 1, "BB");  // straddles into unmapped memory
  AddRead(&request, unmapped, 8);
  AddWrite(&request, base_ + 1, "C");
  AddRead(&request, base_, 2);
  AddRead(&request, unmapped - 1, 1);      // the faulting write changed nothing
  v1::AccessResponse response;
  grpc::Status s = Access(request, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(response.results_size(), 6);

  const v1::RpcStatus& write_fault = response.results(1).status();
  EXPECT_EQ(write_fault.code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::ErrorDetail detail = DetailOf(write_fault);
  EXPECT_EQ(detail.fault_kind(), v1::SEGV_MAPERR);
  EXPECT_EQ(detail.fault_address(), unmapped);

  const v1::AccessResult& read_fault = response.results(2);
  EXPECT_EQ(read_fault.status().code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(DetailOf(read_fault.status()).fault_address(), unmapped);
  EXPECT_TRUE(read_fault.data().empty());

  EXPECT_EQ(response.results(3).status().code(), 0);
  EXPECT_EQ(response.results(4).data(), "AC");
  EXPECT_EQ(response.results(5).data(), std::string(1, '\0'));
}

TEST_F(AccessCallsTest, OpStatusIsTheUnaryCallsErrorDetails) {
  ASSERT_TRUE(Mprotect(pid_, base_, kPage, v1::PROT_READ).ok());
  v1::AccessRequest request = Batch();
  AddWrite(&request, base_ + 5, "x");
  v1::AccessResponse response;
  ASSERT_TRUE(Access(request, &response).ok());
  ASSERT_EQ(response.results_size(), 1);

  grpc::Status unary = Write(pid_, base_ + 5, "x");
  ASSERT_EQ(unary.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::RpcStatus unary_status;
  ASSERT_TRUE(unary_status.ParseFromString(unary.error_details()));
  EXPECT_EQ(response.results(0).status().SerializeAsString(), unary_status.SerializeAsString());
  EXPECT_EQ(response.results(0).status().message(), unary.error_message());
  v1::ErrorDetail detail = DetailOf(response.results(0).status());
  EXPECT_EQ(detail.fault_kind(), v1::SEGV_ACCERR);
  EXPECT_EQ(detail.errno_name(), DecodeErrorDetail(unary).errno_name());
}

TEST_F(AccessCallsTest, UnknownKindFailsOnlyThatOp) {
  v1::AccessRequest request = Batch();
  request.add_ops()->set_addr(base_);  // KIND_UNSPECIFIED
  v1::AccessOp* unknown = request.add_ops();
  unknown->set_kind(static_cast<v1::AccessOp::Kind>(7));  // open enum: arrives as 7
  unknown->set_addr(base_);
  unknown->set_length(1u << 30);  // not a read: its length counts for nothing
  AddWrite(&request, base_, "k");
  AddRead(&request, base_, 1);
  v1::AccessResponse response;
  grpc::Status s = Access(request, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(response.results_size(), 4);
  for (int i : {0, 1}) {
    EXPECT_EQ(response.results(i).status().code(), grpc::StatusCode::INVALID_ARGUMENT) << i;
    EXPECT_EQ(DetailOf(response.results(i).status()).errno_name(), "EINVAL");
  }
  EXPECT_EQ(response.results(2).status().code(), 0);
  EXPECT_EQ(response.results(3).data(), "k");
}

TEST_F(AccessCallsTest, ZeroLengthReadFailsOnlyThatOp) {
  v1::AccessRequest request = Batch();
  AddRead(&request, base_, 0);
  AddRead(&request, base_, 1);
  v1::AccessResponse response;
  ASSERT_TRUE(Access(request, &response).ok());
  ASSERT_EQ(response.results_size(), 2);
  EXPECT_EQ(response.results(0).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response.results(1).status().code(), 0);
  EXPECT_EQ(response.results(1).data().size(), 1u);
}

TEST_F(AccessCallsTest, EmptyBatchSucceedsWithNoResultsAndEchoesTheTag) {
  v1::AccessRequest request = Batch();
  request.set_tag(77);
  v1::AccessResponse response;
  grpc::Status s = Access(request, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(response.results_size(), 0);
  EXPECT_EQ(response.tag(), 77u);
  EXPECT_FALSE(response.has_status());
}

TEST_F(AccessCallsTest, MaxOpsAreAcceptedAndOneMoreIsRejectedWhole) {
  v1::AccessRequest request = Batch();
  AddWrite(&request, base_, "W");
  for (size_t i = 1; i < kMaxAccessOps; ++i) AddRead(&request, base_ + i % (2 * kPage - 8), 8);
  v1::AccessResponse response;
  grpc::Status s = Access(request, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(response.results_size(), static_cast<int>(kMaxAccessOps));

  request.mutable_ops(0)->set_data("Z");
  AddRead(&request, base_, 8);  // kMaxAccessOps + 1
  response.Clear();
  s = Access(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_NE(s.error_message().find("4096"), std::string::npos) << s.error_message();
  EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "EINVAL");
  std::string data;
  ASSERT_TRUE(Read(pid_, base_, 1, &data).ok());
  EXPECT_EQ(data, "W");  // no op of the refused batch ran
}

TEST_F(AccessCallsTest, TotalOverMaxIoIsResourceExhaustedE2big) {
  // Exactly max I/O is fine.
  v1::AccessRequest request = Batch();
  AddWrite(&request, base_, std::string(kPage, 'a'));
  AddRead(&request, base_, kMaxIo - kPage);  // beyond the mapping: a fault, not a refusal
  v1::AccessResponse response;
  grpc::Status s = Access(request, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(response.results(1).status().code(), grpc::StatusCode::FAILED_PRECONDITION);

  request = Batch();
  AddWrite(&request, base_, "not applied");
  AddRead(&request, base_, kMaxIo / 2);
  AddRead(&request, base_, kMaxIo / 2);
  s = Access(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(s);
  EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "E2BIG");
  std::string data;
  ASSERT_TRUE(Read(pid_, base_, 3, &data).ok());
  EXPECT_EQ(data, "aaa");
}

TEST_F(AccessCallsTest, HugeLengthsAreRefusedWithoutOverflowOrAllocation) {
  v1::AccessRequest request = Batch();
  AddRead(&request, base_, UINT64_MAX);
  v1::AccessResponse response;
  EXPECT_EQ(Access(request, &response).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  // Two lengths whose sum wraps around to a small number.
  request = Batch();
  AddRead(&request, base_, 16);
  AddRead(&request, base_, UINT64_MAX - 7);
  EXPECT_EQ(Access(request, &response).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

TEST_F(AccessCallsTest, UnknownPidIsNotFoundEvenForAnEmptyBatch) {
  v1::AccessRequest request;
  request.set_pid(pid_ + 1000);
  v1::AccessResponse response;
  grpc::Status s = Access(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_EQ(DecodeErrorDetail(s).errno_name(), "ESRCH");

  AddRead(&request, base_, 8);
  s = Access(request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
}

}  // namespace
}  // namespace memserver::service
