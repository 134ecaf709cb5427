// Process: a pid, a name and an address space. Owned by the Engine's process
// table through shared_ptr, so a call in flight keeps its process alive
// after Exit removed it from the table (the call then sees NotFound).
#pragma once

#include <string>

#include "server/engine/types.h"
#include "server/vm/address_space.h"

namespace memserver {

class Process {
 public:
  Process(Pid pid, std::string name, const EngineOptions& options, Pager* pager)
      : pid_(pid), name_(std::move(name)), mm_(options, pager) {}

  Pid pid() const { return pid_; }
  const std::string& name() const { return name_; }
  AddressSpace& mm() { return mm_; }

 private:
  const Pid pid_;
  const std::string name_;
  AddressSpace mm_;
};

}  // namespace memserver
