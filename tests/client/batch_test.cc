// Batch and Client::Access against an in-process server: ops in order,
// per-op errors decoded like the unary calls' Errors, whole-batch refusals
// thrown.
#include <string>

#include "client/lib/batch.h"
#include "tests/client/client_fixture.h"

namespace memserver::client {
namespace {

using AccessTest = ClientTest;

TEST(BatchTest, OpsAreIndexedInOrderAndBytesAreCounted) {
  Batch batch;
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.Write(0x1000, "abc"), 0u);
  EXPECT_EQ(batch.Read(0x2000, 64), 1u);
  EXPECT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.bytes(), 67u);
  EXPECT_TRUE(batch.ops()[0].write);
  EXPECT_EQ(batch.ops()[0].data, "abc");
  EXPECT_EQ(batch.ops()[0].length, 3u);
  EXPECT_FALSE(batch.ops()[1].write);
  EXPECT_EQ(batch.ops()[1].addr, 0x2000u);
  batch.Read(0, UINT64_MAX);
  EXPECT_EQ(batch.bytes(), UINT64_MAX);  // saturates
  batch.Clear();
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(batch.bytes(), 0u);
}

TEST_F(AccessTest, ReadsSeeEarlierWritesOfTheSameBatch) {
  Process p = client().CreateProcess();
  const uint64_t a = p.Mmap(0, 2 * kPage, kRw);
  Batch batch;
  const size_t before = batch.Read(a + kPage - 2, 4);
  batch.Write(a + kPage - 2, "wxyz");
  const size_t after = batch.Read(a + kPage - 2, 4);
  std::vector<OpResult> results = client().Access(p.pid(), batch);
  ASSERT_EQ(results.size(), 3u);
  for (const OpResult& r : results) EXPECT_TRUE(r.ok()) << r.error->what();
  EXPECT_EQ(results[before].data, std::string(4, '\0'));
  EXPECT_TRUE(results[1].data.empty());
  EXPECT_EQ(results[after].data, "wxyz");
  EXPECT_EQ(p.Read(a + kPage - 2, 4), "wxyz");
}

TEST_F(AccessTest, FaultingOpCarriesTheUnaryErrorAndLaterOpsApply) {
  Process p = client().CreateProcess();
  const uint64_t a = p.Mmap(0, kPage, kRw);
  p.Mprotect(a, kPage, kProtRead);
  Batch batch;
  batch.Write(a + 8, "no");   // read-only: SEGV_ACCERR
  batch.Read(a + kPage, 1);   // unmapped: SEGV_MAPERR
  batch.Read(a + 8, 2);
  std::vector<OpResult> results = client().Access(p.pid(), batch);
  ASSERT_EQ(results.size(), 3u);

  ASSERT_FALSE(results[0].ok());
  const Error unary = ErrorOf([&] { client().Write(p.pid(), a + 8, "no"); });
  const Error& batched = *results[0].error;
  EXPECT_EQ(batched.code(), unary.code());
  EXPECT_EQ(batched.message(), unary.message());
  EXPECT_EQ(batched.errno_name(), unary.errno_name());
  EXPECT_EQ(batched.fault_kind(), FaultKind::kAccessError);
  EXPECT_EQ(batched.fault_address(), a + 8);
  EXPECT_STREQ(batched.what(), unary.what());

  ASSERT_FALSE(results[1].ok());
  EXPECT_EQ(results[1].error->code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(results[1].error->fault_kind(), FaultKind::kMapError);
  EXPECT_EQ(results[1].error->fault_address(), a + kPage);
  EXPECT_TRUE(results[1].data.empty());

  ASSERT_TRUE(results[2].ok());
  EXPECT_EQ(results[2].data, std::string(2, '\0'));
}

TEST_F(AccessTest, RefusedBatchThrowsAndRunsNothing) {
  Process p = client().CreateProcess();
  const uint64_t a = p.Mmap(0, kPage, kRw);
  Batch batch;
  batch.Write(a, "x");
  for (size_t i = 1; i <= kMaxBatchOps; ++i) batch.Read(a, 1);
  Error e = ErrorOf([&] { client().Access(p.pid(), batch); });
  EXPECT_EQ(e.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(p.Read(a, 1), std::string(1, '\0'));

  Batch big;
  big.Read(a, kMaxIo);
  big.Write(a, "y");
  e = ErrorOf([&] { client().Access(p.pid(), big); });
  EXPECT_EQ(e.code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(e.errno_name(), "E2BIG");

  Batch small;
  small.Read(a, 1);
  e = ErrorOf([&] { client().Access(p.pid() + 1000, small); });
  EXPECT_EQ(e.code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(e.errno_name(), "ESRCH");
}

TEST_F(AccessTest, EmptyBatchReturnsNoResults) {
  Process p = client().CreateProcess();
  EXPECT_TRUE(client().Access(p.pid(), Batch()).empty());
}

TEST_F(AccessTest, MaxIoBytesInOneBatchAreRead) {
  Process p = client().CreateProcess();
  const uint64_t a = p.Mmap(0, kMaxIo, kRw);
  p.Write(a + kMaxIo - 3, "end");
  Batch batch;
  batch.Read(a, kMaxIo / 2);
  batch.Read(a + kMaxIo / 2, kMaxIo / 2);
  std::vector<OpResult> results = client().Access(p.pid(), batch);
  ASSERT_EQ(results.size(), 2u);
  ASSERT_TRUE(results[1].ok());
  EXPECT_EQ(results[1].data.size(), kMaxIo / 2);
  EXPECT_EQ(results[1].data.substr(kMaxIo / 2 - 3), "end");
}

}  // namespace
}  // namespace memserver::client
