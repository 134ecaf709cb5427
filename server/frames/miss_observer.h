// MissObserver: optional second interface of a ReplacementPolicy that must
// know which key missed BEFORE choosing a victim for it.
//
// ARC's REPLACE(x, p) adapts p when x is a ghost and then decides between T1
// and T2 depending on whether x was in B2 — so the victim depends on the
// missing key, which Victim() does not receive. A caller that can (memsim
// does, the frame pool should) announces each miss:
//
//   if (auto* obs = dynamic_cast<MissObserver*>(policy)) obs->OnMiss(key);
//   ... Victim(...) only if no frame is free ...
//   policy->Insert(frame, key);
//
// With OnMiss the policy is exactly the published algorithm. Without it the
// policy still works; its class comment says how it approximates.
#pragma once

#include <cstdint>

namespace memserver {

class MissObserver {
 public:
  virtual ~MissObserver() = default;
  // `key` missed and will be passed to the next Insert (after a Victim call
  // if no frame is free). Thread-safe like Insert.
  virtual void OnMiss(uint64_t key) = 0;
};

}  // namespace memserver
