// memload: load generator for memserver. See `memload --help`.
//
//   memload --server 127.0.0.1:7070 --workers 16 --duration 10 --populate
//           --working-set 16MiB --access-size 4KiB --read-ratio 0.9 --json out.json
//
// Exit status: 0 when the run completed and every op succeeded; 1 when the
// run could not be made (connection, process setup, populate, trace file) or
// some op failed; 2 for a usage error; 130 when interrupted (SIGINT/SIGTERM:
// the calls in flight finish, the processes are exited, the partial report
// is printed; a second signal kills memload at once).
#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <cstdio>

#include "client/memload/options.h"
#include "client/memload/report.h"
#include "client/memload/runner.h"
#include "client/memload/trace.h"

namespace {

using memserver::Status;
using namespace memserver::memload;

constexpr int kExitFailed = 1;
constexpr int kExitInterrupted = 130;

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void OnSignal(int) { g_stop.store(true); }

void InstallSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;  // a second signal takes the default action
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int Fail(const Status& s) {
  fmt::print(stderr, "memload: {}\n", s.ToString());
  return g_stop.load() ? kExitInterrupted : kExitFailed;
}

}  // namespace

int main(int argc, char** argv) {
  LoadOptions options;
  int exit_code = 0;
  if (!ParseCommandLine(argc, argv, &options, &exit_code)) return exit_code;
  InstallSignalHandlers();

  BlockTrace trace;
  if (options.has_trace()) {
    TraceFormat format = GuessTraceFormat(options.trace_path);
    if (!options.trace_format.empty()) ParseTraceFormat(options.trace_format, &format);
    Status s = ReadTraceFile(options.trace_path, format, &trace);
    if (!s.ok()) return Fail(s);
    if (trace.blocks.empty()) {
      return Fail(Status::InvalidArgument(fmt::format("trace '{}' has no access",
                                                      options.trace_path)));
    }
    fmt::print(stderr, "memload: trace {} ({}): {} accesses, blocks 0..{}\n", options.trace_path,
               TraceFormatName(format), trace.blocks.size(), trace.max_block);
  }
  const BlockTrace* trace_ptr = options.has_trace() ? &trace : nullptr;

  RunHooks hooks;
  hooks.stop = &g_stop;
  hooks.progress = options.progress;

  RunResult run;
  Status s = RunLoad(options, trace_ptr, options.server, hooks, &run);
  if (!s.ok()) return Fail(s);

  RunResult null_run;
  const bool compared = !options.compare_null.empty() && !run.interrupted;
  if (compared) {
    s = RunLoad(options, trace_ptr, options.compare_null, hooks, &null_run);
    if (!s.ok()) return Fail(Status(s.code(), "null target: " + s.message(), nullptr));
  }
  const RunResult* null_ptr = compared ? &null_run : nullptr;

  std::fputs(FormatSummary(options, run, null_ptr).c_str(), stdout);
  std::fflush(stdout);
  if (!options.json_path.empty()) {
    s = WriteJsonFile(options.json_path, ReportJson(options, run, null_ptr));
    if (!s.ok()) return Fail(s);
  }
  if (run.interrupted || (compared && null_run.interrupted)) return kExitInterrupted;
  const bool failures = run.measured.failed_ops() > 0 ||
                        (compared && null_run.measured.failed_ops() > 0) ||
                        !run.cleanup_error.empty();
  return failures ? kExitFailed : 0;
}
