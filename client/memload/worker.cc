#include "client/memload/worker.h"

#include <grpcpp/client_context.h>

#include <algorithm>

#include "client/memload/random.h"

namespace memserver::memload {

void FillPayload(std::string* data, uint64_t length) {
  if (data->size() == length) return;
  data->resize(length);
  Rng rng(length);
  for (char& c : *data) c = static_cast<char>(rng.Next() | 1);
}

void OpStats::Merge(const OpStats& other) {
  ops += other.ops;
  bytes += other.bytes;
  latency_ns.Merge(other.latency_ns);
}

void StepStats::Merge(const StepStats& other) {
  ok.Merge(other.ok);
  failed += other.failed;
}

uint64_t WorkerStats::failed_ops() const {
  uint64_t failed = bad_responses;
  for (uint64_t n : errors) failed += n;
  return failed;
}

void WorkerStats::Merge(const WorkerStats& other) {
  reads.Merge(other.reads);
  writes.Merge(other.writes);
  for (size_t i = 0; i < errors.size(); ++i) errors[i] += other.errors[i];
  bad_responses += other.bad_responses;
  cycles += other.cycles;
  if (steps.empty()) {
    steps = other.steps;
  } else {
    for (size_t i = 0; i < steps.size() && i < other.steps.size(); ++i) {
      steps[i].Merge(other.steps[i]);
    }
  }
  calls += other.calls;
  page_accesses += other.page_accesses;
  last_completion = std::max(last_completion, other.last_completion);
}

uint64_t PagesSpanned(uint64_t addr, uint64_t length, uint64_t page_size) {
  return (addr + (length - 1)) / page_size - addr / page_size + 1;
}

WorkerStats RunWorker(v1::Memory::StubInterface& stub, AccessStream& stream,
                      const PhaseLimits& limits, LiveCounters* live) {
  WorkerStats stats;
  v1::ReadRequest read_request;
  v1::ReadResponse read_response;
  v1::WriteRequest write_request;
  v1::WriteResponse write_response;
  Access access;
  TimelineRecorder timeline(limits.timeline);

  while (true) {
    if (limits.stop != nullptr && limits.stop->load(std::memory_order_relaxed)) break;
    const Clock::time_point start = Clock::now();
    if (start >= limits.deadline) break;
    if (limits.op_budget != nullptr &&
        limits.op_budget->fetch_sub(1, std::memory_order_relaxed) <= 0) {
      break;
    }
    const double elapsed = std::chrono::duration<double>(start - limits.run_start).count();
    if (!stream.Next(elapsed, &access)) break;

    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + limits.call_timeout);
    grpc::Status status;
    bool bad_response = false;
    if (access.write) {
      write_request.set_pid(access.pid);
      write_request.set_addr(access.addr);
      FillPayload(write_request.mutable_data(), access.length);
      status = stub.Write(&context, write_request, &write_response);
    } else {
      read_request.set_pid(access.pid);
      read_request.set_addr(access.addr);
      read_request.set_length(access.length);
      read_response.Clear();
      status = stub.Read(&context, read_request, &read_response);
      bad_response = status.ok() && read_response.data().size() != access.length;
    }
    const Clock::time_point end = Clock::now();
    stats.last_completion = end;
    ++stats.calls;
    const uint64_t latency_ns = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    const bool ok = status.ok() && !bad_response;
    timeline.Record(end, latency_ns, ok ? 1 : 0, ok ? 0 : 1);

    if (!status.ok()) {
      const size_t code = static_cast<size_t>(status.error_code());
      ++stats.errors[code < kGrpcCodeCount ? code : size_t{grpc::StatusCode::UNKNOWN}];
    } else if (bad_response) {
      ++stats.bad_responses;
    } else {
      OpStats& op = access.write ? stats.writes : stats.reads;
      ++op.ops;
      op.bytes += access.length;
      op.latency_ns.Record(latency_ns);
      stats.page_accesses += PagesSpanned(access.addr, access.length, limits.page_size);
    }
    if (live != nullptr) {
      live->ops.store(live->ops.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      if (!status.ok() || bad_response) {
        live->errors.store(live->errors.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
      }
    }
  }
  return stats;
}

}  // namespace memserver::memload
