// Engine: options, the process table, fork, exec, statistics, invariants.
#include "server/engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <mutex>

#include "server/engine/elf_image.h"
#include "server/engine/journal.h"
#include "server/engine/process.h"
#include "server/engine/snapshot_records.h"
#include "server/frames/replacement_policy.h"
#include "server/fs/file_store.h"
#include "server/vm/pager.h"

namespace memserver {

namespace {

Status ValidateOptions(const EngineOptions& o) {
  if (o.page_size < 4096 || o.page_size > (1u << 20) || !std::has_single_bit(o.page_size)) {
    return Status::InvalidArgument(
        fmt::format("page_size {} must be a power of two between 4096 and 1048576", o.page_size));
  }
  if (o.address_bits < 32 || o.address_bits > 56) {
    return Status::InvalidArgument(fmt::format("address_bits {} must be between 32 and 56", o.address_bits));
  }
  const uint64_t frames = o.memory_bytes / o.page_size;
  if (frames < 4 || frames > UINT32_MAX - 1) {
    return Status::InvalidArgument(fmt::format(
        "memory_bytes {} gives {} frames of {} bytes; need between 4 and 2^32-2 frames", o.memory_bytes,
        frames, o.page_size));
  }
  if (o.max_io_bytes == 0 || o.max_io_bytes > (1ull << 30)) {
    return Status::InvalidArgument(fmt::format("max_io_bytes {} must be between 1 and 1 GiB", o.max_io_bytes));
  }
  if (o.mmap_min_addr % o.page_size != 0 || o.mmap_min_addr >= (1ull << o.address_bits) / 8) {
    return Status::InvalidArgument("mmap_min_addr must be page-aligned and below the heap");
  }
  if (o.max_processes == 0 || o.max_mappings == 0 || o.max_files == 0) {
    return Status::InvalidArgument("max_processes, max_mappings and max_files must be positive");
  }
  if (o.max_locked_percent > 100) return Status::InvalidArgument("max_locked_percent must be at most 100");
  if (o.readahead_max_pages > EngineOptions::kMaxReadaheadPages) {
    return Status::InvalidArgument(fmt::format("readahead_max_pages {} must be at most {} (0 turns readahead off)",
                                               o.readahead_max_pages, EngineOptions::kMaxReadaheadPages));
  }
  return Status::OK();
}

}  // namespace

Engine::Engine(const EngineOptions& options, std::unique_ptr<storage::BackingStore> store)
    : options_(options), store_(std::move(store)) {}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> l(lease_mu_);
    stopping_ = true;
  }
  lease_cv_.notify_all();
  snapshot_cv_.notify_all();
  if (lease_thread_.joinable()) lease_thread_.join();
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  sweep_stop_.store(true);
  if (sweep_thread_.joinable()) sweep_thread_.join();
  // Processes first: their teardown returns frames and swap to the pager and
  // writes shared file pages back; then the file caches; then the pager.
  std::unordered_map<Pid, std::shared_ptr<Process>> procs;
  {
    std::unique_lock<ShardedSharedMutex> l(processes_mu_);
    procs.swap(processes_);
  }
  for (auto& [pid, p] : procs) p->mm().Teardown();
  procs.clear();
  files_.reset();
  pager_.reset();
}

Status Engine::Open(const EngineOptions& options, std::unique_ptr<storage::BackingStore> store,
                    std::unique_ptr<Engine>* engine) {
  MEMSERVER_RETURN_IF_ERROR(ValidateOptions(options));
  if (!store) return Status::InvalidArgument("a backing store is required");
  std::unique_ptr<ReplacementPolicy> policy;
  MEMSERVER_RETURN_IF_ERROR(
      NewReplacementPolicy(options.policy, static_cast<uint32_t>(options.memory_bytes / options.page_size), &policy));
  std::unique_ptr<Engine> e(new Engine(options, std::move(store)));
  e->pager_ = std::make_unique<Pager>(options, e->store_.get(), std::move(policy), &e->ledger_);
  MEMSERVER_RETURN_IF_ERROR(FileStore::Open(e->store_.get(), e->pager_.get(), &e->ledger_, &e->files_));
  e->files_->SetMaxFiles(options.max_files);
  // truncate(2) discards private copies of the pages it cuts, in every
  // process that maps the file privately.
  e->files_->SetTruncateListener([raw = e.get()](const MemoryObject* object, uint64_t from_index) {
    for (const std::shared_ptr<Process>& p : raw->ProcessList()) p->mm().DiscardPrivateCopies(object, from_index);
  });
  e->journal_ = std::make_unique<Journal>(e->store_.get());
  e->snapshotter_ = std::make_unique<Snapshotter>(e->store_.get(), e->pager_.get(), e->files_.get());
  // The latest snapshot and the journal after it bring the processes back;
  // those they lack are reported lost (server/engine/recovery.cc).
  MEMSERVER_RETURN_IF_ERROR(e->Restore());
  e->ChargeRestoredProcesses();
  {
    // From here on, a start that finds this marker knows this run crashed.
    storage::WriteBatch wb;
    wb.Put(storage::Space::kMeta, records::kActive, "1");
    MEMSERVER_RETURN_IF_ERROR(e->store_->Write(wb, /*sync=*/true));
  }
  if (e->recovery_.restored && e->recovery_.snapshot_generation == 0) {
    // Restored from the checkpoint of an earlier version: a snapshot
    // replaces it, then it goes.
    SnapshotStats stats;
    if (e->Snapshot(&stats).ok()) {
      storage::WriteBatch wb;
      std::vector<std::string> doomed;
      MEMSERVER_RETURN_IF_ERROR(e->store_->Scan(storage::Space::kMeta, "ckpt/", [&](std::string_view key, std::string_view) {
        doomed.emplace_back(key);
        return true;
      }));
      for (const std::string& k : doomed) wb.Delete(storage::Space::kMeta, k);
      MEMSERVER_RETURN_IF_ERROR(e->store_->Write(wb, /*sync=*/true));
    }
  }
  e->lease_thread_ = std::thread([raw = e.get()] { raw->LeaseLoop(); });
  if (options.snapshot_interval_ms > 0) e->snapshot_thread_ = std::thread([raw = e.get()] { raw->SnapshotLoop(); });
  *engine = std::move(e);
  return Status::OK();
}

Status Engine::NoSuchProcess(Pid pid) { return Status::NotFound(fmt::format("no process with pid {}", pid)); }

Status Engine::Lookup(Pid pid, std::shared_ptr<Process>* process) const {
  std::shared_lock<ShardedSharedMutex> l(processes_mu_);
  auto it = processes_.find(pid);
  if (it == processes_.end()) {
    LostProcess lost;
    if (FindLost(pid, &lost)) {
      return Status::ProcessLost(
          fmt::format("process {} ('{}') was lost: the server stopped without a snapshot holding it (found at "
                      "the start at {} ms since the epoch); it was created after the last snapshot and no range "
                      "of it was msync'd with MS_SYNC",
                      pid, lost.name, lost.crashed_unix_ms),
          lost.crashed_unix_ms);
    }
    return NoSuchProcess(pid);
  }
  *process = it->second;
  return Status::OK();
}

bool Engine::FindLost(Pid pid, LostProcess* lost) const {
  std::lock_guard<std::mutex> l(lost_mu_);
  auto it = lost_.find(pid);
  if (it == lost_.end()) return false;
  *lost = it->second;
  return true;
}

Pid Engine::NewPid(Status* s) {
  std::lock_guard<std::mutex> l(pid_mu_);
  const Pid id = next_pid_;
  if (id >= pid_mark_) {
    // Reserve the next block durably before handing any of it out: pids are
    // never reused on one store, crash or not.
    const uint64_t mark = id + 4096;
    storage::WriteBatch wb;
    const std::string v = records::EncodeU64(mark);
    wb.Put(storage::Space::kMeta, records::kPidMark, v);
    *s = store_->Write(wb, /*sync=*/true);
    if (!s->ok()) return 0;
    pid_mark_ = mark;
  }
  ++next_pid_;
  return id;
}


Status Engine::ProcessOwner(Pid pid, std::string* owner) const {
  std::shared_ptr<Process> p;
  Status s = Lookup(pid, &p);
  if (!s.ok()) {
    // A lost process's owner, so that the service shows that it was lost
    // to its own tenant only.
    LostProcess lost;
    if (s.process_lost() && FindLost(pid, &lost)) *owner = lost.owner;
    return s;
  }
  *owner = p->owner();
  return Status::OK();
}

std::vector<std::shared_ptr<Process>> Engine::ProcessList() const {
  std::shared_lock<ShardedSharedMutex> l(processes_mu_);
  std::vector<std::shared_ptr<Process>> procs;
  procs.reserve(processes_.size());
  for (auto& [pid, p] : processes_) procs.push_back(p);
  return procs;
}

std::shared_ptr<Process> Engine::NewProcess(Pid pid, Pid parent, const std::string& name, const std::string& owner) {
  auto p = std::make_shared<Process>(pid, parent, name, options_, pager_.get(), owner);
  p->mm().SetAccount(ledger_.Account(owner));
  return p;
}

void Engine::ChargeRestoredProcesses() {
  for (const std::shared_ptr<Process>& p : ProcessList()) {
    ledger_.Account(p->owner())->ForceCharge(TenantResource::kProcesses, 1);
  }
}

Status Engine::AddProcess(Pid parent, const std::string& name, const std::string& owner,
                          std::shared_ptr<Process>* process) {
  MEMSERVER_RETURN_IF_ERROR(ValidateOwner(owner));
  TenantAccount* account = ledger_.Account(owner);
  MEMSERVER_RETURN_IF_ERROR(account->Charge(TenantResource::kProcesses, 1));
  {
    std::shared_lock<ShardedSharedMutex> l(processes_mu_);
    if (processes_.size() >= options_.max_processes) {
      l.unlock();
      account->Release(TenantResource::kProcesses, 1);
      return Status::ResourceExhausted(
          fmt::format("the server already hosts {} processes (its limit)", options_.max_processes), "EAGAIN");
    }
  }
  Status reserved;
  const Pid id = NewPid(&reserved);
  if (!reserved.ok()) {
    account->Release(TenantResource::kProcesses, 1);
    return Status(reserved.code(), "cannot reserve process ids: " + reserved.message(),
                  reserved.errno_name().empty() ? nullptr : reserved.errno_name().c_str());
  }
  *process = NewProcess(id, parent, name, owner);
  {
    std::unique_lock<ShardedSharedMutex> l(processes_mu_);
    processes_.emplace(id, *process);
  }
  MarkProcessesChanged();
  // Remembered so that a crash can name the processes it lost.
  Status s = store_->Put(storage::Space::kMeta, records::Key(records::kLivePrefix, id),
                         records::EncodeLive(records::LiveRecord{name, owner}));
  (void)s;  // only the crash report would miss it
  return Status::OK();
}

Status Engine::CreateProcess(const std::string& name, Pid* pid, uint64_t lease_ms) {
  return CreateProcess(name, pid, lease_ms, std::string());
}

Status Engine::CreateProcess(const std::string& name, Pid* pid, uint64_t lease_ms, const std::string& owner) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(AddProcess(0, name, owner, &p));
  if (lease_ms > 0) {
    p->SetLease(lease_ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now().time_since_epoch()).count());
    lease_cv_.notify_all();
  }
  *pid = p->pid();
  return Status::OK();
}

Status Engine::RenewLease(Pid pid, uint64_t* lease_ms) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  if (p->lease_ms() == 0) return Status::FailedPrecondition(fmt::format("process {} has no lease", pid));
  if (lease_ms != nullptr) *lease_ms = p->lease_ms();
  p->SetLease(p->lease_ms(), std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch()).count());
  lease_cv_.notify_all();
  return Status::OK();
}

Status Engine::Fork(Pid parent, Pid* child) {
  std::shared_ptr<Process> p, c;
  MEMSERVER_RETURN_IF_ERROR(Lookup(parent, &p));
  MEMSERVER_RETURN_IF_ERROR(AddProcess(parent, p->name(), p->owner(), &c));
  Status s = p->mm().ForkInto(&c->mm());
  // The child inherits the malloc heap's bookkeeping with its memory.
  if (s.ok() && !c->heap().Import(p->heap().Export())) s = Status::Internal("could not copy the heap state");
  if (!s.ok()) {
    Exit(c->pid());
    return s;
  }
  // And the parent's lease, whole from now: a client that forks and dies
  // leaks neither process.
  if (const uint64_t lease = p->lease_ms(); lease > 0) {
    c->SetLease(lease, std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now().time_since_epoch()).count());
    lease_cv_.notify_all();
  }
  *child = c->pid();
  return Status::OK();
}

Status Engine::Exec(Pid pid, const std::string& path, ExecImage* image) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  std::shared_ptr<MemoryObject> object;
  MEMSERVER_RETURN_IF_ERROR(files_->OpenObject(p->owner(), path, &object));
  FileInfo info;
  MEMSERVER_RETURN_IF_ERROR(files_->Stat(p->owner(), path, &info));
  if (info.size > options_.max_exec_bytes) {
    return Status::InvalidArgument(
        fmt::format("'{}' is {} bytes; exec loads at most {}", path, info.size, options_.max_exec_bytes), "E2BIG");
  }
  std::string bytes;
  MEMSERVER_RETURN_IF_ERROR(files_->Read(p->owner(), path, 0, info.size, &bytes));
  ElfImage elf;
  MEMSERVER_RETURN_IF_ERROR(ParseElfImage(bytes, p->mm().top() - AddressSpace::kStackReserve, options_.page_size, &elf));
  p->heap().Reset();
  p->mm().MarkLayoutChanged();
  return p->mm().Exec(elf.segments, elf.entry, object, image);
}

Status Engine::Exit(Pid pid) {
  std::shared_ptr<Process> p;
  {
    std::unique_lock<ShardedSharedMutex> l(processes_mu_);
    auto it = processes_.find(pid);
    if (it == processes_.end()) return NoSuchProcess(pid);
    p = std::move(it->second);
    processes_.erase(it);
  }
  ledger_.Account(p->owner())->Release(TenantResource::kProcesses, 1);
  p->mm().Teardown();  // waits for calls in flight on this process
  MarkProcessesChanged();
  // After a crash the process does not come back from an older snapshot or
  // msync record (best effort: the record is not synced).
  Status s = journal_->RecordExit(pid);
  (void)s;  // the exit is done; at worst a crash brings the process back
  return Status::OK();
}

std::unordered_map<const Page*, uint32_t> Engine::CountMappers() {
  std::unordered_map<const Page*, uint32_t> count;
  for (auto& p : ProcessList()) {
    p->mm().ForEachResolvedPage([&](const Vma&, uint64_t, Page* page) { ++count[page]; });
  }
  return count;
}

Status Engine::GetProcessStats(Pid pid, ProcessStats* stats) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  stats->pid = pid;
  stats->name = p->name();
  stats->owner = p->owner();
  p->mm().FillStats(stats);
  auto mappers = CountMappers();
  stats->usage = MemoryUsage();
  for (const MappingInfo& m : p->mm().Mappings([&](Page* page) {
         auto it = mappers.find(page);
         return it == mappers.end() ? 1u : it->second;
       })) {
    stats->usage.Add(m.usage);
  }
  return Status::OK();
}

Status Engine::ListMappings(Pid pid, std::vector<MappingInfo>* mappings) {
  std::shared_ptr<Process> p;
  MEMSERVER_RETURN_IF_ERROR(Lookup(pid, &p));
  auto mappers = CountMappers();
  *mappings = p->mm().Mappings([&](Page* page) {
    auto it = mappers.find(page);
    return it == mappers.end() ? 1u : it->second;
  });
  return Status::OK();
}

std::vector<ProcessStats> Engine::ListProcesses() {
  std::vector<std::shared_ptr<Process>> procs = ProcessList();
  auto mappers = CountMappers();
  std::vector<ProcessStats> out;
  for (auto& p : procs) {
    ProcessStats s;
    s.pid = p->pid();
    s.name = p->name();
    s.owner = p->owner();
    p->mm().FillStats(&s);
    for (const MappingInfo& m : p->mm().Mappings([&](Page* page) {
           auto it = mappers.find(page);
           return it == mappers.end() ? 1u : it->second;
         })) {
      s.usage.Add(m.usage);
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const ProcessStats& a, const ProcessStats& b) { return a.pid < b.pid; });
  return out;
}

GlobalStats Engine::GetGlobalStats() const {
  GlobalStats g = pager_->Stats();
  const SnapshotStats snap = snapshotter_->last();
  g.snapshot_generation = snap.generation;
  g.snapshot_unix_ms = snap.taken_unix_ms;
  if (!snap.skipped) {
    g.snapshot_last_ms = snap.total_ms;
    g.snapshot_last_pages = snap.pages_written;
  }
  g.snapshot_last_failed = !snap.error.empty();
  g.files = files_->count();
  std::shared_lock<ShardedSharedMutex> l(processes_mu_);
  g.processes = processes_.size();
  return g;
}

void Engine::SetTenantQuotas(const std::map<std::string, TenantQuota>& quotas) { ledger_.SetQuotas(quotas); }

std::vector<TenantUsage> Engine::TenantUsages() const { return ledger_.Usage(); }

Status Engine::CheckInvariants() {
  pager_->Drain();  // background reclaim holds transient page references
  std::unordered_map<const Page*, uint32_t> refs;
  std::unordered_map<MemoryObject*, std::shared_ptr<MemoryObject>> objects;
  for (auto& p : ProcessList()) MEMSERVER_RETURN_IF_ERROR(p->mm().CollectPages(&refs, &objects));
  for (auto& o : files_->Objects()) objects[o.get()] = o;
  for (auto& [raw, object] : objects) {
    std::shared_lock<std::shared_mutex> ol(object->mu());
    object->ForEach(0, ~0ull, [&](uint64_t, Page* page) { ++refs[page]; });
  }
  return pager_->CheckInvariants(refs);
}

Status Engine::Snapshot(SnapshotStats* stats) {
  SnapshotStats local;
  if (stats == nullptr) stats = &local;
  Snapshotter::Instant instant;
  instant.processes = ProcessList();
  instant.processes_changed = processes_changed_.exchange(false);
  {
    std::lock_guard<std::mutex> l(pid_mu_);
    instant.next_pid = next_pid_;
  }
  instant.journal_seq = [this] { return journal_->last_seq(); };
  Status s = snapshotter_->Take(instant, stats);
  if (!s.ok() && instant.processes_changed) MarkProcessesChanged();
  return s;
}

SnapshotStats Engine::last_snapshot() const { return snapshotter_->last(); }

Status Engine::Checkpoint() {
  Snapshotter::Instant instant;
  instant.processes = ProcessList();
  {
    std::lock_guard<std::mutex> l(pid_mu_);
    instant.next_pid = next_pid_;
  }
  instant.journal_seq = [this] { return journal_->last_seq(); };
  instant.final = true;
  SnapshotStats stats;
  return snapshotter_->Take(instant, &stats);
}

}  // namespace memserver
