// The batched worker loop: like RunWorker (worker.h), but the ops go out N at
// a time, in unary Access calls or as requests on one AccessStream that the
// worker holds open for the phase (--batch, --stream).
//
// Counting: every op claims one unit of the op budget, so a budget of B
// yields exactly B ops over all workers (the last batches are shortened)
// unless streams run out or change process. A batch also ends
// early where the access stream changes process (one pid per request). Per
// op, a success is counted as in RunWorker with the latency of the call that
// carried it; a failed op is tallied under its own status code; when the
// whole call fails (transport error, rejected batch, an answer with the wrong
// tag or result count) every op of the batch is tallied under that code (a
// malformed answer: bad responses). WorkerStats::calls counts the calls.
//
// A stream that fails is finished and reopened for the next batch. The
// stream's deadline is the phase deadline plus the call timeout (none when
// the phase ends by op count: a server that stops answering then stalls the
// worker).
#pragma once

#include "client/memload/access_stream.h"
#include "client/memload/worker.h"
#include "memserver/v1/memserver.grpc.pb.h"

namespace memserver::memload {

struct BatchMode {
  int ops_per_call = 1;  // >= 1
  bool stream = false;   // AccessStream instead of unary Access calls
};

// `stub` is borrowed (shared with other workers); `live` may be null.
WorkerStats RunBatchWorker(v1::Memory::StubInterface& stub, AccessStream& accesses,
                           const PhaseLimits& limits, const BatchMode& mode, LiveCounters* live);

}  // namespace memserver::memload
