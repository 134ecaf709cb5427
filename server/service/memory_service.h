// MemoryServiceImpl: the memserver.v1.Memory gRPC service, a thin adapter
// over memserver::Engine: unary calls on the synchronous gRPC API,
// AccessStream on the callback API (server/service/access_stream_reactor.h:
// no thread per stream).
//
// Every call first passes Serve/ServeProcess (below): the Authenticator
// (server/service/auth.h) names the caller, the CallLimiter
// (server/service/call_limits.h) admits it, and a pid the caller may not use
// (another tenant's) is refused with exactly the NotFound of a missing one
// (Engine::NoSuchProcess). File calls run in the caller's namespace
// (Caller::ns), so another tenant's paths are simply absent.
//
// Each RPC converts the request (server/service/proto_conversion.h), calls
// the engine, and converts the result with ToGrpcStatus
// (server/service/status_conversion.h). It validates only what the engine
// cannot see (server/service/request_validation.h): a process name longer
// than kMaxProcessNameBytes, and a Read length of 0 or over
// EngineOptions::max_io_bytes, checked BEFORE the response buffer is
// allocated so that a hostile length never allocates. Everything else
// (alignment, overflow, prot/flag bits, pids, paths, the max I/O size of
// writes and file reads) is the engine's to validate, so each rule lives in
// one place. Reads land directly in the response's bytes field (no copy).
// Per-call logging is at debug level only.
//
// Thread-safety: every RPC may run concurrently (the engine is thread-safe).
// Lifetime: borrows the engine, which must outlive the service and every call
// in flight on it (Server shuts gRPC down before destroying the engine).
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "memserver/v1/memserver.grpc.pb.h"
#include "server/common/status.h"
#include "server/engine/types.h"
#include "server/service/auth.h"
#include "server/service/call_limits.h"
#include "server/service/reactor_registry.h"

namespace memserver {
class Engine;
}

namespace memserver::service {

// Longest CreateProcessRequest.name accepted, in bytes.
inline constexpr size_t kMaxProcessNameBytes = 256;
// Longest CreateProcessRequest.lease_ms accepted: 30 days. Longer is
// INVALID_ARGUMENT [EINVAL] (a lease is a liveness check, not a schedule).
inline constexpr uint64_t kMaxLeaseMs = 30ull * 24 * 60 * 60 * 1000;

class AccessStreamReactor;

class MemoryServiceImpl final : public v1::Memory::WithCallbackMethod_AccessStream<v1::Memory::Service> {
 public:
  // `auth` and `limiter` are borrowed and outlive the service, like
  // `engine`. AccessStream batches run on `stream_threads` threads of the
  // service's own (at least 1).
  MemoryServiceImpl(Engine* engine, const Authenticator* auth, CallLimiter* limiter, unsigned stream_threads);
  // Without tenants and with the default limits (tests).
  explicit MemoryServiceImpl(Engine* engine);
  ~MemoryServiceImpl();
  MemoryServiceImpl(const MemoryServiceImpl&) = delete;
  MemoryServiceImpl& operator=(const MemoryServiceImpl&) = delete;

  // Processes (memory_service.cc).
  grpc::Status CreateProcess(grpc::ServerContext* context, const v1::CreateProcessRequest* request,
      v1::CreateProcessResponse* response) override;
  grpc::Status Exit(grpc::ServerContext* context, const v1::ExitRequest* request,
      v1::ExitResponse* response) override;
  // NOT_FOUND for an unknown pid, FAILED_PRECONDITION for a process without
  // a lease. The response carries the lease's length.
  grpc::Status RenewLease(grpc::ServerContext* context, const v1::RenewLeaseRequest* request,
      v1::RenewLeaseResponse* response) override;
  grpc::Status Fork(grpc::ServerContext* context, const v1::ForkRequest* request,
      v1::ForkResponse* response) override;
  grpc::Status Exec(grpc::ServerContext* context, const v1::ExecRequest* request,
      v1::ExecResponse* response) override;

  // Mappings (memory_service.cc).
  grpc::Status Mmap(grpc::ServerContext* context, const v1::MmapRequest* request,
      v1::MmapResponse* response) override;
  grpc::Status Munmap(grpc::ServerContext* context, const v1::MunmapRequest* request,
      v1::MunmapResponse* response) override;
  grpc::Status Mprotect(grpc::ServerContext* context, const v1::MprotectRequest* request,
      v1::MprotectResponse* response) override;
  grpc::Status Mremap(grpc::ServerContext* context, const v1::MremapRequest* request,
      v1::MremapResponse* response) override;
  grpc::Status Brk(grpc::ServerContext* context, const v1::BrkRequest* request,
      v1::BrkResponse* response) override;
  grpc::Status Sbrk(grpc::ServerContext* context, const v1::SbrkRequest* request,
      v1::SbrkResponse* response) override;
  grpc::Status Mlock(grpc::ServerContext* context, const v1::MlockRequest* request,
      v1::MlockResponse* response) override;
  grpc::Status Munlock(grpc::ServerContext* context, const v1::MunlockRequest* request,
      v1::MunlockResponse* response) override;
  grpc::Status Mlockall(grpc::ServerContext* context, const v1::MlockallRequest* request,
      v1::MlockallResponse* response) override;
  grpc::Status Munlockall(grpc::ServerContext* context, const v1::MunlockallRequest* request,
      v1::MunlockallResponse* response) override;
  grpc::Status Madvise(grpc::ServerContext* context, const v1::MadviseRequest* request,
      v1::MadviseResponse* response) override;
  grpc::Status Msync(grpc::ServerContext* context, const v1::MsyncRequest* request,
      v1::MsyncResponse* response) override;

  // Byte access (memory_service.cc).
  grpc::Status Read(grpc::ServerContext* context, const v1::ReadRequest* request,
      v1::ReadResponse* response) override;
  grpc::Status Write(grpc::ServerContext* context, const v1::WriteRequest* request,
      v1::WriteResponse* response) override;

  // Batched access (memory_service_access.cc; rules in access_batch.h).
  grpc::Status Access(grpc::ServerContext* context, const v1::AccessRequest* request,
      v1::AccessResponse* response) override;
  grpc::ServerBidiReactor<v1::AccessRequest, v1::AccessResponse>* AccessStream(
      grpc::CallbackServerContext* context) override;
  // Shutdown: cancels every open AccessStream (a batch being applied
  // finishes; its answer may not reach the client) and refuses new ones
  // with UNAVAILABLE. Idempotent.
  void CancelStreams();
  // AccessStreams open now.
  size_t open_streams();
  // Default of the stream pool's size: 2 per core, at least 4.
  static unsigned DefaultStreamThreads();

  // The process heap (memory_service.cc).
  grpc::Status Malloc(grpc::ServerContext* context, const v1::MallocRequest* request,
      v1::MallocResponse* response) override;
  grpc::Status Calloc(grpc::ServerContext* context, const v1::CallocRequest* request,
      v1::MallocResponse* response) override;
  grpc::Status Realloc(grpc::ServerContext* context, const v1::ReallocRequest* request,
      v1::MallocResponse* response) override;
  grpc::Status Free(grpc::ServerContext* context, const v1::FreeRequest* request,
      v1::FreeResponse* response) override;

  // Stats, listings, limits (memory_service_stats.cc).
  grpc::Status GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request,
      v1::GetStatsResponse* response) override;
  grpc::Status ListProcesses(grpc::ServerContext* context, const v1::ListProcessesRequest* request,
      v1::ListProcessesResponse* response) override;
  grpc::Status ListMappings(grpc::ServerContext* context, const v1::ListMappingsRequest* request,
      v1::ListMappingsResponse* response) override;
  grpc::Status GetLimits(grpc::ServerContext* context, const v1::GetLimitsRequest* request,
      v1::GetLimitsResponse* response) override;
  grpc::Status SetLimits(grpc::ServerContext* context, const v1::SetLimitsRequest* request,
      v1::SetLimitsResponse* response) override;

  // Snapshots and recovery (memory_service_snapshot.cc).
  grpc::Status Snapshot(grpc::ServerContext* context, const v1::SnapshotRequest* request,
      v1::SnapshotResponse* response) override;
  grpc::Status GetRecovery(grpc::ServerContext* context, const v1::GetRecoveryRequest* request,
      v1::RecoveryReport* response) override;

  // The file store (memory_service_files.cc).
  grpc::Status CreateFile(grpc::ServerContext* context, const v1::CreateFileRequest* request,
      v1::FileInfo* response) override;
  grpc::Status WriteFile(grpc::ServerContext* context, const v1::WriteFileRequest* request,
      v1::FileInfo* response) override;
  grpc::Status ReadFile(grpc::ServerContext* context, const v1::ReadFileRequest* request,
      v1::ReadFileResponse* response) override;
  grpc::Status StatFile(grpc::ServerContext* context, const v1::StatFileRequest* request,
      v1::FileInfo* response) override;
  grpc::Status TruncateFile(grpc::ServerContext* context, const v1::TruncateFileRequest* request,
      v1::TruncateFileResponse* response) override;
  grpc::Status DeleteFile(grpc::ServerContext* context, const v1::DeleteFileRequest* request,
      v1::DeleteFileResponse* response) override;
  grpc::Status ListFiles(grpc::ServerContext* context, const v1::ListFilesRequest* request,
      v1::ListFilesResponse* response) override;

 private:
  friend class AccessStreamReactor;

  // ToGrpcStatus, logging a failure at debug level (a client's bad request
  // is not the server's news).
  static grpc::Status Finish(const char* rpc, const Status& status);

  // Authenticates and admits a call: *caller and the ticket that holds its
  // place under the CallLimiter's bounds.
  Status Admit(const grpc::ServerContext& context, Caller* caller, CallLimiter::Ticket* ticket);
  // OK when `caller` may use process `pid`; otherwise (another tenant's, or
  // none) Engine::NoSuchProcess(pid).
  Status CheckProcess(const Caller& caller, Pid pid) const;

  // The body of every unary handler: admit, then fn(caller) -> Status.
  template <typename Fn>
  grpc::Status Serve(const char* rpc, grpc::ServerContext* context, Fn&& fn) {
    Caller caller;
    CallLimiter::Ticket ticket;
    Status s = Admit(*context, &caller, &ticket);
    if (s.ok()) s = fn(caller);
    return Finish(rpc, s);
  }
  // The same for a call on process `pid`, refused unless the caller may use it.
  template <typename Fn>
  grpc::Status ServeProcess(const char* rpc, grpc::ServerContext* context, Pid pid, Fn&& fn) {
    return Serve(rpc, context, [&](const Caller& caller) {
      MEMSERVER_RETURN_IF_ERROR(CheckProcess(caller, pid));
      return fn(caller);
    });
  }

  Engine* const engine_;  // borrowed, see the lifetime note above
  const Authenticator* auth_;
  CallLimiter* limiter_;
  // The stream registry, for CancelStreams: false once streams are closed.
  bool RegisterStream(AccessStreamReactor* stream);
  void UnregisterStream(AccessStreamReactor* stream);
  // Runs `work` on the stream pool.
  void PostStreamWork(std::function<void()> work);

  // Owned only by the test constructor.
  std::unique_ptr<Authenticator> own_auth_;
  std::unique_ptr<CallLimiter> own_limiter_;

  // Open AccessStreams, for CancelStreams.
  ReactorRegistry<AccessStreamReactor> streams_;
  // Last: joined (idle, once gRPC has shut down) before the rest goes.
  std::unique_ptr<boost::asio::thread_pool> stream_pool_;
};

}  // namespace memserver::service
