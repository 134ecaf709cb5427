#include "server/fs/file_store.h"

#include <fmt/format.h>

#include <atomic>
#include <set>
#include <shared_mutex>

#include "server/vm/store_keys.h"

namespace memserver {

namespace {

// The inode record: be64 size, the path, and for an owned file a NUL and
// the owner (paths hold no NUL, so a record of an earlier version, without
// owner, reads as owner "").
std::string EncodeInodeRecord(uint64_t size, const std::string& owner, const std::string& path) {
  std::string v;
  keys::AppendBE(&v, size, 8);
  v += path;
  if (!owner.empty()) {
    v.push_back('\0');
    v += owner;
  }
  return v;
}

std::string RecordOwner(std::string_view record) {
  const size_t nul = record.find('\0', 8);
  return nul == std::string_view::npos ? std::string() : std::string(record.substr(nul + 1));
}

// The name key: 'n' + path for owner "", 'n' + owner + path otherwise
// (owners hold no '/', paths start with one, so the two never meet).
std::string NameKey(const std::string& owner, const std::string& path) { return keys::Name(owner + path); }

std::string NoFile(const std::string& path) { return fmt::format("no file '{}'", path); }

}  // namespace

Status FileStore::ValidatePath(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Status::InvalidArgument(fmt::format("file path '{}' must be absolute (start with '/')", path), "ENOENT");
  }
  if (path.size() > kMaxPathLength) {
    return Status::InvalidArgument(fmt::format("file path is {} bytes; the limit is {}", path.size(), kMaxPathLength),
                                   "ENAMETOOLONG");
  }
  if (path.find('\0') != std::string::npos) return Status::InvalidArgument("file path contains a NUL byte");
  if (path.size() > 1 && path.back() == '/') return Status::InvalidArgument("file path ends with '/'", "EISDIR");
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string_view part(path.data() + i, j - i);
    if (part.empty() || part == "." || part == "..") {
      return Status::InvalidArgument(fmt::format("file path '{}' has an empty, '.' or '..' component", path));
    }
    i = j + 1;
  }
  return Status::OK();
}

Status FileStore::Open(storage::BackingStore* store, Pager* pager, TenantLedger* ledger,
                       std::unique_ptr<FileStore>* files) {
  std::unique_ptr<FileStore> fs(new FileStore(store, pager, ledger));
  Status inner;
  MEMSERVER_RETURN_IF_ERROR(store->Scan(storage::Space::kFiles, "n", [&](std::string_view key, std::string_view value) {
    if (value.size() != 4) {
      inner = Status(StatusCode::kDataLoss, fmt::format("bad name record for '{}'", key.substr(1)), "EIO");
      return false;
    }
    const uint32_t number = static_cast<uint32_t>(keys::ReadBE(value, 0, 4));
    std::string record;
    inner = store->Get(storage::Space::kFiles, keys::Inode(number), &record);
    if (!inner.ok() || record.size() < 8) {
      inner = Status(StatusCode::kDataLoss, fmt::format("inode {} of '{}' is missing", number, key.substr(1)), "EIO");
      return false;
    }
    std::string owner = RecordOwner(record);
    std::string_view named = key.substr(1);
    if (named.substr(0, owner.size()) != owner || named.size() <= owner.size() || named[owner.size()] != '/') {
      inner = Status(StatusCode::kDataLoss,
                     fmt::format("inode {} names owner '{}' but its name key is '{}'", number, owner, named), "EIO");
      return false;
    }
    std::string path(named.substr(owner.size()));
    const uint64_t size = keys::ReadBE(record, 0, 8);
    TenantAccount* account = ledger->Account(owner);
    account->ForceCharge(TenantResource::kFiles, 1);
    account->ForceCharge(TenantResource::kFileBytes, size);
    fs->files_[Key(std::move(owner), path)] = Inode{number, account, fs->NewObject(number, size, path)};
    fs->next_inode_ = std::max(fs->next_inode_, number + 1);
    return true;
  }));
  MEMSERVER_RETURN_IF_ERROR(inner);
  // Pages of files unlinked while mapped in an earlier run have no inode.
  std::set<uint32_t> live;
  for (auto& [key, inode] : fs->files_) live.insert(inode.number);
  storage::WriteBatch orphans;
  MEMSERVER_RETURN_IF_ERROR(store->Scan(storage::Space::kFiles, "p", [&](std::string_view key, std::string_view) {
    if (key.size() == 13 && !live.count(static_cast<uint32_t>(keys::ReadBE(key, 1, 4)))) {
      orphans.Delete(storage::Space::kFiles, key);
    }
    return true;
  }));
  if (!orphans.empty()) MEMSERVER_RETURN_IF_ERROR(store->Write(orphans, /*sync=*/true));
  std::string counter;
  Status s = store->Get(storage::Space::kFiles, std::string(keys::kNextInode), &counter);
  if (s.ok() && counter.size() == 4) {
    fs->next_inode_ = std::max(fs->next_inode_, static_cast<uint32_t>(keys::ReadBE(counter, 0, 4)));
  } else if (!s.ok() && s.code() != StatusCode::kNotFound) {
    return s;
  }
  *files = std::move(fs);
  return Status::OK();
}

FileStore::~FileStore() {
  Status s = SyncAll();
  (void)s;  // nothing more to do at shutdown; the caller logged SyncAll's result if it cared
}

std::shared_ptr<MemoryObject> FileStore::NewObject(uint32_t number, uint64_t size, const std::string& path) {
  return std::shared_ptr<MemoryObject>(new MemoryObject(MemoryObject::Kind::kFile, pager_, number, size, path));
}

Status FileStore::DeletePageKeys(uint32_t inode, uint64_t from_index) {
  storage::WriteBatch wb;
  std::vector<std::string> doomed;
  const std::string prefix = keys::FilePagePrefix(inode);
  MEMSERVER_RETURN_IF_ERROR(store_->Scan(storage::Space::kFiles, prefix, [&](std::string_view key, std::string_view) {
    if (keys::ReadBE(key, prefix.size(), 8) >= from_index) doomed.emplace_back(key);
    return true;
  }));
  for (const std::string& k : doomed) wb.Delete(storage::Space::kFiles, k);
  return wb.empty() ? Status::OK() : store_->Write(wb, /*sync=*/true);
}

Status FileStore::PersistInode(uint32_t number, uint64_t size, const Key& key, storage::WriteBatch* wb,
                               std::string* scratch) {
  *scratch = EncodeInodeRecord(size, key.first, key.second);
  wb->Put(storage::Space::kFiles, keys::Inode(number), *scratch);
  return Status::OK();
}

Status FileStore::Create(const std::string& owner, const std::string& path, bool truncate, FileInfo* info) {
  MEMSERVER_RETURN_IF_ERROR(ValidatePath(path));
  const Key key(owner, path);
  std::unique_lock<std::mutex> l(mu_);
  auto it = files_.find(key);
  if (it != files_.end()) {
    if (!truncate) return Status::AlreadyExists(fmt::format("file '{}' already exists", path));
    l.unlock();
    MEMSERVER_RETURN_IF_ERROR(Truncate(owner, path, 0));
    return Stat(owner, path, info);
  }
  if (next_inode_ > kMaxInode) {
    return Status::ResourceExhausted(
        fmt::format("cannot create '{}': all {} inode numbers of this store have been used", path, kMaxInode),
        "ENOSPC");
  }
  if (files_.size() >= max_files_) {
    return Status::ResourceExhausted(
        fmt::format("cannot create '{}': the file store holds {} files, the server's limit (memserverd --max-files)",
                    path, files_.size()),
        "ENOSPC");
  }
  TenantAccount* account = ledger_->Account(owner);
  MEMSERVER_RETURN_IF_ERROR(account->Charge(TenantResource::kFiles, 1));
  const uint32_t number = next_inode_++;
  storage::WriteBatch wb;
  std::string record, name, counter;
  PersistInode(number, 0, key, &wb, &record);
  keys::AppendBE(&name, number, 4);
  keys::AppendBE(&counter, next_inode_, 4);
  wb.Put(storage::Space::kFiles, NameKey(owner, path), name);
  wb.Put(storage::Space::kFiles, std::string(keys::kNextInode), counter);
  Status s = store_->Write(wb, /*sync=*/true);
  if (!s.ok()) {
    account->Release(TenantResource::kFiles, 1);
    return s;
  }
  files_[key] = Inode{number, account, NewObject(number, 0, path)};
  *info = FileInfo{path, number, 0, 0, owner};
  return Status::OK();
}

Status FileStore::Lookup(const Key& key, std::shared_ptr<MemoryObject>* object, TenantAccount** account) {
  MEMSERVER_RETURN_IF_ERROR(ValidatePath(key.second));
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(key);
  if (it == files_.end()) return Status::NotFound(NoFile(key.second), "ENOENT");
  *object = it->second.object;
  if (account != nullptr) *account = it->second.account;
  return Status::OK();
}

void FileStore::SetTruncateListener(TruncateListener listener) {
  std::lock_guard<std::mutex> l(mu_);
  truncate_listener_ = std::move(listener);
}

Status FileStore::OpenObject(const std::string& owner, const std::string& path,
                             std::shared_ptr<MemoryObject>* object) {
  return Lookup(Key(owner, path), object);
}

Status FileStore::Write(const std::string& owner, const std::string& path, uint64_t offset, std::string_view data,
                        FileInfo* info) {
  const Key key(owner, path);
  std::shared_ptr<MemoryObject> object;
  TenantAccount* account = nullptr;
  Status s = Lookup(key, &object, &account);
  if (s.code() == StatusCode::kNotFound) {
    // A write the quota refuses must not leave the file it would create.
    TenantAccount* owner_account = ledger_->Account(owner);
    const uint64_t limit = owner_account->limit(TenantResource::kFileBytes);
    if (limit != kUnlimited && offset <= kMaxFileSize && data.size() <= kMaxFileSize - offset) {
      MEMSERVER_RETURN_IF_ERROR(owner_account->Charge(TenantResource::kFileBytes, offset + data.size()));
      owner_account->Release(TenantResource::kFileBytes, offset + data.size());
    }
    FileInfo created;
    s = Create(owner, path, false, &created);
    if (s.code() == StatusCode::kAlreadyExists) s = Status::OK();  // raced with another creator
    if (s.ok()) s = Lookup(key, &object, &account);
  }
  MEMSERVER_RETURN_IF_ERROR(s);
  if (offset > kMaxFileSize || data.size() > kMaxFileSize - offset) {
    return Status::InvalidArgument(fmt::format("write past the largest file size ({:#x} bytes)", kMaxFileSize), "EFBIG");
  }
  const uint64_t ps = pager_->page_size();
  std::vector<Page*> touched;
  {
    std::unique_lock<std::shared_mutex> ol(object->mu());
    const uint64_t end = offset + data.size();
    if (end > object->size()) {
      // Charged before anything changes; given back if the growth fails.
      const uint64_t grow = end - object->size();
      MEMSERVER_RETURN_IF_ERROR(account->Charge(TenantResource::kFileBytes, grow));
      ReleaseBatch none;
      Page* tail = nullptr;
      Status grown = object->Resize(end, &none, &tail);
      if (grown.ok()) {
        if (tail != nullptr) touched.push_back(tail);
        storage::WriteBatch wb;
        std::string record;
        PersistInode(object->inode(), end, key, &wb, &record);
        grown = store_->Write(wb, /*sync=*/true);
      }
      if (!grown.ok()) {
        account->Release(TenantResource::kFileBytes, grow);
        return grown;
      }
    }
    uint64_t a = offset;
    const char* p = data.data();
    while (a < end) {
      const uint32_t off = static_cast<uint32_t>(a % ps);
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(end - a, ps - off));
      Page* page = object->FindOrCreate(a / ps);
      MEMSERVER_RETURN_IF_ERROR(pager_->Write(page, off, p, n, nullptr));
      touched.push_back(page);
      a += n;
      p += n;
    }
    // Write-through: durable before the call returns.
    MEMSERVER_RETURN_IF_ERROR(pager_->Sync(touched));
    *info = FileInfo{path, object->inode(), object->size(), object->cached_pages(), owner};
  }
  return Status::OK();
}

Status FileStore::Read(const std::string& owner, const std::string& path, uint64_t offset, uint64_t length,
                       std::string* data) {
  std::shared_ptr<MemoryObject> object;
  MEMSERVER_RETURN_IF_ERROR(Lookup(Key(owner, path), &object));
  const uint64_t ps = pager_->page_size();
  std::shared_lock<std::shared_mutex> ol(object->mu());
  const uint64_t size = object->size();
  data->clear();
  if (offset >= size) return Status::OK();
  const uint64_t end = offset + std::min(length, size - offset);
  data->resize(end - offset);
  char* out = data->data();
  for (uint64_t a = offset; a < end;) {
    const uint32_t off = static_cast<uint32_t>(a % ps);
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(end - a, ps - off));
    Page* page = object->FindOrCreate(a / ps);
    MEMSERVER_RETURN_IF_ERROR(pager_->Read(page, off, out, n, nullptr));
    a += n;
    out += n;
  }
  return Status::OK();
}

Status FileStore::Stat(const std::string& owner, const std::string& path, FileInfo* info) {
  std::shared_ptr<MemoryObject> object;
  MEMSERVER_RETURN_IF_ERROR(Lookup(Key(owner, path), &object));
  *info = FileInfo{path, object->inode(), object->size(), object->cached_pages(), owner};
  return Status::OK();
}

Status FileStore::Truncate(const std::string& owner, const std::string& path, uint64_t size) {
  if (size > kMaxFileSize) {
    return Status::InvalidArgument(fmt::format("size past the largest file size ({:#x} bytes)", kMaxFileSize), "EFBIG");
  }
  const Key key(owner, path);
  std::shared_ptr<MemoryObject> object;
  TenantAccount* account = nullptr;
  MEMSERVER_RETURN_IF_ERROR(Lookup(key, &object, &account));
  const uint64_t ps = pager_->page_size();
  ReleaseBatch release;
  uint64_t old_size;
  {
    std::unique_lock<std::shared_mutex> ol(object->mu());
    old_size = object->size();
    // Growth is charged first and given back on failure; a shrink is
    // released once it is durable.
    if (size > old_size) MEMSERVER_RETURN_IF_ERROR(account->Charge(TenantResource::kFileBytes, size - old_size));
    auto refund = [&](Status s) {
      if (!s.ok() && size > old_size) account->Release(TenantResource::kFileBytes, size - old_size);
      return s;
    };
    Page* tail = nullptr;
    MEMSERVER_RETURN_IF_ERROR(refund(object->Resize(size, &release, &tail)));
    storage::WriteBatch wb;
    std::string record;
    PersistInode(object->inode(), size, key, &wb, &record);
    MEMSERVER_RETURN_IF_ERROR(refund(store_->Write(wb, /*sync=*/true)));
    if (size < old_size) account->Release(TenantResource::kFileBytes, old_size - size);
    std::vector<Page*> touched;
    if (tail != nullptr) touched.push_back(tail);
    if (size % ps != 0) {
      if (Page* last = object->Find(size / ps)) touched.push_back(last);
    }
    if (!touched.empty()) MEMSERVER_RETURN_IF_ERROR(pager_->Sync(touched));
  }
  MEMSERVER_RETURN_IF_ERROR(pager_->Flush(&release));
  const uint64_t keep = (size + ps - 1) / ps;
  MEMSERVER_RETURN_IF_ERROR(DeletePageKeys(object->inode(), keep));
  TruncateListener listener;
  {
    std::lock_guard<std::mutex> l(mu_);
    listener = truncate_listener_;
  }
  if (size < old_size && listener) listener(object.get(), keep);
  return Status::OK();
}

Status FileStore::Delete(const std::string& owner, const std::string& path) {
  MEMSERVER_RETURN_IF_ERROR(ValidatePath(path));
  std::shared_ptr<MemoryObject> object;
  TenantAccount* account = nullptr;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(Key(owner, path));
    if (it == files_.end()) return Status::NotFound(NoFile(path), "ENOENT");
    object = std::move(it->second.object);
    account = it->second.account;
    files_.erase(it);
  }
  const uint32_t inode = object->inode();
  storage::WriteBatch wb;
  wb.Delete(storage::Space::kFiles, NameKey(owner, path));
  wb.Delete(storage::Space::kFiles, keys::Inode(inode));
  MEMSERVER_RETURN_IF_ERROR(store_->Write(wb, /*sync=*/true));
  account->Release(TenantResource::kFiles, 1);
  account->Release(TenantResource::kFileBytes, object->size());
  if (object.use_count() == 1) {
    object.reset();  // nobody maps it: drop the cache, then the content
    return DeletePageKeys(inode, 0);
  }
  // Still mapped: the pages stay reachable through the mappings (as an
  // unlinked inode). Their keys are left for the mappings to use; they are
  // garbage once the last mapping goes, and are removed at the next start.
  return Status::OK();
}

std::vector<FileInfo> FileStore::List(const std::string& owner, const std::string& prefix, bool all_owners) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<FileInfo> out;
  auto add = [&](const Key& key, const Inode& inode) {
    out.push_back(FileInfo{key.second, inode.number, inode.object->size(), inode.object->cached_pages(), key.first});
  };
  if (all_owners) {
    for (const auto& [key, inode] : files_) {
      if (key.second.compare(0, prefix.size(), prefix) == 0) add(key, inode);
    }
    return out;
  }
  for (auto it = files_.lower_bound(Key(owner, prefix));
       it != files_.end() && it->first.first == owner && it->first.second.compare(0, prefix.size(), prefix) == 0;
       ++it) {
    add(it->first, it->second);
  }
  return out;
}

Status FileStore::SyncObject(MemoryObject* object) {
  std::vector<Page*> pages;
  std::shared_lock<std::shared_mutex> ol(object->mu());
  object->ForEach(0, ~0ull, [&](uint64_t, Page* page) { pages.push_back(page); });
  return pager_->Sync(pages);
}

Status FileStore::SyncAll() {
  for (const std::shared_ptr<MemoryObject>& o : Objects()) MEMSERVER_RETURN_IF_ERROR(SyncObject(o.get()));
  return Status::OK();
}

std::vector<std::shared_ptr<MemoryObject>> FileStore::Objects() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::shared_ptr<MemoryObject>> out;
  for (auto& [key, inode] : files_) out.push_back(inode.object);
  return out;
}

std::shared_ptr<MemoryObject> FileStore::ObjectByInode(uint32_t number) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [key, inode] : files_) {
    if (inode.number == number) return inode.object;
  }
  return nullptr;
}

size_t FileStore::count() {
  std::lock_guard<std::mutex> l(mu_);
  return files_.size();
}

}  // namespace memserver
