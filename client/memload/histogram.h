// Histogram: an HdrHistogram-style log-linear histogram of uint64 values
// (memload records latencies in nanoseconds).
//
// Guarantees:
//   - Fixed memory, chosen at construction: 2^P + (64 - P) * 2^(P-1)
//     counters for precision P (P = 11: 56,320 counters, 440 KiB), whatever
//     the number or range of the recorded values. Record() never allocates.
//   - Values below 2^P are counted exactly. A larger value v falls in a bucket
//     of width 2^g with 2^(P-1+g) <= v, so any value reported for it
//     overestimates it by less than v / 2^(P-1) (0.098% for P = 11).
//   - ValueAtPercentile(p) returns the upper bound of the bucket holding the
//     sample of rank ceil(p% * count) (rank 1 = smallest), clamped to
//     [min(), max()]: never below the true percentile, and above it by less
//     than the precision bound. min(), max() and the sum are exact.
//   - Merge() of histograms with equal precision is exact: the result is
//     what one histogram recording both sets of values would hold.
//
// Not thread-safe: one per worker, merged after the workers are joined.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace memserver::memload {

class Histogram {
 public:
  static constexpr int kDefaultPrecisionBits = 11;

  // REQUIRES: 2 <= precision_bits <= 20.
  explicit Histogram(int precision_bits = kDefaultPrecisionBits);

  void Record(uint64_t value) { RecordN(value, 1); }
  void RecordN(uint64_t value, uint64_t n);

  // REQUIRES: other.precision_bits() == precision_bits().
  void Merge(const Histogram& other);
  void Reset();

  int precision_bits() const { return precision_bits_; }
  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const;

  // p in [0, 100]; 0 when the histogram is empty. See the guarantees above.
  uint64_t ValueAtPercentile(double percentile) const;

  // Calls fn(lowest, highest, count) for every non-empty bucket, in
  // increasing order of values (for reports that export the distribution).
  void ForEachBucket(
      const std::function<void(uint64_t lowest, uint64_t highest, uint64_t count)>& fn) const;

  // The bucket of a value, and the bounds of a bucket (for tests).
  size_t BucketIndex(uint64_t value) const;
  uint64_t BucketLowest(size_t index) const;
  uint64_t BucketHighest(size_t index) const;
  size_t bucket_count() const { return counts_.size(); }

 private:
  int precision_bits_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace memserver::memload
