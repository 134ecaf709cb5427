// EngineOptions: everything that shapes a memory engine, with defaults.
// memserverd's flags map one-to-one onto these fields; tests build them directly.
#pragma once

#include <cstdint>
#include <string>

namespace memserver {

struct EngineOptions {
  // Bytes of RAM in the frame pool (rounded down to whole pages).
  // Default: 256 MiB.
  uint64_t memory_bytes = 256ull << 20;

  // Page size in bytes: a power of two in [4096, 1 MiB]. Default: 4096.
  uint32_t page_size = 4096;

  // Width of every process's virtual address space, in bits (2^bits bytes).
  // In [32, 56]. Default: 48, as x86-64 with 4-level paging.
  uint32_t address_bits = 48;

  // Replacement policy name (see ReplacementPolicyNames()). Default:
  // "clock", chosen by measurement: the only policy within the budget of 32
  // bytes of metadata per mapped page (29.7 B with every page resident;
  // LIRS 138, ARC 81, SIEVE 38: tests/bench/page_metadata_bench), and as fast
  // as any other with the same hit ratio in the server under 16 clients.
  // "lirs" is the choice for scan-heavy access (best mean hit ratio over the
  // shipped traces in memsim, the only scan-resistant one) at ~107 bytes
  // per frame.
  std::string policy = "clock";

  // Largest byte count one Read or Write may move. Default: 4 MiB.
  uint64_t max_io_bytes = 4ull << 20;

  // Most pages evicted together and written in one storage batch. Default: 32.
  uint32_t eviction_batch = 32;

  // Background reclaim: when free frames drop below reclaim_low_percent of
  // the pool, a background task evicts until reclaim_high_percent are free,
  // so a fault rarely waits for an eviction. 0 disables it.
  // Default: 2 and 4 (percent of the frames).
  uint32_t reclaim_low_percent = 2;
  uint32_t reclaim_high_percent = 4;

  // Readahead: most pages a sequential run of major faults reads at once (one
  // MultiGet). The window starts at 4 and doubles while faults stay
  // sequential; MADV_RANDOM turns it off, MADV_SEQUENTIAL starts at the
  // maximum. 0 disables it; at most kMaxReadaheadPages (the pages are read
  // in one MultiGet and take frames from the pool at once). Default: 32
  // (128 KiB with 4 KiB pages).
  static constexpr uint32_t kMaxReadaheadPages = 1024;
  uint32_t readahead_max_pages = 32;

  // Most live processes. Default: 65536.
  uint32_t max_processes = 65536;

  // Most files in the file store, all owners together (each costs ~10 KiB
  // of server memory beyond its cached pages; README "Security model").
  // Past it CreateFile is RESOURCE_EXHAUSTED [ENOSPC]. Default: 1048576.
  uint64_t max_files = 1ull << 20;

  // Most mappings per process, as Linux's vm.max_map_count. Default: 65530.
  uint32_t max_mappings = 65530;

  // Lowest address a mapping may use, as Linux's vm.mmap_min_addr.
  // Default: 64 KiB.
  uint64_t mmap_min_addr = 64ull << 10;

  // Share of the frame pool that mlock may pin, all processes together, in
  // percent. Past it mlock fails with RESOURCE_EXHAUSTED (EAGAIN) instead of
  // starving every other process of frames. Default: 50.
  uint32_t max_locked_percent = 50;

  // Limits given to every new process (setrlimit can change them later).
  // Default: RLIMIT_AS/DATA unlimited, RLIMIT_STACK 8 MiB, RLIMIT_MEMLOCK 8 MiB.
  uint64_t default_rlimit_as = ~0ull;
  uint64_t default_rlimit_data = ~0ull;
  uint64_t default_rlimit_stack = 8ull << 20;
  uint64_t default_rlimit_memlock = 8ull << 20;

  // Largest file exec will load. Default: 256 MiB.
  uint64_t max_exec_bytes = 256ull << 20;

  // Snapshots (server/engine/snapshotter.h): every snapshot_interval_ms the
  // engine takes a consistent, incremental snapshot of every process in the
  // background; a crash keeps what the latest one holds (plus every range
  // msync(MS_SYNC)'d after it). 0 turns periodic snapshots off (a graceful
  // stop still takes one, and msync still works). An interval with nothing
  // changed costs a lock round and no I/O. Default: 60 s, as Redis's most
  // frequent default `save 60 10000` rule: a crash costs at most a minute of
  // memory that was not msync'd, and on this project's 2-core machine a
  // snapshot writes only what changed (see README's numbers).
  uint64_t snapshot_interval_ms = 60'000;

  // Charges every frame and swap entry to the tenant whose process faulted
  // it in (server/engine/tenant_ledger.h), which the tenants' max_resident
  // and max_swap quotas need. Costs 2 bytes a frame (a frame's owner slot),
  // so it is off unless tenants are configured: memserverd sets it with
  // --tenants. Default: false.
  bool account_tenant_memory = false;
};

}  // namespace memserver
