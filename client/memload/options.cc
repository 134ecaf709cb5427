#include <cstdlib>
#include "client/memload/options.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>

#include "server/common/byte_size.h"

namespace memserver::memload {

namespace {

constexpr int kMaxWorkers = 1024;
constexpr int kExitUsage = 2;
// Longest duration or warm-up accepted (30 days): far from where a deadline
// in nanoseconds would overflow.
constexpr double kMaxSeconds = 30.0 * 86400;

bool IsFiniteNonNegative(double x) { return std::isfinite(x) && x >= 0; }
bool IsSeconds(double x) { return IsFiniteNonNegative(x) && x <= kMaxSeconds; }

// A CLI11 check that accepts what ParseByteSize accepts.
CLI::Validator ByteSizeValidator() {
  return CLI::Validator(
      [](std::string& text) {
        uint64_t bytes = 0;
        Status s = ParseByteSize(text, &bytes);
        return s.ok() ? std::string() : s.message();
      },
      "SIZE");
}

// --workload values that select a storm rather than a key distribution.
constexpr const char* kForkStorm = "fork-storm";
constexpr const char* kExecStorm = "exec-storm";

}  // namespace

const char* StormName(Storm storm) {
  switch (storm) {
    case Storm::kFork:
      return kForkStorm;
    case Storm::kExec:
      return kExecStorm;
    case Storm::kNone:
      break;
  }
  return "none";
}

Status ValidateOptions(const LoadOptions& o) {
  auto invalid = [](std::string message) { return Status::InvalidArgument(message); };
  if (o.server.empty()) return invalid("the server address must not be empty");
  if (o.workers < 1 || o.workers > kMaxWorkers) {
    return invalid(fmt::format("workers must be in [1, {}], got {}", kMaxWorkers, o.workers));
  }
  if (o.channels < 0 || o.channels > o.workers) {
    return invalid(fmt::format("channels must be in [0, workers = {}], got {}", o.workers,
                               o.channels));
  }
  if (!IsSeconds(o.duration_seconds)) {
    return invalid(fmt::format("duration must be in [0, {}] seconds", kMaxSeconds));
  }
  if (o.duration_seconds > 0 && o.ops > 0) return invalid("give a duration or an op count, not both");
  if (!IsSeconds(o.warmup_seconds)) {
    return invalid(fmt::format("warm-up must be in [0, {}] seconds", kMaxSeconds));
  }
  if (o.access_bytes < kMinAccessBytes || o.access_bytes > kMaxAccessBytes) {
    return invalid(fmt::format("access size must be in [{}, {}], got {}",
                               FormatByteSize(kMinAccessBytes), FormatByteSize(kMaxAccessBytes),
                               o.access_bytes));
  }
  if (!o.has_trace() && o.working_set_bytes < o.access_bytes) {
    return invalid(fmt::format("the working set ({}) is smaller than one access ({})",
                               FormatByteSize(o.working_set_bytes),
                               FormatByteSize(o.access_bytes)));
  }
  if (o.batch < 0 || o.batch > kMaxBatchOps) {
    return invalid(fmt::format("batch must be in [0, {}] ops, got {}", kMaxBatchOps, o.batch));
  }
  if (!(o.read_ratio >= 0.0 && o.read_ratio <= 1.0)) {
    return invalid(fmt::format("read ratio must be in [0, 1], got {}", o.read_ratio));
  }
  if (!(IsSeconds(o.call_timeout_seconds) && o.call_timeout_seconds > 0)) {
    return invalid(fmt::format("the call timeout must be in (0, {}] seconds", kMaxSeconds));
  }
  if (!(std::isfinite(o.interval_seconds) && o.interval_seconds >= kMinIntervalSeconds &&
        o.interval_seconds <= kMaxSeconds)) {
    return invalid(fmt::format("the timeline interval must be in [{}, {}] seconds, got {}",
                               kMinIntervalSeconds, kMaxSeconds, o.interval_seconds));
  }
  if (o.is_storm()) {
    const char* name = StormName(o.storm);
    if (o.has_trace()) return invalid(fmt::format("{} cannot replay a trace", name));
    if (!o.unary()) {
      return invalid(fmt::format("{} issues one unary call per step: no --batch or --stream",
                                 name));
    }
  }
  if (o.storm == Storm::kExec) {
    if (o.exec_binary.empty()) return invalid("exec-storm needs an executable (--exec-binary)");
    if (o.populate) return invalid("exec-storm has no working set to populate (drop --populate)");
    if (o.shared_process) {
      return invalid("exec-storm creates a process per cycle: --shared-process does not apply");
    }
  }
  if (!o.trace_format.empty()) {
    TraceFormat format;
    MEMSERVER_RETURN_IF_ERROR(ParseTraceFormat(o.trace_format, &format));
  }
  return ValidateWorkloadSpec(o.workload);
}

bool ParseCommandLine(int argc, char** argv, LoadOptions* options, int* exit_code) {
  LoadOptions& o = *options;
  std::string working_set = FormatByteSize(o.working_set_bytes);
  std::string access_size = FormatByteSize(o.access_bytes);
  std::string workload = o.is_storm() ? StormName(o.storm) : WorkloadName(o.workload.kind);
  bool no_progress = false;

  CLI::App app(
      "memload: load generator for memserver. Reports ops/s, bytes/s, latency percentiles, "
      "errors by status code and the server's paging counters.",
      "memload");
  app.add_option("--server,-s", o.server, "Server address host:port")->capture_default_str();
  client::ConnectionFlags connection;
  client::AddConnectionFlags(app, &connection);
  app.add_option("--workers,-w", o.workers, "Concurrent workers (one call in flight each)")
      ->check(CLI::Range(1, kMaxWorkers))
      ->capture_default_str();
  app.add_option("--channels", o.channels,
                 "gRPC channels (connections) shared by the workers; 0: one per 4 workers")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--shared-process", o.shared_process,
               "All workers share one process (default: one process per worker)");
  CLI::Option* duration =
      app.add_option("--duration,-d", o.duration_seconds,
                     "Seconds to measure (default 10 s, or a whole trace)")
          ->check(CLI::PositiveNumber);
  CLI::Option* ops = app.add_option("--ops,-n", o.ops, "Total ops to measure, over all workers")
                         ->check(CLI::PositiveNumber);
  duration->excludes(ops);
  app.add_option("--warmup", o.warmup_seconds, "Seconds run before measuring (not counted)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--working-set", working_set,
                 "Bytes mmapped and accessed per process (units KiB, MiB, GiB)")
      ->check(ByteSizeValidator())
      ->capture_default_str();
  app.add_option("--access-size", access_size, "Bytes per Read/Write, 8 B .. 1 MiB")
      ->check(ByteSizeValidator())
      ->capture_default_str();
  app.add_option("--read-ratio", o.read_ratio, "Share of reads, 0..1 (the rest are writes)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--batch", o.batch,
                 "Ops per call, sent as Access batches (0: one unary Read/Write per op)")
      ->check(CLI::Range(0, kMaxBatchOps))
      ->capture_default_str();
  app.add_flag("--stream", o.stream,
               "Send the ops on one AccessStream per worker (with --batch N: N ops per "
               "request, else 1)");
  app.add_option("--workload", workload,
                 "Key distribution, or a storm: fork-storm (Fork a populated parent, Write in the "
                 "child, Exit it), exec-storm (CreateProcess, Exec, Read a text page, Exit)")
      ->check(CLI::IsMember({"uniform", "zipfian", "sequential", "hotset", kForkStorm, kExecStorm}))
      ->capture_default_str();
  CLI::Option* exec_binary =
      app.add_option("--exec-binary", o.exec_binary,
                     "exec-storm: local ELF64 executable, uploaded once as /memload/<basename>")
          ->check(CLI::ExistingFile)
          ->capture_default_str();
  app.add_option("--interval", o.interval_seconds,
                 "Seconds per entry of the --json latency timeline")
      ->check(CLI::Range(kMinIntervalSeconds, kMaxSeconds))
      ->capture_default_str();
  app.add_option("--zipf-theta", o.workload.zipf_theta, "Zipfian skew, in (0, 1)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--hot-fraction", o.workload.hot_fraction, "hotset: share of pages that is hot")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--hot-access-fraction", o.workload.hot_access_fraction,
                 "hotset: share of accesses that go to the hot pages")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--hot-shift-seconds", o.workload.hot_shift_seconds,
                 "hotset: seconds between moves of the hot set (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--populate", o.populate,
               "Write every page once before measuring (reads then hit resident or swapped "
               "pages, not zero pages)");
  app.add_option("--timeout", o.call_timeout_seconds, "Deadline of each call, in seconds")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  app.add_option("--seed", o.seed, "Seed of the random choices")->capture_default_str();
  app.add_option("--trace", o.trace_path,
                 "Replay a block trace (ARC .lis or LIRS; plain, .gz or .zst) instead of a "
                 "synthetic workload")
      ->check(CLI::ExistingFile);
  app.add_option("--trace-format", o.trace_format, "Trace format (default: from the file name)")
      ->check(CLI::IsMember({"arc", "lirs"}));
  app.add_option("--compare-null", o.compare_null,
                 "Also run the same workload against a null target (memnull) at ADDR and report "
                 "the share of its ops/s reached");
  app.add_option("--json", o.json_path, "Write the full report as JSON to FILE");
  app.add_flag("--no-progress", no_progress, "No live progress line on stderr");
  app.footer(
      "A run creates its processes, optionally populates them, warms up, then measures; the "
      "server's counters are read with GetStats around the measured phase.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, or the error and a hint
    *exit_code = code == 0 ? 0 : kExitUsage;
    return false;
  }
  // Validated by their checks above.
  ParseByteSize(working_set, &o.working_set_bytes);
  ParseByteSize(access_size, &o.access_bytes);
  if (workload == kForkStorm) {
    o.storm = Storm::kFork;
    o.workload.kind = Workload::kUniform;
  } else if (workload == kExecStorm) {
    o.storm = Storm::kExec;
  } else {
    o.storm = Storm::kNone;
    ParseWorkload(workload, &o.workload.kind);
  }
  o.progress = !no_progress;
  try {
    o.connection = client::ResolveConnection(connection, [](const char* name) { return std::getenv(name); });
  } catch (const std::exception& e) {
    fmt::print(stderr, "memload: {}\n", e.what());
    *exit_code = kExitUsage;
    return false;
  }
  if (exec_binary->count() > 0 && o.storm != Storm::kExec) {
    fmt::print(stderr, "memload: --exec-binary needs --workload exec-storm\n");
    *exit_code = kExitUsage;
    return false;
  }

  Status s = ValidateOptions(o);
  if (!s.ok()) {
    fmt::print(stderr, "memload: {}\n", s.message());
    *exit_code = kExitUsage;
    return false;
  }
  return true;
}

}  // namespace memserver::memload
