#include "client/healthcheck/health_probe.h"

#include <grpcpp/grpcpp.h>

#include <string>

#include "grpc/health/v1/health.grpc.pb.h"

namespace memserver::healthcheck {

namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "code " + std::to_string(static_cast<int>(code));
  }
}

// What a failed Check means for the operator reading the probe's output.
// `connected`: whether the channel had a connection when the call ended.
std::string DescribeRpcError(const grpc::Status& status, const ProbeOptions& options,
                             bool connected) {
  std::string message = CodeName(status.error_code());
  if (!status.error_message().empty()) message += ": " + status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      message += " (the server does not know the service '" + options.service + "')";
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      message += " (the server does not offer grpc.health.v1.Health)";
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      message += connected ? " (connected, but no answer within " : " (could not connect within ";
      message += std::to_string(options.timeout.count()) + " ms)";
      break;
    default:
      break;
  }
  return message;
}

}  // namespace

ProbeResult ProbeHealth(const ProbeOptions& options) {
  ProbeResult result;
  const std::string where = options.address + ": ";
  std::shared_ptr<grpc::Channel> channel;
  try {
    channel = client::OpenChannel(options.address, options.connection, grpc::ChannelArguments());
  } catch (const std::exception& e) {
    result.message = where + e.what();
    return result;
  }
  auto stub = grpc::health::v1::Health::NewStub(channel);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options.timeout);
  // Wait for the connection within the deadline instead of failing on the
  // first refused attempt: a server that is still starting gets the whole
  // timeout to answer.
  context.set_wait_for_ready(true);

  HealthCheckRequest request;
  request.set_service(options.service);
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    const bool connected = channel->GetState(false) == GRPC_CHANNEL_READY;
    result.message = where + DescribeRpcError(status, options, connected);
    return result;
  }
  // The response comes from the network: an enum value outside the ones we
  // know is reported, not trusted.
  const int value = static_cast<int>(response.status());
  if (!HealthCheckResponse::ServingStatus_IsValid(value)) {
    result.message = where + "unknown serving status " + std::to_string(value);
    return result;
  }
  if (response.status() != HealthCheckResponse::SERVING) {
    result.message = where + HealthCheckResponse::ServingStatus_Name(response.status());
    return result;
  }
  result.healthy = true;
  result.message = "SERVING";
  return result;
}

}  // namespace memserver::healthcheck
