#include "client/memload/grpc_codes.h"

#include <fmt/format.h>

#include <array>

namespace memserver::memload {

const char* GrpcCodeName(int code) {
  static constexpr std::array<const char*, kGrpcCodeCount> kNames{
      "OK",                 "CANCELLED",           "UNKNOWN",        "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",  "NOT_FOUND",           "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",        "OUT_OF_RANGE",
      "UNIMPLEMENTED",      "INTERNAL",            "UNAVAILABLE",    "DATA_LOSS",
      "UNAUTHENTICATED"};
  if (code < 0 || static_cast<size_t>(code) >= kNames.size()) return "UNKNOWN";
  return kNames[static_cast<size_t>(code)];
}

Status FromGrpcStatus(const grpc::Status& status, std::string_view what) {
  if (status.ok()) return Status::OK();
  const int code = static_cast<int>(status.error_code());
  StatusCode mapped = code == grpc::StatusCode::UNAUTHENTICATED
                          ? StatusCode::kPermissionDenied
                          : (code > 0 && code <= static_cast<int>(StatusCode::kDataLoss)
                                 ? static_cast<StatusCode>(code)
                                 : StatusCode::kUnknown);
  return Status(mapped, fmt::format("{}: {}", what, status.error_message()), nullptr);
}

}  // namespace memserver::memload
