// Plain value types of the engine's API: protection and mapping flags (with
// Linux's numeric values, so they read like mmap(2)), call arguments, stats.
#pragma once

#include <cstdint>
#include <string>

namespace memserver {

using Pid = uint64_t;

// Protection bits, as PROT_* in <sys/mman.h>.
inline constexpr uint32_t kProtNone = 0x0;
inline constexpr uint32_t kProtRead = 0x1;
inline constexpr uint32_t kProtWrite = 0x2;
inline constexpr uint32_t kProtExec = 0x4;
inline constexpr uint32_t kProtMask = kProtRead | kProtWrite | kProtExec;

// Mapping flags, as MAP_* in <sys/mman.h> on x86-64 Linux.
inline constexpr uint32_t kMapShared = 0x01;
inline constexpr uint32_t kMapPrivate = 0x02;
inline constexpr uint32_t kMapFixed = 0x10;
inline constexpr uint32_t kMapAnonymous = 0x20;
inline constexpr uint32_t kMapFixedNoReplace = 0x100000;
// Flags the engine accepts today; any other bit is EINVAL.
inline constexpr uint32_t kMapSupported =
    kMapShared | kMapPrivate | kMapFixed | kMapAnonymous | kMapFixedNoReplace;

struct MmapArgs {
  uint64_t addr = 0;    // hint, or the exact address with kMapFixed*
  uint64_t length = 0;  // bytes, > 0; rounded up to whole pages
  uint32_t prot = kProtRead | kProtWrite;
  uint32_t flags = kMapPrivate | kMapAnonymous;
};

// One mapping (VMA) as pmap shows it.
struct MappingInfo {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  uint32_t prot = 0;
  uint32_t flags = 0;
  uint64_t resident_pages = 0;
  uint64_t swapped_pages = 0;
};

struct ProcessStats {
  Pid pid = 0;
  std::string name;
  uint64_t virtual_bytes = 0;   // sum of mapping lengths
  uint64_t mappings = 0;
  uint64_t resident_pages = 0;  // mapped pages whose content is in a frame
  uint64_t swapped_pages = 0;   // mapped pages whose content is in swap only
  uint64_t minor_faults = 0;    // first touches served without I/O
  uint64_t major_faults = 0;    // faults that read the page from storage
};

struct GlobalStats {
  uint32_t page_size = 0;
  uint64_t frames_total = 0;
  uint64_t frames_free = 0;
  uint64_t processes = 0;
  uint64_t pages = 0;          // live page objects (content that exists)
  uint64_t zero_pages = 0;     // pages that went back to all-zero: no frame, no swap
  uint64_t swap_pages = 0;     // pages with a copy in swap
  uint64_t minor_faults = 0;
  uint64_t major_faults = 0;
  uint64_t page_ins = 0;       // pages read from storage into a frame
  uint64_t page_outs = 0;      // pages written from a frame to storage
  uint64_t evictions = 0;      // frames reclaimed by the replacement policy
  uint64_t clean_evictions = 0;  // evicted without a write (clean swap copy)
  uint64_t zero_evictions = 0;   // evicted without a write (all zero)
  std::string policy;
};

}  // namespace memserver
