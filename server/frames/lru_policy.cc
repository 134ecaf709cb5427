#include "server/frames/lru_policy.h"

namespace memserver {

LruPolicy::LruPolicy(uint32_t capacity)
    : BufferedPolicy(capacity), tracked_(capacity, false), links_(capacity), list_(&links_) {}

void LruPolicy::InsertLocked(FrameId frame, uint64_t /*key*/) {
  if (tracked_[frame]) return;
  tracked_[frame] = true;
  list_.PushNewest(frame);
}

void LruPolicy::HitLocked(FrameId frame) {
  if (tracked_[frame]) list_.MoveToNewest(frame);
}

void LruPolicy::RemoveLocked(FrameId frame) {
  if (!tracked_[frame]) return;
  tracked_[frame] = false;
  list_.Erase(frame);
}

bool LruPolicy::VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) {
  for (uint32_t f = list_.Oldest(); f != kNilIndex; f = list_.Newer(f)) {
    if (!can_evict(f)) continue;
    list_.Erase(f);
    tracked_[f] = false;
    *frame = f;
    return true;
  }
  return false;
}

}  // namespace memserver
