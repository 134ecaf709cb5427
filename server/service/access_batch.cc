#include "server/service/access_batch.h"

#include <fmt/format.h>

#include <string>

#include "server/engine/engine.h"
#include "server/common/byte_size.h"
#include "server/service/request_validation.h"
#include "server/service/status_conversion.h"

namespace memserver::service {

namespace {

// Bytes an op moves; 0 for ops of an unknown kind (they move nothing).
uint64_t OpBytes(const v1::AccessOp& op) {
  switch (op.kind()) {
    case v1::AccessOp::READ: return op.length();
    case v1::AccessOp::WRITE: return op.data().size();
    default: return 0;
  }
}

Status RunOp(Engine& engine, uint64_t pid, uint64_t max_io_bytes, const v1::AccessOp& op,
             v1::AccessResult* result) {
  switch (op.kind()) {
    case v1::AccessOp::READ: {
      // Bounded by the batch's byte check, so the resize never exceeds
      // max_io_bytes; the length-0 rule is the unary Read's.
      MEMSERVER_RETURN_IF_ERROR(ValidateReadLength(op.length(), max_io_bytes));
      std::string* data = result->mutable_data();
      data->resize(op.length());
      Status s = engine.Read(pid, op.addr(), op.length(), data->data());
      if (!s.ok()) result->clear_data();
      return s;
    }
    case v1::AccessOp::WRITE:
      return engine.Write(pid, op.addr(), op.data());
    default:
      return Status::InvalidArgument(fmt::format(
          "op kind {} is neither READ ({}) nor WRITE ({})", static_cast<int>(op.kind()),
          static_cast<int>(v1::AccessOp::READ), static_cast<int>(v1::AccessOp::WRITE)));
  }
}

}  // namespace

void ToRpcStatus(const Status& status, v1::RpcStatus* out) {
  out->Clear();
  if (status.ok()) return;
  // The details ToGrpcStatus attaches are this very message, serialized: one
  // conversion, so batch results and unary calls cannot drift apart.
  const grpc::Status converted = ToGrpcStatus(status);
  if (!out->ParseFromString(converted.error_details())) {
    out->Clear();
    out->set_code(static_cast<int32_t>(status.code()));
    out->set_message(status.message());
  }
}

Status ValidateAccessBatchShape(const v1::AccessRequest& request, uint64_t max_io_bytes) {
  const size_t ops = static_cast<size_t>(request.ops_size());
  if (ops > kMaxAccessOps) {
    return Status::InvalidArgument(
        fmt::format("batch has {} ops, more than the limit of {}; split it into smaller batches",
                    ops, kMaxAccessOps));
  }
  uint64_t total = 0;
  for (const v1::AccessOp& op : request.ops()) {
    const uint64_t bytes = OpBytes(op);
    // Compared without overflow: total <= max_io_bytes holds throughout.
    if (bytes > max_io_bytes - total) {
      return Status::ResourceExhausted(
          fmt::format("batch moves more than the server's max I/O size of {} bytes ({}) in its "
                      "read lengths and write sizes; split it into smaller batches",
                      max_io_bytes, FormatByteSize(max_io_bytes)),
          "E2BIG");
    }
    total += bytes;
  }
  return Status::OK();
}

Status RunAccessBatch(Engine& engine, const v1::AccessRequest& request,
                      v1::AccessResponse* response) {
  const uint64_t max_io_bytes = engine.options().max_io_bytes;
  MEMSERVER_RETURN_IF_ERROR(ValidateAccessBatchShape(request, max_io_bytes));
  // Looks the pid up without touching memory: an unknown pid fails the batch
  // instead of every op.
  ProcessLimits limits;
  MEMSERVER_RETURN_IF_ERROR(engine.GetLimits(request.pid(), &limits));

  auto* results = response->mutable_results();
  results->Reserve(request.ops_size());
  for (const v1::AccessOp& op : request.ops()) {
    v1::AccessResult* result = results->Add();
    Status s = RunOp(engine, request.pid(), max_io_bytes, op, result);
    if (!s.ok()) ToRpcStatus(s, result->mutable_status());
  }
  return Status::OK();
}

}  // namespace memserver::service
