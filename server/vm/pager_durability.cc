// Pager: what snapshots and msync need of pages (page.h, "Durability").
//
// Who writes a page's snapshot content. A capture (under every mm lock and
// evict_mu_) marks pages frozen, and pending when their content is only in
// the frame. From then on exactly one of these copies that content into the
// store under the captured id, whichever comes first, and clears pending:
//   - the snapshot's own writer (WritePending), in batches;
//   - the evictor, which writes dirty victims anyway (pager_evict.cc);
//   - a writer about to change the page (SaveForSnapshot): a memtable insert
//     while the page sits in kWritingOut, then the write goes on.
// A frozen page whose content changes takes a new id first (RekeyLocked):
// the old key stays for the snapshots that name it and is retired.
#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <cstring>

#include "server/vm/page_content.h"
#include "server/vm/pager.h"
#include "server/vm/store_keys.h"

namespace memserver {

namespace {

// Pages copied into one storage batch by WritePending.
constexpr size_t kPendingBatch = 64;

// FreezeForSync's actions, undone by FinishSync when the write fails.
enum SyncAction : uint8_t {
  kNothing = 0,          // zero, or already durable
  kFrozeFromFrame = 1,   // frozen now; content only in the frame until the write
  kFromStore = 2,        // content already in the store, written again with the WAL
  kFromFrame = 3,        // was frozen already; content from the frame
};

}  // namespace

// --- ids -------------------------------------------------------------------

void Pager::SetIdFloor(uint64_t floor, uint64_t reserved_mark, IdReserver reserve) {
  uint64_t next = next_page_id_.load();
  while (next < floor && !next_page_id_.compare_exchange_weak(next, floor)) {
  }
  std::lock_guard<std::mutex> l(id_mu_);
  reserve_ids_ = std::move(reserve);
  id_mark_.store(reserved_mark);
}

uint64_t Pager::NextId() {
  const uint64_t id = next_page_id_.fetch_add(1, std::memory_order_relaxed);
  // Extend the reservation half a block before it runs out, off this
  // thread (the caller may hold a stripe or an mm lock).
  if (id + kIdBlock / 2 >= id_mark_.load(std::memory_order_relaxed) && !id_extending_.exchange(true)) {
    boost::asio::post(*background_, [this] { ExtendIdReservation(); });
  }
  return id;
}

void Pager::ExtendIdReservation() {
  {
    std::lock_guard<std::mutex> l(id_mu_);
    const uint64_t mark = std::max(id_mark_.load(), next_page_id_.load()) + kIdBlock;
    // Not fatal when it fails: ids past the durable mark may only meet
    // leftover keys of this run after a crash, which a page overwrites
    // before it reads them (see SetIdFloor). Retried at the next id.
    if (reserve_ids_ && reserve_ids_(mark).ok()) id_mark_.store(mark);
  }
  id_extending_.store(false);
}

// --- retired keys -----------------------------------------------------------

void Pager::Retire(uint64_t id) {
  std::lock_guard<std::mutex> l(retired_mu_);
  retired_.push_back(id);
  retired_count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<uint64_t> Pager::TakeRetired() {
  std::lock_guard<std::mutex> l(retired_mu_);
  std::vector<uint64_t> out;
  out.swap(retired_);
  retired_count_.fetch_sub(out.size(), std::memory_order_relaxed);
  return out;
}

void Pager::ReturnRetired(std::vector<uint64_t> ids) {
  std::lock_guard<std::mutex> l(retired_mu_);
  retired_count_.fetch_add(ids.size(), std::memory_order_relaxed);
  retired_.insert(retired_.end(), ids.begin(), ids.end());
}

void Pager::RekeyLocked(Page* page) {
  Retire(page->id());
  if (page->has_swap) {
    ReleasePage(SwapSlotLocked(page), TenantResource::kSwapBytes);  // a retired key is the server's
    page->has_swap = false;  // the new id has no copy in the store
    swap_pages_.fetch_sub(1, std::memory_order_relaxed);
  }
  page->SetId(NextId());
  page->frozen = false;
  page->durable = false;
}

void Pager::SaveForSnapshot(Page* page, std::unique_lock<std::mutex>& lock, PageLocks::Stripe& stripe) {
  // kWritingOut: accessors wait, the evictor skips the page, the frame's
  // content cannot change while it is copied into the store.
  page->state = PageState::kWritingOut;
  const uint64_t id = page->id();
  const char* data = frames_.Data(page->frame);
  lock.unlock();
  Status s = store_->Put(storage::Space::kSwap, keys::Swap(id), std::string_view(data, frames_.page_size()));
  lock.lock();
  page->state = PageState::kResident;
  page->pending = false;
  if (s.ok()) {
    if (!page->has_swap) {
      page->has_swap = true;
      swap_pages_.fetch_add(1, std::memory_order_relaxed);
      ForceChargePage(SwapSlotLocked(page), TenantResource::kSwapBytes);  // a snapshot is never refused
    }
  } else {
    // The snapshot lost this page's content: it cannot commit. The write
    // goes on in place (the previous snapshot stays the current one).
    page->frozen = false;
    capture_failed_.store(true, std::memory_order_release);
  }
  stripe.cv.notify_all();
}

// --- snapshot capture ---------------------------------------------------------

void Pager::BeginCapture() {
  evict_mu_.lock();  // held until EndCapture: no victim is in kWritingOut
  capture_failed_.store(false, std::memory_order_release);
}

void Pager::EndCapture() { evict_mu_.unlock(); }

FrozenPage Pager::CapturePage(Page* page, std::vector<std::pair<Page*, uint64_t>>* held) {
  PageLocks::Stripe& stripe = locks_.For(page);
  std::unique_lock<std::mutex> l(stripe.mu);
  // Nothing else writes out while the caller holds every mm lock and
  // evict_mu_; a transition still in flight (a background prefetch) ends
  // without either.
  while (page->state == PageState::kWritingOut) stripe.cv.wait(l);
  if (page->state == PageState::kZero) return FrozenPage{page->id(), true};
  const uint32_t refs = page->refs.load(std::memory_order_relaxed);
  auto hold = [&] {
    if (refs & Page::kSnapshotHold) return;  // captured already (a shared page)
    page->refs.fetch_add(Page::kSnapshotHold, std::memory_order_relaxed);
    held->emplace_back(page, page->id());
  };
  if (page->frozen) {
    if (!page->durable) hold();  // made durable by this snapshot's flush
    return FrozenPage{page->id(), false};
  }
  page->frozen = true;
  // kPagingIn here is a read from the store: the content is there.
  const bool in_store =
      page->state != PageState::kResident || (page->has_swap && !page->dirty);
  if (!in_store) page->pending = true;
  hold();
  return FrozenPage{page->id(), false};
}

Status Pager::WritePending(const std::vector<std::pair<Page*, uint64_t>>& held, uint64_t* written) {
  *written = 0;
  const uint32_t size = frames_.page_size();
  std::vector<std::string> buffers(kPendingBatch, std::string(size, '\0'));
  for (size_t at = 0; at < held.size();) {
    if (capture_failed()) return Status(StatusCode::kAborted, "a page of the snapshot could not be saved", nullptr);
    // Copy up to a batch of pending pages under their stripes (no waiting
    // for the store with a stripe held).
    std::vector<std::pair<Page*, uint64_t>> batch;
    for (; at < held.size() && batch.size() < kPendingBatch; ++at) {
      auto [page, id] = held[at];
      PageLocks::Stripe& stripe = locks_.For(page);
      std::unique_lock<std::mutex> l(stripe.mu);
      while (page->state == PageState::kWritingOut || page->state == PageState::kPagingIn) stripe.cv.wait(l);
      if (!page->pending || page->id() != id) continue;  // written by someone else
      std::memcpy(buffers[batch.size()].data(), frames_.Data(page->frame), size);
      page->pending = false;  // the copy is taken: a writer may re-key now
      batch.emplace_back(page, id);
    }
    if (batch.empty()) continue;
    storage::WriteBatch wb;
    for (size_t i = 0; i < batch.size(); ++i) wb.Put(storage::Space::kSwap, keys::Swap(batch[i].second), buffers[i]);
    Status s = store_->Write(wb, /*sync=*/false);
    if (s.ok()) *written += batch.size();
    for (auto [page, id] : batch) {
      std::lock_guard<std::mutex> l(locks_.For(page).mu);
      if (page->id() != id) continue;  // re-keyed meanwhile: its old key is retired
      if (!s.ok()) {
        page->frozen = false;  // content only in the frame again
        page->dirty = true;
      } else {
        if (!page->has_swap) {
          page->has_swap = true;
          swap_pages_.fetch_add(1, std::memory_order_relaxed);
          ForceChargePage(SwapSlotLocked(page), TenantResource::kSwapBytes);
        }
        if (page->state == PageState::kResident) page->dirty = false;
      }
    }
    MEMSERVER_RETURN_IF_ERROR(s);
  }
  return Status::OK();
}

void Pager::FinishCapture(const std::vector<std::pair<Page*, uint64_t>>& held, bool committed) {
  for (auto [page, id] : held) {
    {
      std::lock_guard<std::mutex> l(locks_.For(page).mu);
      if (page->id() == id && page->frozen) {
        if (committed) {
          page->durable = true;
        } else if (page->pending) {
          page->pending = false;  // never written: an ordinary dirty page again
          page->frozen = false;
          page->dirty = true;
        }
      }
    }
    ReleaseSnapshotHold(page);
  }
}

// --- msync --------------------------------------------------------------------

Status Pager::FreezeForSync(const std::vector<Page*>& pages, SyncBatch* batch) {
  const uint32_t size = frames_.page_size();
  batch->pages = pages;
  batch->frozen.assign(pages.size(), FrozenPage{});
  batch->action.assign(pages.size(), kNothing);
  for (size_t i = 0; i < pages.size(); ++i) {
    Page* page = pages[i];
    PageLocks::Stripe& stripe = locks_.For(page);
    std::unique_lock<std::mutex> l(stripe.mu);
    while (page->state == PageState::kWritingOut || page->state == PageState::kPagingIn) stripe.cv.wait(l);
    const uint64_t id = page->id();
    batch->frozen[i] = FrozenPage{id, page->state == PageState::kZero};
    if (page->state == PageState::kZero || (page->frozen && page->durable)) continue;
    if (page->state == PageState::kResident) {
      batch->values.push_back(std::make_unique<std::string>(frames_.Data(page->frame), size));
      batch->action[i] = page->frozen ? kFromFrame : kFrozeFromFrame;
      page->frozen = true;  // a change from now on re-keys: the copy stays right
      l.unlock();
    } else {
      // In the store (kSwapped): frozen keeps the key's content fixed while
      // it is read and written again, this time with the WAL.
      batch->action[i] = kFromStore;
      page->frozen = true;
      l.unlock();
      auto value = std::make_unique<std::string>();
      Status s = store_->Get(storage::Space::kSwap, keys::Swap(id), value.get());
      if (!s.ok()) {
        batch->action.resize(i + 1);
        return s.code() == StatusCode::kNotFound
                   ? Status(StatusCode::kDataLoss,
                            fmt::format("swap entry of page {} is missing from the backing store", id), "EIO")
                   : s;
      }
      batch->values.push_back(std::move(value));
    }
    batch->wb.Put(storage::Space::kSwap, keys::Swap(id), *batch->values.back());
  }
  return Status::OK();
}

void Pager::FinishSync(const SyncBatch& batch, bool ok) {
  for (size_t i = 0; i < batch.action.size(); ++i) {
    if (batch.action[i] == kNothing) continue;
    Page* page = batch.pages[i];
    std::lock_guard<std::mutex> l(locks_.For(page).mu);
    if (page->id() != batch.frozen[i].id) continue;  // re-keyed: the old key is retired
    if (ok) {
      page->durable = true;
      if (!page->has_swap) {
        page->has_swap = true;
        swap_pages_.fetch_add(1, std::memory_order_relaxed);
        ForceChargePage(SwapSlotLocked(page), TenantResource::kSwapBytes);  // msync is never refused
      }
      if (page->state == PageState::kResident && !page->pending) page->dirty = false;
    } else if (batch.action[i] == kFrozeFromFrame && !page->pending) {
      page->frozen = false;  // its content is only in the frame
    }
  }
}

// --- file pages ---------------------------------------------------------------

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
    if (IsAllZero(copies[i].data(), copies[i].size())) {
      wb.Delete(SpaceOf(synced[i]), KeyOf(synced[i]));  // a hole
    } else {
      wb.Put(SpaceOf(synced[i]), KeyOf(synced[i]), copies[i]);
    }
  }
  Status s = wb.empty() ? Status::OK() : store_->Write(wb, /*sync=*/true);
  if (!s.ok()) {
    for (Page* page : synced) {
      std::lock_guard<std::mutex> l(locks_.For(page).mu);
      page->dirty = true;  // still only in memory
    }
  } else {
    writebacks_.fetch_add(synced.size(), std::memory_order_relaxed);
  }
  return s;
}

}  // namespace memserver
