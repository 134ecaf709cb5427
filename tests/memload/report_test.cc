#include "client/memload/report.h"

#include <gtest/gtest.h>

#include <string>

namespace memserver::memload {
namespace {

RunResult MakeRun(const std::string& address, uint64_t reads, double seconds) {
  RunResult run;
  run.address = address;
  run.workers = 4;
  run.channels = 1;
  run.processes = 4;
  run.page_size = 4096;
  run.region_bytes = 1 << 20;
  run.elapsed_seconds = seconds;
  run.measured.reads.ops = reads;
  run.measured.reads.bytes = reads * 4096;
  for (uint64_t i = 1; i <= reads; ++i) run.measured.reads.latency_ns.Record(i * 1000);
  run.measured.page_accesses = reads;
  return run;
}

TEST(ReportTest, CeilingIsTheRatioOfOpsPerSecond) {
  const RunResult run = MakeRun("a:1", 500, 1.0);
  const RunResult null_run = MakeRun("b:2", 2000, 1.0);
  EXPECT_DOUBLE_EQ(TransportCeilingPercent(run, null_run), 25.0);
  EXPECT_EQ(TransportCeilingPercent(run, MakeRun("b:2", 0, 1.0)), -1);
}

TEST(ReportTest, SummaryShowsRatesPercentilesErrorsAndCeiling) {
  LoadOptions options;
  RunResult run = MakeRun("127.0.0.1:7070", 1000, 2.0);
  run.measured.errors[grpc::StatusCode::UNAVAILABLE] = 3;
  run.stats_before.set_major_faults(10);
  run.stats_after.set_major_faults(110);
  run.stats_after.set_frames_total(64);
  run.stats_after.set_policy("clock");
  const RunResult null_run = MakeRun("127.0.0.1:7071", 4000, 2.0);

  const std::string summary = FormatSummary(options, run, &null_run);
  EXPECT_NE(summary.find(" 500.0 "), std::string::npos) << summary;  // ops/s
  EXPECT_NE(summary.find("UNAVAILABLE 3"), std::string::npos) << summary;
  EXPECT_NE(summary.find("major_faults +100"), std::string::npos) << summary;
  EXPECT_NE(summary.find("hit ratio 90.00%"), std::string::npos) << summary;
  EXPECT_NE(summary.find("25.0% of the transport's ceiling"), std::string::npos) << summary;
}

TEST(ReportTest, SummaryWithoutFramePoolOmitsHitRatio) {
  LoadOptions options;
  const RunResult run = MakeRun("127.0.0.1:7071", 10, 1.0);
  const std::string summary = FormatSummary(options, run, nullptr);
  EXPECT_EQ(summary.find("hit ratio"), std::string::npos) << summary;
  EXPECT_NE(summary.find("errors: none"), std::string::npos) << summary;
}

TEST(ReportTest, JsonHoldsEverything) {
  LoadOptions options;
  options.ops = 1000;
  RunResult run = MakeRun("127.0.0.1:7070", 1000, 2.0);
  run.measured.errors[grpc::StatusCode::DEADLINE_EXCEEDED] = 2;
  run.stats_after.set_page_ins(7);
  run.stats_after.set_frames_total(64);
  const RunResult null_run = MakeRun("127.0.0.1:7071", 2000, 2.0);
  const nlohmann::json j = ReportJson(options, run, &null_run);

  EXPECT_EQ(j["options"]["ops"], 1000);
  EXPECT_EQ(j["run"]["ops"]["ok"], 1000);
  EXPECT_EQ(j["run"]["ops"]["failed"], 2);
  EXPECT_EQ(j["run"]["ops"]["total"], 1002);
  EXPECT_DOUBLE_EQ(j["run"]["ops_per_second"].get<double>(), 500.0);
  EXPECT_EQ(j["run"]["errors"]["DEADLINE_EXCEEDED"], 2);
  // 500 us, within the histogram's precision (2^-10).
  EXPECT_NEAR(j["run"]["latency_us"]["read"]["p50"].get<double>(), 500.0, 0.5);
  EXPECT_EQ(j["run"]["latency_us"]["all"]["count"], 1000);
  EXPECT_EQ(j["run"]["server"]["delta"]["page_ins"], 7);
  EXPECT_EQ(j["run"]["server"]["after"]["frames_total"], 64);
  EXPECT_DOUBLE_EQ(j["run"]["server"]["hit_ratio"].get<double>(), 1.0);
  EXPECT_FALSE(j["run"]["latency_histogram"]["buckets_lowest_highest_count"].empty());
  EXPECT_DOUBLE_EQ(j["transport_ceiling_percent"].get<double>(), 50.0);
  EXPECT_TRUE(j["null_target"]["server"]["hit_ratio"].is_null());
}

}  // namespace
}  // namespace memserver::memload
