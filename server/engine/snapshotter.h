// Snapshotter: consistent, incremental, atomic snapshots of every process.
//
// What a crash keeps. After a crash (or any stop), the next Engine::Open
// restores the latest committed snapshot, then replays the journal of
// msync(MS_SYNC)'d ranges and exits recorded after it (journal.h): every
// byte of anonymous and private memory acknowledged before the latest
// completed snapshot or MS_SYNC msync of its range is there. Files are
// written back in place (the file store's own durability, fs/file_store.h);
// a snapshot writes back every dirty page of shared file mappings too.
//
//   Consistent: one instant for all processes. Take() holds, in pid order,
//     every process's heap lock and exclusive mm lock, and the pager's
//     eviction lock, while it records mappings and page ids (no content is
//     copied then). Each page's content at that instant is what is saved:
//     pages whose content is only in their frame become pending, and the
//     first writer copies them into the store before it changes them (a
//     memtable insert, no wait for the snapshot; pager_durability.cc).
//   Incremental: a page whose content did not change since an earlier
//     snapshot keeps its frozen key and is not written again; a process
//     whose address space did not change keeps its records as they are; the
//     other records (a process, a chunk of kChunkPages page-table entries, a
//     shared memory object) are written only when their bytes differ.
//   Atomic: page contents go to swap first (without the WAL), then one
//     memtable flush makes them durable, then a single synchronous write
//     batch puts the changed records and the new snapshot/meta, deletes the
//     records gone, the journal records the snapshot includes and the page
//     keys only older snapshots named. A crash anywhere before that batch
//     leaves the previous snapshot whole: its keys are frozen, never
//     overwritten nor deleted until the batch that replaces it.
//
// Thread-safety: Take() may be called from any thread; one runs at a time.
// Lock order: Snapshotter::mu_ -> HeapAllocator mutexes -> AddressSpace mm
// locks (pid order) -> Pager::evict_mu_ -> MemoryObject::mu() -> stripes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/common/status.h"
#include "server/engine/snapshot_records.h"
#include "storage/backing_store.h"

namespace memserver {

class FileStore;
class Pager;
class Process;

// What one Take() did (also kept as the last snapshot's figures).
struct SnapshotStats {
  bool skipped = false;          // nothing changed since the last snapshot
  bool ok = false;
  std::string error;             // why it failed (the previous snapshot stays)
  uint64_t generation = 0;       // of the committed snapshot after the call
  int64_t taken_unix_ms = 0;     // its instant
  uint64_t processes = 0;        // processes it holds
  uint64_t pages_written = 0;    // page contents written for it
  uint64_t records_written = 0;  // records put (changed)
  uint64_t record_bytes = 0;     // bytes of those records
  uint64_t keys_deleted = 0;     // records, journal entries and page keys deleted
  double capture_ms = 0;         // the instant: every mm lock held
  double total_ms = 0;
};

class Snapshotter {
 public:
  using Hash = std::pair<uint64_t, uint64_t>;

  // All borrowed; they outlive the snapshotter.
  Snapshotter(storage::BackingStore* store, Pager* pager, FileStore* files);
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  // Recovery: the committed snapshot's records as read from the store, so
  // that the next Take rewrites only what changed.
  // `shm` names the shared memory objects each process maps.
  void SetCommitted(const records::SnapshotMeta& meta, std::map<std::string, Hash> records,
                    std::map<uint64_t, std::vector<uint64_t>> shm);
  static Hash HashOf(std::string_view value);

  struct Instant {
    std::vector<std::shared_ptr<Process>> processes;  // every live process
    bool processes_changed = true;  // a process was created or exited since the last snapshot
    uint64_t next_pid = 0;
    // Read at the instant: journal records up to it are in the snapshot.
    std::function<uint64_t()> journal_seq;
    // A graceful stop: also clears the store's "running" marker, and never
    // skips.
    bool final = false;
  };
  // Takes a snapshot. On failure the previous snapshot stays the current
  // one (and *stats says why); nothing is lost but this snapshot.
  Status Take(const Instant& instant, SnapshotStats* stats);

  uint64_t generation() const;
  SnapshotStats last() const;

  // Tests: runs between the instant and the first write of the snapshot's
  // pages (with every lock of the instant released), to act on the memory
  // while a snapshot is in progress.
  void SetAfterCaptureHookForTesting(std::function<void()> hook) { after_capture_ = std::move(hook); }

 private:
  struct Capture;
  Status Commit(const Capture& capture, SnapshotStats* stats);

  storage::BackingStore* const store_;
  Pager* const pager_;
  FileStore* const files_;

  mutable std::mutex mu_;                 // one snapshot at a time; guards below
  records::SnapshotMeta meta_;            // of the committed snapshot
  std::map<std::string, Hash> committed_; // its records (key -> hash of value)
  // Shared memory objects each committed process maps (its records are
  // kept as they are while it does not change).
  std::map<uint64_t, std::vector<uint64_t>> committed_shm_;
  SnapshotStats last_;
  std::function<void()> after_capture_;
};

}  // namespace memserver
