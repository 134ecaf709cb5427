// Internal to client/lib (not a public header: it includes the generated
// code). The wire form of a Batch and of its results, shared by
// Client::Access and AccessSession.
#pragma once

#include <cstdint>
#include <vector>

#include "client/lib/batch.h"
#include "client/lib/error.h"
#include "memserver/v1/memserver.pb.h"

namespace memserver::client {

// Fills *request (cleared first) with `batch`'s ops for process `pid`.
void BatchToProto(uint64_t pid, const Batch& batch, uint64_t tag,
                  memserver::v1::AccessRequest* request);

// The Error an RpcStatus describes, decoded as Error::FromStatus decodes a
// call's status. REQUIRES: status.code() != 0.
Error ErrorFromRpcStatus(const memserver::v1::RpcStatus& status);

// One OpResult per op of `batch`, moving the read data out of *response.
// Throws Error (INTERNAL, MalformedAnswer) when the answer breaks the
// contract: a result count other than the op count, or a successful read
// whose data is not exactly the length asked for.
std::vector<OpResult> ResultsFromProto(const Batch& batch, memserver::v1::AccessResponse* response);

}  // namespace memserver::client
