// The checkpoint format of versions before snapshots (version 1 records),
// read once by Engine::Open to bring those processes back; the first
// snapshot then replaces it (server/vm/snapshot_format.h is the format now).
//
// A page is named by its id; its content is in swap under that id (the
// checkpoint writes every dirty page out first), or it is a zero page. A page
// shared by several PTEs (fork) or objects appears under the same id in each,
// and is restored as one page with that many references.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/engine/types.h"

namespace memserver::legacy {

struct PageRef {
  uint64_t key;  // vpn (address spaces) or page index (objects)
  uint64_t id;   // page id: the swap key
  bool zero;     // all-zero page: nothing in swap
};

struct VmaRecord {
  uint64_t start = 0, end = 0;
  uint32_t prot = 0, flags = 0, vm = 0;
  uint32_t object_kind = 0;  // 0: none, 1: shmem (object_id = record id), 2: file (object_id = inode)
  uint64_t object_id = 0;
  uint64_t pgoff = 0;
};

struct AddressSpaceRecord {
  ProcessLimits limits;
  uint64_t brk_start = 0, brk = 0;
  bool lock_future = false;
  std::vector<VmaRecord> vmas;
  std::vector<PageRef> pages;
};

struct ShmemRecord {
  uint64_t size = 0;
  std::vector<PageRef> pages;
};

void EncodeAddressSpace(const AddressSpaceRecord& r, std::string* out);
bool DecodeAddressSpace(std::string_view in, AddressSpaceRecord* r);
void EncodeShmem(const ShmemRecord& r, std::string* out);
bool DecodeShmem(std::string_view in, ShmemRecord* r);

}  // namespace memserver::legacy
