// Engine: the memory and file calls, each a lookup plus a call into the
// process's address space, its heap, or the file store.
#include <fmt/format.h>

#include "server/engine/engine.h"
#include "server/engine/journal.h"
#include "server/engine/process.h"
#include "server/fs/file_store.h"

namespace memserver {

#define MEMSERVER_WITH_PROCESS(pid, p)            \
  std::shared_ptr<Process> p;                     \
  MEMSERVER_RETURN_IF_ERROR(Lookup((pid), &p))

// A call that may change what a snapshot records of the process (its
// mappings, limits, heap bookkeeping): the next snapshot looks at it, and
// the next msync writes its record.
#define MEMSERVER_WITH_CHANGING_PROCESS(pid, p) \
  MEMSERVER_WITH_PROCESS(pid, p);               \
  p->mm().MarkLayoutChanged()

Status Engine::Mmap(Pid pid, const MmapArgs& args, uint64_t* addr, const CallControl& control) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  std::shared_ptr<MemoryObject> file;
  if (!(args.flags & kMapAnonymous)) {
    if (args.path.empty()) return Status::InvalidArgument("mmap without MAP_ANONYMOUS needs a file path", "EBADF");
    MEMSERVER_RETURN_IF_ERROR(files_->OpenObject(p->owner(), args.path, &file));
  } else if (!args.path.empty()) {
    return Status::InvalidArgument("MAP_ANONYMOUS mapping given a file path");
  }
  return p->mm().Mmap(args, std::move(file), addr, control);
}

Status Engine::Munmap(Pid pid, uint64_t addr, uint64_t length) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().Munmap(addr, length);
}

Status Engine::Mprotect(Pid pid, uint64_t addr, uint64_t length, uint32_t prot) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().Mprotect(addr, length, prot);
}

Status Engine::Mremap(Pid pid, uint64_t old_addr, uint64_t old_size, uint64_t new_size, uint32_t flags,
                      uint64_t new_addr, uint64_t* result) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().Mremap(old_addr, old_size, new_size, flags, new_addr, result);
}

Status Engine::Brk(Pid pid, uint64_t addr, uint64_t* result) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().Brk(addr, result);
}

Status Engine::Sbrk(Pid pid, int64_t increment, uint64_t* previous) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().Sbrk(increment, previous);
}

Status Engine::Read(Pid pid, uint64_t addr, uint64_t length, char* out) {
  MEMSERVER_WITH_PROCESS(pid, p);
  return p->mm().Read(addr, length, out);
}

Status Engine::Write(Pid pid, uint64_t addr, std::string_view data) {
  MEMSERVER_WITH_PROCESS(pid, p);
  return p->mm().Write(addr, data);
}

Status Engine::Mlock(Pid pid, uint64_t addr, uint64_t length) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().Mlock(addr, length);
}

Status Engine::Munlock(Pid pid, uint64_t addr, uint64_t length) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().Munlock(addr, length);
}

Status Engine::Mlockall(Pid pid, uint32_t flags) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().Mlockall(flags);
}

Status Engine::Munlockall(Pid pid) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().Munlockall();
}

Status Engine::Madvise(Pid pid, uint64_t addr, uint64_t length, int advice, const CallControl& control) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().Madvise(addr, length, advice, control);
}

Status Engine::Msync(Pid pid, uint64_t addr, uint64_t length, uint32_t flags) {
  MEMSERVER_WITH_PROCESS(pid, p);
  // MS_SYNC: each piece's journal record goes into the same synchronous
  // batch as its pages (server/engine/journal.h).
  records::JournalRecord identity;
  identity.pid = pid;
  identity.parent = p->parent();
  identity.name = p->name();
  identity.owner = p->owner();
  identity.lease_ms = p->lease_ms();
  return p->mm().Msync(addr, length, flags, [&](const AddressSpace::SyncedPiece& piece, Pager::SyncBatch* batch) {
    journal_->AddSync(identity, piece, batch);
    return Status::OK();
  });
}

Status Engine::GetLimits(Pid pid, ProcessLimits* limits) {
  MEMSERVER_WITH_PROCESS(pid, p);
  *limits = p->mm().limits();
  return Status::OK();
}

Status Engine::SetLimits(Pid pid, const ProcessLimits& limits) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->mm().SetLimits(limits);
}

Status Engine::Malloc(Pid pid, uint64_t size, uint64_t* addr) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->heap().Malloc(size, addr);
}

Status Engine::Calloc(Pid pid, uint64_t count, uint64_t size, uint64_t* addr) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->heap().Calloc(count, size, addr);
}

Status Engine::Realloc(Pid pid, uint64_t addr, uint64_t size, uint64_t* new_addr) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->heap().Realloc(addr, size, new_addr);
}

Status Engine::Free(Pid pid, uint64_t addr) {
  MEMSERVER_WITH_CHANGING_PROCESS(pid, p);
  return p->heap().Free(addr);
}

#undef MEMSERVER_WITH_CHANGING_PROCESS
#undef MEMSERVER_WITH_PROCESS

Status Engine::CreateFile(const std::string& owner, const std::string& path, bool truncate, FileInfo* info) {
  MEMSERVER_RETURN_IF_ERROR(ValidateOwner(owner));
  return files_->Create(owner, path, truncate, info);
}

Status Engine::WriteFile(const std::string& owner, const std::string& path, uint64_t offset, std::string_view data,
                         FileInfo* info) {
  if (data.size() > options_.max_io_bytes) {
    return Status::ResourceExhausted(
        fmt::format("file write of {} bytes exceeds the limit of {} bytes per request; split it", data.size(),
                    options_.max_io_bytes),
        "E2BIG");
  }
  MEMSERVER_RETURN_IF_ERROR(ValidateOwner(owner));
  return files_->Write(owner, path, offset, data, info);
}

Status Engine::ReadFile(const std::string& owner, const std::string& path, uint64_t offset, uint64_t length,
                        std::string* data) {
  if (length > options_.max_io_bytes) {
    return Status::ResourceExhausted(
        fmt::format("file read of {} bytes exceeds the limit of {} bytes per request; split it", length,
                    options_.max_io_bytes),
        "E2BIG");
  }
  return files_->Read(owner, path, offset, length, data);
}

Status Engine::StatFile(const std::string& owner, const std::string& path, FileInfo* info) {
  return files_->Stat(owner, path, info);
}
Status Engine::TruncateFile(const std::string& owner, const std::string& path, uint64_t size) {
  return files_->Truncate(owner, path, size);
}
Status Engine::DeleteFile(const std::string& owner, const std::string& path) { return files_->Delete(owner, path); }
std::vector<FileInfo> Engine::ListFiles(const std::string& owner, const std::string& prefix, bool all_owners) {
  return files_->List(owner, prefix, all_owners);
}

}  // namespace memserver
