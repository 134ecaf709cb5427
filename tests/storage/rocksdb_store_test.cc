// Behaviours of the RocksDB store while open: reads, writes, batches,
// Clear, CountKeys, Scan, stats and concurrent use.
#include <algorithm>
#include <latch>
#include <string>
#include <vector>
#include <thread>

#include <gtest/gtest.h>

#include "storage/backing_store.h"
#include "tests/storage/rocksdb_store_fixture.h"

namespace memserver::storage {
namespace {

TEST_F(RocksDbStoreTest, PutThenGetReturnsValueInEverySpace) {
  for (Space space : kAllSpaces) {
    const std::string key = std::string("key-") + SpaceName(space);
    const std::string value = PageValue(static_cast<int>(space));
    ASSERT_TRUE(store_->Put(space, key, value).ok());
    EXPECT_EQ(MustGet(space, key), value);
  }
}

TEST_F(RocksDbStoreTest, SpacesAreIndependent) {
  const std::string key = EncodeU64Key(42);
  for (Space space : kAllSpaces) {
    ASSERT_TRUE(store_->Put(space, key, SpaceName(space)).ok());
  }
  for (Space space : kAllSpaces) EXPECT_EQ(MustGet(space, key), SpaceName(space));

  ASSERT_TRUE(store_->Delete(Space::kFiles, key).ok());
  std::string v;
  EXPECT_EQ(store_->Get(Space::kFiles, key, &v).code(), StatusCode::kNotFound);
  EXPECT_EQ(MustGet(Space::kSwap, key), "swap");
  EXPECT_EQ(MustGet(Space::kMeta, key), "meta");
}

TEST_F(RocksDbStoreTest, GetMissingKeyIsNotFound) {
  std::string v = "untouched";
  EXPECT_EQ(store_->Get(Space::kSwap, "missing", &v).code(), StatusCode::kNotFound);
  EXPECT_EQ(v, "untouched");
  char buf[8];
  EXPECT_EQ(store_->GetInto(Space::kSwap, "missing", buf, sizeof(buf)).code(),
            StatusCode::kNotFound);
}

TEST_F(RocksDbStoreTest, GetIntoCopiesValueIntoBuffer) {
  const std::string value = PageValue(7);
  ASSERT_TRUE(store_->Put(Space::kSwap, EncodeU64Key(7), value).ok());
  std::string buf(value.size(), '\0');
  ASSERT_TRUE(store_->GetInto(Space::kSwap, EncodeU64Key(7), buf.data(), buf.size()).ok());
  EXPECT_EQ(buf, value);
}

TEST_F(RocksDbStoreTest, GetIntoSizeMismatchIsDataLoss) {
  ASSERT_TRUE(store_->Put(Space::kSwap, "k", PageValue(1, 100)).ok());
  std::string small(99, 'x'), large(101, 'x');
  Status s = store_->GetInto(Space::kSwap, "k", small.data(), small.size());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_NE(s.message().find("100"), std::string::npos) << s.message();
  EXPECT_EQ(store_->GetInto(Space::kSwap, "k", large.data(), large.size()).code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(large, std::string(101, 'x'));  // nothing copied on mismatch
}

TEST_F(RocksDbStoreTest, DeleteRemovesKey) {
  ASSERT_TRUE(store_->Put(Space::kMeta, "k", "v").ok());
  ASSERT_TRUE(store_->Delete(Space::kMeta, "k").ok());
  std::string v;
  EXPECT_EQ(store_->Get(Space::kMeta, "k", &v).code(), StatusCode::kNotFound);
  // Deleting an absent key is not an error.
  EXPECT_TRUE(store_->Delete(Space::kMeta, "never-written").ok());
}

TEST_F(RocksDbStoreTest, MultiGetReturnsHitsAndMissesInKeyOrder) {
  for (uint64_t id : {1, 3, 5}) {
    ASSERT_TRUE(store_->Put(Space::kSwap, EncodeU64Key(id), PageValue(id)).ok());
  }
  // Unsorted, with a duplicate: results follow the order of `keys`.
  std::vector<std::string> keys = {EncodeU64Key(5), EncodeU64Key(2), EncodeU64Key(1),
                                   EncodeU64Key(4), EncodeU64Key(3), EncodeU64Key(5)};
  std::vector<std::string> values;
  std::vector<Status> statuses;
  store_->MultiGet(Space::kSwap, keys, &values, &statuses);
  ASSERT_EQ(values.size(), keys.size());
  ASSERT_EQ(statuses.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const uint64_t id = DecodeU64Key(keys[i]);
    if (id % 2 == 1) {
      EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].ToString();
      EXPECT_EQ(values[i], PageValue(id)) << i;
    } else {
      EXPECT_EQ(statuses[i].code(), StatusCode::kNotFound) << i;
    }
  }
}

TEST_F(RocksDbStoreTest, MultiGetReadsOnlyTheNamedSpace) {
  ASSERT_TRUE(store_->Put(Space::kFiles, "k", "files").ok());
  std::vector<std::string> values;
  std::vector<Status> statuses;
  store_->MultiGet(Space::kSwap, {"k"}, &values, &statuses);
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_EQ(statuses[0].code(), StatusCode::kNotFound);
  store_->MultiGet(Space::kSwap, {}, &values, &statuses);
  EXPECT_TRUE(values.empty());
  EXPECT_TRUE(statuses.empty());
}

TEST_F(RocksDbStoreTest, WriteBatchAppliesPutsAndDeletesAcrossSpaces) {
  ASSERT_TRUE(store_->Put(Space::kSwap, "old", "x").ok());
  ASSERT_TRUE(store_->Put(Space::kMeta, "old", "x").ok());
  const std::string page = PageValue(9);
  WriteBatch batch;
  batch.Put(Space::kSwap, "new", page);
  batch.Put(Space::kFiles, "inode", "i");
  batch.Delete(Space::kSwap, "old");
  batch.Delete(Space::kMeta, "old");
  batch.Put(Space::kMeta, "checkpoint", "c");
  ASSERT_TRUE(store_->Write(batch, /*sync=*/true).ok());

  EXPECT_EQ(MustGet(Space::kSwap, "new"), page);
  EXPECT_EQ(MustGet(Space::kFiles, "inode"), "i");
  EXPECT_EQ(MustGet(Space::kMeta, "checkpoint"), "c");
  std::string v;
  EXPECT_EQ(store_->Get(Space::kSwap, "old", &v).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(Space::kMeta, "old", &v).code(), StatusCode::kNotFound);
}

TEST_F(RocksDbStoreTest, WriteBatchLaterOpWinsOnSameKey) {
  WriteBatch batch;
  batch.Put(Space::kSwap, "k", "first");
  batch.Delete(Space::kSwap, "k");
  batch.Put(Space::kSwap, "k", "last");
  batch.Put(Space::kSwap, "gone", "x");
  batch.Delete(Space::kSwap, "gone");
  ASSERT_TRUE(store_->Write(batch, false).ok());
  EXPECT_EQ(MustGet(Space::kSwap, "k"), "last");
  EXPECT_EQ(Count(Space::kSwap), 1u);
}

TEST_F(RocksDbStoreTest, WriteBatchWithInvalidSpaceAppliesNothing) {
  WriteBatch batch;
  batch.Put(Space::kSwap, "a", "1");
  batch.Put(static_cast<Space>(7), "b", "2");
  EXPECT_EQ(store_->Write(batch, false).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Count(Space::kSwap), 0u);
}

TEST_F(RocksDbStoreTest, UnknownSpaceIsInvalidArgument) {
  const auto bad = static_cast<Space>(kNumSpaces);
  std::string v;
  char buf[1];
  uint64_t n;
  EXPECT_EQ(store_->Get(bad, "k", &v).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetInto(bad, "k", buf, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Put(bad, "k", "v").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Delete(bad, "k").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CountKeys(bad, &n).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Clear(static_cast<Space>(-1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->Scan(bad, "", [](auto, auto) { return true; }).code(),
            StatusCode::kInvalidArgument);
  std::vector<std::string> values;
  std::vector<Status> statuses;
  store_->MultiGet(bad, {"a", "b"}, &values, &statuses);
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[1].code(), StatusCode::kInvalidArgument);
}

TEST_F(RocksDbStoreTest, EmptyWriteBatchSucceeds) {
  EXPECT_TRUE(store_->Write(WriteBatch(), true).ok());
  EXPECT_EQ(store_->GetStats().puts, 0u);
}

TEST_F(RocksDbStoreTest, ClearEmptiesOnlyThatSpace) {
  for (uint64_t i = 0; i < 100; ++i) {
    for (Space space : kAllSpaces) ASSERT_TRUE(store_->Put(space, EncodeU64Key(i), "v").ok());
  }
  ASSERT_TRUE(store_->Flush().ok());  // some keys in SST files, some in memtables
  for (uint64_t i = 100; i < 150; ++i) {
    for (Space space : kAllSpaces) ASSERT_TRUE(store_->Put(space, EncodeU64Key(i), "v").ok());
  }
  ASSERT_TRUE(store_->Clear(Space::kSwap).ok());
  EXPECT_EQ(Count(Space::kSwap), 0u);
  EXPECT_EQ(Count(Space::kFiles), 150u);
  EXPECT_EQ(Count(Space::kMeta), 150u);
  std::string v;
  EXPECT_EQ(store_->Get(Space::kSwap, EncodeU64Key(149), &v).code(), StatusCode::kNotFound);
  EXPECT_EQ(MustGet(Space::kFiles, EncodeU64Key(149)), "v");
}

TEST_F(RocksDbStoreTest, ClearRemovesKeysOfAnyBytes) {
  const std::vector<std::string> keys = {
      std::string(),                      // the smallest key
      std::string(1, '\0'),               // sorts right after it
      std::string("\xff", 1),             // a single high byte
      std::string(64, '\xff'),            // a long run of high bytes: the last key
      std::string("\x7f\x80 mixed", 8),
      EncodeU64Key(UINT64_MAX),
  };
  for (const auto& k : keys) ASSERT_TRUE(store_->Put(Space::kFiles, k, "v").ok());
  ASSERT_EQ(Count(Space::kFiles), keys.size());
  ASSERT_TRUE(store_->Clear(Space::kFiles).ok());
  EXPECT_EQ(Count(Space::kFiles), 0u);
  for (const auto& k : keys) {
    std::string v;
    EXPECT_EQ(store_->Get(Space::kFiles, k, &v).code(), StatusCode::kNotFound);
  }
}

TEST_F(RocksDbStoreTest, ClearOfSpaceHoldingOnlyEmptyKey) {
  ASSERT_TRUE(store_->Put(Space::kMeta, "", "v").ok());
  ASSERT_TRUE(store_->Clear(Space::kMeta).ok());
  EXPECT_EQ(Count(Space::kMeta), 0u);
}

TEST_F(RocksDbStoreTest, ClearOfEmptySpaceSucceeds) {
  EXPECT_TRUE(store_->Clear(Space::kSwap).ok());
  EXPECT_EQ(Count(Space::kSwap), 0u);
}

TEST_F(RocksDbStoreTest, KeysWrittenAfterClearAreVisible) {
  ASSERT_TRUE(store_->Put(Space::kSwap, EncodeU64Key(1), "old").ok());
  ASSERT_TRUE(store_->Clear(Space::kSwap).ok());
  ASSERT_TRUE(store_->Put(Space::kSwap, EncodeU64Key(1), "new").ok());
  ASSERT_TRUE(store_->Put(Space::kSwap, EncodeU64Key(0), "below").ok());
  EXPECT_EQ(MustGet(Space::kSwap, EncodeU64Key(1)), "new");
  EXPECT_EQ(Count(Space::kSwap), 2u);
}

TEST_F(RocksDbStoreTest, CountKeysCountsDistinctLiveKeys) {
  EXPECT_EQ(Count(Space::kFiles), 0u);
  for (uint64_t i = 0; i < 20; ++i) {
    ASSERT_TRUE(store_->Put(Space::kFiles, EncodeU64Key(i), "a").ok());
  }
  for (uint64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->Put(Space::kFiles, EncodeU64Key(i), "overwrite").ok());
  }
  for (uint64_t i = 15; i < 20; ++i) ASSERT_TRUE(store_->Delete(Space::kFiles, EncodeU64Key(i)).ok());
  EXPECT_EQ(Count(Space::kFiles), 15u);
  EXPECT_EQ(Count(Space::kSwap), 0u);
}

TEST_F(RocksDbStoreTest, ScanVisitsKeysWithPrefixInOrder) {
  for (const char* k : {"file/2", "file/10", "file/1", "inode/1", "fil", "file0", "a"}) {
    ASSERT_TRUE(store_->Put(Space::kFiles, k, std::string("v:") + k).ok());
  }
  std::vector<std::string> seen;
  ASSERT_TRUE(store_
                  ->Scan(Space::kFiles, "file/",
                         [&](std::string_view k, std::string_view v) {
                           EXPECT_EQ(v, "v:" + std::string(k));
                           seen.emplace_back(k);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"file/1", "file/10", "file/2"}));
}

TEST_F(RocksDbStoreTest, ScanStopsWhenCallbackReturnsFalse) {
  for (uint64_t i = 0; i < 10; ++i) {
    ASSERT_TRUE(store_->Put(Space::kSwap, EncodeU64Key(i), "v").ok());
  }
  std::vector<uint64_t> seen;
  ASSERT_TRUE(store_
                  ->Scan(Space::kSwap, "",
                         [&](std::string_view k, std::string_view) {
                           seen.push_back(DecodeU64Key(k));
                           return seen.size() < 3;
                         })
                  .ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{0, 1, 2}));
}

TEST_F(RocksDbStoreTest, ScanWithEmptyPrefixVisitsWholeSpaceOnly) {
  ASSERT_TRUE(store_->Put(Space::kMeta, "m1", "v").ok());
  ASSERT_TRUE(store_->Put(Space::kMeta, "m2", "v").ok());
  ASSERT_TRUE(store_->Put(Space::kSwap, "s1", "v").ok());
  size_t n = 0;
  ASSERT_TRUE(store_->Scan(Space::kMeta, "", [&](std::string_view k, std::string_view) {
    EXPECT_EQ(k[0], 'm');
    ++n;
    return true;
  }).ok());
  EXPECT_EQ(n, 2u);
}

TEST_F(RocksDbStoreTest, ScanReturnsKeysInNumericOrderOfEncodedIds) {
  const std::vector<uint64_t> ids = {UINT64_MAX, 256, 0, 1ull << 40, 255, 1, 65536};
  for (uint64_t id : ids) ASSERT_TRUE(store_->Put(Space::kSwap, EncodeU64Key(id), "v").ok());
  std::vector<uint64_t> seen;
  ASSERT_TRUE(store_->Scan(Space::kSwap, "", [&](std::string_view k, std::string_view) {
    seen.push_back(DecodeU64Key(k));
    return true;
  }).ok());
  std::vector<uint64_t> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(seen, sorted);
}

TEST_F(RocksDbStoreTest, StatsCountOperationsAndValueBytes) {
  ASSERT_TRUE(store_->Put(Space::kSwap, "a", std::string(100, 'a')).ok());
  const std::string b(50, 'b');
  WriteBatch batch;
  batch.Put(Space::kFiles, "b", b);
  batch.Delete(Space::kSwap, "x");
  ASSERT_TRUE(store_->Write(batch, false).ok());
  ASSERT_TRUE(store_->Delete(Space::kSwap, "y").ok());
  std::string v;
  ASSERT_TRUE(store_->Get(Space::kSwap, "a", &v).ok());
  char buf[50];
  ASSERT_TRUE(store_->GetInto(Space::kFiles, "b", buf, sizeof(buf)).ok());
  EXPECT_EQ(store_->Get(Space::kSwap, "missing", &v).code(), StatusCode::kNotFound);
  std::vector<std::string> values;
  std::vector<Status> statuses;
  store_->MultiGet(Space::kSwap, {"a", "missing"}, &values, &statuses);

  const StoreStats st = store_->GetStats();
  EXPECT_EQ(st.puts, 2u);
  EXPECT_EQ(st.deletes, 2u);
  EXPECT_EQ(st.bytes_written, 150u);
  EXPECT_EQ(st.gets, 5u);              // 3 single reads + 2 keys of MultiGet
  EXPECT_EQ(st.bytes_read, 250u);      // 100 + 50 + 100; misses read nothing
}

TEST_F(RocksDbStoreTest, ConcurrentWritersAndReadersSeeTheirOwnAndOthersData) {
  constexpr int kThreads = 8;
  constexpr uint64_t kKeysPerThread = 300;
  constexpr size_t kValueSize = 512;
  auto id_of = [](int t, uint64_t i) { return static_cast<uint64_t>(t) * 1000000 + i; };
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      std::string buf(kValueSize, '\0');
      for (uint64_t i = 0; i < kKeysPerThread && errors[t].empty(); ++i) {
        const uint64_t id = id_of(t, i);
        const Space space = kAllSpaces[i % 3];
        const std::string value = PageValue(id, kValueSize);
        Status s;
        if (i % 2 == 0) {
          s = store_->Put(space, EncodeU64Key(id), value);
        } else {
          WriteBatch b;
          b.Put(space, EncodeU64Key(id), value);
          s = store_->Write(b, /*sync=*/i % 10 == 1);
        }
        if (!s.ok()) errors[t] = "write: " + s.ToString();
        s = store_->GetInto(space, EncodeU64Key(id), buf.data(), buf.size());
        if (!s.ok() || buf != value) errors[t] = "own read: " + s.ToString();
        // A neighbour's key is either not written yet or complete.
        const uint64_t other = id_of((t + 1) % kThreads, i);
        s = store_->GetInto(space, EncodeU64Key(other), buf.data(), buf.size());
        if (s.ok() && buf != PageValue(other, kValueSize)) errors[t] = "torn neighbour read";
        if (!s.ok() && s.code() != StatusCode::kNotFound) errors[t] = "neighbour: " + s.ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;

  uint64_t total = 0;
  for (Space space : kAllSpaces) total += Count(space);
  EXPECT_EQ(total, kThreads * kKeysPerThread);
  for (int t = 0; t < kThreads; ++t) {
    for (uint64_t i = 0; i < kKeysPerThread; ++i) {
      ASSERT_EQ(MustGet(kAllSpaces[i % 3], EncodeU64Key(id_of(t, i))),
                PageValue(id_of(t, i), kValueSize));
    }
  }
  EXPECT_EQ(store_->GetStats().puts, kThreads * kKeysPerThread);
}

}  // namespace
}  // namespace memserver::storage
