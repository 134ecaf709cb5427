// CLOCK: second chance, new pages start with a clear bit, bounded sweeps.
#include <gtest/gtest.h>

#include "server/frames/clock_policy.h"

namespace memserver {
namespace {

const auto kAcceptAll = [](FrameId) { return true; };

TEST(ClockPolicyTest, NewPageStartsWithClearBitAndIsEvictedFirst) {
  ClockPolicy clock(3);
  clock.Insert(0, 10);
  clock.Insert(1, 11);
  clock.Insert(2, 12);
  FrameId f;
  ASSERT_TRUE(clock.Victim(kAcceptAll, &f));
  EXPECT_EQ(0u, f);  // the hand is at frame 0 and its bit is clear
}

TEST(ClockPolicyTest, ClockGivesSecondChance) {
  ClockPolicy clock(3);
  for (FrameId f = 0; f < 3; ++f) clock.Insert(f, 10 + f);
  clock.Touch(0);
  clock.Touch(1);
  FrameId f;
  ASSERT_TRUE(clock.Victim(kAcceptAll, &f));
  EXPECT_EQ(2u, f);  // 0 and 1 lose their bits and survive
  clock.Insert(2, 20);
  ASSERT_TRUE(clock.Victim(kAcceptAll, &f));
  EXPECT_EQ(0u, f);  // hand wrapped: 0's second chance is used up
  ASSERT_TRUE(clock.Victim(kAcceptAll, &f));
  EXPECT_EQ(1u, f);
}

TEST(ClockPolicyTest, HandResumesAfterTheVictim) {
  ClockPolicy clock(4);
  for (FrameId f = 0; f < 4; ++f) clock.Insert(f, f);
  FrameId f;
  ASSERT_TRUE(clock.Victim(kAcceptAll, &f));
  EXPECT_EQ(0u, f);
  clock.Insert(0, 100);  // refilled in place, bit clear, behind the hand
  ASSERT_TRUE(clock.Victim(kAcceptAll, &f));
  EXPECT_EQ(1u, f);
}

TEST(ClockPolicyTest, RejectedFrameKeepsItsPlace) {
  ClockPolicy clock(3);
  for (FrameId f = 0; f < 3; ++f) clock.Insert(f, f);
  FrameId f;
  ASSERT_TRUE(clock.Victim([](FrameId f) { return f != 0; }, &f));
  EXPECT_EQ(1u, f);
  ASSERT_TRUE(clock.Victim(kAcceptAll, &f));
  EXPECT_EQ(2u, f);
  ASSERT_TRUE(clock.Victim(kAcceptAll, &f));
  EXPECT_EQ(0u, f);
}

TEST(ClockPolicyTest, VictimGivesUpAfterThreeTurns) {
  ClockPolicy clock(8);
  for (FrameId f = 0; f < 8; ++f) {
    clock.Insert(f, f);
    clock.Touch(f);
  }
  int offers = 0;
  FrameId f;
  EXPECT_FALSE(clock.Victim(
      [&](FrameId) {
        ++offers;
        return false;
      },
      &f));
  EXPECT_EQ(16, offers);  // turn 1 clears the bits, turns 2 and 3 offer all
}

}  // namespace
}  // namespace memserver
