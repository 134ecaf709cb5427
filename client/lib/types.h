// Plain value types of the memserver client API: protection and mapping flag
// bits, statistics and mappings. They mirror memserver.v1 messages without
// exposing generated protobuf types to client code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace memserver::client {

// Protection bits (values of PROT_* in <sys/mman.h>, as memserver.v1.Prot).
inline constexpr uint32_t kProtNone = 0;
inline constexpr uint32_t kProtRead = 1;
inline constexpr uint32_t kProtWrite = 2;
inline constexpr uint32_t kProtExec = 4;

// Mmap flag bits (values of MAP_* on x86-64 Linux, as memserver.v1.MapFlag).
// The server requires kMapAnonymous with exactly one of kMapPrivate/kMapShared.
inline constexpr uint32_t kMapShared = 0x01;
inline constexpr uint32_t kMapPrivate = 0x02;
inline constexpr uint32_t kMapFixed = 0x10;
inline constexpr uint32_t kMapAnonymous = 0x20;
inline constexpr uint32_t kMapFixedNoreplace = 0x100000;

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

// One live process, as ps shows it. Sizes in pages are in the server's page
// size (GlobalStats::page_size).
struct ProcessStats {
  uint64_t pid = 0;
  std::string name;
  uint64_t virtual_bytes = 0;  // total length of its mappings
  uint64_t mappings = 0;
  uint64_t resident_pages = 0;
  uint64_t swapped_pages = 0;
  uint64_t minor_faults = 0;
  uint64_t major_faults = 0;
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
};

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
};

}  // namespace memserver::client
