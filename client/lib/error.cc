#include "client/lib/error.h"

#include <grpcpp/support/status.h>

#include <utility>

#include "memserver/v1/memserver.pb.h"

namespace memserver::client {

namespace {

std::string FormatWhat(grpc::StatusCode code, const std::string& message,
                       const std::string& errno_name) {
  std::string what = StatusCodeName(code);
  what += ": ";
  what += message.empty() ? "(no message)" : message;
  if (!errno_name.empty()) {
    what += " [";
    what += errno_name;
    what += "]";
  }
  return what;
}

// The server's fault kind, or kNone for values this client does not know.
FaultKind ToFaultKind(memserver::v1::FaultKind kind) {
  switch (kind) {
    case memserver::v1::SEGV_MAPERR: return FaultKind::kMapError;
    case memserver::v1::SEGV_ACCERR: return FaultKind::kAccessError;
    case memserver::v1::SIGBUS_ADRERR: return FaultKind::kBusError;
    default: return FaultKind::kNone;
  }
}

// Errno names are short identifiers ("EINVAL", "SIGSEGV"); anything else
// from the wire is dropped rather than shown to users.
bool IsErrnoName(const std::string& name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone: return "NONE";
    case FaultKind::kMapError: return "SEGV_MAPERR";
    case FaultKind::kAccessError: return "SEGV_ACCERR";
    case FaultKind::kBusError: return "BUS_ADRERR";
  }
  return "NONE";
}

const char* StatusCodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
      "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return (i >= 0 && i < static_cast<int>(std::size(kNames))) ? kNames[i] : "UNKNOWN";
}

Error::Error(grpc::StatusCode code, std::string message, std::string errno_name,
             FaultKind fault_kind, uint64_t fault_address)
    : std::runtime_error(FormatWhat(code, message, errno_name)),
      code_(code),
      message_(std::move(message)),
      errno_name_(std::move(errno_name)),
      fault_kind_(fault_kind),
      fault_address_(fault_kind == FaultKind::kNone ? 0 : fault_address) {}

Error Error::FromStatus(const grpc::Status& status) {
  std::string errno_name;
  FaultKind kind = FaultKind::kNone;
  uint64_t address = 0;
  int64_t lost = 0;
  memserver::v1::RpcStatus details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      memserver::v1::ErrorDetail detail;
      if (!any.Is<memserver::v1::ErrorDetail>() || !any.UnpackTo(&detail)) continue;
      if (IsErrnoName(detail.errno_name())) errno_name = detail.errno_name();
      kind = ToFaultKind(detail.fault_kind());
      address = detail.fault_address();
      if (detail.process_lost()) lost = detail.lost_unix_ms() != 0 ? detail.lost_unix_ms() : 1;
      break;
    }
  }
  Error error(status.error_code(), status.error_message(), std::move(errno_name), kind, address);
  error.lost_unix_ms_ = lost;
  return error;
}

}  // namespace memserver::client
