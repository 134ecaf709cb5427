// Mmap: argument validation, placement (hint, automatic, MAP_FIXED,
// MAP_FIXED_NOREPLACE) and the limits of the address space, as mmap(2).
#include "tests/engine/engine_fixture.h"

namespace memserver {
namespace {

class MmapTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    OpenWithFrames(32);
    pid_ = NewProcess();
  }
  Pid pid_ = 0;
};

TEST_F(MmapTest, ZeroLengthIsInvalidArgument) {
  const Status s = MmapStatus(pid_, 0, 0, kRW, kAnon);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.errno_name(), "EINVAL");
  EXPECT_TRUE(Mappings(pid_).empty());
  ExpectInvariants();
}

TEST_F(MmapTest, LengthIsRoundedUpToWholePages) {
  const uint64_t a = Map(pid_, 1);
  ASSERT_NE(a, 0u);
  EXPECT_EQ(a % page(), 0u);
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{a, a + page(), kRW}}));
  const uint64_t b = Map(pid_, page() + 1);
  EXPECT_EQ(Stats(pid_).virtual_bytes, 3 * page());
  // The rounded-up tail is mapped memory: writable and zero-filled.
  EXPECT_TRUE(CheckZero(pid_, b + page(), page()));
  WriteBytes(pid_, b + 2 * page() - 1, "x");
  ExpectInvariants();
}

TEST_F(MmapTest, UnknownProtBitsAreInvalidArgument) {
  EXPECT_CODE(MmapStatus(pid_, 0, page(), kRW | 0x8, kAnon), kInvalidArgument);
  EXPECT_CODE(MmapStatus(pid_, 0, page(), 0x80000000u, kAnon), kInvalidArgument);
  EXPECT_TRUE(Mappings(pid_).empty());
}

TEST_F(MmapTest, UnknownFlagBitsAreInvalidArgument) {
  EXPECT_CODE(MmapStatus(pid_, 0, page(), kRW, kAnon | 0x1000), kInvalidArgument);  // MAP_DENYWRITE
  EXPECT_CODE(MmapStatus(pid_, 0, page(), kRW, kAnon | 0x80000000u), kInvalidArgument);
  EXPECT_TRUE(Mappings(pid_).empty());
}

TEST_F(MmapTest, NeitherPrivateNorSharedIsInvalidArgument) {
  EXPECT_CODE(MmapStatus(pid_, 0, page(), kRW, kMapAnonymous), kInvalidArgument);
  EXPECT_TRUE(Mappings(pid_).empty());
}

TEST_F(MmapTest, BothPrivateAndSharedIsInvalidArgument) {
  EXPECT_CODE(MmapStatus(pid_, 0, page(), kRW, kMapAnonymous | kMapPrivate | kMapShared),
              kInvalidArgument);
  EXPECT_TRUE(Mappings(pid_).empty());
}

TEST_F(MmapTest, FixedWithUnalignedAddressIsInvalidArgument) {
  EXPECT_CODE(MmapStatus(pid_, (1ull << 30) + 1, page(), kRW, kAnon | kMapFixed),
              kInvalidArgument);
  EXPECT_CODE(MmapStatus(pid_, (1ull << 30) + 1, page(), kRW, kAnon | kMapFixedNoReplace),
              kInvalidArgument);
  EXPECT_TRUE(Mappings(pid_).empty());
}

TEST_F(MmapTest, FixedMapsAtTheExactAddress) {
  const uint64_t a = 1ull << 30;
  MapFixed(pid_, a, 3 * page(), kProtRead);
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{a, a + 3 * page(), kProtRead}}));
  ExpectInvariants();
}

TEST_F(MmapTest, FixedReplacesExistingMappingsAndTheirContent) {
  const uint64_t a = 1ull << 30;
  MapFixed(pid_, a, 4 * page());
  WritePattern(pid_, 1, a, 4 * page());
  const uint64_t free_before = engine().GetGlobalStats().frames_free;

  MapFixed(pid_, a + page(), 2 * page(), kProtRead);

  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{a, a + page(), kRW},
                                                        {a + page(), a + 3 * page(), kProtRead},
                                                        {a + 3 * page(), a + 4 * page(), kRW}}));
  EXPECT_TRUE(CheckPattern(pid_, 1, a, page()));
  EXPECT_TRUE(CheckZero(pid_, a + page(), 2 * page()));
  EXPECT_TRUE(CheckPattern(pid_, 1, a + 3 * page(), page()));
  // The two replaced pages gave their frames back.
  EXPECT_EQ(engine().GetGlobalStats().frames_free, free_before + 2);
  ExpectInvariants();
}

TEST_F(MmapTest, FixedOverSeveralMappingsReplacesAllOfThem) {
  const uint64_t a = 1ull << 30;
  MapFixed(pid_, a, page());
  MapFixed(pid_, a + 2 * page(), page(), kProtRead);
  WritePattern(pid_, 1, a, page());
  MapFixed(pid_, a, 3 * page(), kProtRead | kProtExec);
  EXPECT_EQ(Spans(Mappings(pid_)),
            (std::vector<Span>{{a, a + 3 * page(), kProtRead | kProtExec}}));
  EXPECT_TRUE(CheckZero(pid_, a, 3 * page()));
  ExpectInvariants();
}

TEST_F(MmapTest, FixedNoReplaceOverAMappingIsAlreadyExists) {
  const uint64_t a = 1ull << 30;
  MapFixed(pid_, a, 2 * page());
  WritePattern(pid_, 1, a, 2 * page());
  // Exactly over it, and only overlapping its last page.
  for (uint64_t at : {a, a + page()}) {
    const Status s = MmapStatus(pid_, at, 2 * page(), kProtRead, kAnon | kMapFixedNoReplace);
    EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
    EXPECT_EQ(s.errno_name(), "EEXIST");
  }
  EXPECT_EQ(Spans(Mappings(pid_)), (std::vector<Span>{{a, a + 2 * page(), kRW}}));
  EXPECT_TRUE(CheckPattern(pid_, 1, a, 2 * page()));
  ExpectInvariants();
}

TEST_F(MmapTest, FixedNoReplaceOnFreeRangeMapsThere) {
  const uint64_t a = 1ull << 30;
  MapFixed(pid_, a, page());
  uint64_t got = 0;
  ASSERT_OK(MmapStatus(pid_, a + page(), page(), kProtRead, kAnon | kMapFixedNoReplace, &got));
  EXPECT_EQ(got, a + page());
  EXPECT_EQ(Spans(Mappings(pid_)),
            (std::vector<Span>{{a, a + page(), kRW}, {a + page(), a + 2 * page(), kProtRead}}));
}

TEST_F(MmapTest, FreeAlignedHintIsUsed) {
  const uint64_t hint = 1ull << 32;
  EXPECT_EQ(Map(pid_, 2 * page(), kRW, kAnon, hint), hint);
}

TEST_F(MmapTest, OccupiedHintFallsBackToAnotherPlace) {
  const uint64_t hint = 1ull << 32;
  ASSERT_EQ(Map(pid_, 2 * page(), kRW, kAnon, hint), hint);
  WritePattern(pid_, 1, hint, 2 * page());
  const uint64_t b = Map(pid_, 2 * page(), kRW, kAnon, hint);
  ASSERT_NE(b, 0u);
  EXPECT_TRUE(b + 2 * page() <= hint || b >= hint + 2 * page()) << std::hex << b;
  EXPECT_EQ(Mappings(pid_).size(), 2u);
  EXPECT_TRUE(CheckPattern(pid_, 1, hint, 2 * page()));
  ExpectInvariants();
}

TEST_F(MmapTest, HintBelowMinAddressIsNotUsed) {
  const uint64_t a = Map(pid_, page(), kRW, kAnon, page());
  EXPECT_GE(a, engine().options().mmap_min_addr);
}

TEST_F(MmapTest, FixedBelowMinAddressFails) {
  EXPECT_FALSE(MmapStatus(pid_, page(), page(), kRW, kAnon | kMapFixed).ok());
  EXPECT_FALSE(MmapStatus(pid_, 0, page(), kRW, kAnon | kMapFixed).ok());
  EXPECT_TRUE(Mappings(pid_).empty());
}

TEST_F(MmapTest, AutomaticPlacementIsTopDownWithAGuardGap) {
  const uint64_t top = 1ull << engine().options().address_bits;
  const uint64_t a = Map(pid_, 4 * page());
  const uint64_t b = Map(pid_, 4 * page());
  ASSERT_NE(a, 0u);
  ASSERT_NE(b, 0u);
  EXPECT_LE(a + 4 * page(), top);
  EXPECT_GE(b, engine().options().mmap_min_addr);
  EXPECT_LT(b, a) << "placement should go down from the top";
  EXPECT_LE(b + 4 * page() + page(), a) << "no guard gap between automatic mappings";
  EXPECT_EQ(Mappings(pid_).size(), 2u);
}

TEST_F(MmapTest, SharedAnonymousMappingHoldsData) {
  const uint64_t a = Map(pid_, 2 * page(), kRW, kMapShared | kMapAnonymous);
  ASSERT_NE(a, 0u);
  WritePattern(pid_, 3, a + 100, page());
  EXPECT_TRUE(CheckPattern(pid_, 3, a + 100, page()));
  const std::vector<MappingInfo> m = Mappings(pid_);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].flags & (kMapShared | kMapPrivate), kMapShared);
}

TEST_F(MmapTest, ListMappingsReportsProtAndPrivateFlag) {
  const uint64_t a = Map(pid_, page(), kProtRead | kProtExec);
  const std::vector<MappingInfo> m = Mappings(pid_);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].start, a);
  EXPECT_EQ(m[0].end, a + page());
  EXPECT_EQ(m[0].prot, kProtRead | kProtExec);
  EXPECT_EQ(m[0].flags & (kMapShared | kMapPrivate), kMapPrivate);
  EXPECT_EQ(m[0].resident_pages, 0u);
  EXPECT_EQ(m[0].swapped_pages, 0u);
}

TEST_F(MmapTest, UnknownPidIsNotFound) {
  EXPECT_CODE(MmapStatus(pid_ + 1000, 0, page(), kRW, kAnon), kNotFound);
}

class SmallAddressSpaceTest : public EngineFixture {
 protected:
  void SetUp() override {
    EngineFixture::SetUp();
    EngineOptions o = Options(16);
    o.address_bits = 32;
    o.max_mappings = 8;
    ASSERT_OK(Open(o));
    pid_ = NewProcess();
  }
  static constexpr uint64_t kTop = 1ull << 32;
  Pid pid_ = 0;
};

static bool IsNoRoom(const Status& s) {
  return s.code() == StatusCode::kResourceExhausted || s.code() == StatusCode::kInvalidArgument;
}

TEST_F(SmallAddressSpaceTest, LengthLargerThanTheSpaceIsResourceExhausted) {
  const Status s = MmapStatus(pid_, 0, kTop, kRW, kAnon);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  EXPECT_EQ(s.errno_name(), "ENOMEM");
  EXPECT_TRUE(Mappings(pid_).empty());
}

TEST_F(SmallAddressSpaceTest, LengthThatOverflowsWhenRoundedFails) {
  const Status s = MmapStatus(pid_, 0, UINT64_MAX - 10, kRW, kAnon);
  EXPECT_TRUE(IsNoRoom(s)) << s.ToString();
  EXPECT_TRUE(Mappings(pid_).empty());
}

TEST_F(SmallAddressSpaceTest, FullSpaceIsResourceExhausted) {
  const uint64_t a = Map(pid_, 2ull << 30);
  ASSERT_NE(a, 0u);
  EXPECT_CODE(MmapStatus(pid_, 0, 2ull << 30, kRW, kAnon), kResourceExhausted);
  // A smaller mapping still fits.
  EXPECT_NE(Map(pid_, 1ull << 30), 0u);
  ExpectInvariants();
}

TEST_F(SmallAddressSpaceTest, FixedPastTheTopFails) {
  const Status s = MmapStatus(pid_, kTop - page(), 2 * page(), kRW, kAnon | kMapFixed);
  EXPECT_TRUE(IsNoRoom(s)) << s.ToString();
  const Status wrap = MmapStatus(pid_, UINT64_MAX - page() + 1, 2 * page(), kRW, kAnon | kMapFixed);
  EXPECT_TRUE(IsNoRoom(wrap)) << wrap.ToString();
  EXPECT_TRUE(Mappings(pid_).empty());
  // The last page below the top is fine.
  MapFixed(pid_, kTop - page(), page());
  WriteBytes(pid_, kTop - 1, "z");
}

TEST_F(SmallAddressSpaceTest, TooManyMappingsIsResourceExhausted) {
  for (int i = 0; i < 8; ++i) ASSERT_NE(Map(pid_, page()), 0u) << i;
  EXPECT_CODE(MmapStatus(pid_, 0, page(), kRW, kAnon), kResourceExhausted);
  EXPECT_EQ(Mappings(pid_).size(), 8u);
  ExpectInvariants();
}

}  // namespace
}  // namespace memserver
