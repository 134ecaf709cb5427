// The contract of replacement_policy.h, checked for every policy the factory
// knows.
#include <algorithm>
#include <cctype>
#include <atomic>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server/frames/replacement_policy.h"

namespace memserver {
namespace {

constexpr uint32_t kCapacity = 64;

class PolicyContractTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    Status s = NewReplacementPolicy(GetParam(), kCapacity, &policy_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  void InsertAll() {
    for (FrameId f = 0; f < kCapacity; ++f) policy_->Insert(f, 1000 + f);
  }

  // Evicts with accept-all until Victim fails; returns the frames in order.
  std::vector<FrameId> DrainVictims() {
    std::vector<FrameId> out;
    FrameId f;
    while (out.size() <= 2 * kCapacity && policy_->Victim([](FrameId) { return true; }, &f)) {
      out.push_back(f);
    }
    return out;
  }

  std::unique_ptr<ReplacementPolicy> policy_;
};

TEST_P(PolicyContractTest, FactoryCreatesPolicyWithItsName) {
  EXPECT_EQ(GetParam(), policy_->Name());
}

TEST_P(PolicyContractTest, VictimOnEmptyPolicyReturnsFalse) {
  FrameId f = kNoFrame;
  EXPECT_FALSE(policy_->Victim([](FrameId) { return true; }, &f));
}

TEST_P(PolicyContractTest, VictimReturnsEveryTrackedFrameExactlyOnce) {
  InsertAll();
  std::mt19937 rng(7);
  for (int i = 0; i < 500; ++i) policy_->Touch(rng() % kCapacity);
  std::vector<FrameId> victims = DrainVictims();
  ASSERT_EQ(kCapacity, victims.size());
  std::sort(victims.begin(), victims.end());
  for (FrameId f = 0; f < kCapacity; ++f) EXPECT_EQ(f, victims[f]);
}

TEST_P(PolicyContractTest, VictimSkipsFramesCanEvictRejects) {
  InsertAll();
  for (FrameId f = 0; f < kCapacity; f += 3) policy_->Touch(f);
  std::set<FrameId> offered;
  FrameId victim = kNoFrame;
  ASSERT_TRUE(policy_->Victim(
      [&](FrameId f) {
        EXPECT_LT(f, kCapacity);
        offered.insert(f);
        return f == 37;
      },
      &victim));
  EXPECT_EQ(37u, victim);
  // The rejected frames are still tracked: they all come out later.
  std::vector<FrameId> rest = DrainVictims();
  EXPECT_EQ(kCapacity - 1, rest.size());
  EXPECT_EQ(0, std::count(rest.begin(), rest.end(), 37u));
}

TEST_P(PolicyContractTest, VictimReturnsFalseWhenEveryFrameIsRejected) {
  InsertAll();
  uint64_t calls = 0;
  FrameId f;
  EXPECT_FALSE(policy_->Victim(
      [&](FrameId) {
        ++calls;
        return false;
      },
      &f));
  EXPECT_GT(calls, 0u);
  EXPECT_LE(calls, 3u * kCapacity);  // bounded search
  EXPECT_EQ(kCapacity, DrainVictims().size());
}

TEST_P(PolicyContractTest, RemovedFrameIsNeverOfferedOrReturned) {
  InsertAll();
  policy_->Remove(5);
  policy_->Remove(6);
  policy_->Remove(6);  // twice: harmless
  FrameId f;
  while (policy_->Victim(
      [](FrameId f) {
        EXPECT_NE(5u, f);
        EXPECT_NE(6u, f);
        return true;
      },
      &f)) {
  }
}

TEST_P(PolicyContractTest, TouchOnUntrackedOrOutOfRangeFrameIsIgnored) {
  policy_->Insert(3, 33);
  policy_->Touch(4);                // never inserted
  policy_->Touch(kCapacity + 10);   // out of range
  policy_->Touch(kNoFrame);
  std::vector<FrameId> victims = DrainVictims();
  ASSERT_EQ(1u, victims.size());
  EXPECT_EQ(3u, victims[0]);
}

TEST_P(PolicyContractTest, FramesAreReusableAfterEviction) {
  for (int round = 0; round < 5; ++round) {
    for (FrameId f = 0; f < kCapacity; ++f) policy_->Insert(f, round * 1000 + f);
    EXPECT_EQ(kCapacity, DrainVictims().size()) << "round " << round;
  }
}

// Touch runs on many threads while one thread inserts, evicts and removes; at
// the end exactly the frames that thread believes tracked come out as victims.
TEST_P(PolicyContractTest, TouchFromManyThreadsIsSafe) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> touchers;
  for (int t = 0; t < 4; ++t) {
    touchers.emplace_back([&, t] {
      std::mt19937 rng(t);
      while (!stop.load(std::memory_order_relaxed)) policy_->Touch(rng() % (kCapacity + 4));
    });
  }
  std::vector<bool> tracked(kCapacity, false);
  std::mt19937 rng(99);
  uint64_t key = 0;
  for (int op = 0; op < 20000; ++op) {
    const FrameId f = rng() % kCapacity;
    switch (rng() % 3) {
      case 0:
        if (!tracked[f]) {
          policy_->Insert(f, ++key);
          tracked[f] = true;
        }
        break;
      case 1: {
        FrameId v;
        if (policy_->Victim([](FrameId) { return true; }, &v)) {
          ASSERT_LT(v, kCapacity);
          ASSERT_TRUE(tracked[v]) << "victim " << v << " was not tracked";
          tracked[v] = false;
        }
        break;
      }
      case 2:
        policy_->Remove(f);
        tracked[f] = false;
        break;
    }
  }
  stop = true;
  for (std::thread& t : touchers) t.join();
  std::vector<FrameId> victims = DrainVictims();
  std::sort(victims.begin(), victims.end());
  std::vector<FrameId> expected;
  for (FrameId f = 0; f < kCapacity; ++f) {
    if (tracked[f]) expected.push_back(f);
  }
  EXPECT_EQ(expected, victims);
}

INSTANTIATE_TEST_SUITE_P(AllPolicies, PolicyContractTest,
                         ::testing::ValuesIn(ReplacementPolicyNames()),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace_if(name.begin(), name.end(),
                                           [](char c) { return !isalnum(c); }, '_');
                           return isdigit(name[0]) ? "p" + name : name;
                         });

TEST(PolicyFactoryTest, RejectsUnknownNameListingValidOnes) {
  std::unique_ptr<ReplacementPolicy> policy;
  Status s = NewReplacementPolicy("mru", 16, &policy);
  EXPECT_EQ(StatusCode::kInvalidArgument, s.code());
  EXPECT_NE(std::string::npos, s.message().find("clock"));
  EXPECT_NE(std::string::npos, s.message().find("arc"));
  EXPECT_EQ(nullptr, policy);
}

TEST(PolicyFactoryTest, RejectsZeroCapacity) {
  std::unique_ptr<ReplacementPolicy> policy;
  EXPECT_EQ(StatusCode::kInvalidArgument, NewReplacementPolicy("clock", 0, &policy).code());
}

TEST(PolicyFactoryTest, ListsClockLruAndArc) {
  const std::vector<std::string> names = ReplacementPolicyNames();
  for (const char* want : {"clock", "lru", "arc"}) {
    EXPECT_NE(names.end(), std::find(names.begin(), names.end(), want)) << want;
  }
}

}  // namespace
}  // namespace memserver
