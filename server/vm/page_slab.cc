#include "server/vm/page_slab.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <new>
#include <thread>

namespace memserver {

PageSlab::PageSlab(size_t object_size, size_t alignment)
    : stride_((std::max(object_size, sizeof(FreeNode)) + alignment - 1) / alignment * alignment),
      alignment_(std::max(alignment, alignof(FreeNode))) {}

PageSlab::~PageSlab() {
  for (void* chunk : chunks_) std::free(chunk);
}

PageSlab::Shard& PageSlab::MyShard() {
  thread_local const size_t index = std::hash<std::thread::id>()(std::this_thread::get_id()) % kShards;
  return shards_[index];
}

PageSlab::FreeNode* PageSlab::Grow() {
  void* chunk = std::aligned_alloc(alignment_, (stride_ * kObjectsPerChunk + alignment_ - 1) / alignment_ * alignment_);
  if (chunk == nullptr) throw std::bad_alloc();
  {
    std::lock_guard<std::mutex> l(chunks_mu_);
    chunks_.push_back(chunk);
  }
  char* base = static_cast<char*>(chunk);
  FreeNode* head = nullptr;
  for (size_t i = kObjectsPerChunk; i-- > 0;) {
    auto* node = reinterpret_cast<FreeNode*>(base + i * stride_);
    node->next = head;
    head = node;
  }
  return head;
}

void* PageSlab::Allocate() {
  Shard& mine = MyShard();
  std::lock_guard<std::mutex> l(mine.mu);
  if (mine.head == nullptr) {
    // Take another shard's whole list before growing.
    for (Shard& other : shards_) {
      if (&other == &mine) continue;
      std::unique_lock<std::mutex> ol(other.mu, std::try_to_lock);
      if (ol.owns_lock() && other.head != nullptr) {
        mine.head = other.head;
        other.head = nullptr;
        break;
      }
    }
    if (mine.head == nullptr) mine.head = Grow();
  }
  FreeNode* node = mine.head;
  mine.head = node->next;
  return node;
}

void PageSlab::Free(void* object) {
  Shard& mine = MyShard();
  auto* node = static_cast<FreeNode*>(object);
  std::lock_guard<std::mutex> l(mine.mu);
  node->next = mine.head;
  mine.head = node;
}

size_t PageSlab::reserved_bytes() const {
  std::lock_guard<std::mutex> l(chunks_mu_);
  return chunks_.size() * stride_ * kObjectsPerChunk;
}

}  // namespace memserver
