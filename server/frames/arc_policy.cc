#include "server/frames/arc_policy.h"

#include <algorithm>

namespace memserver {

ArcPolicy::ArcPolicy(uint32_t capacity)
    : BufferedPolicy(capacity),
      where_(capacity, kUntracked),
      key_(capacity, 0),
      links_(capacity),
      t1_(&links_),
      t2_(&links_),
      ghosts_(2, capacity + 1) {}

ArcPolicy::State ArcPolicy::GetState() {
  auto lock = LockAndDrain();
  return State{t1_.size(), t2_.size(), ghosts_.size(kB1), ghosts_.size(kB2), p_};
}

void ArcPolicy::AdaptLocked(int list) {
  const uint32_t b1 = ghosts_.size(kB1), b2 = ghosts_.size(kB2);
  if (list == kB1) {
    const double delta = b1 >= b2 ? 1.0 : static_cast<double>(b2) / b1;
    p_ = std::min<double>(p_ + delta, capacity_);
  } else {
    const double delta = b2 >= b1 ? 1.0 : static_cast<double>(b1) / b2;
    p_ = std::max<double>(p_ - delta, 0.0);
  }
}

void ArcPolicy::OnMiss(uint64_t key) {
  auto lock = LockAndDrain();
  pending_ = PendingMiss{};
  pending_.valid = true;
  pending_.key = key;
  const int list = ghosts_.Find(key);
  if (list != GhostLists::kNone) {  // cases II and III
    AdaptLocked(list);
    pending_.ghost_hit = true;
    pending_.in_b2 = (list == kB2);
    return;
  }
  // Case IV: make room in the directory before REPLACE.
  const uint32_t t1 = t1_.size(), b1 = ghosts_.size(kB1);
  if (t1 + b1 >= capacity_) {  // IV.A: |L1| = c
    if (t1 < capacity_) {
      ghosts_.PopOldest(kB1);
    } else {
      pending_.discard_t1_lru = true;
    }
  } else {  // IV.B: |L1| < c
    const uint64_t total = uint64_t{t1} + t2_.size() + b1 + ghosts_.size(kB2);
    if (total >= 2ull * capacity_) ghosts_.PopOldest(kB2);
  }
}

bool ArcPolicy::EvictFromLocked(IndexList& from, int ghost,
                                const std::function<bool(FrameId)>& can_evict, FrameId* frame) {
  for (uint32_t f = from.Oldest(); f != kNilIndex; f = from.Newer(f)) {
    if (!can_evict(f)) continue;
    from.Erase(f);
    where_[f] = kUntracked;
    if (ghost != GhostLists::kNone) ghosts_.Push(ghost, key_[f]);
    *frame = f;
    return true;
  }
  return false;
}

bool ArcPolicy::VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) {
  const bool announced = pending_.valid;
  bool ok;
  if (announced && pending_.discard_t1_lru) {
    ok = EvictFromLocked(t1_, GhostLists::kNone, can_evict, frame) ||
         EvictFromLocked(t2_, kB2, can_evict, frame);
  } else {
    // REPLACE(x, p).
    const bool in_b2 = announced && pending_.in_b2;
    const uint32_t t1 = t1_.size();
    const bool from_t1 = t1 >= 1 && ((in_b2 && t1 == p_) || t1 > p_);
    if (from_t1) {
      ok = EvictFromLocked(t1_, kB1, can_evict, frame) ||
           EvictFromLocked(t2_, kB2, can_evict, frame);
    } else {
      ok = EvictFromLocked(t2_, kB2, can_evict, frame) ||
           EvictFromLocked(t1_, kB1, can_evict, frame);
    }
  }
  TrimGhostsLocked(capacity_ + 1);
  return ok;
}

void ArcPolicy::InsertLocked(FrameId frame, uint64_t key) {
  if (where_[frame] != kUntracked) return;
  const bool announced = pending_.valid && pending_.key == key;
  pending_ = PendingMiss{};
  const int list = ghosts_.Find(key);
  key_[frame] = key;
  if (list != GhostLists::kNone) {
    if (!announced) AdaptLocked(list);  // late adaptation (no OnMiss)
    ghosts_.Erase(key);
    where_[frame] = kInT2;
    t2_.PushNewest(frame);
  } else {
    where_[frame] = kInT1;
    t1_.PushNewest(frame);
  }
  // Directory bounds; no-ops when OnMiss ran the paper's case IV.
  while (t1_.size() + ghosts_.size(kB1) > capacity_ && ghosts_.size(kB1) > 0) {
    ghosts_.PopOldest(kB1);
  }
  TrimGhostsLocked(capacity_);
}

void ArcPolicy::TrimGhostsLocked(uint32_t max_ghosts) {
  const uint64_t resident = uint64_t{t1_.size()} + t2_.size();
  while (ghosts_.total() > max_ghosts || resident + ghosts_.total() > 2ull * capacity_) {
    ghosts_.PopOldest(ghosts_.size(kB2) > 0 ? kB2 : kB1);
  }
}

void ArcPolicy::HitLocked(FrameId frame) {
  switch (where_[frame]) {
    case kUntracked: return;
    case kInT1: t1_.Erase(frame); break;
    case kInT2: t2_.Erase(frame); break;
  }
  where_[frame] = kInT2;
  t2_.PushNewest(frame);
}

void ArcPolicy::RemoveLocked(FrameId frame) {
  switch (where_[frame]) {
    case kUntracked: return;
    case kInT1: t1_.Erase(frame); break;
    case kInT2: t2_.Erase(frame); break;
  }
  where_[frame] = kUntracked;
}

}  // namespace memserver
