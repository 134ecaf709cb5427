#include "server/frames/two_q_policy.h"

#include <algorithm>

namespace memserver {

TwoQPolicy::TwoQPolicy(uint32_t capacity)
    : BufferedPolicy(capacity),
      kin_(capacity / 4),
      kout_(std::max<uint32_t>(1, capacity / 2)),
      where_(capacity, kUntracked),
      key_(capacity, 0),
      links_(capacity),
      a1in_(&links_),
      am_(&links_),
      a1out_(1, std::max<uint32_t>(1, capacity / 2)) {}

void TwoQPolicy::InsertLocked(FrameId frame, uint64_t key) {
  if (where_[frame] != kUntracked) return;
  key_[frame] = key;
  if (a1out_.Find(key) != GhostLists::kNone) {
    a1out_.Erase(key);
    where_[frame] = kInAm;
    am_.PushNewest(frame);
  } else {
    where_[frame] = kInA1in;
    a1in_.PushNewest(frame);
  }
}

void TwoQPolicy::HitLocked(FrameId frame) {
  if (where_[frame] == kInAm) am_.MoveToNewest(frame);
}

void TwoQPolicy::RemoveLocked(FrameId frame) {
  switch (where_[frame]) {
    case kUntracked: return;
    case kInA1in: a1in_.Erase(frame); break;
    case kInAm: am_.Erase(frame); break;
  }
  where_[frame] = kUntracked;
}

bool TwoQPolicy::EvictFromLocked(IndexList& from, bool remember,
                                 const std::function<bool(FrameId)>& can_evict, FrameId* frame) {
  for (uint32_t f = from.Oldest(); f != kNilIndex; f = from.Newer(f)) {
    if (!can_evict(f)) continue;
    from.Erase(f);
    where_[f] = kUntracked;
    if (remember) {
      if (a1out_.total() >= kout_) a1out_.PopOldest(0);
      a1out_.Push(0, key_[f]);
    }
    *frame = f;
    return true;
  }
  return false;
}

bool TwoQPolicy::VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) {
  if (a1in_.size() > kin_) {
    return EvictFromLocked(a1in_, true, can_evict, frame) ||
           EvictFromLocked(am_, false, can_evict, frame);
  }
  return EvictFromLocked(am_, false, can_evict, frame) ||
         EvictFromLocked(a1in_, true, can_evict, frame);
}

}  // namespace memserver
