// Error: the one exception type of the memserver client library.
//
// Every call that gets a non-OK grpc::Status throws an Error built by
// Error::FromStatus(): the gRPC code, the server's message, and the decoded
// memserver.v1.ErrorDetail (errno name and, for a faulting access, the fault
// kind and first faulting address). Transport failures (UNAVAILABLE,
// DEADLINE_EXCEEDED, ...) carry no detail: errno_name() is empty and
// is_fault() false. The library also throws Error for a malformed answer of
// the server (INTERNAL) and for use of an empty Process handle
// (FAILED_PRECONDITION); it never throws other types except std::bad_alloc.
#pragma once

#include <grpcpp/support/status_code_enum.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "client/lib/types.h"

namespace grpc {
class Status;
}

namespace memserver::client {

class Error : public std::runtime_error {
 public:
  Error(grpc::StatusCode code, std::string message, std::string errno_name = {},
        FaultKind fault_kind = FaultKind::kNone, uint64_t fault_address = 0);

  // Decodes `status` (which must not be OK). Binary details that do not parse
  // as memserver.v1.RpcStatus, or hold no ErrorDetail, are ignored: the Error
  // then has the code and message only. An unknown fault kind reads as kNone.
  static Error FromStatus(const grpc::Status& status);

  grpc::StatusCode code() const { return code_; }
  // The server's message alone, without code or errno.
  const std::string& message() const { return message_; }
  // Linux errno name ("EINVAL", "ESRCH", "SIGSEGV"...), or "" when unknown.
  const std::string& errno_name() const { return errno_name_; }
  FaultKind fault_kind() const { return fault_kind_; }
  // First faulting address; meaningful only when is_fault().
  uint64_t fault_address() const { return fault_address_; }
  // True when a memory access faulted (segmentation fault or bus error).
  bool is_fault() const { return fault_kind_ != FaultKind::kNone; }
  // NOT_FOUND for a process the server lost in a crash (created after its
  // last snapshot, never msync'd), and when the server found it lost.
  bool process_lost() const { return lost_unix_ms_ != 0; }
  int64_t lost_unix_ms() const { return lost_unix_ms_; }

  // what() reads "FAILED_PRECONDITION: <message> [SIGSEGV]": the code name,
  // the message, and the errno name in brackets when there is one.

 private:
  grpc::StatusCode code_;
  std::string message_;
  std::string errno_name_;
  FaultKind fault_kind_;
  uint64_t fault_address_;
  int64_t lost_unix_ms_ = 0;
};

// "FAILED_PRECONDITION", "NOT_FOUND", ... ("UNKNOWN" for values out of range).
const char* StatusCodeName(grpc::StatusCode code);

}  // namespace memserver::client
