// The worker loop: one thread issuing one Read or Write at a time through the
// generated stub, timing each call and tallying failures by gRPC status code
// (no exceptions on the hot path).
//
// A phase ends, for each worker, at the first of: the stream is exhausted,
// the deadline has passed when the next op would start, the shared op budget
// is spent (each op claims one unit before it starts, so a budget of N yields
// exactly N ops over all workers unless streams run out), or the stop flag is
// set. A call in flight always completes (bounded by the call timeout).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "client/memload/access_stream.h"
#include "client/memload/grpc_codes.h"
#include "client/memload/histogram.h"
#include "client/memload/timeline.h"
#include "memserver/v1/memserver.grpc.pb.h"

namespace memserver::memload {

using Clock = std::chrono::steady_clock;

// What a worker publishes while it runs, for the progress line. Written by
// its worker only (relaxed), read by anyone.
struct alignas(64) LiveCounters {
  std::atomic<uint64_t> ops{0};     // completed ops, failed ones included
  std::atomic<uint64_t> errors{0};  // failed ops and bad responses
};

struct PhaseLimits {
  // Key generators see the time elapsed since this instant.
  Clock::time_point run_start;
  // No op starts at or after it. Default: none.
  Clock::time_point deadline = Clock::time_point::max();
  // Shared by the phase's workers; null for no op limit.
  std::atomic<int64_t>* op_budget = nullptr;
  // Checked before every op; null for none.
  const std::atomic<bool>* stop = nullptr;
  // Deadline of every call.
  std::chrono::nanoseconds call_timeout = std::chrono::seconds(10);
  // The server's page size, to count the pages each access touches.
  uint64_t page_size = 4096;
  // Where each worker records its completions over time; null for none
  // (warm-up). Shared by the phase's workers.
  Timeline* timeline = nullptr;
};

// Successful ops of one kind.
struct OpStats {
  uint64_t ops = 0;
  uint64_t bytes = 0;
  Histogram latency_ns;

  void Merge(const OpStats& other);
};

// One step of a storm cycle (storm.h): its successful calls (latency, and
// bytes moved by a Write or Read step), and the cycles it failed.
struct StepStats {
  OpStats ok;
  uint64_t failed = 0;

  // A storm's step histograms are smaller than the Read/Write ones (storm.h).
  explicit StepStats(int precision_bits) : ok{0, 0, Histogram(precision_bits)} {}
  void Merge(const StepStats& other);
};

struct WorkerStats {
  OpStats reads;
  OpStats writes;
  // Storm workloads: completed cycles (each one op: a cycle whose every step
  // succeeded), and per step (storm.h's order, the whole cycle last) the
  // latencies; empty otherwise.
  uint64_t cycles = 0;
  std::vector<StepStats> steps;
  // Failed calls by gRPC status code (index 0, OK, stays 0).
  std::array<uint64_t, kGrpcCodeCount> errors{};
  // OK reads whose data did not have the requested length.
  uint64_t bad_responses = 0;
  // Pages touched by the successful ops (an access spanning two pages counts
  // two), the denominator of the hit ratio.
  uint64_t page_accesses = 0;
  // Completed calls, failed ones included: one per unary Read/Write, per
  // Access call, or per AccessStream request answered or failed.
  uint64_t calls = 0;
  // When the last op of the phase completed; epoch when none did.
  Clock::time_point last_completion{};

  uint64_t ok_ops() const { return reads.ops + writes.ops + cycles; }
  uint64_t failed_ops() const;  // failed calls + bad responses
  uint64_t total_ops() const { return ok_ops() + failed_ops(); }
  void Merge(const WorkerStats& other);
};

// Runs one worker's share of a phase. `stub` is borrowed (shared with other
// workers, it is thread-safe); `live` may be null.
WorkerStats RunWorker(v1::Memory::StubInterface& stub, AccessStream& stream,
                      const PhaseLimits& limits, LiveCounters* live);

// Write payloads: `length` never-zero bytes (so the server cannot treat
// written pages as zero pages), the same for every call; *data is left as it
// is when it already has that length.
void FillPayload(std::string* data, uint64_t length);

// The pages of `page_size` that [addr, addr + length) touches (length > 0).
uint64_t PagesSpanned(uint64_t addr, uint64_t length, uint64_t page_size);

}  // namespace memserver::memload
