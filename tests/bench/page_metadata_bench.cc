// Metadata bytes per mapped page beyond the page data: page table nodes,
// Page objects, the frame pool's per-frame bookkeeping (reverse map,
// replacement policy) and the mapping, measured as the growth of the heap
// (mallinfo2: bytes in use, small and mmapped chunks) plus the Page slab's
// storage (its own mapping, outside malloc: GlobalStats::page_slab_bytes)
// while an engine with
// N + N/16 frames is opened and N pages are mapped and written (the spare
// 1/16 keeps free frames above the reclaimer's high watermark, so nothing
// is evicted). Frame data is one
// anonymous mmap outside the heap, so it is not counted.
//
// Counters (bytes per page):
//   total_B_per_page  everything from before Engine::Open to after the writes
//   frames_B_per_page what Engine::Open allocated (per-frame structures),
//                     divided by the mapped pages
//   pages_B_per_page  what mapping and first-touching the pages added (page
//                     table + Page objects + policy entries)
//   slab_B_per_page   of that, the Page objects (sizeof(Page) each)
// One run per replacement policy: the policies' per-frame state differs
// (CLOCK: a reference byte; LIRS: its stacks and non-resident history).
// The store is opened before the first sample, and nothing is evicted (the
// pool holds every page), so RocksDB adds nothing in between.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tests/bench/bench_support.h"

namespace memserver::bench {
namespace {

constexpr uint64_t kPage = 4096;

uint64_t HeapInUse() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

void BM_PageMetadata(benchmark::State& state, const char* policy) {
  const uint64_t pages = static_cast<uint64_t>(state.range(0));
  for (auto _ : state) {
    BenchDir dir;
    std::unique_ptr<storage::BackingStore> store = OpenStore(dir.path() + "/db");
    const uint64_t h0 = HeapInUse();
    std::unique_ptr<Engine> engine;
    EngineOptions options = FramesOptions(pages + pages / 16);
    options.policy = policy;
    Check(Engine::Open(options, std::move(store), &engine), "Engine::Open");
    const uint64_t h1 = HeapInUse();
    Pid pid = 0;
    Check(engine->CreateProcess("meta", &pid), "CreateProcess");
    MmapArgs args;
    args.length = pages * kPage;
    uint64_t addr = 0;
    Check(engine->Mmap(pid, args, &addr), "Mmap");
    const std::string data(8, 'm');
    for (uint64_t i = 0; i < pages; ++i) Check(engine->Write(pid, addr + i * kPage, data), "Write");
    const GlobalStats stats = engine->GetGlobalStats();
    const uint64_t h2 = HeapInUse() + stats.page_slab_bytes;
    if (stats.evictions != 0) state.SkipWithError("pages were evicted: the measure is polluted");
    const double n = static_cast<double>(pages);
    auto per_page = [n](uint64_t from, uint64_t to) {
      return (static_cast<double>(to) - static_cast<double>(from)) / n;
    };
    state.counters["total_B_per_page"] = per_page(h0, h2);
    state.counters["frames_B_per_page"] = per_page(h0, h1);
    state.counters["pages_B_per_page"] = per_page(h1, h2);
    state.counters["slab_B_per_page"] = per_page(0, stats.page_slab_bytes);
    state.counters["resident_pages"] = static_cast<double>(stats.frames_total - stats.frames_free);
    engine.reset();
  }
}
#define MEMSERVER_METADATA_BENCH(name)                                                 \
  BENCHMARK_CAPTURE(BM_PageMetadata, name, #name)->ArgName("pages")->Arg(1 << 16)->Arg(1 << 20) \
      ->Iterations(1)->Unit(benchmark::kMillisecond)
MEMSERVER_METADATA_BENCH(clock);
MEMSERVER_METADATA_BENCH(sieve);
MEMSERVER_METADATA_BENCH(lru);
MEMSERVER_METADATA_BENCH(2q);
MEMSERVER_METADATA_BENCH(arc);
MEMSERVER_METADATA_BENCH(lirs);

}  // namespace
}  // namespace memserver::bench

MEMSERVER_BENCHMARK_MAIN();
