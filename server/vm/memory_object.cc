#include "server/vm/memory_object.h"

#include <mutex>

namespace memserver {

MemoryObject::MemoryObject(Kind kind, Pager* pager, uint32_t inode, uint64_t size_bytes, std::string name,
                           uint64_t shmem_id)
    : kind_(kind),
      pager_(pager),
      inode_(inode),
      id_(kind == Kind::kFile ? inode : (shmem_id != 0 ? shmem_id : pager->NextObjectId())),
      name_(std::move(name)),
      size_(size_bytes),
      pages_(kIndexBits, pager->slab()) {}

void MemoryObject::DropPages(uint64_t begin, uint64_t end, ReleaseBatch* batch) {
  pages_.ClearRange(begin, end, [&](uint64_t, Page* page) { pager_->Unref(page, batch); });
}

MemoryObject::~MemoryObject() {
  ReleaseBatch batch;
  pages_.ClearRange(0, ~0ull, [&](uint64_t, Page* page) { pager_->Unref(page, &batch); });
  Status s = pager_->Flush(&batch);
  (void)s;  // leaked swap keys are reported by CheckInvariants
}

uint64_t MemoryObject::size_pages() const {
  const uint64_t ps = pager_->page_size();
  return (size() + ps - 1) / ps;
}

Page* MemoryObject::FindOrCreate(uint64_t index) {
  if (Page* page = pages_.Lookup(index)) return page;
  Page* fresh = kind_ == Kind::kFile ? pager_->NewFilePage(inode_, index) : pager_->NewZeroPage();
  Page* page = pages_.Install(index, fresh);
  if (page != fresh) pager_->Unref(fresh, nullptr);  // lost the race; a fresh page owns nothing
  return page;
}

Status MemoryObject::Resize(uint64_t new_size, ReleaseBatch* batch, Page** tail) {
  const uint64_t ps = pager_->page_size();
  const uint64_t old_size = size();
  if (tail != nullptr) *tail = nullptr;
  if (new_size > old_size && old_size % ps != 0) {
    // Zeroed before the size changes, so no reader of the grown file sees
    // what a mapping left past the old end.
    Page* last = FindOrCreate(old_size / ps);
    const uint32_t off = static_cast<uint32_t>(old_size % ps);
    MEMSERVER_RETURN_IF_ERROR(pager_->Zero(last, off, static_cast<uint32_t>(ps) - off, nullptr));
    if (tail != nullptr) *tail = last;
  }
  size_.store(new_size, std::memory_order_release);
  if (new_size >= old_size) return Status::OK();
  const uint64_t keep = (new_size + ps - 1) / ps;
  pages_.ClearRange(keep, ~0ull, [&](uint64_t, Page* page) { pager_->Unref(page, batch); });
  if (new_size % ps != 0) {
    // Bytes past the end of the last page read as zero, as after ftruncate.
    if (Page* last = pages_.Lookup(new_size / ps)) {
      const uint32_t off = static_cast<uint32_t>(new_size % ps);
      MEMSERVER_RETURN_IF_ERROR(pager_->Zero(last, off, static_cast<uint32_t>(ps) - off, nullptr));
    }
  }
  return Status::OK();
}

}  // namespace memserver
