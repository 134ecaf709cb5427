// Helpers shared by the engine and RocksDB benchmarks (programs that print
// numbers, never timed tests).
//
//   BenchDir     a fresh temporary directory, removed with its contents when
//                the object dies (after whatever used it is gone: declare it
//                before the engine or store that lives in it).
//   BenchEngine  an Engine over a real RocksDB store (storage's defaults, as
//                memserverd opens it) in its own BenchDir.
//   PageContent  incompressible page-sized slices, so LZ4 in the store sees
//                what random program data would give it, not zeros.
//   LatencyLog   per-operation latencies of a manual timing loop, and their
//                percentiles as benchmark counters.
//   Shared<T>()  an object built on first use and kept for every run of the
//                benchmarks (a populated engine), destroyed by
//                MEMSERVER_BENCHMARK_MAIN after the last run and before
//                static destruction: RocksDB must be closed while its own
//                statics (Env, loggers) still exist.
//
// Every failure aborts the program with a message: a benchmark that went
// wrong must not print a number.
#pragma once

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/common/status.h"
#include "server/engine/engine.h"
#include "server/engine/options.h"
#include "server/engine/types.h"
#include "storage/backing_store.h"

namespace memserver::bench {

// Prints `what` and the status and aborts when `s` is an error.
inline void Check(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "benchmark setup failed: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

class BenchDir {
 public:
  BenchDir() {
    std::string pattern = "/tmp/memserver-bench-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = pattern;
  }
  ~BenchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Engine options for a pool of `frames` 4 KiB frames; everything else is
// memserverd's default.
inline EngineOptions FramesOptions(uint64_t frames) {
  EngineOptions o;
  o.memory_bytes = frames * o.page_size;
  return o;
}

inline std::unique_ptr<storage::BackingStore> OpenStore(const std::string& path) {
  storage::RocksDbOptions ro;  // the defaults memserverd uses
  ro.path = path;
  std::unique_ptr<storage::BackingStore> store;
  Check(storage::OpenRocksDbStore(ro, &store), "OpenRocksDbStore");
  return store;
}

class PageContent {
 public:
  explicit PageContent(uint32_t page_size = 4096)
      : page_size_(page_size), bytes_(size_t{1} << 20, '\0') {
    std::mt19937_64 rng(42);
    for (char& c : bytes_) c = static_cast<char>(rng());
  }
  // A page-sized slice that differs from its neighbours' (page i starts at
  // a different offset of a random megabyte).
  std::string_view Page(uint64_t i) const {
    const uint64_t slots = (bytes_.size() - page_size_) / 64;
    return std::string_view(bytes_.data() + (i * 2654435761u % slots) * 64, page_size_);
  }

 private:
  uint32_t page_size_;
  std::string bytes_;
};

class BenchEngine {
 public:
  explicit BenchEngine(const EngineOptions& options) {
    std::unique_ptr<storage::BackingStore> store = OpenStore(dir_.path() + "/db");
    store_ = store.get();
    Check(Engine::Open(options, std::move(store), &engine_), "Engine::Open");
  }
  BenchEngine(const BenchEngine&) = delete;
  BenchEngine& operator=(const BenchEngine&) = delete;

  Engine& operator*() { return *engine_; }
  Engine* operator->() { return engine_.get(); }
  // The engine's store (owned by the engine): its byte counters.
  storage::BackingStore& store() { return *store_; }

  Pid NewProcess() {
    Pid pid = 0;
    Check(engine_->CreateProcess("bench", &pid), "CreateProcess");
    return pid;
  }
  // A private anonymous read/write mapping of `bytes`.
  uint64_t Map(Pid pid, uint64_t bytes) {
    MmapArgs args;
    args.length = bytes;
    uint64_t addr = 0;
    Check(engine_->Mmap(pid, args, &addr), "Mmap");
    return addr;
  }
  // Writes every page of [addr, addr + pages * 4 KiB) once with `content`.
  void Populate(Pid pid, uint64_t addr, uint64_t pages, const PageContent& content);

 private:
  BenchDir dir_;                    // outlives the engine (declared first)
  std::unique_ptr<Engine> engine_;  // closes the store before dir_ goes
  storage::BackingStore* store_ = nullptr;  // owned by engine_
};

inline void BenchEngine::Populate(Pid pid, uint64_t addr, uint64_t pages,
                                  const PageContent& content) {
  const uint64_t page = engine_->options().page_size;
  for (uint64_t i = 0; i < pages; ++i) {
    Check(engine_->Write(pid, addr + i * page, content.Page(i)), "Write (populate)");
  }
}

class LatencyLog {
 public:
  using Clock = std::chrono::steady_clock;
  void Reserve(size_t n) { ns_.reserve(n); }
  void Add(Clock::duration d) {
    ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }
  size_t size() const { return ns_.size(); }
  // Percentile in microseconds (nearest rank). Sorts the log.
  double PercentileUs(double p) {
    if (ns_.empty()) return 0;
    std::sort(ns_.begin(), ns_.end());
    const size_t rank = std::min(ns_.size() - 1, static_cast<size_t>(p / 100.0 * ns_.size()));
    return static_cast<double>(ns_[rank]) / 1000.0;
  }
  // Sets p50_us, p99_us and p999_us counters.
  void Report(benchmark::State& state) {
    state.counters["p50_us"] = PercentileUs(50);
    state.counters["p99_us"] = PercentileUs(99);
    state.counters["p999_us"] = PercentileUs(99.9);
  }

 private:
  std::vector<int64_t> ns_;
};

// Destroys, in reverse order of creation, what Shared() built.
inline std::vector<std::function<void()>>& Teardowns() {
  static std::vector<std::function<void()>> teardowns;
  return teardowns;
}

// The T built from `args` (one per distinct key), created on first use.
// Not thread-safe: call it before the timed loop, from thread 0 only, or
// from single-threaded benchmarks.
template <typename T, typename Key = int, typename... Args>
T& Shared(const Key& key, Args&&... args) {
  static std::map<Key, std::unique_ptr<T>>* objects = [] {
    auto* m = new std::map<Key, std::unique_ptr<T>>();
    Teardowns().push_back([m] { delete m; });
    return m;
  }();
  std::unique_ptr<T>& object = (*objects)[key];
  if (!object) object = std::make_unique<T>(std::forward<Args>(args)...);
  return *object;
}

inline int RunBenchmarks(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  while (!Teardowns().empty()) {
    Teardowns().back()();
    Teardowns().pop_back();
  }
  return 0;
}

}  // namespace memserver::bench

#define MEMSERVER_BENCHMARK_MAIN() \
  int main(int argc, char** argv) { return ::memserver::bench::RunBenchmarks(argc, argv); }
