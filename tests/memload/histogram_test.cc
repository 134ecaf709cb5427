#include "client/memload/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "client/memload/random.h"

namespace memserver::memload {
namespace {

// The exact percentile under the histogram's definition: the sample of rank
// ceil(p% * n) in sorted order.
uint64_t ExactPercentile(std::vector<uint64_t> sorted, double p) {
  const size_t rank = std::max<size_t>(
      1, static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()) - 1e-9)));
  return sorted[rank - 1];
}

TEST(HistogramTest, EmptyHistogramReportsZeros) {
  Histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.ValueAtPercentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(HistogramTest, BucketsTileTheWholeRangeWithoutGapsOrOverlap) {
  for (int precision : {2, 4, 11}) {
    Histogram h(precision);
    EXPECT_EQ(h.BucketLowest(0), 0u);
    for (size_t i = 0; i + 1 < h.bucket_count(); ++i) {
      ASSERT_EQ(h.BucketHighest(i) + 1, h.BucketLowest(i + 1)) << "precision " << precision;
      ASSERT_EQ(h.BucketIndex(h.BucketLowest(i)), i);
      ASSERT_EQ(h.BucketIndex(h.BucketHighest(i)), i);
    }
    EXPECT_EQ(h.BucketHighest(h.bucket_count() - 1), UINT64_MAX);
    EXPECT_EQ(h.BucketIndex(UINT64_MAX), h.bucket_count() - 1);
  }
}

TEST(HistogramTest, BucketWidthIsWithinRelativePrecision) {
  Histogram h(11);
  for (size_t i = size_t{1} << 11; i < h.bucket_count(); ++i) {
    const double width = static_cast<double>(h.BucketHighest(i) - h.BucketLowest(i) + 1);
    ASSERT_LE(width / static_cast<double>(h.BucketLowest(i)), std::ldexp(1.0, -10)) << i;
  }
}

TEST(HistogramTest, SmallValuesAreCountedExactly) {
  Histogram h(11);
  for (uint64_t v = 1; v <= 2000; ++v) h.Record(v);
  EXPECT_EQ(h.ValueAtPercentile(50), 1000u);
  EXPECT_EQ(h.ValueAtPercentile(90), 1800u);
  EXPECT_EQ(h.ValueAtPercentile(99.9), 1998u);
  EXPECT_EQ(h.ValueAtPercentile(100), 2000u);
  EXPECT_EQ(h.ValueAtPercentile(0), 1u);
  EXPECT_DOUBLE_EQ(h.mean(), 1000.5);
}

TEST(HistogramTest, PercentilesAreWithinBucketPrecisionOfExactValues) {
  // Latency-like values spread over six decades (1 us .. 1 s in ns).
  Rng rng(7);
  std::vector<uint64_t> values;
  Histogram h(11);
  for (int i = 0; i < 200000; ++i) {
    const double exponent = 3.0 + 6.0 * rng.UniformDouble();
    const uint64_t v = static_cast<uint64_t>(std::pow(10.0, exponent));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  const double precision = std::ldexp(1.0, -10);
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    const uint64_t exact = ExactPercentile(values, p);
    const uint64_t reported = h.ValueAtPercentile(p);
    EXPECT_GE(reported, exact) << "p" << p;
    EXPECT_LE(static_cast<double>(reported), static_cast<double>(exact) * (1 + precision))
        << "p" << p;
  }
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.ValueAtPercentile(100), values.back());
}

TEST(HistogramTest, CoarsePrecisionStillBoundsTheError) {
  // Precision 4: buckets up to 1/8 of their value wide.
  Histogram h(4);
  std::vector<uint64_t> values;
  for (uint64_t v = 1; v <= 100000; v += 7) {
    values.push_back(v);
    h.Record(v);
  }
  for (double p : {25.0, 50.0, 75.0, 99.0}) {
    const uint64_t exact = ExactPercentile(values, p);
    const uint64_t reported = h.ValueAtPercentile(p);
    EXPECT_GE(reported, exact);
    EXPECT_LE(static_cast<double>(reported), static_cast<double>(exact) * 1.125);
  }
}

TEST(HistogramTest, PercentilesAreClampedToTheRecordedRange) {
  Histogram h;
  h.Record(1234567);
  for (double p : {0.0, 50.0, 99.9, 100.0}) EXPECT_EQ(h.ValueAtPercentile(p), 1234567u);
}

TEST(HistogramTest, HugeValuesAreRecorded) {
  Histogram h;
  h.Record(UINT64_MAX);
  h.Record(1);
  EXPECT_EQ(h.max(), UINT64_MAX);
  EXPECT_EQ(h.ValueAtPercentile(100), UINT64_MAX);
  EXPECT_EQ(h.ValueAtPercentile(50), 1u);
}

TEST(HistogramTest, MergeEqualsRecordingEverythingInOne) {
  Rng rng(3);
  Histogram a, b, all;
  for (int i = 0; i < 10000; ++i) {
    const uint64_t v = rng.Uniform(10'000'000);
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  Histogram merged;
  merged.Merge(a);
  merged.Merge(b);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(merged.ValueAtPercentile(p), all.ValueAtPercentile(p)) << "p" << p;
  }
  std::vector<uint64_t> merged_buckets, all_buckets;
  merged.ForEachBucket([&](uint64_t lo, uint64_t, uint64_t n) {
    merged_buckets.push_back(lo);
    merged_buckets.push_back(n);
  });
  all.ForEachBucket([&](uint64_t lo, uint64_t, uint64_t n) {
    all_buckets.push_back(lo);
    all_buckets.push_back(n);
  });
  EXPECT_EQ(merged_buckets, all_buckets);
}

TEST(HistogramTest, MergeOfEmptyChangesNothing) {
  Histogram a, empty;
  a.Record(5);
  a.Merge(empty);
  EXPECT_EQ(a.count(), 1u);
  EXPECT_EQ(a.min(), 5u);
  empty.Merge(a);
  EXPECT_EQ(empty.min(), 5u);
}

TEST(HistogramTest, ResetEmptiesIt) {
  Histogram h;
  h.RecordN(100, 5);
  EXPECT_EQ(h.count(), 5u);
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.ValueAtPercentile(50), 0u);
  h.Record(3);
  EXPECT_EQ(h.min(), 3u);
}

}  // namespace
}  // namespace memserver::memload
