#include "server/common/status.h"

#include <fmt/format.h>

namespace memserver {

namespace {
const std::string& EmptyString() {
  static const std::string* empty = new std::string();
  return *empty;
}
}  // namespace

const char* FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone: return "NONE";
    case FaultKind::kMapError: return "SEGV_MAPERR";
    case FaultKind::kAccessError: return "SEGV_ACCERR";
    case FaultKind::kBusError: return "BUS_ADRERR";
  }
  return "UNKNOWN";
}

const char* StatusCodeName(StatusCode code) {
  static const char* const kNames[] = {
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
      "INTERNAL", "UNAVAILABLE", "DATA_LOSS"};
  int i = static_cast<int>(code);
  return (i >= 0 && i < 16) ? kNames[i] : "UNKNOWN";
}

Status::Status(StatusCode code, std::string_view msg, const char* errno_name) {
  if (code == StatusCode::kOk) return;
  rep_ = std::make_unique<Rep>();
  rep_->code = code;
  rep_->message = std::string(msg);
  if (errno_name) rep_->errno_name = errno_name;
}

Status Status::Fault(FaultKind kind, uint64_t address) {
  const char* sig = kind == FaultKind::kBusError ? "bus error (SIGBUS)" : "segmentation fault (SIGSEGV)";
  const char* why = kind == FaultKind::kMapError      ? "address not mapped"
                    : kind == FaultKind::kAccessError ? "access not permitted by the mapping's protection"
                                                      : "access past the end of the mapped file";
  Status s(StatusCode::kFailedPrecondition,
           fmt::format("{} at address {:#x}: {} ({})", sig, address, why, FaultKindName(kind)),
           kind == FaultKind::kBusError ? "SIGBUS" : "SIGSEGV");
  s.rep_->fault = kind;
  s.rep_->fault_address = address;
  return s;
}

Status Status::ProcessLost(std::string_view msg, int64_t lost_unix_ms) {
  Status s(StatusCode::kNotFound, msg, "ESRCH");
  s.rep_->lost_unix_ms = lost_unix_ms == 0 ? 1 : lost_unix_ms;
  return s;
}

const std::string& Status::message() const { return rep_ ? rep_->message : EmptyString(); }
const std::string& Status::errno_name() const { return rep_ ? rep_->errno_name : EmptyString(); }

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = fmt::format("{}: {}", StatusCodeName(rep_->code), rep_->message);
  if (!rep_->errno_name.empty()) s += fmt::format(" [{}]", rep_->errno_name);
  return s;
}

}  // namespace memserver
