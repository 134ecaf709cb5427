#include "client/memload/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace memserver::memload {

Histogram::Histogram(int precision_bits) : precision_bits_(precision_bits) {
  assert(precision_bits >= 2 && precision_bits <= 20);
  const size_t exact = size_t{1} << precision_bits_;
  const size_t per_group = exact / 2;
  counts_.assign(exact + static_cast<size_t>(64 - precision_bits_) * per_group, 0);
}

// Values below 2^P index themselves. Above, a value whose highest set bit is
// e lies in group g = e - P + 1 >= 1, where buckets are 2^g wide; the P - 1
// bits below the leading one select one of the group's 2^(P-1) buckets.
size_t Histogram::BucketIndex(uint64_t value) const {
  const uint64_t exact = uint64_t{1} << precision_bits_;
  if (value < exact) return static_cast<size_t>(value);
  const int highest_bit = 63 - std::countl_zero(value);
  const int group = highest_bit - precision_bits_ + 1;
  const uint64_t half = exact / 2;
  const uint64_t sub = (value >> group) - half;
  return static_cast<size_t>(exact + static_cast<uint64_t>(group - 1) * half + sub);
}

uint64_t Histogram::BucketLowest(size_t index) const {
  const uint64_t exact = uint64_t{1} << precision_bits_;
  if (index < exact) return index;
  const uint64_t half = exact / 2;
  const uint64_t offset = index - exact;
  const int group = static_cast<int>(offset / half) + 1;
  return (offset % half + half) << group;
}

uint64_t Histogram::BucketHighest(size_t index) const {
  const uint64_t exact = uint64_t{1} << precision_bits_;
  if (index < exact) return index;
  const int group = static_cast<int>((index - exact) / (exact / 2)) + 1;
  return BucketLowest(index) + ((uint64_t{1} << group) - 1);
}

void Histogram::RecordN(uint64_t value, uint64_t n) {
  if (n == 0) return;
  counts_[BucketIndex(value)] += n;
  count_ += n;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * n;
}

void Histogram::Merge(const Histogram& other) {
  assert(other.precision_bits_ == precision_bits_);
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double Histogram::mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t Histogram::ValueAtPercentile(double percentile) const {
  if (count_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  // The rank is ceil(p% * count); a product within rounding error of an
  // integer (99.9 is not exact in binary) is that integer.
  const double exact_rank = percentile * static_cast<double>(count_) / 100.0;
  const double nearest = std::round(exact_rank);
  const double rank_d =
      std::fabs(exact_rank - nearest) <= 1e-9 * std::max(1.0, exact_rank) ? nearest
                                                                          : std::ceil(exact_rank);
  const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(rank_d), 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(BucketHighest(i), min(), max_);
  }
  return max_;
}

void Histogram::ForEachBucket(
    const std::function<void(uint64_t lowest, uint64_t highest, uint64_t count)>& fn) const {
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) fn(BucketLowest(i), BucketHighest(i), counts_[i]);
  }
}

}  // namespace memserver::memload
