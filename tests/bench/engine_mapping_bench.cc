// The cost of mmap, munmap and mprotect against the number of mappings a
// process already has (1 to 65,530, Linux's default vm.max_map_count),
// without gRPC. Placing a mapping searches the address space for a gap;
// with a gap-augmented tree (server/vm/gap_tree.h) that search is
// logarithmic, so every row should cost about the same.
//
// The world: one process with N one-page mappings packed just below
// mmap_base, a free page between neighbours (so none merge). A new mapping
// without a hint goes top-down, below all of them: the worst case for a
// linear gap scan. Timing is manual (steady_clock around the measured call
// only), so the call that undoes each step is not counted:
//   BM_Mmap      mmap of one page (its munmap untimed)
//   BM_Munmap    munmap of one page mapped just before (the mmap untimed)
//   BM_Mprotect  mprotect of the middle page of a 3-page mapping (a split
//                into three), then back (a merge into one), both timed;
//                reported per call
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>

#include "tests/bench/bench_support.h"

namespace memserver::bench {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kRW = kProtRead | kProtWrite;
using Clock = std::chrono::steady_clock;

struct MappingWorld {
  explicit MappingWorld(uint64_t mappings) : engine(Options()) {
    pid = engine.NewProcess();
    // mmap_base (top - 128 MiB) for the default 48-bit space.
    const uint64_t base = (1ull << 48) - (128ull << 20);
    for (uint64_t i = 0; i < mappings; ++i) {
      MmapArgs a;
      a.addr = base - (2 * i + 2) * kPage;
      a.length = kPage;
      a.flags = kMapPrivate | kMapAnonymous | kMapFixed;
      uint64_t got = 0;
      Check(engine->Mmap(pid, a, &got), "Mmap (world)");
    }
    // A 3-page mapping far below the world, for BM_Mprotect.
    MmapArgs a;
    a.addr = 1ull << 40;
    a.length = 3 * kPage;
    a.flags = kMapPrivate | kMapAnonymous | kMapFixed;
    Check(engine->Mmap(pid, a, &split_at), "Mmap (split target)");
  }
  static EngineOptions Options() {
    EngineOptions o = FramesOptions(1024);
    o.max_mappings = 65536 + 16;  // room for the world plus what a step adds
    return o;
  }
  BenchEngine engine;
  Pid pid = 0;
  uint64_t split_at = 0;
};

uint64_t MapOnePage(MappingWorld& w) {
  MmapArgs a;
  a.length = kPage;
  uint64_t addr = 0;
  Check(w.engine->Mmap(w.pid, a, &addr), "Mmap");
  return addr;
}

void Report(benchmark::State& state, LatencyLog& log, uint64_t mappings) {
  log.Report(state);
  state.counters["mappings"] = static_cast<double>(mappings);
  state.SetItemsProcessed(static_cast<int64_t>(log.size()));
}

void BM_Mmap(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  MappingWorld& w = Shared<MappingWorld>(n, n);
  LatencyLog log;
  for (auto _ : state) {
    MmapArgs a;
    a.length = kPage;
    uint64_t addr = 0;
    const auto t0 = Clock::now();
    const Status s = w.engine->Mmap(w.pid, a, &addr);
    const auto d = Clock::now() - t0;
    Check(s, "Mmap");
    state.SetIterationTime(std::chrono::duration<double>(d).count());
    log.Add(d);
    Check(w.engine->Munmap(w.pid, addr, kPage), "Munmap");
  }
  Report(state, log, n);
}

void BM_Munmap(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  MappingWorld& w = Shared<MappingWorld>(n, n);
  LatencyLog log;
  for (auto _ : state) {
    const uint64_t addr = MapOnePage(w);
    const auto t0 = Clock::now();
    const Status s = w.engine->Munmap(w.pid, addr, kPage);
    const auto d = Clock::now() - t0;
    Check(s, "Munmap");
    state.SetIterationTime(std::chrono::duration<double>(d).count());
    log.Add(d);
  }
  Report(state, log, n);
}

void BM_Mprotect(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  MappingWorld& w = Shared<MappingWorld>(n, n);
  LatencyLog log;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    const Status split = w.engine->Mprotect(w.pid, w.split_at + kPage, kPage, kProtRead);
    const auto t1 = Clock::now();
    const Status merge = w.engine->Mprotect(w.pid, w.split_at + kPage, kPage, kRW);
    const auto t2 = Clock::now();
    Check(split, "Mprotect (split)");
    Check(merge, "Mprotect (merge)");
    state.SetIterationTime(std::chrono::duration<double>(t2 - t0).count() / 2);
    log.Add(t1 - t0);
    log.Add(t2 - t1);
  }
  Report(state, log, n);
}

#define MEMSERVER_MAPPING_ARGS                                                                  \
  ArgName("mappings")->Arg(1)->Arg(16)->Arg(256)->Arg(4096)->Arg(16384)->Arg(65530)->UseManualTime() \
      ->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_Mmap)->MEMSERVER_MAPPING_ARGS;
BENCHMARK(BM_Munmap)->MEMSERVER_MAPPING_ARGS;
BENCHMARK(BM_Mprotect)->MEMSERVER_MAPPING_ARGS;

}  // namespace
}  // namespace memserver::bench

MEMSERVER_BENCHMARK_MAIN();
