// Engine: what Open does with an earlier run's store. In order:
//   1. the latest committed snapshot (snapshotter.h) becomes the processes,
//      or, on a store of an earlier version, its checkpoint;
//   2. the journal after it is replayed: msync'd ranges replace what the
//      snapshot had there (a process the snapshot lacks comes back with its
//      msync'd ranges only), exits remove processes;
//   3. every process the earlier run hosted (live/<pid>) that did not come
//      back is reported lost, in Recovery and through Status::ProcessLost;
//   4. pid and page-id reservations move past everything the earlier run
//      may have used, so that neither is ever handed out twice;
//   5. swap keys the earlier run left and nothing names are deleted in the
//      background (ids in [the snapshot's page-id floor, the new floor)).
#include <fmt/format.h>

#include <chrono>
#include <set>
#include <unordered_set>

#include "server/engine/engine.h"
#include "server/engine/journal.h"
#include "server/engine/process.h"
#include "server/engine/restore_state.h"
#include "server/engine/snapshot_records.h"
#include "server/fs/file_store.h"
#include "server/vm/memory_object.h"
#include "server/vm/pager.h"
#include "server/vm/store_keys.h"

namespace memserver {

namespace {

constexpr uint64_t kPidBlock = 4096;
constexpr uint64_t kPageIdBlock = uint64_t{1} << 24;
// Lost processes remembered for NOT_FOUND answers (the newest pids).
constexpr size_t kMaxLost = 65536;

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status Engine::Restore() {
  const auto start = std::chrono::steady_clock::now();
  std::string active;
  Status a = store_->Get(storage::Space::kMeta, records::kActive, &active);
  if (!a.ok() && a.code() != StatusCode::kNotFound) return a;
  recovery_.unclean = a.ok();
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, records::kLostPrefix,
                                         [&](std::string_view key, std::string_view value) {
                                           uint64_t pid;
                                           records::LostRecord r;
                                           if (records::ParseKey(key, records::kLostPrefix, &pid) &&
                                               records::DecodeLost(value, &r)) {
                                             lost_[pid] = LostProcess{r.name, r.crashed_unix_ms, r.owner};
                                           }
                                           return true;
                                         }));
  RestoreState state;
  records::SnapshotMeta meta;
  MEMSERVER_RETURN_IF_ERROR(RestoreSnapshot(&state, &meta));
  bool legacy = false;
  if (meta.generation == 0) MEMSERVER_RETURN_IF_ERROR(RestoreLegacyCheckpoint(&state, &legacy));
  MEMSERVER_RETURN_IF_ERROR(ReplayJournal(&state, meta.generation > 0 ? meta.journal_seq : 0));
  MEMSERVER_RETURN_IF_ERROR(ReportLostProcesses());
  uint64_t floor = 0;
  MEMSERVER_RETURN_IF_ERROR(ReserveIds(meta, state.max_id, &floor));
  MEMSERVER_RETURN_IF_ERROR(state.ReleasePages(pager_.get()));
  {
    std::shared_lock<ShardedSharedMutex> l(processes_mu_);
    recovery_.processes = processes_.size();
  }
  recovery_.restored = meta.generation > 0 || legacy;
  // Swap keys the earlier run wrote that no restored page names.
  if (state.by_id.empty() && !legacy) {
    MEMSERVER_RETURN_IF_ERROR(store_->Clear(storage::Space::kSwap));
  } else {
    std::unordered_set<uint64_t> named;
    named.reserve(state.by_id.size());
    for (const auto& [id, page] : state.by_id) named.insert(id);
    const uint64_t from = legacy ? 0 : meta.page_id_floor;
    sweep_thread_ = std::thread([this, named = std::move(named), from, floor] { SweepSwap(named, from, floor); });
  }
  recovery_.restore_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return Status::OK();
}

Status Engine::RestoreSnapshot(RestoreState* state, records::SnapshotMeta* meta) {
  std::string value;
  Status s = store_->Get(storage::Space::kMeta, records::kSnapMeta, &value);
  if (s.code() == StatusCode::kNotFound) return Status::OK();
  MEMSERVER_RETURN_IF_ERROR(s);
  if (!records::DecodeMeta(value, meta)) {
    return Status(StatusCode::kDataLoss, "the snapshot's meta record is corrupt", "EIO");
  }
  std::map<std::string, Snapshotter::Hash> hashes;
  hashes.emplace(std::string(records::kSnapMeta), Snapshotter::HashOf(value));
  auto note = [&](std::string_view key, std::string_view v) { hashes.emplace(std::string(key), Snapshotter::HashOf(v)); };
  // Shared memory objects first: mappings name them.
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, records::kShmPrefix, [&](std::string_view key, std::string_view v) {
    uint64_t id, size;
    if (!records::ParseKey(key, records::kShmPrefix, &id) || !records::DecodeU64(v, &size)) {
      recovery_.dropped.push_back("a shared memory record is corrupt");
      return true;
    }
    note(key, v);
    state->shms[id] = std::make_shared<MemoryObject>(MemoryObject::Kind::kShmem, pager_.get(), 0, size, "", id);
    return true;
  }));
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, records::kShmPagesPrefix, [&](std::string_view key, std::string_view v) {
    uint64_t id, chunk;
    std::vector<PageRef> pages;
    auto it = state->shms.end();
    if (!records::ParseKey(key, records::kShmPagesPrefix, &id, &chunk) || (it = state->shms.find(id)) == state->shms.end() ||
        !DecodePages(&v, chunk << kChunkShift, &pages) || !v.empty()) {
      recovery_.dropped.push_back("a shared memory page record is corrupt");
      return true;
    }
    note(key, v);
    std::unique_lock<std::shared_mutex> ol(it->second->mu());
    for (const PageRef& ref : pages) {
      if (it->second->Find(ref.key) == nullptr) it->second->InstallPage(ref.key, state->PageFor(pager_.get(), ref));
    }
    return true;
  }));
  std::map<Pid, records::ProcessRecord> procs;
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, records::kProcPrefix, [&](std::string_view key, std::string_view v) {
    uint64_t pid;
    records::ProcessRecord r;
    if (!records::ParseKey(key, records::kProcPrefix, &pid) || !records::DecodeProcess(v, &r)) {
      recovery_.dropped.push_back(fmt::format("a process record is corrupt ({} bytes)", v.size()));
      return true;
    }
    note(key, v);
    procs.emplace(pid, std::move(r));
    return true;
  }));
  std::map<Pid, std::vector<PageRef>> pages;
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, records::kPagesPrefix, [&](std::string_view key, std::string_view v) {
    uint64_t pid, chunk;
    std::string_view in = v;
    if (!records::ParseKey(key, records::kPagesPrefix, &pid, &chunk) || !DecodePages(&in, chunk << kChunkShift, &pages[pid]) ||
        !in.empty()) {
      recovery_.dropped.push_back(fmt::format("a page-table record of process {} is corrupt", pid));
      return true;
    }
    note(key, v);
    return true;
  }));
  std::map<uint64_t, std::vector<uint64_t>> shm_refs;
  const int64_t now = SteadyMs();
  for (auto& [pid, r] : procs) {
    // Its owner's account is charged the locks Import takes again.
    auto p = NewProcess(pid, r.parent, r.name, r.owner);
    Status st = p->mm().Import(
        r.mm, pages[pid], [&](const PageRef& ref) { return state->PageFor(pager_.get(), ref, p->mm().charge_slot()); },
        [&](const VmaRecord& v) { return state->ObjectFor(files_.get(), v); }, &recovery_.dropped);
    if (st.ok() && !p->heap().Import(r.heap)) st = Status(StatusCode::kDataLoss, "its heap record is corrupt", "EIO");
    if (!st.ok()) {
      recovery_.dropped.push_back(fmt::format("process {} ('{}'): {}", pid, r.name, st.message()));
      continue;  // not restored: reported lost
    }
    p->SetLease(r.lease_ms, now);  // a restored lease starts afresh
    for (const VmaRecord& v : r.mm.vmas) {
      if (v.object_kind == ObjectKind::kShmem) shm_refs[pid].push_back(v.object_id);
    }
    recovery_.restored_processes.push_back(RestoredProcess{pid, r.name, true, 0, meta->taken_unix_ms});
    std::unique_lock<ShardedSharedMutex> l(processes_mu_);
    processes_[pid] = std::move(p);
  }
  snapshotter_->SetCommitted(*meta, std::move(hashes), std::move(shm_refs));
  pager_->SetObjectIdFloor(meta->next_object_id);
  {
    std::lock_guard<std::mutex> l(pid_mu_);
    next_pid_ = std::max<Pid>(next_pid_, meta->next_pid);
  }
  recovery_.snapshot_generation = meta->generation;
  recovery_.snapshot_unix_ms = meta->taken_unix_ms;
  return Status::OK();
}

Status Engine::ReplayJournal(RestoreState* state, uint64_t after) {
  std::vector<std::pair<uint64_t, records::JournalRecord>> recs;
  MEMSERVER_RETURN_IF_ERROR(journal_->Load(after, &recs));
  uint64_t last = after;
  auto restored = [&](Pid pid) -> RestoredProcess* {
    for (RestoredProcess& r : recovery_.restored_processes) {
      if (r.pid == pid) return &r;
    }
    return nullptr;
  };
  for (auto& [seq, r] : recs) {
    last = std::max(last, seq);
    ++recovery_.journal_records;
    std::shared_ptr<Process> p;
    {
      std::shared_lock<ShardedSharedMutex> l(processes_mu_);
      auto it = processes_.find(r.pid);
      if (it != processes_.end()) p = it->second;
    }
    if (r.kind == records::JournalRecord::Kind::kExit) {
      if (p == nullptr) continue;
      {
        std::unique_lock<ShardedSharedMutex> l(processes_mu_);
        processes_.erase(r.pid);
      }
      p->mm().Teardown();
      std::erase_if(recovery_.restored_processes, [&](const RestoredProcess& x) { return x.pid == r.pid; });
      continue;
    }
    if (p == nullptr) {
      p = NewProcess(r.pid, r.parent, r.name, r.owner);
      p->SetLease(r.lease_ms, SteadyMs());
      recovery_.restored_processes.push_back(RestoredProcess{r.pid, r.name, false, 0, 0});
      std::unique_lock<ShardedSharedMutex> l(processes_mu_);
      processes_[r.pid] = p;
    }
    if (r.object_id != 0) {
      auto [it, fresh] = state->shms.emplace(r.object_id, nullptr);
      if (fresh) {
        it->second = std::make_shared<MemoryObject>(MemoryObject::Kind::kShmem, pager_.get(), 0, r.object_size, "",
                                                    r.object_id);
      }
      ReleaseBatch release;
      {
        std::unique_lock<std::shared_mutex> ol(it->second->mu());
        it->second->GrowTo(r.object_size);
        it->second->DropPages(r.object_first, r.object_end, &release);
        for (const PageRef& ref : r.object_pages) {
          if (ref.key >= r.object_first && ref.key < r.object_end) {
            it->second->InstallPage(ref.key, state->PageFor(pager_.get(), ref));
          }
        }
        it->second->MarkChanged();
      }
      MEMSERVER_RETURN_IF_ERROR(pager_->Flush(&release));
      pager_->SetObjectIdFloor(r.object_id + 1);
    }
    Status st = p->mm().ReplaceRange(
        r.start, r.end, r.vmas, r.pages,
        [&](const PageRef& ref) { return state->PageFor(pager_.get(), ref, p->mm().charge_slot()); },
        [&](const VmaRecord& v) { return state->ObjectFor(files_.get(), v); }, &recovery_.dropped);
    if (!st.ok()) {
      recovery_.dropped.push_back(fmt::format("msync record {} of process {}: {}", seq, r.pid, st.message()));
      continue;
    }
    if (RestoredProcess* info = restored(r.pid)) {
      ++info->synced_ranges;
      info->data_unix_ms = std::max(info->data_unix_ms, r.unix_ms);
    }
  }
  journal_->SetLastSeq(last);
  MarkProcessesChanged();
  return Status::OK();
}

Status Engine::ReportLostProcesses() {
  const int64_t now = UnixMs();
  storage::WriteBatch wb;
  std::vector<std::string> values;  // WriteBatch borrows them
  std::vector<std::pair<Pid, records::LiveRecord>> live;
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, records::kLivePrefix, [&](std::string_view key, std::string_view v) {
    uint64_t pid;
    if (records::ParseKey(key, records::kLivePrefix, &pid)) live.emplace_back(pid, records::DecodeLive(v));
    return true;
  }));
  std::shared_lock<ShardedSharedMutex> l(processes_mu_);
  values.reserve(live.size() + processes_.size() + 1);
  for (auto& [pid, rec] : live) {
    if (processes_.count(pid)) continue;
    recovery_.lost.emplace_back(pid, rec.name);
    std::lock_guard<std::mutex> ll(lost_mu_);
    lost_[pid] = LostProcess{rec.name, now, rec.owner};
    values.push_back(records::EncodeLost(records::LostRecord{rec.name, now, rec.owner}));
    wb.Put(storage::Space::kMeta, records::Key(records::kLostPrefix, pid), values.back());
    wb.Delete(storage::Space::kMeta, records::Key(records::kLivePrefix, pid));
  }
  // Processes that came back but had no entry (exited before the crash,
  // or brought back by their msync records) get one again.
  std::set<Pid> has_live;
  for (auto& [pid, rec] : live) has_live.insert(pid);
  for (auto& [pid, p] : processes_) {
    if (has_live.count(pid)) continue;
    values.push_back(records::EncodeLive(records::LiveRecord{p->name(), p->owner()}));
    wb.Put(storage::Space::kMeta, records::Key(records::kLivePrefix, pid), values.back());
  }
  {
    std::lock_guard<std::mutex> ll(lost_mu_);
    while (lost_.size() > kMaxLost) {
      wb.Delete(storage::Space::kMeta, records::Key(records::kLostPrefix, lost_.begin()->first));
      lost_.erase(lost_.begin());
    }
  }
  return wb.empty() ? Status::OK() : store_->Write(wb, /*sync=*/true);
}

Status Engine::ReserveIds(const records::SnapshotMeta& meta, uint64_t max_page_id, uint64_t* page_floor) {
  auto read_mark = [&](std::string_view key, uint64_t* mark) -> Status {
    std::string v;
    Status s = store_->Get(storage::Space::kMeta, key, &v);
    if (s.code() == StatusCode::kNotFound) return Status::OK();
    MEMSERVER_RETURN_IF_ERROR(s);
    if (!records::DecodeU64(v, mark)) return Status(StatusCode::kDataLoss, "a reservation record is corrupt", "EIO");
    return Status::OK();
  };
  uint64_t pid_mark = 1, page_mark = 1;
  MEMSERVER_RETURN_IF_ERROR(read_mark(records::kPidMark, &pid_mark));
  MEMSERVER_RETURN_IF_ERROR(read_mark(records::kPageIdMark, &page_mark));
  Pid next;
  {
    std::lock_guard<std::mutex> l(pid_mu_);
    std::shared_lock<ShardedSharedMutex> pl(processes_mu_);
    next_pid_ = std::max<Pid>({next_pid_, pid_mark, meta.next_pid});
    for (const auto& [pid, p] : processes_) next_pid_ = std::max<Pid>(next_pid_, pid + 1);
    {
      std::lock_guard<std::mutex> ll(lost_mu_);
      if (!lost_.empty()) next_pid_ = std::max<Pid>(next_pid_, lost_.rbegin()->first + 1);
    }
    pid_mark_ = next_pid_ + kPidBlock;
    next = pid_mark_;
  }
  const uint64_t floor = std::max<uint64_t>({page_mark, meta.page_id_floor, max_page_id + 1, pager_->next_page_id(), 1});
  storage::WriteBatch wb;
  const std::string pid_value = records::EncodeU64(next), page_value = records::EncodeU64(floor + kPageIdBlock);
  wb.Put(storage::Space::kMeta, records::kPidMark, pid_value);
  wb.Put(storage::Space::kMeta, records::kPageIdMark, page_value);
  MEMSERVER_RETURN_IF_ERROR(store_->Write(wb, /*sync=*/true));
  pager_->SetIdFloor(floor, floor + kPageIdBlock, [store = store_.get()](uint64_t mark) {
    storage::WriteBatch b;
    const std::string v = records::EncodeU64(mark);
    b.Put(storage::Space::kMeta, records::kPageIdMark, v);
    return store->Write(b, /*sync=*/true);
  });
  *page_floor = floor;
  return Status::OK();
}

void Engine::SweepSwap(const std::unordered_set<uint64_t>& named, uint64_t from, uint64_t to) {
  // Keys in [from, to): written by the earlier run after its snapshot's
  // instant; new pages only take ids >= to, so nothing deleted here is live.
  storage::WriteBatch wb;
  auto flush = [&] {
    Status s = store_->Write(wb, /*sync=*/false);
    (void)s;  // a key left behind is garbage, counted by CheckInvariants
    wb.Clear();
  };
  Status s = store_->ScanFrom(storage::Space::kSwap, keys::Swap(from), [&](std::string_view key, std::string_view) {
    if (sweep_stop_.load(std::memory_order_relaxed)) return false;
    const uint64_t id = storage::DecodeU64Key(key);
    if (key.size() != 8 || id >= to) return false;
    if (!named.count(id)) wb.Delete(storage::Space::kSwap, key);
    if (wb.size() >= 1024) flush();
    return true;
  });
  (void)s;
  if (!wb.empty()) flush();
}

}  // namespace memserver
