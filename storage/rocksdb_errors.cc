#include "storage/rocksdb_errors.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <string>

namespace memserver::storage {

namespace {

// At most one detailed log line per second: a full disk fails every write.
void LogDetail(std::string_view what, const rocksdb::Status& s) {
  static std::atomic<int64_t> last_ms{0};
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t last = last_ms.load(std::memory_order_relaxed);
  if (now - last < 1000 || !last_ms.compare_exchange_strong(last, now)) return;
  spdlog::warn("backing store: {}: {}", what, s.ToString());
}

}  // namespace

Status NoSpace(std::string_view what) {
  return Status(StatusCode::kResourceExhausted,
                std::string(what) +
                    ": the backing store's disk is full; writes resume by themselves once space is freed",
                "ENOSPC");
}

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::OK();
  if (s.IsNotFound()) return Status(StatusCode::kNotFound, std::string(what) + ": not found", nullptr);
  LogDetail(what, s);
  // NoSpace is an IOError subcode; out of disk is worth telling apart.
  if (s.IsNoSpace()) return NoSpace(what);
  if (s.IsIOError()) return Status::IOError(std::string(what) + ": I/O error in the backing store (see the server log)");
  if (s.IsCorruption()) {
    return Status(StatusCode::kDataLoss, std::string(what) + ": the backing store is corrupt (see the server log)", "EIO");
  }
  // Transient states of the DB: retrying later may succeed.
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut() || s.IsShutdownInProgress() || s.IsIncomplete()) {
    return Status::Unavailable(std::string(what) + ": the backing store is busy; retry");
  }
  // InvalidArgument, NotSupported, ... from RocksDB are bugs in how we call
  // it, not something the client could fix.
  return Status::Internal(std::string(what) + ": internal error in the backing store (see the server log)");
}

}  // namespace memserver::storage
