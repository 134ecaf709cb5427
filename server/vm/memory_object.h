// MemoryObject: a shareable sequence of pages that mappings view, like
// Linux's address_space of a file or a shmem object.
//
//   kShmem  shared anonymous memory (mmap MAP_SHARED|MAP_ANONYMOUS): pages
//           start as zero and live in swap when evicted. Every mapping of
//           the object, in any process (fork keeps it), sees the same pages.
//   kFile   a file's page cache: page i holds bytes [i*page, (i+1)*page) of
//           the file; pages come from and go back to the file store.
//
// Mappings of an object hold no page table entries for its pages: every
// access resolves the page here, so a write through one mapping (or the file
// API) is seen at once by every other, and truncation needs no reverse map.
// Private mappings of a file keep their own copies in their page table
// (copy-on-write) and fall back to the object for pages not yet copied.
//
// Locking: mu() is taken shared by every access through the object and by
// lookups; exclusive to change the size (truncate) or drop pages. Lock order:
// AddressSpace::mm_lock_ -> MemoryObject::mu() -> page stripes.
// The object holds one reference on each of its pages.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>

#include "server/vm/page_table.h"
#include "server/vm/pager.h"

namespace memserver {

class MemoryObject {
 public:
  enum class Kind { kShmem, kFile };

  // `pager` is borrowed and must outlive the object. For kFile, `inode` is
  // the file's inode number (non-zero) and the object's id; a shmem object
  // takes `shmem_id` (Pager::NextObjectId() when 0).
  MemoryObject(Kind kind, Pager* pager, uint32_t inode, uint64_t size_bytes, std::string name = "",
               uint64_t shmem_id = 0);
  ~MemoryObject();  // drops every page (swap entries of shmem pages go too)
  MemoryObject(const MemoryObject&) = delete;
  MemoryObject& operator=(const MemoryObject&) = delete;

  Kind kind() const { return kind_; }
  uint32_t inode() const { return inode_; }
  // Names the object in snapshots and msync records: the inode of a file;
  // for shmem, unique among live objects and every object a snapshot or
  // msync record names.
  uint64_t id() const { return id_; }
  // The file's path when it was opened (pmap shows it); "" for shmem.
  const std::string& name() const { return name_; }
  Pager* pager() const { return pager_; }
  std::shared_mutex& mu() { return mu_; }

  // Size in bytes. Readable under mu() shared; changed under exclusive.
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  uint64_t size_pages() const;

  // REQUIRES: mu() held (shared or exclusive). The page at `index`, or
  // nullptr when nothing is cached there (a shmem page never written, a file
  // page not yet read).
  Page* Find(uint64_t index) const { return pages_.Lookup(index); }
  // REQUIRES: mu() held. The page at `index`, creating it when absent: a
  // shmem page in kZero, a file page in kSwapped (to be read from the store).
  Page* FindOrCreate(uint64_t index);

  // REQUIRES: mu() exclusive. Sets the size; pages wholly past the new end
  // are dropped from the cache (file keys past the end are deleted by the
  // file store). The partial last page is zeroed past the end. Growing from
  // a partial last page zeroes that page past the old end too (bytes a
  // shared mapping wrote past EOF never become file data, as POSIX says);
  // *tail is then that page, which the caller must make durable.
  Status Resize(uint64_t new_size, ReleaseBatch* batch, Page** tail = nullptr);

  // Page indexes run below 2^kIndexBits (2^52 bytes of 4 KiB pages: past
  // the largest file and shmem object). A mapping's offset may name more
  // (Linux lets a file offset reach 2^63); nothing is cached there.
  static constexpr unsigned kIndexBits = 40;

  // Calls fn(index, page) for cached pages with index in [begin, end).
  // REQUIRES: mu() held.
  void ForEach(uint64_t begin, uint64_t end, const std::function<void(uint64_t, Page*)>& fn) const {
    end = std::min(end, uint64_t{1} << kIndexBits);
    if (begin < end) pages_.ForEach(begin, end, fn);
  }
  uint64_t cached_pages() const { return pages_.entries(); }
  // Snapshots of shared memory: set by every change of the object's pages
  // or size, cleared when a snapshot records it.
  void MarkChanged() {
    if (!changed_.load(std::memory_order_relaxed)) changed_.store(true, std::memory_order_relaxed);
  }
  bool TakeChanged() { return changed_.exchange(false, std::memory_order_relaxed); }
  // Restore: puts `page` (whose reference the object takes) at `index`.
  // REQUIRES: mu() exclusive, nothing at index.
  void InstallPage(uint64_t index, Page* page) { pages_.Install(index, page); }
  // Journal replay: drops the pages with index in [begin, end). REQUIRES:
  // mu() exclusive.
  void DropPages(uint64_t begin, uint64_t end, ReleaseBatch* batch);
  // Journal replay: the size only grows back to what a record says.
  // REQUIRES: mu() exclusive.
  void GrowTo(uint64_t size_bytes) {
    if (size_bytes > size()) size_.store(size_bytes, std::memory_order_release);
  }

 private:
  const Kind kind_;
  Pager* const pager_;
  const uint32_t inode_;
  const uint64_t id_;
  const std::string name_;
  std::shared_mutex mu_;
  std::atomic<uint64_t> size_;
  std::atomic<bool> changed_{true};
  PageTable pages_;  // index -> Page*; entries installed by CAS under mu_ shared
};

}  // namespace memserver
