// gRPC status codes in memload: their names for error tallies, and the
// conversion of a failed setup call into the project's Status.
#pragma once

#include <grpcpp/support/status.h>

#include <cstddef>
#include <string_view>

#include "server/common/status.h"

namespace memserver::memload {

// Codes 0 (OK) .. 16 (UNAUTHENTICATED), the canonical gRPC set.
inline constexpr size_t kGrpcCodeCount = 17;

// "OK", "CANCELLED", ..., "UNAUTHENTICATED"; a code outside [0, 16] is
// "UNKNOWN".
const char* GrpcCodeName(int code);

// The same code (UNAUTHENTICATED, which Status lacks, becomes
// PERMISSION_DENIED), with the message prefixed by `what` ("CreateProcess").
Status FromGrpcStatus(const grpc::Status& status, std::string_view what);

}  // namespace memserver::memload
