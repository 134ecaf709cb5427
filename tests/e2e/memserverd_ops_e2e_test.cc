// Operating the real memserverd: /metrics on its own port, JSON log lines,
// configuration from the environment and a config file, --readahead-pages,
// and the addresses logged for a wildcard --listen.
#include <fmt/format.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "client/lib/client.h"
#include "tests/e2e/daemon.h"
#include "tests/metrics/http_client.h"
#include "tests/support/temp_dir.h"

namespace memserver::e2e {
namespace {

using ::memserver::test::TempDir;

class MemserverdOpsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Daemon> Start(std::vector<std::string> flags, const EnvChanges& env = {}) {
    flags.insert(flags.end(), {"--data-dir", dir_.path() + "/data", "--memory", "256KiB"});
    std::string error;
    auto d = Daemon::Start(dir_.path(), flags, env, &error);
    EXPECT_NE(d, nullptr) << error;
    return d;
  }
  void Stop(Daemon& d) {
    std::optional<int> status = d.Stop(SIGTERM);
    ASSERT_TRUE(status.has_value()) << d.Log();
    EXPECT_EQ(*status, 0) << d.Log();
  }
  // GET /metrics on 127.0.0.1:port: the body, or "" (with a failure).
  std::string Scrape(int port) {
    metrics::testutil::Exchange e =
        metrics::testutil::Send(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
    EXPECT_EQ(e.connect_error, "");
    if (e.responses.size() != 1) {
      ADD_FAILURE() << "no response from /metrics";
      return "";
    }
    EXPECT_EQ(e.responses[0].result_int(), 200);
    return e.responses[0].body();
  }

  // Fills a private region 4x the 256 KiB pool page by page (so most of it
  // ends up swapped out), then reads it back in one sequential Read and
  // checks the bytes. Returns the server's major faults and page-ins of
  // that read alone.
  std::pair<uint64_t, uint64_t> FaultsAndPageInsOfASequentialRead(Daemon& d) {
    constexpr uint64_t kPage = 4096, kPages = 256;
    client::Client c(d.address());
    const uint64_t pid = c.CreateProcess("sequential").Release();
    const uint64_t addr =
        c.Mmap(pid, 0, kPages * kPage, client::kProtRead | client::kProtWrite);
    std::string expected;
    for (uint64_t i = 0; i < kPages; ++i) {
      const std::string page(kPage, static_cast<char>('a' + i % 26));
      c.Write(pid, addr + i * kPage, page);
      expected += page;
    }
    const client::GlobalStats before = c.GetGlobalStats();
    EXPECT_GT(before.swap_pages, kPages / 2) << d.Log();
    EXPECT_TRUE(c.Read(pid, addr, kPages * kPage) == expected);
    const client::GlobalStats after = c.GetGlobalStats();
    return {after.major_faults - before.major_faults, after.page_ins - before.page_ins};
  }

  TempDir dir_;
};

TEST_F(MemserverdOpsTest, ZeroReadaheadPagesMakesEverySwappedPageItsOwnFault) {
  auto d = Start({"--metrics-listen", "", "--readahead-pages", "0"});
  ASSERT_NE(d, nullptr);
  const std::string log = d->Log();
  EXPECT_EQ(LoggedField(log, "effective configuration", "readahead-pages"), "\"0\"(flag)") << log;
  EXPECT_EQ(LoggedField(log, "memserverd listening on", "readahead_pages"), "0") << log;
  const auto [faults, page_ins] = FaultsAndPageInsOfASequentialRead(*d);
  EXPECT_GT(page_ins, 128u);
  EXPECT_EQ(faults, page_ins);
  ASSERT_NO_FATAL_FAILURE(Stop(*d));
}

TEST_F(MemserverdOpsTest, DefaultReadaheadPagesInSequentialPagesAheadOfTheirFaults) {
  auto d = Start({"--metrics-listen", ""});
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(LoggedField(d->Log(), "memserverd listening on", "readahead_pages"), "32") << d->Log();
  const auto [faults, page_ins] = FaultsAndPageInsOfASequentialRead(*d);
  EXPECT_GT(page_ins, 128u);
  // Windows of 4, 8, 16, 32 pages: far fewer faults than pages read.
  EXPECT_LT(faults * 4, page_ins) << faults << " faults, " << page_ins << " page-ins";
  ASSERT_NO_FATAL_FAILURE(Stop(*d));
}

TEST_F(MemserverdOpsTest, ReadaheadPagesAboveTheLimitExitsWithCode2AndNamesTheRange) {
  Output o = RunToCompletion({MEMSERVERD_PATH, "--data-dir", dir_.path() + "/data",
                              "--readahead-pages", "100000"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("--readahead-pages"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("from 0 (readahead off) to 1024, got '100000'"), std::string::npos) << o.err;
}

TEST_F(MemserverdOpsTest, WildcardListenLogsTheBoundAddressAndTheOneToDial) {
  // Not Daemon::Start: it listens on 127.0.0.1 and a flag cannot be given twice.
  const std::string port_file = dir_.path() + "/wildcard.port";
  const std::string log_path = dir_.path() + "/wildcard.log";
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(log_fd, 0);
  std::string error;
  std::unique_ptr<Child> child = Child::Spawn(
      {MEMSERVERD_PATH, "--listen", "0.0.0.0:0", "--port-file", port_file, "--data-dir",
       dir_.path() + "/data", "--memory", "256KiB", "--metrics-listen", "", "--insecure"},
      {}, log_fd, log_fd, &error);
  close(log_fd);
  ASSERT_NE(child, nullptr) << error;
  int port = 0;
  const auto deadline = std::chrono::steady_clock::now() + kDaemonStartTimeout;
  while (port == 0 && std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(port_file)) port = std::atoi(ReadWholeFile(port_file).c_str());
    if (port == 0) {
      ASSERT_FALSE(child->WaitExit(std::chrono::milliseconds(10)).has_value())
          << ReadWholeFile(log_path);
    }
  }
  ASSERT_GT(port, 0) << ReadWholeFile(log_path);
  const std::string log = ReadWholeFile(log_path);
  EXPECT_NE(log.find(fmt::format("memserverd listening on 0.0.0.0:{} (dial 127.0.0.1:{}) memory=",
                                 port, port)),
            std::string::npos)
      << log;
  {
    client::Client c(fmt::format("127.0.0.1:{}", port));
    EXPECT_GT(c.CreateProcess("dialled").Release(), 0u);
  }
  ASSERT_TRUE(child->Signal(SIGTERM));
  EXPECT_EQ(child->WaitExit(kDaemonStopTimeout), std::optional<int>(0)) << ReadWholeFile(log_path);
}

TEST_F(MemserverdOpsTest, ServesPrometheusMetricsOnItsOwnPort) {
  auto d = Start({"--metrics-listen", "127.0.0.1:0"});
  ASSERT_NE(d, nullptr);
  const std::string metrics = LoggedField(d->Log(), "memserverd listening on", "metrics");
  ASSERT_EQ(metrics.rfind("127.0.0.1:", 0), 0u) << d->Log();
  const int port = std::atoi(metrics.substr(metrics.find(':') + 1).c_str());
  ASSERT_GT(port, 0);
  ASSERT_NE(port, d->port());

  client::Client c(d->address());
  const uint64_t pid = c.CreateProcess("scraped").Release();
  const uint64_t addr = c.Mmap(pid, 0, 4096, client::kProtRead | client::kProtWrite);
  c.Write(pid, addr, "counted");
  EXPECT_THROW(c.Exit(pid + 1000), client::Error);

  const std::string body = Scrape(port);
  EXPECT_NE(body.find("memserver_processes 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("memserver_frames{state=\"used\"} 1\n"), std::string::npos) << body;
  EXPECT_NE(body.find("memserver_policy_info{policy=\"clock\"} 1"), std::string::npos) << body;
  EXPECT_NE(body.find("memserver_rpcs_total{code=\"OK\",method=\"CreateProcess\"} 1\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("memserver_rpcs_total{code=\"NOT_FOUND\",method=\"Exit\"} 1\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("memserver_rpc_duration_seconds_count{code=\"OK\",method=\"Write\"} 1\n"),
            std::string::npos)
      << body;
  ASSERT_NO_FATAL_FAILURE(Stop(*d));
}

TEST_F(MemserverdOpsTest, EmptyMetricsListenTurnsMetricsOff) {
  auto d = Start({"--metrics-listen", ""});
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(LoggedField(d->Log(), "memserverd listening on", "metrics"), "off") << d->Log();
  ASSERT_NO_FATAL_FAILURE(Stop(*d));
}

TEST_F(MemserverdOpsTest, MetricsPortInUseFailsTheStartWithExitCode1) {
  auto first = Start({"--metrics-listen", "127.0.0.1:0"});
  ASSERT_NE(first, nullptr);
  const std::string taken = LoggedField(first->Log(), "memserverd listening on", "metrics");
  Output o = RunToCompletion({MEMSERVERD_PATH, "--listen", "127.0.0.1:0", "--metrics-listen",
                              taken, "--data-dir", dir_.path() + "/other", "--memory", "256KiB"});
  EXPECT_EQ(o.exit_code, 1) << o.err;
  EXPECT_NE(o.err.find("metrics server cannot listen on '" + taken + "'"), std::string::npos)
      << o.err;
  ASSERT_NO_FATAL_FAILURE(Stop(*first));
}

TEST_F(MemserverdOpsTest, JsonLogsAreOneObjectPerLine) {
  auto d = Start({"--metrics-listen", "", "--log-format", "json"}, {"MEMSERVER_POLICY=lru"});
  ASSERT_NE(d, nullptr);
  ASSERT_NO_FATAL_FAILURE(Stop(*d));
  std::istringstream in(d->Log());
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) {
    ASSERT_TRUE(nlohmann::json::accept(line)) << line;
    nlohmann::json j = nlohmann::json::parse(line);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_TRUE(j["ts"].is_string()) << line;
    EXPECT_TRUE(j["level"].is_string()) << line;
    EXPECT_TRUE(j["msg"].is_string()) << line;
    lines.push_back(j);
  }
  ASSERT_GE(lines.size(), 4u);
  const nlohmann::json& config = lines[0];
  EXPECT_EQ(config["msg"], "effective configuration");
  EXPECT_EQ(config["policy"]["value"], "lru");
  EXPECT_EQ(config["policy"]["source"], "env");
  EXPECT_EQ(config["memory"]["source"], "flag");
  EXPECT_EQ(config["address-bits"]["source"], "default");
  const nlohmann::json& listening = lines[1];
  EXPECT_EQ(listening["msg"], "memserverd listening on " + d->address());
  EXPECT_EQ(listening["frames"], "64");
  EXPECT_EQ(listening["policy"], "lru");
  EXPECT_EQ(listening["metrics"], "off");
  EXPECT_EQ(lines.back()["msg"], "memserverd stopped");
}

TEST_F(MemserverdOpsTest, EnvironmentBeatsConfigFileAndTheStartupLineSaysSo) {
  const std::string config = dir_.path() + "/memserverd.toml";
  std::ofstream(config) << "# memserverd test config\n"
                           "policy = \"lru\"\n"
                           "max-io = \"1MiB\"\n"
                           "metrics-listen = \"\"\n";
  std::string error;
  auto d = Daemon::Start(dir_.path(), {"--data-dir", dir_.path() + "/data"},
                         {"MEMSERVER_CONFIG=" + config, "MEMSERVER_POLICY=arc",
                          "MEMSERVER_MEMORY=512KiB"},
                         &error);
  ASSERT_NE(d, nullptr) << error;
  const std::string log = d->Log();
  EXPECT_NE(log.find("memory=512KiB frames=128 page_size=4096 policy=arc"), std::string::npos)
      << log;
  EXPECT_EQ(LoggedField(log, "memserverd listening on", "max_io"), "1MiB") << log;
  EXPECT_EQ(LoggedField(log, "effective configuration", "policy"), "\"arc\"(env)") << log;
  EXPECT_EQ(LoggedField(log, "effective configuration", "max-io"), "\"1MiB\"(config)") << log;
  EXPECT_EQ(LoggedField(log, "effective configuration", "listen"), "\"127.0.0.1:0\"(flag)") << log;
  EXPECT_EQ(LoggedField(log, "effective configuration", "page-size"), "\"4096\"(default)") << log;
  ASSERT_NO_FATAL_FAILURE(Stop(*d));
}

TEST_F(MemserverdOpsTest, InvalidEnvironmentValueExitsWithCode2AndNamesTheVariable) {
  Output o = RunToCompletion({MEMSERVERD_PATH, "--data-dir", dir_.path() + "/data"},
                             {"MEMSERVER_MEMORY=12parsecs"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_NE(o.err.find("MEMSERVER_MEMORY=12parsecs"), std::string::npos) << o.err;
}

}  // namespace
}  // namespace memserver::e2e
