#include "server/vm/mapping_set.h"

#include <gtest/gtest.h>

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
  MappingSet set_{12};
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

}  // namespace
}  // namespace memserver
