// Error::FromStatus decodes what the server attaches to a status, and
// tolerates whatever else a peer might send.
#include "client/lib/error.h"

#include <grpcpp/support/status.h>
#include <gtest/gtest.h>

#include "memserver/v1/memserver.pb.h"

namespace memserver::client {
namespace {

std::string Details(const std::string& errno_name, v1::FaultKind kind = v1::FAULT_KIND_UNSPECIFIED,
                    uint64_t address = 0) {
  v1::ErrorDetail detail;
  detail.set_errno_name(errno_name);
  detail.set_fault_kind(kind);
  detail.set_fault_address(address);
  v1::RpcStatus status;
  status.set_code(9);
  status.set_message("ignored");
  status.add_details()->PackFrom(detail);
  return status.SerializeAsString();
}

TEST(ErrorTest, FaultDetailBecomesFaultFieldsAndReadableWhat) {
  grpc::Status status(grpc::StatusCode::FAILED_PRECONDITION,
                      "segmentation fault (SIGSEGV) at address 0x7f0000001000",
                      Details("SIGSEGV", v1::SEGV_MAPERR, 0x7f0000001000));
  Error e = Error::FromStatus(status);
  EXPECT_EQ(e.code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(e.errno_name(), "SIGSEGV");
  EXPECT_TRUE(e.is_fault());
  EXPECT_EQ(e.fault_kind(), FaultKind::kMapError);
  EXPECT_EQ(e.fault_address(), 0x7f0000001000u);
  EXPECT_EQ(e.message(), "segmentation fault (SIGSEGV) at address 0x7f0000001000");
  EXPECT_STREQ(e.what(),
               "FAILED_PRECONDITION: segmentation fault (SIGSEGV) at address 0x7f0000001000 [SIGSEGV]");
}

TEST(ErrorTest, EveryFaultKindMaps) {
  EXPECT_EQ(Error::FromStatus({grpc::StatusCode::FAILED_PRECONDITION, "m",
                               Details("SIGSEGV", v1::SEGV_ACCERR, 1)})
                .fault_kind(),
            FaultKind::kAccessError);
  EXPECT_EQ(Error::FromStatus({grpc::StatusCode::FAILED_PRECONDITION, "m",
                               Details("SIGBUS", v1::SIGBUS_ADRERR, 1)})
                .fault_kind(),
            FaultKind::kBusError);
  EXPECT_STREQ(FaultKindName(FaultKind::kAccessError), "SEGV_ACCERR");
  EXPECT_STREQ(FaultKindName(FaultKind::kBusError), "BUS_ADRERR");
}

TEST(ErrorTest, ErrnoWithoutFaultIsNotAFault) {
  Error e = Error::FromStatus({grpc::StatusCode::NOT_FOUND, "no such process 7", Details("ESRCH")});
  EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(e.errno_name(), "ESRCH");
  EXPECT_FALSE(e.is_fault());
  EXPECT_EQ(e.fault_address(), 0u);
  EXPECT_STREQ(e.what(), "NOT_FOUND: no such process 7 [ESRCH]");
}

TEST(ErrorTest, StatusWithoutDetailsKeepsCodeAndMessage) {
  Error e = Error::FromStatus({grpc::StatusCode::UNAVAILABLE, "connection refused"});
  EXPECT_EQ(e.code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(e.errno_name(), "");
  EXPECT_FALSE(e.is_fault());
  EXPECT_STREQ(e.what(), "UNAVAILABLE: connection refused");
}

TEST(ErrorTest, GarbageDetailsAreIgnored) {
  Error e = Error::FromStatus({grpc::StatusCode::INTERNAL, "boom", std::string("\xff\xff\xff", 3)});
  EXPECT_EQ(e.code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(e.errno_name(), "");
  EXPECT_FALSE(e.is_fault());
}

TEST(ErrorTest, UnknownFaultKindAndMalformedErrnoAreDropped) {
  Error e = Error::FromStatus({grpc::StatusCode::FAILED_PRECONDITION, "m",
                               Details("\x1b[31mEVIL", static_cast<v1::FaultKind>(99), 0x1000)});
  EXPECT_FALSE(e.is_fault());
  EXPECT_EQ(e.fault_address(), 0u);
  EXPECT_EQ(e.errno_name(), "");
}

TEST(ErrorTest, DetailOfAnotherTypeIsSkipped) {
  v1::RpcStatus status;
  v1::Mapping not_a_detail;
  status.add_details()->PackFrom(not_a_detail);
  Error e = Error::FromStatus(
      {grpc::StatusCode::INVALID_ARGUMENT, "bad", status.SerializeAsString()});
  EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.errno_name(), "");
}

TEST(ErrorTest, CodeNamesCoverEveryCode) {
  EXPECT_STREQ(StatusCodeName(grpc::StatusCode::OK), "OK");
  EXPECT_STREQ(StatusCodeName(grpc::StatusCode::RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
  EXPECT_STREQ(StatusCodeName(grpc::StatusCode::UNAUTHENTICATED), "UNAUTHENTICATED");
  EXPECT_STREQ(StatusCodeName(static_cast<grpc::StatusCode>(42)), "UNKNOWN");
}

}  // namespace
}  // namespace memserver::client
