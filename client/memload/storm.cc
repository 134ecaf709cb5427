#include "client/memload/storm.h"

#include <grpcpp/client_context.h>

#include <fmt/format.h>

#include <optional>

#include "client/memload/grpc_codes.h"

namespace memserver::memload {

namespace {

// Step indexes in WorkerStats::steps.
enum ForkStep : size_t { kFork, kForkWrite, kForkExit, kForkCycle, kForkSteps };
enum ExecStep : size_t { kCreate, kExec, kExecRead, kExecExit, kExecCycle, kExecSteps };

uint64_t Nanos(Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

// One cycle's bookkeeping: times each step, records successes, and tallies
// the cycle's first failure.
class Cycle {
 public:
  Cycle(WorkerStats* stats, const PhaseLimits& limits)
      : stats_(*stats), limits_(limits), start_(Clock::now()) {}

  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + limits_.call_timeout);
    return context;
  }

  // Times fn() (a call returning grpc::Status) as step `step`; returns
  // whether it succeeded. `bytes` are counted when it did.
  template <typename Fn>
  bool Step(size_t step, Fn fn, uint64_t bytes = 0) {
    const Clock::time_point begin = Clock::now();
    const grpc::Status status = fn();
    last_end_ = Clock::now();
    ++stats_.calls;
    if (status.ok()) {
      OpStats& ok = stats_.steps[step].ok;
      ++ok.ops;
      ok.bytes += bytes;
      ok.latency_ns.Record(Nanos(last_end_ - begin));
      return true;
    }
    Fail(step, static_cast<size_t>(status.error_code()));
    return false;
  }

  // A call that succeeded but answered wrongly (a short Read).
  void BadResponse(size_t step) {
    ++stats_.steps[step].failed;
    if (!failed_) ++stats_.bad_responses;
    failed_ = true;
  }

  bool failed() const { return failed_; }

  // Ends the cycle; `cycle_step` is the index of the whole-cycle row.
  void Finish(size_t cycle_step, TimelineRecorder* timeline, LiveCounters* live) {
    stats_.last_completion = last_end_;
    const uint64_t latency = Nanos(last_end_ - start_);
    if (!failed_) {
      ++stats_.cycles;
      OpStats& cycle = stats_.steps[cycle_step].ok;
      ++cycle.ops;
      cycle.latency_ns.Record(latency);
    }
    timeline->Record(last_end_, latency, failed_ ? 0 : 1, failed_ ? 1 : 0);
    if (live != nullptr) {
      live->ops.store(live->ops.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      if (failed_) {
        live->errors.store(live->errors.load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
      }
    }
  }

 private:
  void Fail(size_t step, size_t code) {
    ++stats_.steps[step].failed;
    if (!failed_) ++stats_.errors[code < kGrpcCodeCount ? code : size_t{grpc::StatusCode::UNKNOWN}];
    failed_ = true;
  }

  WorkerStats& stats_;
  const PhaseLimits& limits_;
  const Clock::time_point start_;
  Clock::time_point last_end_;
  bool failed_ = false;
};

// Whether the next cycle may start (and claims its unit of the budget).
bool MayStart(const PhaseLimits& limits) {
  if (limits.stop != nullptr && limits.stop->load(std::memory_order_relaxed)) return false;
  if (Clock::now() >= limits.deadline) return false;
  return limits.op_budget == nullptr ||
         limits.op_budget->fetch_sub(1, std::memory_order_relaxed) > 0;
}

// Exits `pid` as step `step`; on failure the pid goes to the leftovers.
void ExitStep(v1::Memory::StubInterface& stub, Cycle& cycle, size_t step, uint64_t pid,
              LeftoverPids* leftovers) {
  v1::ExitRequest request;
  request.set_pid(pid);
  v1::ExitResponse response;
  const bool ok = cycle.Step(step, [&] {
    auto context = cycle.Context();
    return stub.Exit(context.get(), request, &response);
  });
  if (!ok) leftovers->Add(pid);
}

WorkerStats ForkCycles(v1::Memory::StubInterface& stub, AccessStream& writes,
                       const PhaseLimits& limits, LeftoverPids* leftovers, LiveCounters* live,
                       WorkerStats stats) {
  TimelineRecorder timeline(limits.timeline);
  v1::ForkRequest fork;
  v1::ForkResponse forked;
  v1::WriteRequest write;
  v1::WriteResponse written;
  Access access;
  while (MayStart(limits)) {
    const double elapsed =
        std::chrono::duration<double>(Clock::now() - limits.run_start).count();
    if (!writes.Next(elapsed, &access)) break;
    Cycle cycle(&stats, limits);
    fork.set_pid(access.pid);
    forked.Clear();
    if (cycle.Step(kFork, [&] {
          auto context = cycle.Context();
          return stub.Fork(context.get(), fork, &forked);
        })) {
      write.set_pid(forked.child_pid());
      write.set_addr(access.addr);
      FillPayload(write.mutable_data(), access.length);
      if (cycle.Step(
              kForkWrite,
              [&] {
                auto context = cycle.Context();
                return stub.Write(context.get(), write, &written);
              },
              access.length)) {
        stats.page_accesses += PagesSpanned(access.addr, access.length, limits.page_size);
      }
      ExitStep(stub, cycle, kForkExit, forked.child_pid(), leftovers);
    }
    cycle.Finish(kForkCycle, &timeline, live);
  }
  return stats;
}

WorkerStats ExecCycles(v1::Memory::StubInterface& stub, const StormConfig& config,
                       const PhaseLimits& limits, LeftoverPids* leftovers, LiveCounters* live,
                       WorkerStats stats) {
  TimelineRecorder timeline(limits.timeline);
  v1::CreateProcessRequest create;
  create.set_name(fmt::format("memload-exec-{}", config.worker));
  v1::CreateProcessResponse created;
  v1::ExecRequest exec;
  exec.set_path(config.exec_path);
  v1::ExecResponse image;
  v1::ReadRequest read;
  read.set_length(limits.page_size);
  v1::ReadResponse data;
  while (MayStart(limits)) {
    Cycle cycle(&stats, limits);
    created.Clear();
    if (cycle.Step(kCreate, [&] {
          auto context = cycle.Context();
          return stub.CreateProcess(context.get(), create, &created);
        })) {
      const uint64_t pid = created.pid();
      exec.set_pid(pid);
      image.Clear();
      if (cycle.Step(kExec, [&] {
            auto context = cycle.Context();
            return stub.Exec(context.get(), exec, &image);
          })) {
        read.set_pid(pid);
        read.set_addr(image.entry() / limits.page_size * limits.page_size);
        data.Clear();
        if (cycle.Step(
                kExecRead,
                [&] {
                  auto context = cycle.Context();
                  return stub.Read(context.get(), read, &data);
                },
                limits.page_size)) {
          if (data.data().size() != limits.page_size) {
            cycle.BadResponse(kExecRead);
          } else {
            ++stats.page_accesses;
          }
        }
      }
      ExitStep(stub, cycle, kExecExit, pid, leftovers);
    }
    cycle.Finish(kExecCycle, &timeline, live);
  }
  return stats;
}

}  // namespace

std::vector<const char*> StormStepNames(Storm storm) {
  switch (storm) {
    case Storm::kFork:
      return {"fork", "write", "exit", "cycle"};
    case Storm::kExec:
      return {"create", "exec", "read", "exit", "cycle"};
    case Storm::kNone:
      break;
  }
  return {};
}

void LeftoverPids::Add(uint64_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  pids_.push_back(pid);
}

std::vector<uint64_t> LeftoverPids::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(pids_, {});
}

WorkerStats RunStormWorker(v1::Memory::StubInterface& stub, AccessStream* writes,
                           const StormConfig& config, const PhaseLimits& limits,
                           LeftoverPids* leftovers, LiveCounters* live) {
  WorkerStats stats;
  const size_t steps = StormStepNames(config.storm).size();
  stats.steps.assign(steps, StepStats(kStepPrecisionBits));
  if (config.storm == Storm::kFork && writes != nullptr) {
    return ForkCycles(stub, *writes, limits, leftovers, live, std::move(stats));
  }
  if (config.storm == Storm::kExec) {
    return ExecCycles(stub, config, limits, leftovers, live, std::move(stats));
  }
  return stats;
}

}  // namespace memserver::memload
