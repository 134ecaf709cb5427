#include "client/memload/key_generator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace memserver::memload {
namespace {

std::unique_ptr<KeyGenerator> MakeOne(const WorkloadSpec& spec, uint64_t items) {
  auto generators = MakeKeyGenerators(spec, items, 1, false);
  return std::move(generators.front());
}

std::vector<uint64_t> Histogram(KeyGenerator& gen, uint64_t items, int samples, uint64_t seed,
                                double elapsed = 0) {
  std::vector<uint64_t> counts(items, 0);
  Rng rng(seed);
  for (int i = 0; i < samples; ++i) {
    const uint64_t item = gen.Next(rng, elapsed);
    EXPECT_LT(item, items);
    if (item < items) ++counts[item];
  }
  return counts;
}

TEST(KeyGeneratorTest, ZipfianRankOneFrequencyMatchesTheory) {
  WorkloadSpec spec;
  spec.kind = Workload::kZipfian;
  spec.zipf_theta = 0.99;
  constexpr uint64_t kItems = 1000;
  constexpr int kSamples = 1'000'000;
  auto gen = MakeOne(spec, kItems);
  const std::vector<uint64_t> counts = Histogram(*gen, kItems, kSamples, 42);

  const double zeta = ZipfianZeta(kItems, spec.zipf_theta);
  const double expected_rank1 = 1.0 / zeta;                            // about 0.134
  const double expected_rank2 = std::pow(0.5, spec.zipf_theta) / zeta;  // about 0.067
  const double rank1 = static_cast<double>(counts[0]) / kSamples;
  const double rank2 = static_cast<double>(counts[1]) / kSamples;
  // The binomial standard deviation is about 0.00034: 3% relative is > 10 sigma.
  EXPECT_NEAR(rank1, expected_rank1, 0.03 * expected_rank1);
  EXPECT_NEAR(rank2, expected_rank2, 0.03 * expected_rank2);
}

TEST(KeyGeneratorTest, ZipfianIsSkewedTowardLowRanks) {
  WorkloadSpec spec;
  spec.kind = Workload::kZipfian;
  constexpr uint64_t kItems = 10000;
  auto gen = MakeOne(spec, kItems);
  const std::vector<uint64_t> counts = Histogram(*gen, kItems, 500'000, 9);
  EXPECT_GT(counts[0], counts[1]);
  EXPECT_GT(counts[1], counts[10]);
  EXPECT_GT(counts[10], counts[1000]);
  uint64_t top_tenth = 0;
  for (uint64_t i = 0; i < kItems / 10; ++i) top_tenth += counts[i];
  // With theta 0.99 the hottest 10% take about 75% of the accesses.
  EXPECT_GT(static_cast<double>(top_tenth) / 500'000, 0.6);
}

TEST(KeyGeneratorTest, ZipfianOverOneOrTwoItemsStaysInRange) {
  WorkloadSpec spec;
  spec.kind = Workload::kZipfian;
  for (uint64_t items : {1u, 2u, 3u}) {
    auto gen = MakeOne(spec, items);
    Histogram(*gen, items, 10000, 1);
  }
}

TEST(KeyGeneratorTest, UniformCoversEveryItemEvenly) {
  WorkloadSpec spec;
  auto gen = MakeOne(spec, 100);
  const std::vector<uint64_t> counts = Histogram(*gen, 100, 200'000, 5);
  for (uint64_t c : counts) {
    EXPECT_GT(c, 1600u);  // expected 2000, standard deviation 44
    EXPECT_LT(c, 2400u);
  }
}

TEST(KeyGeneratorTest, SameSeedGivesSameSequence) {
  WorkloadSpec spec;
  spec.kind = Workload::kZipfian;
  auto a = MakeOne(spec, 5000);
  auto b = MakeOne(spec, 5000);
  Rng ra(77), rb(77);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a->Next(ra, 0), b->Next(rb, 0));
}

TEST(KeyGeneratorTest, SequentialWrapsAround) {
  WorkloadSpec spec;
  spec.kind = Workload::kSequential;
  auto gen = MakeOne(spec, 3);
  Rng rng(1);
  std::vector<uint64_t> seen;
  for (int i = 0; i < 7; ++i) seen.push_back(gen->Next(rng, 0));
  EXPECT_EQ(seen, (std::vector<uint64_t>{0, 1, 2, 0, 1, 2, 0}));
}

TEST(KeyGeneratorTest, SequentialSpreadsStartsWhenSharing) {
  WorkloadSpec spec;
  spec.kind = Workload::kSequential;
  auto spread = MakeKeyGenerators(spec, 100, 4, true);
  auto same = MakeKeyGenerators(spec, 100, 4, false);
  Rng rng(1);
  std::vector<uint64_t> spread_starts, same_starts;
  for (auto& g : spread) spread_starts.push_back(g->Next(rng, 0));
  for (auto& g : same) same_starts.push_back(g->Next(rng, 0));
  EXPECT_EQ(spread_starts, (std::vector<uint64_t>{0, 25, 50, 75}));
  EXPECT_EQ(same_starts, (std::vector<uint64_t>{0, 0, 0, 0}));
}

TEST(KeyGeneratorTest, HotsetSendsTheHotShareToTheHotWindow) {
  WorkloadSpec spec;
  spec.kind = Workload::kHotset;
  spec.hot_fraction = 0.1;
  spec.hot_access_fraction = 0.9;
  spec.hot_shift_seconds = 10;
  auto gen = MakeOne(spec, 1000);
  const std::vector<uint64_t> counts = Histogram(*gen, 1000, 200'000, 11, /*elapsed=*/3.0);
  uint64_t hot = 0;
  for (uint64_t i = 0; i < 100; ++i) hot += counts[i];
  EXPECT_NEAR(static_cast<double>(hot) / 200'000, 0.9, 0.01);
  uint64_t cold_untouched = 0;
  for (uint64_t i = 100; i < 1000; ++i) cold_untouched += counts[i] == 0;
  EXPECT_EQ(cold_untouched, 0u);  // the cold items are still accessed
}

TEST(KeyGeneratorTest, HotsetWindowMovesEveryShiftInterval) {
  WorkloadSpec spec;
  spec.kind = Workload::kHotset;
  spec.hot_fraction = 0.1;
  spec.hot_access_fraction = 1.0;
  spec.hot_shift_seconds = 10;
  auto gen = MakeOne(spec, 1000);
  Rng rng(2);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t first = gen->Next(rng, 9.99);
    ASSERT_LT(first, 100u);
    const uint64_t second = gen->Next(rng, 10.0);
    ASSERT_GE(second, 100u);
    ASSERT_LT(second, 200u);
    const uint64_t wrapped = gen->Next(rng, 105.0);  // epoch 10: back at the start
    ASSERT_LT(wrapped, 100u);
  }
}

TEST(KeyGeneratorTest, HotsetWithoutShiftNeverMoves) {
  WorkloadSpec spec;
  spec.kind = Workload::kHotset;
  spec.hot_access_fraction = 1.0;
  spec.hot_shift_seconds = 0;
  auto gen = MakeOne(spec, 1000);
  Rng rng(2);
  for (int i = 0; i < 1000; ++i) ASSERT_LT(gen->Next(rng, 1e6), 100u);
}

TEST(KeyGeneratorTest, EveryWorkloadStaysInRange) {
  for (Workload kind : {Workload::kUniform, Workload::kZipfian, Workload::kSequential,
                        Workload::kHotset}) {
    WorkloadSpec spec;
    spec.kind = kind;
    spec.hot_shift_seconds = 1;
    for (uint64_t items : {1u, 7u, 4096u}) {
      auto gens = MakeKeyGenerators(spec, items, 3, true);
      Rng rng(8);
      for (auto& g : gens) {
        for (int i = 0; i < 2000; ++i) ASSERT_LT(g->Next(rng, i * 0.01), items) << WorkloadName(kind);
      }
    }
  }
}

TEST(KeyGeneratorTest, WorkloadNamesRoundTrip) {
  for (Workload kind : {Workload::kUniform, Workload::kZipfian, Workload::kSequential,
                        Workload::kHotset}) {
    Workload parsed;
    ASSERT_TRUE(ParseWorkload(WorkloadName(kind), &parsed).ok());
    EXPECT_EQ(parsed, kind);
  }
  Workload parsed;
  EXPECT_EQ(ParseWorkload("gaussian", &parsed).code(), StatusCode::kInvalidArgument);
}

TEST(KeyGeneratorTest, ValidationRejectsOutOfRangeParameters) {
  WorkloadSpec spec;
  EXPECT_TRUE(ValidateWorkloadSpec(spec).ok());
  spec.zipf_theta = 1.0;
  EXPECT_EQ(ValidateWorkloadSpec(spec).code(), StatusCode::kInvalidArgument);
  spec = WorkloadSpec();
  spec.hot_fraction = 0;
  EXPECT_EQ(ValidateWorkloadSpec(spec).code(), StatusCode::kInvalidArgument);
  spec = WorkloadSpec();
  spec.hot_access_fraction = 1.5;
  EXPECT_EQ(ValidateWorkloadSpec(spec).code(), StatusCode::kInvalidArgument);
  spec = WorkloadSpec();
  spec.hot_shift_seconds = -1;
  EXPECT_EQ(ValidateWorkloadSpec(spec).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace memserver::memload
