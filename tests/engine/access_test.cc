// Read and Write that succeed: any alignment and length, across pages and
// across mappings, zero-fill of untouched memory, and the size limits.
#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

class AccessTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    EngineOptions o = Options(64);
    o.max_io_bytes = 64 * 1024;
    ASSERT_OK(Open(o));
    pid_ = NewProcess();
  }
  Pid pid_ = 0;
};

TEST_F(AccessTest, UntouchedMemoryReadsZeroAndTakesNoFrame) {
  const uint64_t a = Map(pid_, 8 * page());
  const uint64_t free_before = engine().GetGlobalStats().frames_free;
  EXPECT_TRUE(CheckZero(pid_, a, 8 * page()));
  EXPECT_EQ(engine().GetGlobalStats().frames_free, free_before);
  EXPECT_EQ(Stats(pid_).resident_pages, 0u);
  ExpectInvariants();
}

TEST_F(AccessTest, FirstWriteTakesOneFrameAndCountsAMinorFault) {
  const uint64_t a = Map(pid_, 8 * page());
  const GlobalStats g0 = engine().GetGlobalStats();
  const ProcessStats p0 = Stats(pid_);
  WriteBytes(pid_, a + 3 * page() + 17, "hello");
  const GlobalStats g1 = engine().GetGlobalStats();
  const ProcessStats p1 = Stats(pid_);
  EXPECT_EQ(g1.frames_free, g0.frames_free - 1);
  EXPECT_EQ(p1.resident_pages, 1u);
  EXPECT_EQ(p1.minor_faults, p0.minor_faults + 1);
  EXPECT_EQ(p1.major_faults, 0u);
  // A second write to the same page takes nothing more.
  WriteBytes(pid_, a + 3 * page() + 100, "again");
  EXPECT_EQ(engine().GetGlobalStats().frames_free, g1.frames_free);
  EXPECT_EQ(Stats(pid_).minor_faults, p1.minor_faults);
  EXPECT_EQ(ReadBytes(pid_, a + 3 * page() + 17, 5), "hello");
  ExpectInvariants();
}

TEST_F(AccessTest, WrittenBytesReadBack) {
  const uint64_t a = Map(pid_, 4 * page());
  WritePattern(pid_, 1, a, 4 * page());
  EXPECT_TRUE(CheckPattern(pid_, 1, a, 4 * page()));
  ExpectInvariants();
}

TEST_F(AccessTest, UnalignedCrossPageWriteTouchesOnlyItsBytes) {
  const uint64_t a = Map(pid_, 4 * page());
  WritePattern(pid_, 1, a, 4 * page());
  // 3 bytes before and 5 after the boundary of pages 1 and 2, then a write
  // spanning three pages from an odd offset.
  WritePattern(pid_, 2, a + 2 * page() - 3, 8);
  WritePattern(pid_, 3, a + page() - 1, 2 * page() + 2);
  EXPECT_TRUE(CheckPattern(pid_, 1, a, page() - 1));
  EXPECT_TRUE(CheckPattern(pid_, 3, a + page() - 1, 2 * page() + 2));
  EXPECT_TRUE(CheckPattern(pid_, 1, a + 3 * page() + 1, page() - 1));
  ExpectInvariants();
}

TEST_F(AccessTest, UnalignedReadsSeeTheSameBytesAsAlignedOnes) {
  const uint64_t a = Map(pid_, 3 * page());
  WritePattern(pid_, 4, a, 3 * page());
  for (uint64_t off : {uint64_t{1}, page() - 1, page(), page() + 1, 2 * page() - 7}) {
    for (uint64_t len : {uint64_t{1}, uint64_t{2}, uint64_t{9}, page() + 3}) {
      if (off + len > 3 * page()) continue;
      EXPECT_TRUE(CheckPattern(pid_, 4, a + off, len)) << "off " << off << " len " << len;
    }
  }
}

TEST_F(AccessTest, ReadSpanningTwoAdjacentMappingsWithDifferentProt) {
  const uint64_t a = 1ull << 30;
  MapFixed(pid_, a, 2 * page());
  MapFixed(pid_, a + 2 * page(), 2 * page());
  WritePattern(pid_, 5, a, 4 * page());
  ASSERT_OK(engine().Mprotect(pid_, a + 2 * page(), 2 * page(), kProtRead));
  ASSERT_EQ(Mappings(pid_).size(), 2u);
  EXPECT_TRUE(CheckPattern(pid_, 5, a + page() + 11, 2 * page()));
  ExpectInvariants();
}

TEST_F(AccessTest, WriteSpanningTwoMappingsReachesBoth) {
  const uint64_t a = 1ull << 30;
  MapFixed(pid_, a, page(), kRW);
  MapFixed(pid_, a + page(), page(), kRW | kProtExec);
  ASSERT_EQ(Mappings(pid_).size(), 2u);
  WritePattern(pid_, 6, a + 10, 2 * page() - 20);
  EXPECT_TRUE(CheckPattern(pid_, 6, a + 10, 2 * page() - 20));
  EXPECT_TRUE(CheckZero(pid_, a, 10));
  EXPECT_TRUE(CheckZero(pid_, a + 2 * page() - 10, 10));
}

TEST_F(AccessTest, LastByteOfAMappingIsAccessible) {
  const uint64_t a = Map(pid_, page());
  WriteBytes(pid_, a + page() - 1, "!");
  EXPECT_EQ(ReadBytes(pid_, a + page() - 1, 1), "!");
}

TEST_F(AccessTest, ZeroLengthIsInvalidArgument) {
  const uint64_t a = Map(pid_, page());
  char c = 0;
  EXPECT_CODE(engine().Read(pid_, a, 0, &c), kInvalidArgument);
  EXPECT_CODE(engine().Write(pid_, a, std::string_view()), kInvalidArgument);
}

TEST_F(AccessTest, MoreThanMaxIoBytesIsResourceExhausted) {
  const uint64_t max = engine().options().max_io_bytes;
  const uint64_t a = Map(pid_, max + 2 * page());
  std::string out;
  EXPECT_CODE(ReadInto(pid_, a, max + 1, &out), kResourceExhausted);
  EXPECT_CODE(engine().Write(pid_, a, std::string(max + 1, 'x')), kResourceExhausted);
  EXPECT_EQ(Stats(pid_).resident_pages, 0u);
  // Exactly the limit is fine, even unaligned.
  WritePattern(pid_, 9, a + 1, max);
  EXPECT_TRUE(CheckPattern(pid_, 9, a + 1, max));
  ExpectInvariants();
}

TEST_F(AccessTest, UnknownPidIsNotFound) {
  std::string out;
  EXPECT_CODE(ReadInto(pid_ + 1000, 1ull << 30, 1, &out), kNotFound);
  EXPECT_CODE(engine().Write(pid_ + 1000, 1ull << 30, "x"), kNotFound);
}

TEST_F(AccessTest, StatsCountResidentPagesPerMapping) {
  const uint64_t a = Map(pid_, 4 * page());
  const uint64_t b = Map(pid_, 2 * page());
  WriteBytes(pid_, a, "a");
  WriteBytes(pid_, a + 3 * page(), "a");
  WriteBytes(pid_, b + page(), "b");
  const ProcessStats s = Stats(pid_);
  EXPECT_EQ(s.resident_pages, 3u);
  EXPECT_EQ(s.mappings, 2u);
  EXPECT_EQ(s.virtual_bytes, 6 * page());
  for (const MappingInfo& m : Mappings(pid_)) {
    EXPECT_EQ(m.resident_pages, m.start == a ? 2u : 1u) << std::hex << m.start;
  }
  ExpectInvariants();
}

TEST_F(AccessTest, SixteenKiBPagesSplitAccessesAtTheirOwnBoundaries) {
  OpenWithFrames(8, 16384);
  const Pid pid = NewProcess();
  const uint64_t a = Map(pid, 3 * page());
  EXPECT_EQ(page(), 16384u);
  WritePattern(pid, 10, a + page() - 5, page() + 10);
  EXPECT_TRUE(CheckZero(pid, a, page() - 5));
  EXPECT_TRUE(CheckPattern(pid, 10, a + page() - 5, page() + 10));
  // The last 5 bytes of page 0, all of page 1, the first 5 bytes of page 2.
  EXPECT_EQ(Stats(pid).resident_pages, 3u);
  ExpectInvariants();
}

}  // namespace
}  // namespace memserver
