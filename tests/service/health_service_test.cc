// HealthServiceImpl (grpc.health.v1.Health) called directly, without
// sockets: which names answer what, before and after shutdown begins, and
// the requests it refuses.
#include "server/service/health_service.h"

#include <gtest/gtest.h>
#include <grpcpp/grpcpp.h>

#include <string>

namespace memserver::service {
namespace {

using grpc::StatusCode;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr const char* kMemory = "memserver.v1.Memory";

class HealthServiceTest : public ::testing::Test {
 protected:
  grpc::Status Check(const std::string& service, HealthCheckResponse* response) {
    grpc::ServerContext context;
    HealthCheckRequest request;
    request.set_service(service);
    return health_.Check(&context, &request, response);
  }

  HealthServiceImpl health_{{kMemory}};
};

TEST_F(HealthServiceTest, ServerAndNamedServiceAreServing) {
  for (const char* service : {"", kMemory}) {
    HealthCheckResponse response;
    grpc::Status s = Check(service, &response);
    ASSERT_TRUE(s.ok()) << service << ": " << s.error_message();
    EXPECT_EQ(response.status(), HealthCheckResponse::SERVING) << service;
  }
}

TEST_F(HealthServiceTest, EveryServiceIsNotServingOnceShutdownBegins) {
  health_.BeginShutdown();
  health_.BeginShutdown();  // idempotent
  EXPECT_FALSE(health_.serving());
  for (const char* service : {"", kMemory}) {
    HealthCheckResponse response;
    grpc::Status s = Check(service, &response);
    ASSERT_TRUE(s.ok()) << service << ": " << s.error_message();
    EXPECT_EQ(response.status(), HealthCheckResponse::NOT_SERVING) << service;
  }
}

TEST_F(HealthServiceTest, UnknownServiceIsNotFoundAndNamed) {
  for (bool shutting_down : {false, true}) {
    if (shutting_down) health_.BeginShutdown();
    HealthCheckResponse response;
    grpc::Status s = Check("no.such.Service", &response);
    EXPECT_EQ(s.error_code(), StatusCode::NOT_FOUND);
    EXPECT_NE(s.error_message().find("'no.such.Service'"), std::string::npos)
        << s.error_message();
  }
  // Names match exactly: no prefix, case folding or trimming.
  for (const char* service : {"memserver.v1", "MEMSERVER.V1.MEMORY", " memserver.v1.Memory"}) {
    HealthCheckResponse response;
    EXPECT_EQ(Check(service, &response).error_code(), StatusCode::NOT_FOUND) << service;
  }
}

TEST_F(HealthServiceTest, ServiceNameOverTheLimitIsInvalidArgument) {
  HealthCheckResponse response;
  // At the limit the name is looked up (and unknown).
  EXPECT_EQ(Check(std::string(kMaxHealthServiceNameBytes, 'x'), &response).error_code(),
            StatusCode::NOT_FOUND);
  grpc::Status s = Check(std::string(kMaxHealthServiceNameBytes + 1, 'x'), &response);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find(std::to_string(kMaxHealthServiceNameBytes)),
            std::string::npos)
      << s.error_message();
}

// Watch needs a real call (a callback reactor): server_test.cc tests it.

}  // namespace
}  // namespace memserver::service
