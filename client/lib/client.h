// Client: a connection to one memserver and one method per RPC of
// memserver.v1.Memory (proto/memserver/v1/memserver.proto).
//
//   memserver::client::Client client("127.0.0.1:7070");
//   memserver::client::Process p = client.CreateProcess("demo");
//   uint64_t a = p.Mmap(0, 4096, kProtRead | kProtWrite);
//   p.WriteValue<uint64_t>(a, 42);
//   uint64_t v = p.ReadValue<uint64_t>(a);  // 42
//   // ~Process exits the remote process.
//
// Guarantees of every call:
//   - It is one unary RPC with a deadline of ClientOptions::deadline from the
//     moment the call starts; there are no client-side retries.
//   - On any non-OK status it throws memserver::client::Error (see error.h);
//     a failed call changed nothing on the server (the API's contract), except
//     that a DEADLINE_EXCEEDED or UNAVAILABLE call may or may not have run.
//   - Answers are checked: a malformed answer (e.g. a Read returning fewer
//     bytes than asked) throws Error with code INTERNAL.
//
// Thread safety: a Client may be used by many threads at once. It must
// outlive every Process handle created from it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client/lib/error.h"
#include "client/lib/process.h"
#include "client/lib/types.h"

namespace grpc {
class Channel;
}

namespace memserver::client {

struct ClientOptions {
  // Deadline of each call, counted from its start. Default: 30 s.
  std::chrono::milliseconds deadline = std::chrono::seconds(30);
  // Largest message the client accepts from the server. Must exceed the
  // server's max I/O size (4 MiB by default) plus framing. Default: 64 MiB.
  int max_receive_message_bytes = 64 << 20;
};

class Client {
 public:
  // Connects lazily to `address` ("host:port", any gRPC target) over an
  // insecure channel; the first call establishes the connection and fails
  // with UNAVAILABLE if nothing answers.
  explicit Client(const std::string& address, ClientOptions options = {});
  // Uses an existing channel (in-process servers, custom credentials).
  explicit Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const { return options_; }

  // --- Processes ---------------------------------------------------------
  // Creates an empty process named `name` (at most 256 bytes) and returns the
  // handle that exits it on destruction. The pid is never 0.
  Process CreateProcess(std::string_view name = {});
  // Ends process `pid`: unmaps everything and frees its frames and swap.
  // NOT_FOUND [ESRCH] when no such process is alive.
  void Exit(uint64_t pid);

  // --- Mappings ----------------------------------------------------------
  // Maps `length` bytes (rounded up to pages) with protection `prot` (OR of
  // kProt*) and `flags` (OR of kMap*; kMapAnonymous with kMapPrivate or
  // kMapShared). `addr` is a hint (0: none), or the exact address with
  // kMapFixed / kMapFixedNoreplace. Returns the page-aligned start address.
  uint64_t Mmap(uint64_t pid, uint64_t addr, uint64_t length, uint32_t prot,
                uint32_t flags = kMapPrivate | kMapAnonymous);
  // Unmaps the pages of [addr, addr + length); `addr` page-aligned. Pages
  // not mapped are ignored, as in POSIX.
  void Munmap(uint64_t pid, uint64_t addr, uint64_t length);
  // Sets the protection of [addr, addr + length); every page must be mapped
  // (FAILED_PRECONDITION [ENOMEM] otherwise).
  void Mprotect(uint64_t pid, uint64_t addr, uint64_t length, uint32_t prot);

  // --- Memory access -----------------------------------------------------
  // Reads exactly `length` bytes at any alignment, across pages and
  // mappings. A faulting access throws an Error with is_fault(), the kind and
  // the first faulting address, and reads nothing. `length` is at most the
  // server's max I/O size (RESOURCE_EXHAUSTED beyond).
  std::string Read(uint64_t pid, uint64_t addr, uint64_t length);
  // Writes all of `data` at `addr`; a faulting write changes nothing.
  void Write(uint64_t pid, uint64_t addr, std::string_view data);

  // --- Introspection -----------------------------------------------------
  // Process `pid`'s statistics and the server's, from one RPC.
  Stats GetStats(uint64_t pid);
  GlobalStats GetGlobalStats();
  // Every live process, in the server's order.
  std::vector<ProcessStats> ListProcesses();
  // The mappings of `pid`, in the server's order (ascending addresses).
  std::vector<Mapping> ListMappings(uint64_t pid);

 private:
  struct Stub;  // wraps the generated stub; defined in client.cc
  ClientOptions options_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace memserver::client
