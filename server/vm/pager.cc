#include "server/vm/pager.h"

#include "server/vm/store_keys.h"

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include <boost/asio/post.hpp>

namespace memserver {

namespace {

bool IsAllZero(const char* p, size_t n) {
  // Word-at-a-time scan; pages are word-aligned inside the frame pool.
  const uint64_t* w = reinterpret_cast<const uint64_t*>(p);
  for (size_t i = 0; i < n / sizeof(uint64_t); ++i) {
    if (w[i] != 0) return false;
  }
  return true;
}

// How long a fault waits for a frame while every frame is mid-transition
// before it gives up with RESOURCE_EXHAUSTED.
constexpr auto kFrameWait = std::chrono::seconds(10);

}  // namespace

Pager::Pager(const EngineOptions& options, storage::BackingStore* store,
             std::unique_ptr<ReplacementPolicy> policy)
    : options_(options),
      store_(store),
      frames_(static_cast<uint32_t>(options.memory_bytes / options.page_size), options.page_size),
      policy_(std::move(policy)),
      miss_observer_(dynamic_cast<MissObserver*>(policy_.get())),
      owner_(new std::atomic<uint32_t>[frames_.capacity()]),
      lock_budget_(static_cast<uint64_t>(frames_.capacity()) * options.max_locked_percent / 100),
      reclaim_low_(static_cast<uint32_t>(static_cast<uint64_t>(frames_.capacity()) * options.reclaim_low_percent / 100)),
      reclaim_high_(static_cast<uint32_t>(static_cast<uint64_t>(frames_.capacity()) * options.reclaim_high_percent / 100)),
      background_(std::make_unique<boost::asio::thread_pool>(1)) {
  for (uint32_t i = 0; i < frames_.capacity(); ++i) owner_[i].store(0, std::memory_order_relaxed);
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

void Pager::PrefetchAsync(std::vector<Page*> pages) {
  boost::asio::post(*background_, [this, pages = std::move(pages)] {
    ReleaseBatch release;
    for (Page* page : pages) {
      Status s = Prefetch(page, /*for_write=*/false, nullptr);
      (void)s;  // advice only: a failed prefetch leaves the page where it was
      Unref(page, &release);
    }
    Status s = Flush(&release);
    (void)s;
  });
}

Page* Pager::NewZeroPage() {
  Page* page = AllocPage(next_page_id_.fetch_add(1, std::memory_order_relaxed));
  pages_.fetch_add(1, std::memory_order_relaxed);
  zero_pages_.fetch_add(1, std::memory_order_relaxed);
  return page;
}

Page* Pager::RestorePage(uint64_t id, bool zero) {
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
    swap_pages_.fetch_add(1, std::memory_order_relaxed);
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
  while (r != 0) {
    if (page->refs.compare_exchange_weak(r, r + 1, std::memory_order_acq_rel)) return true;
  }
  return false;
}

void Pager::Unref(Page* page, ReleaseBatch* batch) {
  if (page->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Last reference: no PTE points here any more; only the evictor can still
  // find the page, through owner_, and it re-checks owner_ under the stripe
  // lock before touching the page.
  PageLocks::Stripe& stripe = locks_.For(page);
  FrameId frame = kNoFrame;
  bool had_swap;
  PageState state;
  {
    std::lock_guard<std::mutex> l(stripe.mu);
    state = page->state;
    if (state == PageState::kResident) {
      frame = page->frame;
      SetOwner(frame, nullptr, std::memory_order_release);
    }
    // A file page's store copy is the file's: only the file store deletes it.
    had_swap = page->has_swap && !page->is_file();
    if (had_swap && preserve_swap_.load(std::memory_order_relaxed)) {
      had_swap = false;  // a checkpoint refers to it
      swap_pages_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (page->locks > 0) locked_pages_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (frame != kNoFrame) {
    policy_->Remove(frame);
    frames_.Free(frame);
  }
  if (state == PageState::kZero) zero_pages_.fetch_sub(1, std::memory_order_relaxed);
  if (had_swap) {
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
                    FaultCounters* counters, const ReadaheadFn* readahead) {
  return Access(page, offset, const_cast<char*>(data), len, Op::kWrite, counters, readahead);
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
  Status s = Write(page, 0, buf.data(), frames_.page_size(), nullptr);
  if (!s.ok()) {
    Unref(page, nullptr);
    return s;
  }
  *copy = page;
  return Status::OK();
}

Status Pager::Access(Page* page, uint32_t offset, char* buf, uint32_t len, Op op,
                     FaultCounters* counters, const ReadaheadFn* readahead) {
  PageLocks::Stripe& stripe = locks_.For(page);
  std::unique_lock<std::mutex> lock(stripe.mu);
  const bool writes = op == Op::kWrite || op == Op::kZero || op == Op::kPrefetchWrite || op == Op::kLock;
  for (;;) {
    switch (page->state) {
      case PageState::kResident: {
        char* data = frames_.Data(page->frame) + offset;
        switch (op) {
          case Op::kRead: std::memcpy(buf, data, len); break;
          case Op::kWrite: std::memcpy(data, buf, len); break;
          case Op::kZero: std::memset(data, 0, len); break;
          case Op::kLock:
            if (page->locks++ == 0) locked_pages_.fetch_add(1, std::memory_order_relaxed);
            break;
          case Op::kPrefetch:
          case Op::kPrefetchWrite: break;
        }
        if (op == Op::kWrite || op == Op::kZero) {
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
        MEMSERVER_RETURN_IF_ERROR(FaultIn(page, lock, stripe, counters, overwrite, readahead));
        continue;  // now resident (unless evicted meanwhile): retry the access
      }
    }
  }
}

Status Pager::FaultIn(Page* page, std::unique_lock<std::mutex>& lock, PageLocks::Stripe& stripe,
                      FaultCounters* counters, bool overwrite, const ReadaheadFn* readahead) {
  const bool from_swap = page->state == PageState::kSwapped && !overwrite;
  const PageState before = page->state;
  page->state = PageState::kPagingIn;
  lock.unlock();
  // ARC must know the missing key before it picks a victim.
  if (miss_observer_ != nullptr) miss_observer_->OnMiss(page->is_file() ? FileKeyOf(page) : page->id());

  const auto fault_start = std::chrono::steady_clock::now();
  FrameId frame = kNoFrame;
  Status s = AllocateFrame(&frame);
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
    if (frame != kNoFrame) frames_.Free(frame);
    page->state = before;
    stripe.cv.notify_all();
    return s;
  }
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
      Status ra = PageInBatch(more);
      (void)ra;  // readahead is advice: a page it could not read faults later
    }
    lock.lock();
  }
  RecordFaultLatency(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::steady_clock::now() - fault_start)
                                               .count()));
  return Status::OK();
}

Status Pager::PageInBatch(const std::vector<Page*>& pages) {
  // Claim the pages still swapped out; others are resident or busy.
  std::vector<Page*> claimed;
  for (Page* page : pages) {
    std::lock_guard<std::mutex> l(locks_.For(page).mu);
    if (page->state == PageState::kSwapped) {
      page->state = PageState::kPagingIn;
      claimed.push_back(page);
    }
  }
  if (claimed.empty()) return Status::OK();
  std::vector<FrameId> frames;
  Status s;
  for (size_t i = 0; i < claimed.size() && s.ok(); ++i) {
    FrameId f;
    s = AllocateFrame(&f);
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
        frames_.Free(frames[i]);
      }
    }
    std::lock_guard<std::mutex> l(stripe.mu);
    if (ok) {
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

void Pager::RecordFaultLatency(uint64_t ns) {
  const double us = ns / 1000.0;
  size_t i = 0;
  while (i < std::size(kFaultLatencyBoundsUs) && us > kFaultLatencyBoundsUs[i]) ++i;
  fault_latency_[i].fetch_add(1, std::memory_order_relaxed);
  fault_latency_sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

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

Status Pager::AllocateFrame(FrameId* frame) {
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

bool Pager::TryBeginEvict(FrameId frame, std::vector<Victim>* victims) {
  Page* page = Owner(frame, std::memory_order_acquire);
  if (page == nullptr) return false;
  PageLocks::Stripe& stripe = locks_.For(page);
  // try_lock: we hold the policy's lock, which ranks below stripes.
  std::unique_lock<std::mutex> l(stripe.mu, std::try_to_lock);
  if (!l.owns_lock()) return false;
  // owner_ is cleared under this lock before a page is freed, so if it
  // still names `page` the page is alive.
  if (Owner(frame, std::memory_order_acquire) != page || page->state != PageState::kResident ||
      page->frame != frame || page->locks > 0 || !TryRef(page)) {
    return false;
  }
  page->state = PageState::kWritingOut;
  victims->push_back(Victim{page, frame, page->dirty, page->has_swap, page->lazy_free});
  return true;
}

Status Pager::EvictBatch(uint32_t* freed, bool background) {
  *freed = 0;
  std::unique_lock<std::mutex> l(evict_mu_);
  if (!background && frames_.free_count() > 0) {
    *freed = 1;  // someone else's eviction already made room
    return Status::OK();
  }
  std::vector<Victim> victims;
  const uint32_t want = std::max<uint32_t>(1, options_.eviction_batch);
  while (victims.size() < want) {
    FrameId f;
    if (!policy_->Victim([&](FrameId frame) { return TryBeginEvict(frame, &victims); }, &f)) break;
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
    if ((v.lazy && !file) || IsAllZero(data, frames_.page_size())) {
      // An anonymous zero page is not stored at all; a zero file page is a hole.
      v.zero = true;
      if (v.has_swap) wb.Delete(SpaceOf(v.page), KeyOf(v.page));
      continue;
    }
    wb.Put(SpaceOf(v.page), KeyOf(v.page), std::string_view(data, frames_.page_size()));
    ++puts;
  }
  Status s = wb.empty() ? Status::OK() : store_->Write(wb, /*sync=*/false);

  ReleaseBatch release;
  for (Victim& v : victims) {
    PageLocks::Stripe& stripe = locks_.For(v.page);
    {
      std::lock_guard<std::mutex> pl(stripe.mu);
      if (s.ok()) {
        SetOwner(v.frame, nullptr, std::memory_order_release);
        v.page->frame = kNoFrame;
        v.page->dirty = false;
        v.page->lazy_free = false;
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
        v.page->state = PageState::kResident;  // keep it; the write failed
        policy_->Insert(v.frame, v.page->is_file() ? FileKeyOf(v.page) : v.page->id());
      }
      stripe.cv.notify_all();
    }
    if (s.ok()) {
      frames_.Free(v.frame);  // Victim() already stopped tracking it
      ++*freed;
    }
    Unref(v.page, &release);  // the evictor's transient reference
  }
  if (s.ok()) {
    evictions_.fetch_add(victims.size(), std::memory_order_relaxed);
    page_outs_.fetch_add(puts, std::memory_order_relaxed);
  }
  frame_freed_.notify_all();
  l.unlock();
  Status fs = Flush(&release);
  return s.ok() ? fs : s;
}

Pager::PageInfo Pager::Inspect(Page* page) {
  std::lock_guard<std::mutex> l(locks_.For(page).mu);
  return PageInfo{page->state, page->dirty, page->has_swap, page->locks > 0};
}

Status Pager::Sync(const std::vector<Page*>& pages) {
  // Snapshot each dirty page's content and mark it clean under its stripe;
  // a write racing with the store write re-dirties it, so nothing is lost.
  std::vector<std::string> copies;
  std::vector<Page*> synced;
  storage::WriteBatch wb;
  copies.reserve(pages.size());
  for (Page* page : pages) {
    std::lock_guard<std::mutex> l(locks_.For(page).mu);
    if (page->state != PageState::kResident || !page->dirty) continue;
    copies.emplace_back(frames_.Data(page->frame), frames_.page_size());
    page->dirty = false;
    synced.push_back(page);
  }
  for (size_t i = 0; i < synced.size(); ++i) {
    if (IsAllZero(copies[i].data(), copies[i].size()) && synced[i]->is_file()) {
      wb.Delete(SpaceOf(synced[i]), KeyOf(synced[i]));
    } else {
      wb.Put(SpaceOf(synced[i]), KeyOf(synced[i]), copies[i]);
    }
  }
  Status s = wb.empty() ? Status::OK() : store_->Write(wb, /*sync=*/true);
  for (Page* page : synced) {
    std::lock_guard<std::mutex> l(locks_.For(page).mu);
    if (!s.ok()) {
      page->dirty = true;  // still only in memory
    } else if (!page->is_file() && !page->has_swap) {
      page->has_swap = true;
      swap_pages_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (s.ok()) writebacks_.fetch_add(synced.size(), std::memory_order_relaxed);
  return s;
}

GlobalStats Pager::Stats() const {
  GlobalStats g;
  g.page_size = frames_.page_size();
  g.frames_total = frames_.capacity();
  g.frames_free = frames_.free_count();
  g.pages = pages_.load(std::memory_order_relaxed);
  g.page_slab_bytes = slab_.reserved_bytes();
  g.zero_pages = zero_pages_.load(std::memory_order_relaxed);
  g.swap_pages = swap_pages_.load(std::memory_order_relaxed);
  g.minor_faults = minor_.load(std::memory_order_relaxed);
  g.major_faults = major_.load(std::memory_order_relaxed);
  g.page_ins = page_ins_.load(std::memory_order_relaxed);
  g.page_outs = page_outs_.load(std::memory_order_relaxed);
  g.evictions = evictions_.load(std::memory_order_relaxed);
  g.clean_evictions = clean_evictions_.load(std::memory_order_relaxed);
  g.zero_evictions = zero_evictions_.load(std::memory_order_relaxed);
  g.policy = policy_->Name();
  g.locked_pages = locked_pages_.load(std::memory_order_relaxed);
  g.readahead_pages = readahead_pages_.load(std::memory_order_relaxed);
  g.reclaim_runs = reclaim_runs_.load(std::memory_order_relaxed);
  for (const auto& b : fault_latency_) g.fault_latency_counts.push_back(b.load(std::memory_order_relaxed));
  g.fault_latency_sum_us = fault_latency_sum_ns_.load(std::memory_order_relaxed) / 1000.0;
  const storage::StoreStats st = store_->GetStats();
  g.store_bytes_written = st.bytes_written;
  g.store_bytes_read = st.bytes_read;
  return g;
}

Status Pager::CheckInvariants(const std::unordered_map<const Page*, uint32_t>& refs) {
  Drain();  // background reclaim and prefetch leave pages mid-transition
  uint64_t resident = 0, swapped = 0, zero = 0;
  for (const auto& [page, n] : refs) {
    std::lock_guard<std::mutex> l(locks_.For(page).mu);
    if (page->refs.load() != n) {
      return Status::Internal(fmt::format("page {}: refcount {} but {} PTEs map it", page->id(),
                                          page->refs.load(), n));
    }
    switch (page->state) {
      case PageState::kResident:
        ++resident;
        if (page->frame >= frames_.capacity() || Owner(page->frame) != page) {
          return Status::Internal(fmt::format("page {}: frame {} does not point back", page->id(), page->frame));
        }
        if (page->has_swap && !page->is_file()) ++swapped;
        break;
      case PageState::kSwapped:
        if (!page->has_swap) return Status::Internal(fmt::format("page {}: swapped without swap copy", page->id()));
        if (!page->is_file()) ++swapped;
        break;
      case PageState::kZero:
        ++zero;
        if (page->has_swap) return Status::Internal(fmt::format("page {}: zero with a swap copy", page->id()));
        break;
      default:
        return Status::Internal(fmt::format("page {}: in transition while idle", page->id()));
    }
  }
  if (refs.size() != pages_.load()) {
    return Status::Internal(fmt::format("{} pages mapped but {} counted live", refs.size(), pages_.load()));
  }
  if (zero != zero_pages_.load()) {
    return Status::Internal(fmt::format("{} zero pages but {} counted", zero, zero_pages_.load()));
  }
  uint64_t owned = 0;
  for (uint32_t f = 0; f < frames_.capacity(); ++f) {
    if (Owner(f) != nullptr) ++owned;
  }
  if (owned != resident || resident + frames_.free_count() != frames_.capacity()) {
    return Status::Internal(fmt::format("frames: {} resident pages, {} owned frames, {} free of {}",
                                        resident, owned, frames_.free_count(), frames_.capacity()));
  }
  uint64_t keys = 0;
  MEMSERVER_RETURN_IF_ERROR(store_->CountKeys(storage::Space::kSwap, &keys));
  if (keys != swapped || swapped != swap_pages_.load()) {
    return Status::Internal(fmt::format("swap: {} keys in store, {} pages with a swap copy, {} counted",
                                        keys, swapped, swap_pages_.load()));
  }
  return Status::OK();
}

}  // namespace memserver
