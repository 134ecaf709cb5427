// LruPolicy: least recently used. One list, most recent first; a hit moves
// the page to the front; Victim offers pages from the least recent end.
//
// Concurrency and exactness: see BufferedPolicy (Touch takes no lock; exact
// LRU in single-threaded use). Victim offers every tracked frame at most once,
// least recent first, then returns false.
#pragma once

#include <vector>

#include "server/frames/buffered_policy.h"
#include "server/frames/index_list.h"

namespace memserver {

class LruPolicy final : public BufferedPolicy {
 public:
  explicit LruPolicy(uint32_t capacity);
  const char* Name() const override { return "lru"; }

 private:
  void InsertLocked(FrameId frame, uint64_t key) override;
  void HitLocked(FrameId frame) override;
  void RemoveLocked(FrameId frame) override;
  bool VictimLocked(const std::function<bool(FrameId)>& can_evict, FrameId* frame) override;

  // All guarded by BufferedPolicy's lock.
  std::vector<bool> tracked_;
  IndexLinks links_;
  IndexList list_;  // newest = most recently used
};

}  // namespace memserver
