#include "client/memload/batch_worker.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/sync_stream.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace memserver::memload {

namespace {

using AccessReaderWriter = grpc::ClientReaderWriterInterface<v1::AccessRequest, v1::AccessResponse>;

void Tally(WorkerStats* stats, int code, uint64_t ops) {
  const size_t index = code > 0 && static_cast<size_t>(code) < kGrpcCodeCount
                           ? static_cast<size_t>(code)
                           : size_t{grpc::StatusCode::UNKNOWN};
  stats->errors[index] += ops;
}

// Carries one batch at a time: a unary Access call, or one request on the
// worker's AccessStream, opened on first use and after a failure.
class BatchCarrier {
 public:
  BatchCarrier(v1::Memory::StubInterface& stub, const PhaseLimits& limits, bool stream)
      : stub_(stub), limits_(limits), stream_mode_(stream) {}
  ~BatchCarrier() { Close(); }
  BatchCarrier(const BatchCarrier&) = delete;
  BatchCarrier& operator=(const BatchCarrier&) = delete;

  // Sends `request` and waits for its answer in *response.
  grpc::Status Call(const v1::AccessRequest& request, v1::AccessResponse* response) {
    if (!stream_mode_) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + limits_.call_timeout);
      return stub_.Access(&context, request, response);
    }
    if (stream_ == nullptr) Open();
    if (stream_->Write(request) && stream_->Read(response)) return grpc::Status::OK;
    grpc::Status status = stream_->Finish();
    Reset();
    if (status.ok()) {
      status = grpc::Status(grpc::StatusCode::UNKNOWN,
                            "the server ended the access stream without answering");
    }
    return status;
  }

  // Drops a stream whose answers can no longer be trusted (out of step).
  void Abandon() {
    if (stream_ == nullptr) return;
    context_->TryCancel();
    stream_->Finish();
    Reset();
  }

  // Half-closes the stream and waits for the server to end it.
  void Close() {
    if (stream_ == nullptr) return;
    stream_->WritesDone();
    stream_->Finish();
    Reset();
  }

 private:
  void Open() {
    context_ = std::make_unique<grpc::ClientContext>();
    if (limits_.deadline != Clock::time_point::max()) {
      const auto left = std::max(limits_.deadline - Clock::now(), Clock::duration::zero());
      context_->set_deadline(std::chrono::system_clock::now() +
                             std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 left + limits_.call_timeout));
    }
    stream_ = stub_.AccessStream(context_.get());
  }
  void Reset() {
    stream_.reset();
    context_.reset();
  }

  v1::Memory::StubInterface& stub_;
  const PhaseLimits& limits_;
  const bool stream_mode_;
  std::unique_ptr<grpc::ClientContext> context_;  // outlives stream_
  std::unique_ptr<AccessReaderWriter> stream_;
};

}  // namespace

WorkerStats RunBatchWorker(v1::Memory::StubInterface& stub, AccessStream& accesses,
                           const PhaseLimits& limits, const BatchMode& mode, LiveCounters* live) {
  WorkerStats stats;
  BatchCarrier carrier(stub, limits, mode.stream);
  const int64_t per_call = std::max(mode.ops_per_call, 1);
  std::vector<Access> batch;
  batch.reserve(static_cast<size_t>(per_call));
  std::optional<Access> pending;  // drawn and claimed, but for another process
  std::string payload;
  v1::AccessRequest request;
  v1::AccessResponse response;
  uint64_t tag = 0;
  bool exhausted = false;
  TimelineRecorder timeline(limits.timeline);

  while (!exhausted || pending) {
    if (limits.stop != nullptr && limits.stop->load(std::memory_order_relaxed)) break;
    const Clock::time_point start = Clock::now();
    if (start >= limits.deadline) break;

    // Claim the ops of this batch (the pending one is claimed already).
    const int64_t have = pending ? 1 : 0;
    int64_t granted = exhausted ? 0 : per_call - have;
    if (limits.op_budget != nullptr && granted > 0) {
      const int64_t left = limits.op_budget->fetch_sub(granted, std::memory_order_relaxed);
      granted = std::clamp<int64_t>(left, 0, granted);
    }
    if (have + granted == 0) break;

    batch.clear();
    if (pending) batch.push_back(*std::exchange(pending, std::nullopt));
    const double elapsed = std::chrono::duration<double>(start - limits.run_start).count();
    int64_t drawn = 0;
    Access access;
    while (drawn < granted) {
      if (!accesses.Next(elapsed, &access)) {
        exhausted = true;
        break;
      }
      ++drawn;
      if (!batch.empty() && access.pid != batch.front().pid) {
        pending = access;  // one process per request: it opens the next batch
        break;
      }
      batch.push_back(access);
    }
    if (limits.op_budget != nullptr && drawn < granted) {
      limits.op_budget->fetch_add(granted - drawn, std::memory_order_relaxed);
    }
    if (batch.empty()) break;

    request.clear_ops();
    request.set_pid(batch.front().pid);
    request.set_tag(++tag);
    for (const Access& a : batch) {
      v1::AccessOp* op = request.add_ops();
      op->set_addr(a.addr);
      if (a.write) {
        op->set_kind(v1::AccessOp::WRITE);
        op->clear_length();
        FillPayload(&payload, a.length);
        op->set_data(payload);
      } else {
        op->set_kind(v1::AccessOp::READ);
        op->set_length(a.length);
        op->clear_data();
      }
    }
    response.Clear();
    const grpc::Status status = carrier.Call(request, &response);
    const Clock::time_point end = Clock::now();
    stats.last_completion = end;
    ++stats.calls;

    const uint64_t n = batch.size();
    const uint64_t failed_before = stats.failed_ops();
    if (!status.ok()) {
      Tally(&stats, status.error_code(), n);
    } else if (response.tag() != request.tag()) {
      stats.bad_responses += n;
      carrier.Abandon();
    } else if (response.has_status() && response.status().code() != 0) {
      Tally(&stats, response.status().code(), n);
    } else if (static_cast<uint64_t>(response.results_size()) != n) {
      stats.bad_responses += n;
    } else {
      uint64_t ok_reads = 0;
      uint64_t ok_writes = 0;
      for (size_t i = 0; i < n; ++i) {
        const v1::AccessResult& r = response.results(static_cast<int>(i));
        const Access& a = batch[i];
        if (r.has_status() && r.status().code() != 0) {
          Tally(&stats, r.status().code(), 1);
          continue;
        }
        if (r.data().size() != (a.write ? 0 : a.length)) {
          ++stats.bad_responses;
          continue;
        }
        OpStats& op = a.write ? stats.writes : stats.reads;
        ++(a.write ? ok_writes : ok_reads);
        ++op.ops;
        op.bytes += a.length;
        stats.page_accesses += PagesSpanned(a.addr, a.length, limits.page_size);
      }
      // Each op completed when its call did.
      const uint64_t latency = static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
      if (ok_reads > 0) stats.reads.latency_ns.RecordN(latency, ok_reads);
      if (ok_writes > 0) stats.writes.latency_ns.RecordN(latency, ok_writes);
    }
    const uint64_t failed = stats.failed_ops() - failed_before;
    timeline.Record(end,
                    static_cast<uint64_t>(
                        std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count()),
                    n - failed, failed);
    if (live != nullptr) {
      live->ops.store(live->ops.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
      if (failed > 0) {
        live->errors.store(live->errors.load(std::memory_order_relaxed) + failed,
                           std::memory_order_relaxed);
      }
    }
  }
  return stats;
}

}  // namespace memserver::memload
