// The one place where an engine Status becomes a gRPC status.
//
// ToGrpcStatus keeps the code number (memserver::StatusCode uses gRPC's
// canonical codes) and the message, and attaches binary error details
// (trailer "grpc-status-details-bin"): a serialized memserver.v1.RpcStatus,
// wire-compatible with google.rpc.Status, whose `details` hold exactly one
// google.protobuf.Any packing a memserver.v1.ErrorDetail with the errno name
// and, for a faulting access, the fault kind and first faulting address.
// An OK status becomes grpc::Status::OK, with no details.
//
// The message is bounded (BoundStatusMessage): it travels twice in the
// trailers (grpc-message, percent-encoded, and inside the base64 details),
// and a message echoing a 4 KiB path would pass a default client's 8 KiB
// metadata limit, so that the client would see only a transport error.
#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>
#include <string>

#include "server/common/status.h"

namespace memserver::service {

// Longest message sent, in bytes. Trailers then stay under ~4.5 KiB even if
// every byte is percent-encoded (3 bytes) in grpc-message.
inline constexpr size_t kMaxStatusMessageBytes = 1024;

// `message`, cut to at most kMaxStatusMessageBytes at a UTF-8 boundary with
// "... (N more bytes)" when longer.
std::string BoundStatusMessage(const std::string& message);

grpc::Status ToGrpcStatus(const Status& status);

}  // namespace memserver::service
