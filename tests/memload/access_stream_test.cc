#include "client/memload/access_stream.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace memserver::memload {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kBase = 0x10000000;

TEST(AccessStreamTest, SmallAccessesPickAPageThenAnAlignedSlot) {
  ItemGeometry g = ComputeGeometry(Workload::kUniform, 1 << 20, kPage, 64);
  EXPECT_EQ(g.item_bytes, kPage);
  EXPECT_EQ(g.items, 256u);
  EXPECT_EQ(g.slots_per_item, 64u);
}

TEST(AccessStreamTest, LargeAccessesMakeAccessSizedItems) {
  ItemGeometry g = ComputeGeometry(Workload::kZipfian, 1 << 20, kPage, 64 << 10);
  EXPECT_EQ(g.item_bytes, 64u << 10);
  EXPECT_EQ(g.items, 16u);
  EXPECT_EQ(g.slots_per_item, 1u);
}

TEST(AccessStreamTest, SequentialWalksAccessSizedSlots) {
  ItemGeometry g = ComputeGeometry(Workload::kSequential, 1 << 20, kPage, 64);
  EXPECT_EQ(g.item_bytes, 64u);
  EXPECT_EQ(g.items, (1u << 20) / 64);
}

TEST(AccessStreamTest, RegionSmallerThanAPageStillHasAnItem) {
  ItemGeometry g = ComputeGeometry(Workload::kUniform, 1000, kPage, 64);
  EXPECT_EQ(g.items, 1u);
  EXPECT_EQ(g.slots_per_item, 15u);  // 15 * 64 = 960 <= 1000
}

TEST(AccessStreamTest, SyntheticAccessesStayInsideTheRegionAndAreAligned) {
  for (Workload kind : {Workload::kUniform, Workload::kZipfian, Workload::kSequential,
                        Workload::kHotset}) {
    for (uint64_t access : {8u, 100u, 4096u, 6000u, 1u << 20}) {
      for (uint64_t region_bytes : {uint64_t{1} << 20, uint64_t{3} << 20, uint64_t{12345} * 8}) {
        if (access > region_bytes) continue;
        const Region region{7, kBase, region_bytes};
        WorkloadSpec spec;
        spec.kind = kind;
        const ItemGeometry g = ComputeGeometry(kind, region_bytes, kPage, access);
        auto keys = MakeKeyGenerators(spec, g.items, 1, false);
        auto stream = MakeSyntheticStream(region, g, std::move(keys.front()),
                                          OpMix{1.0, access}, 3);
        Access a;
        for (int i = 0; i < 3000; ++i) {
          ASSERT_TRUE(stream->Next(i * 0.01, &a));
          ASSERT_EQ(a.pid, 7u);
          ASSERT_EQ(a.length, access);
          ASSERT_GE(a.addr, kBase);
          ASSERT_LE(a.addr + a.length, kBase + region_bytes)
              << WorkloadName(kind) << " access " << access << " region " << region_bytes;
          const uint64_t offset = a.addr - kBase;
          if (access < kPage && kind != Workload::kSequential) {
            ASSERT_EQ(offset % kPage % access, 0u);  // aligned inside its page
          } else {
            ASSERT_EQ(offset % access, 0u);
          }
        }
      }
    }
  }
}

TEST(AccessStreamTest, AccessesSmallerThanAPageNeverStraddlePages) {
  const Region region{1, kBase, 1 << 20};
  const ItemGeometry g = ComputeGeometry(Workload::kUniform, region.bytes, kPage, 1000);
  auto keys = MakeKeyGenerators(WorkloadSpec(), g.items, 1, false);
  auto stream = MakeSyntheticStream(region, g, std::move(keys.front()), OpMix{1.0, 1000}, 1);
  Access a;
  for (int i = 0; i < 5000; ++i) {
    ASSERT_TRUE(stream->Next(0, &a));
    ASSERT_EQ(a.addr / kPage, (a.addr + a.length - 1) / kPage);
    ASSERT_EQ((a.addr % kPage) % 1000, 0u);
  }
}

TEST(AccessStreamTest, ReadRatioSplitsReadsAndWrites) {
  const Region region{1, kBase, 1 << 20};
  const ItemGeometry g = ComputeGeometry(Workload::kUniform, region.bytes, kPage, kPage);
  for (double ratio : {0.0, 0.3, 1.0}) {
    auto keys = MakeKeyGenerators(WorkloadSpec(), g.items, 1, false);
    auto stream = MakeSyntheticStream(region, g, std::move(keys.front()), OpMix{ratio, kPage}, 9);
    int reads = 0;
    Access a;
    for (int i = 0; i < 100000; ++i) {
      ASSERT_TRUE(stream->Next(0, &a));
      reads += !a.write;
    }
    EXPECT_NEAR(reads / 100000.0, ratio, 0.01) << ratio;
  }
}

TEST(AccessStreamTest, TraceBlocksMapToPagesOfTheRegion) {
  BlockTrace trace;
  ASSERT_TRUE(ParseTraceText("3\n0\n9\n", TraceFormat::kLirs, &trace).ok());
  TraceCursor cursor(trace.blocks.size());
  const Region region{4, kBase, 10 * kPage};
  auto stream = MakeTraceStream(region, trace, &cursor, kPage, OpMix{1.0, kPage}, 1);
  Access a;
  std::vector<uint64_t> addrs;
  while (stream->Next(0, &a)) {
    EXPECT_EQ(a.pid, 4u);
    EXPECT_EQ(a.length, kPage);
    EXPECT_FALSE(a.write);
    addrs.push_back(a.addr);
  }
  EXPECT_EQ(addrs, (std::vector<uint64_t>{kBase + 3 * kPage, kBase, kBase + 9 * kPage}));
  EXPECT_FALSE(stream->Next(0, &a));  // stays exhausted
}

TEST(AccessStreamTest, ConcurrentTraceStreamsDealEveryAccessExactlyOnce) {
  BlockTrace trace;
  std::string text;
  for (int i = 0; i < 20000; ++i) text += std::to_string(i) + "\n";
  ASSERT_TRUE(ParseTraceText(text, TraceFormat::kLirs, &trace).ok());
  TraceCursor cursor(trace.blocks.size());
  const Region region{1, 0, 20001 * kPage};
  constexpr int kStreams = 4;
  std::vector<std::vector<uint64_t>> seen(kStreams);
  std::vector<std::thread> threads;
  for (int s = 0; s < kStreams; ++s) {
    threads.emplace_back([&, s] {
      auto stream = MakeTraceStream(region, trace, &cursor, kPage, OpMix{1.0, kPage}, s);
      Access a;
      while (stream->Next(0, &a)) seen[s].push_back(a.addr / kPage);
    });
  }
  for (auto& t : threads) t.join();
  std::multiset<uint64_t> all;
  for (const auto& v : seen) {
    for (size_t i = 1; i < v.size(); ++i) ASSERT_LT(v[i - 1], v[i]);  // each in trace order
    all.insert(v.begin(), v.end());
  }
  ASSERT_EQ(all.size(), 20000u);
  EXPECT_EQ(std::set<uint64_t>(all.begin(), all.end()).size(), 20000u);
}

}  // namespace
}  // namespace memserver::memload
