// memserverd as a program: flags, the port file, the start-up line, exit
// codes, and a clean exit 0 on SIGTERM/SIGINT. Runs the built binary
// (MEMSERVERD_PATH) in a temporary directory.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/service/service_fixture.h"

extern char** environ;

namespace memserver::service {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kProcessDeadline = std::chrono::seconds(30);
constexpr auto kPollInterval = std::chrono::milliseconds(10);

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// memserverd running with stdout and stderr sent to a log file.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& flags, const std::string& log_path) : log_(log_path) {
    std::vector<std::string> args = {MEMSERVERD_PATH};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = posix_spawn(&pid_, MEMSERVERD_PATH, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "posix_spawn failed: " << rc;
      pid_ = -1;
    }
  }
  ~Daemon() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  // Polls until the process exits (bounded); its exit code, or -1 when it
  // was killed by a signal or did not exit in time (then it is killed).
  int WaitForExit() {
    const auto deadline = Clock::now() + kProcessDeadline;
    while (Clock::now() < deadline) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    ADD_FAILURE() << "memserverd did not exit within the deadline; log:\n" << Log();
    return -1;
  }

  // Polls (bounded) for the port file; 0 when it never appeared or the
  // daemon exited first.
  int WaitForPort(const std::string& port_file) {
    const auto deadline = Clock::now() + kProcessDeadline;
    while (Clock::now() < deadline) {
      std::string text = ReadFile(port_file);
      if (!text.empty()) return std::stoi(text);
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        ADD_FAILURE() << "memserverd exited before listening; log:\n" << Log();
        return 0;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
    ADD_FAILURE() << "no port file within the deadline; log:\n" << Log();
    return 0;
  }

  void Signal(int sig) { kill(pid_, sig); }
  std::string Log() const { return ReadFile(log_); }

 private:
  std::string log_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

class MemserverdTest : public ::testing::Test {
 protected:
  // A loopback server on a free port with 64 frames in the temp dir.
  std::vector<std::string> Flags() const {
    return {"--listen", "127.0.0.1:0", "--port-file", port_file_, "--data-dir",
            dir_.path() + "/data", "--memory", "256KiB", "--metrics-listen", "127.0.0.1:0"};
  }
  // The same without --listen (CLI11 refuses a repeated option).
  std::vector<std::string> FlagsWithoutListen() const {
    std::vector<std::string> flags = Flags();
    flags.erase(flags.begin(), flags.begin() + 2);
    return flags;
  }
  // Runs memserverd with `flags` to completion (it must exit by itself).
  int Run(const std::vector<std::string>& flags, std::string* log) {
    Daemon d(flags, log_file_);
    int code = d.WaitForExit();
    *log = d.Log();
    return code;
  }
  void ServeAndStopWith(int sig) {
    Daemon d(Flags(), log_file_);
    int port = d.WaitForPort(port_file_);
    ASSERT_GT(port, 0);
    auto stub = v1::Memory::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    v1::CreateProcessRequest request;
    v1::CreateProcessResponse response;
    auto context = Context();
    grpc::Status s = stub->CreateProcess(context.get(), request, &response);
    EXPECT_TRUE(s.ok()) << Describe(s);
    d.Signal(sig);
    EXPECT_EQ(d.WaitForExit(), 0);
    std::string log = d.Log();
    EXPECT_NE(log.find("memserverd listening on 127.0.0.1:" + std::to_string(port) +
                       " memory=256KiB frames=64 page_size=4096 policy=clock"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("memserverd stopped"), std::string::npos) << log;
  }

  TempDir dir_;
  std::string port_file_ = dir_.path() + "/port";
  std::string log_file_ = dir_.path() + "/log";
};

TEST_F(MemserverdTest, ServesThenExitsZeroOnSigterm) { ServeAndStopWith(SIGTERM); }

TEST_F(MemserverdTest, ServesThenExitsZeroOnSigint) { ServeAndStopWith(SIGINT); }

TEST_F(MemserverdTest, RestartOnTheSameDataDirServesTheSameProcesses) {
  uint64_t pid = 0;
  {
    Daemon d(Flags(), log_file_);
    int port = d.WaitForPort(port_file_);
    ASSERT_GT(port, 0);
    auto stub = v1::Memory::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    v1::CreateProcessRequest request;
    request.set_name("kept");
    v1::CreateProcessResponse response;
    auto context = Context();
    ASSERT_TRUE(stub->CreateProcess(context.get(), request, &response).ok());
    pid = response.pid();
    d.Signal(SIGTERM);
    ASSERT_EQ(d.WaitForExit(), 0) << d.Log();
  }
  std::filesystem::remove(port_file_);
  Daemon d(Flags(), log_file_);
  int port = d.WaitForPort(port_file_);
  ASSERT_GT(port, 0);
  auto stub = v1::Memory::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                      grpc::InsecureChannelCredentials()));
  v1::GetStatsRequest request;
  request.set_pid(pid);
  v1::GetStatsResponse response;
  auto context = Context();
  grpc::Status s = stub->GetStats(context.get(), request, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(response.process().name(), "kept");
  d.Signal(SIGTERM);
  EXPECT_EQ(d.WaitForExit(), 0);
  EXPECT_NE(d.Log().find("restored 1 processes"), std::string::npos) << d.Log();
}

TEST_F(MemserverdTest, HelpShowsEveryDefault) {
  std::string log;
  EXPECT_EQ(Run({"--help"}, &log), 0);
  for (const char* text : {"127.0.0.1:7070", "256MiB", "4096", "./memserver-data", "clock",
                           "4MiB", "48", "--port-file", "info"}) {
    EXPECT_NE(log.find(text), std::string::npos) << text << " missing from:\n" << log;
  }
}

TEST_F(MemserverdTest, InvalidFlagsExitWithCode2AndSayWhy) {
  struct Case {
    std::vector<std::string> flags;
    const char* said;
  };
  for (const Case& c : std::vector<Case>{
           {{"--memory", "12parsecs"}, "12parsecs"},
           {{"--max-io", "-1"}, "-1"},
           {{"--policy", "no-such-policy"}, "no-such-policy"},
           {{"--log-level", "loud"}, "loud"},
           {{"--page-size", "four"}, "four"},
           {{"--bogus"}, "bogus"},
           {{"--listen", "nonsense"}, "nonsense"},
           {{"--page-size", "1000"}, "1000"},
       }) {
    std::vector<std::string> flags = c.flags[0] == "--listen" ? FlagsWithoutListen() : Flags();
    flags.insert(flags.end(), c.flags.begin(), c.flags.end());
    std::string log;
    EXPECT_EQ(Run(flags, &log), 2) << c.flags[0] << ":\n" << log;
    EXPECT_NE(log.find(c.said), std::string::npos) << log;
  }
}

TEST_F(MemserverdTest, PortInUseExitsWithCode1) {
  Daemon first(Flags(), dir_.path() + "/first.log");
  int port = first.WaitForPort(port_file_);
  ASSERT_GT(port, 0);
  std::vector<std::string> flags = {"--listen", "127.0.0.1:" + std::to_string(port), "--data-dir",
                                    dir_.path() + "/data2", "--memory", "256KiB",
                                    "--metrics-listen", ""};
  std::string log;
  EXPECT_EQ(Run(flags, &log), 1) << log;
  EXPECT_NE(log.find("cannot listen on '127.0.0.1:" + std::to_string(port)), std::string::npos)
      << log;
  first.Signal(SIGTERM);
  EXPECT_EQ(first.WaitForExit(), 0);
}

}  // namespace
}  // namespace memserver::service
