// RunLoad: one complete memload run against one server.
//
// Phases, in order:
//   1. connect (LoadOptions::effective_channels() channels), read the page
//      size with GetStats, create the processes and mmap their regions (a
//      fork storm's parents; an exec storm instead stages its binary,
//      exec_binary.h);
//   2. populate (with --populate): write every page once, in 256 KiB writes
//      spread over the workers (for a trace, every distinct block);
//   3. warm up (--warmup seconds), ops not counted;
//   4. GetStats, measure (by duration or op count; a storm counts cycles,
//      storm.h), GetStats; the timeline (timeline.h) covers this phase;
//   5. exit the processes (also when a phase failed): the parents, and any
//      storm process whose Exit failed in its cycle; then delete an uploaded
//      exec binary.
// The workers keep their access streams from warm-up to measurement (a
// sequential cursor or trace position continues). Failed calls in phases 3
// and 4 are tallied, not fatal; any failure in 1, 2 or the GetStats calls
// ends the run with that Status; a failure in 5 is recorded in the result.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "client/memload/options.h"
#include "client/memload/timeline.h"
#include "client/memload/trace.h"
#include "client/memload/worker.h"
#include "memserver/v1/memserver.pb.h"
#include "server/common/status.h"

namespace memserver::memload {

struct RunResult {
  std::string address;
  int workers = 0;
  int channels = 0;
  int processes = 0;
  int ops_per_call = 0;       // ops per Access call or stream request; 0: unary calls
  bool stream = false;        // batches went over AccessStream sessions
  uint64_t page_size = 0;     // the server's (4096 when it reports none)
  uint64_t region_bytes = 0;  // mmapped per process
  uint64_t populated_bytes = 0;
  double populate_seconds = 0;
  uint64_t warmup_ops = 0;    // completed in warm-up, not counted below

  Storm storm = Storm::kNone;
  // exec-storm: the binary's path in the server's file store, its size,
  // whether this run uploaded it (and deleted it at the end), and its pages
  // in the server's page cache at the end of the measured phase (-1 unknown).
  std::string exec_path;
  uint64_t exec_bytes = 0;
  bool exec_uploaded = false;
  int64_t exec_cached_pages = -1;

  WorkerStats measured;       // the workers' stats of the measured phase, merged
  // The measured phase over time, one entry per --interval (timeline.h).
  std::vector<TimelineEntry> timeline;
  double elapsed_seconds = 0; // measured phase: first op start to last op end
  bool interrupted = false;   // the stop flag ended the run early

  v1::GlobalStats stats_before;  // around the measured phase
  v1::GlobalStats stats_after;
  // Why exiting the processes at the end failed; empty when it did not.
  std::string cleanup_error;

  double ops_per_second() const;      // successful ops
  double calls_per_second() const;    // calls (batches), failed ones included
  double bytes_per_second() const;    // bytes of successful ops
  // 1 - major faults / page accesses over the measured phase; -1 when no
  // page was accessed or the server has no frame pool (a null target).
  double hit_ratio() const;
};

struct RunHooks {
  // When set, the run ends early (after the calls in flight); the result
  // covers what was measured. May be null.
  const std::atomic<bool>* stop = nullptr;
  // Draw the live progress line (when stderr is a terminal).
  bool progress = false;
};

// REQUIRES: ValidateOptions(options) is OK; `trace` is non-null iff
// options.has_trace(), and outlives the call.
Status RunLoad(const LoadOptions& options, const BlockTrace* trace, const std::string& address,
               const RunHooks& hooks, RunResult* result);

}  // namespace memserver::memload
