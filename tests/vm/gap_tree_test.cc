// GapTree: ordered lookups and the longest-gap descent, against a plain
// std::map model under random insertions and erasures.
#include "server/vm/gap_tree.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace memserver {
namespace {

class GapTreeTest : public ::testing::Test {
 protected:
  void TearDown() override {
    const Status s = tree_.CheckInvariants();
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  GapTree tree_;
};

TEST_F(GapTreeTest, FloorAndCeilFindTheNeighbouringGaps) {
  tree_.Insert(100, 200);
  tree_.Insert(300, 310);
  tree_.Insert(500, 900);
  GapTree::Gap g;
  ASSERT_TRUE(tree_.Floor(305, &g));
  EXPECT_EQ(g.start, 300u);
  ASSERT_TRUE(tree_.Floor(300, &g));
  EXPECT_EQ(g.start, 300u);
  EXPECT_FALSE(tree_.Floor(99, &g));
  ASSERT_TRUE(tree_.Ceil(201, &g));
  EXPECT_EQ(g.start, 300u);
  EXPECT_FALSE(tree_.Ceil(501, &g));
}

TEST_F(GapTreeTest, LastFittingSkipsShortGapsAndRespectsTheBound) {
  tree_.Insert(0, 50);      // 50
  tree_.Insert(100, 110);   // 10
  tree_.Insert(200, 260);   // 60
  tree_.Insert(300, 305);   // 5
  GapTree::Gap g;
  ASSERT_TRUE(tree_.LastFitting(1000, 20, &g));
  EXPECT_EQ(g.start, 200u);
  ASSERT_TRUE(tree_.LastFitting(200, 20, &g));  // starts strictly below 200
  EXPECT_EQ(g.start, 0u);
  ASSERT_TRUE(tree_.LastFitting(1000, 5, &g));
  EXPECT_EQ(g.start, 300u);
  EXPECT_FALSE(tree_.LastFitting(1000, 61, &g));
  EXPECT_FALSE(tree_.LastFitting(0, 1, &g));
}

TEST_F(GapTreeTest, EraseRemovesOnlyThatGap) {
  tree_.Insert(10, 20);
  tree_.Insert(30, 40);
  tree_.Erase(10);
  GapTree::Gap g;
  EXPECT_FALSE(tree_.Floor(25, &g) && g.start == 10);
  ASSERT_TRUE(tree_.Floor(35, &g));
  EXPECT_EQ(g.start, 30u);
  EXPECT_EQ(tree_.size(), 1u);
}

TEST_F(GapTreeTest, RandomOperationsMatchAnOrderedMapModel) {
  std::mt19937_64 rng(7);
  std::map<uint64_t, uint64_t> model;  // start -> end
  for (int step = 0; step < 20000; ++step) {
    const uint64_t slot = rng() % 4096;  // gaps live in slots [slot*16, slot*16+len), len <= 15
    auto it = model.find(slot * 16);
    if (it != model.end()) {
      tree_.Erase(it->first);
      model.erase(it);
    } else {
      const uint64_t len = 1 + rng() % 15;
      tree_.Insert(slot * 16, slot * 16 + len);
      model.emplace(slot * 16, slot * 16 + len);
    }
    if (step % 97 != 0) continue;
    ASSERT_EQ(tree_.size(), model.size());
    const uint64_t before = rng() % (4096 * 16 + 16), need = 1 + rng() % 15;
    GapTree::Gap got;
    const bool found = tree_.LastFitting(before, need, &got);
    auto want = model.end();
    for (auto m = model.begin(); m != model.end() && m->first < before; ++m) {
      if (m->second - m->first >= need) want = m;
    }
    ASSERT_EQ(found, want != model.end()) << "step " << step;
    if (found) {
      EXPECT_EQ(got.start, want->first) << "step " << step;
    }
    const Status s = tree_.CheckInvariants();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
}

}  // namespace
}  // namespace memserver
