// NullMemoryService: memserver.v1.Memory with handlers that do no memory
// work, so a load against it measures the transport's floor (gRPC, HTTP/2,
// protobuf, the loopback) and nothing else.
//
//   CreateProcess  returns increasing pids 1, 2, 3, ...
//   Fork           returns the next pid as the child's
//   Exec           returns kNullExecEntry as entry and load base, one segment
//   Exit, Munmap, Mprotect, Write  return OK
//   WriteFile      returns the FileInfo the write would leave (size
//                  offset + bytes), keeping nothing
//   StatFile, ReadFile  NOT_FOUND (the null target holds no file)
//   DeleteFile     returns OK
//   Mmap           returns kNullMmapAddress
//   Read           returns `length` zero bytes
//   GetStats       returns zeros (and the pid asked for)
//   ListProcesses, ListMappings  return empty lists
//   Access         one result per op: `length` zero bytes for a READ, an
//                  empty OK result for a WRITE
//   AccessStream   the same per request, answered in order with its tag,
//                  until the client half-closes or the call is cancelled
//
// Requests are still validated the way memserverd validates them where it
// costs nothing, so error paths can be exercised too: a Read or Mmap of
// length 0 is INVALID_ARGUMENT, a Read or Write over kNullMaxIoBytes is
// RESOURCE_EXHAUSTED (checked before anything is allocated), a process name
// over 256 bytes is INVALID_ARGUMENT; a file path that is empty, relative or
// over 4096 bytes is INVALID_ARGUMENT (Exec and the file calls), a WriteFile
// over kNullMaxIoBytes RESOURCE_EXHAUSTED; a batch of more than kNullMaxAccessOps
// ops is INVALID_ARGUMENT and one moving more than kNullMaxIoBytes is
// RESOURCE_EXHAUSTED (on a stream: the response's status, the stream goes
// on), and inside a batch a READ of length 0 or an op of unknown kind gets
// an INVALID_ARGUMENT result. Nothing is remembered between calls
// but the pid counter.
//
// Thread-safety: every RPC may run concurrently.
#pragma once

#include <atomic>
#include <cstdint>

#include "memserver/v1/memserver.grpc.pb.h"

namespace memserver::memload {

inline constexpr uint64_t kNullMmapAddress = 0x7f0000000000;
inline constexpr uint64_t kNullMaxIoBytes = uint64_t{4} << 20;
inline constexpr int kNullMaxAccessOps = 4096;  // as memserverd's kMaxAccessOps
inline constexpr uint64_t kNullExecEntry = 0x400000;

class NullMemoryService final : public v1::Memory::Service {
 public:
  NullMemoryService() = default;
  NullMemoryService(const NullMemoryService&) = delete;
  NullMemoryService& operator=(const NullMemoryService&) = delete;

  grpc::Status CreateProcess(grpc::ServerContext* context, const v1::CreateProcessRequest* request,
                             v1::CreateProcessResponse* response) override;
  grpc::Status Exit(grpc::ServerContext* context, const v1::ExitRequest* request,
                    v1::ExitResponse* response) override;
  grpc::Status Fork(grpc::ServerContext* context, const v1::ForkRequest* request,
                    v1::ForkResponse* response) override;
  grpc::Status Exec(grpc::ServerContext* context, const v1::ExecRequest* request,
                    v1::ExecResponse* response) override;
  grpc::Status WriteFile(grpc::ServerContext* context, const v1::WriteFileRequest* request,
                         v1::FileInfo* response) override;
  grpc::Status StatFile(grpc::ServerContext* context, const v1::StatFileRequest* request,
                        v1::FileInfo* response) override;
  grpc::Status ReadFile(grpc::ServerContext* context, const v1::ReadFileRequest* request,
                        v1::ReadFileResponse* response) override;
  grpc::Status DeleteFile(grpc::ServerContext* context, const v1::DeleteFileRequest* request,
                          v1::DeleteFileResponse* response) override;
  grpc::Status Mmap(grpc::ServerContext* context, const v1::MmapRequest* request,
                    v1::MmapResponse* response) override;
  grpc::Status Munmap(grpc::ServerContext* context, const v1::MunmapRequest* request,
                      v1::MunmapResponse* response) override;
  grpc::Status Mprotect(grpc::ServerContext* context, const v1::MprotectRequest* request,
                        v1::MprotectResponse* response) override;
  grpc::Status Read(grpc::ServerContext* context, const v1::ReadRequest* request,
                    v1::ReadResponse* response) override;
  grpc::Status Write(grpc::ServerContext* context, const v1::WriteRequest* request,
                     v1::WriteResponse* response) override;
  grpc::Status Access(grpc::ServerContext* context, const v1::AccessRequest* request,
                      v1::AccessResponse* response) override;
  grpc::Status AccessStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::AccessResponse, v1::AccessRequest>* stream) override;
  grpc::Status GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request,
                        v1::GetStatsResponse* response) override;
  grpc::Status ListProcesses(grpc::ServerContext* context, const v1::ListProcessesRequest* request,
                             v1::ListProcessesResponse* response) override;
  grpc::Status ListMappings(grpc::ServerContext* context, const v1::ListMappingsRequest* request,
                            v1::ListMappingsResponse* response) override;

 private:
  std::atomic<uint64_t> next_pid_{1};
};

}  // namespace memserver::memload
