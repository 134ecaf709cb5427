// tests/bench/plot.sh on memload's JSON reports: it draws the latency CDF and
// the latency timeline from what memload writes (a null-target storm run
// here). Numbers are not checked, only that both plots are produced.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "client/memload/null_server.h"
#include "client/memload/report.h"
#include "client/memload/runner.h"

namespace memserver::memload {
namespace {

TEST(PlotScriptTest, DrawsTheLatencyCdfAndTimelineOfMemloadReports) {
  if (std::system("command -v gnuplot >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1") !=
      0) {
    GTEST_SKIP() << "gnuplot or python3 missing";
  }
  std::string dir = ::testing::TempDir() + "memload-plot-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);

  std::unique_ptr<NullServer> server;
  ASSERT_TRUE(NullServer::Start("127.0.0.1:0", &server).ok());
  LoadOptions options;
  options.server = server->address();
  options.workers = 2;
  options.progress = false;
  options.working_set_bytes = 64 << 10;
  options.storm = Storm::kFork;
  options.duration_seconds = 0.3;
  options.interval_seconds = 0.05;
  RunResult run;
  ASSERT_TRUE(RunLoad(options, nullptr, options.server, RunHooks(), &run).ok());
  ASSERT_GT(run.timeline.size(), 1u);
  const std::string json = dir + "/fork-storm.json";
  ASSERT_TRUE(WriteJsonFile(json, ReportJson(options, run, nullptr)).ok());

  std::filesystem::create_directory(dir + "/traces");  // none: memsim not needed
  const std::string command = "BUILD=" + dir + " TRACES=" + dir + "/traces bash " PLOT_SH " " +
                              dir + "/out " + json + " >" + dir + "/plot.log 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << "see " << dir << "/plot.log";
  for (const char* png : {"/out/latency-cdf.png", "/out/latency-timeline.png"}) {
    std::error_code ec;
    EXPECT_GT(std::filesystem::file_size(dir + png, ec), 0u) << png << " " << ec.message();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace memserver::memload
