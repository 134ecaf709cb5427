// PageSlab: the allocator of Page objects, like Linux's kmem_cache for
// struct page-sized objects, whose objects are also named by 32-bit handles
// (the way Linux names a struct page by its pfn).
//
// Guarantees:
//   - Allocate() returns storage for exactly one object (stride() bytes:
//     the object size rounded up to its alignment) with no per-object header.
//   - Every object has a handle in [1, max_objects]: HandleOf(p) and At(h)
//     convert in O(1) without a lock (one subtraction and division, one
//     multiplication). Handle 0 is never an object, so 0 can mean "empty" in
//     tables of handles (page table entries, the frame reverse map): a
//     handle costs 4 bytes where a pointer costs 8.
//   - The slab is one reservation of address space (PROT_NONE, no memory
//     committed) of max_objects * stride() bytes, made readable and writable
//     chunk by chunk (kObjectsPerChunk objects) as the slab grows. Storage
//     never moves. Committed chunks stay committed until the slab is
//     destroyed (a slab keeps its high-water mark, as a kmem_cache does).
//   - Free() makes the storage reusable at once.
//   - Allocate() throws std::bad_alloc when max_objects are live or the
//     kernel refuses to commit a chunk.
//
// Thread-safety: Allocate and Free may be called concurrently. Free lists
// are sharded by thread to keep page faults on different threads off one
// lock; a shard that runs dry takes another shard's list before the slab
// grows, so free storage anywhere is reused before a new chunk is taken.
// Lock order: a shard mutex is a leaf, except that Allocate holds its own
// shard while it try_locks the others (never blocking), then grow_mu_.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>

namespace memserver {

class PageSlab {
 public:
  // Default bound on live objects: 2^31 pages (8 TiB of 4 KiB pages), a
  // reservation of 2^31 * stride bytes of address space (40 GiB for a
  // 20-byte Page), none of it committed until used.
  static constexpr uint32_t kDefaultMaxObjects = uint32_t{1} << 31;
  static constexpr size_t kObjectsPerChunk = 4096;

  // `object_size` and `alignment`: those of the type stored (Page).
  // REQUIRES: object_size >= 4, alignment >= 4 and a power of two.
  PageSlab(size_t object_size, size_t alignment, uint32_t max_objects = kDefaultMaxObjects);
  // REQUIRES: every object allocated has been freed or is never used again.
  ~PageSlab();
  PageSlab(const PageSlab&) = delete;
  PageSlab& operator=(const PageSlab&) = delete;

  void* Allocate();
  void Free(void* object);

  // REQUIRES: object came from this slab's Allocate (or At).
  uint32_t HandleOf(const void* object) const {
    return static_cast<uint32_t>(static_cast<size_t>(static_cast<const char*>(object) - base_) / stride_);
  }
  // REQUIRES: handle in [1, max_objects]. Pure arithmetic: the storage is
  // only usable once Allocate has handed it out.
  void* At(uint32_t handle) const { return base_ + static_cast<size_t>(handle) * stride_; }

  size_t stride() const { return stride_; }
  // Bytes committed for objects (chunks carved so far), for accounting.
  size_t reserved_bytes() const;

 private:
  struct alignas(64) Shard {
    std::mutex mu;
    uint32_t head = 0;  // handle of the first free object; GUARDED_BY(mu)
  };
  static constexpr size_t kShards = 16;

  // The handle stored in a free object: the next free one (0 ends the list).
  uint32_t& NextOf(uint32_t handle) const { return *static_cast<uint32_t*>(At(handle)); }
  Shard& MyShard();
  // Commits and carves a new chunk into a list; returns its first handle.
  // Takes grow_mu_.
  uint32_t Grow();

  const size_t stride_;
  const uint32_t max_objects_;
  const size_t reservation_bytes_;
  char* base_;  // reservation_bytes_ of address space, owned (munmap)
  std::array<Shard, kShards> shards_;
  mutable std::mutex grow_mu_;
  uint32_t carved_ = 1;         // handles [1, carved_) carved; GUARDED_BY(grow_mu_)
  size_t committed_bytes_ = 0;  // prefix of the reservation made RW; GUARDED_BY(grow_mu_)
};

}  // namespace memserver
