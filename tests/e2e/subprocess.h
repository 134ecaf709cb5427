// Child processes for end-to-end tests: spawn a real binary, collect its
// output, signal it, and wait for its exit with a bounded timeout.
//
// Waiting uses a pidfd (poll wakes up when the child exits), so no call here
// sleeps for a fixed time. Every wait is bounded: a child still running at
// its deadline is reported (Child::WaitExit) or killed (RunToCompletion).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace memserver::e2e {

// Environment changes for a child: "NAME=VALUE" sets NAME, "NAME" unsets it;
// everything else is inherited.
using EnvChanges = std::vector<std::string>;

class Child {
 public:
  // Starts argv[0] (a path) with argv. Standard input is /dev/null; stdout and
  // stderr go to the given descriptors, which the child gets as 1 and 2 (the
  // caller keeps its own copies). nullptr with *error set on failure.
  static std::unique_ptr<Child> Spawn(const std::vector<std::string>& argv, const EnvChanges& env,
                                      int stdout_fd, int stderr_fd, std::string* error);
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `signal` unless the child was already reaped. False on failure.
  bool Signal(int signal);
  // Waits up to `timeout` for the child to exit and reaps it. Returns its exit
  // status, 128 + signal number when a signal killed it, or nullopt when it is
  // still running at the deadline. Once reaped, returns the same status again.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);

 private:
  Child(pid_t pid, int pidfd) : pid_(pid), pidfd_(pidfd) {}
  // Reaps the child if it has exited, without blocking.
  bool TryReap();

  pid_t pid_;
  int pidfd_;  // pollable: readable once the child has exited
  std::optional<int> status_;  // set once reaped
};

struct Output {
  int exit_code = -1;  // as Child::WaitExit; -1 when it had to be killed at the deadline
  std::string out;
  std::string err;
};

// Runs argv to completion, capturing stdout and stderr. A child still
// running after `timeout` is killed and reported with exit_code -1.
Output RunToCompletion(const std::vector<std::string>& argv, const EnvChanges& env = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace memserver::e2e
