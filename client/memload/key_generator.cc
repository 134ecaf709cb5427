#include "client/memload/key_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace memserver::memload {

namespace {

class UniformGenerator final : public KeyGenerator {
 public:
  explicit UniformGenerator(uint64_t items) : items_(items) {}
  uint64_t Next(Rng& rng, double) override { return rng.Uniform(items_); }

 private:
  const uint64_t items_;
};

class ZipfianGenerator final : public KeyGenerator {
 public:
  ZipfianGenerator(uint64_t items, double theta, double zeta_n)
      : items_(items),
        zeta_n_(zeta_n),
        alpha_(1.0 / (1.0 - theta)),
        rank1_bound_(1.0 + std::pow(0.5, theta)),
        eta_(items <= 2 ? 0.0
                        : (1.0 - std::pow(2.0 / static_cast<double>(items), 1.0 - theta)) /
                              (1.0 - rank1_bound_ / zeta_n)) {}

  uint64_t Next(Rng& rng, double) override {
    const double u = rng.UniformDouble();
    const double uz = u * zeta_n_;
    if (uz < 1.0 || items_ == 1) return 0;
    if (uz < rank1_bound_ || items_ == 2) return 1;
    const double rank =
        static_cast<double>(items_) * std::pow(eta_ * u - eta_ + 1.0, alpha_);
    return std::min<uint64_t>(static_cast<uint64_t>(rank), items_ - 1);
  }

 private:
  const uint64_t items_;
  const double zeta_n_;
  const double alpha_;
  const double rank1_bound_;  // zeta(2, theta)
  const double eta_;
};

class SequentialGenerator final : public KeyGenerator {
 public:
  SequentialGenerator(uint64_t items, uint64_t start) : items_(items), next_(start % items) {}
  uint64_t Next(Rng&, double) override {
    const uint64_t item = next_;
    next_ = next_ + 1 == items_ ? 0 : next_ + 1;
    return item;
  }

 private:
  const uint64_t items_;
  uint64_t next_;
};

class HotsetGenerator final : public KeyGenerator {
 public:
  HotsetGenerator(uint64_t items, const WorkloadSpec& spec)
      : items_(items),
        hot_items_(std::clamp<uint64_t>(
            static_cast<uint64_t>(std::ceil(spec.hot_fraction * static_cast<double>(items))), 1,
            items)),
        hot_access_fraction_(spec.hot_access_fraction),
        shift_seconds_(spec.hot_shift_seconds) {}

  uint64_t Next(Rng& rng, double elapsed_seconds) override {
    const uint64_t epoch =
        shift_seconds_ > 0 ? static_cast<uint64_t>(std::max(0.0, elapsed_seconds) / shift_seconds_)
                           : 0;
    const uint64_t hot_start =
        static_cast<uint64_t>(static_cast<unsigned __int128>(epoch) * hot_items_ % items_);
    const uint64_t cold_items = items_ - hot_items_;
    uint64_t offset;
    if (cold_items == 0 || rng.UniformDouble() < hot_access_fraction_) {
      offset = rng.Uniform(hot_items_);
    } else {
      offset = hot_items_ + rng.Uniform(cold_items);
    }
    return (hot_start + offset) % items_;
  }

 private:
  const uint64_t items_;
  const uint64_t hot_items_;
  const double hot_access_fraction_;
  const double shift_seconds_;
};

}  // namespace

const char* WorkloadName(Workload workload) {
  switch (workload) {
    case Workload::kUniform: return "uniform";
    case Workload::kZipfian: return "zipfian";
    case Workload::kSequential: return "sequential";
    case Workload::kHotset: return "hotset";
  }
  return "?";
}

Status ParseWorkload(std::string_view name, Workload* workload) {
  for (Workload w : {Workload::kUniform, Workload::kZipfian, Workload::kSequential,
                     Workload::kHotset}) {
    if (name == WorkloadName(w)) {
      *workload = w;
      return Status::OK();
    }
  }
  return Status::InvalidArgument(
      fmt::format("unknown workload '{}' (uniform, zipfian, sequential, hotset)", name));
}

Status ValidateWorkloadSpec(const WorkloadSpec& spec) {
  if (!(spec.zipf_theta > 0.0 && spec.zipf_theta < 1.0)) {
    return Status::InvalidArgument(
        fmt::format("zipf theta must be in (0, 1), got {}", spec.zipf_theta));
  }
  if (!(spec.hot_fraction > 0.0 && spec.hot_fraction <= 1.0)) {
    return Status::InvalidArgument(
        fmt::format("hot fraction must be in (0, 1], got {}", spec.hot_fraction));
  }
  if (!(spec.hot_access_fraction >= 0.0 && spec.hot_access_fraction <= 1.0)) {
    return Status::InvalidArgument(fmt::format("hot access fraction must be in [0, 1], got {}",
                                               spec.hot_access_fraction));
  }
  if (!(spec.hot_shift_seconds >= 0.0) || std::isinf(spec.hot_shift_seconds)) {
    return Status::InvalidArgument(fmt::format(
        "hot shift interval must be a finite number of seconds >= 0, got {}",
        spec.hot_shift_seconds));
  }
  return Status::OK();
}

double ZipfianZeta(uint64_t n, double theta) {
  double sum = 0.0;
  for (uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(static_cast<double>(i), theta);
  return sum;
}

std::vector<std::unique_ptr<KeyGenerator>> MakeKeyGenerators(const WorkloadSpec& spec,
                                                             uint64_t items, int count,
                                                             bool spread_starts) {
  std::vector<std::unique_ptr<KeyGenerator>> generators;
  generators.reserve(static_cast<size_t>(count));
  const double zeta_n = spec.kind == Workload::kZipfian ? ZipfianZeta(items, spec.zipf_theta) : 0;
  for (int k = 0; k < count; ++k) {
    switch (spec.kind) {
      case Workload::kUniform:
        generators.push_back(std::make_unique<UniformGenerator>(items));
        break;
      case Workload::kZipfian:
        generators.push_back(std::make_unique<ZipfianGenerator>(items, spec.zipf_theta, zeta_n));
        break;
      case Workload::kSequential: {
        const uint64_t start =
            spread_starts ? static_cast<uint64_t>(static_cast<unsigned __int128>(items) *
                                                  static_cast<uint64_t>(k) /
                                                  static_cast<uint64_t>(count))
                          : 0;
        generators.push_back(std::make_unique<SequentialGenerator>(items, start));
        break;
      }
      case Workload::kHotset:
        generators.push_back(std::make_unique<HotsetGenerator>(items, spec));
        break;
    }
  }
  return generators;
}

}  // namespace memserver::memload
