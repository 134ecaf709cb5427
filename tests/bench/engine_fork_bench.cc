// fork(2) of a process with N resident pages (1k, 16k, 262144 = 1 GiB),
// without gRPC: the copy-on-write copy of the page table and one reference
// per page. The child's Exit is outside the timing (reported separately as
// exit_us, the teardown a fork storm also pays).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "tests/bench/bench_support.h"

namespace memserver::bench {
namespace {

constexpr uint64_t kPage = 4096;

struct ForkWorld {
  explicit ForkWorld(uint64_t pages) : engine(FramesOptions(pages + pages / 4 + 1024)) {
    pid = engine.NewProcess();
    addr = engine.Map(pid, pages * kPage);
    engine.Populate(pid, addr, pages, PageContent());
  }
  BenchEngine engine;
  Pid pid = 0;
  uint64_t addr = 0;
};

void BM_Fork(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  const uint64_t pages = static_cast<uint64_t>(state.range(0));
  ForkWorld& w = Shared<ForkWorld>(pages, pages);  // one parent per size
  Clock::duration exits{};
  for (auto _ : state) {
    Pid child = 0;
    const Status s = w.engine->Fork(w.pid, &child);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    state.PauseTiming();
    const auto t0 = Clock::now();
    Check(w.engine->Exit(child), "Exit");
    exits += Clock::now() - t0;
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
  const double iterations = static_cast<double>(state.iterations());
  state.counters["exit_us"] = std::chrono::duration<double, std::micro>(exits).count() / iterations;
  state.counters["pages"] = static_cast<double>(pages);
}
BENCHMARK(BM_Fork)->ArgName("pages")->Arg(1024)->Arg(16384)->Arg(262144)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace memserver::bench

MEMSERVER_BENCHMARK_MAIN();
