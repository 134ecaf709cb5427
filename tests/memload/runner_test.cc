// End to end: RunLoad against the null target served in-process on an
// ephemeral loopback port.
#include "client/memload/runner.h"

#include <gtest/gtest.h>

#include <memory>

#include "client/memload/null_server.h"

namespace memserver::memload {
namespace {

class MemloadNullTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status s = NullServer::Start("127.0.0.1:0", &server_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    options_.server = server_->address();
    options_.workers = 4;
    options_.progress = false;
    options_.working_set_bytes = 1 << 20;
  }

  RunResult Run(const BlockTrace* trace = nullptr) {
    RunResult result;
    Status s = RunLoad(options_, trace, server_->address(), RunHooks(), &result);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return result;
  }

  std::unique_ptr<NullServer> server_;
  LoadOptions options_;
};

TEST_F(MemloadNullTargetTest, RunsExactlyTheRequestedOpCount) {
  options_.ops = 1000;
  const RunResult r = Run();
  EXPECT_EQ(r.measured.total_ops(), 1000u);
  EXPECT_EQ(r.measured.ok_ops(), 1000u);
  EXPECT_EQ(r.measured.failed_ops(), 0u);
  EXPECT_EQ(r.measured.reads.ops, 1000u);
  EXPECT_EQ(r.measured.reads.bytes, 1000u * 4096);
  EXPECT_EQ(r.measured.reads.latency_ns.count(), 1000u);
  EXPECT_EQ(r.measured.page_accesses, 1000u);
  EXPECT_EQ(r.processes, 4);
  EXPECT_EQ(r.channels, 1);
  EXPECT_EQ(r.page_size, 4096u);  // the null target reports none
  EXPECT_GT(r.elapsed_seconds, 0.0);
  EXPECT_GT(r.ops_per_second(), 0.0);
  EXPECT_LT(r.hit_ratio(), 0.0);  // no frame pool, no hit ratio
  EXPECT_FALSE(r.interrupted);
  EXPECT_TRUE(r.cleanup_error.empty());
}

TEST_F(MemloadNullTargetTest, SharedProcessWithMixedOpsCountsBoth) {
  options_.ops = 2000;
  options_.shared_process = true;
  options_.read_ratio = 0.5;
  options_.workers = 8;
  options_.channels = 3;
  options_.workload.kind = Workload::kZipfian;
  const RunResult r = Run();
  EXPECT_EQ(r.processes, 1);
  EXPECT_EQ(r.channels, 3);
  EXPECT_EQ(r.measured.reads.ops + r.measured.writes.ops, 2000u);
  EXPECT_GT(r.measured.reads.ops, 0u);
  EXPECT_GT(r.measured.writes.ops, 0u);
  EXPECT_EQ(r.measured.failed_ops(), 0u);
}

TEST_F(MemloadNullTargetTest, PopulateWritesEveryByteOfEveryProcess) {
  options_.ops = 100;
  options_.populate = true;
  options_.working_set_bytes = (1 << 20) + 4096;  // not a multiple of the chunk
  const RunResult r = Run();
  EXPECT_EQ(r.populated_bytes, 4u * ((1 << 20) + 4096));
  EXPECT_EQ(r.measured.total_ops(), 100u);
}

TEST_F(MemloadNullTargetTest, LargeAccessesAndEveryWorkloadComplete) {
  for (Workload kind : {Workload::kUniform, Workload::kZipfian, Workload::kSequential,
                        Workload::kHotset}) {
    options_.workload.kind = kind;
    options_.ops = 16;
    options_.access_bytes = 1 << 20;
    options_.working_set_bytes = 4 << 20;
    const RunResult r = Run();
    EXPECT_EQ(r.measured.ok_ops(), 16u) << WorkloadName(kind);
    EXPECT_EQ(r.measured.reads.bytes, 16u << 20);
    EXPECT_EQ(r.measured.page_accesses, 16u * 256);
  }
}

TEST_F(MemloadNullTargetTest, TraceReplayEndsAtTheEndOfTheTrace) {
  BlockTrace trace;
  ASSERT_TRUE(ParseTraceText("0 100 0 0\n5000 400 0 1\n", TraceFormat::kArc, &trace).ok());
  options_.trace_path = "in-memory";
  options_.populate = true;
  const RunResult r = Run(&trace);
  EXPECT_EQ(r.processes, 1);
  EXPECT_EQ(r.measured.total_ops(), 500u);
  EXPECT_EQ(r.measured.failed_ops(), 0u);
  EXPECT_EQ(r.region_bytes, 5399u * 4096 + 4096);
  EXPECT_EQ(r.populated_bytes, 500u * 4096);  // the distinct blocks only
}

TEST_F(MemloadNullTargetTest, TraceReplayStopsAtTheOpCount) {
  BlockTrace trace;
  ASSERT_TRUE(ParseTraceText("0 1000 0 0\n", TraceFormat::kArc, &trace).ok());
  options_.trace_path = "in-memory";
  options_.ops = 300;
  const RunResult r = Run(&trace);
  EXPECT_EQ(r.measured.total_ops(), 300u);
}

TEST_F(MemloadNullTargetTest, DurationRunStopsByItself) {
  options_.duration_seconds = 0.2;
  const RunResult r = Run();
  EXPECT_GT(r.measured.total_ops(), 0u);
  EXPECT_EQ(r.measured.failed_ops(), 0u);
}

TEST_F(MemloadNullTargetTest, StopFlagEndsTheRunEarly) {
  options_.duration_seconds = 3600;  // would never end by itself in a test
  std::atomic<bool> stop{true};
  RunHooks hooks;
  hooks.stop = &stop;
  RunResult r;
  ASSERT_TRUE(RunLoad(options_, nullptr, server_->address(), hooks, &r).ok());
  EXPECT_TRUE(r.interrupted);
  EXPECT_EQ(r.measured.total_ops(), 0u);
}

TEST_F(MemloadNullTargetTest, UnreachableServerIsUnavailable) {
  const int port = server_->port();
  server_->Shutdown();
  options_.ops = 10;
  options_.call_timeout_seconds = 0.5;  // bounds the connection attempt
  RunResult r;
  Status s = RunLoad(options_, nullptr, "127.0.0.1:" + std::to_string(port), RunHooks(), &r);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
}

}  // namespace
}  // namespace memserver::memload
