// FileStore: the server's own files, kept in the backing store (Space::kFiles)
// beside swap, and their page caches.
//
// A file is an inode (number, size, owner) with one path in its owner's
// namespace: every owner (tenant, server/engine/tenant_ledger.h; "" without
// tenants) has a tree of its own, so two tenants' "/a" are two files, and a
// path another owner uses is, to the caller, simply absent. Every call names
// the owner whose namespace it works in. The file's bytes (its size) and the
// file itself are charged to the owner's account: a write or truncate past
// max_files, or a create past max_file_count, is RESOURCE_EXHAUSTED
// [EDQUOT] naming the quota, and changes nothing. Its content is cached in
// a MemoryObject (kFile): every mapping of the file, in any process, and the
// file calls here use the same page for the same file page. Writes through
// this API are write-through (durable when the call returns); writes through
// shared mappings reach the store on msync, munmap, exit or eviction.
//
// Durability: metadata (names, sizes) is written with the WAL and synced, so
// files survive a crash up to the last completed call or msync.
//
// Unlink while mapped: the name goes at once; the pages stay reachable
// through the mappings (an unlinked inode) until the last mapping goes. The
// orphaned page keys are deleted when the store is next opened.
//
// Thread-safety: all methods are thread-safe. Lock order: mu_ is taken before
// any MemoryObject::mu() and never held across store I/O of page content.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/common/status.h"
#include "server/engine/tenant_ledger.h"
#include "server/engine/types.h"
#include "server/vm/memory_object.h"
#include "server/vm/pager.h"
#include "storage/backing_store.h"

namespace memserver {

class FileStore {
 public:
  // Largest file size accepted. Default page size: 2^40 bytes.
  static constexpr uint64_t kMaxFileSize = 1ull << 40;
  static constexpr size_t kMaxPathLength = 4096;
  // Inode numbers are never reused; a Page keeps one in 31 bits (page.h).
  static constexpr uint32_t kMaxInode = (uint32_t{1} << 31) - 1;
  // ... and a file page's index in 32 bits (pages are at least 4 KiB).
  static_assert(kMaxFileSize / 4096 <= (uint64_t{1} << 32));

  // Loads the file table from `store`, charging every file to its owner's
  // account in `ledger`. The pointers are borrowed and must outlive it.
  static Status Open(storage::BackingStore* store, Pager* pager, TenantLedger* ledger,
                     std::unique_ptr<FileStore>* files);
  ~FileStore();

  // In each call, `owner` names the namespace the path is in.
  // Creates an empty file. AlreadyExists (EEXIST) when the path is taken,
  // unless `truncate`, which empties the existing file instead.
  Status Create(const std::string& owner, const std::string& path, bool truncate, FileInfo* info);
  // Writes data at offset, extending the file; creates it when missing.
  Status Write(const std::string& owner, const std::string& path, uint64_t offset, std::string_view data,
               FileInfo* info);
  // Reads up to `length` bytes at offset (fewer at end of file).
  Status Read(const std::string& owner, const std::string& path, uint64_t offset, uint64_t length,
              std::string* data);
  Status Stat(const std::string& owner, const std::string& path, FileInfo* info);
  Status Truncate(const std::string& owner, const std::string& path, uint64_t size);
  Status Delete(const std::string& owner, const std::string& path);
  // Every file of `owner` whose path starts with `prefix`, in path order;
  // with `all_owners`, every owner's, by owner then path.
  std::vector<FileInfo> List(const std::string& owner, const std::string& prefix, bool all_owners = false);
  // The page cache of a file, for mmap and exec.
  Status OpenObject(const std::string& owner, const std::string& path, std::shared_ptr<MemoryObject>* object);
  // The page cache of the file with inode `number`, or null.
  std::shared_ptr<MemoryObject> ObjectByInode(uint32_t number);
  // Writes back every dirty cached page of every file (shutdown).
  Status SyncAll();

  // Every live file object (for invariant checks).
  std::vector<std::shared_ptr<MemoryObject>> Objects();
  size_t count();

  static Status ValidatePath(const std::string& path);
  // Most files, all owners together (EngineOptions::max_files); past it
  // Create is RESOURCE_EXHAUSTED [ENOSPC]. Set before any call.
  void SetMaxFiles(uint64_t max_files) { max_files_ = max_files; }

  // Called when a truncation shrank a file, with the file's page cache and
  // the first page index wholly cut, after every FileStore and object lock
  // is released: the engine drops private copies of the cut pages
  // (AddressSpace::DiscardPrivateCopies), as truncate(2) does.
  using TruncateListener = std::function<void(const MemoryObject* object, uint64_t from_index)>;
  void SetTruncateListener(TruncateListener listener);

 private:
  // Files are keyed by (owner, path).
  using Key = std::pair<std::string, std::string>;
  struct Inode {
    uint32_t number;
    TenantAccount* account;  // the owner's, in ledger_
    std::shared_ptr<MemoryObject> object;
  };
  FileStore(storage::BackingStore* store, Pager* pager, TenantLedger* ledger)
      : store_(store), pager_(pager), ledger_(ledger) {}
  std::shared_ptr<MemoryObject> NewObject(uint32_t number, uint64_t size, const std::string& path);
  Status PersistInode(uint32_t number, uint64_t size, const Key& key, storage::WriteBatch* wb,
                      std::string* scratch);
  Status Lookup(const Key& key, std::shared_ptr<MemoryObject>* object, TenantAccount** account = nullptr);
  Status SyncObject(MemoryObject* object);
  Status DeletePageKeys(uint32_t inode, uint64_t from_index);

  storage::BackingStore* const store_;
  Pager* const pager_;
  TenantLedger* const ledger_;
  std::mutex mu_;
  std::map<Key, Inode> files_;          // GUARDED_BY(mu_)
  uint32_t next_inode_ = 1;             // GUARDED_BY(mu_)
  uint64_t max_files_ = ~0ull;
  TruncateListener truncate_listener_;  // GUARDED_BY(mu_)
};

}  // namespace memserver
