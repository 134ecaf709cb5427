// HealthServiceImpl: grpc.health.v1.Health for memserverd: Check on the
// synchronous gRPC API like the Memory service's unary calls, Watch on the
// callback API (an idle watcher costs no thread). gRPC's default health
// service is not used (see Server::Start).
//
// Check(service):
//   - "" (the server as a whole) and every name given at construction:
//     SERVING until BeginShutdown(), NOT_SERVING from then on (never back).
//   - any other name: NOT_FOUND, with a message naming the service (as the
//     gRPC health checking protocol says).
//   - a name longer than kMaxHealthServiceNameBytes: INVALID_ARGUMENT, before
//     any lookup.
// Watch(service): sends the status at once (SERVICE_UNKNOWN for a name
//   Check would answer NOT_FOUND for, as the protocol says), then again when
//   it changes: at BeginShutdown every watcher gets NOT_SERVING and its
//   stream ends with OK. At most kMaxHealthWatchers at once: past it
//   RESOURCE_EXHAUSTED naming the bound. A name over the length limit is
//   INVALID_ARGUMENT. Cancelled by the client, a watch ends at once.
//
// Neither asks for a bearer token: probes have none.
//
// Thread-safety: every method may run concurrently with every other; the set
// of names is fixed at construction and the serving flag is atomic.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "server/service/reactor_registry.h"

namespace memserver::service {

// Longest HealthCheckRequest.service accepted, in bytes (real service names
// are well under 100).
inline constexpr size_t kMaxHealthServiceNameBytes = 1024;
// Most Watch streams open at once.
inline constexpr size_t kMaxHealthWatchers = 1024;

class HealthWatcher;

class HealthServiceImpl final
    : public grpc::health::v1::Health::WithCallbackMethod_Watch<grpc::health::v1::Health::Service> {
 public:
  // `services`: the names, besides "", that answer SERVING.
  explicit HealthServiceImpl(const std::vector<std::string>& services);
  HealthServiceImpl(const HealthServiceImpl&) = delete;
  HealthServiceImpl& operator=(const HealthServiceImpl&) = delete;

  // From now on every known service answers NOT_SERVING. Irreversible and
  // idempotent. Server::Shutdown calls it first, before it cancels streams
  // and stops gRPC, so that a Check racing the shutdown never sees SERVING.
  void BeginShutdown();
  bool serving() const { return serving_.load(std::memory_order_acquire); }

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* context, const grpc::health::v1::HealthCheckRequest* request) override;

  size_t watchers();
  // After BeginShutdown: waits until every Watch stream has sent its
  // NOT_SERVING and finished (its client read both), or `deadline`.
  void WaitForWatchers(std::chrono::steady_clock::time_point deadline) { watchers_.WaitEmpty(deadline); }

 private:
  friend class HealthWatcher;
  bool Known(const std::string& service) const { return services_.contains(service); }

  const std::set<std::string, std::less<>> services_;  // always contains ""
  std::atomic<bool> serving_{true};
  ReactorRegistry<HealthWatcher> watchers_;
};

}  // namespace memserver::service
