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

void Process::RenewLease() {
  CheckOwned("RenewLease");
  client_->RenewLease(pid_);
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

uint64_t Process::Mmap(const MmapArgs& args) {
  CheckOwned("Mmap");
  return client_->Mmap(pid_, args);
}

uint64_t Process::MmapFile(std::string_view path, uint64_t offset, uint64_t length, uint32_t prot,
                           uint32_t flags, uint64_t addr) {
  CheckOwned("MmapFile");
  MmapArgs args;
  args.addr = addr;
  args.length = length;
  args.prot = prot;
  args.flags = flags;
  args.path = std::string(path);
  args.offset = offset;
  return client_->Mmap(pid_, args);
}

void Process::Munmap(uint64_t addr, uint64_t length) {
  CheckOwned("Munmap");
  client_->Munmap(pid_, addr, length);
}

void Process::Mprotect(uint64_t addr, uint64_t length, uint32_t prot) {
  CheckOwned("Mprotect");
  client_->Mprotect(pid_, addr, length, prot);
}

uint64_t Process::Mremap(uint64_t old_addr, uint64_t old_size, uint64_t new_size, uint32_t flags,
                         uint64_t new_addr) {
  CheckOwned("Mremap");
  return client_->Mremap(pid_, old_addr, old_size, new_size, flags, new_addr);
}

uint64_t Process::Brk(uint64_t addr) {
  CheckOwned("Brk");
  return client_->Brk(pid_, addr);
}

uint64_t Process::Sbrk(int64_t increment) {
  CheckOwned("Sbrk");
  return client_->Sbrk(pid_, increment);
}

void Process::Mlock(uint64_t addr, uint64_t length) {
  CheckOwned("Mlock");
  client_->Mlock(pid_, addr, length);
}

void Process::Munlock(uint64_t addr, uint64_t length) {
  CheckOwned("Munlock");
  client_->Munlock(pid_, addr, length);
}

void Process::Mlockall(uint32_t flags) {
  CheckOwned("Mlockall");
  client_->Mlockall(pid_, flags);
}

void Process::Munlockall() {
  CheckOwned("Munlockall");
  client_->Munlockall(pid_);
}

void Process::Madvise(uint64_t addr, uint64_t length, Advice advice) {
  CheckOwned("Madvise");
  client_->Madvise(pid_, addr, length, advice);
}

void Process::Msync(uint64_t addr, uint64_t length, uint32_t flags) {
  CheckOwned("Msync");
  client_->Msync(pid_, addr, length, flags);
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

Process Process::Fork() {
  CheckOwned("Fork");
  return client_->Fork(pid_);
}

ExecImage Process::Exec(std::string_view path) {
  CheckOwned("Exec");
  return client_->Exec(pid_, path);
}

Limits Process::GetLimits() {
  CheckOwned("GetLimits");
  return client_->GetLimits(pid_);
}

void Process::SetLimits(const Limits& limits) {
  CheckOwned("SetLimits");
  client_->SetLimits(pid_, limits);
}

uint64_t Process::Malloc(uint64_t size) {
  CheckOwned("Malloc");
  return client_->Malloc(pid_, size);
}

uint64_t Process::Calloc(uint64_t count, uint64_t size) {
  CheckOwned("Calloc");
  return client_->Calloc(pid_, count, size);
}

uint64_t Process::Realloc(uint64_t addr, uint64_t size) {
  CheckOwned("Realloc");
  return client_->Realloc(pid_, addr, size);
}

void Process::Free(uint64_t addr) {
  CheckOwned("Free");
  client_->Free(pid_, addr);
}

}  // namespace memserver::client
