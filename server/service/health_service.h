// HealthServiceImpl: grpc.health.v1.Health for memserverd, on the synchronous
// gRPC API like the Memory service (gRPC's default health service uses the
// callback API, whose extra callback/"nexting" threads cost a synchronous
// server throughput; see Server::Start).
//
// Check(service):
//   - "" (the server as a whole) and every name given at construction:
//     SERVING until BeginShutdown(), NOT_SERVING from then on (never back).
//   - any other name: NOT_FOUND, with a message naming the service (as the
//     gRPC health checking protocol says).
//   - a name longer than kMaxHealthServiceNameBytes: INVALID_ARGUMENT, before
//     any lookup.
// Watch: UNIMPLEMENTED, telling the caller to poll Check. A synchronous
//   streaming Watch would hold a server thread for as long as each watcher
//   stays connected, a cost without bound that any client could impose; the
//   protocol lets a server leave Watch unimplemented (clients doing
//   client-side health checking then treat the server as healthy and log it).
//
// Thread-safety: every method may run concurrently with every other; the set
// of names is fixed at construction and the serving flag is atomic.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"

namespace memserver::service {

// Longest HealthCheckRequest.service accepted, in bytes (real service names
// are well under 100).
inline constexpr size_t kMaxHealthServiceNameBytes = 1024;

class HealthServiceImpl final : public grpc::health::v1::Health::Service {
 public:
  // `services`: the names, besides "", that answer SERVING.
  explicit HealthServiceImpl(const std::vector<std::string>& services);
  HealthServiceImpl(const HealthServiceImpl&) = delete;
  HealthServiceImpl& operator=(const HealthServiceImpl&) = delete;

  // From now on every known service answers NOT_SERVING. Irreversible and
  // idempotent. Server::Shutdown calls it first, before it cancels streams
  // and stops gRPC, so that a Check racing the shutdown never sees SERVING.
  void BeginShutdown() { serving_.store(false, std::memory_order_release); }
  bool serving() const { return serving_.load(std::memory_order_acquire); }

  grpc::Status Check(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::health::v1::HealthCheckResponse* response) override;
  grpc::Status Watch(grpc::ServerContext* context,
                     const grpc::health::v1::HealthCheckRequest* request,
                     grpc::ServerWriter<grpc::health::v1::HealthCheckResponse>* writer) override;

 private:
  const std::set<std::string, std::less<>> services_;  // always contains ""
  std::atomic<bool> serving_{true};
};

}  // namespace memserver::service
