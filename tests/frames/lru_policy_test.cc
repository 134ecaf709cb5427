// LRU: exact least-recently-used order, also when hits pass through the
// lock-free hit buffer and overflow it.
#include <list>
#include <random>
#include <unordered_map>

#include <gtest/gtest.h>

#include "server/frames/hit_buffer.h"
#include "server/frames/lru_policy.h"
#include "tests/frames/mini_cache.h"

namespace memserver {
namespace {

const auto kAcceptAll = [](FrameId) { return true; };

TEST(LruPolicyTest, LruEvictsLeastRecentlyUsed) {
  LruPolicy lru(4);
  for (FrameId f = 0; f < 4; ++f) lru.Insert(f, f);
  lru.Touch(0);
  lru.Touch(2);
  std::vector<FrameId> order;
  FrameId f;
  while (lru.Victim(kAcceptAll, &f)) order.push_back(f);
  EXPECT_EQ((std::vector<FrameId>{1, 3, 0, 2}), order);
}

TEST(LruPolicyTest, HitsBeyondTheBufferSizeAreAppliedInOrder) {
  constexpr uint32_t kFrames = 5 * HitBuffer::kSlotsPerStripe;
  LruPolicy lru(kFrames);
  for (FrameId f = 0; f < kFrames; ++f) lru.Insert(f, f);
  std::vector<FrameId> touched(kFrames);
  for (FrameId f = 0; f < kFrames; ++f) touched[f] = (f * 7) % kFrames;  // a permutation
  for (FrameId f : touched) lru.Touch(f);
  std::vector<FrameId> order;
  FrameId f;
  while (lru.Victim(kAcceptAll, &f)) order.push_back(f);
  EXPECT_EQ(touched, order);
}

// Textbook LRU on std::list, to compare whole runs against.
class ReferenceLru {
 public:
  explicit ReferenceLru(size_t capacity) : capacity_(capacity) {}
  bool Access(uint64_t key) {
    auto it = pos_.find(key);
    if (it != pos_.end()) {
      order_.splice(order_.begin(), order_, it->second);
      return true;
    }
    if (order_.size() == capacity_) {
      pos_.erase(order_.back());
      order_.pop_back();
    }
    order_.push_front(key);
    pos_[key] = order_.begin();
    return false;
  }

 private:
  size_t capacity_;
  std::list<uint64_t> order_;
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> pos_;
};

TEST(LruPolicyTest, MatchesTextbookLruOnRandomTrace) {
  testing::MiniCache cache("lru", 50);
  ReferenceLru reference(50);
  std::mt19937 rng(3);
  std::geometric_distribution<uint64_t> skewed(0.02);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t key = skewed(rng);
    ASSERT_EQ(reference.Access(key), cache.Access(key)) << "access " << i << " key " << key;
  }
}

}  // namespace
}  // namespace memserver
