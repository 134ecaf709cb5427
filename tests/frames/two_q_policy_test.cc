// 2Q (Johnson & Shasha, VLDB'94): correlated hits in A1in do not protect a
// page; a page re-referenced after leaving A1in (A1out ghost) goes to Am and
// survives scans.
#include <gtest/gtest.h>

#include "tests/frames/mini_cache.h"

namespace memserver {
namespace {

TEST(TwoQPolicyTest, HitInA1inDoesNotProtectThePage) {
  testing::MiniCache cache("2q", 8);  // Kin = 2, Kout = 4
  cache.Access(1);
  EXPECT_TRUE(cache.Access(1));  // correlated reference: stays in FIFO order
  for (uint64_t k = 2; k <= 8; ++k) cache.Access(k);
  cache.Access(9);
  EXPECT_EQ(1u, cache.evicted());  // LRU would have evicted 2
}

TEST(TwoQPolicyTest, GhostHitGoesToAmAndSurvivesScans) {
  testing::MiniCache cache("2q", 8);
  for (uint64_t k = 1; k <= 9; ++k) cache.Access(k);  // 1 goes to A1out
  EXPECT_FALSE(cache.Access(1));                      // A1out hit: into Am
  for (uint64_t k = 100; k < 200; ++k) cache.Access(k);
  EXPECT_TRUE(cache.Access(1));
}

TEST(TwoQPolicyTest, GhostsAreForgottenBeyondKout) {
  testing::MiniCache cache("2q", 8);  // Kin = 2, Kout = 4
  for (uint64_t k = 1; k <= 8; ++k) cache.Access(k);
  for (uint64_t k = 100; k < 106; ++k) cache.Access(k);  // evicts 1..6; A1out = 3 4 5 6
  cache.Access(6);  // still a ghost: into Am
  cache.Access(1);  // fell off A1out: a first-time page again, into A1in
  for (uint64_t k = 200; k < 220; ++k) cache.Access(k);
  EXPECT_TRUE(cache.Resident(6));
  EXPECT_FALSE(cache.Resident(1));
}

}  // namespace
}  // namespace memserver
