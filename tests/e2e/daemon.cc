#include "tests/e2e/daemon.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace memserver::e2e {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::unique_ptr<Daemon> Daemon::Start(const std::string& work_dir,
                                      const std::vector<std::string>& flags, const EnvChanges& env,
                                      std::string* error) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->log_path_ = work_dir + "/memserverd.log";
  const std::string port_file = work_dir + "/port";
  std::error_code ec;
  std::filesystem::remove(port_file, ec);
  std::vector<std::string> argv = {MEMSERVERD_PATH, "--listen", "127.0.0.1:0", "--port-file",
                                   port_file};
  argv.insert(argv.end(), flags.begin(), flags.end());
  int log_fd = open(d->log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    *error = "cannot open " + d->log_path_;
    return nullptr;
  }
  d->child_ = Child::Spawn(argv, env, log_fd, log_fd, error);
  close(log_fd);
  if (d->child_ == nullptr) return nullptr;

  // Bounded poll for the port file (written atomically once listening);
  // each round waits on the child's exit, so a daemon that dies is seen.
  const auto deadline = std::chrono::steady_clock::now() + kDaemonStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(port_file)) {
      d->port_ = std::atoi(ReadWholeFile(port_file).c_str());
      if (d->port_ > 0) return d;
    }
    std::optional<int> exited = d->child_->WaitExit(std::chrono::milliseconds(10));
    if (exited.has_value()) {
      *error = "memserverd exited with " + std::to_string(*exited) + " before listening\n" +
               d->Log();
      return nullptr;
    }
  }
  *error = "memserverd wrote no port file in time\n" + d->Log();
  return nullptr;
}

std::optional<int> Daemon::Stop(int signal, std::chrono::milliseconds timeout) {
  child_->Signal(signal);
  return child_->WaitExit(timeout);
}

std::string LoggedField(const std::string& log, const std::string& needle, const std::string& key) {
  std::istringstream in(log);
  std::string found;
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) == std::string::npos) continue;
    const size_t at = line.find(" " + key + "=");
    if (at == std::string::npos) continue;
    const size_t begin = at + key.size() + 2;
    found = line.substr(begin, line.find(' ', begin) - begin);
  }
  return found;
}

}  // namespace memserver::e2e
