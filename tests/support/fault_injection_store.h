// FaultInjectionStore: a BackingStore wrapper for tests that makes reads or
// writes fail on demand and counts the calls that reach it.
//
//   std::unique_ptr<BackingStore> real;  // e.g. from OpenRocksDbStore
//   auto faulty = std::make_unique<FaultInjectionStore>(std::move(real));
//   FaultInjectionStore* f = faulty.get();  // keep a handle, give away faulty
//   f->FailWrites(true);   // every write now returns IOError("injected ...")
//
// Namespace test_support, not testing: a memserver::testing would shadow
// GoogleTest's ::testing inside namespace memserver.
//
// Which calls each switch governs:
//   reads:  Get, GetInto, MultiGet (every key fails), CountKeys, Scan, ScanFrom
//   writes: Put, Delete, Write, Clear, Flush, FlushSpace
// GetStats is never failed. A failed call does not reach the target, so a
// failed write changes nothing (a failed batch is atomic too).
// FailWritesAfter(n) lets the next n writes through, then fails writes until
// FailWrites(false): useful to fail the k-th write-out of an eviction.
//
// Counters count every call, failed or not: writes() counts write calls,
// gets() counts keys asked for (a MultiGet of n keys counts n).
//
// Thread-safety: all methods may be called concurrently; the switches and
// counters are atomics, and the target must be thread-safe itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "storage/backing_store.h"

namespace memserver::test_support {

class FaultInjectionStore final : public storage::BackingStore {
 public:
  explicit FaultInjectionStore(std::unique_ptr<storage::BackingStore> target)
      : target_(std::move(target)) {}
  FaultInjectionStore(const FaultInjectionStore&) = delete;
  FaultInjectionStore& operator=(const FaultInjectionStore&) = delete;

  void FailReads(bool fail) { fail_reads_.store(fail, std::memory_order_relaxed); }
  void FailWrites(bool fail) {
    writes_before_failure_.store(fail ? 0 : kNever, std::memory_order_relaxed);
  }
  void FailWritesAfter(uint64_t n) { writes_before_failure_.store(n, std::memory_order_relaxed); }

  uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }
  uint64_t gets() const { return gets_.load(std::memory_order_relaxed); }
  uint64_t failed_writes() const { return failed_writes_.load(std::memory_order_relaxed); }
  uint64_t failed_reads() const { return failed_reads_.load(std::memory_order_relaxed); }

  // The wrapped store, for checking what really reached it. Owned by this.
  storage::BackingStore* target() const { return target_.get(); }

  Status Get(storage::Space space, std::string_view key, std::string* value) override {
    gets_.fetch_add(1, std::memory_order_relaxed);
    if (ReadFails()) return Injected("read");
    return target_->Get(space, key, value);
  }

  Status GetInto(storage::Space space, std::string_view key, char* buf, size_t len) override {
    gets_.fetch_add(1, std::memory_order_relaxed);
    if (ReadFails()) return Injected("read");
    return target_->GetInto(space, key, buf, len);
  }

  void MultiGet(storage::Space space, const std::vector<std::string>& keys,
                std::vector<std::string>* values, std::vector<Status>* statuses) override {
    gets_.fetch_add(keys.size(), std::memory_order_relaxed);
    if (ReadFails()) {
      values->assign(keys.size(), std::string());
      statuses->assign(keys.size(), Injected("read"));
      return;
    }
    target_->MultiGet(space, keys, values, statuses);
  }

  Status Put(storage::Space space, std::string_view key, std::string_view value) override {
    if (WriteFails()) return Injected("write");
    return target_->Put(space, key, value);
  }

  Status Delete(storage::Space space, std::string_view key) override {
    if (WriteFails()) return Injected("write");
    return target_->Delete(space, key);
  }

  Status Write(const storage::WriteBatch& batch, bool sync) override {
    if (WriteFails()) return Injected("write");
    return target_->Write(batch, sync);
  }

  Status CountKeys(storage::Space space, uint64_t* count) override {
    if (ReadFails()) return Injected("read");
    return target_->CountKeys(space, count);
  }

  Status Scan(storage::Space space, std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    if (ReadFails()) return Injected("read");
    return target_->Scan(space, prefix, fn);
  }

  Status ScanFrom(storage::Space space, std::string_view start,
                  const std::function<bool(std::string_view, std::string_view)>& fn) override {
    if (ReadFails()) return Injected("read");
    return target_->ScanFrom(space, start, fn);
  }

  Status FlushSpace(storage::Space space) override {
    if (WriteFails()) return Injected("write");
    return target_->FlushSpace(space);
  }

  Status Clear(storage::Space space) override {
    if (WriteFails()) return Injected("write");
    return target_->Clear(space);
  }

  Status Flush() override {
    if (WriteFails()) return Injected("write");
    return target_->Flush();
  }

  storage::StoreStats GetStats() const override { return target_->GetStats(); }

 private:
  static constexpr uint64_t kNever = UINT64_MAX;

  static Status Injected(const char* what) {
    return Status::IOError(std::string("injected ") + what + " failure");
  }

  bool ReadFails() {
    if (!fail_reads_.load(std::memory_order_relaxed)) return false;
    failed_reads_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  // Counts the write and decides whether it fails: takes one from the
  // allowance of writes before failure, failing once it is zero.
  bool WriteFails() {
    writes_.fetch_add(1, std::memory_order_relaxed);
    uint64_t left = writes_before_failure_.load(std::memory_order_relaxed);
    while (left != kNever && left != 0) {
      if (writes_before_failure_.compare_exchange_weak(left, left - 1,
                                                       std::memory_order_relaxed)) {
        return false;
      }
    }
    if (left == kNever) return false;
    failed_writes_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  std::unique_ptr<storage::BackingStore> target_;
  std::atomic<bool> fail_reads_{false};
  // Writes still allowed before writes start failing; kNever: never fail.
  std::atomic<uint64_t> writes_before_failure_{kNever};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> gets_{0};
  std::atomic<uint64_t> failed_writes_{0};
  std::atomic<uint64_t> failed_reads_{0};
};

}  // namespace memserver::test_support
