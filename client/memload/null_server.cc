#include "client/memload/null_server.h"

#include <fmt/format.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "client/memload/null_service.h"

namespace memserver::memload {

namespace {

// Room for a message's framing and fields around its payload.
constexpr int kMessageHeadroom = 64 << 10;

}  // namespace

Status NullServer::Start(const std::string& listen_address, std::unique_ptr<NullServer>* server) {
  const size_t colon = listen_address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument(fmt::format(
        "invalid listen address '{}' (expected host:port, e.g. 127.0.0.1:7071)", listen_address));
  }
  std::unique_ptr<NullServer> s(new NullServer());
  s->host_ = listen_address.substr(0, colon);
  s->service_ = std::make_unique<NullMemoryService>();

  grpc::ServerBuilder builder;
  int selected_port = 0;
  builder.AddListeningPort(listen_address, grpc::InsecureServerCredentials(), &selected_port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(kNullMaxIoBytes) + kMessageHeadroom);
  builder.SetMaxSendMessageSize(static_cast<int>(kNullMaxIoBytes) + kMessageHeadroom);
  builder.RegisterService(s->service_.get());
  s->grpc_server_ = builder.BuildAndStart();
  if (s->grpc_server_ == nullptr || selected_port == 0) {
    return Status::Unavailable(fmt::format(
        "cannot listen on '{}': the port is in use or the host is not an address of this machine",
        listen_address));
  }
  s->port_ = selected_port;
  *server = std::move(s);
  return Status::OK();
}

NullServer::~NullServer() { Shutdown(); }

std::string NullServer::address() const { return fmt::format("{}:{}", host_, port_); }

void NullServer::Shutdown(std::chrono::milliseconds grace) {
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  if (shut_down_ || grpc_server_ == nullptr) return;
  grpc_server_->Shutdown(std::chrono::system_clock::now() + grace);
  grpc_server_->Wait();
  shut_down_ = true;
}

}  // namespace memserver::memload
