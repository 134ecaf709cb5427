#include "server/service/status_conversion.h"

#include "memserver/v1/memserver.pb.h"

namespace memserver::service {

namespace {

v1::FaultKind ToProtoFaultKind(FaultKind kind) {
  switch (kind) {
    case FaultKind::kNone: return v1::FAULT_KIND_UNSPECIFIED;
    case FaultKind::kMapError: return v1::SEGV_MAPERR;
    case FaultKind::kAccessError: return v1::SEGV_ACCERR;
    case FaultKind::kBusError: return v1::SIGBUS_ADRERR;
  }
  return v1::FAULT_KIND_UNSPECIFIED;
}

}  // namespace

std::string BoundStatusMessage(const std::string& message) {
  if (message.size() <= kMaxStatusMessageBytes) return message;
  // Cut at a UTF-8 character boundary, and say how much was cut.
  size_t cut = kMaxStatusMessageBytes - 64;
  while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
  return message.substr(0, cut) + "... (" + std::to_string(message.size() - cut) + " more bytes)";
}

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const std::string message = BoundStatusMessage(status.message());

  v1::ErrorDetail detail;
  detail.set_errno_name(status.errno_name());
  detail.set_fault_kind(ToProtoFaultKind(status.fault_kind()));
  detail.set_fault_address(status.fault_address());
  detail.set_process_lost(status.process_lost());
  detail.set_lost_unix_ms(status.lost_unix_ms());

  v1::RpcStatus rpc_status;
  rpc_status.set_code(static_cast<int32_t>(status.code()));
  rpc_status.set_message(message);
  rpc_status.add_details()->PackFrom(detail);

  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message, rpc_status.SerializeAsString());
}

}  // namespace memserver::service
