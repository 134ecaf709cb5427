// CallControl: how long a call may run and whether its caller still wants
// the answer, for engine calls whose work grows with a length the caller
// chose (MAP_POPULATE, MADV_WILLNEED). The engine knows nothing of gRPC:
// the service builds one from the call's grpc::ServerContext (its deadline,
// and IsCancelled, which turns true when the client cancels, the deadline
// passes or the server shuts down), and the engine asks Check() between
// steps of such work, with no lock held.
//
// A default-constructed CallControl (CallControl::None()) has no deadline
// and is never cancelled: in-process callers and tests that do not care.
// A CallControl is borrowed for the length of one engine call; its
// `cancelled` function must stay callable that long and be thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <utility>

#include "server/common/status.h"

namespace memserver {

class CallControl {
 public:
  using Clock = std::chrono::steady_clock;

  CallControl() = default;
  // `deadline`: Check() fails from then on (Clock::time_point::max(): no
  // deadline). `cancelled`: polled by Check(); empty means never.
  CallControl(Clock::time_point deadline, std::function<bool()> cancelled)
      : deadline_(deadline), cancelled_(std::move(cancelled)) {}

  // The control with no deadline that is never cancelled.
  static const CallControl& None();

  // OK while the call may go on; Cancelled [ECANCELED] once the caller
  // cancelled it, DeadlineExceeded [ETIMEDOUT] past the deadline.
  Status Check() const;

  bool has_deadline() const { return deadline_ != Clock::time_point::max(); }
  Clock::time_point deadline() const { return deadline_; }

 private:
  Clock::time_point deadline_ = Clock::time_point::max();
  std::function<bool()> cancelled_;
};

}  // namespace memserver
