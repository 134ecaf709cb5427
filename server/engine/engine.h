// Engine: the memory server's core, with no knowledge of gRPC.
//
// Hosts many processes, each with its own sparse virtual address space, over
// one fixed pool of frames backed by a BackingStore (RocksDB in production).
// The gRPC service (server/service/) is a thin adapter over this class; tests
// and benchmarks call it directly.
//
// Every method is thread-safe and may be called concurrently for the same or
// different processes. Errors come back as Status with gRPC's codes, the
// Linux errno name, and for faulting accesses the fault kind and address:
//   InvalidArgument    malformed request (unaligned, zero/overflowing length,
//                      unknown prot/flag bits)                       EINVAL
//   NotFound           unknown or exited pid                          ESRCH
//   ResourceExhausted  no room in the address space, too many
//                      mappings/processes, request over max_io_bytes,
//                      no frame could be reclaimed                    ENOMEM/E2BIG
//   AlreadyExists      MAP_FIXED_NOREPLACE over an existing mapping   EEXIST
//   FailedPrecondition + fault kind/address: SIGSEGV/SIGBUS on access;
//                      mprotect over unmapped pages                   ENOMEM
//   Unavailable        the backing store failed                        EIO
//
// Durability: Open restores the latest snapshot and the msync journal after
// it (server/engine/snapshotter.h states exactly what a crash keeps);
// snapshots are taken every options().snapshot_interval_ms and by
// Checkpoint() at a graceful stop. Pids and page ids are never reused on one
// store.
//
// Lifetime: the Engine owns the backing store, the frame pool and every
// process. Destroying it without Checkpoint() keeps only what the last
// snapshot and the journal hold.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <thread>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/common/call_control.h"
#include "server/common/sharded_shared_mutex.h"
#include "server/common/status.h"
#include "server/engine/options.h"
#include "server/engine/snapshotter.h"
#include "server/engine/tenant_ledger.h"
#include "server/engine/types.h"
#include "storage/backing_store.h"

namespace memserver {

class FileStore;
class Journal;
class MemoryObject;
struct Page;
class Pager;
class Process;

class Engine {
 public:
  // Validates `options` (InvalidArgument naming the bad field) and builds an
  // engine over `store`, which it takes ownership of.
  static Status Open(const EngineOptions& options, std::unique_ptr<storage::BackingStore> store,
                     std::unique_ptr<Engine>* engine);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const EngineOptions& options() const { return options_; }

  // Creates an empty process (no mappings). `name` is informational (ps).
  // With lease_ms > 0 the process holds a lease: unless RenewLease is called
  // within lease_ms of the last renewal, the server exits it (a crashed
  // client does not leak memory forever). 0: no lease, lives until Exit.
  Status CreateProcess(const std::string& name, Pid* pid, uint64_t lease_ms = 0);
  // The same, owned by `owner` (a tenant, see tenant_ledger.h; "" is the
  // no-tenant owner of the call above) and charged to its max_processes
  // quota (RESOURCE_EXHAUSTED [EAGAIN] past it). Fork gives the child its
  // parent's owner and charges the same quota.
  Status CreateProcess(const std::string& name, Pid* pid, uint64_t lease_ms, const std::string& owner);
  // The owner of a live process. For an unknown pid, exactly the NotFound
  // every call on it gets (NoSuchProcess), so that a caller refusing another
  // owner's pid with NoSuchProcess is indistinguishable from a missing one.
  Status ProcessOwner(Pid pid, std::string* owner) const;
  static Status NoSuchProcess(Pid pid);
  // Extends the lease by its original length from now, which it reports in
  // *lease_ms when non-null. FailedPrecondition for a process without a
  // lease.
  Status RenewLease(Pid pid, uint64_t* lease_ms = nullptr);
  // fork(2): a new process whose address space is a copy-on-write copy of
  // `parent`'s. No page content is copied; shared mappings stay shared.
  // A leased parent's child inherits the lease: the same length, starting at
  // the fork, renewed on its own (RenewLease on the child renews the child
  // only, on the parent the parent only), so a client that forks and dies
  // leaks neither.
  Status Fork(Pid parent, Pid* child);
  // execve(2)'s memory half: replaces the process's memory with the ELF64
  // executable at `path` in the file store (text shared through the page
  // cache, data copy-on-write, bss zero, heap after it, stack at the top).
  // A bad image is InvalidArgument (ENOEXEC) and leaves the process as it was.
  Status Exec(Pid pid, const std::string& path, ExecImage* image);
  // Tears the process down: every mapping is unmapped, its frames freed and
  // every swap entry it alone held deleted. Calls in flight on the process
  // finish first; later ones get NotFound.
  Status Exit(Pid pid);

  // MAP_POPULATE prefaults at most the frame pool's worth of pages, in steps
  // that drop the process's lock and stop at `control`'s deadline or
  // cancellation (best effort, as Linux: the mapping is made either way).
  Status Mmap(Pid pid, const MmapArgs& args, uint64_t* addr, const CallControl& control = CallControl::None());
  Status Munmap(Pid pid, uint64_t addr, uint64_t length);
  Status Mprotect(Pid pid, uint64_t addr, uint64_t length, uint32_t prot);
  Status Mremap(Pid pid, uint64_t old_addr, uint64_t old_size, uint64_t new_size, uint32_t flags,
                uint64_t new_addr, uint64_t* result);
  Status Brk(Pid pid, uint64_t addr, uint64_t* result);
  Status Sbrk(Pid pid, int64_t increment, uint64_t* previous);
  Status Mlock(Pid pid, uint64_t addr, uint64_t length);
  Status Munlock(Pid pid, uint64_t addr, uint64_t length);
  Status Mlockall(Pid pid, uint32_t flags);
  Status Munlockall(Pid pid);
  // MADV_WILLNEED queues at most the frame pool's worth of pages for
  // read-ahead, bounded and stopped like MAP_POPULATE.
  Status Madvise(Pid pid, uint64_t addr, uint64_t length, int advice,
                 const CallControl& control = CallControl::None());
  Status Msync(Pid pid, uint64_t addr, uint64_t length, uint32_t flags);
  Status GetLimits(Pid pid, ProcessLimits* limits);
  Status SetLimits(Pid pid, const ProcessLimits& limits);

  // The process's malloc heap (server/engine/heap_allocator.h).
  Status Malloc(Pid pid, uint64_t size, uint64_t* addr);
  Status Calloc(Pid pid, uint64_t count, uint64_t size, uint64_t* addr);
  Status Realloc(Pid pid, uint64_t addr, uint64_t size, uint64_t* new_addr);
  Status Free(Pid pid, uint64_t addr);

  // The file store (server/fs/file_store.h). Each call works in the
  // namespace of `owner`: another owner's files are absent to it. Mmap and
  // Exec resolve their path in the namespace of the process's owner.
  Status CreateFile(const std::string& owner, const std::string& path, bool truncate, FileInfo* info);
  Status WriteFile(const std::string& owner, const std::string& path, uint64_t offset, std::string_view data,
                   FileInfo* info);
  Status ReadFile(const std::string& owner, const std::string& path, uint64_t offset, uint64_t length,
                  std::string* data);
  Status StatFile(const std::string& owner, const std::string& path, FileInfo* info);
  Status TruncateFile(const std::string& owner, const std::string& path, uint64_t size);
  Status DeleteFile(const std::string& owner, const std::string& path);
  // `owner`'s files under `prefix`; with all_owners, every owner's.
  std::vector<FileInfo> ListFiles(const std::string& owner, const std::string& prefix, bool all_owners);
  // The same calls in the namespace of owner "" (no tenants).
  Status CreateFile(const std::string& path, bool truncate, FileInfo* info) {
    return CreateFile(std::string(), path, truncate, info);
  }
  Status WriteFile(const std::string& path, uint64_t offset, std::string_view data, FileInfo* info) {
    return WriteFile(std::string(), path, offset, data, info);
  }
  Status ReadFile(const std::string& path, uint64_t offset, uint64_t length, std::string* data) {
    return ReadFile(std::string(), path, offset, length, data);
  }
  Status StatFile(const std::string& path, FileInfo* info) { return StatFile(std::string(), path, info); }
  Status TruncateFile(const std::string& path, uint64_t size) { return TruncateFile(std::string(), path, size); }
  Status DeleteFile(const std::string& path) { return DeleteFile(std::string(), path); }
  std::vector<FileInfo> ListFiles(const std::string& prefix) { return ListFiles(std::string(), prefix, false); }

  // Tenants' quotas (tenant_ledger.h): replaces every owner's at once; an
  // owner not named is unlimited. Applies to later charges.
  void SetTenantQuotas(const std::map<std::string, TenantQuota>& quotas);
  // Every owner that has used something, with its usage and quotas.
  std::vector<TenantUsage> TenantUsages() const;

  // Copies `length` bytes at `addr` into out[0, length). The whole range is
  // validated first: on a fault nothing is copied.
  Status Read(Pid pid, uint64_t addr, uint64_t length, char* out);
  // Writes `data` at `addr`. The whole range is validated first: on a fault
  // no byte changes. Not atomic across pages with respect to other writers.
  Status Write(Pid pid, uint64_t addr, std::string_view data);

  // Stats include smaps-style usage (RSS, PSS, USS, ...): this walks every
  // process's resolved pages to count mappers, so it costs O(mapped pages).
  Status GetProcessStats(Pid pid, ProcessStats* stats);
  // The mappings of a process, as pmap/smaps show them.
  Status ListMappings(Pid pid, std::vector<MappingInfo>* mappings);
  std::vector<ProcessStats> ListProcesses();
  GlobalStats GetGlobalStats() const;

  // Recounts frames, page references and swap entries and compares them with
  // the cached counters; Internal error describing the first mismatch. Slow:
  // for tests. Must not race with other calls.
  Status CheckInvariants();

  // What Open found of an earlier run on the same store.
  struct RestoredProcess {
    Pid pid = 0;
    std::string name;
    bool in_snapshot = false;   // from the snapshot (else from msync records only)
    uint64_t synced_ranges = 0; // msync records replayed over it
    int64_t data_unix_ms = 0;   // its newest data: the snapshot's instant or its last msync
  };
  struct Recovery {
    bool restored = false;   // a snapshot (or a checkpoint of the old format) was loaded
    uint64_t processes = 0;  // processes restored
    bool unclean = false;    // the earlier run stopped without a final snapshot (crash)
    uint64_t snapshot_generation = 0;
    int64_t snapshot_unix_ms = 0;     // the restored snapshot's instant; 0: none
    uint64_t journal_records = 0;     // msync/exit records replayed
    std::vector<RestoredProcess> restored_processes;
    std::vector<std::pair<Pid, std::string>> lost;  // its processes, not restorable
    std::vector<std::string> dropped;  // what could not come back (a deleted file's mapping, ...)
    double restore_ms = 0;
  };
  const Recovery& recovery() const { return recovery_; }

  // A process a crash lost, as NOT_FOUND calls report it (Status::ProcessLost).
  struct LostProcess {
    std::string name;
    int64_t crashed_unix_ms = 0;
    std::string owner;
  };
  bool FindLost(Pid pid, LostProcess* lost) const;

  // Takes a snapshot now (the periodic one does the same). On failure the
  // previous snapshot stays current and *stats says why.
  Status Snapshot(SnapshotStats* stats = nullptr);
  SnapshotStats last_snapshot() const;
  // Tests: see Snapshotter::SetAfterCaptureHookForTesting.
  void SetSnapshotHookForTesting(std::function<void()> hook) {
    snapshotter_->SetAfterCaptureHookForTesting(std::move(hook));
  }

  // Graceful shutdown, first half: a final snapshot of everything (also
  // clearing the store's "running" marker), so that Open on the same store
  // serves the same processes (pages come back lazily, on fault). REQUIRES:
  // no call in flight and none after it; the engine is only destroyed
  // afterwards. A failure keeps the previous snapshot.
  Status Checkpoint();

  // The store the engine pages to (borrowed; lives as long as the engine).
  storage::BackingStore* store() const { return store_.get(); }

 private:
  Engine(const EngineOptions& options, std::unique_ptr<storage::BackingStore> store);
  Status Lookup(Pid pid, std::shared_ptr<Process>* process) const;
  std::vector<std::shared_ptr<Process>> ProcessList() const;
  // How many mappings in the whole server resolve to each cached page.
  std::unordered_map<const Page*, uint32_t> CountMappers();
  Status AddProcess(Pid parent, const std::string& name, const std::string& owner,
                    std::shared_ptr<Process>* process);
  // A process object owned by `owner`, its locked memory charged to the
  // owner's account (not yet in the table, its process count not charged).
  // Restore builds restored processes with it too.
  std::shared_ptr<Process> NewProcess(Pid pid, Pid parent, const std::string& name, const std::string& owner);
  // After Restore: charges every restored process to its owner's account.
  void ChargeRestoredProcesses();
  void MarkProcessesChanged() { processes_changed_.store(true, std::memory_order_relaxed); }
  // recovery.cc
  struct RestoreState;
  Status Restore();
  Status RestoreSnapshot(RestoreState* state, records::SnapshotMeta* meta);
  Status ReplayJournal(RestoreState* state, uint64_t after);
  Status ReportLostProcesses();
  Status ReserveIds(const records::SnapshotMeta& meta, uint64_t max_page_id, uint64_t* page_floor);
  void SweepSwap(const std::unordered_set<uint64_t>& named, uint64_t from, uint64_t to);
  // legacy_checkpoint.cc: the checkpoint format of earlier versions.
  Status RestoreLegacyCheckpoint(RestoreState* state, bool* found);
  Pid NewPid(Status* s);
  // leases.cc
  void ReapExpiredLeases();
  void LeaseLoop();
  void SnapshotLoop();

  const EngineOptions options_;
  // Before everything that charges it: destroyed last.
  mutable TenantLedger ledger_;
  std::unique_ptr<storage::BackingStore> store_;
  std::unique_ptr<Pager> pager_;
  std::unique_ptr<FileStore> files_;  // after pager_: its objects hold pages
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<Snapshotter> snapshotter_;

  // Lock order: processes_mu_ is a leaf taken only to look up, insert or
  // erase a process; it is never held while calling into a Process.
  // Sharded: every call reads it, and a plain shared_mutex's reader count
  // was the one word all of them wrote (hits did not scale across cores).
  mutable ShardedSharedMutex processes_mu_;
  std::unordered_map<Pid, std::shared_ptr<Process>> processes_;  // GUARDED_BY(processes_mu_)
  // Pids below pid_mark_ are durably reserved (records::kPidMark). pid_mu_
  // is a leaf, held across the rare reservation write.
  std::mutex pid_mu_;
  Pid next_pid_ = 1;  // GUARDED_BY(pid_mu_)
  Pid pid_mark_ = 0;  // GUARDED_BY(pid_mu_)
  std::atomic<bool> processes_changed_{true};  // since the last snapshot
  Recovery recovery_;
  mutable std::mutex lost_mu_;
  std::map<Pid, LostProcess> lost_;  // GUARDED_BY(lost_mu_); the newest kMaxLost
  std::thread sweep_thread_;         // deletes a crashed run's leftover swap keys
  std::atomic<bool> sweep_stop_{false};

  // Lease reaper: a thread that wakes at the earliest lease deadline.
  std::mutex lease_mu_;
  std::condition_variable lease_cv_;
  bool stopping_ = false;  // GUARDED_BY(lease_mu_)
  std::thread lease_thread_;
  std::thread snapshot_thread_;
  std::condition_variable snapshot_cv_;  // with lease_mu_: shutdown
};

}  // namespace memserver
