// KeyIndex: linear probing with backward-shift deletion over ids whose keys
// live in the caller's array.
#include "server/frames/key_index.h"

#include <algorithm>
#include <random>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

namespace memserver {
namespace {

class KeyIndexTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kMaxIds = 8;  // 16 slots

  KeyIndexTest() : keys_(kMaxIds, 0), index_(kMaxIds, keys_.data()) {}

  // The first `n` keys from `from` on whose probe run starts at `home`.
  std::vector<uint64_t> KeysWithHome(size_t home, int n, uint64_t from = 1) {
    std::vector<uint64_t> out;
    for (uint64_t k = from; static_cast<int>(out.size()) < n; ++k) {
      if (index_.HomeSlot(k) == home) out.push_back(k);
    }
    return out;
  }

  void Put(uint32_t id, uint64_t key) {
    keys_[id] = key;
    index_.Insert(id);
  }

  size_t Last() const { return index_.slot_count() - 1; }

  std::vector<uint64_t> keys_;
  KeyIndex index_;
};

TEST_F(KeyIndexTest, TableHasAtLeastTwiceMaxIdsSlotsAndAPowerOfTwo) {
  EXPECT_EQ(16u, index_.slot_count());
  std::vector<uint64_t> k(3001);
  EXPECT_EQ(8192u, KeyIndex(3000, k.data()).slot_count());
  EXPECT_EQ(8192u, KeyIndex(4096, k.data()).slot_count());
  EXPECT_EQ(2u, KeyIndex(0, k.data()).slot_count());  // max_ids is at least 1
}

TEST_F(KeyIndexTest, FindsInsertedKeysAndNotOthers) {
  for (uint32_t id = 0; id < kMaxIds; ++id) Put(id, 1000 + 7 * id);
  EXPECT_EQ(kMaxIds, index_.size());
  for (uint32_t id = 0; id < kMaxIds; ++id) EXPECT_EQ(id, index_.Find(1000 + 7 * id));
  EXPECT_EQ(kNilIndex, index_.Find(999));
  EXPECT_EQ(kNilIndex, index_.Find(1001));
}

TEST_F(KeyIndexTest, InsertOfAHeldKeyReplacesItsId) {
  Put(0, 42);
  Put(1, 42);
  EXPECT_EQ(1u, index_.size());
  EXPECT_EQ(1u, index_.Find(42));
}

TEST_F(KeyIndexTest, EraseOfAReplacedIdLeavesTheNewMapping) {
  Put(0, 42);
  Put(1, 42);
  EXPECT_FALSE(index_.Erase(0));
  EXPECT_EQ(1u, index_.Find(42));
  EXPECT_TRUE(index_.Erase(1));
  EXPECT_EQ(kNilIndex, index_.Find(42));
  EXPECT_EQ(0u, index_.size());
  EXPECT_FALSE(index_.Erase(1));
}

TEST_F(KeyIndexTest, ProbeRunWrapsAroundTheTableEnd) {
  const std::vector<uint64_t> k = KeysWithHome(Last(), 3);
  for (uint32_t id = 0; id < 3; ++id) Put(id, k[id]);
  EXPECT_EQ(0u, index_.IdAt(Last()));
  EXPECT_EQ(1u, index_.IdAt(0));
  EXPECT_EQ(2u, index_.IdAt(1));
  for (uint32_t id = 0; id < 3; ++id) EXPECT_EQ(id, index_.Find(k[id]));
}

TEST_F(KeyIndexTest, EraseShiftsTheRunBackAcrossTheTableEnd) {
  const std::vector<uint64_t> k = KeysWithHome(Last(), 3);
  for (uint32_t id = 0; id < 3; ++id) Put(id, k[id]);
  ASSERT_TRUE(index_.Erase(0));
  EXPECT_EQ(1u, index_.IdAt(Last()));  // no tombstone: the run moved up
  EXPECT_EQ(2u, index_.IdAt(0));
  EXPECT_EQ(kNilIndex, index_.IdAt(1));
  EXPECT_EQ(kNilIndex, index_.Find(k[0]));
  EXPECT_EQ(1u, index_.Find(k[1]));
  EXPECT_EQ(2u, index_.Find(k[2]));
}

TEST_F(KeyIndexTest, EraseDoesNotShiftAnEntryBeforeItsHome) {
  // Slots s, s+1, s+2 hold a (home s), b (home s+1), c (home s). Erasing a
  // must move c into s but leave b, which would be unreachable before its home.
  const size_t s = 5;
  const uint64_t a = KeysWithHome(s, 1)[0];
  const uint64_t b = KeysWithHome(s + 1, 1)[0];
  const uint64_t c = KeysWithHome(s, 1, a + 1)[0];
  Put(0, a);
  Put(1, b);
  Put(2, c);
  ASSERT_EQ(2u, index_.IdAt(s + 2));
  ASSERT_TRUE(index_.Erase(0));
  EXPECT_EQ(2u, index_.IdAt(s));
  EXPECT_EQ(1u, index_.IdAt(s + 1));
  EXPECT_EQ(kNilIndex, index_.IdAt(s + 2));
  EXPECT_EQ(1u, index_.Find(b));
  EXPECT_EQ(2u, index_.Find(c));
}

TEST_F(KeyIndexTest, EraseFromTheMiddleOfARunKeepsTheRestReachable) {
  const std::vector<uint64_t> k = KeysWithHome(Last() - 1, 5);  // slots 14, 15, 0, 1, 2
  for (uint32_t id = 0; id < 5; ++id) Put(id, k[id]);
  ASSERT_TRUE(index_.Erase(2));
  for (uint32_t id : {0u, 1u, 3u, 4u}) EXPECT_EQ(id, index_.Find(k[id])) << id;
  EXPECT_EQ(kNilIndex, index_.IdAt(2));  // the run is one slot shorter
  EXPECT_EQ(4u, index_.size());
}

TEST(KeyIndexSpreadTest, SequentialKeysAtFullLoadLeaveOnlyShortRuns) {
  constexpr uint32_t kIds = 4096;  // 8192 slots, load 0.5
  std::vector<uint64_t> keys(kIds);
  KeyIndex index(kIds, keys.data());
  for (uint32_t id = 0; id < kIds; ++id) {
    keys[id] = 1000000 + id;
    index.Insert(id);
  }
  size_t longest = 0, run = 0;
  for (size_t s = 0; s < 2 * index.slot_count(); ++s) {  // twice: runs may wrap
    run = index.IdAt(s % index.slot_count()) == kNilIndex ? 0 : run + 1;
    longest = std::max(longest, run);
  }
  EXPECT_LE(longest, 2u);  // splitmix64 as the hash: 22
}

TEST(KeyIndexRandomTest, MatchesAnUnorderedMapThroughRandomChurnAtFullLoad) {
  constexpr uint32_t kIds = 64;
  std::vector<uint64_t> keys(kIds);
  KeyIndex index(kIds, keys.data());
  std::unordered_map<uint64_t, uint32_t> model;
  std::vector<bool> held(kIds, false);
  std::mt19937_64 rng(7);
  for (int step = 0; step < 200000; ++step) {
    const uint32_t id = rng() % kIds;
    if (held[id]) {
      ASSERT_TRUE(index.Erase(id));
      model.erase(keys[id]);
      held[id] = false;
    } else {
      // Small key range: keys collide in home slots and reappear often.
      uint64_t key;
      do key = rng() % 256; while (model.count(key));
      keys[id] = key;
      index.Insert(id);
      model[key] = id;
      held[id] = true;
    }
    ASSERT_EQ(model.size(), index.size());
    const uint64_t probe = rng() % 256;
    auto it = model.find(probe);
    ASSERT_EQ(it == model.end() ? kNilIndex : it->second, index.Find(probe)) << step;
  }
  for (const auto& [key, id] : model) EXPECT_EQ(id, index.Find(key));
}

}  // namespace
}  // namespace memserver
