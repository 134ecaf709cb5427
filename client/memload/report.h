// memload's report: the summary table printed at the end of a run, and the
// JSON document written by --json (everything in the table, plus the
// configuration, the server's counters before and after, and the latency
// histogram's non-empty buckets so runs can be merged or re-analysed).
//
// Latencies are those of successful calls, client-side (call start to
// response). Throughput counts successful ops over the measured phase.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "client/memload/options.h"
#include "client/memload/runner.h"
#include "server/common/status.h"

namespace memserver::memload {

// ops/s of `run` as a percentage of `null_run`'s; -1 when the null target
// completed no op.
double TransportCeilingPercent(const RunResult& run, const RunResult& null_run);

// The summary table. `null_run` (may be null) is the --compare-null run.
std::string FormatSummary(const LoadOptions& options, const RunResult& run,
                          const RunResult* null_run);

nlohmann::json ReportJson(const LoadOptions& options, const RunResult& run,
                          const RunResult* null_run);

// Writes `json` (indented) to `path`, replacing it; FailedPrecondition when
// the file cannot be written.
Status WriteJsonFile(const std::string& path, const nlohmann::json& json);

}  // namespace memserver::memload
