// Plain value types of the memserver client API: protection, mapping, mremap,
// msync and mlockall flag bits, madvise advice, statistics with smaps-style
// usage, limits, mappings, exec images and file store entries. They mirror
// memserver.v1 messages without exposing generated protobuf types to client
// code.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>
#include <string>
#include <utility>
#include <vector>

namespace memserver::client {

// Protection bits (values of PROT_* in <sys/mman.h>, as memserver.v1.Prot).
inline constexpr uint32_t kProtNone = 0;
inline constexpr uint32_t kProtRead = 1;
inline constexpr uint32_t kProtWrite = 2;
inline constexpr uint32_t kProtExec = 4;

// Mmap flag bits (values of MAP_* on x86-64 Linux, as memserver.v1.MapFlag).
// The server requires exactly one of kMapPrivate/kMapShared, with
// kMapAnonymous or a file path (MmapArgs).
inline constexpr uint32_t kMapShared = 0x01;
inline constexpr uint32_t kMapPrivate = 0x02;
inline constexpr uint32_t kMapFixed = 0x10;
inline constexpr uint32_t kMapAnonymous = 0x20;
inline constexpr uint32_t kMapLocked = 0x2000;    // mlock the mapping as it is made
inline constexpr uint32_t kMapPopulate = 0x8000;  // fault every page in before returning
inline constexpr uint32_t kMapFixedNoreplace = 0x100000;

// Mremap flag bits (MREMAP_* of <sys/mman.h>).
inline constexpr uint32_t kMremapMayMove = 1;
inline constexpr uint32_t kMremapFixed = 2;  // requires kMremapMayMove

// Msync flag bits (MS_* of <sys/mman.h>): one of kMsAsync/kMsSync, optionally
// with kMsInvalidate.
inline constexpr uint32_t kMsAsync = 1;
inline constexpr uint32_t kMsInvalidate = 2;
inline constexpr uint32_t kMsSync = 4;

// Mlockall flag bits (MCL_* of <sys/mman.h>).
inline constexpr uint32_t kMclCurrent = 1;
inline constexpr uint32_t kMclFuture = 2;

// A resource limit value meaning "no limit" (RLIM_INFINITY).
inline constexpr uint64_t kUnlimited = ~0ull;

// madvise(2) advice, with Linux's values (as memserver.v1.Advice).
enum class Advice : int {
  kNormal = 0,
  kRandom = 1,
  kSequential = 2,
  kWillNeed = 3,
  kDontNeed = 4,
  kFree = 8,
  kDontFork = 10,
  kDoFork = 11,
  kWipeOnFork = 18,
  kKeepOnFork = 19,
};

// What a faulting access would have raised in a real process (values of
// memserver.v1.FaultKind).
enum class FaultKind : int {
  kNone = 0,
  kMapError = 1,     // SIGSEGV, SEGV_MAPERR: no mapping at the address
  kAccessError = 2,  // SIGSEGV, SEGV_ACCERR: the mapping's protection forbids the access
  kBusError = 3,     // SIGBUS, BUS_ADRERR: file mapping past the end of its file
};

// "SEGV_MAPERR", "SEGV_ACCERR", "BUS_ADRERR", or "NONE".
const char* FaultKindName(FaultKind kind);

// Memory use as Linux's smaps reports it, in bytes. A resident page counts
// in rss; its pss share is the page size divided by the number of mappings
// that map it; uss counts it only when this mapping is its sole mapper.
// shared_* and private_* split rss by that same test and by whether the
// frame differs from its stored copy (dirty). swap counts anonymous pages
// whose content is only in swap; locked the resident pages of mlocked
// mappings.
struct MemoryUsage {
  uint64_t rss = 0;
  uint64_t pss = 0;
  uint64_t uss = 0;
  uint64_t shared_clean = 0;
  uint64_t shared_dirty = 0;
  uint64_t private_clean = 0;
  uint64_t private_dirty = 0;
  uint64_t swap = 0;
  uint64_t locked = 0;

  // Adds every field of `other` (totals over mappings, as smaps_rollup).
  MemoryUsage& operator+=(const MemoryUsage& o) {
    rss += o.rss;
    pss += o.pss;
    uss += o.uss;
    shared_clean += o.shared_clean;
    shared_dirty += o.shared_dirty;
    private_clean += o.private_clean;
    private_dirty += o.private_dirty;
    swap += o.swap;
    locked += o.locked;
    return *this;
  }
};

// Resource limits in bytes, modelled on setrlimit(2); kUnlimited is no
// limit. In an answer (GetLimits, ProcessStats) every field the server sent
// is set; in SetLimits only the fields set change, the others keep their
// value on the server.
struct Limits {
  std::optional<uint64_t> as;       // RLIMIT_AS: total mapped bytes
  std::optional<uint64_t> data;     // RLIMIT_DATA: private writable mappings + heap
  std::optional<uint64_t> stack;    // RLIMIT_STACK: how far the stack may grow
  std::optional<uint64_t> memlock;  // RLIMIT_MEMLOCK: mlocked bytes
};

// One live process, as ps shows it. Sizes in pages are in the server's page
// size (GlobalStats::page_size).
struct ProcessStats {
  uint64_t pid = 0;
  std::string name;
  std::string owner;          // the tenant that owns it ("" without tenants)
  uint64_t virtual_bytes = 0;  // total length of its mappings
  uint64_t mappings = 0;
  uint64_t resident_pages = 0;
  uint64_t swapped_pages = 0;
  uint64_t minor_faults = 0;
  uint64_t major_faults = 0;
  uint64_t brk = 0;           // current program break
  uint64_t locked_bytes = 0;  // bytes of mlocked mappings
  MemoryUsage usage;          // totals over its mappings
  Limits limits;
};

// The whole server.
struct GlobalStats {
  uint32_t page_size = 0;
  uint64_t frames_total = 0;
  uint64_t frames_free = 0;
  uint64_t processes = 0;
  uint64_t pages = 0;
  uint64_t zero_pages = 0;
  uint64_t swap_pages = 0;
  uint64_t minor_faults = 0;
  uint64_t major_faults = 0;
  uint64_t page_ins = 0;
  uint64_t page_outs = 0;
  uint64_t evictions = 0;
  uint64_t clean_evictions = 0;
  uint64_t zero_evictions = 0;
  std::string policy;
  uint64_t locked_pages = 0;  // pages pinned by mlock
  uint64_t files = 0;         // files in the file store
  uint64_t snapshot_generation = 0;  // the committed snapshot (0: none yet)
  int64_t snapshot_unix_ms = 0;      // its instant
  double snapshot_last_ms = 0;       // how long the last snapshot took
  uint64_t snapshot_last_pages = 0;  // pages it wrote
  bool snapshot_last_failed = false; // the last attempt failed; the previous one stands
  uint64_t direct_reads = 0;         // pages read from the store with no frame to hold them
  // Per tenant (a server with tenants): the caller's own; an admin's,
  // every tenant's. With tenants, `processes` and `files` count the
  // caller's. Quotas of kNoQuota are none.
  struct Tenant {
    std::string name;
    bool admin = false;
    uint64_t processes = 0, max_processes = 0;
    uint64_t file_bytes = 0, max_files = 0;  // bytes
    uint64_t files = 0, max_file_count = 0;
    uint64_t locked_bytes = 0, max_locked = 0;
    uint64_t streams = 0, max_streams = 0;
    uint64_t calls = 0, max_calls = 0;
    uint64_t resident_bytes = 0, max_resident = 0;  // frames its faults hold
    uint64_t swap_bytes = 0, max_swap = 0;          // its pages in swap
  };
  std::vector<Tenant> tenants;
};

// What a Snapshot call did (see Client::Snapshot).
struct SnapshotInfo {
  uint64_t generation = 0;
  int64_t taken_unix_ms = 0;
  bool skipped = false;  // nothing had changed
  uint64_t processes = 0;
  uint64_t pages_written = 0;
  uint64_t records_written = 0;
  uint64_t record_bytes = 0;
  double capture_ms = 0;
  double total_ms = 0;
};

// What the server's last start found of the run before it.
struct RecoveryReport {
  struct Restored {
    uint64_t pid = 0;
    std::string name;
    bool in_snapshot = false;  // false: from its msync'd ranges only
    uint64_t synced_ranges = 0;
    int64_t data_unix_ms = 0;
  };
  bool unclean = false;
  uint64_t snapshot_generation = 0;
  int64_t snapshot_unix_ms = 0;
  uint64_t journal_records = 0;
  std::vector<Restored> restored;
  std::vector<std::pair<uint64_t, std::string>> lost;  // pid, name
  std::vector<std::string> dropped;
  double restore_ms = 0;
};
inline constexpr uint64_t kNoQuota = ~0ull;

// The answer of one GetStats call: both views taken by the same RPC.
struct Stats {
  ProcessStats process;
  GlobalStats global;
};

// One mapping [start, end) of a process, as pmap shows it.
struct Mapping {
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  uint32_t prot = 0;   // OR of kProt*
  uint32_t flags = 0;  // OR of kMap*
  uint64_t resident_pages = 0;
  uint64_t swapped_pages = 0;
  // File path, "[heap]", "[stack]", "[shmem]", or "" (anonymous).
  std::string backing;
  uint64_t offset = 0;  // byte offset in the file of `start`
  bool locked = false;  // mlocked
  MemoryUsage usage;
};

// What Mmap maps: anonymous memory (kMapAnonymous in flags, path empty), or
// the file `path` of the server's file store from byte `offset`
// (page-aligned) when kMapAnonymous is not set.
struct MmapArgs {
  uint64_t addr = 0;    // hint (0: none), or the exact address with kMapFixed*
  uint64_t length = 0;  // bytes; rounded up to whole pages
  uint32_t prot = kProtRead | kProtWrite;
  uint32_t flags = kMapPrivate | kMapAnonymous;
  std::string path;
  uint64_t offset = 0;
};

// Where Exec put the program.
struct ExecImage {
  uint64_t entry = 0;         // entry point, load bias applied
  uint64_t load_base = 0;     // lowest segment address
  uint64_t brk_start = 0;     // the heap (and the break) starts here
  uint64_t stack_top = 0;     // end of the initial stack mapping
  uint64_t stack_bottom = 0;  // lowest address of the initial stack mapping
  uint32_t segments = 0;      // PT_LOAD segments mapped
};

// A file of the server's file store.
struct FileInfo {
  std::string path;
  uint32_t inode = 0;
  uint64_t size = 0;          // bytes
  uint64_t cached_pages = 0;  // pages of the file in the server's page cache
  std::string owner;          // the tenant whose namespace holds it ("" without tenants)
};

}  // namespace memserver::client
