// Page: one page of memory content, independent of where it is mapped.
//
// Page table entries point at Pages, never at frames. A Page may be mapped by
// many PTEs in many processes (fork's copy-on-write, shared anonymous memory,
// a file's page cache); it is evicted and paged in once, for all of them,
// without walking any page table. The frame that backs a resident page points
// back at it (Pager's reverse map), which is how eviction finds its victim.
//
// States (protected by the page's stripe lock, PageLocks::For(page)):
//
//   kZero ----first write----> kPagingIn --frame zero-filled--> kResident
//   kSwapped --any access----> kPagingIn --read from store----> kResident
//   kResident --evictor-------> kWritingOut --written/dropped--> kSwapped or kZero
//
//   kZero       no frame, no swap copy: content is all zero. Reads never
//               take a frame. (Anonymous pages only.)
//   kResident   content in `frame`. `has_swap`: a copy exists in swap;
//               `dirty`: the frame differs from that copy (or there is none).
//   kSwapped    content only in the store: swap under key `id` for an
//               anonymous page; the file store under (inode, id) for a file
//               page, where a missing key is a hole and reads as zeros.
//               has_swap is true.
//   kPagingIn   one thread is filling `frame`; others wait on the stripe's
//               condition variable (a page is never read from storage twice).
//   kWritingOut the evictor is writing `frame` to storage; accessors wait.
//
// Anonymous vs file pages: `inode` is 0 for anonymous memory (private
// pages, COW copies, shared anonymous memory), whose store copy is swap and
// dies with the page. A file page (inode != 0, `id` = page index in the file)
// belongs to the file's page cache (MemoryObject); eviction writes it back to
// the file store and the page goes to kSwapped, never kZero.
//
// Locked pages (`locks` > 0, mlock) are never chosen by the evictor.
//
// Durability (snapshots and msync, server/engine/snapshotter.h). Two bits say
// how an anonymous page's content relates to the store's copy under `id`:
//   frozen   the store holds this content under `id`, and a snapshot or an
//            msync record (committed or being written) may name that key: it
//            is never overwritten nor deleted by paging. The first change of
//            the content re-keys the page (Pager::RekeyLocked): it takes a
//            fresh id, and the old key is retired, to be deleted by the next
//            snapshot that no longer needs it.
//   pending  frozen by the snapshot being taken while its content existed
//            only in the frame: that content must reach the store under `id`
//            before the frame changes or goes. Whoever gets there first writes
//            it: the snapshot writer, the evictor, or a writer (which copies it
//            into the store and goes on, never waiting for the snapshot).
// File pages are never frozen: file data is written back in place.
//
// Lifetime: `refs` counts the PTEs (and transient holders such as the
// evictor) that reference the page in its low 31 bits; bit 31
// (kSnapshotHold) is the in-progress snapshot's hold on a pending page, which
// keeps the Page alive without counting as a mapper (copy-on-write decisions
// look at mappers() only). The holder that drops the last of both frees the
// frame and swap entry (Pager::Unref, Pager::ReleaseSnapshotHold). While a
// thread is in kPagingIn or kWritingOut it holds a reference, so a page is
// never freed mid-transition.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "server/frames/replacement_policy.h"

namespace memserver {

enum class PageState : uint8_t { kZero, kResident, kSwapped, kPagingIn, kWritingOut };

struct Page {
  // REQUIRES: file_inode < 2^31 and, for a file page, page_id < 2^32 (file
  // sizes are bounded by FileStore::kMaxFileSize, inodes by FileStore);
  // anonymous ids < 2^63.
  explicit Page(uint64_t page_id, uint32_t file_inode = 0)
      : Page(KeyTag{}, file_inode == 0 ? page_id
                                       : kFileBit | static_cast<uint64_t>(file_inode) << 32 | page_id) {}
  Page(const Page&) = delete;
  Page& operator=(const Page&) = delete;

  // The snapshot's hold in `refs` (see Lifetime above).
  static constexpr uint32_t kSnapshotHold = uint32_t{1} << 31;
  static constexpr uint32_t kRefMask = kSnapshotHold - 1;

  bool is_file() const { return (key_hi_ & (kFileBit >> 32)) != 0; }
  // Anonymous: the swap key, never reused on one store (ids are reserved
  // durably, Pager::SetIdFloor); changes when a frozen page is re-keyed.
  // File: page index. Read under the page's stripe lock, or while the page
  // is in a transition this thread owns (kPagingIn, kWritingOut).
  uint64_t id() const { return is_file() ? key_lo_ : key(); }
  // PTEs and objects mapping the page, plus transient holders; without the
  // snapshot's hold.
  uint32_t mappers() const { return refs.load(std::memory_order_acquire) & kRefMask; }
  // REQUIRES: anonymous page, stripe lock held, new_id < 2^63.
  void SetId(uint64_t new_id) {
    key_lo_ = static_cast<uint32_t>(new_id);
    key_hi_ = static_cast<uint32_t>(new_id >> 32);
  }
  // 0 for anonymous memory.
  uint32_t inode() const { return is_file() ? key_hi_ & ~static_cast<uint32_t>(kFileBit >> 32) : 0; }

  std::atomic<uint32_t> refs{1};    // PTEs, page caches, transient holders
  // Protected by PageLocks::For(this):
  FrameId frame = kNoFrame;         // valid in kResident, kPagingIn, kWritingOut
  uint16_t locks = 0;               // mlocked mappings covering the page
  PageState state = PageState::kZero;
  bool dirty : 1 = false;
  bool has_swap : 1 = false;        // a copy exists in the store
  bool lazy_free : 1 = false;       // MADV_FREE: drop instead of writing out
  bool frozen : 1 = false;          // see Durability above (implies has_swap)
  bool pending : 1 = false;         // see Durability above (implies frozen)
  bool durable : 1 = false;         // frozen, and the store's copy survives a crash

 private:
  static constexpr uint64_t kFileBit = uint64_t{1} << 63;
  struct KeyTag {};
  Page(KeyTag, uint64_t key) : key_lo_(static_cast<uint32_t>(key)), key_hi_(static_cast<uint32_t>(key >> 32)) {}
  uint64_t key() const { return static_cast<uint64_t>(key_hi_) << 32 | key_lo_; }

  // The page's identity as two 32-bit halves so that a Page needs only
  // 4-byte alignment (20 bytes, not 24): an anonymous id, or
  // kFileBit | inode << 32 | index for a file page (immutable). An anonymous
  // id changes only by SetId, under the stripe lock.
  uint32_t key_lo_;
  uint32_t key_hi_;
};

// Per mapped page the engine spends a Page (from PageSlab, no malloc header)
// and a 4-byte PTE (a PageSlab handle): 20 + 4 = 24 bytes. Per frame it
// spends a 4-byte reverse-map handle plus the replacement policy's state.
static_assert(sizeof(Page) == 20 && alignof(Page) == 4,
              "a Page is per-page metadata: keep it within 20 bytes");

// Striped locks for pages: a page's lock is chosen by its address, so a Page
// costs no mutex of its own. A stripe's condition variable is notified on
// every state change of any page of that stripe.
class PageLocks {
 public:
  struct alignas(64) Stripe {
    std::mutex mu;
    std::condition_variable cv;
  };
  Stripe& For(const Page* page) {
    uintptr_t h = reinterpret_cast<uintptr_t>(page);
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return stripes_[(h >> 32) & (kStripes - 1)];
  }

 private:
  static constexpr size_t kStripes = 1024;
  std::array<Stripe, kStripes> stripes_;
};

}  // namespace memserver
