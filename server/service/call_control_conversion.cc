#include "server/service/call_control_conversion.h"

#include <chrono>

namespace memserver::service {

CallControl CallControlFrom(const grpc::ServerContextBase& context) {
  // gRPC keeps deadlines on the system clock; the engine measures on the
  // steady one, so convert the time left, not the time point.
  CallControl::Clock::time_point deadline = CallControl::Clock::time_point::max();
  const std::chrono::system_clock::time_point at = context.deadline();
  if (at != std::chrono::system_clock::time_point::max()) {
    const auto left = at - std::chrono::system_clock::now();
    deadline = CallControl::Clock::now() + std::chrono::duration_cast<CallControl::Clock::duration>(left);
  }
  return CallControl(deadline, [&context] { return context.IsCancelled(); });
}

}  // namespace memserver::service
