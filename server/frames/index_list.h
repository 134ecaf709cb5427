// IndexList: an intrusive doubly-linked list of dense uint32 ids, the queues
// and stacks of the replacement policies (LRU list, ARC's T1/T2/B1/B2, ...).
//
// The links live in an IndexLinks array owned by the policy; several lists may
// share one IndexLinks as long as an id is in at most one of them at a time.
// Every operation is O(1). Not thread-safe: callers hold their policy's lock.
// REQUIRES: ids passed to PushNewest/InsertOlderThan are in no list of the
// shared links; ids passed to Erase/Newer/Older are in this list.
#pragma once

#include <cstdint>
#include <vector>

namespace memserver {

inline constexpr uint32_t kNilIndex = UINT32_MAX;

struct IndexLinks {
  explicit IndexLinks(uint32_t n) : newer(n, kNilIndex), older(n, kNilIndex) {}
  std::vector<uint32_t> newer;  // towards the list's newest end
  std::vector<uint32_t> older;  // towards the list's oldest end
};

class IndexList {
 public:
  explicit IndexList(IndexLinks* links) : links_(links) {}
  IndexList(const IndexList&) = delete;
  IndexList& operator=(const IndexList&) = delete;
  IndexList(IndexList&&) = default;

  uint32_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint32_t Newest() const { return newest_; }  // kNilIndex when empty
  uint32_t Oldest() const { return oldest_; }  // kNilIndex when empty
  uint32_t Newer(uint32_t id) const { return links_->newer[id]; }
  uint32_t Older(uint32_t id) const { return links_->older[id]; }

  void PushNewest(uint32_t id) {
    links_->newer[id] = kNilIndex;
    links_->older[id] = newest_;
    if (newest_ != kNilIndex) links_->newer[newest_] = id;
    newest_ = id;
    if (oldest_ == kNilIndex) oldest_ = id;
    ++size_;
  }

  void Erase(uint32_t id) {
    const uint32_t n = links_->newer[id], o = links_->older[id];
    if (n != kNilIndex) links_->older[n] = o; else newest_ = o;
    if (o != kNilIndex) links_->newer[o] = n; else oldest_ = n;
    links_->newer[id] = links_->older[id] = kNilIndex;
    --size_;
  }

  void MoveToNewest(uint32_t id) {
    if (id == newest_) return;
    Erase(id);
    PushNewest(id);
  }

  // Puts `id` where `old_id` was; `old_id` leaves the list.
  void Replace(uint32_t old_id, uint32_t id) {
    const uint32_t n = links_->newer[old_id], o = links_->older[old_id];
    links_->newer[id] = n;
    links_->older[id] = o;
    if (n != kNilIndex) links_->older[n] = id; else newest_ = id;
    if (o != kNilIndex) links_->newer[o] = id; else oldest_ = id;
    links_->newer[old_id] = links_->older[old_id] = kNilIndex;
  }

 private:
  IndexLinks* links_;  // not owned; outlives the list
  uint32_t newest_ = kNilIndex;
  uint32_t oldest_ = kNilIndex;
  uint32_t size_ = 0;
};

}  // namespace memserver
