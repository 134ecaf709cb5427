// BufferedPolicy: base of the policies that reorder pages on a hit (LRU, ARC,
// LIRS, 2Q). It turns a textbook single-threaded policy, written as the
// *Locked hooks below, into a ReplacementPolicy whose Touch takes no lock.
//
// Guarantees, on top of replacement_policy.h:
//   - Touch appends the frame to a HitBuffer (lock-free, per-thread stripe).
//     Only when the thread's stripe is full does it try_lock the policy (never
//     waits) to drain it; if the policy is busy the hit is dropped. A dropped
//     hit only makes the page look colder than it is.
//   - Insert, Remove and Victim lock, then apply every buffered hit (in each
//     thread's order) through HitLocked, then run their own hook.
//   - So in single-threaded use (memsim) every hit is applied before the next
//     Insert/Remove/Victim, in order, and never dropped: the policy behaves
//     exactly as the textbook algorithm its hooks implement.
//   - A buffered hit whose frame was evicted (and maybe refilled) meanwhile is
//     harmless: a hit on an untracked frame is ignored by every hook, one on a
//     refilled frame counts for the new page (it raced with its eviction).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

#include "server/frames/hit_buffer.h"
#include "server/frames/replacement_policy.h"

namespace memserver {

class BufferedPolicy : public ReplacementPolicy {
 public:
  BufferedPolicy(const BufferedPolicy&) = delete;
  BufferedPolicy& operator=(const BufferedPolicy&) = delete;

  void Insert(FrameId frame, uint64_t key) final;
  void Touch(FrameId frame) final;
  void Remove(FrameId frame) final;
  bool Victim(const std::function<bool(FrameId)>& can_evict, FrameId* frame) final;

 protected:
  explicit BufferedPolicy(uint32_t capacity) : capacity_(capacity) {}

  // Locks mu_ and applies the buffered hits. For subclass entry points that
  // are not part of the interface (introspection, OnMiss).
  std::unique_lock<std::mutex> LockAndDrain();

  // Hooks, called with mu_ held and hits drained. `frame` < capacity_.
  // InsertLocked: REQUIRES frame untracked. HitLocked/RemoveLocked: the frame
  // may be untracked (ignore it then). VictimLocked: as Victim.
  virtual void InsertLocked(FrameId frame, uint64_t key) = 0;
  virtual void HitLocked(FrameId frame) = 0;
  virtual void RemoveLocked(FrameId frame) = 0;
  virtual bool VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) = 0;

  const uint32_t capacity_;

 private:
  void DrainLocked();

  std::mutex mu_;  // guards all subclass state; HitBuffer drains under it
  HitBuffer hits_;
};

}  // namespace memserver
