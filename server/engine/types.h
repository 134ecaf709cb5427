// Plain value types of the engine's API: protection and mapping flags (with
// Linux's numeric values, so they read like mmap(2)), call arguments, stats.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
inline constexpr uint32_t kMapLocked = 0x2000;
inline constexpr uint32_t kMapPopulate = 0x8000;
inline constexpr uint32_t kMapFixedNoReplace = 0x100000;
inline constexpr uint32_t kMap32Bit = 0x40;        // place in the first 2 GiB (x86-64)
inline constexpr uint32_t kMapNoReserve = 0x4000;  // accepted; nothing is reserved anyway
inline constexpr uint32_t kMapStack = 0x20000;     // accepted; a hint only, as on Linux
// Flags the engine accepts; any other bit is EINVAL.
inline constexpr uint32_t kMapSupported = kMapShared | kMapPrivate | kMapFixed | kMapAnonymous |
                                          kMapFixedNoReplace | kMapLocked | kMapPopulate | kMap32Bit |
                                          kMapNoReserve | kMapStack;

// mremap(2) flags.
inline constexpr uint32_t kMremapMayMove = 1;
inline constexpr uint32_t kMremapFixed = 2;

// madvise(2) advice values (Linux's).
inline constexpr int kMadvNormal = 0;
inline constexpr int kMadvRandom = 1;
inline constexpr int kMadvSequential = 2;
inline constexpr int kMadvWillNeed = 3;
inline constexpr int kMadvDontNeed = 4;
inline constexpr int kMadvFree = 8;
inline constexpr int kMadvDontFork = 10;
inline constexpr int kMadvDoFork = 11;
inline constexpr int kMadvWipeOnFork = 18;
inline constexpr int kMadvKeepOnFork = 19;

// msync(2) flags.
inline constexpr uint32_t kMsAsync = 1;
inline constexpr uint32_t kMsInvalidate = 2;
inline constexpr uint32_t kMsSync = 4;

// mlockall(2) flags.
inline constexpr uint32_t kMclCurrent = 1;
inline constexpr uint32_t kMclFuture = 2;

struct MmapArgs {
  uint64_t addr = 0;    // hint, or the exact address with kMapFixed*
  uint64_t length = 0;  // bytes, > 0; rounded up to whole pages
  uint32_t prot = kProtRead | kProtWrite;
  uint32_t flags = kMapPrivate | kMapAnonymous;
  std::string path;     // file to map when kMapAnonymous is not set
  uint64_t offset = 0;  // byte offset in the file, page-aligned
};

// Per-process resource limits, modelled on setrlimit(2). Bytes; kUnlimited
// means no limit.
inline constexpr uint64_t kUnlimited = ~0ull;
struct ProcessLimits {
  uint64_t as = kUnlimited;        // RLIMIT_AS: total mapped bytes
  uint64_t data = kUnlimited;      // RLIMIT_DATA: private writable mappings + heap
  uint64_t stack = 8ull << 20;     // RLIMIT_STACK: how far the stack may grow
  uint64_t memlock = 8ull << 20;   // RLIMIT_MEMLOCK: mlocked bytes
};

// Memory use as Linux's smaps reports it, in bytes.
struct MemoryUsage {
  uint64_t rss = 0;
  uint64_t pss = 0;            // each resident page divided among its mappers
  uint64_t uss = 0;            // resident pages this process alone maps
  uint64_t shared_clean = 0;
  uint64_t shared_dirty = 0;
  uint64_t private_clean = 0;
  uint64_t private_dirty = 0;
  uint64_t swap = 0;
  uint64_t locked = 0;
  void Add(const MemoryUsage& o) {
    rss += o.rss; pss += o.pss; uss += o.uss; shared_clean += o.shared_clean;
    shared_dirty += o.shared_dirty; private_clean += o.private_clean;
    private_dirty += o.private_dirty; swap += o.swap; locked += o.locked;
  }
};

// One mapping (VMA) as pmap/smaps show it.
struct MappingInfo {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  uint32_t prot = 0;
  uint32_t flags = 0;
  uint64_t resident_pages = 0;
  uint64_t swapped_pages = 0;
  std::string backing;  // file path, "[heap]", "[stack]", "[shmem]" or "" (anonymous)
  uint64_t offset = 0;  // byte offset in the file
  bool locked = false;
  MemoryUsage usage;
};

// Where exec put things.
struct ExecImage {
  uint64_t entry = 0;
  uint64_t load_base = 0;     // lowest segment address
  uint64_t brk_start = 0;     // the heap starts here
  uint64_t stack_top = 0;
  uint64_t stack_bottom = 0;  // lowest address of the initial stack mapping
  uint32_t segments = 0;
};

struct FileInfo {
  std::string path;
  uint32_t inode = 0;
  uint64_t size = 0;
  uint64_t cached_pages = 0;  // pages of the file in the page cache
  std::string owner;          // the tenant whose namespace holds it ("" without tenants)
};

struct ProcessStats {
  Pid pid = 0;
  std::string name;
  std::string owner;            // the tenant that created it (or its parent); "" without tenants
  uint64_t virtual_bytes = 0;   // sum of mapping lengths
  uint64_t mappings = 0;
  uint64_t resident_pages = 0;  // mapped pages whose content is in a frame
  uint64_t swapped_pages = 0;   // mapped pages whose content is in swap only
  uint64_t minor_faults = 0;    // first touches served without I/O
  uint64_t major_faults = 0;    // faults that read the page from storage
  uint64_t brk = 0;             // current program break
  uint64_t locked_bytes = 0;
  MemoryUsage usage;
  ProcessLimits limits;
};

struct GlobalStats {
  uint32_t page_size = 0;
  uint64_t frames_total = 0;
  uint64_t frames_free = 0;
  uint64_t processes = 0;
  uint64_t pages = 0;          // live page objects (content that exists)
  uint64_t page_slab_bytes = 0;  // storage carved for Page objects (high-water mark)
  uint64_t zero_pages = 0;     // pages that went back to all-zero: no frame, no swap
  uint64_t swap_pages = 0;     // pages with a copy in swap
  uint64_t minor_faults = 0;
  uint64_t major_faults = 0;
  uint64_t page_ins = 0;       // pages read from storage into a frame
  uint64_t page_outs = 0;      // pages written from a frame to storage
  uint64_t evictions = 0;      // frames reclaimed by the replacement policy
  uint64_t clean_evictions = 0;  // evicted without a write (clean swap copy)
  uint64_t zero_evictions = 0;   // evicted without a write (all zero)
  uint64_t locked_pages = 0;     // pages pinned by mlock
  uint64_t readahead_pages = 0;  // pages read ahead of a sequential fault
  uint64_t direct_reads = 0;     // reads served from the store with no frame to hold the page
  uint64_t reclaim_runs = 0;     // background reclaim passes
  uint64_t files = 0;
  std::string policy;
  // Latency of faults that brought a page into a frame (major and minor),
  // as a histogram: fault_latency_counts[i] faults took at most
  // kFaultLatencyBoundsUs[i] microseconds (not cumulative); the last count
  // is for everything slower than the last bound.
  std::vector<uint64_t> fault_latency_counts;
  double fault_latency_sum_us = 0;
  // The committed snapshot: its generation (0: none yet) and instant (Unix
  // ms), and the last attempt's figures.
  uint64_t snapshot_generation = 0;
  int64_t snapshot_unix_ms = 0;
  double snapshot_last_ms = 0;           // duration of the last snapshot taken
  uint64_t snapshot_last_pages = 0;      // pages it wrote
  bool snapshot_last_failed = false;
  // Bytes moved by the backing store (all spaces).
  uint64_t store_bytes_written = 0;
  uint64_t store_bytes_read = 0;
};

inline constexpr double kFaultLatencyBoundsUs[] = {1,    2,    5,     10,    20,    50,     100,    200,
                                                   500,  1000, 2000,  5000,  10000, 20000,  50000,  100000};

}  // namespace memserver
