// The memnull executable as a child process: it announces its port, serves
// the API, and exits cleanly on SIGTERM and SIGINT.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "client/memload/null_server.h"
#include "client/memload/target.h"
#include "tests/memload/temp_dir.h"

extern char** environ;

namespace memserver::memload {
namespace {

constexpr auto kDeadline = std::chrono::seconds(20);
constexpr auto kPollInterval = std::chrono::milliseconds(10);

class MemnullTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (pid_ > 0) {  // a failed test must not leave the child behind
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  void Spawn(std::vector<std::string> args) {
    args.insert(args.begin(), MEMNULL_PATH);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ASSERT_EQ(posix_spawn(&pid_, MEMNULL_PATH, nullptr, nullptr, argv.data(), environ), 0);
  }

  // Polls for the port file until it appears or the child exits, within
  // kDeadline. Returns the port, or 0.
  int WaitForPort(const std::string& path) {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(path);
      int port = 0;
      if (in >> port && port > 0) return port;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return 0;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    return 0;
  }

  // Waits for the child to exit within kDeadline; its exit code, or -1.
  int WaitForExit() {
    const auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    return -1;
  }

  TempDir dir_;
  pid_t pid_ = -1;
};

TEST_F(MemnullTest, ServesReadsAndShutsDownCleanlyOnSignals) {
  for (int signal_number : {SIGTERM, SIGINT}) {
    const std::string port_file = dir_.File("port-" + std::to_string(signal_number));
    Spawn({"--listen", "127.0.0.1:0", "--port-file", port_file});
    const int port = WaitForPort(port_file);
    ASSERT_GT(port, 0);

    std::unique_ptr<Target> target;
    Status s = Target::Connect("127.0.0.1:" + std::to_string(port), 1, std::chrono::seconds(10),
                               &target);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::vector<Region> regions;
    ASSERT_TRUE(target->CreateRegions(2, 1 << 20, &regions).ok());
    ASSERT_EQ(regions.size(), 2u);
    EXPECT_NE(regions[0].pid, regions[1].pid);
    grpc::ClientContext context;
    v1::ReadRequest request;
    request.set_pid(regions[0].pid);
    request.set_addr(regions[0].base);
    request.set_length(8192);
    v1::ReadResponse response;
    ASSERT_TRUE(target->stub(0).Read(&context, request, &response).ok());
    EXPECT_EQ(response.data(), std::string(8192, '\0'));
    ASSERT_TRUE(target->ExitProcesses().ok());
    target.reset();  // an idle open connection would hold shutdown for its grace period

    ASSERT_EQ(kill(pid_, signal_number), 0);
    EXPECT_EQ(WaitForExit(), 0) << "signal " << signal_number;
  }
}

TEST_F(MemnullTest, PortInUseExitsWithOne) {
  std::unique_ptr<NullServer> holder;
  ASSERT_TRUE(NullServer::Start("127.0.0.1:0", &holder).ok());
  Spawn({"--listen", holder->address()});
  EXPECT_EQ(WaitForExit(), 1);
}

TEST_F(MemnullTest, UnknownFlagExitsWithTwo) {
  Spawn({"--no-such-flag"});
  EXPECT_EQ(WaitForExit(), 2);
}

}  // namespace
}  // namespace memserver::memload
