#include "server/service/health_service.h"

#include <fmt/format.h>

namespace memserver::service {

namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

std::set<std::string, std::less<>> WithServer(const std::vector<std::string>& services) {
  std::set<std::string, std::less<>> names(services.begin(), services.end());
  names.insert("");
  return names;
}

}  // namespace

HealthServiceImpl::HealthServiceImpl(const std::vector<std::string>& services)
    : services_(WithServer(services)) {}

grpc::Status HealthServiceImpl::Check(grpc::ServerContext* /*context*/,
                                      const HealthCheckRequest* request,
                                      HealthCheckResponse* response) {
  const std::string& service = request->service();
  if (service.size() > kMaxHealthServiceNameBytes) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("health check service name is {} bytes, over the limit of {}",
                                    service.size(), kMaxHealthServiceNameBytes));
  }
  if (!services_.contains(service)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        fmt::format("unknown service '{}': this server reports health only for "
                                    "'' (the whole server) and the services it serves",
                                    service));
  }
  response->set_status(serving() ? HealthCheckResponse::SERVING
                                 : HealthCheckResponse::NOT_SERVING);
  return grpc::Status::OK;
}

grpc::Status HealthServiceImpl::Watch(grpc::ServerContext* /*context*/,
                                      const HealthCheckRequest* /*request*/,
                                      grpc::ServerWriter<HealthCheckResponse>* /*writer*/) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      "grpc.health.v1.Health/Watch is not implemented by memserver: poll Check "
                      "instead");
}

}  // namespace memserver::service
