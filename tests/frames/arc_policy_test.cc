// ARC (Megiddo & Modha, FAST'03): adaptation of p on ghost hits, directory
// cases, bounded history, Remove without ghost. Steps worked out by hand from
// the paper's Fig. 4 with c = 4.
#include <random>

#include <gtest/gtest.h>

#include "server/frames/arc_policy.h"
#include "tests/frames/mini_cache.h"

namespace memserver {
namespace {

class ArcPolicyTest : public ::testing::Test {
 protected:
  ArcPolicy::State State() { return static_cast<ArcPolicy*>(cache_.policy())->GetState(); }
  void Access(std::initializer_list<uint64_t> keys) {
    for (uint64_t k : keys) cache_.Access(k);
  }
  void ExpectState(uint32_t t1, uint32_t t2, uint32_t b1, uint32_t b2, double p) {
    const ArcPolicy::State s = State();
    EXPECT_EQ(t1, s.t1);
    EXPECT_EQ(t2, s.t2);
    EXPECT_EQ(b1, s.b1);
    EXPECT_EQ(b2, s.b2);
    EXPECT_DOUBLE_EQ(p, s.p);
  }

  testing::MiniCache cache_{"arc", 4};
};

TEST_F(ArcPolicyTest, HitMovesPageToFrequencyList) {
  Access({1, 2});
  ExpectState(2, 0, 0, 0, 0);
  EXPECT_TRUE(cache_.Access(1));
  ExpectState(1, 1, 0, 0, 0);
}

TEST_F(ArcPolicyTest, ArcGhostHitGrowsRecencyTarget) {
  Access({1, 2, 1, 3, 4});  // T1 = [2 3 4], T2 = [1]
  Access({5});              // REPLACE: |T1| > p = 0, so 2 goes to B1
  EXPECT_EQ(2u, cache_.evicted());
  ExpectState(3, 1, 1, 0, 0);
  EXPECT_FALSE(cache_.Access(2));  // B1 hit: p += max(1, |B2|/|B1|)
  EXPECT_EQ(3u, cache_.evicted());  // |T1| = 3 > p = 1: T1's LRU to B1
  ExpectState(2, 2, 1, 0, 1);
}

TEST_F(ArcPolicyTest, ArcGhostHitInB2ShrinksRecencyTarget) {
  Access({1, 2, 1, 3, 4, 5, 2, 6});  // p = 1, T1 = [5 6], T2 = [1 2], B1 = [3 4]
  ExpectState(2, 2, 2, 0, 1);
  Access({3});  // B1 hit: p = 2; |T1| = 2 = p, x not in B2: T2's LRU (1) to B2
  EXPECT_EQ(1u, cache_.evicted());
  ExpectState(2, 2, 1, 1, 2);
  Access({1});  // B2 hit: p -= max(1, |B1|/|B2|) = 1; |T1| = 2 > 1: evict 5
  EXPECT_EQ(5u, cache_.evicted());
  ExpectState(1, 3, 2, 0, 1);
}

TEST_F(ArcPolicyTest, FullRecencyListDropsItsLruWithoutGhost) {
  Access({1, 2, 3, 4, 5});  // case IV.A with |T1| = c
  EXPECT_EQ(1u, cache_.evicted());
  ExpectState(4, 0, 0, 0, 0);
  Access({1});  // not a ghost: plain miss into T1, p unchanged
  ExpectState(4, 0, 0, 0, 0);
}

TEST_F(ArcPolicyTest, RemoveDoesNotLeaveGhost) {
  Access({1, 2});
  cache_.Remove(1);
  ExpectState(1, 0, 0, 0, 0);
  cache_.AccessReusingFreed(1);  // a ghost would send it to T2 and move p
  ExpectState(2, 0, 0, 0, 0);
}

TEST(ArcPolicyHistoryTest, HistoryStaysBounded) {
  constexpr uint32_t c = 50;
  testing::MiniCache cache("arc", c);
  auto* arc = static_cast<ArcPolicy*>(cache.policy());
  std::mt19937 rng(11);
  std::geometric_distribution<uint64_t> skewed(0.01);
  for (int i = 0; i < 20000; ++i) {
    cache.Access(i % 7 == 0 ? 100000 + i : skewed(rng));  // some one-time keys
    const ArcPolicy::State s = arc->GetState();
    ASSERT_LE(s.t1 + s.t2, c);
    ASSERT_LE(s.t1 + s.b1, c) << "access " << i;
    ASSERT_LE(s.b1 + s.b2, c) << "access " << i;
    ASSERT_LE(s.t1 + s.t2 + s.b1 + s.b2, 2 * c);
    ASSERT_GE(s.p, 0.0);
    ASSERT_LE(s.p, c);
  }
}

// A caller that does not announce misses (no OnMiss) still gets the
// adaptation, one step late: at Insert.
TEST(ArcPolicyHistoryTest, WithoutOnMissGhostHitAdaptsAtInsert) {
  ArcPolicy arc(2);
  const auto accept_all = [](FrameId) { return true; };
  arc.Insert(0, 1);
  arc.Insert(1, 2);
  arc.Touch(0);  // key 1 to T2
  FrameId f;
  ASSERT_TRUE(arc.Victim(accept_all, &f));
  EXPECT_EQ(1u, f);  // key 2 from T1 to B1
  arc.Insert(1, 2);  // key 2 again: B1 ghost hit
  const ArcPolicy::State s = arc.GetState();
  EXPECT_DOUBLE_EQ(1.0, s.p);
  EXPECT_EQ(2u, s.t2);
  EXPECT_EQ(0u, s.b1);
}

}  // namespace
}  // namespace memserver
