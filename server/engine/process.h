// Process: a pid, a name, an owner, an address space and its malloc heap.
// Owned by the Engine's process table through shared_ptr, so a call in
// flight keeps its process alive after Exit removed it from the table (the
// call then sees NotFound from the torn-down address space).
//
// The owner is the tenant that created the process (CreateProcess), or its
// parent's (Fork); "" without tenants. It never changes, names the files the
// process maps or execs (file paths resolve in its owner's namespace) and
// the TenantAccount its process count and locked bytes are charged to. It
// is part of what a checkpoint must keep (a std::string, owner()).
#pragma once

#include <atomic>
#include <string>

#include "server/engine/heap_allocator.h"
#include "server/engine/types.h"
#include "server/vm/address_space.h"

namespace memserver {

class Process {
 public:
  Process(Pid pid, Pid parent, std::string name, const EngineOptions& options, Pager* pager,
          std::string owner = "")
      : pid_(pid), parent_(parent), name_(std::move(name)), owner_(std::move(owner)), mm_(options, pager),
        heap_(&mm_) {}

  Pid pid() const { return pid_; }
  Pid parent() const { return parent_; }
  const std::string& name() const { return name_; }
  const std::string& owner() const { return owner_; }
  AddressSpace& mm() { return mm_; }
  HeapAllocator& heap() { return heap_; }

  // Lease: 0 = none. The deadline is steady-clock milliseconds.
  uint64_t lease_ms() const { return lease_ms_.load(); }
  int64_t lease_deadline_ms() const { return lease_deadline_ms_.load(); }
  void SetLease(uint64_t lease_ms, int64_t now_ms) {
    lease_ms_.store(lease_ms);
    lease_deadline_ms_.store(lease_ms ? now_ms + static_cast<int64_t>(lease_ms) : 0);
  }

 private:
  const Pid pid_;
  const Pid parent_;
  const std::string name_;
  const std::string owner_;
  AddressSpace mm_;
  HeapAllocator heap_;  // after mm_: uses it
  std::atomic<uint64_t> lease_ms_{0};
  std::atomic<int64_t> lease_deadline_ms_{0};
};

}  // namespace memserver
