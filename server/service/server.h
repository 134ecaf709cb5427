// Server: memserverd's wiring, usable from tests. Opens the RocksDB store in
// the data directory, builds the Engine over it (which restores the
// processes of a previous graceful shutdown, see Engine::recovery()), and
// serves the Memory gRPC service, gRPC health checking and server reflection
// on the listen address.
//
//   std::unique_ptr<Server> server;
//   Status s = Server::Start(options, &server);  // listening when OK
//   ...
//   server->Shutdown();  // stop accepting, finish in-flight calls,
//                        // checkpoint, close RocksDB
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

namespace memserver::service {

class MemoryServiceImpl;

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see Server::port()).
  // Default: 127.0.0.1:7070 (loopback only).
  std::string listen_address = "127.0.0.1:7070";
  // Directory of the RocksDB backing store (swap, files, checkpoints);
  // created when missing. Default: ./memserver-data
  std::string data_dir = "./memserver-data";
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
  // "127.0.0.1:<port>"-style address clients can dial.
  std::string address() const;
  Engine* engine() const { return engine_.get(); }

  // Stops accepting calls, lets in-flight calls finish (up to `grace`, then
  // cancels them), checkpoints the engine (Engine::Checkpoint: the next
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
  // Destruction order matters: gRPC stops (no call in flight) before the
  // service goes, and the service before the engine it borrows.
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<MemoryServiceImpl> service_;
  std::unique_ptr<grpc::Server> grpc_server_;

  std::mutex shutdown_mu_;  // held for the whole of Shutdown()
  std::condition_variable shutdown_cv_;
  bool shut_down_ = false;  // GUARDED_BY(shutdown_mu_)
  Status shutdown_status_;  // GUARDED_BY(shutdown_mu_)
};

}  // namespace memserver::service
