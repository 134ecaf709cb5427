// Pager: page lifetime, the access state machine, fault-in and readahead.
// Eviction is in pager_evict.cc, durability (snapshots, msync) in
// pager_durability.cc, statistics and invariants in pager_stats.cc.
#include "server/vm/pager.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <boost/asio/post.hpp>

#include "server/vm/store_keys.h"

namespace memserver {

Pager::Pager(const EngineOptions& options, storage::BackingStore* store,
             std::unique_ptr<ReplacementPolicy> policy, const TenantLedger* ledger)
    : options_(options),
      store_(store),
      frames_(static_cast<uint32_t>(options.memory_bytes / options.page_size), options.page_size),
      policy_(std::move(policy)),
      miss_observer_(dynamic_cast<MissObserver*>(policy_.get())),
      owner_(new std::atomic<uint32_t>[frames_.capacity()]),
      ledger_(options.account_tenant_memory ? ledger : nullptr),
      frame_slot_(ledger_ == nullptr ? nullptr : new std::atomic<uint16_t>[frames_.capacity()]),
      pins_(new std::atomic<uint8_t>[frames_.capacity()]),
      lock_budget_(static_cast<uint64_t>(frames_.capacity()) * options.max_locked_percent / 100),
      reclaim_low_(static_cast<uint32_t>(static_cast<uint64_t>(frames_.capacity()) * options.reclaim_low_percent / 100)),
      reclaim_high_(static_cast<uint32_t>(static_cast<uint64_t>(frames_.capacity()) * options.reclaim_high_percent / 100)),
      background_(std::make_unique<boost::asio::thread_pool>(1)) {
  for (uint32_t i = 0; i < frames_.capacity(); ++i) {
    owner_[i].store(0, std::memory_order_relaxed);
    pins_[i].store(0, std::memory_order_relaxed);
    if (frame_slot_ != nullptr) frame_slot_[i].store(0, std::memory_order_relaxed);
  }
}

Pager::~Pager() { background_->join(); }

bool Pager::ReserveLockBudget(uint64_t pages) {
  uint64_t used = lock_budget_used_.load(std::memory_order_relaxed);
  do {
    if (used + pages > lock_budget_) return false;
  } while (!lock_budget_used_.compare_exchange_weak(used, used + pages, std::memory_order_relaxed));
  return true;
}

void Pager::ReleaseLockBudget(uint64_t pages) { lock_budget_used_.fetch_sub(pages, std::memory_order_relaxed); }

void Pager::PrefetchAsync(std::vector<Page*> pages, uint16_t charge_slot) {
  boost::asio::post(*background_, [this, charge_slot, pages = std::move(pages)] {
    ReleaseBatch release;
    FaultCounters advice;
    advice.charge_slot = charge_slot;
    advice.advice = true;
    for (Page* page : pages) {
      Status s = Prefetch(page, /*for_write=*/false, &advice);
      (void)s;  // advice only: a failed prefetch leaves the page where it was
      Unref(page, &release);
    }
    Status s = Flush(&release);
    (void)s;
  });
}

Page* Pager::NewZeroPage() {
  Page* page = AllocPage(NextId());
  pages_.fetch_add(1, std::memory_order_relaxed);
  zero_pages_.fetch_add(1, std::memory_order_relaxed);
  return page;
}

Page* Pager::RestorePage(uint64_t id, bool zero, uint16_t charge_slot) {
  uint64_t next = next_page_id_.load();
  while (next <= id && !next_page_id_.compare_exchange_weak(next, id + 1)) {
  }
  Page* page = AllocPage(id);
  pages_.fetch_add(1, std::memory_order_relaxed);
  if (zero) {
    zero_pages_.fetch_add(1, std::memory_order_relaxed);
  } else {
    page->state = PageState::kSwapped;
    page->has_swap = true;
    page->frozen = true;
    page->durable = true;
    swap_pages_.fetch_add(1, std::memory_order_relaxed);
    if (ChargeAccount(charge_slot) != nullptr) {
      page->frame = charge_slot;  // the swap slot of a page out of a frame
      ForceChargePage(charge_slot, TenantResource::kSwapBytes);
    }
  }
  return page;
}

Page* Pager::NewFilePage(uint32_t inode, uint64_t index) {
  Page* page = AllocPage(index, inode);
  page->state = PageState::kSwapped;  // content is in the file store (or a hole)
  page->has_swap = true;
  pages_.fetch_add(1, std::memory_order_relaxed);
  return page;
}

std::string Pager::KeyOf(const Page* page) {
  return page->is_file() ? keys::FilePage(page->inode(), page->id()) : keys::Swap(page->id());
}

bool Pager::TryRef(Page* page) {
  uint32_t r = page->refs.load(std::memory_order_relaxed);
  while ((r & Page::kRefMask) != 0) {
    if (page->refs.compare_exchange_weak(r, r + 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void Pager::Unref(Page* page, ReleaseBatch* batch) {
  const uint32_t prev = page->refs.fetch_sub(1, std::memory_order_acq_rel);
  // The snapshot's hold keeps the page until the snapshot releases it.
  if (prev == 1) Free(page, batch);
}

void Pager::ReleaseSnapshotHold(Page* page) {
  const uint32_t prev = page->refs.fetch_sub(Page::kSnapshotHold, std::memory_order_acq_rel);
  if (prev == Page::kSnapshotHold) Free(page, nullptr);
}

void Pager::Free(Page* page, ReleaseBatch* batch) {
  // Last reference: no PTE points here any more; only the evictor can still
  // find the page, through owner_, and it re-checks owner_ under the stripe
  // lock before touching the page.
  PageLocks::Stripe& stripe = locks_.For(page);
  FrameId frame = kNoFrame;
  bool delete_swap = false;
  PageState state;
  {
    std::lock_guard<std::mutex> l(stripe.mu);
    state = page->state;
    if (state == PageState::kResident) {
      frame = page->frame;
      SetOwner(frame, nullptr, std::memory_order_release);
    }
    // A file page's store copy is the file's: only the file store deletes it.
    if (page->has_swap && !page->is_file()) {
      ReleasePage(SwapSlotLocked(page), TenantResource::kSwapBytes);
      if (page->frozen) {
        Retire(page->id());  // a snapshot or msync record may name the key
        swap_pages_.fetch_sub(1, std::memory_order_relaxed);
      } else {
        delete_swap = true;
      }
    }
    if (page->locks > 0) locked_pages_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (frame != kNoFrame) {
    policy_->Remove(frame);
    FreeFrame(frame);
  }
  if (state == PageState::kZero) zero_pages_.fetch_sub(1, std::memory_order_relaxed);
  if (delete_swap) {
    if (batch != nullptr) {
      batch->swap_ids.push_back(page->id());
    } else {
      Status s = store_->Delete(storage::Space::kSwap, keys::Swap(page->id()));
      (void)s;  // a leaked swap key is harmless garbage; CheckInvariants reports it
      swap_pages_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  pages_.fetch_sub(1, std::memory_order_relaxed);
  page->~Page();
  slab_.Free(page);
}

Status Pager::Flush(ReleaseBatch* batch) {
  if (batch->swap_ids.empty()) return Status::OK();
  storage::WriteBatch wb;
  for (uint64_t id : batch->swap_ids) wb.Delete(storage::Space::kSwap, keys::Swap(id));
  Status s = store_->Write(wb, /*sync=*/false);
  swap_pages_.fetch_sub(batch->swap_ids.size(), std::memory_order_relaxed);
  batch->swap_ids.clear();
  return s;
}

Status Pager::Read(Page* page, uint32_t offset, char* out, uint32_t len, FaultCounters* counters,
                   const ReadaheadFn* readahead) {
  return Access(page, offset, out, len, Op::kRead, counters, readahead);
}

Status Pager::Write(Page* page, uint32_t offset, const char* data, uint32_t len,
                    FaultCounters* counters, const ReadaheadFn* readahead, PreparedWrite* prepared) {
  return Access(page, offset, const_cast<char*>(data), len, Op::kWrite, counters, readahead, prepared);
}

Status Pager::PrepareWrite(Page* page, bool whole, FaultCounters* counters, PreparedWrite* out) {
  out->page = page;
  {
    std::unique_lock<std::mutex> lock(locks_.For(page).mu);
    // A page that needs no old content gets a frame set aside; one read from
    // the store (or already resident) is pinned where it is.
    const bool needs_frame =
        page->state == PageState::kZero || (page->state == PageState::kSwapped && whole);
    if (!needs_frame) {
      lock.unlock();
      return Access(page, 0, nullptr, 0, Op::kPin, counters, nullptr, out);
    }
  }
  return AllocateFrame(&out->reserved, counters != nullptr ? counters->charge_slot : 0);
}

void Pager::ReleaseWrite(PreparedWrite* prepared) {
  if (prepared->pinned != kNoFrame) pins_[prepared->pinned].fetch_sub(1, std::memory_order_acq_rel);
  if (prepared->reserved != kNoFrame) FreeFrame(prepared->reserved);  // not needed after all
  prepared->pinned = prepared->reserved = kNoFrame;
}

Status Pager::Zero(Page* page, uint32_t offset, uint32_t len, FaultCounters* counters) {
  return Access(page, offset, nullptr, len, Op::kZero, counters);
}

Status Pager::Prefetch(Page* page, bool for_write, FaultCounters* counters) {
  return Access(page, 0, nullptr, 0, for_write ? Op::kPrefetchWrite : Op::kPrefetch, counters);
}

Status Pager::Lock(Page* page, FaultCounters* counters) {
  return Access(page, 0, nullptr, 0, Op::kLock, counters);
}

void Pager::Unlock(Page* page) {
  std::lock_guard<std::mutex> l(locks_.For(page).mu);
  if (page->locks > 0 && --page->locks == 0) locked_pages_.fetch_sub(1, std::memory_order_relaxed);
}

void Pager::MarkLazyFree(Page* page) {
  std::lock_guard<std::mutex> l(locks_.For(page).mu);
  if (!page->is_file()) page->lazy_free = true;
}

Status Pager::CopyPage(Page* src, FaultCounters* counters, Page** copy) {
  // Read the source into a buffer first: the copy's frame is allocated
  // without holding the source's stripe.
  std::string buf(frames_.page_size(), '\0');
  MEMSERVER_RETURN_IF_ERROR(Read(src, 0, buf.data(), frames_.page_size(), counters));
  Page* page = NewZeroPage();
  FaultCounters charged;  // the copy's fault is not the caller's to count, its frame is
  charged.charge_slot = counters != nullptr ? counters->charge_slot : 0;
  Status s = Write(page, 0, buf.data(), frames_.page_size(), &charged);
  if (!s.ok()) {
    Unref(page, nullptr);
    return s;
  }
  *copy = page;
  return Status::OK();
}

Status Pager::Access(Page* page, uint32_t offset, char* buf, uint32_t len, Op op,
                     FaultCounters* counters, const ReadaheadFn* readahead, PreparedWrite* prepared) {
  PageLocks::Stripe& stripe = locks_.For(page);
  std::unique_lock<std::mutex> lock(stripe.mu);
  const bool writes = op == Op::kWrite || op == Op::kZero || op == Op::kPrefetchWrite || op == Op::kLock ||
                      op == Op::kPin;
  for (;;) {
    switch (page->state) {
      case PageState::kResident: {
        const bool modifies = op == Op::kWrite || op == Op::kZero;
        if (modifies && page->pending) {
          SaveForSnapshot(page, lock, stripe);  // the snapshot's copy first
          continue;
        }
        if (modifies && page->frozen) RekeyLocked(page);
        char* data = frames_.Data(page->frame) + offset;
        switch (op) {
          case Op::kRead: std::memcpy(buf, data, len); break;
          case Op::kWrite: std::memcpy(data, buf, len); break;
          case Op::kZero: std::memset(data, 0, len); break;
          case Op::kLock:
            if (page->locks++ == 0) locked_pages_.fetch_add(1, std::memory_order_relaxed);
            break;
          case Op::kPin: {
            std::atomic<uint8_t>& pin = pins_[page->frame];
            uint8_t n = pin.load(std::memory_order_relaxed);
            while (n == UINT8_MAX || !pin.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel)) {
              if (n == UINT8_MAX) {  // 255 writers on one page: wait for one to finish
                lock.unlock();
                std::this_thread::yield();
                lock.lock();
                n = pin.load(std::memory_order_relaxed);
              }
            }
            if (page->state != PageState::kResident) {  // moved while we yielded
              pin.fetch_sub(1, std::memory_order_acq_rel);
              continue;
            }
            prepared->pinned = page->frame;
            break;
          }
          case Op::kPrefetch:
          case Op::kPrefetchWrite: break;
        }
        if (modifies) {
          page->dirty = true;
          page->lazy_free = false;
        }
        policy_->Touch(page->frame);
        return Status::OK();
      }
      case PageState::kPagingIn:
      case PageState::kWritingOut:
        stripe.cv.wait(lock);
        continue;
      case PageState::kZero:
        if (!writes) {
          if (op == Op::kRead) std::memset(buf, 0, len);
          return Status::OK();  // zeros need no frame
        }
        if (op == Op::kZero) return Status::OK();
        [[fallthrough]];
      case PageState::kSwapped: {
        // A write of the whole page needs none of the old content.
        const bool overwrite = op == Op::kWrite && offset == 0 && len == frames_.page_size();
        FrameId* reserved = prepared != nullptr && op == Op::kWrite && prepared->reserved != kNoFrame
                                ? &prepared->reserved
                                : nullptr;
        bool no_frame = false;
        Status s = FaultIn(page, lock, stripe, counters, overwrite, readahead, reserved, &no_frame);
        if (!s.ok() && no_frame && op == Op::kRead && page->state == PageState::kSwapped) {
          return ReadDirect(page, offset, buf, len, lock);  // no frame: read around the pool
        }
        MEMSERVER_RETURN_IF_ERROR(s);
        continue;  // now resident (unless evicted meanwhile): retry the access
      }
    }
  }
}

Status Pager::ReadDirect(Page* page, uint32_t offset, char* out, uint32_t len,
                         std::unique_lock<std::mutex>& lock) {
  const std::string key = KeyOf(page);
  const storage::Space space = SpaceOf(page);
  lock.unlock();
  std::string value;
  Status s = store_->Get(space, key, &value);
  lock.lock();
  if (s.code() == StatusCode::kNotFound && page->is_file()) {
    std::memset(out, 0, len);  // a hole in the file
    return Status::OK();
  }
  if (s.code() == StatusCode::kNotFound) {
    return Status(StatusCode::kDataLoss, fmt::format("swap entry of page {} is missing from the backing store", page->id()),
                  "EIO");
  }
  MEMSERVER_RETURN_IF_ERROR(s);
  if (value.size() != frames_.page_size()) {
    return Status(StatusCode::kDataLoss, fmt::format("page {} in the store has {} bytes", page->id(), value.size()), "EIO");
  }
  std::memcpy(out, value.data() + offset, len);
  direct_reads_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

Status Pager::FaultIn(Page* page, std::unique_lock<std::mutex>& lock, PageLocks::Stripe& stripe,
                      FaultCounters* counters, bool overwrite, const ReadaheadFn* readahead, FrameId* reserved,
                      bool* no_frame) {
  const bool from_swap = page->state == PageState::kSwapped && !overwrite;
  const PageState before = page->state;
  const uint16_t swap_slot = SwapSlotLocked(page);
  const uint16_t charge_slot = counters != nullptr ? counters->charge_slot : 0;
  page->state = PageState::kPagingIn;
  lock.unlock();
  // ARC must know the missing key before it picks a victim.
  if (miss_observer_ != nullptr) miss_observer_->OnMiss(page->is_file() ? FileKeyOf(page) : page->id());

  const auto fault_start = std::chrono::steady_clock::now();
  FrameId frame = kNoFrame;
  Status s;
  if (reserved != nullptr && *reserved != kNoFrame) {
    frame = *reserved;  // set aside by PrepareWrite: no eviction, no failure
    *reserved = kNoFrame;
  } else {
    s = AllocateFrame(&frame, charge_slot, counters == nullptr || !counters->advice);
    if (!s.ok() && no_frame != nullptr) *no_frame = true;  // also a quota's: reads go around the pool
  }
  if (s.ok()) {
    char* data = frames_.Data(frame);
    if (from_swap) {
      s = store_->GetInto(SpaceOf(page), KeyOf(page), data, frames_.page_size());
      if (s.code() == StatusCode::kNotFound && page->is_file()) {
        std::memset(data, 0, frames_.page_size());  // a hole in the file
        s = Status::OK();
      } else if (s.code() == StatusCode::kNotFound) {
        s = Status(StatusCode::kDataLoss,
                   fmt::format("swap entry of page {} is missing from the backing store", page->id()),
                   "EIO");
      }
    } else if (!overwrite) {
      std::memset(data, 0, frames_.page_size());
    }
  }

  lock.lock();
  if (!s.ok()) {
    if (frame != kNoFrame) FreeFrame(frame);
    page->state = before;
    stripe.cv.notify_all();
    return s;
  }
  // Overwriting a frozen page changes its content without reading it.
  if (overwrite && page->frozen) RekeyLocked(page);
  MoveSwapCharge(page, swap_slot, FrameSlot(frame));
  page->frame = frame;
  page->state = PageState::kResident;
  page->dirty = !from_swap;  // zero-filled or about to be overwritten: differs from any copy
  SetOwner(frame, page, std::memory_order_release);
  policy_->Insert(frame, page->is_file() ? FileKeyOf(page) : page->id());
  if (from_swap) {
    major_.fetch_add(1, std::memory_order_relaxed);
    page_ins_.fetch_add(1, std::memory_order_relaxed);
    if (counters) counters->major.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (before == PageState::kZero) zero_pages_.fetch_sub(1, std::memory_order_relaxed);
    minor_.fetch_add(1, std::memory_order_relaxed);
    if (counters) counters->minor.fetch_add(1, std::memory_order_relaxed);
  }
  stripe.cv.notify_all();
  if (from_swap && readahead != nullptr && *readahead) {
    // Read the pages after this one in one batch, without this page's lock.
    std::vector<Page*> more;
    lock.unlock();
    (*readahead)(&more);
    if (!more.empty()) {
      Status ra = PageInBatch(more, charge_slot);
      (void)ra;  // readahead is advice: a page it could not read faults later
    }
    lock.lock();
  }
  RecordFaultLatency(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::steady_clock::now() - fault_start)
                                               .count()));
  return Status::OK();
}

Status Pager::PageInBatch(const std::vector<Page*>& pages, uint16_t charge_slot) {
  // Claim the pages still swapped out; others are resident or busy.
  std::vector<Page*> claimed;
  std::vector<uint16_t> swap_slots;
  for (Page* page : pages) {
    std::lock_guard<std::mutex> l(locks_.For(page).mu);
    if (page->state == PageState::kSwapped) {
      swap_slots.push_back(SwapSlotLocked(page));
      page->state = PageState::kPagingIn;
      claimed.push_back(page);
    }
  }
  if (claimed.empty()) return Status::OK();
  std::vector<FrameId> frames;
  Status s;
  for (size_t i = 0; i < claimed.size() && s.ok(); ++i) {
    FrameId f;
    s = AllocateFrame(&f, charge_slot, /*reclaim_own=*/false);
    if (s.ok()) frames.push_back(f);
  }
  // One MultiGet per space (anonymous pages in swap, file pages in files).
  std::vector<std::string> values(claimed.size());
  std::vector<Status> results(claimed.size());
  for (storage::Space space : {storage::Space::kSwap, storage::Space::kFiles}) {
    std::vector<std::string> ks;
    std::vector<size_t> at;
    for (size_t i = 0; i < frames.size(); ++i) {
      if (SpaceOf(claimed[i]) == space) {
        ks.push_back(KeyOf(claimed[i]));
        at.push_back(i);
      }
    }
    if (ks.empty()) continue;
    std::vector<std::string> vs;
    std::vector<Status> ss;
    store_->MultiGet(space, ks, &vs, &ss);
    for (size_t j = 0; j < at.size(); ++j) {
      values[at[j]] = std::move(vs[j]);
      results[at[j]] = std::move(ss[j]);
    }
  }
  uint64_t loaded = 0;
  for (size_t i = 0; i < claimed.size(); ++i) {
    Page* page = claimed[i];
    PageLocks::Stripe& stripe = locks_.For(page);
    bool ok = i < frames.size();
    if (ok) {
      char* data = frames_.Data(frames[i]);
      if (results[i].ok() && values[i].size() == frames_.page_size()) {
        std::memcpy(data, values[i].data(), values[i].size());
      } else if (results[i].code() == StatusCode::kNotFound && page->is_file()) {
        std::memset(data, 0, frames_.page_size());  // a hole
      } else {
        ok = false;  // leave it swapped: a fault will read it (and report any error)
        FreeFrame(frames[i]);
      }
    }
    std::lock_guard<std::mutex> l(stripe.mu);
    if (ok) {
      MoveSwapCharge(page, swap_slots[i], FrameSlot(frames[i]));
      page->frame = frames[i];
      page->state = PageState::kResident;
      page->dirty = false;
      SetOwner(frames[i], page, std::memory_order_release);
      policy_->Insert(frames[i], page->is_file() ? FileKeyOf(page) : page->id());
      ++loaded;
    } else {
      page->state = PageState::kSwapped;
    }
    stripe.cv.notify_all();
  }
  page_ins_.fetch_add(loaded, std::memory_order_relaxed);
  readahead_pages_.fetch_add(loaded, std::memory_order_relaxed);
  return s;
}


}  // namespace memserver
