// LIRS (Jiang & Zhang, SIGMETRICS'02): LIR blocks survive scans, HIR blocks
// re-referenced within the stack become LIR, bounded non-resident history.
#include <algorithm>
#include <list>
#include <memory>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <gtest/gtest.h>

#include "server/frames/lirs_policy.h"
#include "tests/frames/mini_cache.h"

namespace memserver {
namespace {

LirsPolicy::State StateOf(testing::MiniCache& cache) {
  return static_cast<LirsPolicy*>(cache.policy())->GetState();
}

TEST(LirsPolicyTest, LirBlocksSurviveALongScan) {
  testing::MiniCache cache("lirs", 100);  // 99 LIR + 1 HIR frame
  for (uint64_t k = 0; k < 99; ++k) cache.Access(k);
  for (uint64_t k = 1000; k < 3000; ++k) EXPECT_FALSE(cache.Access(k));
  for (uint64_t k = 0; k < 99; ++k) EXPECT_TRUE(cache.Access(k)) << k;
}

TEST(LirsPolicyTest, HirBlockReusedWhileInStackBecomesLir) {
  testing::MiniCache cache("lirs", 10);  // 9 LIR + 1 HIR frame
  for (uint64_t k = 0; k < 9; ++k) cache.Access(k);
  cache.Access(100);  // HIR, resident
  cache.Access(200);  // evicts 100, which stays in S as non-resident
  EXPECT_EQ(100u, cache.evicted());
  LirsPolicy::State s = StateOf(cache);
  EXPECT_EQ(9u, s.lir);
  EXPECT_EQ(1u, s.non_resident);
  cache.Access(100);  // non-resident in S: becomes LIR; bottom LIR 0 demoted
  EXPECT_EQ(200u, cache.evicted());
  s = StateOf(cache);
  EXPECT_EQ(9u, s.lir);
  EXPECT_EQ(1u, s.hir_resident);
  cache.Access(300);
  EXPECT_EQ(0u, cache.evicted());  // the demoted block is the next victim
}

TEST(LirsPolicyTest, HitOnResidentHirOutsideTheStackMovesItToTheEndOfQ) {
  testing::MiniCache cache("lirs", 200);  // 198 LIR + 2 HIR frames
  for (uint64_t k = 0; k < 198; ++k) cache.Access(k);
  cache.Access(1000);
  cache.Access(1001);  // Q = [1000 1001]
  cache.Access(1000);  // becomes LIR; bottom LIR 0 demoted: Q = [1001 0]
  cache.Access(2000);  // evicts 1001: Q = [0 2000]
  EXPECT_EQ(1001u, cache.evicted());
  EXPECT_TRUE(cache.Access(0));  // HIR not in S: top of S, end of Q = [2000 0]
  cache.Access(3000);
  EXPECT_EQ(2000u, cache.evicted());
  EXPECT_TRUE(cache.Resident(0));
}

TEST(LirsPolicyTest, NonResidentHistoryStaysBounded) {
  constexpr uint32_t c = 20;
  testing::MiniCache cache("lirs", c);
  for (uint64_t k = 0; k < 10000; ++k) {
    cache.Access(k % 3 == 0 ? k % 15 : k);  // hot set plus a scan
    const LirsPolicy::State s = StateOf(cache);
    ASSERT_LE(s.non_resident, 2 * c) << k;
    ASSERT_LE(s.stack, 3 * c) << k;
    ASSERT_LE(s.lir + s.hir_resident, c);
  }
}

TEST(LirsPolicyTest, RemoveLeavesNoNonResidentEntry) {
  testing::MiniCache cache("lirs", 10);
  for (uint64_t k = 0; k < 9; ++k) cache.Access(k);
  cache.Access(100);
  cache.Remove(100);
  LirsPolicy::State s = StateOf(cache);
  EXPECT_EQ(0u, s.non_resident);
  EXPECT_EQ(0u, s.hir_resident);
  cache.AccessReusingFreed(100);  // a remembered block would become LIR
  s = StateOf(cache);
  EXPECT_EQ(9u, s.lir);
  EXPECT_EQ(1u, s.hir_resident);
}

TEST(LirsPolicyTest, RemovedLirBlockMakesRoomForANewLirBlock) {
  testing::MiniCache cache("lirs", 10);
  for (uint64_t k = 0; k < 9; ++k) cache.Access(k);
  cache.Remove(4);
  EXPECT_EQ(8u, StateOf(cache).lir);
  cache.AccessReusingFreed(50);
  EXPECT_EQ(9u, StateOf(cache).lir);
}

// The paper's LIRS written plainly (unbounded stack), to compare whole runs.
class ReferenceLirs {
 public:
  explicit ReferenceLirs(uint32_t c) : c_(c), lir_cap_(c - std::max<uint32_t>(1, c / 100)) {}

  bool Access(uint64_t x) {
    if (resident_.count(x)) {
      if (lir_.count(x)) {
        const bool bottom = stack_.front() == x;
        ToTop(x);
        if (bottom) Prune();
      } else if (InStack(x)) {
        ToTop(x);
        Erase(queue_, queue_pos_, x);
        lir_.insert(x);
        if (lir_.size() > lir_cap_) Demote();
      } else {
        ToTop(x);
        Erase(queue_, queue_pos_, x);
        PushBack(queue_, queue_pos_, x);
      }
      return true;
    }
    if (resident_.size() == c_) {
      const uint64_t victim = queue_.front();
      Erase(queue_, queue_pos_, victim);
      resident_.erase(victim);  // stays in the stack, if there, as non-resident
    }
    resident_.insert(x);
    if (InStack(x)) {
      ToTop(x);
      lir_.insert(x);
      if (lir_.size() > lir_cap_) Demote();
    } else if (lir_.size() < lir_cap_) {
      ToTop(x);
      lir_.insert(x);
    } else {
      ToTop(x);
      PushBack(queue_, queue_pos_, x);
    }
    return false;
  }

 private:
  using List = std::list<uint64_t>;
  using Pos = std::unordered_map<uint64_t, List::iterator>;
  static void Erase(List& l, Pos& pos, uint64_t x) {
    l.erase(pos.at(x));
    pos.erase(x);
  }
  static void PushBack(List& l, Pos& pos, uint64_t x) { pos[x] = l.insert(l.end(), x); }
  bool InStack(uint64_t x) const { return stack_pos_.count(x) != 0; }
  void ToTop(uint64_t x) {  // stack_: front = bottom, back = top
    if (InStack(x)) Erase(stack_, stack_pos_, x);
    PushBack(stack_, stack_pos_, x);
  }
  void Prune() {
    while (!stack_.empty() && !lir_.count(stack_.front())) Erase(stack_, stack_pos_, stack_.front());
  }
  void Demote() {
    const uint64_t b = stack_.front();
    lir_.erase(b);
    Erase(stack_, stack_pos_, b);
    PushBack(queue_, queue_pos_, b);
    Prune();
  }

  const uint32_t c_, lir_cap_;
  List stack_, queue_;
  Pos stack_pos_, queue_pos_;
  std::unordered_set<uint64_t> lir_, resident_;
};

TEST(LirsPolicyTest, MatchesThePapersAlgorithmWhenHistoryIsUnbounded) {
  constexpr uint32_t c = 1000;  // 990 LIR + 10 HIR frames
  testing::MiniCache cache(std::make_unique<LirsPolicy>(c, 1000000), c);
  ReferenceLirs reference(c);
  std::mt19937 rng(17);
  std::geometric_distribution<uint64_t> skewed(0.0007);
  for (int i = 0; i < 200000; ++i) {
    // A mix of skewed reuse and loops slightly larger than the cache.
    const uint64_t key = (i / 5000) % 4 == 0 ? 100000 + i % 1100 : skewed(rng);
    ASSERT_EQ(reference.Access(key), cache.Access(key)) << "access " << i << " key " << key;
  }
}

}  // namespace
}  // namespace memserver
