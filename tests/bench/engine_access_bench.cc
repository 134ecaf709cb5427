// The engine's hit path, without gRPC: resident reads and writes (8 B and
// 4 KiB, 1, 2 and 16 threads as memload's 16 workers), the page-table
// lookup alone, and the zero-fill fault (first write to a fresh anonymous
// page).
//
// Resident benchmarks share one engine: 16 processes, one per "client", each
// with a 4 MiB mapping written once, all in a pool twice that size, so every
// access is a hit. Thread i uses process i mod 16 and a random page of it
// (N threads on N processes); BM_ResidentReadOneProcess puts every thread
// on process 0.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "server/vm/page.h"
#include "server/vm/page_slab.h"
#include "server/vm/page_table.h"
#include "tests/bench/bench_support.h"

namespace memserver::bench {
namespace {

constexpr uint64_t kPage = 4096;
constexpr int kClients = 16;
constexpr uint64_t kPagesPerClient = 1024;  // 4 MiB each, 64 MiB in all

struct ResidentWorld {
  ResidentWorld() : engine(FramesOptions(2 * kClients * kPagesPerClient)) {
    const PageContent content;
    for (int i = 0; i < kClients; ++i) {
      pids[i] = engine.NewProcess();
      addrs[i] = engine.Map(pids[i], kPagesPerClient * kPage);
      engine.Populate(pids[i], addrs[i], kPagesPerClient, content);
    }
  }
  BenchEngine engine;
  Pid pids[kClients];
  uint64_t addrs[kClients];
};

// One population for every resident run. Thread 0 builds it before the
// timed loop, whose start is a barrier for all threads.
ResidentWorld* world = nullptr;

// Sets the rate counters shared by the access benchmarks.
void ReportAccesses(benchmark::State& state, uint64_t bytes_per_op) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes_per_op));
}

void BM_ResidentRead(benchmark::State& state) {
  const uint64_t size = static_cast<uint64_t>(state.range(0));
  if (state.thread_index() == 0) world = &Shared<ResidentWorld>(0);
  const int client = state.thread_index() % kClients;
  std::mt19937_64 rng(state.thread_index() + 1);
  std::vector<char> buf(size);
  for (auto _ : state) {
    ResidentWorld& w = *world;
    const uint64_t page = rng() % kPagesPerClient;
    const uint64_t slot = size < kPage ? rng() % (kPage / size) * size : 0;
    const Status s = w.engine->Read(w.pids[client], w.addrs[client] + page * kPage + slot, size,
                                    buf.data());
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(buf.data());
  }
  ReportAccesses(state, size);
}
BENCHMARK(BM_ResidentRead)->ArgName("bytes")->Arg(8)->Arg(4096)->Threads(1)->Threads(2)
    ->Threads(16)->UseRealTime();

// The same reads with every thread on process 0: what one process's shared
// state (its mm lock, its refcount) costs as threads are added.
void BM_ResidentReadOneProcess(benchmark::State& state) {
  const uint64_t size = static_cast<uint64_t>(state.range(0));
  if (state.thread_index() == 0) world = &Shared<ResidentWorld>(0);
  std::mt19937_64 rng(state.thread_index() + 1);
  std::vector<char> buf(size);
  for (auto _ : state) {
    ResidentWorld& w = *world;
    const uint64_t page = rng() % kPagesPerClient;
    const uint64_t slot = size < kPage ? rng() % (kPage / size) * size : 0;
    const Status s = w.engine->Read(w.pids[0], w.addrs[0] + page * kPage + slot, size, buf.data());
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(buf.data());
  }
  ReportAccesses(state, size);
}
BENCHMARK(BM_ResidentReadOneProcess)->ArgName("bytes")->Arg(8)->Threads(1)->Threads(2)->Threads(16)->UseRealTime();

void BM_ResidentWrite(benchmark::State& state) {
  const uint64_t size = static_cast<uint64_t>(state.range(0));
  if (state.thread_index() == 0) world = &Shared<ResidentWorld>(0);
  const int client = state.thread_index() % kClients;
  std::mt19937_64 rng(state.thread_index() + 1);
  const PageContent content;
  for (auto _ : state) {
    ResidentWorld& w = *world;
    const uint64_t page = rng() % kPagesPerClient;
    const uint64_t slot = size < kPage ? rng() % (kPage / size) * size : 0;
    const Status s = w.engine->Write(w.pids[client], w.addrs[client] + page * kPage + slot,
                                     content.Page(page).substr(0, size));
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  ReportAccesses(state, size);
}
BENCHMARK(BM_ResidentWrite)->ArgName("bytes")->Arg(8)->Arg(4096)->Threads(1)->Threads(2)
    ->Threads(16)->UseRealTime();

// PageTable::Lookup of N contiguous installed pages (as one mapping of
// N x 4 KiB) in random order (48-bit addresses, 4 KiB pages: 36-bit page
// numbers, 4 levels): 1 Mi pages (4 GiB) do not fit in the CPU caches.
void BM_PageTableLookup(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  PageSlab slab(sizeof(Page), alignof(Page));
  PageTable table(36, &slab);
  std::vector<Page*> pages;
  std::vector<uint64_t> vpns;
  pages.reserve(n);
  vpns.reserve(n);
  constexpr uint64_t kBase = uint64_t{0x7f0000000000} / kPage;
  for (uint64_t i = 0; i < n; ++i) {
    pages.push_back(new (slab.Allocate()) Page(i));
    table.Install(kBase + i, pages.back());
    vpns.push_back(kBase + i);
  }
  std::shuffle(vpns.begin(), vpns.end(), std::mt19937_64(7));
  uint64_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Lookup(vpns[i]));
    if (++i == vpns.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["node_bytes_per_page"] =
      static_cast<double>(table.node_bytes()) / static_cast<double>(vpns.size());
  table.ClearRange(0, uint64_t{1} << 36, [](uint64_t, Page*) {});
  for (Page* page : pages) {
    page->~Page();
    slab.Free(page);
  }
}
BENCHMARK(BM_PageTableLookup)->ArgName("pages")->Arg(4096)->Arg(1 << 20);

// First write of 8 bytes to a fresh anonymous page: a minor fault that takes
// a free frame and zero-fills it. The region is 3/4 of the pool, so the
// background reclaimer never runs; when it is used up it is unmapped and
// mapped again outside the timing. One untimed round first touches every
// frame, so the kernel's first-touch faults on the pool are not counted.
void BM_ZeroFillFault(benchmark::State& state) {
  constexpr uint64_t kFrames = 65536;
  constexpr uint64_t kRegionPages = kFrames * 3 / 4;
  BenchEngine engine(FramesOptions(kFrames));
  const Pid pid = engine.NewProcess();
  const std::string data(8, 'z');
  uint64_t addr = engine.Map(pid, kRegionPages * kPage);
  for (uint64_t i = 0; i < kRegionPages; ++i) {
    Check(engine->Write(pid, addr + i * kPage, data), "Write");
  }
  Check(engine->Munmap(pid, addr, kRegionPages * kPage), "Munmap");
  addr = engine.Map(pid, kRegionPages * kPage);
  uint64_t next = 0;
  const uint64_t faults_before = engine->GetGlobalStats().minor_faults;
  for (auto _ : state) {
    if (next == kRegionPages) {
      state.PauseTiming();
      Check(engine->Munmap(pid, addr, kRegionPages * kPage), "Munmap");
      addr = engine.Map(pid, kRegionPages * kPage);
      next = 0;
      state.ResumeTiming();
    }
    const Status s = engine->Write(pid, addr + next++ * kPage, data);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["minor_faults_per_op"] =
      static_cast<double>(engine->GetGlobalStats().minor_faults - faults_before) /
      static_cast<double>(state.iterations());
}
BENCHMARK(BM_ZeroFillFault);

}  // namespace
}  // namespace memserver::bench

MEMSERVER_BENCHMARK_MAIN();
