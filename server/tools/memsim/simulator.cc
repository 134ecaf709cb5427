#include "server/tools/memsim/simulator.h"

#include <algorithm>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "server/frames/miss_observer.h"

namespace memserver::memsim {

std::vector<std::string> SimulatorPolicyNames() {
  std::vector<std::string> names = ReplacementPolicyNames();
  names.emplace_back(kOptName);
  return names;
}

std::vector<uint32_t> ComputeNextUse(const Trace& trace) {
  std::vector<uint32_t> next(trace.keys.size());
  std::vector<uint32_t> seen(trace.distinct, kNeverAgain);
  for (size_t i = trace.keys.size(); i-- > 0;) {
    const uint32_t k = trace.keys[i];
    next[i] = seen[k];
    seen[k] = static_cast<uint32_t>(i);
  }
  return next;
}

Status SimulatePolicy(ReplacementPolicy* policy, uint32_t frames, const Trace& trace,
                      SimResult* result) {
  result->policy = policy->Name();
  result->frames = frames;
  result->requests = trace.keys.size();
  result->hits = 0;
  if (frames == 0) return Status::InvalidArgument("frames must be > 0");
  MissObserver* observer = dynamic_cast<MissObserver*>(policy);
  std::vector<FrameId> frame_of(trace.distinct, kNoFrame);
  std::vector<uint32_t> key_of(frames, 0);
  const auto accept_all = [](FrameId) { return true; };
  uint32_t used = 0;  // frames [0, used) have been filled once
  uint64_t hits = 0;
  for (const uint32_t k : trace.keys) {
    const FrameId resident = frame_of[k];
    if (resident != kNoFrame) {
      ++hits;
      policy->Touch(resident);
      continue;
    }
    if (observer) observer->OnMiss(k);
    FrameId f;
    if (used < frames) {
      f = used++;
    } else {
      if (!policy->Victim(accept_all, &f) || f >= frames || frame_of[key_of[f]] != f) {
        return Status::Internal(fmt::format("policy {} gave no valid victim with {} frames",
                                            policy->Name(), frames));
      }
      frame_of[key_of[f]] = kNoFrame;
    }
    key_of[f] = k;
    frame_of[k] = f;
    policy->Insert(f, k);
  }
  result->hits = hits;
  return Status::OK();
}

SimResult SimulateOpt(uint32_t frames, const Trace& trace, const std::vector<uint32_t>& next_use) {
  SimResult result;
  result.policy = std::string(kOptName);
  result.frames = frames;
  result.requests = trace.keys.size();
  // Max-heap of (next use, key); an entry is current iff the key is resident
  // and its next use is still that value. Stale entries are dropped when
  // popped, and the heap is rebuilt when they outnumber the live ones.
  using Entry = std::pair<uint32_t, uint32_t>;
  std::vector<Entry> heap;
  std::vector<uint32_t> current_next(trace.distinct, 0);
  std::vector<bool> resident(trace.distinct, false);
  uint32_t used = 0;
  uint64_t hits = 0;
  for (size_t i = 0; i < trace.keys.size(); ++i) {
    const uint32_t k = trace.keys[i];
    const uint32_t next = next_use[i];
    if (resident[k]) {
      ++hits;
    } else if (used < frames) {
      ++used;
      resident[k] = true;
    } else {
      for (;;) {
        std::pop_heap(heap.begin(), heap.end());
        const Entry top = heap.back();
        heap.pop_back();
        if (resident[top.second] && current_next[top.second] == top.first) {
          resident[top.second] = false;
          break;
        }
      }
      resident[k] = true;
    }
    current_next[k] = next;
    heap.emplace_back(next, k);
    std::push_heap(heap.begin(), heap.end());
    if (heap.size() > 2 * size_t{frames} + 64) {
      std::erase_if(heap, [&](const Entry& e) {
        return !resident[e.second] || current_next[e.second] != e.first;
      });
      std::make_heap(heap.begin(), heap.end());
    }
  }
  result.hits = hits;
  return result;
}

Status Simulate(std::string_view name, uint32_t frames, const Trace& trace,
                const std::vector<uint32_t>& next_use, SimResult* result) {
  if (frames == 0) return Status::InvalidArgument("frames must be > 0");
  if (name == kOptName) {
    if (next_use.size() != trace.keys.size()) {
      return Status::InvalidArgument("opt needs the trace's next-use index");
    }
    *result = SimulateOpt(frames, trace, next_use);
    return Status::OK();
  }
  std::unique_ptr<ReplacementPolicy> policy;
  Status s = NewReplacementPolicy(name, frames, &policy);
  if (!s.ok()) return s;
  return SimulatePolicy(policy.get(), frames, trace, result);
}

}  // namespace memserver::memsim
