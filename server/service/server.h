// Server: memserverd's wiring, usable from tests. Opens the RocksDB store in
// the data directory, builds the Engine over it (which restores the
// processes of a previous graceful shutdown, see Engine::recovery()), and
// serves the Memory gRPC service, gRPC health checking (grpc.health.v1,
// synchronous: server/service/health_service.h) and server reflection on the
// listen address, and (when metrics_listen_address is set) Prometheus
// metrics on an HTTP port of their own: every RPC timed by method and code
// (server/service/rpc_metrics.h) and the engine's counters
// (server/metrics/engine_collector.h), at GET /metrics.
//
//   std::unique_ptr<Server> server;
//   Status s = Server::Start(options, &server);  // listening when OK
//   ...
//   server->Shutdown();  // health checks say NOT_SERVING, stop accepting,
//                        // finish in-flight calls, checkpoint, close RocksDB
//
// Health: Check("") and Check("memserver.v1.Memory") answer SERVING from
// the moment Start returns OK until Shutdown begins, NOT_SERVING from then
// on; other names NOT_FOUND; Watch UNIMPLEMENTED (poll Check).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "server/common/status.h"
#include "server/engine/options.h"

namespace grpc {
class Server;
}

namespace memserver {
class Engine;
}

namespace memserver::metrics {
class MetricsServer;
}

namespace memserver::service {

class HealthServiceImpl;
class MemoryServiceImpl;

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see Server::port()).
  // Default: 127.0.0.1:7070 (loopback only).
  std::string listen_address = "127.0.0.1:7070";
  // Directory of the RocksDB backing store (swap, files, checkpoints);
  // created when missing. Default: ./memserver-data
  std::string data_dir = "./memserver-data";
  // host:port of the Prometheus /metrics HTTP server (see
  // server/metrics/http_server.h); port 0 picks a free port (see
  // Server::metrics_port()); empty: no metrics server, and no RPC metrics.
  // Default: empty (memserverd's --metrics-listen default is 127.0.0.1:9464;
  // this one is off so that tests building options never share a port).
  std::string metrics_listen_address;
  // Free space kept on the data directory's filesystem for RocksDB (see
  // storage::RocksDbOptions::disk_reserve_bytes). Default: 64 MiB.
  uint64_t disk_reserve_bytes = 64ull << 20;
  // The memory engine's options (frames, page size, policy, ...).
  EngineOptions engine;
};

class Server {
 public:
  static Status Start(const ServerOptions& options, std::unique_ptr<Server>* server);
  ~Server();  // Shutdown() if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  // The port of the /metrics HTTP server; 0 when it is off.
  int metrics_port() const { return metrics_port_; }
  // "127.0.0.1:<port>"-style address clients can dial.
  std::string address() const;
  Engine* engine() const { return engine_.get(); }

  // Turns health checks to NOT_SERVING, stops accepting calls, lets
  // in-flight calls finish (up to `grace`, then cancels them), stops the
  // metrics server, checkpoints the engine (Engine::Checkpoint: the next
  // Start on the same data_dir serves the same processes), and closes the
  // engine and RocksDB. Returns the checkpoint's error, if any; the engine is
  // closed either way. Idempotent and thread-safe: a later or concurrent
  // call waits for the first to finish and returns its result. After it,
  // engine() is null (do not call engine() concurrently with Shutdown).
  Status Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // Blocks until Shutdown() has completed (called from another thread).
  void Wait();

 private:
  Server() = default;
  ServerOptions options_;
  int port_ = 0;
  int metrics_port_ = 0;
  // Destruction order matters: gRPC stops (no call in flight) before the
  // service goes, the metrics server (whose collector borrows the engine)
  // stops before the checkpoint, and both before the engine goes.
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<metrics::MetricsServer> metrics_;
  std::unique_ptr<MemoryServiceImpl> service_;
  std::unique_ptr<HealthServiceImpl> health_;
  std::unique_ptr<grpc::Server> grpc_server_;

  std::mutex shutdown_mu_;  // held for the whole of Shutdown()
  std::condition_variable shutdown_cv_;
  bool shut_down_ = false;  // GUARDED_BY(shutdown_mu_)
  Status shutdown_status_;  // GUARDED_BY(shutdown_mu_)
};

}  // namespace memserver::service
