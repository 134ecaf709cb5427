// NewReplacementPolicy: the one place that maps a policy name to its class.
#include <fmt/format.h>

#include "server/frames/arc_policy.h"
#include "server/frames/clock_policy.h"
#include "server/frames/lirs_policy.h"
#include "server/frames/lru_policy.h"
#include "server/frames/sieve_policy.h"
#include "server/frames/two_q_policy.h"
#include "server/frames/replacement_policy.h"

namespace memserver {

namespace {

// Policies size per-frame arrays of up to 3 * capacity entries in uint32 ids.
constexpr uint32_t kMaxPolicyCapacity = uint32_t{1} << 30;

struct PolicyEntry {
  const char* name;
  std::unique_ptr<ReplacementPolicy> (*make)(uint32_t capacity);
};

template <typename T>
std::unique_ptr<ReplacementPolicy> Make(uint32_t capacity) {
  return std::make_unique<T>(capacity);
}

// The order is the order memsim prints them in.
constexpr PolicyEntry kPolicies[] = {
    {"clock", &Make<ClockPolicy>},
    {"lru", &Make<LruPolicy>},
    {"arc", &Make<ArcPolicy>},
    {"lirs", &Make<LirsPolicy>},
    {"2q", &Make<TwoQPolicy>},
    {"sieve", &Make<SievePolicy>},
};

}  // namespace

std::vector<std::string> ReplacementPolicyNames() {
  std::vector<std::string> names;
  for (const PolicyEntry& e : kPolicies) names.emplace_back(e.name);
  return names;
}

Status NewReplacementPolicy(std::string_view name, uint32_t capacity,
                            std::unique_ptr<ReplacementPolicy>* policy) {
  if (capacity == 0 || capacity > kMaxPolicyCapacity) {
    return Status::InvalidArgument(
        fmt::format("replacement policy capacity must be in [1, {}], not {}", kMaxPolicyCapacity,
                    capacity));
  }
  for (const PolicyEntry& e : kPolicies) {
    if (name == e.name) {
      *policy = e.make(capacity);
      return Status::OK();
    }
  }
  return Status::InvalidArgument(fmt::format("unknown replacement policy '{}'; valid: {}", name,
                                             fmt::join(ReplacementPolicyNames(), ", ")));
}

}  // namespace memserver
