#include "client/memload/report.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <array>
#include <fstream>

#include "server/common/byte_size.h"
#include "client/memload/grpc_codes.h"
#include "client/memload/storm.h"

namespace memserver::memload {

namespace {

using nlohmann::json;

struct PercentileRow {
  const char* name;
  double percentile;
};
constexpr std::array<PercentileRow, 4> kPercentiles{
    {{"p50", 50}, {"p90", 90}, {"p99", 99}, {"p99.9", 99.9}}};

// The server counters whose change over the measured phase is reported.
constexpr std::array<const char*, 7> kCounterFields{
    "minor_faults", "major_faults", "page_ins",      "page_outs",
    "evictions",    "clean_evictions", "zero_evictions"};

double Micros(uint64_t nanos) { return static_cast<double>(nanos) / 1000.0; }

uint64_t CounterValue(const v1::GlobalStats& stats, const char* field) {
  const auto* descriptor = stats.GetDescriptor()->FindFieldByName(field);
  return descriptor == nullptr ? 0 : stats.GetReflection()->GetUInt64(stats, descriptor);
}

uint64_t CounterDelta(const RunResult& run, const char* field) {
  const uint64_t before = CounterValue(run.stats_before, field);
  const uint64_t after = CounterValue(run.stats_after, field);
  return after >= before ? after - before : 0;
}

// Every scalar field of a GlobalStats, by name.
json StatsJson(const v1::GlobalStats& stats) {
  json out = json::object();
  const google::protobuf::Descriptor* d = stats.GetDescriptor();
  const google::protobuf::Reflection* r = stats.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->is_repeated()) continue;
    switch (f->cpp_type()) {
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT64:
        out[f->name()] = r->GetUInt64(stats, f);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_UINT32:
        out[f->name()] = r->GetUInt32(stats, f);
        break;
      case google::protobuf::FieldDescriptor::CPPTYPE_STRING:
        out[f->name()] = r->GetString(stats, f);
        break;
      default:
        break;
    }
  }
  return out;
}

// The latency of every op: the whole cycle's for a storm, else reads and
// writes together.
Histogram AllLatencies(const WorkerStats& stats) {
  if (!stats.steps.empty()) return stats.steps.back().ok.latency_ns;
  Histogram all(stats.reads.latency_ns.precision_bits());
  all.Merge(stats.reads.latency_ns);
  all.Merge(stats.writes.latency_ns);
  return all;
}

json LatencyJson(const Histogram& h) {
  json out = {{"count", h.count()},
              {"min", Micros(h.min())},
              {"mean", h.mean() / 1000.0},
              {"max", Micros(h.max())}};
  for (const PercentileRow& p : kPercentiles) out[p.name] = Micros(h.ValueAtPercentile(p.percentile));
  return out;
}

json HistogramJson(const Histogram& h) {
  json buckets = json::array();
  h.ForEachBucket([&](uint64_t lowest, uint64_t highest, uint64_t count) {
    buckets.push_back({lowest, highest, count});
  });
  return {{"unit", "ns"},
          {"precision_bits", h.precision_bits()},
          {"buckets_lowest_highest_count", buckets}};
}

json TimelineJson(const std::vector<TimelineEntry>& timeline) {
  json out = json::array();
  for (const TimelineEntry& e : timeline) {
    out.push_back({{"t_start_s", e.t_start_s},
                   {"seconds", e.seconds},
                   {"ops", e.ops},
                   {"ops_per_second", e.ops_per_second},
                   {"errors", e.errors},
                   {"p50_us", Micros(e.p50_ns)},
                   {"p90_us", Micros(e.p90_ns)},
                   {"p99_us", Micros(e.p99_ns)},
                   {"max_us", Micros(e.max_ns)}});
  }
  return out;
}

// A storm's steps (null for a Read/Write run).
json StormJson(const RunResult& run) {
  const std::vector<const char*> names = StormStepNames(run.storm);
  if (names.empty() || run.measured.steps.size() != names.size()) return nullptr;
  json steps = json::object();
  for (size_t i = 0; i < names.size(); ++i) {
    const StepStats& step = run.measured.steps[i];
    steps[names[i]] = {{"ok", step.ok.ops},
                       {"failed", step.failed},
                       {"bytes", step.ok.bytes},
                       {"latency_us", LatencyJson(step.ok.latency_ns)}};
  }
  json out = {{"kind", StormName(run.storm)}, {"cycles", run.measured.cycles}, {"steps", steps}};
  if (run.storm == Storm::kExec) {
    out["exec"] = {{"path", run.exec_path},
                   {"bytes", run.exec_bytes},
                   {"uploaded", run.exec_uploaded},
                   {"cached_pages", run.exec_cached_pages < 0 ? json(nullptr)
                                                              : json(run.exec_cached_pages)}};
  }
  return out;
}

json RunJson(const RunResult& run) {
  const WorkerStats& m = run.measured;
  const Histogram all = AllLatencies(m);
  json errors = json::object();
  for (size_t code = 0; code < m.errors.size(); ++code) {
    if (m.errors[code] != 0) errors[GrpcCodeName(static_cast<int>(code))] = m.errors[code];
  }
  json delta = json::object();
  for (const char* field : kCounterFields) delta[field] = CounterDelta(run, field);
  const double hit_ratio = run.hit_ratio();

  return {
      {"address", run.address},
      {"workers", run.workers},
      {"channels", run.channels},
      {"processes", run.processes},
      {"page_size", run.page_size},
      {"region_bytes", run.region_bytes},
      {"populated_bytes", run.populated_bytes},
      {"populate_seconds", run.populate_seconds},
      {"warmup_ops", run.warmup_ops},
      {"elapsed_seconds", run.elapsed_seconds},
      {"interrupted", run.interrupted},
      {"ops",
       {{"total", m.total_ops()},
        {"ok", m.ok_ops()},
        {"failed", m.failed_ops()},
        {"reads", m.reads.ops},
        {"writes", m.writes.ops},
        {"cycles", m.cycles}}},
      {"bytes", {{"read", m.reads.bytes}, {"written", m.writes.bytes}}},
      {"ops_per_second", run.ops_per_second()},
      {"calls", m.calls},
      {"calls_per_second", run.calls_per_second()},
      {"ops_per_call", run.ops_per_call},
      {"stream", run.stream},
      {"bytes_per_second", run.bytes_per_second()},
      {"latency_us",
       {{"read", LatencyJson(m.reads.latency_ns)},
        {"write", LatencyJson(m.writes.latency_ns)},
        {"all", LatencyJson(all)}}},
      {"latency_histogram", HistogramJson(all)},
      {"storm", StormJson(run)},
      {"timeline", TimelineJson(run.timeline)},
      {"errors", errors},
      {"bad_responses", m.bad_responses},
      {"server",
       {{"before", StatsJson(run.stats_before)},
        {"after", StatsJson(run.stats_after)},
        {"delta", delta},
        {"page_accesses", m.page_accesses},
        {"hit_ratio", hit_ratio < 0 ? json(nullptr) : json(hit_ratio)}}},
      {"cleanup_error", run.cleanup_error},
  };
}

json OptionsJson(const LoadOptions& o) {
  return {
      {"server", o.server},
      {"workers", o.workers},
      {"channels", o.effective_channels()},
      {"shared_process", o.shared_process || o.has_trace()},
      {"duration_seconds", o.duration_seconds},
      {"ops", o.ops},
      {"warmup_seconds", o.warmup_seconds},
      {"working_set_bytes", o.working_set_bytes},
      {"access_bytes", o.access_bytes},
      {"read_ratio", o.read_ratio},
      {"batch", o.batch},
      {"stream", o.stream},
      {"workload", o.has_trace()  ? "trace"
                   : o.is_storm() ? StormName(o.storm)
                                  : WorkloadName(o.workload.kind)},
      {"exec_binary", o.storm == Storm::kExec ? o.exec_binary : ""},
      {"interval_seconds", o.interval_seconds},
      {"zipf_theta", o.workload.zipf_theta},
      {"hot_fraction", o.workload.hot_fraction},
      {"hot_access_fraction", o.workload.hot_access_fraction},
      {"hot_shift_seconds", o.workload.hot_shift_seconds},
      {"populate", o.populate},
      {"call_timeout_seconds", o.call_timeout_seconds},
      {"seed", o.seed},
      {"trace", o.trace_path},
      {"compare_null", o.compare_null},
  };
}

std::string LatencyCells(const Histogram& h) {
  std::string out = fmt::format("{:>9.1f}", h.mean() / 1000.0);
  for (const PercentileRow& p : kPercentiles) {
    out += fmt::format(" {:>9.1f}", Micros(h.ValueAtPercentile(p.percentile)));
  }
  out += fmt::format(" {:>9.1f}", Micros(h.max()));
  return out;
}

std::string Row(const char* name, uint64_t ops, uint64_t bytes, const Histogram& latency,
                double elapsed) {
  const double rate = elapsed > 0 ? static_cast<double>(ops) / elapsed : 0;
  const double mib = elapsed > 0 ? static_cast<double>(bytes) / elapsed / (1 << 20) : 0;
  std::string row = fmt::format("{:<6} {:>11} {:>11.1f} {:>9.1f}", name, ops, rate, mib);
  if (latency.count() > 0) row += " " + LatencyCells(latency);
  return row + "\n";
}

// Exact ("16MiB", "4KiB") below 1 MiB or for whole MiB; else one decimal in
// the largest unit ("29.5GiB").
std::string ReadableBytes(uint64_t bytes) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  if (bytes < kMiB || bytes % kMiB == 0) return FormatByteSize(bytes);
  static constexpr std::array<std::pair<int, const char*>, 3> kUnits{
      {{40, "TiB"}, {30, "GiB"}, {20, "MiB"}}};
  for (const auto& [shift, name] : kUnits) {
    const uint64_t unit = uint64_t{1} << shift;
    if (bytes >= unit) {
      return fmt::format("{:.1f}{}", static_cast<double>(bytes) / static_cast<double>(unit), name);
    }
  }
  return FormatByteSize(bytes);
}

// How the ops went out: "unary calls", "Access calls of 64 ops", ...
std::string CallMode(const RunResult& run) {
  if (run.stream) {
    return fmt::format("AccessStream requests of {} op{}", run.ops_per_call,
                       run.ops_per_call == 1 ? "" : "s");
  }
  if (run.ops_per_call > 0) {
    return fmt::format("Access calls of {} op{}", run.ops_per_call,
                       run.ops_per_call == 1 ? "" : "s");
  }
  return "unary Read/Write calls";
}

std::string Describe(const LoadOptions& o, const RunResult& run) {
  if (o.storm == Storm::kFork) {
    return fmt::format(
        "memload: fork-storm, {} workers on {} channel{}, {} parent{} x {}, each child writes "
        "{} ({})\n",
        run.workers, run.channels, run.channels == 1 ? "" : "s", run.processes,
        run.processes == 1 ? "" : "s", ReadableBytes(run.region_bytes),
        FormatByteSize(o.access_bytes), WorkloadName(o.workload.kind));
  }
  if (o.storm == Storm::kExec) {
    return fmt::format("memload: exec-storm, {} workers on {} channel{}, exec of {} ({}, {} {})\n",
                       run.workers, run.channels, run.channels == 1 ? "" : "s", o.exec_binary,
                       ReadableBytes(run.exec_bytes), run.exec_uploaded ? "uploaded as" : "reusing",
                       run.exec_path);
  }
  const std::string workload =
      o.has_trace() ? fmt::format("trace {}", o.trace_path) : WorkloadName(o.workload.kind);
  return fmt::format(
      "memload: {} workers on {} channel{}, {} process{} x {}, {} accesses, {}, {:.0f}% reads\n",
      run.workers, run.channels, run.channels == 1 ? "" : "s", run.processes,
      run.processes == 1 ? "" : "es",
      ReadableBytes(run.region_bytes), FormatByteSize(o.access_bytes), workload,
      o.read_ratio * 100);
}

}  // namespace

double TransportCeilingPercent(const RunResult& run, const RunResult& null_run) {
  const double ceiling = null_run.ops_per_second();
  return ceiling > 0 ? 100.0 * run.ops_per_second() / ceiling : -1;
}

std::string FormatSummary(const LoadOptions& options, const RunResult& run,
                          const RunResult* null_run) {
  const WorkerStats& m = run.measured;
  std::string out = Describe(options, run);
  out += fmt::format("target {}: page {} B, policy {}, {} frames",
                     run.address, run.page_size,
                     run.stats_after.policy().empty() ? "-" : run.stats_after.policy(),
                     run.stats_after.frames_total());
  if (run.populated_bytes > 0) {
    out += fmt::format("; populated {} in {:.2f} s", ReadableBytes(run.populated_bytes),
                       run.populate_seconds);
  }
  if (options.warmup_seconds > 0) {
    out += fmt::format("; warm-up {:.1f} s ({} ops)", options.warmup_seconds, run.warmup_ops);
  }
  out += fmt::format("\nmeasured {:.2f} s{}\n\n", run.elapsed_seconds,
                     run.interrupted ? " (interrupted)" : "");

  out += fmt::format("{:<6} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "op",
                     "count", "ops/s", "MiB/s", "mean us", "p50 us", "p90 us", "p99 us",
                     "p99.9 us", "max us");
  const std::vector<const char*> steps = StormStepNames(run.storm);
  if (!steps.empty() && m.steps.size() == steps.size()) {
    for (size_t i = 0; i < steps.size(); ++i) {
      out += Row(steps[i], m.steps[i].ok.ops, m.steps[i].ok.bytes, m.steps[i].ok.latency_ns,
                 run.elapsed_seconds);
    }
    out += fmt::format("calls: {} unary calls, {} per cycle ({:.1f} calls/s); an op is a cycle\n",
                       m.calls, steps.size() - 1, run.calls_per_second());
  } else {
    out += Row("read", m.reads.ops, m.reads.bytes, m.reads.latency_ns, run.elapsed_seconds);
    out += Row("write", m.writes.ops, m.writes.bytes, m.writes.latency_ns, run.elapsed_seconds);
    out += Row("all", m.ok_ops(), m.reads.bytes + m.writes.bytes, AllLatencies(m),
               run.elapsed_seconds);
    out += fmt::format("calls: {} {} ({:.1f} calls/s{})\n", m.calls, CallMode(run),
                       run.calls_per_second(),
                       run.ops_per_call > 0 ? "; an op's latency is that of its call" : "");
  }

  std::string errors;
  for (size_t code = 0; code < m.errors.size(); ++code) {
    if (m.errors[code] == 0) continue;
    errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ",
                          GrpcCodeName(static_cast<int>(code)), m.errors[code]);
  }
  if (m.bad_responses > 0) {
    errors += fmt::format("{}wrong-length reads {}", errors.empty() ? "" : ", ", m.bad_responses);
  }
  out += fmt::format("\nerrors: {}\n", errors.empty() ? "none" : errors);
  std::string failed_steps;
  for (size_t i = 0; i < steps.size() && i < m.steps.size(); ++i) {
    if (m.steps[i].failed == 0) continue;
    failed_steps += fmt::format("{}{} {}", failed_steps.empty() ? "" : ", ", steps[i],
                                m.steps[i].failed);
  }
  if (!failed_steps.empty()) out += fmt::format("failed steps: {}\n", failed_steps);

  out += "server:";
  for (const char* field : kCounterFields) out += fmt::format(" {} +{}", field, CounterDelta(run, field));
  out += "\n";
  const double hit_ratio = run.hit_ratio();
  if (hit_ratio >= 0) {
    out += fmt::format("hit ratio {:.2f}% (1 - {} major faults / {} page accesses)\n",
                       hit_ratio * 100, CounterDelta(run, "major_faults"), m.page_accesses);
  }
  if (run.storm == Storm::kExec && run.exec_cached_pages >= 0) {
    const uint64_t file_pages = (run.exec_bytes + run.page_size - 1) / run.page_size;
    out += fmt::format("page cache: {} holds {} of its {} pages after {} cycles\n", run.exec_path,
                       run.exec_cached_pages, file_pages, m.total_ops());
  }
  if (!run.cleanup_error.empty()) out += fmt::format("cleanup failed: {}\n", run.cleanup_error);

  if (null_run != nullptr) {
    const double percent = TransportCeilingPercent(run, *null_run);
    out += fmt::format("null target {}: {:.1f} ops/s, {:.1f} calls/s, p50 {:.1f} us",
                       null_run->address, null_run->ops_per_second(),
                       null_run->calls_per_second(),
                       Micros(AllLatencies(null_run->measured).ValueAtPercentile(50)));
    if (percent >= 0) {
      out += fmt::format("; this run reached {:.1f}% of the transport's ceiling\n", percent);
    } else {
      out += "; no op completed there, no ceiling\n";
    }
  }
  return out;
}

nlohmann::json ReportJson(const LoadOptions& options, const RunResult& run,
                          const RunResult* null_run) {
  json out = {{"options", OptionsJson(options)}, {"run", RunJson(run)}};
  if (null_run != nullptr) {
    out["null_target"] = RunJson(*null_run);
    const double percent = TransportCeilingPercent(run, *null_run);
    out["transport_ceiling_percent"] = percent < 0 ? json(nullptr) : json(percent);
  }
  return out;
}

Status WriteJsonFile(const std::string& path, const nlohmann::json& json) {
  std::ofstream out(path, std::ios::trunc);
  out << json.dump(2) << "\n";
  out.close();
  if (!out) return Status::FailedPrecondition(fmt::format("cannot write '{}'", path));
  return Status::OK();
}

}  // namespace memserver::memload
