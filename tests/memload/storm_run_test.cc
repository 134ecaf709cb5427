// End to end: the fork and exec storms against a real memserver and against
// the null target, both in-process on ephemeral loopback ports.
#include <gtest/gtest.h>
#include <grpcpp/client_context.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "client/memload/null_server.h"
#include "client/memload/report.h"
#include "client/memload/runner.h"
#include "client/memload/storm.h"
#include "client/memload/target.h"
#include "server/service/server.h"

namespace memserver::memload {
namespace {

constexpr const char* kBinary = "/bin/true";

// Step indexes (storm.h's order).
enum : size_t { kFork, kForkWrite, kForkExit, kForkCycle };
enum : size_t { kCreate, kExec, kExecRead, kExecExit, kExecCycle };

uint64_t FilePages(const std::string& path, uint64_t page_size) {
  return (std::filesystem::file_size(path) + page_size - 1) / page_size;
}

// Every timeline entry in order, covering the measured phase, ops summing
// to the total and percentiles ordered.
void ExpectTimelineCoversRun(const RunResult& r, double interval) {
  ASSERT_FALSE(r.timeline.empty());
  uint64_t ops = 0;
  uint64_t errors = 0;
  for (size_t i = 0; i < r.timeline.size(); ++i) {
    const TimelineEntry& e = r.timeline[i];
    EXPECT_DOUBLE_EQ(e.t_start_s, static_cast<double>(i) * interval) << i;
    EXPECT_GT(e.seconds, 0.0) << i;
    EXPECT_LE(e.p50_ns, e.p90_ns) << i;
    EXPECT_LE(e.p90_ns, e.p99_ns) << i;
    EXPECT_LE(e.p99_ns, e.max_ns) << i;
    ops += e.ops;
    errors += e.errors;
  }
  EXPECT_EQ(ops, r.measured.total_ops());
  EXPECT_EQ(errors, r.measured.failed_ops());
  const TimelineEntry& last = r.timeline.back();
  EXPECT_NEAR(last.t_start_s + last.seconds, r.elapsed_seconds, 1e-6);
  EXPECT_EQ(r.timeline.size(),
            static_cast<size_t>(std::max(1.0, std::ceil(r.elapsed_seconds / interval - 1e-9))));
}

class StormRealServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "memload-storm-XXXXXX";
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
    service::ServerOptions server_options;
    server_options.listen_address = "127.0.0.1:0";
    server_options.data_dir = dir_;
    server_options.engine.memory_bytes = 16 << 20;
    Status s = service::Server::Start(server_options, &server_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    options_.server = server_->address();
    options_.workers = 4;
    options_.progress = false;
    options_.working_set_bytes = 256 << 10;
    options_.interval_seconds = 0.05;
  }

  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_TRUE(server_->Shutdown().ok());
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  RunResult Run() {
    RunResult result;
    Status s = RunLoad(options_, nullptr, server_->address(), RunHooks(), &result);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return result;
  }

  // The server's live processes, through a fresh connection.
  uint64_t LiveProcesses() {
    std::unique_ptr<Target> target;
    EXPECT_TRUE(Target::Connect(server_->address(), 1, std::chrono::seconds(10), &target).ok());
    v1::GlobalStats stats;
    EXPECT_TRUE(target->GetGlobalStats(&stats).ok());
    return stats.processes();
  }

  grpc::StatusCode StatFile(const std::string& path) {
    std::unique_ptr<Target> target;
    EXPECT_TRUE(Target::Connect(server_->address(), 1, std::chrono::seconds(10), &target).ok());
    v1::StatFileRequest request;
    request.set_path(path);
    v1::FileInfo info;
    grpc::ClientContext context;
    return target->stub(0).StatFile(&context, request, &info).error_code();
  }

  std::string dir_;
  std::unique_ptr<service::Server> server_;
  LoadOptions options_;
};

TEST_F(StormRealServerTest, ForkStormCountsCyclesAndLeaksNoProcess) {
  options_.storm = Storm::kFork;
  options_.populate = true;
  options_.ops = 200;
  const uint64_t before = LiveProcesses();
  const RunResult r = Run();
  EXPECT_EQ(r.measured.cycles, 200u);
  EXPECT_EQ(r.measured.total_ops(), 200u);
  EXPECT_EQ(r.measured.failed_ops(), 0u);
  ASSERT_EQ(r.measured.steps.size(), 4u);
  for (size_t step : {kFork, kForkWrite, kForkExit, kForkCycle}) {
    EXPECT_EQ(r.measured.steps[step].ok.ops, 200u) << step;
    EXPECT_EQ(r.measured.steps[step].failed, 0u) << step;
    EXPECT_EQ(r.measured.steps[step].ok.latency_ns.count(), 200u) << step;
  }
  EXPECT_EQ(r.measured.steps[kForkWrite].ok.bytes, 200u * 4096);
  EXPECT_EQ(r.measured.calls, 600u);
  // The parents (populated: every page written) live through the phase; no
  // child survives its cycle, and the parents are gone after the run.
  EXPECT_EQ(r.populated_bytes, 4u * (256 << 10));
  EXPECT_EQ(r.stats_before.processes(), before + 4);
  EXPECT_EQ(r.stats_after.processes(), before + 4);
  EXPECT_EQ(LiveProcesses(), before);
  EXPECT_TRUE(r.cleanup_error.empty()) << r.cleanup_error;
  ExpectTimelineCoversRun(r, options_.interval_seconds);

  // The report: a row per step and the cycle, the storm and timeline in JSON.
  const std::string summary = FormatSummary(options_, r, nullptr);
  for (const char* row : {"fork ", "write ", "exit ", "cycle "}) {
    EXPECT_NE(summary.find(std::string("\n") + row), std::string::npos) << row << summary;
  }
  const nlohmann::json json = ReportJson(options_, r, nullptr);
  EXPECT_EQ(json["options"]["workload"], "fork-storm");
  EXPECT_EQ(json["run"]["storm"]["steps"]["fork"]["ok"], 200u);
  EXPECT_EQ(json["run"]["ops"]["cycles"], 200u);
  EXPECT_EQ(json["run"]["timeline"].size(), r.timeline.size());
}

TEST_F(StormRealServerTest, ForkStormOfOneSharedParentEndsByDurationWithoutLeaks) {
  options_.storm = Storm::kFork;
  options_.shared_process = true;
  options_.duration_seconds = 0.3;
  const uint64_t before = LiveProcesses();
  const RunResult r = Run();
  EXPECT_EQ(r.processes, 1);
  EXPECT_GT(r.measured.cycles, 0u);
  EXPECT_EQ(r.measured.failed_ops(), 0u);
  EXPECT_EQ(r.measured.steps[kForkExit].ok.ops, r.measured.steps[kFork].ok.ops);
  EXPECT_EQ(r.stats_after.processes(), before + 1);
  EXPECT_EQ(LiveProcesses(), before);
  ExpectTimelineCoversRun(r, options_.interval_seconds);
}

TEST_F(StormRealServerTest, ExecStormSharesTheBinaryTextAndRemovesIt) {
  options_.storm = Storm::kExec;
  options_.exec_binary = kBinary;
  options_.ops = 64;
  const uint64_t before = LiveProcesses();
  const RunResult r = Run();
  EXPECT_EQ(r.measured.cycles, 64u);
  EXPECT_EQ(r.measured.failed_ops(), 0u) << "bad responses " << r.measured.bad_responses;
  ASSERT_EQ(r.measured.steps.size(), 5u);
  for (size_t step : {kCreate, kExec, kExecRead, kExecExit, kExecCycle}) {
    EXPECT_EQ(r.measured.steps[step].ok.ops, 64u) << step;
  }
  EXPECT_EQ(r.measured.calls, 64u * 4);
  EXPECT_EQ(r.processes, 0);
  EXPECT_EQ(r.exec_path, "/memload/true");
  EXPECT_TRUE(r.exec_uploaded);
  // 64 processes each read a text page, all through the file's one page
  // cache: it holds at most the file's pages, and no process paged its text
  // in from the store on its own.
  const uint64_t file_pages = FilePages(kBinary, r.page_size);
  EXPECT_GE(r.exec_cached_pages, 1);
  EXPECT_LE(r.exec_cached_pages, static_cast<int64_t>(file_pages));
  EXPECT_LE(r.stats_after.page_ins() - r.stats_before.page_ins(), file_pages);
  EXPECT_EQ(r.stats_after.processes(), before);
  EXPECT_EQ(LiveProcesses(), before);
  EXPECT_EQ(StatFile("/memload/true"), grpc::StatusCode::NOT_FOUND);  // uploaded, so removed
  EXPECT_TRUE(r.cleanup_error.empty()) << r.cleanup_error;
  ExpectTimelineCoversRun(r, options_.interval_seconds);
  EXPECT_NE(FormatSummary(options_, r, nullptr).find("page cache: /memload/true holds"),
            std::string::npos);
}

TEST_F(StormRealServerTest, ExecStormKeepsAFileItFoundAndRefusesADifferentOne) {
  const std::string local = dir_ + "-true";
  std::filesystem::copy_file(kBinary, local);
  std::unique_ptr<Target> target;
  ASSERT_TRUE(Target::Connect(server_->address(), 1, std::chrono::seconds(10), &target).ok());
  auto put = [&](const std::string& content) {
    v1::WriteFileRequest request;
    request.set_path("/memload/" + std::filesystem::path(local).filename().string());
    request.set_data(content);
    v1::FileInfo info;
    grpc::ClientContext context;
    ASSERT_TRUE(target->stub(0).WriteFile(&context, request, &info).ok());
  };
  std::ifstream in(local, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  put(bytes);

  options_.storm = Storm::kExec;
  options_.exec_binary = local;
  options_.ops = 8;
  const RunResult r = Run();
  EXPECT_EQ(r.measured.cycles, 8u);
  EXPECT_FALSE(r.exec_uploaded);
  EXPECT_EQ(StatFile(r.exec_path), grpc::StatusCode::OK);  // not ours: kept

  put(std::string(bytes.size(), 'x'));  // same size, other content
  RunResult refused;
  Status s = RunLoad(options_, nullptr, server_->address(), RunHooks(), &refused);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("other content"), std::string::npos) << s.message();
  EXPECT_EQ(LiveProcesses(), 0u);
  std::filesystem::remove(local);
}

TEST_F(StormRealServerTest, FailedExecIsTalliedAndTheProcessStillExits) {
  const std::string local = dir_ + "-not-elf";
  std::ofstream(local) << "#!/bin/sh\nexit 0\n";
  options_.storm = Storm::kExec;
  options_.exec_binary = local;
  options_.ops = 20;
  const uint64_t before = LiveProcesses();
  const RunResult r = Run();
  EXPECT_EQ(r.measured.cycles, 0u);
  EXPECT_EQ(r.measured.failed_ops(), 20u);
  EXPECT_EQ(r.measured.errors[grpc::StatusCode::INVALID_ARGUMENT], 20u);
  EXPECT_EQ(r.measured.steps[kCreate].ok.ops, 20u);
  EXPECT_EQ(r.measured.steps[kExec].failed, 20u);
  EXPECT_EQ(r.measured.steps[kExecRead].ok.ops, 0u);
  EXPECT_EQ(r.measured.steps[kExecExit].ok.ops, 20u);  // cleaned up all the same
  EXPECT_EQ(r.measured.steps[kExecCycle].ok.ops, 0u);
  EXPECT_EQ(LiveProcesses(), before);
  ExpectTimelineCoversRun(r, options_.interval_seconds);
  EXPECT_NE(FormatSummary(options_, r, nullptr).find("failed steps: exec 20"), std::string::npos);
  std::filesystem::remove(local);
}

TEST_F(StormRealServerTest, InterruptedStormFinishesItsCyclesAndLeavesNothingBehind) {
  for (Storm storm : {Storm::kFork, Storm::kExec}) {
    options_.storm = storm;
    options_.duration_seconds = 60;  // ended by the stop flag long before
    const uint64_t before = LiveProcesses();
    std::unique_ptr<Target> probe;
    ASSERT_TRUE(Target::Connect(server_->address(), 1, std::chrono::seconds(10), &probe).ok());
    v1::GlobalStats start;
    ASSERT_TRUE(probe->GetGlobalStats(&start).ok());

    std::atomic<bool> stop{false};
    RunHooks hooks;
    hooks.stop = &stop;
    RunResult r;
    Status s;
    std::thread run([&] { s = RunLoad(options_, nullptr, server_->address(), hooks, &r); });
    // Stop once cycles are under way: the children's writes (fork) or text
    // reads (exec) show as faults. Bounded: the flag is set after 20 s anyway.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    v1::GlobalStats now;
    while (std::chrono::steady_clock::now() < deadline && probe->GetGlobalStats(&now).ok() &&
           now.minor_faults() < start.minor_faults() + 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stop.store(true);
    run.join();
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(r.interrupted) << StormName(storm);
    EXPECT_GT(r.measured.cycles, 0u) << StormName(storm);
    EXPECT_LT(r.elapsed_seconds, 60.0);
    EXPECT_EQ(r.measured.failed_ops(), 0u) << StormName(storm);
    const size_t exit_step = storm == Storm::kFork ? size_t{kForkExit} : size_t{kExecExit};
    EXPECT_EQ(r.measured.steps[exit_step].ok.ops, r.measured.steps[0].ok.ops);
    EXPECT_EQ(LiveProcesses(), before) << StormName(storm);
    if (storm == Storm::kExec) {
      EXPECT_EQ(StatFile(r.exec_path), grpc::StatusCode::NOT_FOUND);
    }
  }
}

class StormNullTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(NullServer::Start("127.0.0.1:0", &server_).ok());
    options_.server = server_->address();
    options_.workers = 3;
    options_.progress = false;
    options_.working_set_bytes = 64 << 10;
  }
  std::unique_ptr<NullServer> server_;
  LoadOptions options_;
};

TEST_F(StormNullTargetTest, ServesBothStormsWithoutMemoryWork) {
  for (Storm storm : {Storm::kFork, Storm::kExec}) {
    options_.storm = storm;
    options_.ops = 301;
    RunResult r;
    Status s = RunLoad(options_, nullptr, server_->address(), RunHooks(), &r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(r.measured.cycles, 301u) << StormName(storm);
    EXPECT_EQ(r.measured.failed_ops(), 0u) << StormName(storm);
    EXPECT_EQ(r.measured.steps.back().ok.latency_ns.count(), 301u);
    EXPECT_EQ(r.timeline.empty(), false);
    EXPECT_TRUE(r.cleanup_error.empty()) << r.cleanup_error;
    if (storm == Storm::kExec) {
      EXPECT_TRUE(r.exec_uploaded);  // the null target keeps no file
    }
  }
}

}  // namespace
}  // namespace memserver::memload
