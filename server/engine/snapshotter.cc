#include "server/engine/snapshotter.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <shared_mutex>

#include "server/engine/process.h"
#include "server/fs/file_store.h"
#include "server/vm/memory_object.h"
#include "server/vm/pager.h"
#include "server/vm/store_keys.h"

namespace memserver {

namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Records of one page table (or object), a record per chunk of kChunkPages.
void AddChunks(std::string_view prefix, uint64_t owner, const std::vector<PageRef>& pages,
               std::map<std::string, std::string>* out) {
  for (size_t at = 0; at < pages.size();) {
    const uint64_t chunk = pages[at].key >> kChunkShift;
    size_t end = at;
    while (end < pages.size() && (pages[end].key >> kChunkShift) == chunk) ++end;
    std::string value;
    EncodePages(pages.data() + at, pages.data() + end, chunk << kChunkShift, &value);
    (*out)[records::Key(prefix, owner, chunk)] = std::move(value);
    at = end;
  }
}

// Every committed key starting with prefix.
void KeepPrefix(const std::map<std::string, Snapshotter::Hash>& committed, const std::string& prefix,
                std::set<std::string>* keep) {
  for (auto it = committed.lower_bound(prefix); it != committed.end() && it->first.starts_with(prefix); ++it) {
    keep->insert(it->first);
  }
}

std::string OwnerPrefix(std::string_view prefix, uint64_t owner) { return records::Key(prefix, owner); }

}  // namespace

struct Snapshotter::Capture {
  records::SnapshotMeta meta;
  std::map<std::string, std::string> records;  // rewritten: key -> value
  std::set<std::string> keep;                  // committed keys kept as they are
  std::map<uint64_t, std::vector<uint64_t>> shm;
  std::vector<std::pair<Page*, uint64_t>> held;
  std::vector<uint64_t> doomed;                // keys only older snapshots name
  std::vector<std::shared_ptr<Process>> changed;
  std::vector<std::shared_ptr<MemoryObject>> objects;
  uint64_t pages = 0;  // page-table entries recorded
  bool final = false;
};

Snapshotter::Snapshotter(storage::BackingStore* store, Pager* pager, FileStore* files)
    : store_(store), pager_(pager), files_(files) {}

Snapshotter::Hash Snapshotter::HashOf(std::string_view value) {
  // Two independent 64-bit hashes: a record is rewritten unless both match.
  uint64_t fnv = 1469598103934665603ull;
  for (unsigned char c : value) fnv = (fnv ^ c) * 1099511628211ull;
  return Hash{std::hash<std::string_view>{}(value), fnv};
}

void Snapshotter::SetCommitted(const records::SnapshotMeta& meta, std::map<std::string, Hash> records,
                               std::map<uint64_t, std::vector<uint64_t>> shm) {
  std::lock_guard<std::mutex> l(mu_);
  meta_ = meta;
  committed_ = std::move(records);
  committed_shm_ = std::move(shm);
  last_.generation = meta.generation;
  last_.taken_unix_ms = meta.taken_unix_ms;
  last_.processes = meta.processes;
  last_.ok = meta.generation > 0;
}

uint64_t Snapshotter::generation() const {
  std::lock_guard<std::mutex> l(mu_);
  return meta_.generation;
}

SnapshotStats Snapshotter::last() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_;
}

Status Snapshotter::Take(const Instant& instant, SnapshotStats* stats) {
  std::lock_guard<std::mutex> l(mu_);
  const auto start = Clock::now();
  *stats = SnapshotStats();
  std::vector<std::shared_ptr<Process>> procs = instant.processes;
  std::sort(procs.begin(), procs.end(), [](const auto& a, const auto& b) { return a->pid() < b->pid(); });

  Capture cap;
  cap.final = instant.final;
  {
    // --- The instant: every heap and mm lock, in pid order; no eviction. ---
    std::vector<std::unique_lock<std::mutex>> heap_locks;
    std::vector<std::unique_lock<std::shared_mutex>> mm_locks;
    heap_locks.reserve(procs.size());
    mm_locks.reserve(procs.size());
    for (const auto& p : procs) {
      heap_locks.push_back(p->heap().LockForCapture());
      mm_locks.push_back(p->mm().LockForCapture());
    }
    bool any = instant.final || instant.processes_changed || meta_.generation == 0;
    for (const auto& p : procs) any = any || p->mm().changed();
    if (!any) {
      stats->skipped = true;
      stats->ok = true;
      stats->generation = meta_.generation;
      stats->taken_unix_ms = meta_.taken_unix_ms;
      stats->processes = meta_.processes;
      return Status::OK();
    }
    pager_->BeginCapture();
    cap.meta.generation = meta_.generation + 1;
    cap.meta.taken_unix_ms = UnixMs();
    cap.meta.page_id_floor = pager_->next_page_id();
    cap.meta.journal_seq = instant.journal_seq();
    cap.meta.next_pid = instant.next_pid;
    cap.doomed = pager_->TakeRetired();
    std::map<uint64_t, std::shared_ptr<MemoryObject>> shmem;
    auto note_shmem = [&](const std::shared_ptr<MemoryObject>& o) { shmem.emplace(o->id(), o); };
    for (const auto& p : procs) {
      const bool unchanged = !p->mm().changed() && committed_.count(records::Key(records::kProcPrefix, p->pid()));
      records::ProcessRecord rec;
      std::vector<PageRef> pages;
      if (unchanged) {
        // Its records stand. The mappings are listed (cheap: no page is
        // looked at) for the shared memory objects it maps.
        KeepPrefix(committed_, OwnerPrefix(records::kProcPrefix, p->pid()), &cap.keep);
        KeepPrefix(committed_, OwnerPrefix(records::kPagesPrefix, p->pid()), &cap.keep);
        std::vector<uint64_t>& ids = cap.shm[p->pid()];
        p->mm().ForEachShmemLocked([&](const std::shared_ptr<MemoryObject>& o) {
          note_shmem(o);
          ids.push_back(o->id());
        });
        ++cap.meta.processes;
        continue;
      }
      std::vector<uint64_t>& ids = cap.shm[p->pid()];
      if (!p->mm().CaptureLocked(&rec.mm, &pages,
                                 [&](const std::shared_ptr<MemoryObject>& o) {
                                   note_shmem(o);
                                   ids.push_back(o->id());
                                 },
                                 &cap.held)) {
        cap.shm.erase(p->pid());
        continue;  // exiting: not alive at the instant
      }
      cap.changed.push_back(p);
      rec.parent = p->parent();
      rec.name = p->name();
      rec.lease_ms = p->lease_ms();
      rec.heap = p->heap().ExportLocked();
      cap.records[records::Key(records::kProcPrefix, p->pid())] = records::EncodeProcess(rec);
      AddChunks(records::kPagesPrefix, p->pid(), pages, &cap.records);
      cap.pages += pages.size();
      ++cap.meta.processes;
    }
    for (auto& [id, object] : shmem) {
      const bool known = committed_.count(records::Key(records::kShmPrefix, id)) != 0;
      if (!object->TakeChanged() && known) {
        KeepPrefix(committed_, OwnerPrefix(records::kShmPrefix, id), &cap.keep);
        KeepPrefix(committed_, OwnerPrefix(records::kShmPagesPrefix, id), &cap.keep);
        continue;
      }
      cap.objects.push_back(object);
      std::vector<PageRef> pages;
      std::shared_lock<std::shared_mutex> ol(object->mu());
      object->ForEach(0, ~0ull, [&](uint64_t index, Page* page) {
        const FrozenPage f = pager_->CapturePage(page, &cap.held);
        pages.push_back(PageRef{index, f.id, f.zero});
      });
      std::string header;
      keys::AppendBE(&header, object->size(), 8);
      cap.records[records::Key(records::kShmPrefix, id)] = std::move(header);
      AddChunks(records::kShmPagesPrefix, id, pages, &cap.records);
      cap.pages += pages.size();
    }
    cap.meta.next_object_id = pager_->next_object_id();
    pager_->EndCapture();
  }
  stats->capture_ms = MsSince(start);
  if (after_capture_) after_capture_();

  Status s = Commit(cap, stats);
  pager_->FinishCapture(cap.held, s.ok());
  if (!s.ok()) {
    pager_->ReturnRetired(std::move(cap.doomed));
    for (const auto& p : cap.changed) p->mm().MarkLayoutChanged();  // still to be saved
    for (const auto& o : cap.objects) o->MarkChanged();
    stats->error = s.ToString();
  }
  stats->ok = s.ok();
  stats->generation = meta_.generation;
  stats->taken_unix_ms = meta_.taken_unix_ms;
  stats->processes = meta_.processes;
  stats->total_ms = MsSince(start);
  last_ = *stats;
  return s;
}

Status Snapshotter::Commit(const Capture& cap, SnapshotStats* stats) {
  // 1. Contents: every pending page into swap (no WAL), then the dirty
  //    pages of shared file mappings into their files.
  uint64_t written = 0;
  MEMSERVER_RETURN_IF_ERROR(pager_->WritePending(cap.held, &written));
  stats->pages_written = written;
  MEMSERVER_RETURN_IF_ERROR(files_->SyncAll());
  // 2. Durable: swap written without the WAL reaches SST files.
  MEMSERVER_RETURN_IF_ERROR(store_->FlushSpace(storage::Space::kSwap));
  if (pager_->capture_failed()) {
    return Status(StatusCode::kAborted, "a page of the snapshot could not be saved (see the store's errors)", nullptr);
  }
  // 3. One synchronous batch makes it the current snapshot.
  storage::WriteBatch wb;
  const std::string meta = records::EncodeMeta(cap.meta);
  uint64_t deleted = 0;
  for (const auto& [key, value] : cap.records) {
    auto it = committed_.find(key);
    if (it != committed_.end() && it->second == HashOf(value)) continue;
    wb.Put(storage::Space::kMeta, key, value);
    ++stats->records_written;
    stats->record_bytes += value.size();
  }
  for (const auto& [key, hash] : committed_) {
    if (!cap.records.count(key) && !cap.keep.count(key)) {
      wb.Delete(storage::Space::kMeta, key);
      ++deleted;
    }
  }
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, records::kJournalPrefix,
                                         [&](std::string_view key, std::string_view) {
                                           uint64_t seq;
                                           if (records::ParseKey(key, records::kJournalPrefix, &seq) &&
                                               seq > cap.meta.journal_seq) {
                                             return false;  // newer than the snapshot: kept
                                           }
                                           wb.Delete(storage::Space::kMeta, key);
                                           ++deleted;
                                           return true;
                                         }));
  for (uint64_t id : cap.doomed) wb.Delete(storage::Space::kSwap, keys::Swap(id));
  deleted += cap.doomed.size();
  wb.Put(storage::Space::kMeta, records::kSnapMeta, meta);
  if (cap.final) wb.Delete(storage::Space::kMeta, records::kActive);  // a graceful stop
  MEMSERVER_RETURN_IF_ERROR(store_->Write(wb, /*sync=*/true));

  std::map<std::string, Hash> next;
  for (const auto& [key, value] : cap.records) next.emplace(key, HashOf(value));
  for (const std::string& key : cap.keep) next.emplace(key, committed_.at(key));
  committed_ = std::move(next);
  committed_shm_ = cap.shm;
  meta_ = cap.meta;
  stats->keys_deleted = deleted;
  return Status::OK();
}

}  // namespace memserver
