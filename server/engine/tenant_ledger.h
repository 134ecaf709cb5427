// TenantLedger: what each owner (tenant) of processes and files uses of the
// engine's resources, and the quotas that bound it, like Linux's memcg
// counters (page_counter) and limits.
//
// An owner is an opaque name that the service gives the engine (the tenant
// that created a process or file, server/service/auth.h); "" is the owner of
// everything made without tenants. The engine charges an owner's account
// before it commits to a resource and releases it when the resource goes:
//
//   resource         charged at                        released at        over quota
//   kProcesses       CreateProcess, Fork (1 each)      Exit, lease expiry EAGAIN
//   kFileBytes       a file growing (bytes of size)    shrink, delete     EDQUOT
//   kFiles           CreateFile (1 each)               DeleteFile         EDQUOT
//   kLockedBytes     mlock, MAP_LOCKED, locked growth  munlock, unmap     ENOMEM
//   kResidentBytes   a frame taken for the owner's     the frame freed    own pages
//                    fault (the pager, per frame)      (evicted, unmapped) reclaimed,
//                                                                         else EDQUOT
//   kSwapBytes       an anonymous page's first copy    that copy deleted  not swapped
//                    in swap (eviction; snapshots and  (page freed, zero, out; EDQUOT
//                    msync force it)                   re-keyed)          when stuck
//
// Memory (kResidentBytes, kSwapBytes) is charged only when the pager keeps
// per-frame owners (EngineOptions::account_tenant_memory; the daemon sets it
// with a tenants file): an account has a small `slot` number that the pager
// stores per frame, and AtSlot maps it back, without a lock.
//
// Every quota error is RESOURCE_EXHAUSTED and its message names the tenant,
// the quota key of the tenants file and the figures ("tenant 'a' is at its
// max_processes quota: 4 of 4 processes").
//
// Guarantees: Charge never lets used exceed the limit in effect (a CAS loop,
// no lock); SetQuotas applies at once to later charges and never takes back
// what is already charged (an account over a lowered quota only stops
// growing). Accounts are created on first use and live as long as the
// ledger, so a TenantAccount* stays valid for the engine's lifetime; their
// number is bounded by the owners the service names (its tenants file), not
// by clients.
//
// Thread-safety: everything is thread-safe. mu_ is a leaf lock, taken only
// to find or create an account and to set quotas.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/common/status.h"
#include "server/engine/types.h"

namespace memserver {

enum class TenantResource : int { kProcesses = 0, kFileBytes, kFiles, kLockedBytes, kResidentBytes, kSwapBytes };
inline constexpr int kTenantResourceCount = 6;

// Memory slots (see above): 1 .. kMemorySlots-1 go to accounts in order of
// creation; 0 is nobody (the server's own, never charged). An account made
// after the slots ran out gets 0: its memory is not charged.
inline constexpr uint16_t kMemorySlots = 4096;

// An owner is "" or 1 to 64 bytes of [A-Za-z0-9_.-] (it is part of store
// keys: no '/', no NUL). InvalidArgument otherwise.
Status ValidateOwner(const std::string& owner);
inline constexpr size_t kMaxOwnerBytes = 64;

// The quota key of each resource in the tenants file.
const char* TenantQuotaName(TenantResource resource);

// One owner's engine quotas. kUnlimited means none.
struct TenantQuota {
  // Live processes. Default: unlimited.
  uint64_t max_processes = kUnlimited;
  // Bytes of file content (the sum of its files' sizes). Default: unlimited.
  uint64_t max_file_bytes = kUnlimited;
  // Files in the file store. Default: unlimited.
  uint64_t max_files = kUnlimited;
  // Bytes of locked mappings (mlock, MAP_LOCKED, mlockall), all of the
  // owner's processes together. Default: unlimited.
  uint64_t max_locked_bytes = kUnlimited;
  // Bytes of frames backing pages the owner's processes faulted in (memcg's
  // memory.max). Default: unlimited.
  uint64_t max_resident_bytes = kUnlimited;
  // Bytes of the owner's anonymous pages held in swap (memcg's
  // memory.swap.max). Default: unlimited.
  uint64_t max_swap_bytes = kUnlimited;
};

// Usage and quota of one owner, as the stats show them.
struct TenantUsage {
  std::string owner;
  std::array<uint64_t, kTenantResourceCount> used{};
  std::array<uint64_t, kTenantResourceCount> limit{};
};

class TenantAccount {
 public:
  TenantAccount(std::string owner, uint16_t slot);
  TenantAccount(const TenantAccount&) = delete;
  TenantAccount& operator=(const TenantAccount&) = delete;

  const std::string& owner() const { return owner_; }
  // The account's memory slot (see above); 0 when it has none.
  uint16_t slot() const { return slot_; }
  // Adds `amount`, or fails (charging nothing) when it would pass the
  // quota: RESOURCE_EXHAUSTED naming it, errno as in the table above.
  Status Charge(TenantResource resource, uint64_t amount);
  // Adds `amount` whatever the quota (restoring what already exists).
  void ForceCharge(TenantResource resource, uint64_t amount);
  // Takes back `amount` (clamped at zero: a release never underflows).
  void Release(TenantResource resource, uint64_t amount);
  uint64_t used(TenantResource resource) const;
  uint64_t limit(TenantResource resource) const;
  void SetQuota(const TenantQuota& quota);

 private:
  const std::string owner_;
  const uint16_t slot_;
  std::array<std::atomic<uint64_t>, kTenantResourceCount> used_{};
  std::array<std::atomic<uint64_t>, kTenantResourceCount> limit_;
};

class TenantLedger {
 public:
  TenantLedger() = default;
  TenantLedger(const TenantLedger&) = delete;
  TenantLedger& operator=(const TenantLedger&) = delete;

  // The account of `owner`, created (with the quota SetQuotas gave it, or
  // none) on first use. Never null; valid as long as the ledger.
  TenantAccount* Account(const std::string& owner);
  // The account holding memory slot `slot`, or null (slot 0, or not given
  // out). Lock-free: the pager calls it on every frame it frees.
  TenantAccount* AtSlot(uint16_t slot) const {
    return slot < kMemorySlots ? by_slot_[slot].load(std::memory_order_acquire) : nullptr;
  }
  // Replaces every owner's quota: owners in `quotas` get theirs, every other
  // account becomes unlimited.
  void SetQuotas(const std::map<std::string, TenantQuota>& quotas);
  // Every account, by owner name.
  std::vector<TenantUsage> Usage() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<TenantAccount>> accounts_;  // GUARDED_BY(mu_)
  std::map<std::string, TenantQuota> quotas_;                       // GUARDED_BY(mu_)
  uint16_t next_slot_ = 1;                                          // GUARDED_BY(mu_)
  // Written once per slot under mu_, read without it.
  std::array<std::atomic<TenantAccount*>, kMemorySlots> by_slot_{};
};

}  // namespace memserver
