#include "server/vm/mapping_set.h"

#include <gtest/gtest.h>

#include <random>

#include "server/engine/types.h"

namespace memserver {
namespace {

constexpr uint64_t P = 4096;
constexpr uint32_t RW = kProtRead | kProtWrite;
constexpr uint32_t PRIV = kMapPrivate | kMapAnonymous;

Vma V(uint64_t start, uint64_t end, uint32_t prot, uint32_t flags) {
  Vma v;
  v.start = start;
  v.end = end;
  v.prot = prot;
  v.flags = flags;
  return v;
}

class MappingSetTest : public ::testing::Test {
 protected:
  void TearDown() override { EXPECT_TRUE(set_.CheckInvariants().ok()) << set_.CheckInvariants().ToString(); }
  MappingSet set_{12, 1ull << 48};
};

TEST_F(MappingSetTest, AdjacentEqualMappingsMerge) {
  set_.Insert(V(10 * P, 12 * P, RW, PRIV));
  set_.Insert(V(12 * P, 14 * P, RW, PRIV));
  ASSERT_EQ(set_.size(), 1u);
  EXPECT_EQ(set_.All()[0].end, 14 * P);
}

TEST_F(MappingSetTest, AdjacentDifferentProtStaySeparate) {
  set_.Insert(V(10 * P, 12 * P, RW, PRIV));
  set_.Insert(V(12 * P, 14 * P, kProtRead, PRIV));
  EXPECT_EQ(set_.size(), 2u);
}

TEST_F(MappingSetTest, RemoveMiddleSplitsInTwo) {
  set_.Insert(V(10 * P, 13 * P, RW, PRIV));
  set_.Remove(11 * P, 12 * P);
  auto all = set_.All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].end, 11 * P);
  EXPECT_EQ(all[1].start, 12 * P);
  EXPECT_EQ(set_.total_bytes(), 2 * P);
}

TEST_F(MappingSetTest, ProtectMiddleThenBackMergesToOne) {
  set_.Insert(V(10 * P, 13 * P, RW, PRIV));
  set_.Protect(11 * P, 12 * P, kProtRead);
  EXPECT_EQ(set_.size(), 3u);
  set_.Protect(11 * P, 12 * P, RW);
  EXPECT_EQ(set_.size(), 1u);
}

TEST_F(MappingSetTest, CheckAccessNamesFirstFaultingByte) {
  set_.Insert(V(10 * P, 11 * P, RW, PRIV));
  set_.Insert(V(11 * P, 12 * P, kProtRead, PRIV));
  Status s = set_.CheckAccess(10 * P + 5, 2 * P, /*write=*/true);
  EXPECT_EQ(s.fault_kind(), FaultKind::kAccessError);
  EXPECT_EQ(s.fault_address(), 11 * P);
  s = set_.CheckAccess(11 * P, P + 1, /*write=*/false);
  EXPECT_EQ(s.fault_kind(), FaultKind::kMapError);
  EXPECT_EQ(s.fault_address(), 12 * P);
  EXPECT_TRUE(set_.CheckAccess(10 * P, 2 * P, false).ok());
}

TEST_F(MappingSetTest, ProtNoneFaultsEvenForReads) {
  set_.Insert(V(10 * P, 11 * P, kProtNone, PRIV));
  EXPECT_EQ(set_.CheckAccess(10 * P, 1, false).fault_kind(), FaultKind::kAccessError);
}

TEST_F(MappingSetTest, GapSearchIsTopDownWithGuard) {
  uint64_t a;
  ASSERT_TRUE(set_.FindGapTopDown(2 * P, P, 100 * P, P, &a));
  EXPECT_EQ(a, 98 * P);
  set_.Insert(V(a, a + 2 * P, RW, PRIV));
  ASSERT_TRUE(set_.FindGapTopDown(2 * P, P, 100 * P, P, &a));
  EXPECT_EQ(a, 95 * P);  // one guard page below the first mapping
}

TEST_F(MappingSetTest, GapSearchFailsWhenFull) {
  set_.Insert(V(P, 100 * P, RW, PRIV));
  uint64_t a;
  EXPECT_FALSE(set_.FindGapTopDown(P, P, 100 * P, P, &a));
}

TEST_F(MappingSetTest, GapSearchUsesHoleBetweenMappings) {
  set_.Insert(V(90 * P, 100 * P, RW, PRIV));
  set_.Insert(V(10 * P, 80 * P, RW, PRIV));
  uint64_t a;
  ASSERT_TRUE(set_.FindGapTopDown(5 * P, P, 100 * P, P, &a));
  EXPECT_EQ(a, 84 * P);  // [84, 89) keeps a page free on both sides
  ASSERT_TRUE(set_.FindGapTopDown(8 * P, P, 100 * P, P, &a));
  EXPECT_EQ(a, 81 * P);  // exactly fills the hole between the guards
  EXPECT_FALSE(set_.FindGapTopDown(9 * P, P, 100 * P, P, &a));  // no hole of 9 pages + guards
}

// The definition FindGapTopDown implements, checked address by address: the
// highest page-aligned a in [low, high - len] such that every mapping lies
// wholly below a (a guard below it unless it ends at or below `low`) or
// wholly above a + len (a guard above unless it starts at or after `high`).
bool BruteForceGap(const std::vector<Vma>& vmas, uint64_t len, uint64_t low, uint64_t high, uint64_t guard,
                   uint64_t* addr) {
  if (high < low || high - low < len) return false;
  for (uint64_t a = high - len + P; a >= low + P; a -= P) {  // a + P: no wrap below 0
    const uint64_t at = a - P;
    bool ok = true;
    for (const Vma& m : vmas) {
      const bool below = m.end + (m.end > low ? guard : 0) <= at;
      const bool above = m.start >= at + len + (m.start < high ? guard : 0);
      if (!below && !above) {
        ok = false;
        break;
      }
    }
    if (ok) {
      *addr = at;
      return true;
    }
  }
  return false;
}

TEST_F(MappingSetTest, GapSearchMatchesTheDefinitionOnRandomLayouts) {
  std::mt19937_64 rng(12);
  int found_some = 0, found_none = 0;
  for (int layout = 0; layout < 200; ++layout) {
    MappingSet set(12, 256 * P);
    for (int i = 0; i < 40 + 60 * (layout % 3); ++i) {
      const uint64_t start = (rng() % 250) * P, len = (1 + rng() % 6) * P;
      if (start + len > 256 * P || set.Overlaps(start, start + len)) continue;
      set.Insert(V(start, start + len, (rng() % 2) ? RW : kProtRead, PRIV));
    }
    if (rng() % 2) set.Remove((rng() % 128) * P, (128 + rng() % 128) * P);
    ASSERT_TRUE(set.CheckInvariants().ok()) << set.CheckInvariants().ToString();
    const std::vector<Vma> all = set.All();
    for (int q = 0; q < 30; ++q) {
      const uint64_t len = (1 + rng() % 8) * P, guard = (rng() % 2) * P;
      const uint64_t low = (rng() % 128) * P, high = (128 + rng() % 129) * P;
      uint64_t got = 0, want = 0;
      const bool found = set.FindGapTopDown(len, low, high, guard, &got);
      const bool exists = BruteForceGap(all, len, low, high, guard, &want);
      ASSERT_EQ(found, exists) << "layout " << layout << " query " << q;
      ++(found ? found_some : found_none);
      if (found) {
        ASSERT_EQ(got, want) << "layout " << layout << " query " << q;
      }
    }
  }
  // The layouts exercise both outcomes, not only one.
  EXPECT_GT(found_some, 1000);
  EXPECT_GT(found_none, 100);
}

TEST_F(MappingSetTest, CountsAfterAChangeMatchTheChange) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 300; ++round) {
    MappingSet set(12, 256 * P);
    for (int i = 0; i < 30; ++i) {
      const uint64_t start = (rng() % 250) * P, len = (1 + rng() % 6) * P;
      if (start + len > 256 * P || set.Overlaps(start, start + len)) continue;
      set.Insert(V(start, start + len, (rng() % 2) ? RW : kProtRead, PRIV));
    }
    const uint64_t a = (rng() % 200) * P, b = a + (1 + rng() % 40) * P;
    const size_t removed = set.CountAfterRemove(a, b);
    MappingSet copy = set;
    copy.Remove(a, b);
    EXPECT_EQ(removed, copy.size()) << "round " << round;
    const std::vector<Vma> pieces = set.Intersecting(a, b);
    if (pieces.empty()) continue;
    // Update a covered stretch: the first intersecting mapping's part.
    const uint64_t s = pieces[0].start, e = pieces[0].end;
    const uint32_t prot = (rng() % 2) ? RW : kProtRead;
    const auto fn = [prot](Vma& v) { v.prot = prot; };
    const size_t updated = set.CountAfterUpdate(s, e, fn);
    set.Update(s, e, fn);
    EXPECT_EQ(updated, set.size()) << "round " << round;
    ASSERT_TRUE(set.CheckInvariants().ok()) << set.CheckInvariants().ToString();
  }
}

TEST_F(MappingSetTest, GrowingAndShrinkingInPlaceKeepsTheGapsExact) {
  set_.Insert(V(10 * P, 12 * P, RW, PRIV));
  set_.Insert(V(20 * P, 22 * P, RW, PRIV));
  set_.SetEnd(10 * P, 19 * P);
  ASSERT_TRUE(set_.CheckInvariants().ok()) << set_.CheckInvariants().ToString();
  set_.SetEnd(10 * P, 11 * P);
  ASSERT_TRUE(set_.CheckInvariants().ok()) << set_.CheckInvariants().ToString();
  set_.SetStart(20 * P, 15 * P);
  ASSERT_TRUE(set_.CheckInvariants().ok()) << set_.CheckInvariants().ToString();
  EXPECT_EQ(set_.total_bytes(), 8 * P);
  EXPECT_EQ(set_.data_bytes(), 8 * P);
  uint64_t a;
  ASSERT_TRUE(set_.FindGapTopDown(2 * P, P, 15 * P, P, &a));
  EXPECT_EQ(a, 13 * P);  // a guard above [10, 11); none below [15, 22), which starts at `high`
  ASSERT_TRUE(set_.FindGapTopDown(2 * P, P, 16 * P, P, &a));
  EXPECT_EQ(a, 12 * P);  // both guards
}

}  // namespace
}  // namespace memserver
