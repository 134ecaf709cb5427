// memsim's simulation core: replays a Trace through a cache of F frames
// managed by the server's own ReplacementPolicy code, or through Belady's OPT.
//
// Policy simulation (demand paging), per access to key k:
//   - k resident in frame f: a hit, policy.Touch(f);
//   - otherwise a miss: OnMiss(k) if the policy is a MissObserver; take the
//     lowest free frame, or if none policy.Victim(accept all) and drop the
//     victim's key; then policy.Insert(frame, k).
// OPT: Belady's MIN with demand paging: every miss loads the page; when the
// cache is full the resident page whose next use is farthest away (or never)
// is evicted. O(log F) per access with next-use indexes and a lazy heap.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"
#include "server/frames/replacement_policy.h"
#include "server/tools/memsim/trace_reader.h"

namespace memserver::memsim {

inline constexpr std::string_view kOptName = "opt";

struct SimResult {
  std::string policy;
  uint32_t frames = 0;
  uint64_t requests = 0;
  uint64_t hits = 0;
  // Percent of requests that hit (0 when there were none).
  double hit_ratio() const { return requests ? 100.0 * hits / requests : 0.0; }
};

// Every name Simulate accepts: the replacement policies, then "opt".
std::vector<std::string> SimulatorPolicyNames();

// For each access i, the index of the next access to the same key, or
// kNeverAgain. Computed once per trace and shared by OPT runs.
inline constexpr uint32_t kNeverAgain = UINT32_MAX;
std::vector<uint32_t> ComputeNextUse(const Trace& trace);

// Replays `trace` through `policy` (fresh, capacity >= frames). Internal error
// when the policy refuses a victim although every frame may be evicted.
Status SimulatePolicy(ReplacementPolicy* policy, uint32_t frames, const Trace& trace,
                      SimResult* result);

SimResult SimulateOpt(uint32_t frames, const Trace& trace, const std::vector<uint32_t>& next_use);

// By name (a policy of NewReplacementPolicy or "opt"). `next_use` is only
// read for "opt"; pass ComputeNextUse(trace). frames must be > 0.
Status Simulate(std::string_view name, uint32_t frames, const Trace& trace,
                const std::vector<uint32_t>& next_use, SimResult* result);

}  // namespace memserver::memsim
