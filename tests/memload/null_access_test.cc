// The null target's Access: the shape of memserverd's answers with no memory
// work (called directly, without sockets; the handler never touches the
// ServerContext). AccessStream runs the same per request and is covered end
// to end in batch_run_test.cc.
#include <gtest/gtest.h>

#include <string>

#include "client/memload/null_service.h"

namespace memserver::memload {
namespace {

class NullAccessTest : public ::testing::Test {
 protected:
  v1::AccessOp* Add(v1::AccessOp::Kind kind, uint64_t length, size_t data_bytes = 0) {
    v1::AccessOp* op = request_.add_ops();
    op->set_kind(kind);
    op->set_length(length);
    op->set_data(std::string(data_bytes, 'w'));
    return op;
  }
  grpc::Status Access() {
    response_.Clear();
    return service_.Access(nullptr, &request_, &response_);
  }

  NullMemoryService service_;
  v1::AccessRequest request_;
  v1::AccessResponse response_;
};

TEST_F(NullAccessTest, ReadsReturnZerosOfTheirLengthAndWritesNothing) {
  request_.set_tag(42);
  Add(v1::AccessOp::READ, 64);
  Add(v1::AccessOp::WRITE, 0, 100);
  Add(v1::AccessOp::READ, 4096);
  ASSERT_TRUE(Access().ok());
  EXPECT_EQ(response_.tag(), 42u);
  ASSERT_EQ(response_.results_size(), 3);
  EXPECT_EQ(response_.results(0).data(), std::string(64, '\0'));
  EXPECT_FALSE(response_.results(0).has_status());
  EXPECT_TRUE(response_.results(1).data().empty());
  EXPECT_FALSE(response_.results(1).has_status());
  EXPECT_EQ(response_.results(2).data().size(), 4096u);
}

TEST_F(NullAccessTest, BadOpsFailAlone) {
  Add(v1::AccessOp::READ, 0);
  Add(v1::AccessOp::KIND_UNSPECIFIED, 8);
  Add(v1::AccessOp::READ, 8);
  ASSERT_TRUE(Access().ok());
  ASSERT_EQ(response_.results_size(), 3);
  EXPECT_EQ(response_.results(0).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response_.results(1).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response_.results(2).data().size(), 8u);
}

TEST_F(NullAccessTest, BatchLimitsRefuseTheWholeBatch) {
  for (int i = 0; i < kNullMaxAccessOps; ++i) Add(v1::AccessOp::READ, 1);
  ASSERT_TRUE(Access().ok());
  Add(v1::AccessOp::READ, 1);
  EXPECT_EQ(Access().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(response_.results_size(), 0);

  request_.clear_ops();
  Add(v1::AccessOp::READ, kNullMaxIoBytes);
  ASSERT_TRUE(Access().ok());
  Add(v1::AccessOp::WRITE, 0, 1);
  EXPECT_EQ(Access().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(response_.results_size(), 0);

  request_.clear_ops();
  Add(v1::AccessOp::READ, UINT64_MAX);  // refused before anything is allocated
  EXPECT_EQ(Access().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace memserver::memload
