// PageSlab: the allocator of Page objects, like Linux's kmem_cache for
// struct page-sized objects.
//
// Guarantees: Allocate() returns storage for exactly one Page (sizeof(Page)
// bytes, aligned for it) with no per-object header, so a page's metadata
// costs sizeof(Page) and nothing more; storage comes from chunks of
// kObjectsPerChunk objects taken from malloc. Free() makes the storage
// reusable at once. Chunks go back to malloc only when the slab is destroyed
// (a slab keeps its high-water mark, as a kmem_cache does until shrunk).
//
// Thread-safety: Allocate and Free may be called concurrently. Free lists
// are sharded by thread to keep page faults on different threads off one
// lock; a shard that runs dry takes another shard's list before the slab
// grows, so free storage anywhere is reused before a new chunk is taken.
// Lock order: a shard mutex is a leaf, except that Allocate holds its own
// shard while it try_locks the others (never blocking), then chunks_mu_.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

namespace memserver {

class PageSlab {
 public:
  // `object_size` and `alignment`: those of the type stored (Page).
  PageSlab(size_t object_size, size_t alignment);
  // REQUIRES: every object allocated has been freed or is never used again.
  ~PageSlab();
  PageSlab(const PageSlab&) = delete;
  PageSlab& operator=(const PageSlab&) = delete;

  static constexpr size_t kObjectsPerChunk = 4096;

  void* Allocate();
  void Free(void* object);

  // Bytes taken from malloc (chunks), for accounting.
  size_t reserved_bytes() const;

 private:
  struct FreeNode {
    FreeNode* next;
  };
  struct alignas(64) Shard {
    std::mutex mu;
    FreeNode* head = nullptr;  // GUARDED_BY(mu)
  };
  static constexpr size_t kShards = 16;

  Shard& MyShard();
  // Carves a new chunk into a list. Takes chunks_mu_.
  FreeNode* Grow();

  const size_t stride_;
  const size_t alignment_;
  std::array<Shard, kShards> shards_;
  mutable std::mutex chunks_mu_;
  std::vector<void*> chunks_;  // GUARDED_BY(chunks_mu_)
};

}  // namespace memserver
