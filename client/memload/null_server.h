// NullServer: a gRPC server hosting NullMemoryService (null_service.h), for
// memnull and for tests that need a target without a memory engine.
//
//   std::unique_ptr<NullServer> server;
//   Status s = NullServer::Start("127.0.0.1:0", &server);  // listening when OK
//   ... dial server->address() ...
//   server->Shutdown();  // also done by the destructor
//
// Built like memserverd's server: synchronous API, SO_REUSEPORT off (a port
// in use is an error), message limits sized for kNullMaxIoBytes.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "server/common/status.h"

namespace grpc {
class Server;
}

namespace memserver::memload {

class NullMemoryService;

class NullServer {
 public:
  // `listen_address` is host:port; port 0 picks a free one. Unavailable when
  // the address cannot be bound.
  static Status Start(const std::string& listen_address, std::unique_ptr<NullServer>* server);
  ~NullServer();  // Shutdown()
  NullServer(const NullServer&) = delete;
  NullServer& operator=(const NullServer&) = delete;

  int port() const { return port_; }
  // "<host>:<port>" with the host of the listen address and the bound port.
  std::string address() const;

  // Stops accepting calls, lets calls in flight finish for up to `grace`
  // (then cancels them). Idempotent and thread-safe.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  NullServer() = default;
  std::string host_;
  int port_ = 0;
  // gRPC stops before the service it calls is destroyed.
  std::unique_ptr<NullMemoryService> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // GUARDED_BY(shutdown_mu_)
};

}  // namespace memserver::memload
