// The one place where an engine Status becomes a gRPC status.
//
// ToGrpcStatus keeps the code number (memserver::StatusCode uses gRPC's
// canonical codes) and the message, and attaches binary error details
// (trailer "grpc-status-details-bin"): a serialized memserver.v1.RpcStatus,
// wire-compatible with google.rpc.Status, whose `details` hold exactly one
// google.protobuf.Any packing a memserver.v1.ErrorDetail with the errno name
// and, for a faulting access, the fault kind and first faulting address.
// An OK status becomes grpc::Status::OK, with no details.
#pragma once

#include <grpcpp/support/status.h>

#include "server/common/status.h"

namespace memserver::service {

grpc::Status ToGrpcStatus(const Status& status);

}  // namespace memserver::service
