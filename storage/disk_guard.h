// DiskGuard: keeps RocksDB from ever meeting a full disk on the writes the
// engine issues, and notices when space comes back.
//
// Why: RocksDB 7.8 (Debian 12, built with assertions on) aborts the whole
// process when a file writer that saw a failed write is used again
// ("writable_file_writer.h: Assertion `sync_without_flush_called_' failed").
// Its info LOG was the writer seen doing that on a full disk; it no longer
// goes to a file (rocksdb_logger.h). A write-ahead-log append after a failed
// one would do the same, and a full disk makes flushes fail. So the store
// (1) refuses, itself, writes that add data while the filesystem's free
// space is below a reserve, (2) after any write reports no space, refuses
// every write until RocksDB has resumed, and (3) serializes its WAL writes,
// so that no second WAL append can follow a failed one concurrently.
//
// Free space is read with statvfs at most every kRecheck or after kRecheckBytes
// written, whichever comes first.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace memserver::storage {

class DiskGuard {
 public:
  static constexpr std::chrono::milliseconds kRecheck{100};
  static constexpr uint64_t kRecheckBytes = 4ull << 20;

  // `path`: a directory on the guarded filesystem. reserve_bytes: free space
  // kept for RocksDB's own flushes, compactions and logs (0: no reserve).
  DiskGuard(std::string path, uint64_t reserve_bytes);

  // May a write adding `bytes` go to RocksDB now?
  bool AllowGrowth(uint64_t bytes);
  // A write failed for lack of space (ours or RocksDB's): nothing but
  // recovery attempts goes through until Recovered().
  void SetFull();
  void Recovered();
  bool full() const { return full_.load(std::memory_order_acquire); }
  // True at most once per kRecheck while full: time to try resuming.
  bool ShouldTryRecovery();
  // Free bytes as last read, and the reserve.
  uint64_t free_bytes();
  uint64_t reserve_bytes() const { return reserve_; }

 private:
  uint64_t ReadFree();

  const std::string path_;
  const uint64_t reserve_;
  std::atomic<bool> full_{false};
  std::mutex mu_;  // leaf
  std::chrono::steady_clock::time_point checked_;  // GUARDED_BY(mu_)
  uint64_t free_ = ~0ull;                          // GUARDED_BY(mu_)
  uint64_t written_since_ = 0;                     // GUARDED_BY(mu_)
  std::chrono::steady_clock::time_point tried_;    // GUARDED_BY(mu_)
};

}  // namespace memserver::storage
