// MemoryServiceImpl: the memserver.v1.Memory gRPC service, a thin adapter
// over memserver::Engine (synchronous gRPC API).
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

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>

#include "memserver/v1/memserver.grpc.pb.h"
#include "server/common/status.h"

namespace memserver {
class Engine;
}

namespace memserver::service {

// Longest CreateProcessRequest.name accepted, in bytes.
inline constexpr size_t kMaxProcessNameBytes = 256;
// Longest CreateProcessRequest.lease_ms accepted: 30 days. Longer is
// INVALID_ARGUMENT [EINVAL] (a lease is a liveness check, not a schedule).
inline constexpr uint64_t kMaxLeaseMs = 30ull * 24 * 60 * 60 * 1000;

class MemoryServiceImpl final : public v1::Memory::Service {
 public:
  explicit MemoryServiceImpl(Engine* engine) : engine_(engine) {}
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
  grpc::Status AccessStream(grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::AccessResponse, v1::AccessRequest>* stream) override;
  // Shutdown: cancels every open AccessStream (a batch being applied
  // finishes; its answer may not reach the client) and refuses new ones
  // with UNAVAILABLE. Idempotent.
  void CancelStreams();

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
  // ToGrpcStatus, logging a failure at debug level (a client's bad request
  // is not the server's news).
  static grpc::Status Finish(const char* rpc, const Status& status);

  Engine* const engine_;  // borrowed, see the lifetime note above

  // Open AccessStream calls, for CancelStreams. streams_mu_ is a leaf lock.
  std::mutex streams_mu_;
  std::set<grpc::ServerContext*> streams_;  // GUARDED_BY(streams_mu_)
  bool streams_closed_ = false;             // GUARDED_BY(streams_mu_)
};

}  // namespace memserver::service
