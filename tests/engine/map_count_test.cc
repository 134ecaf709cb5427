// max_mappings (Linux's vm.max_map_count) holds for every call that splits
// a mapping, not only for mmap: a call that would leave more mappings than
// the limit fails with ENOMEM and changes nothing; one that does not add
// mappings (unmapping a whole mapping, merging) always may.
#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

constexpr uint32_t kMax = 16;

class MapCountTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    EngineOptions o = Options(64);
    o.max_mappings = kMax;
    ASSERT_OK(Open(o));
    pid_ = NewProcess();
  }
  // Fills the process up to `count` mappings: one of 8 pages at kBase, the
  // rest single pages far from it.
  void FillTo(size_t count) {
    MapFixed(pid_, kBase, 8 * page());
    for (size_t i = 1; i < count; ++i) ASSERT_NE(Map(pid_, page()), 0u) << i;
    ASSERT_EQ(Stats(pid_).mappings, count);
  }
  uint64_t P(uint64_t n) const { return kBase + n * page(); }
  static constexpr uint64_t kBase = 1ull << 32;
  Pid pid_ = 0;
};

TEST_F(MapCountTest, SplittingByMprotectStopsAtMaxMappings) {
  // The hostile pattern: one big mapping, every other page mprotected.
  const uint64_t big = Map(pid_, 200 * page());
  ASSERT_NE(big, 0u);
  Status last;
  uint64_t i = 0;
  for (; i < 100; ++i) {
    last = engine().Mprotect(pid_, big + (2 * i + 1) * page(), page(), kProtRead);
    if (!last.ok()) break;
  }
  EXPECT_ERRNO(last, kResourceExhausted, "ENOMEM");
  EXPECT_NE(last.message().find("max_mappings"), std::string::npos) << last.ToString();
  EXPECT_LE(Stats(pid_).mappings, kMax);
  EXPECT_GE(Stats(pid_).mappings, kMax - 1);
  ExpectInvariants();
}

TEST_F(MapCountTest, MprotectThatWouldSplitPastTheLimitChangesNothing) {
  FillTo(kMax - 1);
  const std::vector<Span> before = Spans(Mappings(pid_));
  EXPECT_ERRNO(engine().Mprotect(pid_, P(3), page(), kProtRead), kResourceExhausted, "ENOMEM");  // +2
  EXPECT_EQ(Spans(Mappings(pid_)), before);
  EXPECT_OK(engine().Mprotect(pid_, P(0), page(), kProtRead));  // a head: +1 reaches the limit
  EXPECT_EQ(Stats(pid_).mappings, kMax);
  EXPECT_OK(engine().Mprotect(pid_, P(0), 8 * page(), kProtRead));  // merges back: -1
  ExpectInvariants();
}

TEST_F(MapCountTest, MunmapOfAMiddlePageAtTheLimitIsENOMEM) {
  FillTo(kMax);
  EXPECT_ERRNO(engine().Munmap(pid_, P(3), page()), kResourceExhausted, "ENOMEM");
  EXPECT_TRUE(CheckZero(pid_, P(3), page()));  // still mapped
  EXPECT_OK(engine().Munmap(pid_, P(0), page()));  // a head: no new mapping
  EXPECT_OK(engine().Munmap(pid_, P(1), 7 * page()));  // a whole mapping: one fewer
  EXPECT_EQ(Stats(pid_).mappings, kMax - 1);
  ExpectInvariants();
}

TEST_F(MapCountTest, MadviseThatWouldSplitPastTheLimitIsENOMEM) {
  FillTo(kMax - 1);
  EXPECT_ERRNO(engine().Madvise(pid_, P(3), page(), kMadvDontFork), kResourceExhausted, "ENOMEM");
  EXPECT_EQ(Stats(pid_).mappings, kMax - 1);
  // Advice that changes no flags splits nothing.
  EXPECT_OK(engine().Madvise(pid_, P(3), page(), kMadvDontNeed));
  EXPECT_OK(engine().Madvise(pid_, P(0), 8 * page(), kMadvDontFork));
  ExpectInvariants();
}

TEST_F(MapCountTest, MlockAndMunlockThatWouldSplitPastTheLimitAreENOMEM) {
  FillTo(kMax - 1);
  EXPECT_ERRNO(engine().Mlock(pid_, P(3), page()), kResourceExhausted, "ENOMEM");
  EXPECT_EQ(Stats(pid_).locked_bytes, 0u);
  ASSERT_OK(engine().Mlock(pid_, P(0), 8 * page()));
  EXPECT_ERRNO(engine().Munlock(pid_, P(3), page()), kResourceExhausted, "ENOMEM");
  EXPECT_EQ(Stats(pid_).locked_bytes, 8 * page());
  EXPECT_OK(engine().Munlock(pid_, P(0), 8 * page()));
  ExpectInvariants();
}

TEST_F(MapCountTest, MremapThatMovesNearTheLimitIsENOMEM) {
  FillTo(kMax - 4);
  MapFixed(pid_, P(9), page());  // in the way of growing in place
  ASSERT_EQ(Stats(pid_).mappings, kMax - 3);  // Linux's move_vma wants fewer than max - 3
  uint64_t result = 0;
  EXPECT_ERRNO(engine().Mremap(pid_, P(0), 8 * page(), 16 * page(), kMremapMayMove, 0, &result), kResourceExhausted,
               "ENOMEM");
  EXPECT_TRUE(CheckZero(pid_, P(0), 8 * page()));  // not moved
  // Shrinking in place moves nothing.
  EXPECT_OK(engine().Mremap(pid_, P(0), 8 * page(), 4 * page(), 0, 0, &result));
  ExpectInvariants();
}

TEST_F(MapCountTest, MapFixedOverAWholeMappingAtTheLimitSucceeds) {
  FillTo(kMax);
  MapFixed(pid_, kBase, 8 * page(), kProtRead);  // replaces one mapping by one
  EXPECT_EQ(Stats(pid_).mappings, kMax);
  EXPECT_CODE(MmapStatus(pid_, P(2), page(), kRW, kAnon | kMapFixed), kResourceExhausted);  // splits: +2
  ExpectInvariants();
}

}  // namespace
}  // namespace memserver
