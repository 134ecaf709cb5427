// The worker loop against a scripted server: failed calls are tallied by
// status code, wrong-length reads are caught, and warm-up ops are not
// counted in the measured phase.
#include "client/memload/worker.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "client/memload/runner.h"
#include "client/memload/target.h"

namespace memserver::memload {
namespace {

// Counts Reads and Writes. Every `fail_every`-th Read fails with NOT_FOUND
// (0: none); Reads return `short_by` bytes fewer than asked.
class ScriptedService final : public v1::Memory::Service {
 public:
  grpc::Status CreateProcess(grpc::ServerContext*, const v1::CreateProcessRequest*,
                             v1::CreateProcessResponse* response) override {
    response->set_pid(++pids_);
    return grpc::Status::OK;
  }
  grpc::Status Exit(grpc::ServerContext*, const v1::ExitRequest*, v1::ExitResponse*) override {
    return grpc::Status::OK;
  }
  grpc::Status Mmap(grpc::ServerContext*, const v1::MmapRequest*,
                    v1::MmapResponse* response) override {
    response->set_addr(1 << 30);
    return grpc::Status::OK;
  }
  grpc::Status Read(grpc::ServerContext*, const v1::ReadRequest* request,
                    v1::ReadResponse* response) override {
    const uint64_t n = ++reads;
    if (fail_every != 0 && n % fail_every == 0) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "scripted failure");
    }
    response->mutable_data()->assign(request->length() - short_by, '\0');
    return grpc::Status::OK;
  }
  grpc::Status Write(grpc::ServerContext*, const v1::WriteRequest*, v1::WriteResponse*) override {
    ++writes;
    return grpc::Status::OK;
  }
  grpc::Status GetStats(grpc::ServerContext*, const v1::GetStatsRequest*,
                        v1::GetStatsResponse* response) override {
    response->mutable_global()->set_page_size(4096);
    return grpc::Status::OK;
  }

  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> writes{0};
  uint64_t fail_every = 0;
  uint64_t short_by = 0;

 private:
  std::atomic<uint64_t> pids_{0};
};

class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
    address_ = "127.0.0.1:" + std::to_string(port_);
    Status s = Target::Connect(address_, 1, std::chrono::seconds(10), &target_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void TearDown() override {
    target_.reset();
    if (server_) server_->Shutdown();
  }

  // Runs one worker for `ops` reads of one page each.
  WorkerStats RunReads(int64_t ops) {
    const Region region{1, 1 << 30, 1 << 20};
    const ItemGeometry g = ComputeGeometry(Workload::kUniform, region.bytes, 4096, 4096);
    auto keys = MakeKeyGenerators(WorkloadSpec(), g.items, 1, false);
    auto stream = MakeSyntheticStream(region, g, std::move(keys.front()), OpMix{1.0, 4096}, 1);
    std::atomic<int64_t> budget{ops};
    PhaseLimits limits;
    limits.run_start = Clock::now();
    limits.op_budget = &budget;
    LiveCounters live;
    WorkerStats stats = RunWorker(target_->stub(0), *stream, limits, &live);
    EXPECT_EQ(live.ops.load(), stats.total_ops());
    EXPECT_EQ(live.errors.load(), stats.failed_ops());
    return stats;
  }

  ScriptedService service_;
  int port_ = 0;
  std::string address_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Target> target_;
};

TEST_F(WorkerTest, FailedCallsAreTalliedByStatusCode) {
  service_.fail_every = 4;
  const WorkerStats stats = RunReads(100);
  EXPECT_EQ(stats.total_ops(), 100u);
  EXPECT_EQ(stats.errors[grpc::StatusCode::NOT_FOUND], 25u);
  EXPECT_EQ(stats.failed_ops(), 25u);
  EXPECT_EQ(stats.reads.ops, 75u);
  EXPECT_EQ(stats.reads.latency_ns.count(), 75u);  // failed calls are not timed
  EXPECT_EQ(service_.reads.load(), 100u);
}

TEST_F(WorkerTest, WrongLengthReadsAreBadResponses) {
  service_.short_by = 1;
  const WorkerStats stats = RunReads(10);
  EXPECT_EQ(stats.bad_responses, 10u);
  EXPECT_EQ(stats.failed_ops(), 10u);
  EXPECT_EQ(stats.reads.ops, 0u);
}

TEST_F(WorkerTest, ExhaustedBudgetStartsNoOp) {
  const WorkerStats stats = RunReads(0);
  EXPECT_EQ(stats.total_ops(), 0u);
  EXPECT_EQ(service_.reads.load(), 0u);
}

TEST_F(WorkerTest, WarmupOpsReachTheServerButAreNotMeasured) {
  LoadOptions options;
  options.workers = 2;
  options.progress = false;
  options.working_set_bytes = 1 << 20;
  options.warmup_seconds = 0.05;
  options.ops = 300;
  RunResult r;
  ASSERT_TRUE(RunLoad(options, nullptr, address_, RunHooks(), &r).ok());
  EXPECT_EQ(r.measured.total_ops(), 300u);
  EXPECT_EQ(service_.reads.load(), r.warmup_ops + 300);
}

TEST_F(WorkerTest, PagesSpannedCountsEveryTouchedPage) {
  EXPECT_EQ(PagesSpanned(0, 4096, 4096), 1u);
  EXPECT_EQ(PagesSpanned(4095, 2, 4096), 2u);
  EXPECT_EQ(PagesSpanned(100, 8, 4096), 1u);
  EXPECT_EQ(PagesSpanned(4096, 1 << 20, 4096), 256u);
  EXPECT_EQ(PagesSpanned(1, 1 << 20, 4096), 257u);
}

}  // namespace
}  // namespace memserver::memload
