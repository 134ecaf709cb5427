// The batch-level checks of an AccessRequest and the per-op status, without
// a server.
#include "server/service/access_batch.h"

#include <gtest/gtest.h>

#include "server/service/status_conversion.h"

namespace memserver::service {
namespace {

constexpr uint64_t kMaxIo = 1 << 20;

void AddOp(v1::AccessRequest* request, v1::AccessOp::Kind kind, uint64_t length,
           size_t data_bytes = 0) {
  v1::AccessOp* op = request->add_ops();
  op->set_kind(kind);
  op->set_length(length);
  op->set_data(std::string(data_bytes, 'd'));
}

TEST(AccessBatchShapeTest, EmptyBatchIsValid) {
  EXPECT_TRUE(ValidateAccessBatchShape(v1::AccessRequest(), kMaxIo).ok());
}

TEST(AccessBatchShapeTest, OpCountIsLimited) {
  v1::AccessRequest request;
  for (size_t i = 0; i < kMaxAccessOps; ++i) AddOp(&request, v1::AccessOp::READ, 1);
  EXPECT_TRUE(ValidateAccessBatchShape(request, kMaxIo).ok());
  AddOp(&request, v1::AccessOp::READ, 1);
  Status s = ValidateAccessBatchShape(request, kMaxIo);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.errno_name(), "EINVAL");
}

TEST(AccessBatchShapeTest, ReadLengthsAndWriteSizesTogetherAreLimited) {
  v1::AccessRequest request;
  AddOp(&request, v1::AccessOp::READ, kMaxIo / 2);
  AddOp(&request, v1::AccessOp::WRITE, 0, kMaxIo / 2);
  EXPECT_TRUE(ValidateAccessBatchShape(request, kMaxIo).ok());
  AddOp(&request, v1::AccessOp::WRITE, 0, 1);
  Status s = ValidateAccessBatchShape(request, kMaxIo);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.errno_name(), "E2BIG");
  EXPECT_NE(s.message().find("1048576"), std::string::npos) << s.message();
}

TEST(AccessBatchShapeTest, OnlyTheFieldOfTheOpsKindCounts) {
  v1::AccessRequest request;
  AddOp(&request, v1::AccessOp::WRITE, UINT64_MAX, 8);  // a write's length is ignored
  AddOp(&request, v1::AccessOp::KIND_UNSPECIFIED, UINT64_MAX);
  AddOp(&request, v1::AccessOp::READ, 8, 4096);  // a read's data is ignored
  EXPECT_TRUE(ValidateAccessBatchShape(request, 16).ok());
}

TEST(AccessBatchShapeTest, WrappingSumIsRefused) {
  v1::AccessRequest request;
  AddOp(&request, v1::AccessOp::READ, 8);
  AddOp(&request, v1::AccessOp::READ, UINT64_MAX - 3);
  EXPECT_EQ(ValidateAccessBatchShape(request, kMaxIo).code(), StatusCode::kResourceExhausted);
}

TEST(AccessBatchRpcStatusTest, OkLeavesEveryFieldUnset) {
  v1::RpcStatus out;
  out.set_code(5);
  ToRpcStatus(Status::OK(), &out);
  EXPECT_EQ(out.ByteSizeLong(), 0u);
}

TEST(AccessBatchRpcStatusTest, ErrorIsTheUnaryCallsDetails) {
  const Status fault = Status::Fault(FaultKind::kAccessError, 0x1234);
  v1::RpcStatus out;
  ToRpcStatus(fault, &out);
  EXPECT_EQ(out.SerializeAsString(), ToGrpcStatus(fault).error_details());
  EXPECT_EQ(out.code(), static_cast<int>(StatusCode::kFailedPrecondition));
  ASSERT_EQ(out.details_size(), 1);
  v1::ErrorDetail detail;
  ASSERT_TRUE(out.details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.fault_kind(), v1::SEGV_ACCERR);
  EXPECT_EQ(detail.fault_address(), 0x1234u);
}

}  // namespace
}  // namespace memserver::service
