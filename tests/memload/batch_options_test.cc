// --batch and --stream: parsing, validation, and how the report shows them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "client/memload/options.h"
#include "client/memload/report.h"

namespace memserver::memload {
namespace {

bool Parse(std::vector<std::string> args, LoadOptions* options, int* exit_code) {
  args.insert(args.begin(), "memload");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data(), options, exit_code);
}

TEST(BatchOptionsTest, DefaultIsUnaryCalls) {
  LoadOptions o;
  EXPECT_TRUE(o.unary());
  EXPECT_EQ(o.ops_per_call(), 1);
}

TEST(BatchOptionsTest, BatchAndStreamAreParsedAndCombine) {
  LoadOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({"--batch", "64", "--stream"}, &o, &code));
  EXPECT_EQ(o.batch, 64);
  EXPECT_TRUE(o.stream);
  EXPECT_FALSE(o.unary());
  EXPECT_EQ(o.ops_per_call(), 64);

  LoadOptions s;
  ASSERT_TRUE(Parse({"--stream"}, &s, &code));
  EXPECT_FALSE(s.unary());
  EXPECT_EQ(s.ops_per_call(), 1);
}

TEST(BatchOptionsTest, BatchOutOfRangeIsAUsageError) {
  for (const char* bad : {"-1", "4097", "many"}) {
    LoadOptions o;
    int code = -1;
    EXPECT_FALSE(Parse({"--batch", bad}, &o, &code)) << bad;
    EXPECT_EQ(code, 2) << bad;
  }
  LoadOptions o;
  o.batch = kMaxBatchOps + 1;
  EXPECT_EQ(ValidateOptions(o).code(), StatusCode::kInvalidArgument);
  o.batch = kMaxBatchOps;
  EXPECT_TRUE(ValidateOptions(o).ok());
}

RunResult Batched(int ops_per_call, bool stream) {
  RunResult run;
  run.address = "127.0.0.1:7070";
  run.ops_per_call = ops_per_call;
  run.stream = stream;
  run.elapsed_seconds = 2.0;
  run.measured.reads.ops = 6400;
  run.measured.calls = 100;
  return run;
}

TEST(BatchOptionsTest, ReportCountsOpsAndCalls) {
  LoadOptions options;
  const RunResult run = Batched(64, false);
  const std::string summary = FormatSummary(options, run, nullptr);
  EXPECT_NE(summary.find(" 3200.0 "), std::string::npos) << summary;  // ops/s
  EXPECT_NE(summary.find("calls: 100 Access calls of 64 ops (50.0 calls/s"), std::string::npos)
      << summary;
  EXPECT_DOUBLE_EQ(run.calls_per_second(), 50.0);

  const RunResult streamed = Batched(64, true);
  EXPECT_NE(FormatSummary(options, streamed, nullptr).find("AccessStream requests of 64 ops"),
            std::string::npos);
  const nlohmann::json json = ReportJson(options, streamed, nullptr);
  EXPECT_EQ(json["run"]["calls"], 100);
  EXPECT_EQ(json["run"]["calls_per_second"], 50.0);
  EXPECT_EQ(json["run"]["ops_per_call"], 64);
  EXPECT_EQ(json["run"]["stream"], true);
  EXPECT_EQ(json["options"]["batch"], 0);

  const RunResult unary = Batched(0, false);
  EXPECT_NE(FormatSummary(options, unary, nullptr).find("unary Read/Write calls"),
            std::string::npos);
}

}  // namespace
}  // namespace memserver::memload
