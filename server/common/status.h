// Status: the engine's error type. Modelled on leveldb::Status / absl::Status.
//
// Codes are exactly gRPC's canonical codes (chosen by what the caller should
// do next), so the service converts a Status to a grpc::Status in one place
// (server/service/status_conversion.cc) without guessing. Every error may
// also carry:
//   - the POSIX errno name the call would have failed with on Linux
//     ("EINVAL", "ENOMEM", "EEXIST", ...), and
//   - for a memory access that faulted, the fault kind and the first
//     faulting address (SIGSEGV map/access error, SIGBUS).
//
// A Status is a small value type; an OK status allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace memserver {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
};

// What a faulting access would have raised in a real process.
enum class FaultKind : int {
  kNone = 0,
  kMapError = 1,     // SIGSEGV, SEGV_MAPERR: no mapping at the address
  kAccessError = 2,  // SIGSEGV, SEGV_ACCERR: mapping forbids the access
  kBusError = 3,     // SIGBUS, BUS_ADRERR: file mapping past end of file
};

const char* FaultKindName(FaultKind kind);
const char* StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  static Status OK() { return Status(); }

  static Status InvalidArgument(std::string_view msg, const char* err = "EINVAL") {
    return Status(StatusCode::kInvalidArgument, msg, err);
  }
  static Status NotFound(std::string_view msg, const char* err = "ESRCH") {
    return Status(StatusCode::kNotFound, msg, err);
  }
  static Status AlreadyExists(std::string_view msg, const char* err = "EEXIST") {
    return Status(StatusCode::kAlreadyExists, msg, err);
  }
  static Status ResourceExhausted(std::string_view msg, const char* err = "ENOMEM") {
    return Status(StatusCode::kResourceExhausted, msg, err);
  }
  static Status FailedPrecondition(std::string_view msg, const char* err = nullptr) {
    return Status(StatusCode::kFailedPrecondition, msg, err);
  }
  static Status PermissionDenied(std::string_view msg, const char* err = "EACCES") {
    return Status(StatusCode::kPermissionDenied, msg, err);
  }
  static Status Unavailable(std::string_view msg) {
    return Status(StatusCode::kUnavailable, msg, nullptr);
  }
  static Status Internal(std::string_view msg) {
    return Status(StatusCode::kInternal, msg, nullptr);
  }
  static Status IOError(std::string_view msg) {
    return Status(StatusCode::kUnavailable, msg, "EIO");
  }
  static Status Unimplemented(std::string_view msg) {
    return Status(StatusCode::kUnimplemented, msg, "ENOSYS");
  }
  // A memory access that faulted at `address`. The access changed nothing.
  // Reported with FAILED_PRECONDITION: the caller must map or mprotect the
  // memory before retrying. See proto/memserver/v1/memserver.proto.
  static Status Fault(FaultKind kind, uint64_t address);
  // NOT_FOUND for a pid whose process a crash lost (it was created after
  // the last snapshot and never msync'd): the caller learns it was lost,
  // and when, rather than guessing from a plain NOT_FOUND.
  static Status ProcessLost(std::string_view msg, int64_t lost_unix_ms);

  Status(StatusCode code, std::string_view msg, const char* errno_name);

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& message() const;
  // Errno name ("EINVAL"), or "" when the error has no POSIX counterpart.
  const std::string& errno_name() const;
  FaultKind fault_kind() const { return rep_ ? rep_->fault : FaultKind::kNone; }
  uint64_t fault_address() const { return rep_ ? rep_->fault_address : 0; }
  bool IsFault() const { return fault_kind() != FaultKind::kNone; }
  bool process_lost() const { return rep_ && rep_->lost_unix_ms != 0; }
  // When the start-up that found the process lost ran (Unix ms).
  int64_t lost_unix_ms() const { return rep_ ? rep_->lost_unix_ms : 0; }

  // "INVALID_ARGUMENT: length must be > 0 [EINVAL]"
  std::string ToString() const;

  Status(const Status& other) : rep_(other.rep_ ? new Rep(*other.rep_) : nullptr) {}
  Status& operator=(const Status& other) {
    if (this != &other) rep_.reset(other.rep_ ? new Rep(*other.rep_) : nullptr);
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
    std::string errno_name;
    FaultKind fault = FaultKind::kNone;
    uint64_t fault_address = 0;
    int64_t lost_unix_ms = 0;  // ProcessLost
  };
  std::unique_ptr<Rep> rep_;
};

// Returns early from the enclosing function when `expr` is not OK.
#define MEMSERVER_RETURN_IF_ERROR(expr)      \
  do {                                       \
    ::memserver::Status _st = (expr);        \
    if (!_st.ok()) return _st;               \
  } while (0)

}  // namespace memserver
