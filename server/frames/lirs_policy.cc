#include "server/frames/lirs_policy.h"

#include <algorithm>

namespace memserver {

namespace {
uint32_t HirCapacity(uint32_t capacity) {
  return capacity < 2 ? capacity : std::max<uint32_t>(1, capacity / 100);
}
}  // namespace

LirsPolicy::LirsPolicy(uint32_t capacity) : LirsPolicy(capacity, 2 * capacity) {}

LirsPolicy::LirsPolicy(uint32_t capacity, uint32_t max_nonresident)
    : BufferedPolicy(capacity),
      lir_capacity_(capacity - HirCapacity(capacity)),
      max_nonresident_(std::max<uint32_t>(
          1, std::min<uint64_t>(max_nonresident, uint64_t{kNilIndex} - 1 - capacity))),
      status_(size_t{capacity} + max_nonresident_, kFree),
      in_stack_(size_t{capacity} + max_nonresident_, false),
      key_(size_t{capacity} + max_nonresident_, 0),
      stack_links_(capacity + max_nonresident_),
      stack_(&stack_links_),
      queue_links_(capacity),
      queue_(&queue_links_),
      age_links_(capacity + max_nonresident_),
      nonresident_age_(&age_links_) {
  free_nodes_.reserve(max_nonresident_);
  for (uint32_t n = capacity + max_nonresident_; n > capacity; --n) free_nodes_.push_back(n - 1);
  nonresident_.reserve(max_nonresident_);
}

LirsPolicy::State LirsPolicy::GetState() {
  auto lock = LockAndDrain();
  return State{lir_count_, queue_.size(), static_cast<uint32_t>(nonresident_.size()),
               stack_.size()};
}

void LirsPolicy::LeaveStackLocked(uint32_t node) {
  stack_.Erase(node);
  in_stack_[node] = false;
  if (status_[node] == kHirNonResident) FreeNonResidentLocked(node);
}

void LirsPolicy::FreeNonResidentLocked(uint32_t node) {
  if (in_stack_[node]) {
    stack_.Erase(node);
    in_stack_[node] = false;
  }
  nonresident_age_.Erase(node);
  nonresident_.erase(key_[node]);
  status_[node] = kFree;
  free_nodes_.push_back(node);
}

void LirsPolicy::PruneLocked() {
  for (uint32_t b = stack_.Oldest(); b != kNilIndex && status_[b] != kLir; b = stack_.Oldest()) {
    LeaveStackLocked(b);
  }
}

void LirsPolicy::DemoteBottomLirLocked() {
  const uint32_t b = stack_.Oldest();  // an LIR block: S is pruned
  if (b == kNilIndex || status_[b] != kLir) return;
  status_[b] = kHirResident;
  --lir_count_;
  LeaveStackLocked(b);
  queue_.PushNewest(b);
  PruneLocked();
}

void LirsPolicy::PushLirLocked(uint32_t frame) {
  status_[frame] = kLir;
  ++lir_count_;
  stack_.PushNewest(frame);
  in_stack_[frame] = true;
}

void LirsPolicy::InsertLocked(FrameId frame, uint64_t key) {
  if (status_[frame] != kFree) return;
  key_[frame] = key;
  auto it = nonresident_.find(key);
  if (it != nonresident_.end()) {
    // Its reuse distance beat the bottom LIR block's recency: it becomes LIR.
    FreeNonResidentLocked(it->second);
    PushLirLocked(frame);
    if (lir_count_ > lir_capacity_) DemoteBottomLirLocked();
    return;
  }
  if (lir_count_ < lir_capacity_) {  // warm-up (or room left by Remove)
    PushLirLocked(frame);
    return;
  }
  status_[frame] = kHirResident;
  stack_.PushNewest(frame);
  in_stack_[frame] = true;
  queue_.PushNewest(frame);
}

void LirsPolicy::HitLocked(FrameId frame) {
  switch (status_[frame]) {
    case kLir: {
      const bool was_bottom = stack_.Oldest() == frame;
      stack_.MoveToNewest(frame);
      if (was_bottom) PruneLocked();
      return;
    }
    case kHirResident:
      if (in_stack_[frame]) {
        stack_.MoveToNewest(frame);
        queue_.Erase(frame);
        status_[frame] = kLir;
        ++lir_count_;
        if (lir_count_ > lir_capacity_) DemoteBottomLirLocked();
      } else {
        stack_.PushNewest(frame);
        in_stack_[frame] = true;
        queue_.MoveToNewest(frame);
      }
      return;
    default:
      return;  // untracked
  }
}

void LirsPolicy::MakeNonResidentLocked(uint32_t frame) {
  if (nonresident_.size() >= max_nonresident_) {
    FreeNonResidentLocked(nonresident_age_.Oldest());
  }
  const uint32_t node = free_nodes_.back();
  free_nodes_.pop_back();
  key_[node] = key_[frame];
  status_[node] = kHirNonResident;
  stack_.Replace(frame, node);
  in_stack_[node] = true;
  in_stack_[frame] = false;
  nonresident_age_.PushNewest(node);
  nonresident_[key_[node]] = node;
}

bool LirsPolicy::VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) {
  for (uint32_t f = queue_.Oldest(); f != kNilIndex; f = queue_.Newer(f)) {
    if (!can_evict(f)) continue;
    queue_.Erase(f);
    if (in_stack_[f]) MakeNonResidentLocked(f);
    status_[f] = kFree;
    *frame = f;
    return true;
  }
  // No acceptable resident HIR block: fall back to LIR blocks, least recent first.
  for (uint32_t f = stack_.Oldest(); f != kNilIndex; f = stack_.Newer(f)) {
    if (status_[f] != kLir || !can_evict(f)) continue;
    --lir_count_;
    LeaveStackLocked(f);
    status_[f] = kFree;
    PruneLocked();
    *frame = f;
    return true;
  }
  return false;
}

void LirsPolicy::RemoveLocked(FrameId frame) {
  switch (status_[frame]) {
    case kLir:
      --lir_count_;
      LeaveStackLocked(frame);
      PruneLocked();
      break;
    case kHirResident:
      queue_.Erase(frame);
      if (in_stack_[frame]) LeaveStackLocked(frame);
      break;
    default:
      return;
  }
  status_[frame] = kFree;
}

}  // namespace memserver
