#include "server/service/request_validation.h"

#include <gtest/gtest.h>

#include <string>

namespace memserver::service {
namespace {

TEST(RequestValidationTest, NameUpToTheLimitIsAccepted) {
  EXPECT_TRUE(ValidateProcessName("", 256).ok());
  EXPECT_TRUE(ValidateProcessName(std::string(256, 'n'), 256).ok());
}

TEST(RequestValidationTest, NameOverTheLimitIsInvalidArgumentNamingBothSizes) {
  Status s = ValidateProcessName(std::string(257, 'n'), 256);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.errno_name(), "ENAMETOOLONG");
  EXPECT_NE(s.message().find("257"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("256"), std::string::npos) << s.message();
}

TEST(RequestValidationTest, ZeroReadLengthIsInvalidArgument) {
  Status s = ValidateReadLength(0, 4096);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.errno_name(), "EINVAL");
}

TEST(RequestValidationTest, ReadUpToMaxIoIsAccepted) {
  EXPECT_TRUE(ValidateReadLength(1, 4ull << 20).ok());
  EXPECT_TRUE(ValidateReadLength(4ull << 20, 4ull << 20).ok());
}

TEST(RequestValidationTest, ReadOverMaxIoIsResourceExhaustedNamingTheLimit) {
  for (uint64_t length : {uint64_t{(4ull << 20) + 1}, uint64_t{UINT64_MAX}}) {
    Status s = ValidateReadLength(length, 4ull << 20);
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(s.errno_name(), "E2BIG");
    EXPECT_NE(s.message().find("4194304 bytes (4MiB)"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(std::to_string(length)), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace memserver::service
