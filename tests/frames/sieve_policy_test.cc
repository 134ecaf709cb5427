// SIEVE (Zhang et al., NSDI'24): visited pages keep their place, new pages
// enter at the head, the hand moves towards the head and wraps.
#include <vector>

#include <gtest/gtest.h>

#include "server/frames/sieve_policy.h"

namespace memserver {
namespace {

const auto kAcceptAll = [](FrameId) { return true; };

TEST(SievePolicyTest, HandSkipsVisitedPagesAndContinuesTowardsNewerOnes) {
  SievePolicy sieve(4);
  for (FrameId f = 0; f < 4; ++f) sieve.Insert(f, f);  // queue: 0 (tail) .. 3 (head)
  sieve.Touch(0);
  sieve.Touch(1);
  std::vector<FrameId> victims;
  FrameId f;
  ASSERT_TRUE(sieve.Victim(kAcceptAll, &f));
  victims.push_back(f);  // 2: 0 and 1 were visited
  sieve.Insert(2, 20);   // enters at the head, after 3
  ASSERT_TRUE(sieve.Victim(kAcceptAll, &f));
  victims.push_back(f);  // 3: the hand stayed just past the last victim
  sieve.Insert(3, 30);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(sieve.Victim(kAcceptAll, &f));
    victims.push_back(f);
  }
  // The hand reaches the new pages 20 and 30 before wrapping to 0 and 1.
  EXPECT_EQ((std::vector<FrameId>{2, 3, 2, 3, 0, 1}), victims);
}

TEST(SievePolicyTest, RemovingThePageUnderTheHandMovesTheHand) {
  SievePolicy sieve(3);
  for (FrameId f = 0; f < 3; ++f) sieve.Insert(f, f);
  FrameId f;
  ASSERT_TRUE(sieve.Victim(kAcceptAll, &f));
  EXPECT_EQ(0u, f);  // the hand now rests on 1
  sieve.Remove(1);
  ASSERT_TRUE(sieve.Victim(kAcceptAll, &f));
  EXPECT_EQ(2u, f);
}

}  // namespace
}  // namespace memserver
