#include "server/service/status_conversion.h"

#include <gtest/gtest.h>

#include "memserver/v1/memserver.pb.h"

namespace memserver::service {
namespace {

// Decodes grpc-status-details-bin as a client would.
v1::RpcStatus DecodeDetails(const grpc::Status& status) {
  v1::RpcStatus rpc_status;
  EXPECT_TRUE(rpc_status.ParseFromString(status.error_details()));
  return rpc_status;
}

v1::ErrorDetail OnlyDetail(const v1::RpcStatus& rpc_status) {
  v1::ErrorDetail detail;
  EXPECT_EQ(rpc_status.details_size(), 1);
  if (rpc_status.details_size() == 1) {
    EXPECT_TRUE(rpc_status.details(0).Is<v1::ErrorDetail>())
        << rpc_status.details(0).type_url();
    EXPECT_TRUE(rpc_status.details(0).UnpackTo(&detail));
  }
  return detail;
}

TEST(StatusConversionTest, OkHasNoMessageAndNoDetails) {
  grpc::Status g = ToGrpcStatus(Status::OK());
  EXPECT_TRUE(g.ok());
  EXPECT_EQ(g.error_message(), "");
  EXPECT_EQ(g.error_details(), "");
}

TEST(StatusConversionTest, EveryCodeKeepsItsNumber) {
  for (int code = 1; code <= 15; ++code) {
    Status s(static_cast<StatusCode>(code), "boom", nullptr);
    grpc::Status g = ToGrpcStatus(s);
    EXPECT_EQ(static_cast<int>(g.error_code()), code);
    EXPECT_EQ(DecodeDetails(g).code(), code);
  }
}

TEST(StatusConversionTest, MessageAndErrnoNameTravel) {
  grpc::Status g = ToGrpcStatus(Status::InvalidArgument("length must be > 0"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(g.error_message(), "length must be > 0");
  v1::RpcStatus rpc_status = DecodeDetails(g);
  EXPECT_EQ(rpc_status.message(), "length must be > 0");
  v1::ErrorDetail detail = OnlyDetail(rpc_status);
  EXPECT_EQ(detail.errno_name(), "EINVAL");
  EXPECT_EQ(detail.fault_kind(), v1::FAULT_KIND_UNSPECIFIED);
  EXPECT_EQ(detail.fault_address(), 0u);
}

TEST(StatusConversionTest, ErrorWithoutErrnoStillCarriesADetail) {
  grpc::Status g = ToGrpcStatus(Status::Unavailable("store closed"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(OnlyDetail(DecodeDetails(g)).errno_name(), "");
}

TEST(StatusConversionTest, FaultKindAndAddressTravel) {
  struct Case {
    FaultKind kind;
    v1::FaultKind proto;
    uint64_t address;
  };
  for (const Case& c : {Case{FaultKind::kMapError, v1::SEGV_MAPERR, 0x7fff'0000'1000},
                        Case{FaultKind::kAccessError, v1::SEGV_ACCERR, 0x10'0123},
                        Case{FaultKind::kBusError, v1::SIGBUS_ADRERR, UINT64_MAX}}) {
    grpc::Status g = ToGrpcStatus(Status::Fault(c.kind, c.address));
    EXPECT_EQ(g.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(g.error_message(), Status::Fault(c.kind, c.address).message());
    v1::ErrorDetail detail = OnlyDetail(DecodeDetails(g));
    EXPECT_EQ(detail.fault_kind(), c.proto);
    EXPECT_EQ(detail.fault_address(), c.address);
    EXPECT_EQ(detail.errno_name(), c.kind == FaultKind::kBusError ? "SIGBUS" : "SIGSEGV");
  }
}

TEST(StatusConversionTest, DetailsUseTheStandardAnyTypeUrl) {
  v1::RpcStatus rpc_status = DecodeDetails(ToGrpcStatus(Status::NotFound("no pid 7")));
  ASSERT_EQ(rpc_status.details_size(), 1);
  EXPECT_EQ(rpc_status.details(0).type_url(), "type.googleapis.com/memserver.v1.ErrorDetail");
}

}  // namespace
}  // namespace memserver::service
