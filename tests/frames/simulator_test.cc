// memsim's simulation core: hit counting, OPT optimality, OPT bounds every
// policy.
#include <algorithm>
#include <map>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "server/tools/memsim/simulator.h"

namespace memserver::memsim {
namespace {

Trace MakeTrace(std::vector<uint32_t> keys) {
  Trace t;
  t.keys = std::move(keys);
  for (uint32_t k : t.keys) t.distinct = std::max(t.distinct, k + 1);
  return t;
}

// Max hits over every possible eviction choice (demand paging).
uint64_t ExhaustiveBestHits(const Trace& t, uint32_t frames) {
  std::map<std::pair<size_t, uint32_t>, uint64_t> memo;
  auto best = [&](auto&& self, size_t i, uint32_t cache) -> uint64_t {
    if (i == t.keys.size()) return 0;
    auto it = memo.find({i, cache});
    if (it != memo.end()) return it->second;
    const uint32_t bit = 1u << t.keys[i];
    uint64_t result;
    if (cache & bit) {
      result = 1 + self(self, i + 1, cache);
    } else if (static_cast<uint32_t>(__builtin_popcount(cache)) < frames) {
      result = self(self, i + 1, cache | bit);
    } else {
      result = 0;
      for (uint32_t v = cache; v; v &= v - 1) {
        const uint32_t out = v & -v;
        result = std::max(result, self(self, i + 1, (cache & ~out) | bit));
      }
    }
    memo[{i, cache}] = result;
    return result;
  };
  return best(best, 0, 0);
}

TEST(SimulatorTest, OptMatchesExhaustiveSearchOnSmallTraces) {
  std::mt19937 rng(5);
  for (int round = 0; round < 200; ++round) {
    std::vector<uint32_t> keys(14);
    for (uint32_t& k : keys) k = rng() % 6;
    const Trace t = MakeTrace(keys);
    const uint32_t frames = 2 + round % 3;
    const SimResult opt = SimulateOpt(frames, t, ComputeNextUse(t));
    ASSERT_EQ(ExhaustiveBestHits(t, frames), opt.hits) << "round " << round;
  }
}

TEST(SimulatorTest, EveryPolicyHitsAllButColdMissesWhenEverythingFits) {
  std::vector<uint32_t> keys;
  for (int rep = 0; rep < 10; ++rep) {
    for (uint32_t k = 0; k < 30; ++k) keys.push_back((k * 7 + rep) % 30);
  }
  const Trace t = MakeTrace(keys);
  const std::vector<uint32_t> next = ComputeNextUse(t);
  for (const std::string& name : SimulatorPolicyNames()) {
    SimResult r;
    ASSERT_TRUE(Simulate(name, 30, t, next, &r).ok()) << name;
    EXPECT_EQ(300u, r.requests);
    EXPECT_EQ(270u, r.hits) << name;
  }
}

TEST(SimulatorTest, NoPolicyBeatsOptOnRandomTraces) {
  std::mt19937 rng(9);
  std::geometric_distribution<uint32_t> skewed(0.05);
  std::vector<uint32_t> keys(20000);
  for (uint32_t& k : keys) k = skewed(rng);
  const Trace t = MakeTrace(keys);
  const std::vector<uint32_t> next = ComputeNextUse(t);
  for (uint32_t frames : {1u, 2u, 10u, 40u}) {
    const SimResult opt = SimulateOpt(frames, t, next);
    for (const std::string& name : ReplacementPolicyNames()) {
      SimResult r;
      ASSERT_TRUE(Simulate(name, frames, t, next, &r).ok()) << name;
      EXPECT_LE(r.hits, opt.hits) << name << " at " << frames;
      EXPECT_GT(r.hits, 0u) << name << " at " << frames;
    }
  }
}

TEST(SimulatorTest, UnknownPolicyOrZeroFramesIsInvalidArgument) {
  const Trace t = MakeTrace({0, 1, 0});
  SimResult r;
  EXPECT_EQ(StatusCode::kInvalidArgument, Simulate("fifo-ish", 2, t, {}, &r).code());
  EXPECT_EQ(StatusCode::kInvalidArgument, Simulate("lru", 0, t, {}, &r).code());
  EXPECT_EQ(StatusCode::kInvalidArgument, Simulate("opt", 2, t, {}, &r).code());
}

TEST(SimulatorTest, HitRatioIsPercentOfRequests) {
  SimResult r;
  r.requests = 8;
  r.hits = 2;
  EXPECT_DOUBLE_EQ(25.0, r.hit_ratio());
  EXPECT_DOUBLE_EQ(0.0, SimResult{}.hit_ratio());
}

}  // namespace
}  // namespace memserver::memsim
