#include "tests/e2e/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace memserver::e2e {

namespace {

using Clock = std::chrono::steady_clock;

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

std::vector<std::string> BuildEnvironment(const EnvChanges& changes) {
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    bool changed = false;
    for (const std::string& change : changes) changed |= name_of(change) == name_of(entry);
    if (!changed) env.push_back(entry);
  }
  for (const std::string& change : changes) {
    if (change.find('=') != std::string::npos) env.push_back(change);
  }
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

int Remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

std::unique_ptr<Child> Child::Spawn(const std::vector<std::string>& argv, const EnvChanges& env,
                                    int stdout_fd, int stderr_fd, std::string* error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = BuildEnvironment(env);
  std::vector<char*> arg_pointers = Pointers(args);
  std::vector<char*> env_pointers = Pointers(envs);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, arg_pointers.data(),
                       env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    *error = "posix_spawn " + args[0] + ": " + std::strerror(rc);
    return nullptr;
  }
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    *error = std::string("pidfd_open: ") + std::strerror(errno);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return nullptr;
  }
  return std::unique_ptr<Child>(new Child(pid, pidfd));
}

Child::~Child() {
  if (!status_) {
    kill(pid_, SIGKILL);
    int wait_status = 0;
    while (waitpid(pid_, &wait_status, 0) < 0 && errno == EINTR) {
    }
  }
  close(pidfd_);
}

bool Child::Signal(int signal) { return !status_ && kill(pid_, signal) == 0; }

bool Child::TryReap() {
  if (status_) return true;
  int wait_status = 0;
  pid_t r = waitpid(pid_, &wait_status, WNOHANG);
  if (r == pid_) status_ = ExitCodeOf(wait_status);
  return status_.has_value();
}

std::optional<int> Child::WaitExit(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!TryReap()) {
    int left = Remaining(deadline);
    if (left == 0) return std::nullopt;
    pollfd fd{pidfd_, POLLIN, 0};
    poll(&fd, 1, left);  // readable once the child has exited
  }
  return status_;
}

Output RunToCompletion(const std::vector<std::string>& argv, const EnvChanges& env,
                       std::chrono::milliseconds timeout) {
  Output output;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    output.err = std::string("pipe: ") + std::strerror(errno);
    return output;
  }
  std::string error;
  std::unique_ptr<Child> child = Child::Spawn(argv, env, out_pipe[1], err_pipe[1], &error);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!child) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    output.err = error;
    return output;
  }
  // Drain both pipes until the child closes them (at exit) or time runs out.
  const Clock::time_point deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&output.out, &output.err};
  int open_fds = 2;
  while (open_fds > 0) {
    int left = Remaining(deadline);
    if (left == 0 || poll(fds, 2, left) < 0) {
      if (errno == EINTR && left > 0) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  std::optional<int> code = child->WaitExit(std::chrono::milliseconds(Remaining(deadline)));
  output.exit_code = code.value_or(-1);  // ~Child kills a child still running
  return output;
}

}  // namespace memserver::e2e
