// Engine: the checkpoint of versions before snapshots (ckpt/* in the meta
// space, written at a graceful stop), read once so that upgrading keeps the
// processes; Open then takes a snapshot and deletes it.
//
//   ckpt/meta           version 1, next pid, number of processes
//   ckpt/proc/<be64>    parent, name, lease, address space record, heap
//   ckpt/shm/<be64 id>  shared anonymous object: size and pages
// Page content is in swap under the page id, made durable by that
// checkpoint.
#include <fmt/format.h>

#include <chrono>
#include <map>

#include "server/common/coding.h"
#include "server/engine/engine.h"
#include "server/engine/process.h"
#include "server/engine/restore_state.h"
#include "server/fs/file_store.h"
#include "server/vm/legacy_checkpoint_format.h"
#include "server/vm/memory_object.h"
#include "server/vm/pager.h"
#include "server/vm/store_keys.h"

namespace memserver {

namespace {

Status Corrupt(std::string_view what) {
  return Status(StatusCode::kDataLoss, fmt::format("checkpoint is corrupt: {}", what), "EIO");
}

}  // namespace

Status Engine::RestoreLegacyCheckpoint(RestoreState* state, bool* found) {
  std::string meta;
  Status s = store_->Get(storage::Space::kMeta, "ckpt/meta", &meta);
  *found = s.ok();
  if (s.code() == StatusCode::kNotFound) return Status::OK();
  MEMSERVER_RETURN_IF_ERROR(s);
  std::string_view in = meta;
  uint64_t version, next_pid, count;
  if (!coding::GetVarint(&in, &version) || version != 1 || !coding::GetVarint(&in, &next_pid) ||
      !coding::GetVarint(&in, &count)) {
    return Corrupt("bad meta record");
  }
  // Pages shared between records are one page with several references.
  auto page = [&](const PageRef& ref) { return state->PageFor(pager_.get(), ref); };
  std::unordered_map<uint64_t, std::shared_ptr<MemoryObject>> shms;  // by the record's id
  Status inner;
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, "ckpt/shm/", [&](std::string_view key, std::string_view v) {
    legacy::ShmemRecord r;
    if (key.size() != 17 || !legacy::DecodeShmem(v, &r)) {
      inner = Corrupt("bad shared memory record");
      return false;
    }
    auto object = std::make_shared<MemoryObject>(MemoryObject::Kind::kShmem, pager_.get(), 0, r.size);
    std::unique_lock<std::shared_mutex> ol(object->mu());
    for (const legacy::PageRef& ref : r.pages) object->InstallPage(ref.key, page(PageRef{ref.key, ref.id, ref.zero}));
    shms[keys::ReadBE(key, 9, 8)] = object;
    return true;
  }));
  MEMSERVER_RETURN_IF_ERROR(inner);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kMeta, "ckpt/proc/", [&](std::string_view key, std::string_view v) {
    uint64_t parent, lease;
    std::string name, as, heap;
    legacy::AddressSpaceRecord old;
    if (key.size() != 18 || !coding::GetVarint(&v, &parent) || !coding::GetString(&v, &name) ||
        !coding::GetVarint(&v, &lease) || !coding::GetString(&v, &as) || !coding::GetString(&v, &heap) ||
        !legacy::DecodeAddressSpace(as, &old)) {
      inner = Corrupt("bad process record");
      return false;
    }
    AddressSpaceRecord record;
    record.limits = old.limits;
    record.brk_start = old.brk_start;
    record.brk = old.brk;
    record.lock_future = old.lock_future;
    std::map<uint64_t, std::shared_ptr<MemoryObject>> objects;  // by mapping start
    for (const legacy::VmaRecord& r : old.vmas) {
      VmaRecord n{r.start, r.end, r.prot, r.flags, r.vm, ObjectKind::kNone, 0, r.pgoff};
      std::shared_ptr<MemoryObject> o;
      if (r.object_kind == 1) {
        auto it = shms.find(r.object_id);
        if (it != shms.end()) o = it->second;
        n.object_kind = ObjectKind::kShmem;
      } else if (r.object_kind == 2) {
        o = files_->ObjectByInode(static_cast<uint32_t>(r.object_id));
        n.object_kind = ObjectKind::kFile;
      }
      n.object_id = o ? o->id() : r.object_id;
      record.vmas.push_back(n);
      objects[r.start] = o;
    }
    std::vector<PageRef> pages;
    for (const legacy::PageRef& ref : old.pages) pages.push_back(PageRef{ref.key, ref.id, ref.zero});
    const Pid pid = keys::ReadBE(key, 10, 8);
    auto p = NewProcess(pid, parent, name, /*owner=*/"");  // owners came with snapshots
    inner = p->mm().Import(record, pages, page, [&](const VmaRecord& r) { return objects[r.start]; },
                           &recovery_.dropped);
    if (inner.ok() && !p->heap().Import(heap)) inner = Corrupt("bad heap record");
    if (!inner.ok()) return false;
    p->SetLease(lease, now);  // a restored lease starts afresh
    recovery_.restored_processes.push_back(RestoredProcess{pid, name, true, 0, 0});
    std::unique_lock<ShardedSharedMutex> l(processes_mu_);
    processes_[pid] = p;
    return true;
  }));
  MEMSERVER_RETURN_IF_ERROR(inner);
  std::lock_guard<std::mutex> l(pid_mu_);
  next_pid_ = std::max<Pid>(next_pid, next_pid_);
  return Status::OK();
}

}  // namespace memserver
