// LIRS (Jiang & Zhang, SIGMETRICS'02): LIR blocks survive scans, HIR blocks
// re-referenced within the stack become LIR, bounded non-resident history.
#include <algorithm>
#include <cstdint>
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

// The paper's LIRS written plainly, to compare whole runs: the stack is
// unbounded unless `max_nonresident` is given, which then forgets the entry
// that became non-resident first, as LirsPolicy's history bound does.
class ReferenceLirs {
 public:
  explicit ReferenceLirs(uint32_t c, size_t max_nonresident = SIZE_MAX)
      : c_(c), lir_cap_(c - std::max<uint32_t>(1, c / 100)), max_nonresident_(max_nonresident) {}

  // Entries dropped by the history bound; misses found in the history.
  uint64_t forgotten() const { return forgotten_; }
  uint64_t found_in_history() const { return found_in_history_; }

  LirsPolicy::State GetState() const {
    return LirsPolicy::State{static_cast<uint32_t>(lir_.size()),
                             static_cast<uint32_t>(queue_.size()),
                             static_cast<uint32_t>(age_.size()),
                             static_cast<uint32_t>(stack_.size())};
  }

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
      if (InStack(victim)) {
        if (age_.size() >= max_nonresident_) {
          const uint64_t oldest = age_.front();
          Erase(age_, age_pos_, oldest);
          Erase(stack_, stack_pos_, oldest);
          ++forgotten_;
        }
        PushBack(age_, age_pos_, victim);
      }
    }
    resident_.insert(x);
    if (InStack(x)) {
      ++found_in_history_;
      Erase(age_, age_pos_, x);
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
    while (!stack_.empty() && !lir_.count(stack_.front())) {
      const uint64_t b = stack_.front();
      if (!resident_.count(b)) Erase(age_, age_pos_, b);
      Erase(stack_, stack_pos_, b);
    }
  }
  void Demote() {
    const uint64_t b = stack_.front();
    lir_.erase(b);
    Erase(stack_, stack_pos_, b);
    PushBack(queue_, queue_pos_, b);
    Prune();
  }

  const uint32_t c_, lir_cap_;
  const size_t max_nonresident_;
  List stack_, queue_, age_;  // age_: non-resident entries, oldest first
  Pos stack_pos_, queue_pos_, age_pos_;
  uint64_t forgotten_ = 0, found_in_history_ = 0;
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

// An eviction-heavy mix over a key space many times the cache: loops a bit
// larger than the cache, uniform and skewed reuse, and scans (over a range
// of 40 caches, so scanned keys come back after being forgotten) that fill
// the history.
uint64_t ChurnKey(int i, std::mt19937& rng, uint32_t c) {
  switch ((i / 3000) % 4) {
    case 0:
      return 10 * c + i % (c + c / 5);
    case 1:
      return rng() % (8 * c);
    case 2:
      return std::geometric_distribution<uint64_t>(1.0 / (3 * c))(rng);
    default:
      return rng() % 4 == 0 ? rng() % c : 20 * c + i % (40 * c);
  }
}

struct RunCounts {
  uint64_t hits = 0;
  uint64_t full_history_steps = 0;  // accesses after which the history was full
  uint64_t forgotten = 0;           // entries dropped by the bound
  uint64_t found_in_history = 0;    // misses on a remembered non-resident key
};

// Runs `accesses` ChurnKeys through LirsPolicy and the bounded model side by
// side, comparing every hit and the sizes of S, Q, LIR and the history after
// every access.
RunCounts RunAgainstTheBoundedModel(uint32_t c, uint32_t max_nonresident, int accesses) {
  auto owned = std::make_unique<LirsPolicy>(c, max_nonresident);
  LirsPolicy* policy = owned.get();
  testing::MiniCache cache(std::move(owned), c);
  ReferenceLirs reference(c, max_nonresident);
  std::mt19937 rng(29);
  RunCounts counts;
  for (int i = 0; i < accesses; ++i) {
    const uint64_t key = ChurnKey(i, rng, c);
    const bool hit = cache.Access(key);
    EXPECT_EQ(reference.Access(key), hit) << "access " << i << " key " << key;
    counts.hits += hit;
    const LirsPolicy::State s = policy->GetState();
    const LirsPolicy::State r = reference.GetState();
    EXPECT_EQ(r.lir, s.lir) << i;
    EXPECT_EQ(r.hir_resident, s.hir_resident) << i;
    EXPECT_EQ(r.non_resident, s.non_resident) << i;
    EXPECT_EQ(r.stack, s.stack) << i;
    EXPECT_LE(s.non_resident, max_nonresident) << i;
    EXPECT_LE(s.lir + s.hir_resident, c) << i;
    // S holds every LIR block and non-resident entry, plus some resident HIR.
    EXPECT_GE(s.stack, s.lir + s.non_resident) << i;
    EXPECT_LE(s.stack, s.lir + s.non_resident + s.hir_resident) << i;
    if (::testing::Test::HasFailure()) break;
    counts.full_history_steps += s.non_resident == max_nonresident;
  }
  counts.forgotten = reference.forgotten();
  counts.found_in_history = reference.found_in_history();
  return counts;
}

TEST(LirsPolicyTest, MatchesTheBoundedModelThroughALongEvictionHeavyRun) {
  constexpr int kAccesses = 120000;
  const RunCounts n = RunAgainstTheBoundedModel(/*c=*/300, /*max_nonresident=*/600, kAccesses);
  EXPECT_EQ(31441u, n.hits);  // pinned: any change in behaviour shows here
  EXPECT_GT(n.full_history_steps, kAccesses / 4u);
  EXPECT_GT(n.forgotten, kAccesses / 5u);  // node and index slots recycled
  EXPECT_GT(n.found_in_history, kAccesses / 10u);
}

TEST(LirsPolicyTest, MatchesTheBoundedModelWithATinyHistory) {
  // The bound drops an entry on almost every miss.
  constexpr int kAccesses = 60000;
  for (uint32_t h : {1u, 3u}) {
    const RunCounts n = RunAgainstTheBoundedModel(/*c=*/50, h, kAccesses);
    EXPECT_GT(n.full_history_steps, kAccesses * 9u / 10) << h;
    EXPECT_GT(n.forgotten, kAccesses * 3u / 4) << h;
  }
}

TEST(LirsPolicyTest, MemoryIsFixedAtConstructionAndMatchesTheDocumentedFormula) {
  constexpr uint32_t c = 1000;  // H = 2000, 4096 index slots
  testing::MiniCache cache("lirs", c);
  auto* policy = static_cast<LirsPolicy*>(cache.policy());
  const size_t bytes = policy->MemoryBytes();
  EXPECT_EQ(25u * c + 24u * 2 * c + 4u * 4096, bytes);  // 89.4 bytes per frame
  std::mt19937 rng(5);
  uint32_t most_non_resident = 0;
  for (int i = 0; i < 50000; ++i) {
    cache.Access(ChurnKey(i, rng, c));
    most_non_resident = std::max(most_non_resident, StateOf(cache).non_resident);
  }
  EXPECT_EQ(2 * c, most_non_resident);  // the history filled up
  EXPECT_EQ(bytes, policy->MemoryBytes());
}

}  // namespace
}  // namespace memserver
