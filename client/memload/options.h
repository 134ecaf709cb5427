// LoadOptions: everything that defines a memload run. The command line maps
// onto it (ParseCommandLine); tests build it directly.
#pragma once

#include <cstdint>
#include <string>

#include "client/memload/key_generator.h"
#include "client/memload/trace.h"
#include "client/lib/connection.h"
#include "server/common/status.h"

namespace memserver::memload {

// Access sizes accepted by --access-size.
inline constexpr uint64_t kMinAccessBytes = 8;
inline constexpr uint64_t kMaxAccessBytes = uint64_t{1} << 20;
// Most ops per Access call or stream request accepted by --batch (the
// server's limit per batch).
inline constexpr int kMaxBatchOps = 4096;
// Shortest --interval of the JSON timeline.
inline constexpr double kMinIntervalSeconds = 0.001;

// Process-lifecycle workloads (storm.h) instead of Reads and Writes.
enum class Storm {
  kNone,  // Reads and Writes (WorkloadSpec, or a trace)
  kFork,  // fork-storm: Fork(parent) -> Write in the child -> Exit(child)
  kExec,  // exec-storm: CreateProcess -> Exec -> Read a text page -> Exit
};
// "none", "fork-storm", "exec-storm".
const char* StormName(Storm storm);

struct LoadOptions {
  // host:port of the server under test. Default: 127.0.0.1:7070.
  std::string server = "127.0.0.1:7070";
  // TLS and bearer token for `server` (--tls-ca, --token-file, ...,
  // MEMSERVER_TOKEN; client/lib/connection.h). Default: plaintext, none.
  client::ConnectionOptions connection;
  // Concurrent workers, each one thread issuing one call at a time.
  // Default: 16.
  int workers = 16;
  // gRPC channels (each its own HTTP/2 connection) shared round-robin by the
  // workers; 0 picks one per 4 workers. Default: 0.
  int channels = 0;
  // All workers share one process; otherwise each worker owns one, created
  // and mmapped at the start and exited at the end. Trace replay always uses
  // one shared process. Default: false.
  bool shared_process = false;
  // Measured phase: by time, or by a total op count (the other is 0). When
  // both are 0 a synthetic workload runs 10 s and a trace replays to its end.
  double duration_seconds = 0;
  uint64_t ops = 0;
  // Time run before measuring; its ops are not counted. Default: 0.
  double warmup_seconds = 0;
  // Bytes mmapped and accessed per process. Default: 16 MiB.
  uint64_t working_set_bytes = uint64_t{16} << 20;
  // Bytes of every Read / Write, in [8 B, 1 MiB]. Default: 4096.
  uint64_t access_bytes = 4096;
  // Share of the ops that are reads, in [0, 1]. Default: 1 (reads only).
  double read_ratio = 1.0;
  // Ops per call: 0 issues one unary Read or Write per op; N >= 1 sends the
  // ops in Access calls of N (a worker's last batch may be shorter).
  // Default: 0.
  int batch = 0;
  // Send the batches on one AccessStream per worker and phase instead of
  // unary calls (with batch 0: one op per request). Default: false.
  bool stream = false;
  // Which items are accessed (key_generator.h). Default: uniform. A fork
  // storm picks the page each child writes with it.
  WorkloadSpec workload;
  // A storm workload instead of Reads and Writes (--workload fork-storm or
  // exec-storm). Storms issue unary calls only (no batch, stream or trace).
  // Default: none.
  Storm storm = Storm::kNone;
  // exec-storm: the local executable (ELF64) uploaded once to the server's
  // file store as /memload/<basename> and exec'ed by every cycle.
  // Default: /bin/true.
  std::string exec_binary = "/bin/true";
  // Width of one entry of the JSON report's latency timeline, in seconds,
  // at least kMinIntervalSeconds. Default: 1.
  double interval_seconds = 1;
  // Write every page once before warming up and measuring, so reads find
  // resident or swapped pages rather than never-written zero pages.
  // Default: false.
  bool populate = false;
  // Deadline of every call, in seconds. Default: 10.
  double call_timeout_seconds = 10;
  // Seed of every random choice. Default: 1.
  uint64_t seed = 1;
  // Trace replay instead of a synthetic workload when set; format "" guesses
  // from the name (GuessTraceFormat).
  std::string trace_path;
  std::string trace_format;
  // When set, the same workload also runs against a null target
  // (memnull) at this address, for the transport's ceiling.
  std::string compare_null;
  // Write the full report as JSON to this file when set.
  std::string json_path;
  // Print a progress line every second (only when stderr is a terminal).
  // Default: true.
  bool progress = true;

  bool has_trace() const { return !trace_path.empty(); }
  // Unary Read/Write calls rather than batches.
  bool unary() const { return batch == 0 && !stream; }
  // Ops per call (1 for unary calls).
  int ops_per_call() const { return batch > 0 ? batch : 1; }
  int effective_channels() const { return channels > 0 ? channels : (workers + 3) / 4; }
  bool is_storm() const { return storm != Storm::kNone; }
  // Processes created at the start, one per worker or one shared by all (a
  // fork storm's parents); an exec storm creates its own in every cycle.
  int process_count() const {
    if (storm == Storm::kExec) return 0;
    return shared_process || has_trace() ? 1 : workers;
  }
};

// InvalidArgument naming the first field out of its documented range.
Status ValidateOptions(const LoadOptions& options);

// Parses memload's command line into *options (which supplies the defaults).
// Returns true to run; false when the program must exit at once with
// *exit_code (0 after --help, 2 for a usage error, already printed).
bool ParseCommandLine(int argc, char** argv, LoadOptions* options, int* exit_code);

}  // namespace memserver::memload
