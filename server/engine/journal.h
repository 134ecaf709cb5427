// Journal: what happened since the last snapshot that must survive a crash:
// the ranges msync(MS_SYNC) made durable, and exits. Records live in
// Space::kMeta under jr/<be64 seq> (snapshot_records.h), in the order they
// were made; the snapshot that includes them deletes them in its commit.
//
// An msync record is written in the same synchronous batch as the page
// contents it names (AddressSpace::Msync), so it is durable exactly when
// msync returns. An exit record is written with the WAL but not synced: a
// process that exited just before a crash may come back (as it was in the
// snapshot or its msync'd ranges).
//
// Thread-safety: all methods are thread-safe; sequence numbers are handed
// out in increasing order.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "server/engine/snapshot_records.h"
#include "server/vm/address_space.h"
#include "storage/backing_store.h"

namespace memserver {

class Journal {
 public:
  explicit Journal(storage::BackingStore* store) : store_(store) {}

  // Records up to `seq` exist already (recovery).
  void SetLastSeq(uint64_t seq) { last_seq_.store(seq); }
  uint64_t last_seq() const { return last_seq_.load(); }

  // The record of one msync'd piece of process `pid`, added to batch->wb.
  void AddSync(const records::JournalRecord& identity, const AddressSpace::SyncedPiece& piece,
               Pager::SyncBatch* batch);
  // An exit of a process a snapshot or record may hold; also forgets the
  // process's crash-report entry (live/<pid>).
  Status RecordExit(Pid pid);

  // Every record after `after`, in order.
  Status Load(uint64_t after, std::vector<std::pair<uint64_t, records::JournalRecord>>* out);

 private:
  storage::BackingStore* const store_;
  std::atomic<uint64_t> last_seq_{0};
};

}  // namespace memserver
