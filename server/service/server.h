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
// on; other names NOT_FOUND; Watch streams the same (health_service.h).
//
// Security (README "Security model"): with tls_cert_file/tls_key_file the
// gRPC port (and the metrics port) speak TLS only; with tls_client_ca_file
// a client must present a certificate signed by that CA. With `tenants`
// every Memory call needs a tenant's bearer token (server/service/auth.h)
// and sees only its tenant's processes and files. Without both TLS and
// tenants, Start refuses a listen or metrics address that is not loopback
// (127.0.0.0/8, ::1, localhost, a Unix socket) unless `insecure`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "server/common/status.h"
#include "server/engine/options.h"
#include "server/service/call_limits.h"
#include "server/service/tenants.h"

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

class Authenticator;
class CallLimiter;
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
  // RocksDB's memtable per column family (storage::RocksDbOptions::
  // write_buffer_bytes). A full disk recovers once a memtable's worth of
  // space is free: keep disk_reserve_bytes at least this. Default: 64 MiB.
  uint64_t store_write_buffer_bytes = 64ull << 20;
  // The memory engine's options (frames, page size, policy, ...).
  EngineOptions engine;
  // PEM certificate chain and private key of the server: TLS on the gRPC
  // and metrics ports. Both or neither. Default: none (plaintext).
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM CA bundle: clients must present a certificate it signed (mutual
  // TLS). Requires tls_cert_file. Default: none (no client certificate).
  std::string tls_client_ca_file;
  // Who may call, with their quotas; null: no authentication (every caller
  // is the admin of the no-tenant world). Default: null.
  std::shared_ptr<const TenantTable> tenants;
  // Serve a non-loopback address without TLS and tenants. Default: false.
  bool insecure = false;
  // Calls and streams one connection, one tenant and the server may hold
  // open (server/service/call_limits.h). Default: see CallLimits.
  CallLimits limits;
  // Threads that run AccessStream batches; 0: two per core, at least 4.
  // Default: 0.
  unsigned stream_threads = 0;
};

// Is `address` (host:port, [v6]:port, unix:path) reachable only from this
// machine?
bool IsLoopbackAddress(const std::string& address);

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

  // Replaces the tenants table (SIGHUP): calls authenticated from now on use
  // `tenants`, and the engine's quotas become its. Null is refused when the
  // server started with tenants (InvalidArgument): a reload cannot open it.
  Status SetTenants(std::shared_ptr<const TenantTable> tenants);
  // AccessStreams and health watchers open now.
  size_t open_streams() const;
  size_t health_watchers() const;

  // Turns health checks to NOT_SERVING, refuses new calls (UNAVAILABLE),
  // lets in-flight calls finish (up to `grace`, then cancels them), closes
  // every connection (idle ones do not delay it), stops the
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
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<CallLimiter> limiter_;
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
