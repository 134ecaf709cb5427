// Munmap and Mprotect: validation, splitting of mappings at any page
// boundary (head, middle, tail), merging back, and what happens to content,
// as munmap(2) and mprotect(2).
#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

class RangeOpsTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    OpenWithFrames(32);
    pid_ = NewProcess();
    a_ = 1ull << 30;
    // Four pages of pattern at a fixed address: [a_, a_ + 4 pages).
    MapFixed(pid_, a_, 4 * page());
    WritePattern(pid_, 7, a_, 4 * page());
  }
  uint64_t P(uint64_t n) const { return a_ + n * page(); }
  Pid pid_ = 0;
  uint64_t a_ = 0;
};

using MunmapTest = RangeOpsTest;
using MprotectTest = RangeOpsTest;

TEST_F(MunmapTest, UnalignedAddressIsInvalidArgument) {
  const Status s = engine().Munmap(pid_, P(1) + 1, page());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.errno_name(), "EINVAL");
  EXPECT_EQ(Mappings(pid_).size(), 1u);
}

TEST_F(MunmapTest, ZeroLengthIsInvalidArgument) {
  EXPECT_CODE(engine().Munmap(pid_, P(0), 0), kInvalidArgument);
  EXPECT_EQ(Mappings(pid_).size(), 1u);
}

TEST_F(MunmapTest, UnmappedRangeIsOk) {
  EXPECT_OK(engine().Munmap(pid_, P(10), 4 * page()));
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(4), kRW}}));
  ExpectInvariants();
}

TEST_F(MunmapTest, HeadShrinksTheMapping) {
  ASSERT_OK(engine().Munmap(pid_, P(0), page()));
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(1), P(4), kRW}}));
  EXPECT_TRUE(CheckPattern(pid_, 7, P(1), 3 * page()));
  std::string out;
  EXPECT_FAULT(ReadInto(pid_, P(0), 1, &out), kMapError, P(0));
  ExpectInvariants();
}

TEST_F(MunmapTest, MiddleSplitsTheMapping) {
  ASSERT_OK(engine().Munmap(pid_, P(1), 2 * page()));
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(1), kRW}, {P(3), P(4), kRW}}));
  EXPECT_TRUE(CheckPattern(pid_, 7, P(0), page()));
  EXPECT_TRUE(CheckPattern(pid_, 7, P(3), page()));
  std::string out;
  EXPECT_FAULT(ReadInto(pid_, P(2), 1, &out), kMapError, P(2));
  EXPECT_EQ(Stats(pid_).virtual_bytes, 2 * page());
  EXPECT_EQ(Stats(pid_).mappings, 2u);
  ExpectInvariants();
}

TEST_F(MunmapTest, TailShrinksTheMapping) {
  ASSERT_OK(engine().Munmap(pid_, P(3), page()));
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(3), kRW}}));
  EXPECT_TRUE(CheckPattern(pid_, 7, P(0), 3 * page()));
  ExpectInvariants();
}

TEST_F(MunmapTest, LengthIsRoundedUpToWholePages) {
  ASSERT_OK(engine().Munmap(pid_, P(3), 1));
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(3), kRW}}));
}

TEST_F(MunmapTest, RangeCoveringHolesAndSeveralMappingsRemovesThemAll) {
  MapFixed(pid_, P(6), 2 * page(), kProtRead);
  // From the middle of the first mapping, over the hole, into the second.
  ASSERT_OK(engine().Munmap(pid_, P(2), 5 * page()));
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(2), kRW}, {P(7), P(8), kProtRead}}));
  EXPECT_TRUE(CheckPattern(pid_, 7, P(0), 2 * page()));
  ExpectInvariants();
}

TEST_F(MunmapTest, FreesTheFramesOfUnmappedPages) {
  const GlobalStats before = engine().GetGlobalStats();
  ASSERT_OK(engine().Munmap(pid_, P(0), 4 * page()));
  const GlobalStats after = engine().GetGlobalStats();
  EXPECT_EQ(after.frames_free, before.frames_free + 4);
  EXPECT_EQ(after.frames_free, after.frames_total);
  EXPECT_TRUE(Mappings(pid_).empty());
  EXPECT_EQ(Stats(pid_).resident_pages, 0u);
  ExpectInvariants();
}

TEST_F(MunmapTest, RemappedRangeReadsZero) {
  ASSERT_OK(engine().Munmap(pid_, P(1), page()));
  MapFixed(pid_, P(1), page());
  EXPECT_TRUE(CheckZero(pid_, P(1), page()));
  EXPECT_TRUE(CheckPattern(pid_, 7, P(0), page()));
  EXPECT_TRUE(CheckPattern(pid_, 7, P(2), 2 * page()));
  ExpectInvariants();
}

TEST_F(MprotectTest, UnalignedAddressIsInvalidArgument) {
  const Status s = engine().Mprotect(pid_, P(1) + 8, page(), kProtRead);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.errno_name(), "EINVAL");
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(4), kRW}}));
}

TEST_F(MprotectTest, UnknownProtBitsAreInvalidArgument) {
  EXPECT_CODE(engine().Mprotect(pid_, P(0), page(), kProtRead | 0x10), kInvalidArgument);
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(4), kRW}}));
}

TEST_F(MprotectTest, RangeWithAHoleIsENOMEMAndChangesNothing) {
  MapFixed(pid_, P(5), page());
  const std::vector<Span> before = Spans(Mappings(pid_));
  const Status s = engine().Mprotect(pid_, P(2), 4 * page(), kProtRead);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(s.errno_name(), "ENOMEM");
  EXPECT_EQ(Spans(Mappings(pid_)), before);
  // Still writable everywhere.
  WritePattern(pid_, 8, P(0), 4 * page());
  WritePattern(pid_, 8, P(5), page());
  ExpectInvariants();
}

TEST_F(MprotectTest, RangeStartingInAHoleIsENOMEM) {
  const Status s = engine().Mprotect(pid_, P(0) - page(), 2 * page(), kProtRead);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(s.errno_name(), "ENOMEM");
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(4), kRW}}));
}

TEST_F(MprotectTest, HeadSplitsTheMapping) {
  ASSERT_OK(engine().Mprotect(pid_, P(0), page(), kProtRead));
  EXPECT_EQ(Spans(Mappings(pid_)),
            (std::vector<Span>{{P(0), P(1), kProtRead}, {P(1), P(4), kRW}}));
  EXPECT_TRUE(CheckPattern(pid_, 7, P(0), 4 * page()));
  ExpectInvariants();
}

TEST_F(MprotectTest, MiddleSplitsTheMappingInThree) {
  ASSERT_OK(engine().Mprotect(pid_, P(1), 2 * page(), kProtRead));
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(1), kRW},
                                                        {P(1), P(3), kProtRead},
                                                        {P(3), P(4), kRW}}));
  EXPECT_EQ(Stats(pid_).mappings, 3u);
  EXPECT_EQ(Stats(pid_).virtual_bytes, 4 * page());
  EXPECT_TRUE(CheckPattern(pid_, 7, P(0), 4 * page()));
  // Per-mapping resident counts follow the split.
  for (const MappingInfo& m : Mappings(pid_)) {
    EXPECT_EQ(m.resident_pages + m.swapped_pages, (m.end - m.start) / page());
  }
  ExpectInvariants();
}

TEST_F(MprotectTest, TailSplitsTheMapping) {
  ASSERT_OK(engine().Mprotect(pid_, P(3), page(), kProtNone));
  EXPECT_EQ(Spans(Mappings(pid_)),
            (std::vector<Span>{{P(0), P(3), kRW}, {P(3), P(4), kProtNone}}));
  ExpectInvariants();
}

TEST_F(MprotectTest, RestoringTheProtMergesTheMappingBack) {
  ASSERT_OK(engine().Mprotect(pid_, P(1), page(), kProtRead));
  ASSERT_EQ(Mappings(pid_).size(), 3u);
  ASSERT_OK(engine().Mprotect(pid_, P(1), page(), kRW));
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(4), kRW}}));
  EXPECT_TRUE(CheckPattern(pid_, 7, P(0), 4 * page()));
  ExpectInvariants();
}

TEST_F(MprotectTest, RangeOverSeveralMappingsMergesThemIntoOne) {
  ASSERT_OK(engine().Mprotect(pid_, P(0), page(), kProtRead));
  ASSERT_OK(engine().Mprotect(pid_, P(2), page(), kProtNone));
  ASSERT_EQ(Mappings(pid_).size(), 4u);
  ASSERT_OK(engine().Mprotect(pid_, P(0), 4 * page(), kProtRead));
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{P(0), P(4), kProtRead}}));
  ExpectInvariants();
}

TEST_F(MprotectTest, ReadOnlyForbidsWritesButKeepsContent) {
  ASSERT_OK(engine().Mprotect(pid_, P(0), 4 * page(), kProtRead));
  EXPECT_FAULT(engine().Write(pid_, P(2) + 5, "no"), kAccessError, P(2) + 5);
  EXPECT_TRUE(CheckPattern(pid_, 7, P(0), 4 * page()));
  ASSERT_OK(engine().Mprotect(pid_, P(0), 4 * page(), kRW));
  WriteBytes(pid_, P(2) + 5, "ok");
  EXPECT_EQ(ReadBytes(pid_, P(2) + 5, 2), "ok");
}

TEST_F(MprotectTest, ProtNoneForbidsReads) {
  ASSERT_OK(engine().Mprotect(pid_, P(1), page(), kProtNone));
  std::string out;
  EXPECT_FAULT(ReadInto(pid_, P(1) + 100, 10, &out), kAccessError, P(1) + 100);
  EXPECT_FAULT(engine().Write(pid_, P(1), "x"), kAccessError, P(1));
  ASSERT_OK(engine().Mprotect(pid_, P(1), page(), kProtRead));
  EXPECT_TRUE(CheckPattern(pid_, 7, P(1), page()));
}

TEST_F(MprotectTest, LengthIsRoundedUpToWholePages) {
  ASSERT_OK(engine().Mprotect(pid_, P(3), 1, kProtRead));
  EXPECT_EQ(Spans(Mappings(pid_)),
            (std::vector<Span>{{P(0), P(3), kRW}, {P(3), P(4), kProtRead}}));
}

TEST_F(MprotectTest, UnknownPidIsNotFound) {
  EXPECT_CODE(engine().Mprotect(pid_ + 1000, P(0), page(), kProtRead), kNotFound);
  EXPECT_CODE(engine().Munmap(pid_ + 1000, P(0), page()), kNotFound);
}

}  // namespace
}  // namespace memserver
