// memserverd: serves the memserver.v1.Memory gRPC API.
//
//   memserverd --listen 127.0.0.1:7070 --memory 256MiB --data-dir ./memserver-data
//
// Flags map onto ServerOptions (server/service/server.h). On SIGINT/SIGTERM
// it stops accepting calls, lets in-flight calls finish, checkpoints every
// process to the data directory (the next start on it serves them again) and
// exits. Exit codes: 0 after a clean shutdown, 2 for invalid flags, 1 when
// the server cannot start (port in use, unusable data directory, storage
// failure) or the checkpoint at shutdown failed.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#include "server/engine/engine.h"
#include "server/frames/replacement_policy.h"
#include "server/service/byte_size.h"
#include "server/service/server.h"

namespace {

using memserver::Status;
using memserver::service::FormatByteSize;
using memserver::service::ParseByteSize;
using memserver::service::Server;
using memserver::service::ServerOptions;

constexpr int kExitStartFailed = 1;
constexpr int kExitBadFlags = 2;

// A CLI11 check that accepts what ParseByteSize accepts.
CLI::Validator ByteSizeValidator() {
  return CLI::Validator(
      [](std::string& text) {
        uint64_t bytes = 0;
        Status s = ParseByteSize(text, &bytes);
        return s.ok() ? std::string() : s.message();
      },
      "SIZE");
}

// Writes the port atomically (temporary file + rename): a reader polling
// for the file never sees it half-written.
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
    return Status::FailedPrecondition("cannot rename '" + tmp + "' to '" + path + "': " +
                                      ec.message());
  }
  return Status::OK();
}

// What the engine found of the previous run on the same data directory.
void LogRecovery(const memserver::Engine::Recovery& recovery) {
  if (recovery.restored && recovery.processes > 0) {
    spdlog::info("restored {} processes from the checkpoint of the previous shutdown",
                 recovery.processes);
  }
  if (recovery.unclean && !recovery.lost.empty()) {
    constexpr size_t kNamed = 20;
    std::string lost;
    for (size_t i = 0; i < recovery.lost.size() && i < kNamed; ++i) {
      lost += fmt::format(" {}({})", recovery.lost[i].first, recovery.lost[i].second);
    }
    if (recovery.lost.size() > kNamed) {
      lost += fmt::format(" and {} more", recovery.lost.size() - kNamed);
    }
    spdlog::warn("the previous run stopped without a checkpoint (crash?); its {} processes are "
                 "lost:{}",
                 recovery.lost.size(), lost);
  } else if (recovery.unclean) {
    spdlog::warn("the previous run stopped without a checkpoint (crash?); it hosted no processes");
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread starts, so every thread
  // (gRPC's, RocksDB's) inherits the mask and only sigwait below sees them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGINT);
  sigaddset(&shutdown_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);

  ServerOptions options;
  std::string memory = "256MiB";
  std::string max_io = "4MiB";
  std::string port_file;
  std::string log_level = "info";

  CLI::App app("memserverd: a gRPC server hosting the virtual memory of remote processes",
               "memserverd");
  app.add_option("--listen", options.listen_address,
                 "host:port to listen on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--memory", memory, "RAM of the frame pool (B, KiB, MiB, GiB or K, M, G)")
      ->check(ByteSizeValidator())
      ->capture_default_str();
  app.add_option("--page-size", options.engine.page_size,
                 "page size in bytes, a power of two in [4096, 1MiB]")
      ->capture_default_str();
  app.add_option("--data-dir", options.data_dir, "directory of the RocksDB backing store")
      ->capture_default_str();
  app.add_option("--policy", options.engine.policy, "page replacement policy")
      ->check(CLI::IsMember(memserver::ReplacementPolicyNames()))
      ->capture_default_str();
  app.add_option("--max-io", max_io, "largest byte count of one Read or Write")
      ->check(ByteSizeValidator())
      ->capture_default_str();
  app.add_option("--address-bits", options.engine.address_bits,
                 "width of each process's virtual address space, in [32, 56]")
      ->capture_default_str();
  app.add_option("--port-file", port_file,
                 "write the bound port number to FILE once listening (with --listen host:0)");
  app.add_option("--log-level", log_level, "log level")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, or the error and a hint
    return code == 0 ? 0 : kExitBadFlags;
  }
  // Both were validated by their checks above.
  ParseByteSize(memory, &options.engine.memory_bytes);
  ParseByteSize(max_io, &options.engine.max_io_bytes);

  spdlog::set_default_logger(spdlog::stderr_color_mt("memserverd"));
  spdlog::set_level(spdlog::level::from_str(log_level));

  std::unique_ptr<Server> server;
  Status s = Server::Start(options, &server);
  if (!s.ok()) {
    spdlog::error("memserverd cannot start: {}", s.ToString());
    return s.code() == memserver::StatusCode::kInvalidArgument ? kExitBadFlags : kExitStartFailed;
  }
  if (!port_file.empty()) {
    s = WritePortFile(port_file, server->port());
    if (!s.ok()) {
      spdlog::error("memserverd: {}", s.ToString());
      server->Shutdown();
      return kExitStartFailed;
    }
  }

  const memserver::EngineOptions& engine = server->engine()->options();
  spdlog::info(
      "memserverd listening on {} memory={} frames={} page_size={} policy={} data_dir={} "
      "max_io={} address_bits={}",
      server->address(), FormatByteSize(engine.memory_bytes),
      server->engine()->GetGlobalStats().frames_total, engine.page_size, engine.policy,
      options.data_dir, FormatByteSize(engine.max_io_bytes), engine.address_bits);

  LogRecovery(server->engine()->recovery());

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  spdlog::info("memserverd received {}, shutting down (in-flight calls finish)",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  s = server->Shutdown();
  if (!s.ok()) {
    spdlog::error("memserverd stopped, but {}", s.ToString());
    return kExitStartFailed;
  }
  spdlog::info("memserverd stopped");
  return 0;
}
