// A batch of reads and writes (memserver.v1.AccessRequest): the checks on the
// batch as a whole, and running its ops against the engine. Shared by the
// unary Access RPC and the AccessStream session
// (server/service/memory_service_access.cc); no gRPC call plumbing here.
//
// A batch is rejected as a whole, before anything is allocated or any op
// runs, when
//   - it has more than kMaxAccessOps ops:       InvalidArgument [EINVAL]
//   - its read lengths plus write sizes exceed
//     EngineOptions::max_io_bytes:               ResourceExhausted [E2BIG]
//   - its pid names no live process:             NotFound [ESRCH]
// in that order (the cheap structural checks first). An empty batch is
// valid and has no results.
//
// Otherwise every op runs, in request order, each with its own result; a
// failing op does not stop the ops after it (readv-like, not atomic):
//   - READ of length 0:                          InvalidArgument [EINVAL]
//   - a kind other than READ or WRITE:           InvalidArgument [EINVAL]
//   - a faulting READ/WRITE: FailedPrecondition with the fault kind and
//     address, exactly as the unary Read/Write would fail (and, as there, a
//     faulting op reads or changes nothing).
// Each failed op's AccessResult.status is the memserver.v1.RpcStatus that
// the unary call would have carried in grpc-status-details-bin (code,
// message, one Any packing the ErrorDetail); an OK op leaves it unset
// (code 0). A process that exits during the batch fails the remaining ops
// with NotFound. Ops of one batch are not atomic with respect to other
// clients' calls.
#pragma once

#include <cstddef>
#include <cstdint>

#include "memserver/v1/memserver.pb.h"
#include "server/common/status.h"

namespace memserver {
class Engine;
}

namespace memserver::service {

// Most ops in one AccessRequest (like Linux's IOV_MAX of 1024, with room for
// the many-small-accesses case batching exists for).
inline constexpr size_t kMaxAccessOps = 4096;

// The batch-level checks above, without the pid (needs no engine).
Status ValidateAccessBatchShape(const v1::AccessRequest& request, uint64_t max_io_bytes);

// The batch-level checks above, then every op in order: fills
// response->results (one per op). Returns the batch-level rejection, in which
// case response->results is left empty. `response->tag` is not touched.
Status RunAccessBatch(Engine& engine, const v1::AccessRequest& request,
                      v1::AccessResponse* response);

// The RpcStatus for `status`, identical to the grpc-status-details-bin that
// ToGrpcStatus attaches (unset fields for OK).
void ToRpcStatus(const Status& status, v1::RpcStatus* out);

}  // namespace memserver::service
