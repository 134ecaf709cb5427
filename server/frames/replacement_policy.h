// ReplacementPolicy: decides which resident frame to evict when none is free.
//
// The same code serves the server (keys are page ids, frames are real
// frames) and the offline simulator memsim (keys are trace block numbers,
// frames are slots of a simulated cache), so its hit ratios are the server's.
//
// Contract (what every implementation guarantees and assumes):
//   - Frames are dense ids in [0, capacity). A frame is "tracked" between
//     Insert(frame, key) and the Remove(frame) or the successful Victim() that
//     ends it. Insert is never called on a tracked frame.
//   - Touch(frame) records a hit on a tracked frame. It is called on every
//     access, concurrently from many threads, and must not take a lock shared
//     by all frames (CLOCK: one relaxed atomic store). Touch on an untracked
//     frame is harmless (a racing eviction) and ignored.
//   - Victim(can_evict, &frame) offers tracked frames, in the policy's order of
//     preference, to can_evict; the first one accepted stops being tracked and
//     is returned. can_evict is called with the policy's internal lock held: it
//     may only try-lock other locks. Returns false when no tracked frame was
//     accepted after a bounded search (every frame busy or pinned).
//   - Remove(frame) stops tracking a frame whose page went away for another
//     reason (munmap, exit). Policies with history (ARC ghosts, LIRS) do not
//     remember a removed key as evicted.
//   - Insert/Remove/Victim are thread-safe among themselves.
//
// Keys only matter to policies that remember evicted pages (ARC, LIRS, 2Q).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace memserver {

using FrameId = uint32_t;
inline constexpr FrameId kNoFrame = UINT32_MAX;

class ReplacementPolicy {
 public:
  virtual ~ReplacementPolicy() = default;
  virtual const char* Name() const = 0;

  virtual void Insert(FrameId frame, uint64_t key) = 0;
  virtual void Touch(FrameId frame) = 0;
  virtual void Remove(FrameId frame) = 0;
  virtual bool Victim(const std::function<bool(FrameId)>& can_evict, FrameId* frame) = 0;
};

// Names accepted by NewReplacementPolicy, e.g. {"clock", "lru", "arc", ...}.
std::vector<std::string> ReplacementPolicyNames();

// Creates the policy called `name` for `capacity` frames. InvalidArgument
// (listing the valid names) when the name is unknown.
Status NewReplacementPolicy(std::string_view name, uint32_t capacity,
                            std::unique_ptr<ReplacementPolicy>* policy);

}  // namespace memserver
