// Process: a pid, a name, an address space and its malloc heap. Owned by
// the Engine's process table through shared_ptr, so a call in flight keeps
// its process alive after Exit removed it from the table (the call then
// sees NotFound from the torn-down address space).
#pragma once

#include <atomic>
#include <string>

#include "server/engine/heap_allocator.h"
#include "server/engine/types.h"
#include "server/vm/address_space.h"

namespace memserver {

class Process {
 public:
  Process(Pid pid, Pid parent, std::string name, const EngineOptions& options, Pager* pager)
      : pid_(pid), parent_(parent), name_(std::move(name)), mm_(options, pager), heap_(&mm_) {}

  Pid pid() const { return pid_; }
  Pid parent() const { return parent_; }
  const std::string& name() const { return name_; }
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
  AddressSpace mm_;
  HeapAllocator heap_;  // after mm_: uses it
  std::atomic<uint64_t> lease_ms_{0};
  std::atomic<int64_t> lease_deadline_ms_{0};
};

}  // namespace memserver
