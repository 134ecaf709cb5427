// Key generators: which item (page, or access-sized chunk) of a process's
// working set each access touches. See access_stream.h for how items become
// addresses.
//
//   uniform     every item equally likely.
//   zipfian     item i (0-based rank) with probability proportional to
//               1/(i+1)^theta (Gray et al., "Quickly generating billion-record
//               synthetic databases", SIGMOD'94, as in YCSB). Item 0 is the
//               hottest; ranks 0 and 1 are drawn with their exact
//               probabilities, higher ranks by Gray's approximation.
//   sequential  items start, start+1, ... wrapping at the end.
//   hotset      a window of ceil(hot_fraction * items) consecutive items
//               receives hot_access_fraction of the accesses (uniform inside),
//               the rest go uniformly to the other items; every
//               hot_shift_seconds (0: never) the window moves to the next
//               window-sized region, wrapping at the end.
//
// Every generator returns values in [0, items). A generator is not
// thread-safe: each worker owns its own (a sequential cursor is state).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/memload/random.h"
#include "server/common/status.h"

namespace memserver::memload {

enum class Workload { kUniform, kZipfian, kSequential, kHotset };

const char* WorkloadName(Workload workload);
// "uniform", "zipfian", "sequential" or "hotset"; InvalidArgument otherwise.
Status ParseWorkload(std::string_view name, Workload* workload);

struct WorkloadSpec {
  Workload kind = Workload::kUniform;
  // zipfian: skew, in (0, 1). Default: 0.99 (YCSB's).
  double zipf_theta = 0.99;
  // hotset: share of the items that is hot, in (0, 1]. Default: 0.1.
  double hot_fraction = 0.1;
  // hotset: share of the accesses that go to the hot items, in [0, 1].
  // Default: 0.9.
  double hot_access_fraction = 0.9;
  // hotset: seconds between moves of the hot window; 0 never moves it.
  // Default: 10.
  double hot_shift_seconds = 10;
};

// InvalidArgument naming the first parameter out of its range.
Status ValidateWorkloadSpec(const WorkloadSpec& spec);

class KeyGenerator {
 public:
  virtual ~KeyGenerator() = default;
  // The next item. `elapsed_seconds` is the time since the run started (only
  // hotset reads it; it must not decrease between calls).
  virtual uint64_t Next(Rng& rng, double elapsed_seconds) = 0;
};

// zeta(n, theta) = sum over i in [1, n] of 1 / i^theta.
double ZipfianZeta(uint64_t n, double theta);

// `count` generators over `items` items (REQUIRES: items > 0, spec valid).
// Zipfian's normalisation constant is computed once for all of them. When
// `spread_starts`, sequential generator k starts at item k * items / count
// (workers sharing one process walk different parts of it); otherwise all
// start at item 0.
std::vector<std::unique_ptr<KeyGenerator>> MakeKeyGenerators(const WorkloadSpec& spec,
                                                             uint64_t items, int count,
                                                             bool spread_starts);

}  // namespace memserver::memload
