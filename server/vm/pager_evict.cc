// Pager: frame allocation, eviction and background reclaim.
//
// A fault that finds no free frame evicts a batch itself (one evictor at a
// time, under evict_mu_); background reclaim keeps free frames between the
// watermarks so that faults rarely wait. Victims move to kWritingOut while
// their batch is written without any stripe lock held.
#include <fmt/format.h>

#include <chrono>
#include <future>
#include <thread>

#include <boost/asio/post.hpp>

#include "server/vm/pager.h"
#include "server/vm/page_content.h"

namespace memserver {

namespace {

// How long a fault waits for a frame while every frame is mid-transition
// before it gives up with RESOURCE_EXHAUSTED.
constexpr auto kFrameWait = std::chrono::seconds(10);

}  // namespace

void Pager::StopReclaim() {
  reclaim_stopped_.store(true);
  // A queued pass sees the flag and returns; a running one ends its batch.
  bool expected = false;
  while (!reclaim_queued_.compare_exchange_weak(expected, true)) {
    expected = false;
    std::this_thread::yield();
  }
}

void Pager::Drain() {
  std::promise<void> done;
  boost::asio::post(*background_, [&done] { done.set_value(); });
  done.get_future().wait();  // the pool runs tasks in order on one thread
}

void Pager::MaybeStartReclaim() {
  if (reclaim_low_ == 0 || reclaim_stopped_.load() || frames_.free_count() >= reclaim_low_) return;
  if (reclaim_queued_.exchange(true)) return;  // already queued or running
  boost::asio::post(*background_, [this] { Reclaim(); });
}

void Pager::Reclaim() {
  reclaim_runs_.fetch_add(1, std::memory_order_relaxed);
  while (!reclaim_stopped_.load() && frames_.free_count() < std::max(reclaim_high_, reclaim_low_ + 1)) {
    uint32_t freed = 0;
    Status s = EvictBatch(&freed, /*background=*/true);
    if (!s.ok() || freed == 0) break;  // nothing evictable now; faults evict directly
  }
  reclaim_queued_.store(false);
}

Status Pager::AllocateFrame(FrameId* frame, uint16_t slot, bool reclaim_own) {
  MEMSERVER_RETURN_IF_ERROR(ChargeFrame(slot, reclaim_own));
  Status s = TakeFrame(frame);
  if (!s.ok()) {
    ReleasePage(slot, TenantResource::kResidentBytes);
    return s;
  }
  if (frame_slot_ != nullptr) frame_slot_[*frame].store(slot, std::memory_order_relaxed);
  return s;
}

Status Pager::TakeFrame(FrameId* frame) {
  const auto deadline = std::chrono::steady_clock::now() + kFrameWait;
  for (;;) {
    if (frames_.TryAllocate(frame)) {
      MaybeStartReclaim();
      return Status::OK();
    }
    uint32_t freed = 0;
    MEMSERVER_RETURN_IF_ERROR(EvictBatch(&freed));
    if (freed > 0) continue;
    // Every frame is being paged in or out by someone else: wait for one.
    // Frames freed by munmap/exit do not notify, so wait in short slices.
    std::unique_lock<std::mutex> l(evict_mu_);
    if (frames_.free_count() > 0) continue;
    frame_freed_.wait_for(l, std::chrono::milliseconds(1));
    if (frames_.free_count() == 0 && std::chrono::steady_clock::now() > deadline) {
      return Status::ResourceExhausted(
          fmt::format("no frame could be reclaimed: all {} frames are busy (paging in or out, or locked)",
                      frames_.capacity()));
    }
  }
}

bool Pager::TryBeginEvict(FrameId frame, std::vector<Victim>* victims, bool clean_only) {
  Page* page = Owner(frame, std::memory_order_acquire);
  if (page == nullptr || pins_[frame].load(std::memory_order_acquire) != 0) return false;
  PageLocks::Stripe& stripe = locks_.For(page);
  // try_lock: we hold the policy's lock, which ranks below stripes.
  std::unique_lock<std::mutex> l(stripe.mu, std::try_to_lock);
  if (!l.owns_lock()) return false;
  // owner_ is cleared under this lock before a page is freed, so if it
  // still names `page` the page is alive.
  if (Owner(frame, std::memory_order_acquire) != page || page->state != PageState::kResident ||
      page->frame != frame || page->locks > 0 || (clean_only && (page->dirty || !page->has_swap))) {
    return false;
  }
  // Its first swap copy is charged now: never past the account's max_swap
  // (a page found all zero at write time gives the charge back).
  const bool lazy = page->lazy_free && !page->frozen;
  const uint16_t swap_charged = !page->is_file() && !page->has_swap && !lazy ? FrameSlot(frame) : 0;
  if (!ChargePage(swap_charged, TenantResource::kSwapBytes).ok()) return false;
  if (!TryRef(page)) {
    ReleasePage(swap_charged, TenantResource::kSwapBytes);
    return false;
  }
  page->state = PageState::kWritingOut;
  // A frozen page's key is named by a snapshot: its content is never
  // dropped (MADV_FREE) nor deleted as zero, only written or kept.
  victims->push_back(Victim{page, frame, page->dirty, page->has_swap, lazy, page->frozen, false, swap_charged});
  return true;
}

Status Pager::EvictBatch(uint32_t* freed, bool background) {
  *freed = 0;
  std::unique_lock<std::mutex> l(evict_mu_);
  if (!background && frames_.free_count() > 0) {
    *freed = 1;  // someone else's eviction already made room
    return Status::OK();
  }
  ReleaseBatch release;
  Status s = EvictLocked(/*clean_only=*/false, freed, &release);
  if (!s.ok() && *freed == 0) {
    // The store refuses writes (a full disk, say): pages whose copy in the
    // store is current still go without one, so reads keep working.
    Status clean = EvictLocked(/*clean_only=*/true, freed, &release);
    if (clean.ok() && *freed > 0) s = Status::OK();
  }
  frame_freed_.notify_all();
  l.unlock();
  Status fs = Flush(&release);
  return s.ok() ? fs : s;
}

Status Pager::EvictLocked(bool clean_only, uint32_t* freed, ReleaseBatch* release, uint16_t only_slot) {
  std::vector<Victim> victims;
  const uint32_t want = std::max<uint32_t>(1, options_.eviction_batch);
  while (victims.size() < want) {
    FrameId f;
    if (!policy_->Victim(
            [&](FrameId frame) {
              return (only_slot == 0 || FrameSlot(frame) == only_slot) && TryBeginEvict(frame, &victims, clean_only);
            },
            &f)) {
      break;
    }
  }
  if (victims.empty()) return Status::OK();

  // Write out, with no stripe lock held: the victims are in kWritingOut, so
  // their content cannot change and accessors wait.
  storage::WriteBatch wb;
  uint64_t puts = 0;
  for (Victim& v : victims) {
    const char* data = frames_.Data(v.frame);
    const bool file = v.page->is_file();
    if (!v.dirty && v.has_swap) continue;  // clean: the store copy is current
    if (!v.frozen && ((v.lazy && !file) || IsAllZero(data, frames_.page_size()))) {
      // An anonymous zero page is not stored at all; a zero file page is a hole.
      v.zero = true;
      if (v.has_swap) wb.Delete(SpaceOf(v.page), KeyOf(v.page));
      continue;
    }
    wb.Put(SpaceOf(v.page), KeyOf(v.page), std::string_view(data, frames_.page_size()));
    ++puts;
  }
  Status s = wb.empty() ? Status::OK() : store_->Write(wb, /*sync=*/false);

  for (Victim& v : victims) {
    PageLocks::Stripe& stripe = locks_.For(v.page);
    {
      std::lock_guard<std::mutex> pl(stripe.mu);
      if (s.ok()) {
        SetOwner(v.frame, nullptr, std::memory_order_release);
        // Out of its frame, an anonymous page keeps its swap slot in `frame`.
        const uint16_t swap_slot = FrameSlot(v.frame);
        v.page->frame = kNoFrame;
        if (v.zero) {
          ReleasePage(v.has_swap ? swap_slot : v.swap_charged, TenantResource::kSwapBytes);
        } else if (!v.page->is_file() && swap_slot != 0 && ChargeAccount(swap_slot) != nullptr) {
          v.page->frame = swap_slot;
        }
        v.page->dirty = false;
        v.page->lazy_free = false;
        v.page->pending = false;  // a snapshot's content is in the store now
        if (v.page->is_file()) {
          v.page->state = PageState::kSwapped;  // back in the file store (or a hole)
          if (!v.dirty) clean_evictions_.fetch_add(1, std::memory_order_relaxed);
          if (v.zero) zero_evictions_.fetch_add(1, std::memory_order_relaxed);
        } else if (v.zero) {
          v.page->state = PageState::kZero;
          if (v.has_swap) swap_pages_.fetch_sub(1, std::memory_order_relaxed);
          v.page->has_swap = false;
          zero_pages_.fetch_add(1, std::memory_order_relaxed);
          zero_evictions_.fetch_add(1, std::memory_order_relaxed);
        } else {
          v.page->state = PageState::kSwapped;
          if (!v.has_swap) swap_pages_.fetch_add(1, std::memory_order_relaxed);
          v.page->has_swap = true;
          if (!v.dirty && v.has_swap) clean_evictions_.fetch_add(1, std::memory_order_relaxed);
        }
      } else {
        ReleasePage(v.swap_charged, TenantResource::kSwapBytes);
        v.page->state = PageState::kResident;  // keep it; the write failed
        policy_->Insert(v.frame, v.page->is_file() ? FileKeyOf(v.page) : v.page->id());
      }
      stripe.cv.notify_all();
    }
    if (s.ok()) {
      FreeFrame(v.frame);  // Victim() already stopped tracking it
      ++*freed;
    }
    Unref(v.page, release);  // the evictor's transient reference
  }
  if (s.ok()) {
    evictions_.fetch_add(victims.size(), std::memory_order_relaxed);
    page_outs_.fetch_add(puts, std::memory_order_relaxed);
  }
  return s;
}

}  // namespace memserver
