// Snapshots and msync(MS_SYNC), without gRPC: what one costs in time and in
// bytes written.
//
//   BM_Snapshot/resident_mib:R/dirty_pct:D   a process with R MiB resident
//       (snapshotted once before timing), D% of its pages rewritten before
//       each timed Engine::Snapshot. Counters: pages and MiB it wrote
//       (store value bytes), keys it deleted (page versions no snapshot needs
//       any more), capture_ms (the instant every mm lock is held) and the
//       write amplification (store bytes / dirty bytes).
//   BM_MsyncSync/pages:N   N pages written (untimed), then msync(MS_SYNC) of
//       those N, timed (the layout is already durable, as after the first
//       snapshot).
//       Counters: store bytes and bytes handed to write(2) (/proc/self/io
//       wchar: WAL, SSTs, everything the process wrote) per msync, and both
//       divided by the N*4 KiB the caller dirtied.
//
// Periodic snapshots are off (snapshot_interval_ms = 0) so that only the
// timed calls write. Run by hand, e.g.
//   build/tests/bench/engine_snapshot_bench --benchmark_filter=Snapshot
#include <benchmark/benchmark.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "tests/bench/bench_support.h"

namespace memserver::bench {
namespace {

constexpr uint64_t kPage = 4096;

// Bytes this process has passed to write(2) and friends so far.
uint64_t WrittenChars() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "wchar:") return value;
  }
  return 0;
}

EngineOptions SnapshotOptions(uint64_t pages) {
  EngineOptions o = FramesOptions(pages + pages / 4 + 1024);
  o.snapshot_interval_ms = 0;
  return o;
}

// A process of `pages` resident, incompressible pages whose first snapshot
// is already committed.
struct SnapshotWorld {
  explicit SnapshotWorld(uint64_t pages) : pages(pages), engine(SnapshotOptions(pages)) {
    pid = engine.NewProcess();
    addr = engine.Map(pid, pages * kPage);
    engine.Populate(pid, addr, pages, content);
    Check(engine->Snapshot(), "first Snapshot");
  }
  // Rewrites every `stride`-th page with content it did not hold before.
  uint64_t Dirty(uint64_t stride) {
    ++round;
    uint64_t n = 0;
    for (uint64_t i = 0; i < pages; i += stride, ++n) {
      Check(engine->Write(pid, addr + i * kPage, content.Page(i + round * 7919)), "Write (dirty)");
    }
    return n;
  }
  const uint64_t pages;
  PageContent content;
  BenchEngine engine;
  Pid pid = 0;
  uint64_t addr = 0;
  uint64_t round = 0;
};

void BM_Snapshot(benchmark::State& state) {
  const uint64_t pages = static_cast<uint64_t>(state.range(0)) * (1 << 20) / kPage;
  const uint64_t pct = static_cast<uint64_t>(state.range(1));
  SnapshotWorld& w = Shared<SnapshotWorld>(pages, pages);
  const uint64_t stride = 100 / pct;
  double dirty = 0, written = 0, bytes = 0, deleted = 0, capture_ms = 0;
  for (auto _ : state) {
    state.PauseTiming();
    dirty += static_cast<double>(w.Dirty(stride));
    const uint64_t before = w.engine.store().GetStats().bytes_written;
    state.ResumeTiming();
    SnapshotStats stats;
    const Status s = w.engine->Snapshot(&stats);
    if (!s.ok() || !stats.ok) {
      state.SkipWithError((s.ok() ? stats.error : s.ToString()).c_str());
      break;
    }
    state.PauseTiming();
    written += static_cast<double>(stats.pages_written);
    bytes += static_cast<double>(w.engine.store().GetStats().bytes_written - before);
    deleted += static_cast<double>(stats.keys_deleted);
    capture_ms += stats.capture_ms;
    state.ResumeTiming();
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["dirty_pages"] = dirty / n;
  state.counters["pages_written"] = written / n;
  state.counters["MiB_written"] = bytes / n / (1 << 20);
  state.counters["keys_deleted"] = deleted / n;
  state.counters["capture_ms"] = capture_ms / n;
  state.counters["amplification"] = dirty > 0 ? bytes / (dirty * kPage) : 0;
}
BENCHMARK(BM_Snapshot)
    ->ArgNames({"resident_mib", "dirty_pct"})
    ->Args({1024, 1})
    ->Args({1024, 10})
    ->Args({1024, 100})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_MsyncSync(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  constexpr uint64_t kRegion = 16384;  // pages (64 MiB), written round-robin
  SnapshotWorld& w = Shared<SnapshotWorld>(kRegion, kRegion);
  uint64_t next = 0;
  double store_bytes = 0, chars = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const uint64_t first = next;
    next = (next + n) % (kRegion - n);
    for (uint64_t i = 0; i < n; ++i) {
      Check(w.engine->Write(w.pid, w.addr + (first + i) * kPage,
                            w.content.Page(first + i + state.iterations())),
            "Write");
    }
    const uint64_t stored = w.engine.store().GetStats().bytes_written;
    const uint64_t wchar = WrittenChars();
    state.ResumeTiming();
    const Status s = w.engine->Msync(w.pid, w.addr + first * kPage, n * kPage, kMsSync);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    state.PauseTiming();
    store_bytes += static_cast<double>(w.engine.store().GetStats().bytes_written - stored);
    chars += static_cast<double>(WrittenChars() - wchar);
    state.ResumeTiming();
  }
  const double iters = static_cast<double>(state.iterations());
  const double dirtied = static_cast<double>(n * kPage);
  state.counters["store_bytes"] = store_bytes / iters;
  state.counters["wchar_bytes"] = chars / iters;
  state.counters["store_amp"] = store_bytes / iters / dirtied;
  state.counters["wchar_amp"] = chars / iters / dirtied;
}
BENCHMARK(BM_MsyncSync)->ArgName("pages")->Arg(1)->Arg(64)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace memserver::bench

MEMSERVER_BENCHMARK_MAIN();
