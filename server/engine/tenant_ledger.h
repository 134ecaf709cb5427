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

enum class TenantResource : int { kProcesses = 0, kFileBytes, kFiles, kLockedBytes };
inline constexpr int kTenantResourceCount = 4;

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
};

// Usage and quota of one owner, as the stats show them.
struct TenantUsage {
  std::string owner;
  std::array<uint64_t, kTenantResourceCount> used{};
  std::array<uint64_t, kTenantResourceCount> limit{};
};

class TenantAccount {
 public:
  explicit TenantAccount(std::string owner);
  TenantAccount(const TenantAccount&) = delete;
  TenantAccount& operator=(const TenantAccount&) = delete;

  const std::string& owner() const { return owner_; }
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
  // Replaces every owner's quota: owners in `quotas` get theirs, every other
  // account becomes unlimited.
  void SetQuotas(const std::map<std::string, TenantQuota>& quotas);
  // Every account, by owner name.
  std::vector<TenantUsage> Usage() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<TenantAccount>> accounts_;  // GUARDED_BY(mu_)
  std::map<std::string, TenantQuota> quotas_;                       // GUARDED_BY(mu_)
};

}  // namespace memserver
