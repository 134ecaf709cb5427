// The engine's paging paths, without gRPC, over a real RocksDB store with
// memserverd's options:
//
//   BM_MajorFault       8-byte reads of random pages of a working set 16x
//                       the frame pool, every page written once (so swapped
//                       out): nearly every read pages in. MADV_RANDOM keeps
//                       readahead out of it. Reports per-read latency
//                       percentiles (p50_us, p99_us, p999_us) and how many
//                       reads were major faults.
//   BM_EvictionWriteBack  full-page writes to fresh pages once the pool is
//                       full of dirty pages: each needs a frame, so dirty
//                       pages are written back (by the faulting thread or
//                       the background reclaimer). Reports the write-back
//                       rate (page-outs/s, MiB/s written to the store).
//   BM_SequentialScan   8-byte reads of consecutive pages of a region 4x the
//                       pool, populated (so swapped out), cycled: every page
//                       is a miss. readahead = EngineOptions::
//                       readahead_max_pages (0: off); advice 2 is
//                       MADV_SEQUENTIAL, 0 none. Reports page-ins and faults
//                       per page read.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <utility>
#include <random>
#include <string>

#include "tests/bench/bench_support.h"

namespace memserver::bench {
namespace {

constexpr uint64_t kPage = 4096;

struct SwappedWorld {
  static constexpr uint64_t kFrames = 4096;             // 16 MiB pool
  static constexpr uint64_t kPages = 16 * kFrames;      // 256 MiB working set
  SwappedWorld() : engine(FramesOptions(kFrames)) {
    pid = engine.NewProcess();
    addr = engine.Map(pid, kPages * kPage);
    engine.Populate(pid, addr, kPages, PageContent());
    Check(engine->Madvise(pid, addr, kPages * kPage, kMadvRandom), "Madvise(RANDOM)");
  }
  BenchEngine engine;
  Pid pid = 0;
  uint64_t addr = 0;
};

void BM_MajorFault(benchmark::State& state) {
  SwappedWorld& w = Shared<SwappedWorld>(0);  // populated once, for every run
  std::mt19937_64 rng(state.max_iterations + 11);
  char buf[8];
  LatencyLog log;
  log.Reserve(1 << 16);
  const GlobalStats before = w.engine->GetGlobalStats();
  for (auto _ : state) {
    const uint64_t page = rng() % SwappedWorld::kPages;
    const auto t0 = LatencyLog::Clock::now();
    const Status s = w.engine->Read(w.pid, w.addr + page * kPage, sizeof(buf), buf);
    log.Add(LatencyLog::Clock::now() - t0);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(buf);
  }
  const GlobalStats after = w.engine->GetGlobalStats();
  state.SetItemsProcessed(state.iterations());
  state.counters["major_per_op"] =
      static_cast<double>(after.major_faults - before.major_faults) /
      static_cast<double>(state.iterations());
  log.Report(state);
}
BENCHMARK(BM_MajorFault)->UseRealTime();

void BM_EvictionWriteBack(benchmark::State& state) {
  using Clock = std::chrono::steady_clock;
  constexpr uint64_t kFrames = 16384;          // 64 MiB pool
  constexpr uint64_t kRegion = 4 * kFrames;    // pages written per round
  BenchEngine engine(FramesOptions(kFrames));
  const PageContent content;
  const Pid pid = engine.NewProcess();
  uint64_t addr = engine.Map(pid, kRegion * kPage);
  engine.Populate(pid, addr, kFrames, content);  // the pool is now full of dirty pages
  uint64_t next = kFrames;
  Clock::duration paused{};
  const GlobalStats before = engine->GetGlobalStats();
  const auto start = Clock::now();
  for (auto _ : state) {
    if (next == kRegion) {  // round over: a fresh region, outside the timing
      const auto pause = Clock::now();
      state.PauseTiming();
      Check(engine->Munmap(pid, addr, kRegion * kPage), "Munmap");
      addr = engine.Map(pid, kRegion * kPage);
      engine.Populate(pid, addr, kFrames, content);
      next = kFrames;
      state.ResumeTiming();
      paused += Clock::now() - pause;
    }
    const Status s = engine->Write(pid, addr + next * kPage, content.Page(next));
    ++next;
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start - paused).count();
  const GlobalStats after = engine->GetGlobalStats();
  const double page_outs = static_cast<double>(after.page_outs - before.page_outs);
  const double bytes = static_cast<double>(after.store_bytes_written - before.store_bytes_written);
  state.SetItemsProcessed(state.iterations());
  state.counters["pageouts_per_s"] = page_outs / seconds;
  state.counters["writeback_MiB_per_s"] = bytes / seconds / (1 << 20);
  state.counters["pageouts_per_write"] = page_outs / static_cast<double>(state.iterations());
}
BENCHMARK(BM_EvictionWriteBack)->UseRealTime();

struct ScanWorld {
  static constexpr uint64_t kFrames = 4096;         // 16 MiB pool
  static constexpr uint64_t kPages = 4 * kFrames;   // 64 MiB region
  ScanWorld(uint32_t readahead, int advice) : engine(Options(readahead)) {
    pid = engine.NewProcess();
    addr = engine.Map(pid, kPages * kPage);
    engine.Populate(pid, addr, kPages, PageContent());
    if (advice != 0) Check(engine->Madvise(pid, addr, kPages * kPage, advice), "Madvise");
  }
  static EngineOptions Options(uint32_t readahead) {
    EngineOptions o = FramesOptions(kFrames);
    o.readahead_max_pages = readahead;
    return o;
  }
  BenchEngine engine;
  Pid pid = 0;
  uint64_t addr = 0;
  uint64_t next = 0;  // the scan goes on where the previous run stopped
};

void BM_SequentialScan(benchmark::State& state) {
  ScanWorld* w = &Shared<ScanWorld>(std::make_pair(state.range(0), state.range(1)),
                                    static_cast<uint32_t>(state.range(0)),
                                    static_cast<int>(state.range(1)));
  char buf[8];
  const GlobalStats before = w->engine->GetGlobalStats();
  for (auto _ : state) {
    const Status s = w->engine->Read(w->pid, w->addr + w->next * kPage, sizeof(buf), buf);
    if (++w->next == ScanWorld::kPages) w->next = 0;
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(buf);
  }
  const GlobalStats after = w->engine->GetGlobalStats();
  const double n = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kPage));
  state.counters["page_ins_per_page"] = static_cast<double>(after.page_ins - before.page_ins) / n;
  state.counters["major_per_page"] =
      static_cast<double>(after.major_faults - before.major_faults) / n;
}
BENCHMARK(BM_SequentialScan)->ArgNames({"readahead", "advice"})
    ->Args({0, 0})->Args({32, 0})->Args({32, kMadvSequential})->UseRealTime();

}  // namespace
}  // namespace memserver::bench

MEMSERVER_BENCHMARK_MAIN();
