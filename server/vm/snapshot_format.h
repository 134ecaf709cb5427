// Records of an address space and of a shared memory object, as snapshots
// and msync records keep them in the store (server/engine/snapshotter.h).
//
// A page is named by its id: its content is in swap under that id (the key
// is frozen, page.h), or it is a zero page. A page shared by several PTEs
// (fork) or objects appears under the same id in each record and comes back
// as one page with that many references.
//
// Page tables are stored in chunks of kChunkPages consecutive page numbers
// (vpns for a process, indices for an object), so that a snapshot rewrites
// only the chunks that changed. Every decoder rejects truncated or trailing
// input and never reads past its input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/engine/types.h"

namespace memserver {

inline constexpr unsigned kChunkShift = 9;
inline constexpr uint64_t kChunkPages = uint64_t{1} << kChunkShift;

struct PageRef {
  uint64_t key = 0;  // vpn (address spaces) or page index (objects)
  uint64_t id = 0;   // page id: the swap key
  bool zero = false; // all-zero page: nothing in swap
};

// How a mapping's object is named in a record.
enum class ObjectKind : uint32_t { kNone = 0, kShmem = 1, kFile = 2 };

struct VmaRecord {
  uint64_t start = 0, end = 0;
  uint32_t prot = 0, flags = 0, vm = 0;
  ObjectKind object_kind = ObjectKind::kNone;
  uint64_t object_id = 0;  // shmem: MemoryObject::id(); file: inode
  uint64_t pgoff = 0;
};

// Everything of an address space but its pages.
struct AddressSpaceRecord {
  ProcessLimits limits;
  uint64_t brk_start = 0, brk = 0;
  bool lock_future = false;
  std::vector<VmaRecord> vmas;
};

void EncodeAddressSpace(const AddressSpaceRecord& r, std::string* out);
bool DecodeAddressSpace(std::string_view* in, AddressSpaceRecord* r);

void EncodeVmas(const std::vector<VmaRecord>& vmas, std::string* out);
bool DecodeVmas(std::string_view* in, std::vector<VmaRecord>* vmas);

// Pages [begin, end) (sorted by key) as one record; keys are stored relative
// to `base`. DecodePages appends.
void EncodePages(const PageRef* begin, const PageRef* end, uint64_t base, std::string* out);
bool DecodePages(std::string_view* in, uint64_t base, std::vector<PageRef>* pages);

}  // namespace memserver
