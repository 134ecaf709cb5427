// Process: an RAII handle on one remote process of a memserver.
//
// The handle owns the process: its destructor calls Exit() unless the handle
// was released, moved from, or exited explicitly. The destructor never
// throws; a failed Exit there (server gone, process already exited by someone
// else) is logged and otherwise ignored. Call Exit() explicitly to see errors.
//
// A Process borrows its Client, which must outlive it. Like any object it is
// not safe to use one handle from several threads at once (the remote process
// itself may be used concurrently through several clients).
//
// Every method except pid(), owns(), Release() and the destructor requires a
// handle that owns a process; on an empty handle it throws Error with code
// FAILED_PRECONDITION without contacting the server. Errors of the calls are
// those of the matching Client method (see client.h).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "client/lib/error.h"
#include "client/lib/types.h"

namespace memserver::client {

class Client;

class Process {
 public:
  // Adopts process `pid` of `client`'s server (e.g. one released earlier).
  Process(Client& client, uint64_t pid) : client_(&client), pid_(pid) {}
  ~Process();

  Process(Process&& other) noexcept : client_(other.client_), pid_(other.Release()) {}
  // Exits the process this handle owned (errors ignored, as the destructor),
  // then takes over `other`'s.
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // The pid, or 0 when the handle is empty.
  uint64_t pid() const { return pid_; }
  bool owns() const { return pid_ != 0; }
  Client& client() const { return *client_; }

  // Gives up ownership: returns the pid and leaves the handle empty; the
  // process stays alive on the server.
  uint64_t Release() noexcept;
  // Exits the process now and leaves the handle empty, also when Exit fails
  // (the error is thrown; the process is then not owned by anyone).
  void Exit();
  // See Client::RenewLease.
  void RenewLease();

  // See Client::Mmap; `addr` is a hint (0: none) unless flags has kMapFixed*.
  uint64_t Mmap(uint64_t addr, uint64_t length, uint32_t prot = kProtRead | kProtWrite,
                uint32_t flags = kMapPrivate | kMapAnonymous);
  // See Client::Mmap(pid, MmapArgs): anonymous or file mappings, any flags.
  uint64_t Mmap(const MmapArgs& args);
  // Maps `length` bytes of the file-store file `path` from page-aligned
  // `offset`: Mmap(MmapArgs) without kMapAnonymous.
  uint64_t MmapFile(std::string_view path, uint64_t offset, uint64_t length,
                    uint32_t prot = kProtRead | kProtWrite, uint32_t flags = kMapShared,
                    uint64_t addr = 0);
  void Munmap(uint64_t addr, uint64_t length);
  void Mprotect(uint64_t addr, uint64_t length, uint32_t prot);
  uint64_t Mremap(uint64_t old_addr, uint64_t old_size, uint64_t new_size, uint32_t flags = 0,
                  uint64_t new_addr = 0);
  uint64_t Brk(uint64_t addr = 0);
  uint64_t Sbrk(int64_t increment);
  void Mlock(uint64_t addr, uint64_t length);
  void Munlock(uint64_t addr, uint64_t length);
  void Mlockall(uint32_t flags);
  void Munlockall();
  void Madvise(uint64_t addr, uint64_t length, Advice advice);
  void Msync(uint64_t addr, uint64_t length, uint32_t flags = kMsSync);
  std::string Read(uint64_t addr, uint64_t length);
  void Write(uint64_t addr, std::string_view data);
  ProcessStats Stats();
  std::vector<Mapping> Mappings();

  // fork(2): a copy-on-write child, owned by the returned handle (which
  // borrows the same Client). This handle keeps owning the parent.
  Process Fork();
  // Replaces this process's memory with the file-store executable `path`.
  ExecImage Exec(std::string_view path);
  Limits GetLimits();
  void SetLimits(const Limits& limits);

  // The server-side allocator on this process's heap (see Client::Malloc).
  uint64_t Malloc(uint64_t size);
  uint64_t Calloc(uint64_t count, uint64_t size);
  uint64_t Realloc(uint64_t addr, uint64_t size);
  void Free(uint64_t addr);

  // Typed access in the client's byte order and layout (the server stores
  // bytes): sizeof(T) bytes at `addr`, any alignment, one RPC each.
  template <class T>
  T ReadValue(uint64_t addr) {
    static_assert(std::is_trivially_copyable_v<T>, "ReadValue needs a trivially copyable T");
    std::string bytes = Read(addr, sizeof(T));
    T value;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }
  template <class T>
  void WriteValue(uint64_t addr, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>, "WriteValue needs a trivially copyable T");
    Write(addr, std::string_view(reinterpret_cast<const char*>(&value), sizeof(T)));
  }
  // `count` consecutive T at `addr` in one RPC (so count * sizeof(T) is at
  // most the server's max I/O size). count == 0 returns {} without an RPC.
  template <class T>
  std::vector<T> ReadArray(uint64_t addr, size_t count) {
    static_assert(std::is_trivially_copyable_v<T>, "ReadArray needs a trivially copyable T");
    std::vector<T> values(count);
    if (count == 0) return values;
    std::string bytes = Read(addr, ArrayBytes(count, sizeof(T)));
    std::memcpy(values.data(), bytes.data(), bytes.size());
    return values;
  }
  // Writes every element of `values` contiguously at `addr` in one RPC; an
  // empty span makes no RPC.
  template <class T>
  void WriteArray(uint64_t addr, std::span<const T> values) {
    static_assert(std::is_trivially_copyable_v<T>, "WriteArray needs a trivially copyable T");
    if (values.empty()) return;
    Write(addr, std::string_view(reinterpret_cast<const char*>(values.data()), values.size_bytes()));
  }
  template <class T>
  void WriteArray(uint64_t addr, const std::vector<T>& values) {
    WriteArray(addr, std::span<const T>(values));
  }

 private:
  // count * size, or INVALID_ARGUMENT Error when it overflows 64 bits.
  static uint64_t ArrayBytes(size_t count, size_t size);
  // Throws FAILED_PRECONDITION naming `what` when the handle is empty.
  void CheckOwned(const char* what) const;
  // Exits the owned process, if any, logging instead of throwing.
  void ExitQuietly() noexcept;

  Client* client_;  // borrowed; outlives the handle
  uint64_t pid_;    // 0: empty handle
};

}  // namespace memserver::client
