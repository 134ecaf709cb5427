// RocksDB implementation of storage::BackingStore.
//
// A full disk (disk_guard.h): writes that add data are refused by the store
// itself while free space is below RocksDB's reserve; once any write fails
// for lack of space every write is refused (ENOSPC, with a message that
// names no path) until RocksDB has resumed, which the store attempts at
// most every 100 ms and which RocksDB's SstFileManager also does by itself
// when space returns. Reads keep working throughout. WAL writes are
// serialized (wal_mu_) so that none follows a failed one concurrently.
//
// One database, one column family per Space ("swap", "files", "meta") plus
// "default", which RocksDB always requires and we leave empty. Column family
// handles are created at open and destroyed before the DB in the destructor;
// between the two they are immutable, and rocksdb::DB is thread-safe, so the
// store needs no lock of its own. Statistics are relaxed atomics: they are
// counters for reporting, never used to order other memory accesses.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/listener.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include "storage/backing_store.h"
#include "storage/disk_guard.h"
#include "storage/rocksdb_errors.h"
#include "storage/rocksdb_logger.h"

namespace memserver::storage {
namespace {

constexpr const char* kDefaultColumnFamily = "default";

// Up to 16 bytes of a key in hex, for error messages (keys are binary).
std::string KeyForMessage(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  const size_t n = std::min<size_t>(key.size(), 16);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(key[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  if (key.size() > n) out += "...";
  if (key.empty()) out = "<empty>";
  return out;
}

// Options shared by the three column families. The table factory (and
// through it the block cache) is shared so the cache budget is global.
rocksdb::ColumnFamilyOptions MakeColumnFamilyOptions(
    const RocksDbOptions& options, const std::shared_ptr<rocksdb::TableFactory>& table) {
  rocksdb::ColumnFamilyOptions cf;
  cf.table_factory = table;
  // Memtable size from options: a larger memtable absorbs repeated evictions
  // of the same hot page before they reach an SST file.
  cf.write_buffer_size = static_cast<size_t>(options.write_buffer_bytes);
  // The engine only reads keys it wrote (a swapped-out page, an existing
  // file page), so lookups nearly always hit. optimize_filters_for_hits
  // drops the bloom filters of the last level, which would only help misses,
  // and keeps the filters of upper levels that save reads on hits too.
  cf.optimize_filters_for_hits = true;
  if (options.compress) {
    // LZ4: cheap in CPU, and pages of real programs (zero runs, pointers,
    // text) compress well. Debian's librocksdb links liblz4, but we still ask
    // the library at run time and fall back to no compression rather than
    // failing to open when a build lacks it.
    const auto supported = rocksdb::GetSupportedCompressions();
    const bool has_lz4 = std::find(supported.begin(), supported.end(),
                                   rocksdb::kLZ4Compression) != supported.end();
    cf.compression = has_lz4 ? rocksdb::kLZ4Compression : rocksdb::kNoCompression;
  } else {
    cf.compression = rocksdb::kNoCompression;
  }
  return cf;
}

// Background errors (a flush or compaction that found no space) stop
// RocksDB's writes: the guard learns of it, and of the recovery.
class GuardListener final : public rocksdb::EventListener {
 public:
  explicit GuardListener(DiskGuard* guard) : guard_(guard) {}
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* bg_error) override {
    if (bg_error == nullptr || bg_error->ok()) return;
    guard_->SetFull();
    spdlog::warn("backing store: a background flush or compaction failed, writes stop until it recovers: {}",
                 bg_error->ToString());
  }
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (!info.new_bg_error.ok()) return;
    guard_->Recovered();
    spdlog::info("backing store: recovered from a background error; writes resume");
  }

 private:
  DiskGuard* const guard_;
};

class RocksDbStore final : public BackingStore {
 public:
  RocksDbStore() = default;
  RocksDbStore(const RocksDbStore&) = delete;
  RocksDbStore& operator=(const RocksDbStore&) = delete;

  ~RocksDbStore() override {
    if (db_ == nullptr) return;
    // Handles must go before the DB. Close() flushes memtables holding data
    // written without the WAL (avoid_flush_during_shutdown is false), so swap
    // written since the last Flush survives a clean shutdown too.
    for (auto* handle : handles_) {
      if (handle != nullptr) db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
    }
    handles_.clear();
    db_->Close().PermitUncheckedError();  // nothing to report to in a destructor
    delete db_;
  }

  Status Open(const RocksDbOptions& options) {
    if (options.path.empty()) return Status::InvalidArgument("RocksDB store path is empty");
    // RocksDB creates only the last component of the path; create the parents
    // too so that a fresh --data-dir like /var/lib/memserver/db just works.
    std::error_code ec;
    std::filesystem::create_directories(options.path, ec);
    if (ec) {
      return Status::IOError("creating RocksDB directory " + options.path + ": " + ec.message());
    }

    // A small LRU block cache: the engine's frame pool is the real page
    // cache, this one only holds index/filter blocks and recently read data
    // blocks. One cache shared by every column family.
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(static_cast<size_t>(options.block_cache_bytes));
    // Bloom filters, 10 bits/key (~1% false positives): almost every read is
    // a point lookup, and a filter lets it skip SST files not holding the key.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    auto table_factory =
        std::shared_ptr<rocksdb::TableFactory>(rocksdb::NewBlockBasedTableFactory(table));
    const rocksdb::ColumnFamilyOptions cf_options = MakeColumnFamilyOptions(options, table_factory);

    guard_ = std::make_unique<DiskGuard>(options.path, options.disk_reserve_bytes);
    rocksdb::DBOptions db_options;
    db_options.create_if_missing = true;
    // Recovers by itself from a background error caused by a full disk once
    // space is freed (RocksDB's error handler polls through it).
    db_options.sst_file_manager.reset(rocksdb::NewSstFileManager(rocksdb::Env::Default()));
    db_options.listeners.push_back(std::make_shared<GuardListener>(guard_.get()));
    db_options.create_missing_column_families = true;
    // No LOG file: RocksDB's info log goes to the server's log, where a full
    // disk cannot make a log line abort the server (rocksdb_logger.h).
    db_options.info_log = NewSpdlogRocksDbLogger();
    // Flushes and compactions share two background threads: the target
    // machine has two cores, and the engine's own threads need them too.
    db_options.max_background_jobs = 2;

    if (options.destroy_existing) {
      rocksdb::Options destroy_options(db_options, cf_options);
      rocksdb::Status s = rocksdb::DestroyDB(options.path, destroy_options);
      if (!s.ok()) return Status::IOError("destroying RocksDB at " + options.path + ": " + s.ToString());
    }

    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(kDefaultColumnFamily, cf_options);
    for (int i = 0; i < kNumSpaces; ++i) {
      descriptors.emplace_back(SpaceName(static_cast<Space>(i)), cf_options);
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &db_);
    if (!s.ok()) {
      db_ = nullptr;
      // For the operator, who gave the path: RocksDB's own words.
      return Status(FromRocks(s, "").code(), "opening RocksDB at " + options.path + ": " + s.ToString(), nullptr);
    }
    // handles[0] is "default", then one per Space in enum order. Every handle
    // DB::Open returns, default included, is ours to destroy (destructor).
    handles_ = std::move(handles);
    return Status::OK();
  }

  Status Get(Space space, std::string_view key, std::string* value) override {
    if (!ValidSpace(space)) return InvalidSpace(space);
    gets_.fetch_add(1, std::memory_order_relaxed);
    rocksdb::PinnableSlice pinned;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Handle(space), ToSlice(key), &pinned);
    if (!s.ok()) return FromRocks(s, Describe("get", space, key));
    value->assign(pinned.data(), pinned.size());
    bytes_read_.fetch_add(pinned.size(), std::memory_order_relaxed);
    return Status::OK();
  }

  Status GetInto(Space space, std::string_view key, char* buf, size_t len) override {
    if (!ValidSpace(space)) return InvalidSpace(space);
    gets_.fetch_add(1, std::memory_order_relaxed);
    // PinnableSlice avoids a copy into a temporary string: the value is read
    // straight out of the block cache or memtable into the caller's frame.
    rocksdb::PinnableSlice pinned;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Handle(space), ToSlice(key), &pinned);
    if (!s.ok()) return FromRocks(s, Describe("get", space, key));
    if (pinned.size() != len) {
      return Status(StatusCode::kDataLoss,
                    Describe("get", space, key) + ": stored value has " +
                        std::to_string(pinned.size()) + " bytes, expected " + std::to_string(len),
                    "EIO");
    }
    if (len != 0) std::memcpy(buf, pinned.data(), len);
    bytes_read_.fetch_add(len, std::memory_order_relaxed);
    return Status::OK();
  }

  void MultiGet(Space space, const std::vector<std::string>& keys,
                std::vector<std::string>* values, std::vector<Status>* statuses) override {
    const size_t n = keys.size();
    values->assign(n, std::string());
    statuses->assign(n, Status::OK());
    if (n == 0) return;
    if (!ValidSpace(space)) {
      statuses->assign(n, InvalidSpace(space));
      return;
    }
    gets_.fetch_add(n, std::memory_order_relaxed);
    std::vector<rocksdb::Slice> slices;
    slices.reserve(n);
    for (const auto& k : keys) slices.emplace_back(k);
    std::vector<rocksdb::PinnableSlice> pinned(n);
    std::vector<rocksdb::Status> rs(n);
    // The batched overload: one pass over memtables and SST files for all
    // keys, with parallel block reads where the platform allows.
    db_->MultiGet(rocksdb::ReadOptions(), Handle(space), n, slices.data(), pinned.data(),
                  rs.data());
    uint64_t read = 0;
    for (size_t i = 0; i < n; ++i) {
      if (rs[i].ok()) {
        (*values)[i].assign(pinned[i].data(), pinned[i].size());
        read += pinned[i].size();
      } else {
        (*statuses)[i] = FromRocks(rs[i], Describe("multiget", space, keys[i]));
      }
    }
    bytes_read_.fetch_add(read, std::memory_order_relaxed);
  }

  Status Put(Space space, std::string_view key, std::string_view value) override {
    WriteBatch batch;
    batch.Put(space, key, value);
    return Write(batch, /*sync=*/false);
  }

  Status Delete(Space space, std::string_view key) override {
    WriteBatch batch;
    batch.Delete(space, key);
    return Write(batch, /*sync=*/false);
  }

  Status Write(const WriteBatch& batch, bool sync) override {
    if (batch.empty()) return Status::OK();
    rocksdb::WriteBatch rb;
    bool only_swap = true;
    uint64_t puts = 0, deletes = 0, bytes = 0;
    for (const auto& op : batch.ops()) {
      if (!ValidSpace(op.space)) return InvalidSpace(op.space);
      only_swap = only_swap && op.space == Space::kSwap;
      rocksdb::Status s = op.is_put
                              ? rb.Put(Handle(op.space), ToSlice(op.key), ToSlice(op.value))
                              : rb.Delete(Handle(op.space), ToSlice(op.key));
      if (!s.ok()) return FromRocks(s, "building write batch");
      if (op.is_put) {
        ++puts;
        bytes += op.value.size();
      } else {
        ++deletes;
      }
    }
    const std::string what = "write of " + std::to_string(batch.size()) + " ops";
    MEMSERVER_RETURN_IF_ERROR(Admit(what, puts > 0 ? bytes + batch.size() * 32 : 0));
    const rocksdb::WriteOptions wo = WriteOptionsFor(only_swap, sync);
    std::unique_lock<std::mutex> wal(wal_mu_, std::defer_lock);
    if (!wo.disableWAL) {
      wal.lock();
      if (guard_->full()) return NoSpace(what);  // failed while we waited
    }
    rocksdb::Status s = db_->Write(wo, &rb);
    if (!s.ok()) {
      guard_->SetFull();  // no write reaches RocksDB until it has resumed
      return FromRocks(s, what);
    }
    puts_.fetch_add(puts, std::memory_order_relaxed);
    deletes_.fetch_add(deletes, std::memory_order_relaxed);
    bytes_written_.fetch_add(bytes, std::memory_order_relaxed);
    return Status::OK();
  }

  Status CountKeys(Space space, uint64_t* count) override {
    if (!ValidSpace(space)) return InvalidSpace(space);
    uint64_t n = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ScanOptions(), Handle(space)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    if (!it->status().ok()) return FromRocks(it->status(), Describe("count keys", space, {}));
    *count = n;
    return Status::OK();
  }

  Status Scan(Space space, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    if (!ValidSpace(space)) return InvalidSpace(space);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ScanOptions(), Handle(space)));
    for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
      const rocksdb::Slice k = it->key();
      if (!k.starts_with(ToSlice(prefix))) break;
      const rocksdb::Slice v = it->value();
      if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
    }
    if (!it->status().ok()) return FromRocks(it->status(), Describe("scan", space, prefix));
    return Status::OK();
  }

  // Keys are arbitrary bytes, so no fixed end key sorts after all of them.
  // Under the bytewise comparator "" is the smallest key; we find the
  // largest one present and delete ["", last) with one range tombstone plus
  // `last` with a point delete, in one atomic batch. Keys written
  // concurrently with Clear may survive it; keys written before it do not.
  Status Clear(Space space) override {
    if (!ValidSpace(space)) return InvalidSpace(space);
    std::string last;
    {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ScanOptions(), Handle(space)));
      it->SeekToLast();
      if (!it->status().ok()) return FromRocks(it->status(), Describe("clear", space, {}));
      if (!it->Valid()) return Status::OK();  // already empty
      last = it->key().ToString();
    }
    rocksdb::WriteBatch rb;
    rocksdb::Status s;
    // DeleteRange needs begin < end; when the only key is "" the point
    // delete alone covers it.
    if (!last.empty()) s = rb.DeleteRange(Handle(space), rocksdb::Slice(), last);
    if (s.ok()) s = rb.Delete(Handle(space), last);
    if (!s.ok()) return FromRocks(s, "building clear batch");
    // Clear always goes through the WAL, even for swap: it is rare, and a
    // cleared space must not come back after a crash with old contents
    // flushed to SST files before the clear.
    MEMSERVER_RETURN_IF_ERROR(Admit("clear", 0));
    std::lock_guard<std::mutex> wal(wal_mu_);
    rocksdb::WriteOptions wo;
    s = db_->Write(wo, &rb);
    if (!s.ok()) {
      guard_->SetFull();
      return FromRocks(s, Describe("clear", space, {}));
    }
    return Status::OK();
  }

  Status Flush() override {
    MEMSERVER_RETURN_IF_ERROR(Admit("flush", 0));
    // Sync the WAL first (files/meta durability), then write every memtable
    // to SST files, which is what persists swap written without the WAL.
    {
      std::lock_guard<std::mutex> wal(wal_mu_);
      rocksdb::Status s = db_->FlushWAL(/*sync=*/true);
      if (!s.ok()) {
        guard_->SetFull();
        return FromRocks(s, "flushing the write-ahead log");
      }
    }
    std::vector<rocksdb::ColumnFamilyHandle*> spaces(handles_.begin() + 1, handles_.end());
    return FlushHandles(spaces, "flushing memtables");
  }

  Status FlushSpace(Space space) override {
    if (!ValidSpace(space)) return InvalidSpace(space);
    MEMSERVER_RETURN_IF_ERROR(Admit("flush", 0));
    return FlushHandles({Handle(space)}, Describe("flush", space, {}));
  }

  Status ScanFrom(Space space, std::string_view start,
                  const std::function<bool(std::string_view, std::string_view)>& fn) override {
    if (!ValidSpace(space)) return InvalidSpace(space);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ScanOptions(), Handle(space)));
    for (it->Seek(ToSlice(start)); it->Valid(); it->Next()) {
      const rocksdb::Slice k = it->key();
      const rocksdb::Slice v = it->value();
      if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
    }
    if (!it->status().ok()) return FromRocks(it->status(), Describe("scan", space, start));
    return Status::OK();
  }

  StoreStats GetStats() const override {
    StoreStats st;
    st.bytes_written = bytes_written_.load(std::memory_order_relaxed);
    st.bytes_read = bytes_read_.load(std::memory_order_relaxed);
    st.puts = puts_.load(std::memory_order_relaxed);
    st.gets = gets_.load(std::memory_order_relaxed);
    st.deletes = deletes_.load(std::memory_order_relaxed);
    return st;
  }

 private:
  static rocksdb::Slice ToSlice(std::string_view v) { return rocksdb::Slice(v.data(), v.size()); }

  // May a write adding `grow` bytes (0: none) go to RocksDB? While the disk
  // is full, tries (rate-limited) to resume RocksDB first.
  Status Admit(std::string_view what, uint64_t grow) {
    if (guard_->full()) {
      if (!guard_->ShouldTryRecovery() ||
          (guard_->reserve_bytes() > 0 && guard_->free_bytes() < guard_->reserve_bytes())) {
        return NoSpace(what);
      }
      std::lock_guard<std::mutex> wal(wal_mu_);
      rocksdb::Status r = db_->Resume();
      if (!r.ok()) return NoSpace(what);
      guard_->Recovered();
    }
    if (grow > 0 && !guard_->AllowGrowth(grow)) return NoSpace(what);
    return Status::OK();
  }

  Status FlushHandles(const std::vector<rocksdb::ColumnFamilyHandle*>& handles, const std::string& what) {
    rocksdb::FlushOptions fo;
    fo.wait = true;
    rocksdb::Status s = db_->Flush(fo, handles);
    if (!s.ok()) {
      if (s.IsNoSpace() || s.IsIOError()) guard_->SetFull();
      return FromRocks(s, what);
    }
    return Status::OK();
  }

  static bool ValidSpace(Space space) {
    return static_cast<int>(space) >= 0 && static_cast<int>(space) < kNumSpaces;
  }
  static Status InvalidSpace(Space space) {
    return Status::InvalidArgument("unknown storage space " +
                                   std::to_string(static_cast<int>(space)));
  }

  // REQUIRES: ValidSpace(space).
  rocksdb::ColumnFamilyHandle* Handle(Space space) const {
    return handles_[static_cast<size_t>(space) + 1];
  }

  static std::string Describe(const char* op, Space space, std::string_view key) {
    std::string out = std::string(op) + " in space " + SpaceName(space);
    if (!key.empty()) out += " key " + KeyForMessage(key);
    return out;
  }

  // Swap pages have no meaning after a crash (every process that owned them
  // is gone), so a batch of swap-only writes skips the WAL: one write instead
  // of two per evicted page. A `sync` batch asks for durability, which needs
  // the WAL (RocksDB rejects sync with disableWAL), so it uses WAL + fsync.
  // A batch touching files or meta always uses the WAL, since it is atomic
  // and those spaces must survive a crash.
  static rocksdb::WriteOptions WriteOptionsFor(bool only_swap, bool sync) {
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    wo.disableWAL = only_swap && !sync;
    return wo;
  }

  // Full scans (CountKeys, Scan, Clear) would evict the few hot blocks of
  // the small block cache; they read around it.
  static rocksdb::ReadOptions ScanOptions() {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    return ro;
  }

  std::unique_ptr<DiskGuard> guard_;                 // before db_: its listener borrows it
  std::mutex wal_mu_;                                // serializes writes that use the WAL
  rocksdb::DB* db_ = nullptr;                        // owned; deleted after handles_
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // [default, swap, files, meta]

  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> bytes_read_{0};
  std::atomic<uint64_t> puts_{0};
  std::atomic<uint64_t> gets_{0};
  std::atomic<uint64_t> deletes_{0};
};

}  // namespace

Status OpenRocksDbStore(const RocksDbOptions& options, std::unique_ptr<BackingStore>* store) {
  auto db = std::make_unique<RocksDbStore>();
  MEMSERVER_RETURN_IF_ERROR(db->Open(options));
  *store = std::move(db);
  return Status::OK();
}

}  // namespace memserver::storage
