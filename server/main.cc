// memserverd: serves the memserver.v1.Memory gRPC API.
//
//   memserverd --listen 127.0.0.1:7070 --memory 256MiB --data-dir ./memserver-data
//
// Options come from flags, MEMSERVER_* environment variables and a config
// file (server/daemon/config.h: precedence command line > environment >
// config file > default) and map onto ServerOptions
// (server/service/server.h). Logs go to stderr, as text or JSON lines
// (server/daemon/logging.h); the first lines state the effective
// configuration and where each value came from, then the addresses served
// (the bound one, and the one to dial when it is a wildcard such as 0.0.0.0).
// On SIGHUP it reloads the tenants file (--tenants): a good file replaces
// the tenants at once (a removed tenant's calls fail from then on), a bad
// one is logged and the old tenants stay. On SIGINT/SIGTERM it stops accepting calls, lets in-flight calls finish,
// checkpoints every process to the data directory (the next start on it
// serves them again) and exits. Exit codes: 0 after a clean shutdown (and
// --help), 2 for invalid options, 1 when the server cannot start (port in
// use, unusable data directory, storage failure) or the checkpoint at
// shutdown failed.
#include <absl/synchronization/mutex.h>
#include <fmt/format.h>
#include <grpc/grpc.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#include "server/daemon/config.h"
#include "server/daemon/listen_address.h"
#include "server/daemon/logging.h"
#include "server/daemon/tenants_file.h"
#include "server/engine/engine.h"
#include "server/common/byte_size.h"
#include "server/service/server.h"

namespace {

using memserver::Status;
using memserver::daemon::LogEvent;
using memserver::daemon::LogField;
using memserver::FormatByteSize;
using memserver::service::Server;

constexpr int kExitStartFailed = 1;
constexpr int kExitBadOptions = 2;

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

// One line: every option, its value and where it came from; in text
// "name=value(source)", in JSON "name":{"value":...,"source":...}.
void LogConfiguration(const memserver::daemon::DaemonConfig& config,
                      const std::vector<memserver::daemon::EffectiveOption>& effective) {
  const bool json = config.log_format == memserver::daemon::LogFormat::kJson;
  std::vector<LogField> fields;
  for (const auto& option : effective) {
    const char* source = memserver::daemon::SourceName(option.source);
    const std::string value = memserver::daemon::JsonQuote(option.value);
    fields.push_back(LogField{option.name,
                              json ? fmt::format("{{\"value\":{},\"source\":\"{}\"}}", value, source)
                                   : fmt::format("{}({})", value, source),
                              /*raw_json=*/true});
  }
  LogEvent(spdlog::level::info, "effective configuration", fields);
}

// What the engine found of the previous run on the same data directory.
// Process names come from clients: they go out as field values, quoted.
std::string UtcTime(int64_t unix_ms) {
  if (unix_ms <= 0) return "never";
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, unix_ms % 1000);
}

void LogRecovery(const memserver::Engine::Recovery& recovery) {
  constexpr size_t kNamed = 20;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  if (recovery.processes > 0 || recovery.snapshot_generation > 0) {
    LogEvent(spdlog::level::info,
             fmt::format("restored {} processes from snapshot {} taken at {} and {} journal records", recovery.processes,
                         recovery.snapshot_generation, UtcTime(recovery.snapshot_unix_ms), recovery.journal_records),
             {{"restored", std::to_string(recovery.processes)},
              {"snapshot_generation", std::to_string(recovery.snapshot_generation)},
              {"snapshot_age_ms", std::to_string(recovery.snapshot_unix_ms > 0 ? now - recovery.snapshot_unix_ms : 0)},
              {"restore_ms", fmt::format("{:.1f}", recovery.restore_ms)}});
  }
  // Per process (the first kNamed): where its memory came from and how old it is.
  for (size_t i = 0; i < recovery.restored_processes.size() && i < kNamed; ++i) {
    const auto& r = recovery.restored_processes[i];
    LogEvent(spdlog::level::info,
             fmt::format("process {} restored {}: its data is from {}", r.pid,
                         r.in_snapshot ? "from the snapshot" : "from its msync'd ranges only (created after the snapshot)",
                         UtcTime(r.data_unix_ms)),
             {{"pid", std::to_string(r.pid)},
              {"name", r.name},
              {"synced_ranges", std::to_string(r.synced_ranges)},
              {"data_age_ms", std::to_string(r.data_unix_ms > 0 ? now - r.data_unix_ms : 0)}});
  }
  if (recovery.restored_processes.size() > kNamed) {
    spdlog::info("... and {} more processes restored", recovery.restored_processes.size() - kNamed);
  }
  for (const std::string& d : recovery.dropped) {
    LogEvent(spdlog::level::warn, "could not be restored", {{"what", d}});
  }
  if (!recovery.unclean) return;
  if (recovery.lost.empty()) {
    spdlog::warn("the previous run stopped without a final snapshot (crash?); every process it hosted came back");
    return;
  }
  std::string lost;
  for (size_t i = 0; i < recovery.lost.size() && i < kNamed; ++i) {
    lost += fmt::format("{}{}({})", i == 0 ? "" : " ", recovery.lost[i].first, recovery.lost[i].second);
  }
  if (recovery.lost.size() > kNamed) lost += fmt::format(" and {} more", recovery.lost.size() - kNamed);
  LogEvent(spdlog::level::warn,
           fmt::format("the previous run stopped without a final snapshot (crash?); its {} processes created after "
                       "the last snapshot could not be restored",
                       recovery.lost.size()),
           {{"lost_count", std::to_string(recovery.lost.size())}, {"lost", lost}});
}

std::string MetricsAddress(const Server& server, const std::string& listen) {
  if (server.metrics_port() == 0) return "off";
  return memserver::daemon::BoundAddress(listen, server.metrics_port());
}

}  // namespace

int main(int argc, char** argv) {
  // gRPC's absl::Mutex runs deadlock-cycle detection on every lock in
  // Debian's build of absl: 2-3% of a loaded server's CPU under perf.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // One reference on the gRPC library for the whole process, never given
  // back: otherwise destroying the server at shutdown drops the last one,
  // and grpc_shutdown joins executor threads that can sit in a poll for up
  // to 10 s (seen: SIGTERM to exit 10 s instead of 15 ms, one stop in four).
  // The process exits right after; its threads end with it.
  grpc_init();
  // Block the shutdown signals before any thread starts, so every thread
  // (gRPC's, RocksDB's) inherits the mask and only sigwait below sees them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGINT);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGHUP);  // reloads the tenants file
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);

  memserver::daemon::DaemonConfig config;
  std::vector<memserver::daemon::EffectiveOption> effective;
  memserver::daemon::ParseOutcome parsed = memserver::daemon::ParseDaemonConfig(
      argc, argv, [](const char* name) { return static_cast<const char*>(std::getenv(name)); },
      &config, &effective);
  if (!parsed.run) {
    std::fputs(parsed.output.c_str(), parsed.exit_code == 0 ? stdout : stderr);
    return parsed.exit_code;
  }
  memserver::daemon::SetUpLogging(config.log_format, spdlog::level::from_str(config.log_level));
  LogConfiguration(config, effective);

  if (!config.tenants_file.empty()) {
    Status loaded = memserver::daemon::LoadTenantsFile(config.tenants_file, &config.server.tenants);
    if (!loaded.ok()) {
      spdlog::error("memserverd cannot start: {}", loaded.message());
      return kExitBadOptions;
    }
  }
  const auto start_time = std::chrono::steady_clock::now();
  std::unique_ptr<Server> server;
  Status s = Server::Start(config.server, &server);
  if (!s.ok()) {
    spdlog::error("memserverd cannot start: {}", s.ToString());
    return s.code() == memserver::StatusCode::kInvalidArgument ? kExitBadOptions : kExitStartFailed;
  }
  const memserver::EngineOptions& engine = server->engine()->options();
  const auto start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start_time)
                            .count();
  LogEvent(spdlog::level::info,
           memserver::daemon::ListeningMessage(
               memserver::daemon::BoundAddress(config.server.listen_address, server->port()),
               server->address()),
           {{"memory", FormatByteSize(engine.memory_bytes)},
            {"frames", std::to_string(server->engine()->GetGlobalStats().frames_total)},
            {"page_size", std::to_string(engine.page_size)},
            {"policy", engine.policy},
            {"data_dir", config.server.data_dir},
            {"max_io", FormatByteSize(engine.max_io_bytes)},
            {"address_bits", std::to_string(engine.address_bits)},
            {"readahead_pages", std::to_string(engine.readahead_max_pages)},
            {"snapshot_interval_ms", std::to_string(engine.snapshot_interval_ms)},
            {"metrics", MetricsAddress(*server, config.server.metrics_listen_address)},
            {"tls", config.server.tls_cert_file.empty()
                        ? "off"
                        : (config.server.tls_client_ca_file.empty() ? "on" : "mutual")},
            {"tenants", config.server.tenants == nullptr
                            ? "off"
                            : std::to_string(config.server.tenants->tenants().size())},
            {"start_ms", std::to_string(start_ms)}});

  LogRecovery(server->engine()->recovery());
  // Last: whoever waits for the port file finds the start-up lines logged.
  if (!config.port_file.empty()) {
    s = WritePortFile(config.port_file, server->port());
    if (!s.ok()) {
      spdlog::error("memserverd: {}", s.ToString());
      server->Shutdown();
      return kExitStartFailed;
    }
  }

  int signal_number = 0;
  for (;;) {
    sigwait(&shutdown_signals, &signal_number);
    if (signal_number != SIGHUP) break;
    if (config.tenants_file.empty()) {
      spdlog::info("memserverd received SIGHUP: no --tenants file to reload");
      continue;
    }
    std::shared_ptr<const memserver::service::TenantTable> tenants;
    Status reloaded = memserver::daemon::LoadTenantsFile(config.tenants_file, &tenants);
    if (reloaded.ok()) reloaded = server->SetTenants(tenants);
    if (!reloaded.ok()) {
      LogEvent(spdlog::level::warn, "tenants file not reloaded: the previous tenants stay",
               {{"error", reloaded.message()}});
      continue;
    }
    LogEvent(spdlog::level::info, "tenants file reloaded",
             {{"tenants", std::to_string(tenants->tenants().size())}, {"file", config.tenants_file}});
  }
  spdlog::info("memserverd received {}, shutting down (in-flight calls finish)",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  const auto stop_time = std::chrono::steady_clock::now();
  s = server->Shutdown();
  if (!s.ok()) {
    spdlog::error("memserverd stopped, but {}", s.ToString());
    return kExitStartFailed;
  }
  LogEvent(spdlog::level::info, "memserverd stopped",
           {{"shutdown_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - stop_time)
                                               .count())}});
  return 0;
}
