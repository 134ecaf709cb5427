#include "server/frames/lirs_policy.h"

#include <algorithm>

namespace memserver {

namespace {
uint32_t HirCapacity(uint32_t capacity) {
  return capacity < 2 ? capacity : std::max<uint32_t>(1, capacity / 100);
}

template <typename T>
size_t VectorBytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

size_t LinksBytes(const IndexLinks& links) {
  return VectorBytes(links.newer) + VectorBytes(links.older);
}
}  // namespace

LirsPolicy::LirsPolicy(uint32_t capacity) : LirsPolicy(capacity, 2 * capacity) {}

LirsPolicy::LirsPolicy(uint32_t capacity, uint32_t max_nonresident)
    : BufferedPolicy(capacity),
      lir_capacity_(capacity - HirCapacity(capacity)),
      max_nonresident_(std::max<uint32_t>(
          1, std::min<uint64_t>(max_nonresident, uint64_t{kNilIndex} - 1 - capacity))),
      key_(size_t{capacity} + max_nonresident_, 0),
      state_(capacity, kFree),
      stack_links_(capacity + max_nonresident_),
      stack_(&stack_links_),
      queue_links_(capacity),
      queue_(&queue_links_),
      age_links_(max_nonresident_),
      nonresident_age_(&age_links_),
      free_head_(0),
      nonresident_(max_nonresident_, key_.data()) {
  // Free list 0 -> 1 -> ... -> H - 1: entries are handed out lowest first.
  for (uint32_t e = 0; e + 1 < max_nonresident_; ++e) age_links_.newer[e] = e + 1;
}

LirsPolicy::State LirsPolicy::GetState() {
  auto lock = LockAndDrain();
  return State{lir_count_, queue_.size(), nonresident_age_.size(), stack_.size()};
}

size_t LirsPolicy::MemoryBytes() const {
  return VectorBytes(key_) + VectorBytes(state_) + LinksBytes(stack_links_) +
         LinksBytes(queue_links_) + LinksBytes(age_links_) + nonresident_.MemoryBytes();
}

void LirsPolicy::LeaveStackLocked(uint32_t node) {
  if (!IsFrame(node)) {
    FreeNonResidentLocked(node);
    return;
  }
  stack_.Erase(node);
  SetInStack(node, false);
}

void LirsPolicy::FreeNonResidentLocked(uint32_t node) {
  const uint32_t entry = node - capacity_;
  stack_.Erase(node);
  nonresident_age_.Erase(entry);
  nonresident_.Erase(node);
  age_links_.newer[entry] = free_head_;
  free_head_ = entry;
}

void LirsPolicy::PruneLocked() {
  for (uint32_t b = stack_.Oldest(); b != kNilIndex && !IsLir(b); b = stack_.Oldest()) {
    LeaveStackLocked(b);
  }
}

void LirsPolicy::DemoteBottomLirLocked() {
  const uint32_t b = stack_.Oldest();  // an LIR block: S is pruned
  if (b == kNilIndex || !IsLir(b)) return;
  SetStatus(b, kHirResident);
  --lir_count_;
  LeaveStackLocked(b);
  queue_.PushNewest(b);
  PruneLocked();
}

void LirsPolicy::PushLirLocked(uint32_t frame) {
  state_[frame] = kLir | kInStack;
  ++lir_count_;
  stack_.PushNewest(frame);
}

void LirsPolicy::InsertLocked(FrameId frame, uint64_t key) {
  if (StatusOf(frame) != kFree) return;
  key_[frame] = key;
  const uint32_t node = nonresident_.Find(key);
  if (node != kNilIndex) {
    // Its reuse distance beat the bottom LIR block's recency: it becomes LIR.
    FreeNonResidentLocked(node);
    PushLirLocked(frame);
    if (lir_count_ > lir_capacity_) DemoteBottomLirLocked();
    return;
  }
  if (lir_count_ < lir_capacity_) {  // warm-up (or room left by Remove)
    PushLirLocked(frame);
    return;
  }
  state_[frame] = kHirResident | kInStack;
  stack_.PushNewest(frame);
  queue_.PushNewest(frame);
}

void LirsPolicy::HitLocked(FrameId frame) {
  switch (StatusOf(frame)) {
    case kLir: {
      const bool was_bottom = stack_.Oldest() == frame;
      stack_.MoveToNewest(frame);
      if (was_bottom) PruneLocked();
      return;
    }
    case kHirResident:
      if (InStack(frame)) {
        stack_.MoveToNewest(frame);
        queue_.Erase(frame);
        SetStatus(frame, kLir);
        ++lir_count_;
        if (lir_count_ > lir_capacity_) DemoteBottomLirLocked();
      } else {
        stack_.PushNewest(frame);
        SetInStack(frame, true);
        queue_.MoveToNewest(frame);
      }
      return;
    default:
      return;  // untracked
  }
}

void LirsPolicy::MakeNonResidentLocked(uint32_t frame) {
  if (nonresident_age_.size() >= max_nonresident_) {
    FreeNonResidentLocked(capacity_ + nonresident_age_.Oldest());
  }
  const uint32_t entry = free_head_;  // not kNilIndex: fewer than H in use
  free_head_ = age_links_.newer[entry];
  const uint32_t node = capacity_ + entry;
  key_[node] = key_[frame];
  stack_.Replace(frame, node);
  SetInStack(frame, false);
  nonresident_age_.PushNewest(entry);
  nonresident_.Insert(node);
}

bool LirsPolicy::VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) {
  for (uint32_t f = queue_.Oldest(); f != kNilIndex; f = queue_.Newer(f)) {
    if (!can_evict(f)) continue;
    queue_.Erase(f);
    if (InStack(f)) MakeNonResidentLocked(f);
    state_[f] = kFree;
    *frame = f;
    return true;
  }
  // No acceptable resident HIR block: fall back to LIR blocks, least recent first.
  for (uint32_t f = stack_.Oldest(); f != kNilIndex; f = stack_.Newer(f)) {
    if (!IsLir(f) || !can_evict(f)) continue;
    --lir_count_;
    LeaveStackLocked(f);
    state_[f] = kFree;
    PruneLocked();
    *frame = f;
    return true;
  }
  return false;
}

void LirsPolicy::RemoveLocked(FrameId frame) {
  switch (StatusOf(frame)) {
    case kLir:
      --lir_count_;
      LeaveStackLocked(frame);
      PruneLocked();
      break;
    case kHirResident:
      queue_.Erase(frame);
      if (InStack(frame)) LeaveStackLocked(frame);
      break;
    default:
      return;
  }
  state_[frame] = kFree;
}

}  // namespace memserver
