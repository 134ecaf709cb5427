// Pager: statistics, page inspection and the invariant check.
#include <fmt/format.h>

#include "server/vm/pager.h"
#include "server/vm/store_keys.h"

namespace memserver {

void Pager::RecordFaultLatency(uint64_t ns) {
  const double us = ns / 1000.0;
  size_t i = 0;
  while (i < std::size(kFaultLatencyBoundsUs) && us > kFaultLatencyBoundsUs[i]) ++i;
  fault_latency_[i].fetch_add(1, std::memory_order_relaxed);
  fault_latency_sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

Pager::PageInfo Pager::Inspect(Page* page) {
  std::lock_guard<std::mutex> l(locks_.For(page).mu);
  return PageInfo{page->state, page->dirty, page->has_swap, page->locks > 0};
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
  g.direct_reads = direct_reads_.load(std::memory_order_relaxed);
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
  std::unordered_map<uint16_t, uint64_t> swap_by_slot;  // memory charges, recounted
  for (const auto& [page, n] : refs) {
    std::lock_guard<std::mutex> l(locks_.For(page).mu);
    if (page->has_swap && !page->is_file()) ++swap_by_slot[SwapSlotLocked(page)];
    if (page->refs.load() != n) {  // no snapshot holds a page while idle
      return Status::Internal(fmt::format("page {}: refcount {:#x} but {} PTEs map it", page->id(),
                                          page->refs.load(), n));
    }
    if (page->pending || (page->frozen && !page->has_swap) || (page->durable && !page->frozen)) {
      return Status::Internal(fmt::format("page {}: snapshot state pending={} frozen={} durable={} has_swap={}",
                                          page->id(), page->pending, page->frozen, page->durable,
                                          page->has_swap));
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
  std::unordered_map<uint16_t, uint64_t> resident_by_slot;
  for (uint32_t f = 0; f < frames_.capacity(); ++f) {
    if (Owner(f) != nullptr) {
      ++owned;
      ++resident_by_slot[FrameSlot(f)];
    } else if (FrameSlot(f) != 0) {
      return Status::Internal(fmt::format("frame {}: free but charged to slot {}", f, FrameSlot(f)));
    }
  }
  if (ledger_ != nullptr) {
    for (uint16_t slot = 1; slot < kMemorySlots; ++slot) {
      const TenantAccount* account = ledger_->AtSlot(slot);
      if (account == nullptr) break;  // slots are given out in order
      const uint64_t want_resident = resident_by_slot[slot] * frames_.page_size();
      const uint64_t want_swap = swap_by_slot[slot] * frames_.page_size();
      if (account->used(TenantResource::kResidentBytes) != want_resident ||
          account->used(TenantResource::kSwapBytes) != want_swap) {
        return Status::Internal(fmt::format(
            "tenant '{}': charged {} resident and {} swap bytes, but its frames hold {} and its swap copies {}",
            account->owner(), account->used(TenantResource::kResidentBytes),
            account->used(TenantResource::kSwapBytes), want_resident, want_swap));
      }
    }
  }
  if (owned != resident || resident + frames_.free_count() != frames_.capacity()) {
    return Status::Internal(fmt::format("frames: {} resident pages, {} owned frames, {} free of {}",
                                        resident, owned, frames_.free_count(), frames_.capacity()));
  }
  uint64_t keys = 0;
  MEMSERVER_RETURN_IF_ERROR(store_->CountKeys(storage::Space::kSwap, &keys));
  // Keys of retired frozen content stay until a snapshot deletes them.
  uint64_t retired_present = 0;
  {
    std::lock_guard<std::mutex> l(retired_mu_);
    std::string value;
    for (uint64_t id : retired_) {
      Status s = store_->Get(storage::Space::kSwap, keys::Swap(id), &value);
      if (s.ok()) ++retired_present;
      else if (s.code() != StatusCode::kNotFound) return s;
    }
  }
  if (keys != swapped + retired_present || swapped != swap_pages_.load()) {
    return Status::Internal(fmt::format(
        "swap: {} keys in store, {} pages with a swap copy ({} counted), {} retired keys present", keys, swapped,
        swap_pages_.load(), retired_present));
  }
  return Status::OK();
}


}  // namespace memserver
