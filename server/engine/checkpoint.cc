// Engine: checkpoint at graceful shutdown, restore at start, crash report,
// and the lease reaper.
//
// Store layout (Space::kMeta):
//   run/active          present while a server runs on the store; found at
//                       start without a checkpoint = the last run crashed
//   live/<be64 pid>     name of every live process (WAL, not synced): after
//                       a crash, the processes that could not be restored
//   ckpt/meta           version, next pid, number of processes
//   ckpt/proc/<be64>    parent, name, lease, address space record, heap, owner
//                       (the owner last: a record without it is owner "")
//   ckpt/shm/<be64 id>  shared anonymous object: size and pages
// Page content is in Space::kSwap under the page id (the checkpoint writes
// every dirty page out first). After a restore, ckpt/* is deleted: from then
// on swap belongs to the running server again.
#include <fmt/format.h>

#include <chrono>
#include <unordered_set>

#include "server/common/coding.h"
#include "server/engine/engine.h"
#include "server/engine/process.h"
#include "server/fs/file_store.h"
#include "server/vm/pager.h"
#include "server/vm/store_keys.h"

namespace memserver {

namespace {

constexpr std::string_view kActiveKey = "run/active";
constexpr std::string_view kCkptMeta = "ckpt/meta";

std::string Key(std::string_view prefix, uint64_t id) {
  std::string k(prefix);
  keys::AppendBE(&k, id, 8);
  return k;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status Corrupt(std::string_view what) {
  return Status(StatusCode::kDataLoss, fmt::format("checkpoint is corrupt: {}", what), "EIO");
}

}  // namespace

Status Engine::Checkpoint() {
  pager_->StopReclaim();  // nothing may evict (and drop swap copies) behind the checkpoint
  MEMSERVER_RETURN_IF_ERROR(files_->SyncAll());
  std::vector<std::shared_ptr<Process>> procs = Snapshot();
  std::unordered_map<MemoryObject*, uint64_t> shm_ids;
  std::vector<MemoryObject*> shms;
  auto name = [&](MemoryObject* o, uint32_t* kind, uint64_t* id) {
    if (o->kind() == MemoryObject::Kind::kFile) {
      *kind = 2;
      *id = o->inode();
      return;
    }
    auto [it, fresh] = shm_ids.emplace(o, shm_ids.size() + 1);
    if (fresh) shms.push_back(o);
    *kind = 1;
    *id = it->second;
  };
  std::vector<AddressSpaceRecord> records(procs.size());
  std::vector<std::vector<Page*>> pages(procs.size());
  for (size_t i = 0; i < procs.size(); ++i) procs[i]->mm().Export(&records[i], name, &pages[i]);
  std::vector<ShmemRecord> shm_records(shms.size());
  std::vector<std::vector<Page*>> shm_pages(shms.size());
  for (size_t i = 0; i < shms.size(); ++i) {
    std::shared_lock<std::shared_mutex> ol(shms[i]->mu());
    shm_records[i].size = shms[i]->size();
    shms[i]->ForEach(0, ~0ull, [&](uint64_t index, Page* page) {
      shm_records[i].pages.push_back(PageRef{index, page->id(), false});
      shm_pages[i].push_back(page);
    });
  }
  // Every page's content to swap (in bounded batches), then note zero pages.
  auto write_out = [&](std::vector<PageRef>& refs, const std::vector<Page*>& ps) -> Status {
    constexpr size_t kBatch = 1024;
    for (size_t at = 0; at < ps.size(); at += kBatch) {
      std::vector<Page*> chunk(ps.begin() + at, ps.begin() + std::min(ps.size(), at + kBatch));
      MEMSERVER_RETURN_IF_ERROR(pager_->Sync(chunk));
    }
    for (size_t j = 0; j < ps.size(); ++j) refs[j].zero = pager_->StateOf(ps[j]) == PageState::kZero;
    return Status::OK();
  };
  for (size_t i = 0; i < procs.size(); ++i) MEMSERVER_RETURN_IF_ERROR(write_out(records[i].pages, pages[i]));
  for (size_t i = 0; i < shms.size(); ++i) MEMSERVER_RETURN_IF_ERROR(write_out(shm_records[i].pages, shm_pages[i]));

  storage::WriteBatch wb;
  std::vector<std::string> values;  // WriteBatch borrows values: keep them alive
  values.reserve(procs.size() + shms.size() + 1);
  for (size_t i = 0; i < procs.size(); ++i) {
    std::string v;
    coding::PutVarint(&v, procs[i]->parent());
    coding::PutString(&v, procs[i]->name());
    coding::PutVarint(&v, procs[i]->lease_ms());
    std::string as;
    EncodeAddressSpace(records[i], &as);
    coding::PutString(&v, as);
    coding::PutString(&v, procs[i]->heap().Export());
    coding::PutString(&v, procs[i]->owner());
    values.push_back(std::move(v));
    wb.Put(storage::Space::kMeta, Key("ckpt/proc/", procs[i]->pid()), values.back());
  }
  for (size_t i = 0; i < shms.size(); ++i) {
    std::string v;
    EncodeShmem(shm_records[i], &v);
    values.push_back(std::move(v));
    wb.Put(storage::Space::kMeta, Key("ckpt/shm/", i + 1), values.back());
  }
  std::string meta;
  coding::PutVarint(&meta, 1);
  {
    std::shared_lock<std::shared_mutex> l(processes_mu_);
    coding::PutVarint(&meta, next_pid_);
  }
  coding::PutVarint(&meta, procs.size());
  values.push_back(meta);
  wb.Put(storage::Space::kMeta, kCkptMeta, values.back());
  wb.Delete(storage::Space::kMeta, kActiveKey);
  MEMSERVER_RETURN_IF_ERROR(store_->Write(wb, /*sync=*/true));
  // From here, tearing the processes down must keep their swap entries.
  pager_->PreserveSwap();
  return store_->Flush();
}

Status Engine::Restore() {
  std::string meta;
  Status s = store_->Get(storage::Space::kMeta, kCkptMeta, &meta);
  if (s.code() == StatusCode::kNotFound) {
    MEMSERVER_RETURN_IF_ERROR(ReportLostProcesses());
    return store_->Clear(storage::Space::kSwap);  // swap of a crashed run is garbage
  }
  MEMSERVER_RETURN_IF_ERROR(s);
  std::string_view in = meta;
  uint64_t version, next_pid, count;
  if (!coding::GetVarint(&in, &version) || version != 1 || !coding::GetVarint(&in, &next_pid) ||
      !coding::GetVarint(&in, &count)) {
    return Corrupt("bad meta record");
  }
  // Pages shared between records are one page with several references.
  std::unordered_map<uint64_t, Page*> by_id;
  auto page = [&](const PageRef& ref) {
    auto [it, fresh] = by_id.emplace(ref.id, nullptr);
    if (fresh) {
      it->second = pager_->RestorePage(ref.id, ref.zero);
    } else {
      pager_->Ref(it->second);
    }
    return it->second;
  };
  std::unordered_map<uint64_t, std::shared_ptr<MemoryObject>> shms;
  Status inner;
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, "ckpt/shm/", [&](std::string_view key, std::string_view v) {
    ShmemRecord r;
    if (key.size() != 17 || !DecodeShmem(v, &r)) {
      inner = Corrupt("bad shared memory record");
      return false;
    }
    auto object = std::make_shared<MemoryObject>(MemoryObject::Kind::kShmem, pager_.get(), 0, r.size);
    std::unique_lock<std::shared_mutex> ol(object->mu());
    for (const PageRef& ref : r.pages) object->InstallPage(ref.key, page(ref));
    shms[keys::ReadBE(key, 9, 8)] = object;
    return true;
  }));
  MEMSERVER_RETURN_IF_ERROR(inner);
  auto object = [&](uint32_t kind, uint64_t id) -> std::shared_ptr<MemoryObject> {
    if (kind == 1) {
      auto it = shms.find(id);
      return it == shms.end() ? nullptr : it->second;
    }
    return kind == 2 ? files_->ObjectByInode(static_cast<uint32_t>(id)) : nullptr;
  };
  const int64_t now = NowMs();
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, "ckpt/proc/", [&](std::string_view key, std::string_view v) {
    uint64_t parent, lease;
    std::string name, as, heap, owner;
    AddressSpaceRecord record;
    if (key.size() != 18 || !coding::GetVarint(&v, &parent) || !coding::GetString(&v, &name) ||
        !coding::GetVarint(&v, &lease) || !coding::GetString(&v, &as) || !coding::GetString(&v, &heap) ||
        (!v.empty() && !coding::GetString(&v, &owner)) || !ValidateOwner(owner).ok() ||
        !DecodeAddressSpace(as, &record)) {
      inner = Corrupt("bad process record");
      return false;
    }
    const Pid pid = keys::ReadBE(key, 10, 8);
    // Its owner's account is charged the locks Import takes again.
    auto p = NewProcess(pid, parent, name, owner);
    inner = p->mm().Import(record, page, object);
    if (inner.ok() && !p->heap().Import(heap)) inner = Corrupt("bad heap record");
    if (!inner.ok()) return false;
    p->SetLease(lease, now);  // a restored lease starts afresh
    std::unique_lock<std::shared_mutex> l(processes_mu_);
    processes_[pid] = p;
    return true;
  }));
  MEMSERVER_RETURN_IF_ERROR(inner);
  {
    std::unique_lock<std::shared_mutex> l(processes_mu_);
    next_pid_ = std::max<Pid>(next_pid, next_pid_);
    recovery_.restored = true;
    recovery_.processes = processes_.size();
  }
  // The checkpoint has been consumed; swap entries no page refers to are garbage.
  storage::WriteBatch wb;
  std::vector<std::string> doomed;
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, "ckpt/", [&](std::string_view key, std::string_view) {
    doomed.emplace_back(key);
    return true;
  }));
  for (const std::string& k : doomed) wb.Delete(storage::Space::kMeta, k);
  std::vector<std::string> garbage;
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kSwap, "", [&](std::string_view key, std::string_view) {
    if (key.size() != 8 || !by_id.count(storage::DecodeU64Key(key))) garbage.emplace_back(key);
    return true;
  }));
  for (const std::string& k : garbage) wb.Delete(storage::Space::kSwap, k);
  return store_->Write(wb, /*sync=*/true);
}

Status Engine::ReportLostProcesses() {
  std::string active;
  Status s = store_->Get(storage::Space::kMeta, kActiveKey, &active);
  if (s.code() == StatusCode::kNotFound) return Status::OK();  // a fresh store
  MEMSERVER_RETURN_IF_ERROR(s);
  recovery_.unclean = true;
  storage::WriteBatch wb;
  std::vector<std::string> doomed;
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, "live/", [&](std::string_view key, std::string_view v) {
    if (key.size() == 13) recovery_.lost.emplace_back(keys::ReadBE(key, 5, 8), std::string(v));
    doomed.emplace_back(key);
    return true;
  }));
  for (const std::string& k : doomed) wb.Delete(storage::Space::kMeta, k);
  return wb.empty() ? Status::OK() : store_->Write(wb, /*sync=*/true);
}

void Engine::ReapExpiredLeases() {
  const int64_t now = NowMs();
  for (auto& p : Snapshot()) {
    const int64_t deadline = p->lease_deadline_ms();
    if (deadline != 0 && deadline <= now) Exit(p->pid());
  }
}

void Engine::LeaseLoop() {
  std::unique_lock<std::mutex> l(lease_mu_);
  while (!stopping_) {
    int64_t next = 0;
    for (auto& p : Snapshot()) {
      const int64_t d = p->lease_deadline_ms();
      if (d != 0 && (next == 0 || d < next)) next = d;
    }
    if (next == 0) {
      lease_cv_.wait(l);  // woken by a new lease or shutdown
    } else {
      lease_cv_.wait_for(l, std::chrono::milliseconds(std::max<int64_t>(0, next - NowMs())));
    }
    if (stopping_) break;
    l.unlock();
    ReapExpiredLeases();
    l.lock();
  }
}

}  // namespace memserver
