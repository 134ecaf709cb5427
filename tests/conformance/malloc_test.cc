// malloc(3), calloc(3), realloc(3), free(3) run by the server on a
// process's heap: blocks never overlap, contents survive realloc, calloc
// memory is zero, and misuse (double free, foreign pointers) is an error
// instead of heap corruption.
#include <map>
#include <random>

#include "tests/conformance/conformance_fixture.h"

namespace memserver::conformance {
namespace {

class MallocTest : public ConformanceTest {
 protected:
  void SetUp() override {
    ConformanceTest::SetUp();
    OpenWithFrames(16384);  // 64 MiB: the random workload fits without paging
    pid_ = NewProcess();
  }

  uint64_t Malloc(uint64_t size) {
    uint64_t p = 0;
    const Status s = engine().Malloc(pid_, size, &p);
    if (!s.ok()) ADD_FAILURE() << "Malloc(" << size << "): " << s.ToString();
    return p;
  }

  Pid pid_ = 0;
};

TEST_F(MallocTest, BlocksNeverOverlapAndKeepTheirContents) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<uint64_t> small(1, 4096), any(1, 300000);
  std::map<uint64_t, uint64_t> blocks;  // addr -> size
  for (int i = 0; i < 160; ++i) {
    const uint64_t size = (i % 2 == 0) ? small(rng) : any(rng);
    const uint64_t p = Malloc(size);
    ASSERT_NE(p, 0u);
    EXPECT_EQ(p % 16, 0u) << "malloc must return 16-byte aligned memory";
    auto next = blocks.lower_bound(p);
    if (next != blocks.end()) {
      EXPECT_LE(p + size, next->first) << std::hex << p << " overlaps " << next->first;
    }
    if (next != blocks.begin()) {
      auto prev = std::prev(next);
      EXPECT_LE(prev->first + prev->second, p) << std::hex << prev->first << " overlaps " << p;
    }
    blocks[p] = size;
    WritePattern(pid_, p, p, size);  // seed = address: every block distinct
    // Free some as we go, so later blocks reuse freed space.
    if (i % 5 == 4) {
      auto victim = blocks.begin();
      std::advance(victim, rng() % blocks.size());
      ASSERT_OK(engine().Free(pid_, victim->first));
      blocks.erase(victim);
    }
  }
  for (const auto& [p, size] : blocks) EXPECT_TRUE(HasPattern(pid_, p, p, size)) << std::hex << "block " << p;
  for (const auto& [p, size] : blocks) ASSERT_OK(engine().Free(pid_, p));
  ExpectInvariants();
}

TEST_F(MallocTest, DoubleFreeIsRejected) {
  const uint64_t p = Malloc(100);
  ASSERT_OK(engine().Free(pid_, p));
  const Status s = engine().Free(pid_, p);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find("double free"), std::string::npos) << s.ToString();
}

TEST_F(MallocTest, DoubleFreeOfALargeBlockIsRejected) {
  const uint64_t p = Malloc(1 << 20);
  ASSERT_OK(engine().Free(pid_, p));
  EXPECT_ERRNO(engine().Free(pid_, p), kInvalidArgument, "EINVAL");
}

TEST_F(MallocTest, FreeOfAForeignPointerIsRejected) {
  const uint64_t p = Malloc(100);
  EXPECT_ERRNO(engine().Free(pid_, p + 16), kInvalidArgument, "EINVAL");
  const uint64_t mapped = Map(pid_, kPage);
  EXPECT_ERRNO(engine().Free(pid_, mapped), kInvalidArgument, "EINVAL");
  EXPECT_OK(engine().Free(pid_, p));  // the real block is still live
}

TEST_F(MallocTest, FreeOfNullDoesNothing) { EXPECT_OK(engine().Free(pid_, 0)); }

TEST_F(MallocTest, FreedSmallBlockIsReusedForTheSameSize) {
  const uint64_t p = Malloc(48);
  ASSERT_OK(engine().Free(pid_, p));
  EXPECT_EQ(Malloc(48), p);
}

TEST_F(MallocTest, CallocMemoryReadsZeroEvenWhenReused) {
  const uint64_t p = Malloc(200);
  WritePattern(pid_, 1, p, 200);
  ASSERT_OK(engine().Free(pid_, p));
  uint64_t q = 0;
  ASSERT_OK(engine().Calloc(pid_, 10, 20, &q));
  EXPECT_EQ(q, p);  // the same block came back...
  EXPECT_TRUE(IsZero(pid_, q, 200));  // ...zeroed
  uint64_t big = 0;
  ASSERT_OK(engine().Calloc(pid_, 1000, 1000, &big));
  EXPECT_TRUE(IsZero(pid_, big, 1000 * 1000));
}

TEST_F(MallocTest, CallocOverflowFailsWithENOMEM) {
  uint64_t p = 0;
  EXPECT_ERRNO(engine().Calloc(pid_, 1ull << 33, 1ull << 33, &p), kResourceExhausted, "ENOMEM");
}

TEST_F(MallocTest, ReallocFromSmallToLargePreservesContents) {
  const uint64_t p = Malloc(100);
  WritePattern(pid_, 1, p, 100);
  uint64_t q = 0;
  ASSERT_OK(engine().Realloc(pid_, p, 400000, &q));
  EXPECT_EQ(ReadBytes(pid_, q, 100), Pattern(1, p, 100));
  WriteBytes(pid_, q + 399999, "e");  // the whole new size is usable
}

TEST_F(MallocTest, ReallocOfALargeBlockPreservesContents) {
  const uint64_t p = Malloc(300000);
  WritePattern(pid_, 1, p, 300000);
  const uint64_t blocker = Malloc(300000);  // likely right after p: growth may need a move
  uint64_t q = 0;
  ASSERT_OK(engine().Realloc(pid_, p, 3000000, &q));
  EXPECT_EQ(ReadChunked(pid_, q, 300000), Pattern(1, p, 300000));
  WriteBytes(pid_, q + 2999999, "e");
  if (q != p) EXPECT_FAULT(ReadStatus(pid_, p), kMapError, p);
  ASSERT_OK(engine().Free(pid_, q));
  ASSERT_OK(engine().Free(pid_, blocker));
  ExpectInvariants();
}

TEST_F(MallocTest, ReallocShrinkKeepsThePrefix) {
  const uint64_t p = Malloc(5000);
  WritePattern(pid_, 1, p, 5000);
  uint64_t q = 0;
  ASSERT_OK(engine().Realloc(pid_, p, 40, &q));
  EXPECT_EQ(ReadBytes(pid_, q, 40), Pattern(1, p, 40));
}

TEST_F(MallocTest, ReallocToZeroFrees) {
  const uint64_t p = Malloc(64);
  uint64_t q = 1;
  ASSERT_OK(engine().Realloc(pid_, p, 0, &q));
  EXPECT_EQ(q, 0u);
  const Status s = engine().Free(pid_, p);
  EXPECT_NE(s.message().find("double free"), std::string::npos) << s.ToString();
}

TEST_F(MallocTest, ReallocOfNullIsMalloc) {
  uint64_t q = 0;
  ASSERT_OK(engine().Realloc(pid_, 0, 100, &q));
  EXPECT_NE(q, 0u);
  WriteBytes(pid_, q + 99, "x");
  EXPECT_OK(engine().Free(pid_, q));
}

TEST_F(MallocTest, ReallocOfAForeignPointerIsRejected) {
  uint64_t q = 0;
  EXPECT_ERRNO(engine().Realloc(pid_, 0x123450, 100, &q), kInvalidArgument, "EINVAL");
}

TEST_F(MallocTest, FreedLargeBlockIsReturnedToTheSystem) {
  const uint64_t p = Malloc(1 << 20);
  WritePattern(pid_, 1, p, 1 << 20);
  const uint64_t used = FramesUsed();
  ASSERT_OK(engine().Free(pid_, p));
  EXPECT_EQ(FramesUsed(), used - (1 << 20) / kPage);
  EXPECT_FAULT(ReadStatus(pid_, p), kMapError, p);
}

TEST_F(MallocTest, HeapsOfDifferentProcessesAreIndependent) {
  const Pid other = NewProcess();
  const uint64_t p = Malloc(100);
  EXPECT_ERRNO(engine().Free(other, p), kInvalidArgument, "EINVAL");
  uint64_t q = 0;
  ASSERT_OK(engine().Malloc(other, 100, &q));
  WriteBytes(other, q, "other");
  WriteBytes(pid_, p, "mine!");
  EXPECT_EQ(ReadBytes(other, q, 5), "other");
  EXPECT_OK(engine().Free(pid_, p));
}

}  // namespace
}  // namespace memserver::conformance
