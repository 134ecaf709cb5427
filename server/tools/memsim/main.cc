// memsim: replays a block-access trace through memserver's replacement
// policies (the very code memserverd runs) and Belady's OPT, and prints hit
// ratios.
//
//   memsim --trace OLTP.lis.zst --frames 1000,2000 --policies all [--json]
//   memsim --trace multi2.trace.gz --mrc [--frames 100,200,...]
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "server/tools/memsim/simulator.h"
#include "server/tools/memsim/trace_reader.h"

namespace memserver::memsim {
namespace {

struct Flags {
  std::string trace;
  std::string format;  // "", "arc" or "lirs"
  std::vector<uint32_t> frames;
  std::string policies = "all";
  bool json = false;
  bool mrc = false;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
};

Status ParsePolicies(const std::string& list, std::vector<std::string>* out) {
  const std::vector<std::string> valid = SimulatorPolicyNames();
  if (list == "all") {
    *out = valid;
    return Status::OK();
  }
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string name = list.substr(start, comma - start);
    if (std::find(valid.begin(), valid.end(), name) == valid.end()) {
      return Status::InvalidArgument(fmt::format("unknown policy '{}'; valid: all, {}", name,
                                                 fmt::join(valid, ", ")));
    }
    out->push_back(std::move(name));
    start = comma + 1;
  }
  return Status::OK();
}

// Geometric sweep for --mrc: 16, 16*sqrt2, 32, ... up to the distinct keys.
std::vector<uint32_t> DefaultMrcSizes(uint32_t distinct) {
  std::vector<uint32_t> sizes;
  for (double s = 16; s < 2.0 * std::max<uint32_t>(distinct, 16); s *= std::sqrt(2.0)) {
    const uint32_t size = std::min<uint32_t>(static_cast<uint32_t>(std::lround(s)), distinct);
    if (size > 0 && (sizes.empty() || sizes.back() != size)) sizes.push_back(size);
    if (size == distinct) break;
  }
  return sizes;
}

// Runs every (policy, size) pair on `threads` threads; results in job order.
Status RunAll(const Trace& trace, const std::vector<std::string>& policies,
              const std::vector<uint32_t>& sizes, unsigned threads,
              std::vector<SimResult>* results) {
  const bool need_opt = std::find(policies.begin(), policies.end(), kOptName) != policies.end();
  const std::vector<uint32_t> next_use = need_opt ? ComputeNextUse(trace) : std::vector<uint32_t>{};
  const size_t jobs = policies.size() * sizes.size();
  results->assign(jobs, SimResult{});
  std::vector<Status> statuses(jobs);
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t j; (j = next.fetch_add(1)) < jobs;) {
      statuses[j] = Simulate(policies[j / sizes.size()], sizes[j % sizes.size()], trace,
                             next_use, &(*results)[j]);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::min<size_t>(threads, jobs); ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (const Status& s : statuses) {
    if (!s.ok()) return s;
  }
  return Status::OK();
}

void PrintTable(const std::vector<std::string>& policies, const std::vector<uint32_t>& sizes,
                const std::vector<SimResult>& results, bool miss_ratio) {
  std::string header = fmt::format("| {:>9} |", "frames");
  std::string rule = "|----------:|";
  for (const std::string& p : policies) {
    header += fmt::format(" {:>8} |", p);
    rule += "---------:|";
  }
  fmt::print("{}\n{}\n", header, rule);
  for (size_t s = 0; s < sizes.size(); ++s) {
    std::string row = fmt::format("| {:>9} |", sizes[s]);
    for (size_t p = 0; p < policies.size(); ++p) {
      const double ratio = results[p * sizes.size() + s].hit_ratio();
      row += fmt::format(" {:>8.2f} |", miss_ratio ? 100.0 - ratio : ratio);
    }
    fmt::print("{}\n", row);
  }
}

int Run(const Flags& flags) {
  TraceFormat format = GuessTraceFormat(flags.trace);
  if (!flags.format.empty()) {
    Status s = ParseTraceFormat(flags.format, &format);
    if (!s.ok()) return fmt::print(stderr, "memsim: {}\n", s.ToString()), 2;
  }
  std::vector<std::string> policies;
  if (Status s = ParsePolicies(flags.policies, &policies); !s.ok()) {
    return fmt::print(stderr, "memsim: {}\n", s.ToString()), 2;
  }
  Trace trace;
  if (Status s = ReadTrace(flags.trace, format, &trace); !s.ok()) {
    return fmt::print(stderr, "memsim: {}\n", s.ToString()), 1;
  }
  std::vector<uint32_t> sizes = flags.frames;
  if (sizes.empty()) {
    if (!flags.mrc) return fmt::print(stderr, "memsim: --frames is required without --mrc\n"), 2;
    sizes = DefaultMrcSizes(trace.distinct);
  }
  std::vector<SimResult> results;
  if (Status s = RunAll(trace, policies, sizes, flags.threads, &results); !s.ok()) {
    return fmt::print(stderr, "memsim: {}\n", s.ToString()), 1;
  }
  if (flags.json) {
    for (const SimResult& r : results) {
      nlohmann::ordered_json j = {{"policy", r.policy},     {"frames", r.frames},
                          {"requests", r.requests}, {"hits", r.hits},
                          {"hit_ratio", r.hit_ratio()}};
      if (flags.mrc) j["miss_ratio"] = 100.0 - r.hit_ratio();
      fmt::print("{}\n", j.dump());
    }
    return 0;
  }
  fmt::print("trace {} ({} format): {} requests, {} distinct blocks\n", flags.trace,
             TraceFormatName(format), trace.keys.size(), trace.distinct);
  fmt::print("{} ratio (%)\n\n", flags.mrc ? "miss" : "hit");
  PrintTable(policies, sizes, results, flags.mrc);
  return 0;
}

}  // namespace
}  // namespace memserver::memsim

int main(int argc, char** argv) {
  memserver::memsim::Flags flags;
  CLI::App app{"memsim: replay a block trace through memserver's replacement policies and OPT"};
  app.add_option("--trace", flags.trace, "trace file (.lis = ARC format, else LIRS; .zst/.gz ok)")
      ->required();
  app.add_option("--format", flags.format, "override the trace format")
      ->check(CLI::IsMember({"arc", "lirs"}));
  app.add_option("--frames", flags.frames, "cache sizes in frames, e.g. 1000,2000")
      ->delimiter(',')
      ->check(CLI::Range(1u, UINT32_MAX - 1));
  app.add_option("--policies", flags.policies, "comma-separated policies, or all");
  app.add_flag("--json", flags.json, "one JSON object per (policy, frames)");
  app.add_flag("--mrc", flags.mrc,
               "miss-ratio curve over --frames or a default geometric sweep");
  app.add_option("--threads", flags.threads, "simulations run in parallel")
      ->check(CLI::Range(1u, 256u));
  CLI11_PARSE(app, argc, argv);
  return memserver::memsim::Run(flags);
}
