#include "storage/disk_guard.h"

#include <sys/statvfs.h>

namespace memserver::storage {

DiskGuard::DiskGuard(std::string path, uint64_t reserve_bytes) : path_(std::move(path)), reserve_(reserve_bytes) {}

uint64_t DiskGuard::ReadFree() {
  struct statvfs st;
  if (statvfs(path_.c_str(), &st) != 0) return ~0ull;  // unknown: let RocksDB decide
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

uint64_t DiskGuard::free_bytes() {
  std::lock_guard<std::mutex> l(mu_);
  free_ = ReadFree();
  checked_ = std::chrono::steady_clock::now();
  written_since_ = 0;
  return free_;
}

bool DiskGuard::AllowGrowth(uint64_t bytes) {
  if (full()) return false;
  if (reserve_ == 0) return true;
  std::lock_guard<std::mutex> l(mu_);
  const auto now = std::chrono::steady_clock::now();
  written_since_ += bytes;
  if (now - checked_ >= kRecheck || written_since_ >= kRecheckBytes || free_ < reserve_ + bytes) {
    free_ = ReadFree();
    checked_ = now;
    written_since_ = 0;
  }
  return free_ >= reserve_ + bytes;
}

void DiskGuard::SetFull() { full_.store(true, std::memory_order_release); }

void DiskGuard::Recovered() { full_.store(false, std::memory_order_release); }

bool DiskGuard::ShouldTryRecovery() {
  std::lock_guard<std::mutex> l(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - tried_ < kRecheck) return false;
  tried_ = now;
  return true;
}

}  // namespace memserver::storage
