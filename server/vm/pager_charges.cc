// Pager: memory charges, the tenants' max_resident and max_swap (see
// "Memory charges" in pager.h and TenantLedger).
//
// A frame is charged when AllocateFrame hands it out, to the slot of the
// access that faults (FaultCounters::charge_slot), and released by
// FreeFrame, so the charge of every account is exactly the frames its slot
// holds (CheckInvariants recounts it). A swap copy is charged when it first
// exists: by the evictor, which refuses to make one over max_swap (the page
// stays resident), and forced by snapshots and msync, which must not fail
// for a tenant's quota. It is released when the copy goes: the page freed,
// found all zero, or re-keyed (the old key is retired: the server's).
#include <fmt/format.h>

#include <chrono>

#include "server/vm/pager.h"

namespace memserver {

namespace {

// How long a fault over max_resident waits for its tenant's own frames in
// flight (being filled, written out, pinned by its other calls) before it
// fails: they come back within one store write or read.
constexpr auto kOwnReclaimWait = std::chrono::seconds(2);

}  // namespace

uint16_t Pager::SwapSlotLocked(const Page* page) const {
  if (ledger_ == nullptr || page->is_file() || !page->has_swap) return 0;
  if (page->state == PageState::kResident || page->state == PageState::kWritingOut) return FrameSlot(page->frame);
  return page->frame < kMemorySlots ? static_cast<uint16_t>(page->frame) : 0;
}

Status Pager::ChargePage(uint16_t slot, TenantResource resource) {
  TenantAccount* account = ChargeAccount(slot);
  return account == nullptr ? Status::OK() : account->Charge(resource, frames_.page_size());
}

void Pager::ForceChargePage(uint16_t slot, TenantResource resource) {
  if (TenantAccount* account = ChargeAccount(slot)) account->ForceCharge(resource, frames_.page_size());
}

void Pager::ReleasePage(uint16_t slot, TenantResource resource) {
  if (TenantAccount* account = ChargeAccount(slot)) account->Release(resource, frames_.page_size());
}

Status Pager::ChargeFrame(uint16_t slot, bool reclaim_own) {
  TenantAccount* account = ChargeAccount(slot);
  if (account == nullptr) return Status::OK();
  const uint64_t page = frames_.page_size();
  const auto deadline = std::chrono::steady_clock::now() + kOwnReclaimWait;
  for (;;) {
    Status s = account->Charge(TenantResource::kResidentBytes, page);
    if (s.ok() || !reclaim_own) return s;
    // Over max_resident: make room among the account's own pages only.
    uint32_t freed = 0;
    MEMSERVER_RETURN_IF_ERROR(EvictOwn(slot, &freed));
    if (freed > 0) continue;
    const uint64_t swap_limit = account->limit(TenantResource::kSwapBytes);
    const uint64_t swap_used = account->used(TenantResource::kSwapBytes);
    if (swap_limit != kUnlimited && swap_used + page > swap_limit) {
      return Status(StatusCode::kResourceExhausted,
                    fmt::format("tenant '{}' is at its max_resident quota ({} of {} bytes) and its pages cannot "
                                "go to swap: it is at its max_swap quota ({} of {} bytes); free memory (munmap, "
                                "MADV_DONTNEED, exit) or raise a quota",
                                account->owner(), account->used(TenantResource::kResidentBytes),
                                account->limit(TenantResource::kResidentBytes), swap_used, swap_limit),
                    "EDQUOT");
    }
    // Nothing could go now. Unless all of it is locked, some of its frames
    // are in flight (being filled, written out or pinned by its other
    // calls): wait for them a little, as a fault waits for a busy pool.
    const uint64_t locked = account->used(TenantResource::kLockedBytes);
    const uint64_t resident = account->used(TenantResource::kResidentBytes);
    const bool all_locked = locked > 0 && locked >= resident;
    if (all_locked || std::chrono::steady_clock::now() > deadline) {
      return Status(s.code(),
                    s.message() + (all_locked ? fmt::format("; all of its resident memory is locked (mlock, {} bytes)", locked)
                                              : "; none of its resident pages can be evicted now (pinned or busy)"),
                    "EDQUOT");
    }
    std::unique_lock<std::mutex> l(evict_mu_);
    frame_freed_.wait_for(l, std::chrono::milliseconds(1));
  }
}

Status Pager::EvictOwn(uint16_t slot, uint32_t* freed) {
  *freed = 0;
  std::unique_lock<std::mutex> l(evict_mu_);
  ReleaseBatch release;
  Status s = EvictLocked(/*clean_only=*/false, freed, &release, slot);
  if (!s.ok() && *freed == 0) {
    Status clean = EvictLocked(/*clean_only=*/true, freed, &release, slot);
    if (clean.ok() && *freed > 0) s = Status::OK();
  }
  frame_freed_.notify_all();
  l.unlock();
  Status fs = Flush(&release);
  return s.ok() ? fs : s;
}

void Pager::MoveSwapCharge(const Page* page, uint16_t from, uint16_t to) {
  if (from == to || ledger_ == nullptr || page->is_file() || !page->has_swap) return;
  ReleasePage(from, TenantResource::kSwapBytes);
  ForceChargePage(to, TenantResource::kSwapBytes);
}

void Pager::FreeFrame(FrameId frame) {
  if (frame_slot_ != nullptr) {
    ReleasePage(frame_slot_[frame].exchange(0, std::memory_order_relaxed), TenantResource::kResidentBytes);
  }
  frames_.Free(frame);
}

}  // namespace memserver
