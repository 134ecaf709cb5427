// Shared fixture of the RocksDB store tests: a real database in a fresh
// temporary directory per test, plus helpers to reopen it and inspect it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "storage/backing_store.h"
#include "tests/storage/temp_dir.h"

namespace memserver::storage {

inline constexpr Space kAllSpaces[] = {Space::kSwap, Space::kFiles, Space::kMeta};

// A page-sized value whose bytes depend on `seed`, so a wrong page is noticed.
inline std::string PageValue(uint64_t seed, size_t size = 4096) {
  std::string v(size, '\0');
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v[i] = static_cast<char>(x);
  }
  return v;
}

class RocksDbStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(Open().ok()); }

  Status Open(bool destroy_existing = false) {
    store_.reset();
    RocksDbOptions options;
    options.path = dir_.path() + "/db";
    options.destroy_existing = destroy_existing;
    options.write_buffer_bytes = 1 << 20;
    return OpenRocksDbStore(options, &store_);
  }

  // Closes the store (destructor) and opens the same directory again.
  void Reopen() { ASSERT_TRUE(Open().ok()); }

  uint64_t Count(Space space) {
    uint64_t n = UINT64_MAX;
    EXPECT_TRUE(store_->CountKeys(space, &n).ok());
    return n;
  }

  std::string MustGet(Space space, std::string_view key) {
    std::string v;
    Status s = store_->Get(space, key, &v);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  }

  // Bytes in the store's write-ahead log files (*.log in the DB directory).
  uint64_t WalBytes() const {
    uint64_t total = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path() + "/db")) {
      if (e.path().extension() == ".log") total += e.file_size();
    }
    return total;
  }

  TempDir dir_;
  std::unique_ptr<BackingStore> store_;
};

}  // namespace memserver::storage
