#include "client/lib/process.h"

#include <spdlog/spdlog.h>

#include <limits>

#include "client/lib/client.h"

namespace memserver::client {

Process::~Process() { ExitQuietly(); }

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    ExitQuietly();
    client_ = other.client_;
    pid_ = other.Release();
  }
  return *this;
}

uint64_t Process::Release() noexcept {
  uint64_t pid = pid_;
  pid_ = 0;
  return pid;
}

void Process::Exit() {
  CheckOwned("Exit");
  client_->Exit(Release());
}

void Process::ExitQuietly() noexcept {
  if (pid_ == 0) return;
  uint64_t pid = Release();
  try {
    client_->Exit(pid);
  } catch (const std::exception& e) {
    try {
      spdlog::warn("memserver client: could not exit process {}: {}", pid, e.what());
    } catch (...) {
      // Logging failed too; nothing else can be done in a destructor.
    }
  }
}

void Process::CheckOwned(const char* what) const {
  if (pid_ == 0) {
    throw Error(grpc::StatusCode::FAILED_PRECONDITION,
                std::string("Process::") + what +
                    " on an empty handle (released, moved from or exited)");
  }
}

uint64_t Process::ArrayBytes(size_t count, size_t size) {
  if (size != 0 && count > std::numeric_limits<uint64_t>::max() / size) {
    throw Error(grpc::StatusCode::INVALID_ARGUMENT, "array of " + std::to_string(count) +
                                                        " elements overflows 64 bits");
  }
  return static_cast<uint64_t>(count) * size;
}

uint64_t Process::Mmap(uint64_t addr, uint64_t length, uint32_t prot, uint32_t flags) {
  CheckOwned("Mmap");
  return client_->Mmap(pid_, addr, length, prot, flags);
}

void Process::Munmap(uint64_t addr, uint64_t length) {
  CheckOwned("Munmap");
  client_->Munmap(pid_, addr, length);
}

void Process::Mprotect(uint64_t addr, uint64_t length, uint32_t prot) {
  CheckOwned("Mprotect");
  client_->Mprotect(pid_, addr, length, prot);
}

std::string Process::Read(uint64_t addr, uint64_t length) {
  CheckOwned("Read");
  return client_->Read(pid_, addr, length);
}

void Process::Write(uint64_t addr, std::string_view data) {
  CheckOwned("Write");
  client_->Write(pid_, addr, data);
}

ProcessStats Process::Stats() {
  CheckOwned("Stats");
  return client_->GetStats(pid_).process;
}

std::vector<Mapping> Process::Mappings() {
  CheckOwned("Mappings");
  return client_->ListMappings(pid_);
}

}  // namespace memserver::client
