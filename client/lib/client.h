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
//     moment the call starts; there are no client-side retries. (UploadFile
//     and DownloadFile are the exceptions: a sequence of such calls.)
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

#include "client/lib/batch.h"
#include "client/lib/connection.h"
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
  // TLS, client certificate and bearer token (client/lib/connection.h), for
  // Client(address, options). Default: plaintext, no token.
  ConnectionOptions connection;
};

class Client {
 public:
  // Connects lazily to `address` ("host:port", any gRPC target) as
  // options.connection says (plaintext by default); the first call
  // establishes the connection and fails with UNAVAILABLE if nothing
  // answers, UNAUTHENTICATED without a valid token where tenants are on.
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
  // With a `lease` > 0 the process holds a lease of that length (whole
  // milliseconds, at most 30 days: INVALID_ARGUMENT beyond): unless
  // RenewLease is called within `lease` of the last renewal, the server exits
  // it, so a crashed client leaks nothing. 0: no lease, it lives until Exit.
  Process CreateProcess(std::string_view name = {},
                        std::chrono::milliseconds lease = std::chrono::milliseconds(0));
  // Ends process `pid`: unmaps everything and frees its frames and swap.
  // NOT_FOUND [ESRCH] when no such process is alive.
  void Exit(uint64_t pid);
  // Extends the lease of `pid` by its full length from now. NOT_FOUND
  // [ESRCH] when no such process is alive (also once its lease expired),
  // FAILED_PRECONDITION when it was created without a lease.
  void RenewLease(uint64_t pid);

  // --- Mappings ----------------------------------------------------------
  // Maps `length` bytes (rounded up to pages) with protection `prot` (OR of
  // kProt*) and `flags` (OR of kMap*; kMapAnonymous with kMapPrivate or
  // kMapShared). `addr` is a hint (0: none), or the exact address with
  // kMapFixed / kMapFixedNoreplace. Returns the page-aligned start address.
  uint64_t Mmap(uint64_t pid, uint64_t addr, uint64_t length, uint32_t prot,
                uint32_t flags = kMapPrivate | kMapAnonymous);
  // The general form: also maps a file of the file store (args.path from
  // page-aligned args.offset, kMapAnonymous not set), and takes kMapLocked
  // and kMapPopulate. Mapping a page past end of file succeeds; accessing it
  // is a bus error (FaultKind::kBusError).
  uint64_t Mmap(uint64_t pid, const MmapArgs& args);
  // Unmaps the pages of [addr, addr + length); `addr` page-aligned. Pages
  // not mapped are ignored, as in POSIX.
  void Munmap(uint64_t pid, uint64_t addr, uint64_t length);
  // Sets the protection of [addr, addr + length); every page must be mapped
  // (FAILED_PRECONDITION [ENOMEM] otherwise).
  void Mprotect(uint64_t pid, uint64_t addr, uint64_t length, uint32_t prot);
  // mremap(2): resizes the mapping at page-aligned `old_addr` from
  // `old_size` to `new_size` bytes. Without kMremapMayMove it grows in place
  // or fails (FAILED_PRECONDITION [ENOMEM]); with kMremapMayMove it may move;
  // kMremapMayMove | kMremapFixed moves it to exactly `new_addr`. Returns the
  // new start (checked: `old_addr` without kMremapMayMove, `new_addr` with
  // kMremapFixed).
  uint64_t Mremap(uint64_t pid, uint64_t old_addr, uint64_t old_size, uint64_t new_size,
                  uint32_t flags = 0, uint64_t new_addr = 0);
  // brk(2): moves the program break to `addr` and returns the new break;
  // addr 0 only reports it. A break that cannot move (outside the heap, into
  // a mapping, over RLIMIT_DATA) throws RESOURCE_EXHAUSTED [ENOMEM] and stays.
  uint64_t Brk(uint64_t pid, uint64_t addr = 0);
  // sbrk(3): moves the break by `increment` bytes (negative shrinks) and
  // returns the break before the call. Failure throws as Brk.
  uint64_t Sbrk(uint64_t pid, int64_t increment);
  // mlock(2)/munlock(2) over [addr, addr + length): locked pages are made
  // resident and never evicted. Bounded by the process's memlock limit
  // (RESOURCE_EXHAUSTED [ENOMEM]) and a server-wide cap ([EAGAIN]).
  void Mlock(uint64_t pid, uint64_t addr, uint64_t length);
  void Munlock(uint64_t pid, uint64_t addr, uint64_t length);
  // mlockall(2) with an OR of kMclCurrent/kMclFuture; munlockall(2).
  void Mlockall(uint64_t pid, uint32_t flags);
  void Munlockall(uint64_t pid);
  // madvise(2) over [addr, addr + length); `addr` page-aligned.
  void Madvise(uint64_t pid, uint64_t addr, uint64_t length, Advice advice);
  // msync(2): with kMsSync, returns once the dirty pages of shared file
  // mappings in the range are durable in the server's backing store.
  void Msync(uint64_t pid, uint64_t addr, uint64_t length, uint32_t flags = kMsSync);

  // --- Process lifecycle and limits ---------------------------------------
  // fork(2): a copy-on-write copy of process `pid`; shared mappings stay
  // shared. Returns the handle that owns the child (never pid 0).
  Process Fork(uint64_t pid);
  // execve(2)'s memory half: replaces the memory of `pid` with the ELF64
  // executable `path` of the file store. A bad image is INVALID_ARGUMENT
  // [ENOEXEC] and leaves the process as it was.
  ExecImage Exec(uint64_t pid, std::string_view path);
  // The limits of `pid`, every field set.
  Limits GetLimits(uint64_t pid);
  // Changes the fields of `limits` that are set; the others keep their value.
  void SetLimits(uint64_t pid, const Limits& limits);

  // --- Heap (a server-side malloc on the process's brk heap and mmap) -----
  // Each returns the block's address. malloc(0) may return 0 or a unique
  // pointer; realloc(0, n) is malloc(n); realloc(p, 0) frees p and returns 0.
  // Freeing (or reallocating) an address malloc did not return, or one
  // already freed, is INVALID_ARGUMENT and changes nothing; Free(0) does
  // nothing.
  uint64_t Malloc(uint64_t pid, uint64_t size);
  uint64_t Calloc(uint64_t pid, uint64_t count, uint64_t size);
  uint64_t Realloc(uint64_t pid, uint64_t addr, uint64_t size);
  void Free(uint64_t pid, uint64_t addr);

  // --- Memory access -----------------------------------------------------
  // Reads exactly `length` bytes at any alignment, across pages and
  // mappings. A faulting access throws an Error with is_fault(), the kind and
  // the first faulting address, and reads nothing. `length` is at most the
  // server's max I/O size (RESOURCE_EXHAUSTED beyond).
  std::string Read(uint64_t pid, uint64_t addr, uint64_t length);
  // Writes all of `data` at `addr`; a faulting write changes nothing.
  void Write(uint64_t pid, uint64_t addr, std::string_view data);
  // Runs `batch`'s reads and writes on `pid` in one Access call, in order,
  // and returns one result per op (batch.h). A refused batch throws Error.
  // For many batches in a row, AccessSession (access_session.h) keeps one
  // stream open instead.
  std::vector<OpResult> Access(uint64_t pid, const Batch& batch);

  // --- Introspection -----------------------------------------------------
  // Process `pid`'s statistics and the server's, from one RPC.
  Stats GetStats(uint64_t pid);
  GlobalStats GetGlobalStats();
  // Every live process of the caller's tenant (of every tenant with
  // `all_tenants`, admins only: PERMISSION_DENIED otherwise), in the
  // server's order.
  std::vector<ProcessStats> ListProcesses(bool all_tenants = false);
  // The mappings of `pid`, in the server's order (ascending addresses).
  std::vector<Mapping> ListMappings(uint64_t pid);

  // --- Durability ---------------------------------------------------------
  // Takes a snapshot of every process now; returns once it is durable
  // (UNAVAILABLE, or RESOURCE_EXHAUSTED [ENOSPC], when it cannot be
  // written: the previous snapshot stays). See Msync for ranges.
  SnapshotInfo Snapshot();
  // What the server's last start restored and lost.
  RecoveryReport GetRecovery();

  // --- File store ---------------------------------------------------------
  // Files live in the server's backing store. Paths are absolute ("/a/b"),
  // at most 4096 bytes. Data calls move at most the server's max I/O size.
  //
  // Creates an empty file; an existing one is ALREADY_EXISTS unless
  // `truncate`, which empties it.
  FileInfo CreateFile(std::string_view path, bool truncate = false);
  // Writes `data` at `offset`, creating the file when missing and extending
  // it as needed; durable on return (write-through).
  FileInfo WriteFile(std::string_view path, uint64_t offset, std::string_view data);
  // Up to `length` bytes from `offset`: fewer at end of file, none past it.
  std::string ReadFile(std::string_view path, uint64_t offset, uint64_t length);
  FileInfo StatFile(std::string_view path);
  // Sets the size: shrinking drops the pages past the end (accesses there
  // through a mapping become bus errors), growing adds zeros.
  void TruncateFile(std::string_view path, uint64_t size);
  void DeleteFile(std::string_view path);
  // The files whose path starts with `prefix` ("" : all), in the server's
  // order: the caller's tenant's, or every tenant's with `all_tenants`
  // (admins only).
  std::vector<FileInfo> ListFiles(std::string_view prefix = {}, bool all_tenants = false);
  // Copies the local file `local_path` to `remote_path` (created, or emptied
  // when it exists) in WriteFile calls of kFileChunkBytes, and returns the
  // remote file's info. Not atomic: when a call fails the remote file holds
  // a prefix of the content; a local file that cannot be read at all
  // leaves the remote file untouched. A local I/O error throws Error with
  // the code of its errno (see LocalFileError in local_file.h: NOT_FOUND for
  // ENOENT, PERMISSION_DENIED for EACCES, INVALID_ARGUMENT for EISDIR,
  // RESOURCE_EXHAUSTED for ENOSPC, else UNKNOWN) and the errno name.
  FileInfo UploadFile(const std::string& local_path, std::string_view remote_path);
  // Copies the remote file `remote_path` to `local_path` (created or
  // truncated) in ReadFile calls of kFileChunkBytes, until a short read;
  // returns the bytes written. A missing remote file leaves the local one
  // untouched. Errors as UploadFile.
  uint64_t DownloadFile(std::string_view remote_path, const std::string& local_path);
  static constexpr uint64_t kFileChunkBytes = 1 << 20;

 private:
  friend class AccessSession;  // runs its stream on stub_
  struct Stub;  // wraps the generated stub; defined in client_stub.h
  ClientOptions options_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace memserver::client
