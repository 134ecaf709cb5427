// The two bounds on an address space's locked memory beyond RLIMIT_MEMLOCK
// (checked by each caller against limits_.memlock): its owner's max_locked
// quota (server/engine/tenant_ledger.h) and the pager's server-wide cap of
// max_locked_percent of the frames. Callers hold mm_lock_ exclusive.
#include <fmt/format.h>

#include "server/engine/tenant_ledger.h"
#include "server/vm/address_space.h"

namespace memserver {

void AddressSpace::SetAccount(TenantAccount* account) {
  lock_account_ = account;
  faults_.charge_slot = account != nullptr ? account->slot() : 0;
}

bool AddressSpace::ReserveLockBudget(uint64_t pages, Status* why) {
  const uint64_t bytes = pages << page_shift_;
  if (lock_account_ != nullptr) {
    Status s = lock_account_->Charge(TenantResource::kLockedBytes, bytes);
    if (!s.ok()) {
      if (why != nullptr) *why = std::move(s);
      return false;
    }
  }
  if (!pager_->ReserveLockBudget(pages)) {
    if (lock_account_ != nullptr) lock_account_->Release(TenantResource::kLockedBytes, bytes);
    if (why != nullptr) {
      *why = Status::ResourceExhausted(
          fmt::format("the server-wide mlock cap ({}% of the frame pool) would be exceeded",
                      options_.max_locked_percent),
          "EAGAIN");
    }
    return false;
  }
  return true;
}

void AddressSpace::ReleaseLockBudget(uint64_t pages) {
  if (lock_account_ != nullptr) lock_account_->Release(TenantResource::kLockedBytes, pages << page_shift_);
  pager_->ReleaseLockBudget(pages);
}

}  // namespace memserver
