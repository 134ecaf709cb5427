// End to end: a real Prometheus server (/usr/bin/prometheus, started as a
// child process on loopback with a generated config) scrapes a MetricsServer
// serving a real Engine's collector, and its HTTP query API returns the
// engine's own page-out count.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server/metrics/engine_collector.h"
#include "server/metrics/http_server.h"
#include "tests/metrics/engine_fixture.h"
#include "tests/metrics/http_client.h"

extern char** environ;

namespace memserver::metrics {
namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr auto kQueryDeadline = std::chrono::seconds(60);
constexpr auto kPollInterval = std::chrono::milliseconds(200);

// A child process with its stdout and stderr in a log file. The destructor
// stops it: SIGTERM, then SIGKILL if it has not exited within 20 s.
class ChildProcess {
 public:
  // Starts `argv[0]`; false (with a test failure) when it cannot be spawned.
  bool Start(const std::vector<std::string>& argv, const std::string& log_path) {
    log_path_ = log_path;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int err = posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
      ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << strerror(err);
      pid_ = 0;
      return false;
    }
    return true;
  }

  // Whether it is still running (reaps it when it has exited).
  bool Running() {
    if (pid_ == 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = status;
      pid_ = 0;
      return false;
    }
    return true;
  }

  // SIGTERM and wait for the exit; the wait status, or -1 after a SIGKILL.
  int Stop() {
    if (!Running()) return exit_status_;
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (Running()) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = 0;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polls the child's exit
    }
    return exit_status_;
  }

  std::string Log() const {
    std::ifstream in(log_path_);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

  ~ChildProcess() { Stop(); }

 private:
  pid_t pid_ = 0;
  int exit_status_ = 0;
  std::string log_path_;
};

// A loopback port nothing listens on right now (bound, read, released).
int FreeLoopbackPort() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(
      ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

class PrometheusScrapeTest : public MetricsEngineTest {};

TEST_F(PrometheusScrapeTest, PrometheusQueryReturnsTheEnginesPageOuts) {
  if (access(kPrometheus, X_OK) != 0) {
    GTEST_SKIP() << kPrometheus << " is not installed (Debian package `prometheus`, installed by "
                 << "deploy/setup.sh)";
  }
  PageThrough(4 * kFrames);
  ASSERT_GT(engine_->GetGlobalStats().page_outs, 0u);

  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<MetricsServer> metrics;
  Status s = MetricsServer::Start("127.0.0.1:0", registry, &metrics);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto collector = NewEngineCollector(engine_.get());
  metrics->RegisterCollectable(collector);

  const std::string config = dir_.path() + "/prometheus.yml";
  {
    std::ofstream out(config);
    out << "global:\n"
        << "  scrape_interval: 1s\n"
        << "  scrape_timeout: 1s\n"
        << "scrape_configs:\n"
        << "  - job_name: memserver\n"
        << "    static_configs:\n"
        << "      - targets: ['127.0.0.1:" << metrics->port() << "']\n";
    ASSERT_TRUE(out.good());
  }
  const int web_port = FreeLoopbackPort();
  ChildProcess prometheus_server;
  ASSERT_TRUE(prometheus_server.Start(
      {kPrometheus, "--config.file=" + config, "--storage.tsdb.path=" + dir_.path() + "/tsdb",
       "--web.listen-address=127.0.0.1:" + std::to_string(web_port), "--log.level=warn"},
      dir_.path() + "/prometheus.log"));

  // Poll the query API until Prometheus has scraped us: an external
  // process's condition, bounded by kQueryDeadline.
  const std::string query = "/api/v1/query?query=memserver_page_outs_total";
  const auto deadline = std::chrono::steady_clock::now() + kQueryDeadline;
  std::string last;
  double scraped = -1;
  uint64_t expected = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(prometheus_server.Running()) << "prometheus exited:\n" << prometheus_server.Log();
    auto exchange = testutil::Send(web_port, testutil::GetRequest(query));
    if (exchange.responses.size() == 1 && exchange.responses[0].result_int() == 200) {
      last = exchange.responses[0].body();
      const auto json = nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
      if (json.is_object() && json.value("status", "") == "success") {
        const auto& result = json["data"]["result"];
        if (result.is_array() && !result.empty()) {
          ASSERT_EQ(result.size(), 1u) << last;
          EXPECT_EQ(result[0]["metric"]["job"], "memserver") << last;
          scraped = std::stod(result[0]["value"][1].get<std::string>());
          // The engine is idle; a background reclaim may still have paged
          // out since the scrape, so compare with its count now.
          expected = engine_->GetGlobalStats().page_outs;
          if (scraped == double(expected)) break;
        }
      }
    } else if (exchange.responses.size() == 1) {
      last = exchange.responses[0].body();
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  EXPECT_EQ(scraped, double(expected)) << "last answer: " << last << "\nprometheus log:\n"
                                       << prometheus_server.Log();
  EXPECT_GT(scraped, 0);

  const int status = prometheus_server.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "prometheus did not exit cleanly on SIGTERM (wait status " << status << "):\n"
      << prometheus_server.Log();
  metrics->Stop();  // before the engine the collector borrows goes away
}

}  // namespace
}  // namespace memserver::metrics
