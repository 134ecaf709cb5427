// BackingStore: where pages live when they are not in a frame.
//
// One store holds several key spaces (RocksDB column families in the real
// implementation): swapped-out anonymous pages, file contents, metadata.
// Keys are opaque byte strings chosen by the engine; swap keys are the 8-byte
// big-endian page id (see server/vm/page.h).
//
// Thread-safety: every method may be called concurrently from many threads.
// The engine never holds one of its own locks across a call into the store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"

namespace memserver::storage {

enum class Space : int {
  kSwap = 0,   // anonymous pages evicted from frames
  kFiles = 1,  // file store: file pages and inodes
  kMeta = 2,   // engine metadata (process tables, checkpoints)
};
inline constexpr int kNumSpaces = 3;
const char* SpaceName(Space s);

// A set of puts and deletes applied atomically by BackingStore::Write.
// Values are borrowed: every string_view passed to Put must stay valid until
// Write returns (the engine keeps the frames it writes from pinned).
class WriteBatch {
 public:
  struct Op {
    bool is_put;
    Space space;
    std::string key;
    std::string_view value;  // empty for a delete
  };
  void Put(Space space, std::string_view key, std::string_view value) {
    ops_.push_back(Op{true, space, std::string(key), value});
  }
  void Delete(Space space, std::string_view key) {
    ops_.push_back(Op{false, space, std::string(key), {}});
  }
  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  void Clear() { ops_.clear(); }

 private:
  std::vector<Op> ops_;
};

struct StoreStats {
  uint64_t bytes_written = 0;  // value bytes put through this store
  uint64_t bytes_read = 0;     // value bytes returned by Get/MultiGet
  uint64_t puts = 0;
  uint64_t gets = 0;
  uint64_t deletes = 0;
};

class BackingStore {
 public:
  virtual ~BackingStore() = default;

  // Reads `key` into `value`. Returns NotFound (code kNotFound) when the key
  // is absent; any other error is an I/O failure.
  virtual Status Get(Space space, std::string_view key, std::string* value) = 0;

  // Reads `key` into buf[0, len). The stored value must be exactly `len`
  // bytes, otherwise DataLoss-style Internal error. NotFound when absent.
  virtual Status GetInto(Space space, std::string_view key, char* buf, size_t len) = 0;

  // Reads several keys of one space in one call (RocksDB MultiGet).
  // (*statuses)[i] is the result for keys[i]; (*values)[i] its value.
  virtual void MultiGet(Space space, const std::vector<std::string>& keys,
                        std::vector<std::string>* values, std::vector<Status>* statuses) = 0;

  virtual Status Put(Space space, std::string_view key, std::string_view value) = 0;
  virtual Status Delete(Space space, std::string_view key) = 0;

  // Applies every op of `batch` atomically. `sync` makes it durable (fsync of
  // the write-ahead log) before returning; without it, writes to kSwap skip
  // the log entirely (swap has no meaning after a crash).
  virtual Status Write(const WriteBatch& batch, bool sync) = 0;

  // Exact number of keys in `space` (a full scan: for tests and stats).
  virtual Status CountKeys(Space space, uint64_t* count) = 0;

  // Calls fn(key, value) for each key of `space` starting with `prefix`, in
  // key order. Stops early when fn returns false.
  virtual Status Scan(Space space, std::string_view prefix,
                      const std::function<bool(std::string_view, std::string_view)>& fn) = 0;

  // Calls fn(key, value) for each key of `space` at or after `start`, in key
  // order, until fn returns false.
  virtual Status ScanFrom(Space space, std::string_view start,
                          const std::function<bool(std::string_view, std::string_view)>& fn) = 0;

  // Makes everything written to `space` so far durable, also what was
  // written without the WAL (a memtable flush of that space).
  virtual Status FlushSpace(Space space) = 0;

  // Deletes every key of `space` (RocksDB DeleteRange over the whole space).
  virtual Status Clear(Space space) = 0;

  // Makes everything written so far durable (flushes memtables and the log).
  virtual Status Flush() = 0;

  virtual StoreStats GetStats() const = 0;
};

// Options for the RocksDB implementation. Defaults are chosen for a swap
// device, see storage/rocksdb_store.cc for the reasoning behind each.
struct RocksDbOptions {
  // Directory of the database; created when missing.
  std::string path;
  // RocksDB block cache. The frame pool is the real cache, so this is small.
  // Default: 8 MiB.
  uint64_t block_cache_bytes = 8ull << 20;
  // Memtable size per column family. Default: 64 MiB.
  uint64_t write_buffer_bytes = 64ull << 20;
  // Compress pages with LZ4 (cheap; pages of real programs compress well).
  // Default: true.
  bool compress = true;
  // Remove any existing database at `path` before opening. Default: false.
  bool destroy_existing = false;
  // Free space the store keeps on the data directory's filesystem for
  // RocksDB's own flushes, compactions and logs: a write that adds data is
  // refused with RESOURCE_EXHAUSTED [ENOSPC] rather than let RocksDB meet a
  // full disk (storage/disk_guard.h). 0: no reserve. Default: 64 MiB.
  uint64_t disk_reserve_bytes = 64ull << 20;
};

// Opens (creating if needed) the RocksDB store at options.path.
Status OpenRocksDbStore(const RocksDbOptions& options, std::unique_ptr<BackingStore>* store);

// 8-byte big-endian encoding of a 64-bit id: keys sort in numeric order.
std::string EncodeU64Key(uint64_t id);
uint64_t DecodeU64Key(std::string_view key);

}  // namespace memserver::storage
