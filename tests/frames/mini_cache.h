// MiniCache: a tiny demand-paging cache over a ReplacementPolicy for tests,
// driving the policy exactly as memsim does (OnMiss, lowest free frame, else
// Victim(accept all), then Insert) but remembering which key got evicted.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "server/frames/miss_observer.h"
#include "server/frames/replacement_policy.h"

namespace memserver::testing {

class MiniCache {
 public:
  MiniCache(const std::string& policy, uint32_t frames) : frames_(frames), key_of_(frames) {
    Status s = NewReplacementPolicy(policy, frames, &policy_);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  MiniCache(std::unique_ptr<ReplacementPolicy> policy, uint32_t frames)
      : policy_(std::move(policy)), frames_(frames), key_of_(frames) {}

  ReplacementPolicy* policy() { return policy_.get(); }

  // Returns true on a hit. On a miss that evicted, evicted() is the key.
  bool Access(uint64_t key) {
    evicted_.reset();
    auto it = frame_of_.find(key);
    if (it != frame_of_.end()) {
      policy_->Touch(it->second);
      return true;
    }
    if (auto* observer = dynamic_cast<MissObserver*>(policy_.get())) observer->OnMiss(key);
    FrameId f;
    if (used_ < frames_) {
      f = used_++;
    } else {
      const bool ok = policy_->Victim([](FrameId) { return true; }, &f);
      EXPECT_TRUE(ok) << "no victim with every frame evictable";
      if (!ok) return false;
      evicted_ = key_of_[f];
      frame_of_.erase(key_of_[f]);
    }
    key_of_[f] = key;
    frame_of_[key] = f;
    policy_->Insert(f, key);
    return false;
  }

  // Removes a resident key (munmap): the frame is freed for reuse.
  void Remove(uint64_t key) {
    auto it = frame_of_.find(key);
    ASSERT_NE(it, frame_of_.end());
    policy_->Remove(it->second);
    free_.push_back(it->second);
    frame_of_.erase(it);
  }

  // Like Access, but a miss takes a frame freed by Remove first.
  bool AccessReusingFreed(uint64_t key) {
    if (free_.empty() || frame_of_.count(key)) return Access(key);
    const FrameId f = free_.back();
    free_.pop_back();
    if (auto* observer = dynamic_cast<MissObserver*>(policy_.get())) observer->OnMiss(key);
    key_of_[f] = key;
    frame_of_[key] = f;
    policy_->Insert(f, key);
    return false;
  }

  bool Resident(uint64_t key) const { return frame_of_.count(key) != 0; }
  FrameId FrameOf(uint64_t key) const { return frame_of_.at(key); }
  std::optional<uint64_t> evicted() const { return evicted_; }

 private:
  std::unique_ptr<ReplacementPolicy> policy_;
  const uint32_t frames_;
  uint32_t used_ = 0;
  std::vector<uint64_t> key_of_;
  std::unordered_map<uint64_t, FrameId> frame_of_;
  std::vector<FrameId> free_;
  std::optional<uint64_t> evicted_;
};

}  // namespace memserver::testing
