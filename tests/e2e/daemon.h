// Daemon: the real memserverd binary (MEMSERVERD_PATH) as a child process,
// for end-to-end tests: on a free loopback port (--listen 127.0.0.1:0 and a
// port file), with its stdout and stderr appended to a log file.
//
//   std::string error;
//   auto d = Daemon::Start(dir, {"--data-dir", dir + "/data"}, {}, &error);
//   client::Client c(d->address());
//   EXPECT_EQ(d->Stop(SIGTERM), 0);
//
// Start waits (bounded, polling the port file and the child's exit) until
// the daemon listens; a daemon that exits first or never listens is an error
// carrying its log. The destructor kills a daemon still running.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/e2e/subprocess.h"

namespace memserver::e2e {

inline constexpr auto kDaemonStartTimeout = std::chrono::seconds(60);
inline constexpr auto kDaemonStopTimeout = std::chrono::seconds(120);

std::string ReadWholeFile(const std::string& path);

class Daemon {
 public:
  // Runs memserverd with `flags` after "--listen 127.0.0.1:0 --port-file
  // <work_dir>/port" (so `flags` must not name those two) and `env`. Its
  // output goes to <work_dir>/memserverd.log (appended: restarts share it).
  static std::unique_ptr<Daemon> Start(const std::string& work_dir,
                                       const std::vector<std::string>& flags,
                                       const EnvChanges& env, std::string* error);
  ~Daemon() = default;  // ~Child kills a daemon still running

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return child_->pid(); }
  // Everything logged so far (by every daemon of this work_dir).
  std::string Log() const { return ReadWholeFile(log_path_); }

  // True until the daemon has exited (a zombie counts as exited: it is
  // reaped here, so a crash is seen at once).
  bool Running() { return !child_->WaitExit(std::chrono::milliseconds(0)).has_value(); }
  // Sends `signal` without waiting.
  void Signal(int signal) { child_->Signal(signal); }
  // Sends `signal` and waits (bounded) for the exit: the exit status, 128 +
  // the signal for a kill, or nullopt when it did not exit in time.
  std::optional<int> Stop(int signal, std::chrono::milliseconds timeout = kDaemonStopTimeout);

 private:
  Daemon() = default;
  std::unique_ptr<Child> child_;
  std::string log_path_;
  int port_ = 0;
};

// The value of `key=` in the last line of `log` that contains `needle`
// (up to the next space), or "" when there is none.
std::string LoggedField(const std::string& log, const std::string& needle, const std::string& key);

}  // namespace memserver::e2e
