// The engine's CallControl (server/common/call_control.h) for one gRPC call:
// its deadline (none when the client set none) and its cancellation, which
// gRPC raises when the client cancels, the deadline passes or the server
// shuts down past its grace period. The one place the service turns a
// ServerContext into what the engine's long calls check between steps.
#pragma once

#include <grpcpp/server_context.h>

#include "server/common/call_control.h"

namespace memserver::service {

// `context` is borrowed: the CallControl may be used only while the call
// runs (the handler's lifetime).
CallControl CallControlFrom(const grpc::ServerContextBase& context);

}  // namespace memserver::service
