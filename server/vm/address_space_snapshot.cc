// AddressSpace: snapshot capture, restore, msync(MS_SYNC) records and their
// replay. The snapshot's instant and its records are the snapshotter's
// (server/engine/snapshotter.h); this file knows only one address space.
#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "server/vm/address_space.h"

namespace memserver {

VmaRecord AddressSpace::RecordOf(const Vma& v) {
  VmaRecord r{v.start, v.end, v.prot, v.flags, v.vm, ObjectKind::kNone, 0, v.pgoff};
  if (v.object) {
    r.object_kind = v.object->kind() == MemoryObject::Kind::kFile ? ObjectKind::kFile : ObjectKind::kShmem;
    r.object_id = v.object->id();
  }
  return r;
}

bool AddressSpace::CaptureLocked(AddressSpaceRecord* record, std::vector<PageRef>* pages,
                                 const std::function<void(const std::shared_ptr<MemoryObject>&)>& shmem,
                                 std::vector<std::pair<Page*, uint64_t>>* held) {
  if (dead_) return false;
  record->limits = limits_;
  record->brk_start = brk_start_;
  record->brk = brk_;
  record->lock_future = lock_future_;
  for (const Vma& v : vmas_.All()) {
    record->vmas.push_back(RecordOf(v));
    if (v.object && v.object->kind() == MemoryObject::Kind::kShmem) shmem(v.object);
  }
  pages_.ForEach(0, top_ >> page_shift_, [&](uint64_t vpn, Page* page) {
    const FrozenPage f = pager_->CapturePage(page, held);
    pages->push_back(PageRef{vpn, f.id, f.zero});
  });
  changed_.store(false, std::memory_order_relaxed);
  durable_layout_epoch_.store(layout_epoch_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  return true;
}

void AddressSpace::ForEachShmemLocked(const std::function<void(const std::shared_ptr<MemoryObject>&)>& fn) const {
  for (const Vma& v : vmas_.All()) {
    if (v.object && v.object->kind() == MemoryObject::Kind::kShmem) fn(v.object);
  }
}

namespace {

// A mapping of a record, made real: false when its object is gone.
bool MakeVma(const VmaRecord& r, const AddressSpace::ObjectSource& object, Vma* v, std::vector<std::string>* dropped) {
  v->start = r.start;
  v->end = r.end;
  v->prot = r.prot;
  v->flags = r.flags;
  v->vm = r.vm & ~kVmLocked;  // re-locked once the pages are in
  v->pgoff = r.pgoff;
  if (r.object_kind == ObjectKind::kNone) return true;
  v->object = object(r);
  if (v->object) return true;
  dropped->push_back(fmt::format("mapping [{:#x}, {:#x}) of {} {} (gone)", r.start, r.end,
                                 r.object_kind == ObjectKind::kFile ? "file inode" : "shared memory object",
                                 r.object_id));
  return false;
}

}  // namespace

Status AddressSpace::Import(const AddressSpaceRecord& record, const std::vector<PageRef>& pages,
                            const PageSource& page, const ObjectSource& object, std::vector<std::string>* dropped) {
  std::unique_lock<std::shared_mutex> lock(mm_lock_);
  if (!vmas_.All().empty()) return Status::Internal("import into a non-empty address space");
  limits_ = record.limits;
  brk_start_ = record.brk_start;
  brk_ = record.brk;
  lock_future_ = record.lock_future;
  for (const VmaRecord& r : record.vmas) {
    if (r.start >= r.end || r.end > top_ || (r.start & page_mask_) || (r.end & page_mask_) ||
        vmas_.Overlaps(r.start, r.end)) {
      return Status(StatusCode::kDataLoss, fmt::format("snapshot mapping [{:#x}, {:#x}) is invalid", r.start, r.end),
                    "EIO");
    }
    Vma v;
    if (MakeVma(r, object, &v, dropped)) vmas_.Insert(v);
  }
  for (const PageRef& ref : pages) {
    const Vma* v = vmas_.Find(ref.key << page_shift_);
    if (v == nullptr || v->is_shared()) continue;  // its mapping was dropped
    pages_.Install(ref.key, page(ref));
  }
  for (const VmaRecord& r : record.vmas) {
    if ((r.vm & kVmLocked) && vmas_.Covers(r.start, r.end)) {
      Status s = LockRangeLocked(r.start, r.end);
      (void)s;  // a restored lock that no longer fits the cap is dropped, not fatal
    }
  }
  changed_.store(false, std::memory_order_relaxed);
  durable_layout_epoch_.store(layout_epoch_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  return Status::OK();
}

Status AddressSpace::ReplaceRange(uint64_t start, uint64_t end, const std::vector<VmaRecord>& vmas,
                                  const std::vector<PageRef>& pages, const PageSource& page,
                                  const ObjectSource& object, std::vector<std::string>* dropped) {
  if (start >= end || end > top_ || (start & page_mask_) || (end & page_mask_)) {
    return Status(StatusCode::kDataLoss, fmt::format("msync record [{:#x}, {:#x}) is invalid", start, end), "EIO");
  }
  ReleaseBatch release;
  {
    std::unique_lock<std::shared_mutex> lock(mm_lock_);
    if (dead_) return Status::NotFound("process has exited");
    UnmapLocked(start, end, &release);
    for (const VmaRecord& r : vmas) {
      VmaRecord clipped = r;
      clipped.start = std::max(r.start, start);
      clipped.end = std::min(r.end, end);
      if (clipped.start >= clipped.end) continue;
      if (r.object_kind != ObjectKind::kNone) clipped.pgoff += (clipped.start - r.start) >> page_shift_;
      Vma v;
      if (MakeVma(clipped, object, &v, dropped)) vmas_.Insert(v);
    }
    for (const PageRef& ref : pages) {
      const Vma* v = vmas_.Find(ref.key << page_shift_);
      if (v == nullptr || v->is_shared() || (ref.key << page_shift_) < start || (ref.key << page_shift_) >= end) continue;
      Page* p = page(ref);
      if (pages_.Install(ref.key, p) != p) pager_->Unref(p, &release);
    }
    // What the journal replays is durable: the layout is as it says.
    changed_.store(true, std::memory_order_relaxed);
    durable_layout_epoch_.store(layout_epoch_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
  return pager_->Flush(&release);
}

// --- msync(MS_SYNC) ---------------------------------------------------------

bool AddressSpace::LayoutDurableLocked(uint64_t start, uint64_t end) {
  const uint64_t epoch = layout_epoch_.load(std::memory_order_relaxed);
  if (epoch == durable_layout_epoch_.load(std::memory_order_relaxed)) return true;
  if (journaled_epoch_ != epoch) return false;
  auto it = journaled_.upper_bound(start);
  if (it == journaled_.begin()) return false;
  --it;
  return it->first <= start && it->second >= end;
}

Status AddressSpace::CommitSyncPiece(SyncedPiece* piece, std::vector<Page*>* pages, std::vector<Page*>* object_pages,
                                     const SyncCommitter& committer) {
  std::vector<Page*> all(*pages);
  all.insert(all.end(), object_pages->begin(), object_pages->end());
  Pager::SyncBatch batch;
  Status s = pager_->FreezeForSync(all, &batch);
  if (s.ok() && batch.wb.empty() && LayoutDurableLocked(piece->start, piece->end)) {
    // Every page is durable already and the durable state has this layout:
    // nothing to write (a second msync of clean memory costs no I/O).
    pager_->FinishSync(batch, true);
    pages->clear();
    object_pages->clear();
    piece->pages.clear();
    piece->object_pages.clear();
    return Status::OK();
  }
  if (s.ok()) {
    for (size_t i = 0; i < pages->size(); ++i) {
      piece->pages[i].id = batch.frozen[i].id;
      piece->pages[i].zero = batch.frozen[i].zero;
    }
    for (size_t i = 0; i < object_pages->size(); ++i) {
      piece->object_pages[i].id = batch.frozen[pages->size() + i].id;
      piece->object_pages[i].zero = batch.frozen[pages->size() + i].zero;
    }
    s = committer(*piece, &batch);
  }
  if (s.ok()) s = pager_->store()->Write(batch.wb, /*sync=*/true);
  pager_->FinishSync(batch, s.ok());
  if (s.ok()) {
    const uint64_t epoch = layout_epoch_.load(std::memory_order_relaxed);
    if (journaled_epoch_ != epoch) journaled_.clear();
    journaled_epoch_ = epoch;
    journaled_[piece->start] = std::max(journaled_[piece->start], piece->end);
  }
  pages->clear();
  object_pages->clear();
  piece->pages.clear();
  piece->object_pages.clear();
  return s;
}

Status AddressSpace::SyncPieceLocked(const Vma& vma, uint64_t start, uint64_t end, const SyncCommitter& committer) {
  // Pieces of at most kSyncPieceEntries pages, each its own record: the
  // batch (copies of the pages) stays bounded whatever the range.
  SyncedPiece piece;
  piece.start = start;
  std::vector<Page*> pages, object_pages;
  auto flush_until = [&](uint64_t cut) -> Status {
    piece.end = cut;
    piece.vma = RecordOf(vma);
    piece.vma.start = piece.start;
    piece.vma.end = cut;
    if (vma.object) piece.vma.pgoff = ObjectIndex(vma, piece.start >> page_shift_);
    if (piece.object != nullptr) {
      piece.object_first = ObjectIndex(vma, piece.start >> page_shift_);
      piece.object_end = ObjectIndex(vma, cut >> page_shift_);
    }
    Status s = CommitSyncPiece(&piece, &pages, &object_pages, committer);
    piece.start = cut;
    return s;
  };
  if (vma.object && vma.object->kind() == MemoryObject::Kind::kShmem) {
    piece.object = vma.object.get();
    std::vector<std::pair<uint64_t, Page*>> found;
    {
      std::shared_lock<std::shared_mutex> ol(vma.object->mu());
      vma.object->ForEach(ObjectIndex(vma, start >> page_shift_), ObjectIndex(vma, end >> page_shift_),
                          [&](uint64_t index, Page* page) {
                            pager_->Ref(page);  // kept alive past the object lock
                            found.emplace_back(index, page);
                          });
    }
    Status s;
    for (auto [index, page] : found) {
      if (s.ok() && object_pages.size() == kSyncPieceEntries) {
        s = flush_until(vma.start + ((index - vma.pgoff) << page_shift_));
      }
      if (s.ok()) {
        object_pages.push_back(page);
        piece.object_pages.push_back(PageRef{index, 0, false});
      }
    }
    if (s.ok()) s = flush_until(end);
    ReleaseBatch release;
    for (auto [index, page] : found) pager_->Unref(page, &release);
    Status f = pager_->Flush(&release);
    return s.ok() ? f : s;
  }
  // A shared file mapping's data is the file's (written back by Msync); its
  // mapping comes back with the process's snapshot.
  if (vma.is_shared()) return Status::OK();
  Status s;
  std::vector<std::pair<uint64_t, Page*>> found;
  pages_.ForEach(start >> page_shift_, end >> page_shift_, [&](uint64_t vpn, Page* page) { found.emplace_back(vpn, page); });
  for (auto [vpn, page] : found) {
    if (pages.size() == kSyncPieceEntries) MEMSERVER_RETURN_IF_ERROR(flush_until(vpn << page_shift_));
    pages.push_back(page);
    piece.pages.push_back(PageRef{vpn, 0, false});
  }
  return flush_until(end);
}

}  // namespace memserver
