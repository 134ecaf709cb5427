// The mapping calls beyond mmap through the client: mremap, brk/sbrk, mlock,
// madvise, MAP_POPULATE/MAP_LOCKED, and resource limits.
#include "tests/client/client_fixture.h"

namespace memserver::client {
namespace {

using MremapTest = ClientTest;
using BrkTest = ClientTest;
using MlockTest = ClientTest;
using MadviseTest = ClientTest;
using LimitsTest = ClientTest;

constexpr uint32_t kFixedAnon = kPrivateAnon | kMapFixedNoreplace;

TEST_F(MremapTest, GrowsInPlaceWhenThePagesAfterAreFree) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, kPage, kRw, kFixedAnon);
  p.Write(a, "stay");
  EXPECT_EQ(p.Mremap(a, kPage, 3 * kPage), a);
  std::vector<Mapping> m = p.Mappings();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].end, a + 3 * kPage);
  p.Write(a + 2 * kPage, "grown");
  EXPECT_EQ(p.Read(a, 4), "stay");
}

TEST_F(MremapTest, WithoutMayMoveABlockedGrowthFailsAndChangesNothing) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, kPage, kRw, kFixedAnon);
  p.Mmap(kBase + kPage, kPage, kProtRead, kFixedAnon);  // in the way
  Error e = ErrorOf([&] { p.Mremap(a, kPage, 2 * kPage); });
  EXPECT_EQ(e.code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(e.errno_name(), "ENOMEM");
  EXPECT_EQ(p.Mappings().size(), 2u);
}

TEST_F(MremapTest, MayMoveMovesTheContentAndUnmapsTheOldRange) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, kPage, kRw, kFixedAnon);
  p.Mmap(kBase + kPage, kPage, kProtRead, kFixedAnon);
  p.Write(a + 7, "moving content");
  uint64_t b = p.Mremap(a, kPage, 4 * kPage, kMremapMayMove);
  ASSERT_NE(b, a);
  EXPECT_EQ(p.Read(b + 7, 14), "moving content");
  EXPECT_EQ(ErrorOf([&] { p.Read(a, 1); }).fault_kind(), FaultKind::kMapError);
}

TEST_F(MremapTest, FixedMovesToExactlyTheNewAddress) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, 2 * kPage, kRw, kFixedAnon);
  p.Write(a + kPage, "page two");
  const uint64_t target = kBase + 64 * kPage;
  EXPECT_EQ(p.Mremap(a, 2 * kPage, 2 * kPage, kMremapMayMove | kMremapFixed, target), target);
  EXPECT_EQ(p.Read(target + kPage, 8), "page two");
}

TEST_F(MremapTest, FixedWithoutMayMoveIsInvalidArgument) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, kPage, kRw, kFixedAnon);
  EXPECT_EQ(ErrorOf([&] { p.Mremap(a, kPage, kPage, kMremapFixed, kBase + 64 * kPage); }).code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(BrkTest, BrkGrowsAWritableHeapAndSbrkReturnsThePreviousBreak) {
  Process p = client().CreateProcess();
  const uint64_t start = p.Brk();
  ASSERT_NE(start, 0u);
  EXPECT_EQ(p.Stats().brk, start);

  EXPECT_EQ(p.Brk(start + 3 * kPage), start + 3 * kPage);
  p.Write(start + 2 * kPage, "heap bytes");
  EXPECT_EQ(p.Read(start + 2 * kPage, 10), "heap bytes");
  std::vector<Mapping> m = p.Mappings();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].backing, "[heap]");

  EXPECT_EQ(p.Sbrk(static_cast<int64_t>(kPage)), start + 3 * kPage);
  EXPECT_EQ(p.Brk(), start + 4 * kPage);
  EXPECT_EQ(p.Sbrk(-static_cast<int64_t>(2 * kPage)), start + 4 * kPage);
  EXPECT_EQ(p.Brk(), start + 2 * kPage);
  EXPECT_EQ(ErrorOf([&] { p.Read(start + 2 * kPage, 1); }).fault_kind(), FaultKind::kMapError);
}

TEST_F(BrkTest, BreakBelowTheHeapStartIsRefusedAndStays) {
  Process p = client().CreateProcess();
  const uint64_t start = p.Brk();
  Error e = ErrorOf([&] { p.Brk(start - kPage); });
  EXPECT_EQ(e.code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ErrorOf([&] { p.Sbrk(-1); }).code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(p.Brk(), start);
}

TEST_F(MlockTest, MlockMarksTheRangeLockedResidentAndCounted) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, 4 * kPage, kRw, kFixedAnon);
  p.Mlock(a + kPage, 2 * kPage);
  std::vector<Mapping> m = p.Mappings();
  ASSERT_EQ(m.size(), 3u);  // split around the locked middle
  EXPECT_FALSE(m[0].locked);
  EXPECT_TRUE(m[1].locked);
  EXPECT_EQ(m[1].usage.locked, 2 * kPage);  // locked pages are made resident
  EXPECT_EQ(m[1].usage.rss, 2 * kPage);
  EXPECT_FALSE(m[2].locked);
  EXPECT_EQ(p.Stats().locked_bytes, 2 * kPage);
  EXPECT_EQ(client().GetGlobalStats().locked_pages, 2u);

  p.Munlock(a, 4 * kPage);
  EXPECT_EQ(p.Stats().locked_bytes, 0u);
  for (const Mapping& mapping : p.Mappings()) EXPECT_FALSE(mapping.locked);
}

TEST_F(MlockTest, MlockallCurrentLocksEveryMappingAndMunlockallUndoesIt) {
  Process p = client().CreateProcess();
  p.Mmap(kBase, kPage, kRw, kFixedAnon);
  p.Mmap(kBase + 8 * kPage, 2 * kPage, kProtRead, kFixedAnon);
  p.Mlockall(kMclCurrent);
  EXPECT_EQ(p.Stats().locked_bytes, 3 * kPage);
  p.Munlockall();
  EXPECT_EQ(p.Stats().locked_bytes, 0u);
}

TEST_F(MlockTest, MlockallFutureLocksLaterMappings) {
  Process p = client().CreateProcess();
  p.Mlockall(kMclFuture);
  uint64_t a = p.Mmap(kBase, 2 * kPage, kRw, kFixedAnon);
  std::vector<Mapping> m = p.Mappings();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].start, a);
  EXPECT_TRUE(m[0].locked);
}

TEST_F(MlockTest, MlockOverTheMemlockLimitIsResourceExhausted) {
  Process p = client().CreateProcess();
  Limits limits;
  limits.memlock = kPage;
  p.SetLimits(limits);
  uint64_t a = p.Mmap(kBase, 2 * kPage, kRw, kFixedAnon);
  Error e = ErrorOf([&] { p.Mlock(a, 2 * kPage); });
  EXPECT_EQ(e.code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(p.Stats().locked_bytes, 0u);
  p.Mlock(a, kPage);  // within the limit
  EXPECT_EQ(p.Stats().locked_bytes, kPage);
}

TEST_F(MlockTest, MapLockedAndMapPopulateMakeEveryPageResident) {
  Process p = client().CreateProcess();
  p.Mmap({kBase, 3 * kPage, kRw, kFixedAnon | kMapPopulate, "", 0});
  EXPECT_EQ(p.Stats().resident_pages, 3u);
  p.Mmap({kBase + 16 * kPage, 2 * kPage, kRw, kFixedAnon | kMapLocked, "", 0});
  std::vector<Mapping> m = p.Mappings();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_FALSE(m[0].locked);
  EXPECT_TRUE(m[1].locked);
  EXPECT_EQ(m[1].usage.locked, 2 * kPage);
}

TEST_F(MadviseTest, DontNeedOnPrivateAnonymousMemoryReadsZerosAfter) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, 2 * kPage, kRw, kFixedAnon);
  p.Write(a, "forget me");
  p.Write(a + kPage, "keep me");
  p.Madvise(a, kPage, Advice::kDontNeed);
  EXPECT_EQ(p.Read(a, 9), std::string(9, '\0'));
  EXPECT_EQ(p.Read(a + kPage, 7), "keep me");
}

TEST_F(MadviseTest, WipeOnForkGivesTheChildZerosAndDontForkNoMapping) {
  Process p = client().CreateProcess();
  uint64_t wipe = p.Mmap(kBase, kPage, kRw, kFixedAnon);
  uint64_t hidden = p.Mmap(kBase + 8 * kPage, kPage, kRw, kFixedAnon);
  p.Write(wipe, "secret");
  p.Write(hidden, "private");
  p.Madvise(wipe, kPage, Advice::kWipeOnFork);
  p.Madvise(hidden, kPage, Advice::kDontFork);
  Process child = p.Fork();
  EXPECT_EQ(child.Read(wipe, 6), std::string(6, '\0'));
  EXPECT_EQ(ErrorOf([&] { child.Read(hidden, 1); }).fault_kind(), FaultKind::kMapError);
  EXPECT_EQ(p.Read(wipe, 6), "secret");
  EXPECT_EQ(p.Read(hidden, 7), "private");
}

TEST_F(MadviseTest, AdviceHintsAreAcceptedAndUnknownAdviceIsInvalidArgument) {
  Process p = client().CreateProcess();
  uint64_t a = p.Mmap(kBase, kPage, kRw, kFixedAnon);
  for (Advice advice : {Advice::kNormal, Advice::kRandom, Advice::kSequential, Advice::kWillNeed,
                        Advice::kFree, Advice::kDoFork, Advice::kKeepOnFork}) {
    p.Madvise(a, kPage, advice);
  }
  EXPECT_EQ(ErrorOf([&] { p.Madvise(a, kPage, static_cast<Advice>(99)); }).code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  Error unmapped = ErrorOf([&] { p.Madvise(a, 2 * kPage, Advice::kNormal); });
  EXPECT_EQ(unmapped.code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(unmapped.errno_name(), "ENOMEM");
}

TEST_F(LimitsTest, NewProcessHasTheServerDefaults) {
  Process p = client().CreateProcess();
  Limits limits = p.GetLimits();
  EXPECT_EQ(limits.as, kUnlimited);
  EXPECT_EQ(limits.data, kUnlimited);
  EXPECT_EQ(limits.stack, 8ull << 20);
  EXPECT_EQ(limits.memlock, 8ull << 20);
}

TEST_F(LimitsTest, SetChangesOnlyTheGivenFieldsAndRoundTrips) {
  Process p = client().CreateProcess();
  Limits change;
  change.as = 64 * kPage;
  change.memlock = kUnlimited;
  p.SetLimits(change);
  Limits after = p.GetLimits();
  EXPECT_EQ(after.as, 64 * kPage);
  EXPECT_EQ(after.memlock, kUnlimited);
  EXPECT_EQ(after.data, kUnlimited);   // unchanged
  EXPECT_EQ(after.stack, 8ull << 20);  // unchanged
  Limits in_stats = p.Stats().limits;
  EXPECT_EQ(in_stats.as, after.as);
  EXPECT_EQ(in_stats.memlock, after.memlock);

  Limits back;
  back.as = kUnlimited;
  p.SetLimits(back);
  EXPECT_EQ(p.GetLimits().as, kUnlimited);
}

TEST_F(LimitsTest, AddressSpaceLimitRefusesALargerMapping) {
  Process p = client().CreateProcess();
  Limits limits;
  limits.as = 4 * kPage;
  p.SetLimits(limits);
  p.Mmap(kBase, 3 * kPage, kRw, kFixedAnon);
  Error e = ErrorOf([&] { p.Mmap(kBase + 8 * kPage, 2 * kPage, kRw, kFixedAnon); });
  EXPECT_EQ(e.code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(p.Mappings().size(), 1u);
}

TEST_F(LimitsTest, LimitsOfUnknownPidAreNotFound) {
  EXPECT_EQ(ErrorOf([&] { client().GetLimits(987654321); }).code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ErrorOf([&] { client().SetLimits(987654321, Limits{}); }).code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace memserver::client
