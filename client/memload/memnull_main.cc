// memnull: the null target. Serves memserver.v1.Memory with handlers that do
// no memory work (client/memload/null_service.h), so `memload --server` at it
// measures the transport's ceiling.
//
//   memnull --listen 127.0.0.1:7071 [--port-file F]
//
// Exit codes: 0 after a clean shutdown on SIGINT/SIGTERM, 2 for invalid
// flags, 1 when it cannot listen or write the port file.
#include <absl/synchronization/mutex.h>
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#include "client/memload/null_server.h"

namespace {

using memserver::Status;
using memserver::memload::NullServer;

constexpr int kExitStartFailed = 1;
constexpr int kExitBadFlags = 2;

// Writes the port atomically (temporary file + rename): a reader polling for
// the file never sees it half-written.
Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    out.close();
    if (!out) return Status::FailedPrecondition("cannot write port file '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return Status::FailedPrecondition("cannot rename '" + tmp + "' to '" + path +
                                      "': " + ec.message());
  }
  return Status::OK();
}

}  // namespace

int main(int argc, char** argv) {
  // gRPC's absl::Mutex runs deadlock-cycle detection on every lock in
  // Debian's build of absl: 2-3% of a loaded server's CPU under perf.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Block the shutdown signals before gRPC starts its threads, so only the
  // sigwait below receives them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGINT);
  sigaddset(&shutdown_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);

  std::string listen = "127.0.0.1:7071";
  std::string port_file;
  CLI::App app("memnull: a memserver.v1.Memory server doing no memory work (transport ceiling)",
               "memnull");
  app.add_option("--listen", listen, "host:port to listen on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--port-file", port_file, "write the bound port number to FILE once listening");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : kExitBadFlags;
  }

  std::unique_ptr<NullServer> server;
  Status s = NullServer::Start(listen, &server);
  if (!s.ok()) {
    fmt::print(stderr, "memnull: {}\n", s.ToString());
    return s.code() == memserver::StatusCode::kInvalidArgument ? kExitBadFlags : kExitStartFailed;
  }
  if (!port_file.empty()) {
    s = WritePortFile(port_file, server->port());
    if (!s.ok()) {
      fmt::print(stderr, "memnull: {}\n", s.ToString());
      return kExitStartFailed;
    }
  }
  fmt::print(stderr, "memnull listening on {}\n", server->address());

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  fmt::print(stderr, "memnull received {}, shutting down\n",
             signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  // Calls here finish in microseconds: a short grace suffices.
  server->Shutdown(std::chrono::seconds(2));
  return 0;
}
