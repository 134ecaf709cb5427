// MetricsEngineTest: a real Engine (few frames, real RocksDB in a fresh
// temporary directory) and helpers that page memory in and out of it, for
// the collector tests and the end-to-end scrape by a Prometheus server.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "server/engine/engine.h"
#include "server/engine/options.h"
#include "server/engine/types.h"
#include "storage/backing_store.h"
#include "tests/storage/temp_dir.h"

namespace memserver::metrics {

class MetricsEngineTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kFrames = 16;
  static constexpr uint32_t kPageSize = 4096;

  void SetUp() override {
    storage::RocksDbOptions ro;
    ro.path = dir_.path() + "/db";
    ro.write_buffer_bytes = 4ull << 20;
    ro.block_cache_bytes = 1ull << 20;
    std::unique_ptr<storage::BackingStore> store;
    Status s = storage::OpenRocksDbStore(ro, &store);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EngineOptions options;
    options.page_size = kPageSize;
    options.memory_bytes = kFrames * kPageSize;
    options.eviction_batch = 4;
    s = Engine::Open(options, std::move(store), &engine_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void TearDown() override { engine_.reset(); }  // before the directory goes

  // Writes `pages` distinct non-zero pages in a fresh mapping (more pages
  // than frames forces dirty evictions), then reads them all back (page-ins
  // of the evicted ones).
  void PageThrough(uint64_t pages) {
    Pid pid = 0;
    ASSERT_TRUE(engine_->CreateProcess("metrics-test", &pid).ok());
    MmapArgs args;
    args.length = pages * kPageSize;
    uint64_t addr = 0;
    Status s = engine_->Mmap(pid, args, &addr);
    ASSERT_TRUE(s.ok()) << s.ToString();
    for (uint64_t i = 0; i < pages; ++i) {
      const std::string data(kPageSize, static_cast<char>('a' + i % 26));
      s = engine_->Write(pid, addr + i * kPageSize, data);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    std::string back(kPageSize, '\0');
    for (uint64_t i = 0; i < pages; ++i) {
      s = engine_->Read(pid, addr + i * kPageSize, kPageSize, back.data());
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(back, std::string(kPageSize, static_cast<char>('a' + i % 26))) << "page " << i;
    }
  }

  storage::TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace memserver::metrics
