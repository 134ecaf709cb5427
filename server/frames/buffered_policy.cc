#include "server/frames/buffered_policy.h"

namespace memserver {

void BufferedPolicy::DrainLocked() {
  hits_.Drain([this](FrameId frame) { HitLocked(frame); });
}

std::unique_lock<std::mutex> BufferedPolicy::LockAndDrain() {
  std::unique_lock<std::mutex> lock(mu_);
  DrainLocked();
  return lock;
}

void BufferedPolicy::Insert(FrameId frame, uint64_t key) {
  if (frame >= capacity_) return;
  auto lock = LockAndDrain();
  InsertLocked(frame, key);
}

void BufferedPolicy::Touch(FrameId frame) {
  if (frame >= capacity_) return;
  // Two rounds: append; if full, drain if the lock is free and append again.
  for (int round = 0; round < 2; ++round) {
    if (hits_.TryAppend(frame)) return;
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;  // busy: drop the hit rather than wait
    DrainLocked();
  }
}

void BufferedPolicy::Remove(FrameId frame) {
  if (frame >= capacity_) return;
  auto lock = LockAndDrain();
  RemoveLocked(frame);
}

bool BufferedPolicy::Victim(const std::function<bool(FrameId)>& can_evict, FrameId* frame) {
  auto lock = LockAndDrain();
  return VictimLocked(can_evict, frame);
}

}  // namespace memserver
