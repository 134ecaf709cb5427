// Behaviours of the RocksDB store across close and reopen, its use of the
// write-ahead log, and its open-time errors.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/backing_store.h"
#include "tests/storage/rocksdb_store_fixture.h"

namespace memserver::storage {
namespace {

TEST_F(RocksDbStoreTest, ClearSurvivesReopen) {
  for (uint64_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(store_->Put(Space::kSwap, EncodeU64Key(i), "v").ok());
  }
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(store_->Clear(Space::kSwap).ok());
  Reopen();
  EXPECT_EQ(Count(Space::kSwap), 0u);
}

TEST_F(RocksDbStoreTest, DataSurvivesReopenAfterFlush) {
  // Swap written without the WAL (sync=false), files and meta with it.
  for (uint64_t i = 0; i < 50; ++i) {
    const std::string page = PageValue(i);  // borrowed by the batch until Write returns
    WriteBatch batch;
    batch.Put(Space::kSwap, EncodeU64Key(i), page);
    ASSERT_TRUE(store_->Write(batch, /*sync=*/false).ok());
  }
  ASSERT_TRUE(store_->Put(Space::kFiles, "inode/1", "file").ok());
  ASSERT_TRUE(store_->Put(Space::kMeta, "checkpoint", "meta").ok());
  ASSERT_TRUE(store_->Flush().ok());
  Reopen();
  EXPECT_EQ(Count(Space::kSwap), 50u);
  for (uint64_t i = 0; i < 50; ++i) EXPECT_EQ(MustGet(Space::kSwap, EncodeU64Key(i)), PageValue(i));
  EXPECT_EQ(MustGet(Space::kFiles, "inode/1"), "file");
  EXPECT_EQ(MustGet(Space::kMeta, "checkpoint"), "meta");
}

TEST_F(RocksDbStoreTest, SwapWrittenWithoutWalSurvivesCleanClose) {
  // No Flush: closing the store flushes memtables holding unlogged data.
  ASSERT_TRUE(store_->Put(Space::kSwap, EncodeU64Key(3), PageValue(3)).ok());
  Reopen();
  EXPECT_EQ(MustGet(Space::kSwap, EncodeU64Key(3)), PageValue(3));
}

// Swap is meaningless after a crash, so unsynced swap writes do not pay for
// the write-ahead log; files and meta, and sync batches, do.
TEST_F(RocksDbStoreTest, OnlyUnsyncedSwapWritesSkipTheLog) {
  const std::string page = PageValue(1);
  const uint64_t before = WalBytes();
  for (uint64_t i = 0; i < 64; ++i) {
    ASSERT_TRUE(store_->Put(Space::kSwap, EncodeU64Key(i), page).ok());
  }
  EXPECT_LT(WalBytes() - before, page.size());  // 256 KiB of swap, not logged

  const uint64_t mid = WalBytes();
  for (uint64_t i = 0; i < 64; ++i) {
    ASSERT_TRUE(store_->Put(Space::kFiles, EncodeU64Key(i), page).ok());
  }
  EXPECT_GE(WalBytes() - mid, 64 * page.size());

  const uint64_t last = WalBytes();
  WriteBatch batch;
  batch.Put(Space::kSwap, EncodeU64Key(1000), page);
  ASSERT_TRUE(store_->Write(batch, /*sync=*/true).ok());
  EXPECT_GE(WalBytes() - last, page.size());
}

TEST_F(RocksDbStoreTest, DestroyExistingStartsEmpty) {
  ASSERT_TRUE(store_->Put(Space::kFiles, "k", "v").ok());
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(Open(/*destroy_existing=*/true).ok());
  EXPECT_EQ(Count(Space::kFiles), 0u);
  ASSERT_TRUE(store_->Put(Space::kFiles, "k2", "v").ok());
  EXPECT_EQ(MustGet(Space::kFiles, "k2"), "v");
}

TEST_F(RocksDbStoreTest, OpenCreatesMissingParentDirectories) {
  std::unique_ptr<BackingStore> store;
  RocksDbOptions options;
  options.path = dir_.path() + "/a/b/db";
  Status s = OpenRocksDbStore(options, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(store->Put(Space::kMeta, "k", "v").ok());
}

TEST_F(RocksDbStoreTest, DestroyExistingOnMissingPathCreatesStore) {
  std::unique_ptr<BackingStore> store;
  RocksDbOptions options;
  options.path = dir_.path() + "/fresh";
  options.destroy_existing = true;
  Status s = OpenRocksDbStore(options, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(store->Put(Space::kMeta, "k", "v").ok());
}

TEST_F(RocksDbStoreTest, OpenWithEmptyPathIsInvalidArgument) {
  std::unique_ptr<BackingStore> store;
  RocksDbOptions options;
  EXPECT_EQ(OpenRocksDbStore(options, &store).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store, nullptr);
}

TEST_F(RocksDbStoreTest, OpenUnderARegularFileFailsWithIOError) {
  const std::string file = dir_.path() + "/not-a-dir";
  std::ofstream(file) << "x";
  std::unique_ptr<BackingStore> store;
  RocksDbOptions options;
  options.path = file + "/db";
  Status s = OpenRocksDbStore(options, &store);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(s.errno_name(), "EIO");
  EXPECT_EQ(store, nullptr);
}

TEST_F(RocksDbStoreTest, SecondOpenOfSameDirectoryFails) {
  // RocksDB's LOCK file: one process, one store per directory.
  std::unique_ptr<BackingStore> second;
  RocksDbOptions options;
  options.path = dir_.path() + "/db";
  EXPECT_FALSE(OpenRocksDbStore(options, &second).ok());
  EXPECT_EQ(second, nullptr);
}

TEST_F(RocksDbStoreTest, UncompressedStoreRoundTrips) {
  store_.reset();
  RocksDbOptions options;
  options.path = dir_.path() + "/plain";
  options.compress = false;
  ASSERT_TRUE(OpenRocksDbStore(options, &store_).ok());
  ASSERT_TRUE(store_->Put(Space::kSwap, "k", PageValue(5)).ok());
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(MustGet(Space::kSwap, "k"), PageValue(5));
}

}  // namespace
}  // namespace memserver::storage
