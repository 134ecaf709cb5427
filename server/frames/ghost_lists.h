// GhostLists: bounded history of evicted keys ("ghosts"), in one or more
// lists ordered by the time each key entered (ARC's B1/B2, 2Q's A1out).
//
// A key is in at most one list. At most `max_entries` keys are held in all
// lists together: Push on a full set is a caller bug and drops the oldest key
// of the same list first. Not thread-safe: callers hold their policy's lock.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "server/frames/index_list.h"

namespace memserver {

class GhostLists {
 public:
  static constexpr int kNone = -1;

  GhostLists(int num_lists, uint32_t max_entries)
      : links_(max_entries), keys_(max_entries), list_of_(max_entries, kNone) {
    lists_.reserve(num_lists);
    for (int i = 0; i < num_lists; ++i) lists_.emplace_back(&links_);
    free_.reserve(max_entries);
    for (uint32_t i = max_entries; i > 0; --i) free_.push_back(i - 1);
    index_.reserve(max_entries);
  }
  GhostLists(const GhostLists&) = delete;
  GhostLists& operator=(const GhostLists&) = delete;

  uint32_t size(int list) const { return lists_[list].size(); }
  uint32_t total() const { return static_cast<uint32_t>(index_.size()); }

  // The list holding `key`, or kNone.
  int Find(uint64_t key) const {
    auto it = index_.find(key);
    return it == index_.end() ? kNone : list_of_[it->second];
  }

  // Adds `key` (in no list) as the newest entry of `list`.
  void Push(int list, uint64_t key) {
    if (free_.empty()) {
      if (lists_[list].empty()) return;
      PopOldest(list);
    }
    const uint32_t node = free_.back();
    free_.pop_back();
    keys_[node] = key;
    list_of_[node] = list;
    lists_[list].PushNewest(node);
    index_.emplace(key, node);
  }

  // Forgets `key`; no-op when absent.
  void Erase(uint64_t key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    const uint32_t node = it->second;
    index_.erase(it);
    Release(node);
  }

  // Forgets the oldest key of `list`; no-op when empty.
  void PopOldest(int list) {
    const uint32_t node = lists_[list].Oldest();
    if (node == kNilIndex) return;
    index_.erase(keys_[node]);
    Release(node);
  }

 private:
  void Release(uint32_t node) {
    lists_[list_of_[node]].Erase(node);
    list_of_[node] = kNone;
    free_.push_back(node);
  }

  IndexLinks links_;
  std::vector<IndexList> lists_;
  std::vector<uint64_t> keys_;   // by node
  std::vector<int> list_of_;     // by node
  std::vector<uint32_t> free_;   // free nodes
  std::unordered_map<uint64_t, uint32_t> index_;  // key -> node
};

}  // namespace memserver
