// End to end: the real memserverd binary on an ephemeral loopback port with a
// real RocksDB in a temporary directory, driven by the real memctl binary.
// MEMSERVERD_PATH and MEMCTL_PATH are the built binaries (compile definitions).
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/e2e/subprocess.h"
#include "tests/support/temp_dir.h"

namespace memserver::e2e {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(30);

using ::memserver::test::TempDir;

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// memctl with the given arguments, never influenced by the caller's
// MEMSERVER_ADDRESS unless `env` sets it.
Output Memctl(std::vector<std::string> args, EnvChanges env = {"MEMSERVER_ADDRESS"}) {
  args.insert(args.begin(), MEMCTL_PATH);
  return RunToCompletion(args, env);
}

std::string Describe(const Output& o) {
  return fmt::format("exit {}\n--- stdout ---\n{}--- stderr ---\n{}", o.exit_code, o.out, o.err);
}

// The lines of `text` that contain `needle`.
std::vector<std::string> LinesWith(const std::string& text, const std::string& needle) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) lines.push_back(line);
  }
  return lines;
}

// The whitespace-separated fields of `line`.
std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string field; in >> field;) fields.push_back(field);
  return fields;
}

class MemctlE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_path_ = dir_.path() + "/memserverd.log";
    port_file_ = dir_.path() + "/port";
    int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ASSERT_GE(log_fd, 0);
    std::string error;
    daemon_ = Child::Spawn({MEMSERVERD_PATH, "--listen", "127.0.0.1:0", "--port-file", port_file_,
                            "--data-dir", dir_.path() + "/data", "--memory", "1MiB",
                            "--metrics-listen", ""},
                           {}, log_fd, log_fd, &error);
    close(log_fd);
    ASSERT_NE(daemon_, nullptr) << error;

    // Bounded poll for the port file (written atomically once listening);
    // each round waits on the daemon's exit, so a daemon that dies is seen.
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    int port = 0;
    while (port == 0) {
      if (std::filesystem::exists(port_file_)) {
        port = std::atoi(ReadWholeFile(port_file_).c_str());
        if (port > 0) break;
      }
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "memserverd wrote no port file in time\n" << DaemonLog();
      std::optional<int> exited = daemon_->WaitExit(std::chrono::milliseconds(10));
      ASSERT_FALSE(exited.has_value()) << "memserverd exited with " << *exited << "\n" << DaemonLog();
    }
    address_ = "127.0.0.1:" + std::to_string(port);
  }

  std::string DaemonLog() const { return "--- memserverd log ---\n" + ReadWholeFile(log_path_); }

  // memctl against this test's server.
  Output Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", address_});
    return Memctl(std::move(args));
  }
  // Runs memctl, expects exit 0, returns its stdout.
  std::string RunOk(std::vector<std::string> args) {
    Output o = Run(args);
    EXPECT_EQ(o.exit_code, 0) << fmt::format("memctl {}\n", fmt::join(args, " ")) << Describe(o);
    EXPECT_EQ(o.err, "");
    return o.out;
  }

  TempDir dir_;
  std::string log_path_;
  std::string port_file_;
  std::string address_;
  std::unique_ptr<Child> daemon_;  // killed by ~Child if the test did not stop it
};

TEST_F(MemctlE2eTest, SessionOverRealServerThenCleanShutdown) {
  // create prints the pid; the process outlives memctl.
  std::string pid = RunOk({"create", "--name", "e2e-proc"});
  ASSERT_FALSE(pid.empty());
  ASSERT_EQ(pid.back(), '\n');
  pid.pop_back();
  ASSERT_GT(std::stoull(pid), 0u) << pid;

  // mmap prints the address in hex.
  std::string mapped = RunOk({"mmap", pid, "8KiB"});
  ASSERT_EQ(mapped.rfind("0x", 0), 0u) << mapped;
  const uint64_t addr = std::stoull(mapped, nullptr, 16);
  const std::string a = fmt::format("{:#x}", addr);
  ASSERT_EQ(addr % 4096, 0u);

  // write --string, then read shows the hexdump and --raw the bytes.
  EXPECT_EQ(RunOk({"write", pid, a, "--string", "hello, memserver"}), "");
  const int width = std::max<int>(8, static_cast<int>(fmt::format("{:x}", addr + 16).size()));
  EXPECT_EQ(RunOk({"read", pid, a, "16"}),
            fmt::format("{:0{}x}  68 65 6c 6c 6f 2c 20 6d  65 6d 73 65 72 76 65 72  "
                        "|hello, memserver|\n{:0{}x}\n",
                        addr, width, addr + 16, width));
  EXPECT_EQ(RunOk({"read", pid, a, "5", "--raw"}), "hello");

  // --hex across the page boundary, read back raw.
  const std::string boundary = fmt::format("{:#x}", addr + 4094);
  EXPECT_EQ(RunOk({"write", pid, boundary, "--hex", "de ad be ef"}), "");
  EXPECT_EQ(RunOk({"read", pid, boundary, "4", "--raw"}), "\xde\xad\xbe\xef");

  // Read-only: a write fails with exit 1 and a segfault message; data unchanged.
  EXPECT_EQ(RunOk({"mprotect", pid, a, "0x2000", "r"}), "");
  Output denied = Run({"write", pid, a, "--string", "nope"});
  EXPECT_EQ(denied.exit_code, 1) << Describe(denied);
  EXPECT_EQ(denied.out, "");
  EXPECT_EQ(denied.err, fmt::format("memctl: segmentation fault (SEGV_ACCERR) at {}\n", a));
  EXPECT_EQ(RunOk({"read", pid, a, "5", "--raw"}), "hello");

  // stat: the server's view and the process's (two pages touched).
  std::string stat = RunOk({"stat", pid});
  EXPECT_EQ(LinesWith(stat, "page size").size(), 1u) << stat;
  EXPECT_EQ(LinesWith(stat, "process " + pid).size(), 1u) << stat;
  EXPECT_EQ(LinesWith(stat, "e2e-proc").size(), 1u) << stat;
  EXPECT_EQ(LinesWith(stat, "8KiB in 1 mappings").size(), 1u) << stat;
  EXPECT_EQ(LinesWith(stat, "8KiB (2 pages)").size(), 1u) << stat;  // resident
  EXPECT_EQ(LinesWith(RunOk({"stat"}), "1MiB total").size(), 1u);   // --memory 1MiB

  // ps: one row for the process with its sizes.
  std::string ps = RunOk({"ps"});
  std::vector<std::string> rows = LinesWith(ps, "e2e-proc");
  ASSERT_EQ(rows.size(), 1u) << ps;
  std::vector<std::string> fields = Fields(rows[0]);
  ASSERT_EQ(fields.size(), 8u) << ps;  // PID NAME VSZ RSS SWAP MAPS MINFLT MAJFLT
  EXPECT_EQ(fields[0], pid);
  EXPECT_EQ(fields[2], "8KiB");
  EXPECT_EQ(fields[3], "8KiB");
  EXPECT_EQ(fields[4], "0B");
  EXPECT_EQ(fields[5], "1");
  EXPECT_EQ(LinesWith(ps, "PID").size(), 1u) << ps;

  // pmap (as pmap -x): the mapping, read-only now, both pages resident and dirty.
  std::string pmap = RunOk({"pmap", pid});
  std::vector<std::string> mapping = LinesWith(pmap, fmt::format("{:016x}", addr));
  ASSERT_EQ(mapping.size(), 1u) << pmap;
  std::vector<std::string> columns = Fields(mapping[0]);
  ASSERT_EQ(columns.size(), 9u) << pmap;  // Address Kbytes RSS Dirty Mode Offset [ anon ]
  EXPECT_EQ(columns[1], "8") << pmap;
  EXPECT_EQ(columns[2], "8") << pmap;
  EXPECT_EQ(columns[3], "8") << pmap;
  EXPECT_EQ(columns[4], "r--p") << pmap;
  EXPECT_EQ(columns[5], "00000000") << pmap;
  EXPECT_NE(mapping[0].find("[ anon ]"), std::string::npos) << pmap;

  // munmap: the mapping is gone and reading faults.
  EXPECT_EQ(RunOk({"munmap", pid, a, "8KiB"}), "");
  EXPECT_TRUE(LinesWith(RunOk({"pmap", pid}), fmt::format("{:016x}", addr)).empty());
  Output unmapped = Run({"read", pid, a, "1"});
  EXPECT_EQ(unmapped.exit_code, 1) << Describe(unmapped);
  EXPECT_EQ(unmapped.err, fmt::format("memctl: segmentation fault (SEGV_MAPERR) at {}\n", a));

  // The address may also come from the environment.
  Output via_env = Memctl({"ps"}, {"MEMSERVER_ADDRESS=" + address_});
  EXPECT_EQ(via_env.exit_code, 0) << Describe(via_env);
  EXPECT_EQ(LinesWith(via_env.out, "e2e-proc").size(), 1u) << via_env.out;

  // exit: the process disappears; a second exit is NOT_FOUND.
  EXPECT_EQ(RunOk({"exit", pid}), "");
  EXPECT_TRUE(LinesWith(RunOk({"ps"}), "e2e-proc").empty());
  Output again = Run({"exit", pid});
  EXPECT_EQ(again.exit_code, 1) << Describe(again);
  EXPECT_EQ(again.err.rfind("memctl: NOT_FOUND: ", 0), 0u) << again.err;
  EXPECT_NE(again.err.find("[ESRCH]"), std::string::npos) << again.err;

  // A usage error is exit 2, even with a server up.
  Output usage = Run({"mmap", pid, "lots"});
  EXPECT_EQ(usage.exit_code, 2) << Describe(usage);

  // SIGTERM: memserverd shuts down cleanly and exits 0.
  ASSERT_TRUE(daemon_->Signal(SIGTERM));
  std::optional<int> code = daemon_->WaitExit(kStopTimeout);
  ASSERT_TRUE(code.has_value()) << "memserverd still running after SIGTERM\n" << DaemonLog();
  EXPECT_EQ(*code, 0) << DaemonLog();
}

TEST(MemctlCliTest, EverySubcommandHasHelp) {
  for (const char* command : {"create", "exit", "mmap", "munmap", "mprotect", "write", "read",
                              "stat", "ps", "pmap"}) {
    Output o = Memctl({command, "--help"});
    EXPECT_EQ(o.exit_code, 0) << command << "\n" << Describe(o);
    EXPECT_NE(o.out.find(std::string("Usage: memctl ") + command), std::string::npos)
        << Describe(o);
  }
  Output top = Memctl({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("--server"), std::string::npos) << top.out;
}

// Usage errors are found before any connection: the server address is a
// port where nothing listens, yet the exit code is 2, not 1.
TEST(MemctlCliTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> bad = {
      {},                                             // no subcommand
      {"frobnicate"},                                 // unknown subcommand
      {"mmap", "1"},                                  // missing LENGTH
      {"mmap", "1", "4XiB"},                          // bad unit
      {"mmap", "1", "4096", "--fixed"},               // --fixed needs --addr
      {"mmap", "1", "4096", "--prot", "rwz"},         // bad protection
      {"read", "1", "-5", "16"},                      // negative address
      {"write", "1", "0x1000"},                       // no data
      {"write", "1", "0x1000", "--hex", "abc"},       // odd hex digits
      {"write", "1", "0x1000", "--hex", "61", "--string", "a"},  // two sources
      {"exit", "0x"},                                 // no digits
  };
  for (const auto& args : bad) {
    std::vector<std::string> full = {"--server", "127.0.0.1:1"};
    full.insert(full.end(), args.begin(), args.end());
    Output o = Memctl(full);
    EXPECT_EQ(o.exit_code, 2) << fmt::format("memctl {}\n", fmt::join(full, " ")) << Describe(o);
    EXPECT_FALSE(o.err.empty());
  }
}

TEST(MemctlCliTest, UnreachableServerExitsOneWithAHint) {
  Output o = Memctl({"--server", "127.0.0.1:1", "--timeout", "10", "ps"});
  EXPECT_EQ(o.exit_code, 1) << Describe(o);
  EXPECT_EQ(o.err.rfind("memctl: UNAVAILABLE: ", 0), 0u) << o.err;
  EXPECT_NE(o.err.find("is memserverd running at 127.0.0.1:1?"), std::string::npos) << o.err;
}

}  // namespace
}  // namespace memserver::e2e
