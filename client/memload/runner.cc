#include "client/memload/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "client/memload/access_stream.h"
#include "client/memload/batch_worker.h"
#include "client/memload/exec_binary.h"
#include "client/memload/grpc_codes.h"
#include "client/memload/key_generator.h"
#include "client/memload/progress.h"
#include "client/memload/random.h"
#include "client/memload/storm.h"
#include "client/memload/target.h"
#include "client/memload/timeline.h"

namespace memserver::memload {

namespace {

constexpr uint64_t kPopulateChunkBytes = 256 << 10;
constexpr uint64_t kDefaultPageSize = 4096;
constexpr double kDefaultDurationSeconds = 10;

// Runs fn(worker) on `count` threads and joins them.
template <typename Fn>
void RunOnThreads(int count, Fn fn) {
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(count));
  for (int w = 0; w < count; ++w) threads.emplace_back(fn, w);
  for (std::thread& t : threads) t.join();
}

bool Stopped(const RunHooks& hooks) {
  return hooks.stop != nullptr && hooks.stop->load(std::memory_order_relaxed);
}

uint64_t RoundUp(uint64_t x, uint64_t multiple) { return (x + multiple - 1) / multiple * multiple; }

// The bytes each process maps: the working set, or for a trace enough to hold
// its largest block and one access there.
Status RegionBytes(const LoadOptions& options, const BlockTrace* trace, uint64_t page_size,
                   uint64_t* bytes) {
  if (trace == nullptr) {
    *bytes = options.working_set_bytes;
    return Status::OK();
  }
  const uint64_t tail = RoundUp(options.access_bytes, page_size);
  if (trace->max_block > (UINT64_MAX - tail) / page_size) {
    return Status::InvalidArgument(
        fmt::format("the trace's largest block {} lies beyond a 64-bit address space",
                    trace->max_block));
  }
  *bytes = trace->max_block * page_size + tail;
  return Status::OK();
}

// The writes that populate the regions: every byte of each region, or for a
// trace the pages of its distinct blocks (consecutive ones coalesced).
std::vector<Access> PopulateWrites(const std::vector<Region>& regions, const BlockTrace* trace,
                                   uint64_t page_size) {
  std::vector<Access> writes;
  auto add_range = [&](uint64_t pid, uint64_t addr, uint64_t length) {
    for (uint64_t off = 0; off < length; off += kPopulateChunkBytes) {
      writes.push_back(Access{pid, addr + off, std::min(kPopulateChunkBytes, length - off), true});
    }
  };
  if (trace == nullptr) {
    for (const Region& r : regions) add_range(r.pid, r.base, r.bytes);
    return writes;
  }
  const Region& r = regions.front();
  const std::vector<uint64_t> blocks = DistinctBlocks(*trace);
  for (size_t i = 0; i < blocks.size();) {
    size_t j = i + 1;
    while (j < blocks.size() && blocks[j] == blocks[j - 1] + 1) ++j;
    add_range(r.pid, r.base + blocks[i] * page_size, (j - i) * page_size);
    i = j;
  }
  return writes;
}

// Issues `writes` from `workers` threads; the first failure ends the phase.
Status Populate(Target& target, const std::vector<Access>& writes, int workers,
                const LoadOptions& options, const RunHooks& hooks) {
  std::string payload(kPopulateChunkBytes, '\0');
  Rng rng(options.seed);
  for (char& c : payload) c = static_cast<char>(rng.Next() | 1);

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<Status> errors(static_cast<size_t>(workers));
  const auto timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(options.call_timeout_seconds));
  RunOnThreads(workers, [&](int w) {
    v1::WriteRequest request;
    v1::WriteResponse response;
    while (!failed.load(std::memory_order_relaxed) && !Stopped(hooks)) {
      const size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= writes.size()) break;
      request.set_pid(writes[i].pid);
      request.set_addr(writes[i].addr);
      request.set_data(payload.data(), writes[i].length);
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + timeout);
      grpc::Status s = target.stub(w).Write(&context, request, &response);
      if (!s.ok()) {
        errors[static_cast<size_t>(w)] = FromGrpcStatus(
            s, fmt::format("populating: Write of {} bytes at {:#x} in pid {}", writes[i].length,
                           writes[i].addr, writes[i].pid));
        failed.store(true);
      }
    }
  });
  for (Status& s : errors) {
    if (!s.ok()) return s;
  }
  if (Stopped(hooks)) return Status(StatusCode::kCancelled, "interrupted while populating", nullptr);
  return Status::OK();
}

// One phase: every worker runs its loop (RunWorker's unary calls,
// RunBatchWorker, or RunStormWorker's cycles); returns the merged stats. Storm
// processes whose Exit failed are handed to the target to exit at the end.
WorkerStats RunPhase(Target& target, std::vector<std::unique_ptr<AccessStream>>& streams,
                     const PhaseLimits& limits, const LoadOptions& options,
                     const std::string& exec_path, const char* label, ProgressLine& progress) {
  const BatchMode mode{options.ops_per_call(), options.stream};
  const int workers = options.workers;
  std::vector<LiveCounters> live(static_cast<size_t>(workers));
  std::vector<WorkerStats> stats(static_cast<size_t>(workers));
  LeftoverPids leftovers;
  progress.Start(label, &live);
  RunOnThreads(workers, [&](int w) {
    const size_t i = static_cast<size_t>(w);
    AccessStream* stream = i < streams.size() ? streams[i].get() : nullptr;
    if (options.is_storm()) {
      const StormConfig config{options.storm, w, exec_path};
      stats[i] = RunStormWorker(target.stub(w), stream, config, limits, &leftovers, &live[i]);
    } else if (options.unary()) {
      stats[i] = RunWorker(target.stub(w), *stream, limits, &live[i]);
    } else {
      stats[i] = RunBatchWorker(target.stub(w), *stream, limits, mode, &live[i]);
    }
  });
  progress.Stop();
  for (uint64_t pid : leftovers.Take()) target.Adopt(pid);
  WorkerStats merged;
  for (const WorkerStats& s : stats) merged.Merge(s);
  return merged;
}

uint64_t Delta(uint64_t before, uint64_t after) { return after >= before ? after - before : 0; }

}  // namespace

double RunResult::ops_per_second() const {
  return elapsed_seconds > 0 ? static_cast<double>(measured.ok_ops()) / elapsed_seconds : 0;
}

double RunResult::calls_per_second() const {
  return elapsed_seconds > 0 ? static_cast<double>(measured.calls) / elapsed_seconds : 0;
}

double RunResult::bytes_per_second() const {
  return elapsed_seconds > 0
             ? static_cast<double>(measured.reads.bytes + measured.writes.bytes) / elapsed_seconds
             : 0;
}

double RunResult::hit_ratio() const {
  if (measured.page_accesses == 0 || stats_after.frames_total() == 0) return -1;
  const uint64_t major = Delta(stats_before.major_faults(), stats_after.major_faults());
  return 1.0 - static_cast<double>(major) / static_cast<double>(measured.page_accesses);
}

Status RunLoad(const LoadOptions& options, const BlockTrace* trace, const std::string& address,
               const RunHooks& hooks, RunResult* result) {
  *result = RunResult();
  result->address = address;
  result->workers = options.workers;
  result->processes = options.process_count();
  result->ops_per_call = options.unary() ? 0 : options.ops_per_call();
  result->stream = options.stream;
  result->storm = options.storm;
  const auto call_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(options.call_timeout_seconds));

  std::unique_ptr<Target> target;
  // Connecting, like every call, is bounded by the call timeout.
  MEMSERVER_RETURN_IF_ERROR(
      Target::Connect(address, options.effective_channels(), call_timeout, &target,
                      address == options.server ? options.connection : client::ConnectionOptions{}));
  result->channels = target->channels();

  v1::GlobalStats initial;
  MEMSERVER_RETURN_IF_ERROR(target->GetGlobalStats(&initial));
  result->page_size = initial.page_size() != 0 ? initial.page_size() : kDefaultPageSize;
  MEMSERVER_RETURN_IF_ERROR(RegionBytes(options, trace, result->page_size, &result->region_bytes));
  if (options.storm == Storm::kExec) result->region_bytes = 0;  // nothing is mmapped up front

  std::vector<Region> regions;
  MEMSERVER_RETURN_IF_ERROR(
      target->CreateRegions(result->processes, result->region_bytes, &regions));
  // Deleted (when uploaded) after the processes are exited, or by its
  // destructor on an early return.
  std::unique_ptr<StagedBinary> staged;
  if (options.storm == Storm::kExec) {
    MEMSERVER_RETURN_IF_ERROR(
        StagedBinary::Stage(target->stub(0), options.exec_binary, call_timeout, &staged));
    result->exec_path = staged->path();
    result->exec_bytes = staged->bytes();
    result->exec_uploaded = staged->uploaded();
  }

  if (options.populate) {
    const std::vector<Access> writes = PopulateWrites(regions, trace, result->page_size);
    const Clock::time_point start = Clock::now();
    MEMSERVER_RETURN_IF_ERROR(Populate(*target, writes, options.workers, options, hooks));
    result->populate_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (const Access& w : writes) result->populated_bytes += w.length;
  }

  // The workers' streams, kept from warm-up to measurement.
  // A fork storm's children only write.
  const OpMix mix{options.storm == Storm::kFork ? 0.0 : options.read_ratio, options.access_bytes};
  std::vector<std::unique_ptr<AccessStream>> streams;
  std::unique_ptr<TraceCursor> cursor;
  if (trace != nullptr) {
    cursor = std::make_unique<TraceCursor>(trace->blocks.size());
    for (int w = 0; w < options.workers; ++w) {
      streams.push_back(MakeTraceStream(regions.front(), *trace, cursor.get(), result->page_size,
                                        mix, Rng::DeriveSeed(options.seed, uint64_t(w))));
    }
  } else if (!regions.empty()) {
    const ItemGeometry geometry = ComputeGeometry(options.workload.kind, result->region_bytes,
                                                  result->page_size, options.access_bytes);
    const bool shared = regions.size() == 1;
    auto generators = MakeKeyGenerators(options.workload, geometry.items, options.workers, shared);
    for (int w = 0; w < options.workers; ++w) {
      const Region& region = regions[shared ? 0 : static_cast<size_t>(w)];
      streams.push_back(MakeSyntheticStream(region, geometry,
                                            std::move(generators[static_cast<size_t>(w)]), mix,
                                            Rng::DeriveSeed(options.seed, uint64_t(w))));
    }
  }

  ProgressLine progress(hooks.progress);
  PhaseLimits limits;
  limits.run_start = Clock::now();
  limits.stop = hooks.stop;
  limits.page_size = result->page_size;
  limits.call_timeout = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(options.call_timeout_seconds));

  if (options.warmup_seconds > 0) {
    PhaseLimits warmup = limits;
    warmup.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(options.warmup_seconds));
    result->warmup_ops =
        RunPhase(*target, streams, warmup, options, result->exec_path, "warm-up", progress).total_ops();
  }

  MEMSERVER_RETURN_IF_ERROR(target->GetGlobalStats(&result->stats_before));
  std::atomic<int64_t> budget{static_cast<int64_t>(std::min<uint64_t>(options.ops, INT64_MAX))};
  PhaseLimits measure = limits;
  if (options.ops > 0) measure.op_budget = &budget;
  double duration = options.duration_seconds;
  if (duration == 0 && options.ops == 0 && trace == nullptr) duration = kDefaultDurationSeconds;
  const Clock::time_point measure_start = Clock::now();
  if (duration > 0) {
    measure.deadline = measure_start + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(duration));
  }
  Timeline timeline(measure_start,
                    std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::duration<double>(options.interval_seconds)));
  measure.timeline = &timeline;
  result->measured =
      RunPhase(*target, streams, measure, options, result->exec_path, "measure", progress);
  const Clock::time_point measure_end = result->measured.total_ops() > 0
                                            ? result->measured.last_completion
                                            : Clock::now();
  result->elapsed_seconds = std::chrono::duration<double>(measure_end - measure_start).count();
  result->timeline = timeline.Entries(result->elapsed_seconds);
  result->interrupted = Stopped(hooks);
  MEMSERVER_RETURN_IF_ERROR(target->GetGlobalStats(&result->stats_after));
  uint64_t cached = 0;
  if (staged != nullptr && staged->CachedPages(&cached).ok()) {
    result->exec_cached_pages = static_cast<int64_t>(cached);
  }

  Status cleaned = target->ExitProcesses();
  if (staged != nullptr) {
    Status removed = staged->Remove();
    if (cleaned.ok()) cleaned = removed;
  }
  if (!cleaned.ok()) result->cleanup_error = cleaned.ToString();
  return Status::OK();
}

}  // namespace memserver::memload
