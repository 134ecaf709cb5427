// End to end: memload runs with --batch and --stream against the null target
// and against a real memserver, both in-process on ephemeral loopback ports.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "client/memload/null_server.h"
#include "client/memload/runner.h"
#include "server/service/server.h"

namespace memserver::memload {
namespace {

struct Mode {
  int batch;
  bool stream;
};

class BatchRunTest : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    options_.workers = 4;
    options_.progress = false;
    options_.working_set_bytes = 1 << 20;
    options_.access_bytes = 64;
    options_.batch = GetParam().batch;
    options_.stream = GetParam().stream;
  }

  RunResult Run(const std::string& address) {
    RunResult result;
    options_.server = address;
    Status s = RunLoad(options_, nullptr, address, RunHooks(), &result);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return result;
  }

  LoadOptions options_;
};

TEST_P(BatchRunTest, NullTargetRunsExactlyTheRequestedOps) {
  std::unique_ptr<NullServer> server;
  ASSERT_TRUE(NullServer::Start("127.0.0.1:0", &server).ok());
  options_.ops = 1001;  // not a multiple of any batch size
  const RunResult r = Run(server->address());
  EXPECT_EQ(r.measured.total_ops(), 1001u);
  EXPECT_EQ(r.measured.reads.ops, 1001u);
  EXPECT_EQ(r.measured.reads.bytes, 1001u * 64);
  EXPECT_EQ(r.measured.reads.latency_ns.count(), 1001u);
  EXPECT_EQ(r.measured.page_accesses, 1001u);
  EXPECT_EQ(r.measured.failed_ops(), 0u);
  const uint64_t per_call = static_cast<uint64_t>(options_.ops_per_call());
  // Each worker's last batch may be short: at most one short call per worker.
  EXPECT_GE(r.measured.calls, (1001 + per_call - 1) / per_call);
  EXPECT_LE(r.measured.calls, 1001 / per_call + 4);
  EXPECT_EQ(r.ops_per_call, options_.unary() ? 0 : options_.ops_per_call());
  EXPECT_EQ(r.stream, options_.stream);
}

TEST_P(BatchRunTest, RealServerServesMixedBatchesWithoutErrors) {
  std::string dir = ::testing::TempDir() + "memload-batch-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  service::ServerOptions server_options;
  server_options.listen_address = "127.0.0.1:0";
  server_options.data_dir = dir;
  server_options.engine.memory_bytes = 8 << 20;
  std::unique_ptr<service::Server> server;
  Status s = service::Server::Start(server_options, &server);
  ASSERT_TRUE(s.ok()) << s.ToString();

  options_.ops = 4000;
  options_.populate = true;
  options_.read_ratio = 0.5;
  options_.shared_process = GetParam().stream;  // both layouts get covered
  const RunResult r = Run(server->address());
  EXPECT_EQ(r.measured.total_ops(), 4000u);
  EXPECT_EQ(r.measured.failed_ops(), 0u) << "bad responses " << r.measured.bad_responses;
  EXPECT_GT(r.measured.reads.ops, 0u);
  EXPECT_GT(r.measured.writes.ops, 0u);
  EXPECT_GE(r.hit_ratio(), 0.0);  // a real frame pool
  EXPECT_TRUE(r.cleanup_error.empty()) << r.cleanup_error;

  EXPECT_TRUE(server->Shutdown().ok());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST(BatchRefusalTest, RefusedBatchesAreTalliedPerOp) {
  std::unique_ptr<NullServer> server;
  ASSERT_TRUE(NullServer::Start("127.0.0.1:0", &server).ok());
  for (bool stream : {false, true}) {
    LoadOptions options;
    options.server = server->address();
    options.workers = 4;
    options.progress = false;
    // Batches of 1 MiB reads, over the null target's 4 MiB bound.
    options.access_bytes = 1 << 20;
    options.working_set_bytes = 8 << 20;
    options.batch = 5;
    options.stream = stream;
    options.ops = 20;
    RunResult r;
    Status s = RunLoad(options, nullptr, options.server, RunHooks(), &r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(r.measured.ok_ops(), 0u) << stream;
    EXPECT_EQ(r.measured.errors[grpc::StatusCode::RESOURCE_EXHAUSTED], 20u) << stream;
    EXPECT_EQ(r.measured.failed_ops(), 20u) << stream;
    EXPECT_EQ(r.measured.calls, 4u) << stream;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, BatchRunTest,
                         ::testing::Values(Mode{0, false}, Mode{64, false}, Mode{0, true},
                                           Mode{16, true}),
                         [](const ::testing::TestParamInfo<Mode>& info) {
                           return std::string(info.param.stream ? "Stream" : "Call") + "Batch" +
                                  std::to_string(info.param.batch);
                         });

}  // namespace
}  // namespace memserver::memload
