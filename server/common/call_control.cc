#include "server/common/call_control.h"

namespace memserver {

const CallControl& CallControl::None() {
  static const CallControl none;
  return none;
}

Status CallControl::Check() const {
  if (cancelled_ && cancelled_()) {
    return Status(StatusCode::kCancelled, "the call was cancelled (by its client or a server shutdown)",
                  "ECANCELED");
  }
  if (has_deadline() && Clock::now() >= deadline_) {
    return Status(StatusCode::kDeadlineExceeded, "the call's deadline passed", "ETIMEDOUT");
  }
  return Status::OK();
}

}  // namespace memserver
