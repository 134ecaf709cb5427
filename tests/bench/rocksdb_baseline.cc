// What RocksDB itself does with 4 KiB pages, through storage's own store
// (storage::OpenRocksDbStore with the defaults memserverd uses: 8 MiB block
// cache, 64 MiB memtables, LZ4, bloom filters, swap written without the
// WAL), so the engine's paging numbers can be put next to it:
//
//   BM_RocksRandomRead   GetInto of random keys of a 256 MiB swap space
//                        (32x the block cache), flushed to SST files;
//                        reports p50_us / p99_us / p999_us per read.
//   BM_RocksRandomWrite  Write of batches of `batch` random-key 4 KiB puts to
//                        the swap space (sync off, as eviction writes), batch
//                        1 and 32 (the engine's eviction batch); reports
//                        pages_per_s and MiB_per_s.
//
// Values are incompressible slices (bench_support.h PageContent), like the
// pages the engine benchmarks write.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>

#include "tests/bench/bench_support.h"

namespace memserver::bench {
namespace {

constexpr uint64_t kPage = 4096;

struct ReadWorld {
  static constexpr uint64_t kKeys = 65536;  // 256 MiB of values
  ReadWorld() : store(OpenStore(dir.path() + "/db")) {
    const PageContent content;
    storage::WriteBatch batch;
    for (uint64_t i = 0; i < kKeys; ++i) {
      keys.push_back(storage::EncodeU64Key(i));
      batch.Put(storage::Space::kSwap, keys.back(), content.Page(i));
      if (batch.size() == 64) {
        Check(store->Write(batch, false), "Write");
        batch.Clear();
      }
    }
    Check(store->Flush(), "Flush");
  }
  BenchDir dir;
  std::unique_ptr<storage::BackingStore> store;
  std::vector<std::string> keys;
};

void BM_RocksRandomRead(benchmark::State& state) {
  ReadWorld& w = Shared<ReadWorld>(0);
  std::mt19937_64 rng(state.max_iterations + 3);
  std::string buf(kPage, '\0');
  LatencyLog log;
  log.Reserve(1 << 16);
  for (auto _ : state) {
    const std::string& key = w.keys[rng() % ReadWorld::kKeys];
    const auto t0 = LatencyLog::Clock::now();
    const Status s = w.store->GetInto(storage::Space::kSwap, key, buf.data(), buf.size());
    log.Add(LatencyLog::Clock::now() - t0);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  log.Report(state);
}
BENCHMARK(BM_RocksRandomRead)->UseRealTime();

void BM_RocksRandomWrite(benchmark::State& state) {
  const size_t batch_size = static_cast<size_t>(state.range(0));
  BenchDir dir;
  std::unique_ptr<storage::BackingStore> store = OpenStore(dir.path() + "/db");
  const PageContent content;
  std::mt19937_64 rng(5);
  storage::WriteBatch batch;
  uint64_t pages = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    batch.Clear();
    for (size_t i = 0; i < batch_size; ++i) {
      const uint64_t id = rng() % (uint64_t{1} << 22);
      batch.Put(storage::Space::kSwap, storage::EncodeU64Key(id), content.Page(id));
    }
    const Status s = store->Write(batch, false);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    pages += batch_size;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state.SetItemsProcessed(static_cast<int64_t>(pages));
  state.counters["pages_per_s"] = static_cast<double>(pages) / seconds;
  state.counters["MiB_per_s"] = static_cast<double>(pages * kPage) / seconds / (1 << 20);
}
BENCHMARK(BM_RocksRandomWrite)->ArgName("batch")->Arg(1)->Arg(32)->UseRealTime();

}  // namespace
}  // namespace memserver::bench

MEMSERVER_BENCHMARK_MAIN();
