#include "client/memload/options.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace memserver::memload {
namespace {

// Runs ParseCommandLine over `args` (after the program name).
bool Parse(std::vector<std::string> args, LoadOptions* options, int* exit_code) {
  args.insert(args.begin(), "memload");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  return ParseCommandLine(static_cast<int>(argv.size()), argv.data(), options, exit_code);
}

TEST(OptionsTest, DefaultsAreValid) {
  LoadOptions o;
  EXPECT_TRUE(ValidateOptions(o).ok());
  EXPECT_EQ(o.workers, 16);
  EXPECT_EQ(o.effective_channels(), 4);
  EXPECT_EQ(o.process_count(), 16);
  EXPECT_EQ(o.read_ratio, 1.0);
}

TEST(OptionsTest, CommandLineFillsEveryField) {
  LoadOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({"--server", "127.0.0.1:9", "--workers", "8", "--channels", "3",
                     "--shared-process", "--ops", "5000", "--warmup", "1.5", "--working-set",
                     "1GiB", "--access-size", "64KiB", "--read-ratio", "0.25", "--workload",
                     "hotset", "--hot-fraction", "0.2", "--hot-shift-seconds", "3", "--populate",
                     "--seed", "99", "--json", "/tmp/x.json", "--compare-null", "127.0.0.1:10",
                     "--no-progress"},
                    &o, &code));
  EXPECT_EQ(o.server, "127.0.0.1:9");
  EXPECT_EQ(o.workers, 8);
  EXPECT_EQ(o.effective_channels(), 3);
  EXPECT_TRUE(o.shared_process);
  EXPECT_EQ(o.process_count(), 1);
  EXPECT_EQ(o.ops, 5000u);
  EXPECT_EQ(o.warmup_seconds, 1.5);
  EXPECT_EQ(o.working_set_bytes, 1ull << 30);
  EXPECT_EQ(o.access_bytes, 64u << 10);
  EXPECT_EQ(o.read_ratio, 0.25);
  EXPECT_EQ(o.workload.kind, Workload::kHotset);
  EXPECT_EQ(o.workload.hot_fraction, 0.2);
  EXPECT_EQ(o.workload.hot_shift_seconds, 3);
  EXPECT_TRUE(o.populate);
  EXPECT_EQ(o.seed, 99u);
  EXPECT_EQ(o.json_path, "/tmp/x.json");
  EXPECT_EQ(o.compare_null, "127.0.0.1:10");
  EXPECT_FALSE(o.progress);
}

TEST(OptionsTest, UsageErrorsExitWithTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {"--duration", "5", "--ops", "10"},  // exclusive
      {"--access-size", "4"},              // below 8 B
      {"--access-size", "2MiB"},           // above 1 MiB
      {"--working-set", "10XB"},
      {"--read-ratio", "1.5"},
      {"--workload", "gaussian"},
      {"--zipf-theta", "1.0"},
      {"--workers", "0"},
      {"--working-set", "4KiB", "--access-size", "8KiB"},
      {"--trace", "/nonexistent/trace.lis"},
      {"--duration", "1e30"},  // would overflow a deadline
      {"--warmup", "inf"},
  };
  for (const auto& args : bad) {
    LoadOptions o;
    int code = -1;
    EXPECT_FALSE(Parse(args, &o, &code)) << args.front();
    EXPECT_EQ(code, 2) << args.front();
  }
}

TEST(OptionsTest, HelpExitsWithZero) {
  LoadOptions o;
  int code = -1;
  EXPECT_FALSE(Parse({"--help"}, &o, &code));
  EXPECT_EQ(code, 0);
}

TEST(OptionsTest, TraceReplayUsesOneSharedProcess) {
  LoadOptions o;
  o.trace_path = "/some/trace";
  EXPECT_EQ(o.process_count(), 1);
}

TEST(OptionsTest, ValidationNamesTheBadField) {
  LoadOptions o;
  o.channels = 17;
  Status s = ValidateOptions(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("channels"), std::string::npos);
  o = LoadOptions();
  o.call_timeout_seconds = 0;
  EXPECT_EQ(ValidateOptions(o).code(), StatusCode::kInvalidArgument);
  o = LoadOptions();
  o.trace_format = "csv";
  EXPECT_EQ(ValidateOptions(o).code(), StatusCode::kInvalidArgument);
}

TEST(OptionsTest, StormWorkloadsAndTheTimelineIntervalParse) {
  LoadOptions o;
  int code = -1;
  ASSERT_TRUE(Parse({"--workload", "fork-storm", "--populate", "--interval", "0.25"}, &o, &code));
  EXPECT_EQ(o.storm, Storm::kFork);
  EXPECT_EQ(o.workload.kind, Workload::kUniform);  // picks the written page
  EXPECT_EQ(o.process_count(), 16);                // one parent per worker
  EXPECT_EQ(o.interval_seconds, 0.25);

  o = LoadOptions();
  ASSERT_TRUE(Parse({"--workload", "exec-storm", "--exec-binary", "/bin/true"}, &o, &code));
  EXPECT_EQ(o.storm, Storm::kExec);
  EXPECT_EQ(o.exec_binary, "/bin/true");
  EXPECT_EQ(o.process_count(), 0);  // a process per cycle, none up front
  EXPECT_EQ(o.interval_seconds, 1.0);

  o = LoadOptions();
  ASSERT_TRUE(Parse({"--workload", "zipfian"}, &o, &code));
  EXPECT_EQ(o.storm, Storm::kNone);
  EXPECT_STREQ(StormName(Storm::kExec), "exec-storm");
}

TEST(OptionsTest, BadStormAndIntervalUsesExitWithTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {"--workload", "exec-storm", "--populate"},
      {"--workload", "exec-storm", "--shared-process"},
      {"--workload", "fork-storm", "--batch", "8"},
      {"--workload", "exec-storm", "--stream"},
      {"--exec-binary", "/bin/true"},  // without exec-storm
      {"--workload", "exec-storm", "--exec-binary", "/nonexistent/binary"},
      {"--interval", "0"},
      {"--interval", "-1"},
      {"--interval", "soon"},
      {"--workload", "spawn-storm"},
  };
  for (const auto& args : bad) {
    LoadOptions o;
    int code = -1;
    EXPECT_FALSE(Parse(args, &o, &code)) << args[0] << " " << args[1];
    EXPECT_EQ(code, 2) << args[0] << " " << args[1];
  }
}

TEST(OptionsTest, StormValidationSaysWhatToChange) {
  LoadOptions o;
  o.storm = Storm::kFork;
  o.batch = 4;
  Status s = ValidateOptions(o);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("no --batch or --stream"), std::string::npos) << s.message();
  o = LoadOptions();
  o.storm = Storm::kExec;
  o.populate = true;
  s = ValidateOptions(o);
  EXPECT_NE(s.message().find("drop --populate"), std::string::npos) << s.message();
  o = LoadOptions();
  o.storm = Storm::kFork;
  o.trace_path = "/some/trace";
  EXPECT_NE(ValidateOptions(o).message().find("cannot replay a trace"), std::string::npos);
  o = LoadOptions();
  o.storm = Storm::kExec;
  o.exec_binary.clear();
  EXPECT_NE(ValidateOptions(o).message().find("--exec-binary"), std::string::npos);
  o = LoadOptions();
  o.interval_seconds = std::nan("");
  EXPECT_NE(ValidateOptions(o).message().find("timeline interval"), std::string::npos);
}

}  // namespace
}  // namespace memserver::memload
