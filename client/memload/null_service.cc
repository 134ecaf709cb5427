#include "client/memload/null_service.h"

#include <fmt/format.h>

namespace memserver::memload {

namespace {

constexpr size_t kMaxProcessNameBytes = 256;
constexpr size_t kMaxPathBytes = 4096;
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 40;  // as memserverd's FileStore

// memserverd's shape rules for a file-store path.
grpc::Status CheckPath(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("path '{}' is not absolute", path));
  }
  if (path.size() > kMaxPathBytes) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("path longer than {} bytes", kMaxPathBytes));
  }
  return grpc::Status::OK;
}

grpc::Status NoSuchFile(const std::string& path) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND,
                      fmt::format("no file '{}': the null target keeps no files", path));
}

grpc::Status TooLarge(uint64_t length) {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      fmt::format("length {} exceeds the null target's I/O bound of {} bytes",
                                  length, kNullMaxIoBytes));
}

void InvalidOp(v1::AccessResult* result, const char* message) {
  result->mutable_status()->set_code(grpc::StatusCode::INVALID_ARGUMENT);
  result->mutable_status()->set_message(message);
}

// One batch: the shape checks of memserverd, then a result per op with no
// memory work behind it.
grpc::Status NullBatch(const v1::AccessRequest& request, v1::AccessResponse* response) {
  if (request.ops_size() > kNullMaxAccessOps) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("batch has {} ops, more than the limit of {}",
                                    request.ops_size(), kNullMaxAccessOps));
  }
  uint64_t total = 0;
  for (const v1::AccessOp& op : request.ops()) {
    const uint64_t bytes = op.kind() == v1::AccessOp::READ    ? op.length()
                           : op.kind() == v1::AccessOp::WRITE ? op.data().size()
                                                              : 0;
    if (bytes > kNullMaxIoBytes - total) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          fmt::format("batch moves more than the null target's I/O bound of {} "
                                      "bytes",
                                      kNullMaxIoBytes));
    }
    total += bytes;
  }
  response->mutable_results()->Reserve(request.ops_size());
  for (const v1::AccessOp& op : request.ops()) {
    v1::AccessResult* result = response->add_results();
    if (op.kind() == v1::AccessOp::READ) {
      if (op.length() == 0) {
        InvalidOp(result, "read length must be > 0");
      } else {
        result->mutable_data()->assign(static_cast<size_t>(op.length()), '\0');
      }
    } else if (op.kind() != v1::AccessOp::WRITE) {
      InvalidOp(result, "op kind is neither READ nor WRITE");
    }
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status NullMemoryService::CreateProcess(grpc::ServerContext*,
                                              const v1::CreateProcessRequest* request,
                                              v1::CreateProcessResponse* response) {
  if (request->name().size() > kMaxProcessNameBytes) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("process name longer than {} bytes", kMaxProcessNameBytes));
  }
  response->set_pid(next_pid_.fetch_add(1, std::memory_order_relaxed));
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::Exit(grpc::ServerContext*, const v1::ExitRequest*,
                                     v1::ExitResponse*) {
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::Fork(grpc::ServerContext*, const v1::ForkRequest*,
                                     v1::ForkResponse* response) {
  response->set_child_pid(next_pid_.fetch_add(1, std::memory_order_relaxed));
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::Exec(grpc::ServerContext*, const v1::ExecRequest* request,
                                     v1::ExecResponse* response) {
  grpc::Status s = CheckPath(request->path());
  if (!s.ok()) return s;
  response->set_entry(kNullExecEntry);
  response->set_load_base(kNullExecEntry);
  response->set_segments(1);
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::WriteFile(grpc::ServerContext*,
                                          const v1::WriteFileRequest* request,
                                          v1::FileInfo* response) {
  grpc::Status s = CheckPath(request->path());
  if (!s.ok()) return s;
  if (request->data().size() > kNullMaxIoBytes) return TooLarge(request->data().size());
  if (request->offset() > kMaxFileBytes - request->data().size()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("offset {} + {} bytes is beyond the largest file ({} bytes)",
                                    request->offset(), request->data().size(), kMaxFileBytes));
  }
  response->set_path(request->path());
  response->set_size(request->offset() + request->data().size());
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::StatFile(grpc::ServerContext*, const v1::StatFileRequest* request,
                                         v1::FileInfo*) {
  grpc::Status s = CheckPath(request->path());
  return s.ok() ? NoSuchFile(request->path()) : s;
}

grpc::Status NullMemoryService::ReadFile(grpc::ServerContext*, const v1::ReadFileRequest* request,
                                         v1::ReadFileResponse*) {
  grpc::Status s = CheckPath(request->path());
  return s.ok() ? NoSuchFile(request->path()) : s;
}

grpc::Status NullMemoryService::DeleteFile(grpc::ServerContext*,
                                           const v1::DeleteFileRequest* request,
                                           v1::DeleteFileResponse*) {
  return CheckPath(request->path());
}

grpc::Status NullMemoryService::Mmap(grpc::ServerContext*, const v1::MmapRequest* request,
                                     v1::MmapResponse* response) {
  if (request->length() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "length must be > 0");
  }
  response->set_addr(kNullMmapAddress);
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::Munmap(grpc::ServerContext*, const v1::MunmapRequest*,
                                       v1::MunmapResponse*) {
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::Mprotect(grpc::ServerContext*, const v1::MprotectRequest*,
                                         v1::MprotectResponse*) {
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::Read(grpc::ServerContext*, const v1::ReadRequest* request,
                                     v1::ReadResponse* response) {
  if (request->length() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "length must be > 0");
  }
  if (request->length() > kNullMaxIoBytes) return TooLarge(request->length());
  response->mutable_data()->assign(static_cast<size_t>(request->length()), '\0');
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::Write(grpc::ServerContext*, const v1::WriteRequest* request,
                                      v1::WriteResponse*) {
  if (request->data().size() > kNullMaxIoBytes) return TooLarge(request->data().size());
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::Access(grpc::ServerContext*, const v1::AccessRequest* request,
                                       v1::AccessResponse* response) {
  response->set_tag(request->tag());
  return NullBatch(*request, response);
}

grpc::Status NullMemoryService::AccessStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::AccessResponse, v1::AccessRequest>* stream) {
  v1::AccessRequest request;
  v1::AccessResponse response;
  while (!context->IsCancelled() && stream->Read(&request)) {
    response.Clear();
    response.set_tag(request.tag());
    const grpc::Status s = NullBatch(request, &response);
    if (!s.ok()) {
      response.clear_results();
      response.mutable_status()->set_code(s.error_code());
      response.mutable_status()->set_message(s.error_message());
    }
    if (!stream->Write(response)) break;
  }
  if (context->IsCancelled()) {
    return grpc::Status(grpc::StatusCode::CANCELLED, "the access stream was cancelled");
  }
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::GetStats(grpc::ServerContext*, const v1::GetStatsRequest* request,
                                         v1::GetStatsResponse* response) {
  if (request->pid() != 0) response->mutable_process()->set_pid(request->pid());
  response->mutable_global();
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::ListProcesses(grpc::ServerContext*,
                                              const v1::ListProcessesRequest*,
                                              v1::ListProcessesResponse*) {
  return grpc::Status::OK;
}

grpc::Status NullMemoryService::ListMappings(grpc::ServerContext*, const v1::ListMappingsRequest*,
                                             v1::ListMappingsResponse*) {
  return grpc::Status::OK;
}

}  // namespace memserver::memload
