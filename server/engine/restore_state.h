// Engine::RestoreState: what the steps of one Engine::Restore share
// (recovery.cc, legacy_checkpoint.cc): the pages restored so far, one per
// id, and the shared memory objects by id.
#pragma once

#include <memory>
#include <unordered_map>

#include "server/engine/engine.h"
#include "server/fs/file_store.h"
#include "server/vm/memory_object.h"
#include "server/vm/pager.h"

namespace memserver {

// State shared by the steps of one Restore.
struct Engine::RestoreState {
  std::unordered_map<uint64_t, Page*> by_id;  // restored pages, one per id
  std::unordered_map<uint64_t, std::shared_ptr<MemoryObject>> shms;
  uint64_t max_id = 0;
  // The page named `id`, with a reference for the caller. The state keeps
  // a reference of its own on every page it restored (ReleasePages drops
  // them): a journal record may unmap a page another record names again.
  // A page restored first for a process is charged to its account's slot.
  Page* PageFor(Pager* pager, const PageRef& ref, uint16_t charge_slot = 0) {
    auto [it, fresh] = by_id.emplace(ref.id, nullptr);
    if (fresh) {
      it->second = pager->RestorePage(ref.id, ref.zero, charge_slot);  // the state's reference
      max_id = std::max(max_id, ref.id);
    }
    pager->Ref(it->second);
    return it->second;
  }
  // End of the restore: pages nothing maps any more go (their keys retired).
  Status ReleasePages(Pager* pager) {
    ReleaseBatch batch;
    for (auto& [id, page] : by_id) pager->Unref(page, &batch);
    return pager->Flush(&batch);
  }
  std::shared_ptr<MemoryObject> ObjectFor(FileStore* files, const VmaRecord& r) {
    if (r.object_kind == ObjectKind::kFile) return files->ObjectByInode(static_cast<uint32_t>(r.object_id));
    auto it = shms.find(r.object_id);
    return it == shms.end() ? nullptr : it->second;
  }
};

}  // namespace memserver
