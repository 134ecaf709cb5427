#include "server/engine/tenant_ledger.h"

#include <fmt/format.h>

#include <cctype>

namespace memserver {

namespace {

const char* UnitOf(TenantResource r) {
  switch (r) {
    case TenantResource::kProcesses: return "processes";
    case TenantResource::kFiles: return "files";
    case TenantResource::kFileBytes:
    case TenantResource::kLockedBytes:
    case TenantResource::kResidentBytes:
    case TenantResource::kSwapBytes: return "bytes";
  }
  return "";
}

const char* ErrnoOf(TenantResource r) {
  switch (r) {
    case TenantResource::kProcesses: return "EAGAIN";  // fork(2) over RLIMIT_NPROC
    case TenantResource::kFileBytes:
    case TenantResource::kFiles:
    case TenantResource::kResidentBytes:
    case TenantResource::kSwapBytes: return "EDQUOT";
    case TenantResource::kLockedBytes: return "ENOMEM";  // mlock(2) over RLIMIT_MEMLOCK
  }
  return "";
}

std::array<uint64_t, kTenantResourceCount> Limits(const TenantQuota& q) {
  return {q.max_processes, q.max_file_bytes, q.max_files, q.max_locked_bytes, q.max_resident_bytes, q.max_swap_bytes};
}

}  // namespace

Status ValidateOwner(const std::string& owner) {
  if (owner.size() > kMaxOwnerBytes) {
    return Status::InvalidArgument(fmt::format("owner name is {} bytes; the limit is {}", owner.size(), kMaxOwnerBytes));
  }
  for (char c : owner) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return Status::InvalidArgument("an owner name holds only letters, digits, '_', '-' and '.'");
    }
  }
  return Status::OK();
}

const char* TenantQuotaName(TenantResource resource) {
  switch (resource) {
    case TenantResource::kProcesses: return "max_processes";
    case TenantResource::kFileBytes: return "max_files";
    case TenantResource::kFiles: return "max_file_count";
    case TenantResource::kLockedBytes: return "max_locked";
    case TenantResource::kResidentBytes: return "max_resident";
    case TenantResource::kSwapBytes: return "max_swap";
  }
  return "";
}

TenantAccount::TenantAccount(std::string owner, uint16_t slot) : owner_(std::move(owner)), slot_(slot) {
  for (auto& l : limit_) l.store(kUnlimited, std::memory_order_relaxed);
}

Status TenantAccount::Charge(TenantResource resource, uint64_t amount) {
  const int i = static_cast<int>(resource);
  const uint64_t limit = limit_[i].load(std::memory_order_relaxed);
  uint64_t used = used_[i].load(std::memory_order_relaxed);
  do {
    if (limit != kUnlimited && (amount > limit || used > limit - amount)) {
      return Status::ResourceExhausted(
          fmt::format("tenant '{}' is at its {} quota: {} of {} {} in use, {} more asked", owner_,
                      TenantQuotaName(resource), used, limit, UnitOf(resource), amount),
          ErrnoOf(resource));
    }
  } while (!used_[i].compare_exchange_weak(used, used + amount, std::memory_order_relaxed));
  return Status::OK();
}

void TenantAccount::ForceCharge(TenantResource resource, uint64_t amount) {
  used_[static_cast<int>(resource)].fetch_add(amount, std::memory_order_relaxed);
}

void TenantAccount::Release(TenantResource resource, uint64_t amount) {
  std::atomic<uint64_t>& used = used_[static_cast<int>(resource)];
  uint64_t v = used.load(std::memory_order_relaxed);
  while (!used.compare_exchange_weak(v, v > amount ? v - amount : 0, std::memory_order_relaxed)) {
  }
}

uint64_t TenantAccount::used(TenantResource resource) const {
  return used_[static_cast<int>(resource)].load(std::memory_order_relaxed);
}

uint64_t TenantAccount::limit(TenantResource resource) const {
  return limit_[static_cast<int>(resource)].load(std::memory_order_relaxed);
}

void TenantAccount::SetQuota(const TenantQuota& quota) {
  const auto limits = Limits(quota);
  for (int i = 0; i < kTenantResourceCount; ++i) limit_[i].store(limits[i], std::memory_order_relaxed);
}

TenantAccount* TenantLedger::Account(const std::string& owner) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = accounts_.find(owner);
  if (it != accounts_.end()) return it->second.get();
  const uint16_t slot = next_slot_ < kMemorySlots ? next_slot_++ : 0;
  auto account = std::make_unique<TenantAccount>(owner, slot);
  auto q = quotas_.find(owner);
  if (q != quotas_.end()) account->SetQuota(q->second);
  TenantAccount* raw = accounts_.emplace(owner, std::move(account)).first->second.get();
  if (slot != 0) by_slot_[slot].store(raw, std::memory_order_release);
  return raw;
}

void TenantLedger::SetQuotas(const std::map<std::string, TenantQuota>& quotas) {
  std::lock_guard<std::mutex> l(mu_);
  quotas_ = quotas;
  for (auto& [owner, account] : accounts_) {
    auto q = quotas_.find(owner);
    account->SetQuota(q == quotas_.end() ? TenantQuota{} : q->second);
  }
}

std::vector<TenantUsage> TenantLedger::Usage() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<TenantUsage> out;
  for (const auto& [owner, account] : accounts_) {
    TenantUsage u;
    u.owner = owner;
    for (int i = 0; i < kTenantResourceCount; ++i) {
      u.used[i] = account->used(static_cast<TenantResource>(i));
      u.limit[i] = account->limit(static_cast<TenantResource>(i));
    }
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace memserver
