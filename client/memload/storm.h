// Storm workloads: process-lifecycle churn, one cycle after another per
// worker, each step one unary call through the generated stub.
//
//   fork-storm  fork  Fork(parent), the worker's process (mmapped
//                     --working-set, populated with --populate, so the fork
//                     copies a real page table)
//               write Write --access-size bytes in the child, at the page the
//                     key generator picks (a copy-on-write fault)
//               exit  Exit(child)
//   exec-storm  create CreateProcess
//               exec   Exec(the staged binary, exec_binary.h)
//               read   Read one page at the entry point's page, so the text
//                      is really touched (shared through the file's page cache)
//               exit   Exit
//
// Counting: a cycle is one op (for the op budget, ops/s, the timeline). It
// succeeds when every step did; its latency is from the first call's start
// to the last call's end. A failed step (or a Read answering the wrong length:
// a bad response) aborts the cycle: the cycle is tallied once, under that
// step's status code, and the step's `failed` count goes up; the process the
// cycle created is exited all the same. Successful steps record their
// latency even in a failed cycle.
//
// No process is leaked: the cycle in flight always completes, including its
// Exit, also after the stop flag or the deadline. A process whose Exit failed
// is handed to the LeftoverPids for the runner to exit at the end. (A Fork or
// CreateProcess whose answer was lost, e.g. DEADLINE_EXCEEDED, may have
// created a process whose pid memload never learns: that one it cannot exit.)
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "client/memload/access_stream.h"
#include "client/memload/options.h"
#include "client/memload/worker.h"
#include "memserver/v1/memserver.grpc.pb.h"

namespace memserver::memload {

// Precision of the per-step histograms (worker.h StepStats): 14,592
// counters, 114 KiB, values overestimated by less than 0.4%.
inline constexpr int kStepPrecisionBits = 9;

// The step names of a storm, in cycle order, then "cycle" (the index of each
// in WorkerStats::steps); empty for Storm::kNone.
std::vector<const char*> StormStepNames(Storm storm);

// Processes whose Exit failed in a cycle. Thread-safe.
class LeftoverPids {
 public:
  void Add(uint64_t pid);
  std::vector<uint64_t> Take();

 private:
  std::mutex mu_;
  std::vector<uint64_t> pids_;  // guarded by mu_
};

struct StormConfig {
  Storm storm = Storm::kFork;
  int worker = 0;         // names exec-storm processes "memload-exec-<worker>"
  std::string exec_path;  // exec-storm: the binary in the server's file store
};

// Runs one worker's cycles for a phase (limits as RunWorker's: deadline,
// op budget, stop flag, call timeout, timeline). fork-storm draws the
// parent's pid and the write's address from `writes` (the write flag and
// length of its accesses are ignored: every access is a write of
// --access-size); exec-storm ignores it (may be null). `stub` and
// `leftovers` are borrowed; `live` may be null.
WorkerStats RunStormWorker(v1::Memory::StubInterface& stub, AccessStream* writes,
                           const StormConfig& config, const PhaseLimits& limits,
                           LeftoverPids* leftovers, LiveCounters* live);

}  // namespace memserver::memload
