// The file store calls, each in the caller's namespace (Caller::ns): another
// tenant's paths are absent to it. Paths and sizes are validated by the
// engine's file store (absolute, at most 4096 bytes; I/O at most
// max_io_bytes, checked before anything is allocated).
#include <vector>

#include "server/engine/engine.h"
#include "server/service/memory_service.h"
#include "server/service/proto_conversion.h"

namespace memserver::service {

grpc::Status MemoryServiceImpl::CreateFile(grpc::ServerContext* context, const v1::CreateFileRequest* request,
                                           v1::FileInfo* response) {
  return Serve("CreateFile", context, [&](const Caller& caller) {
    FileInfo info;
    MEMSERVER_RETURN_IF_ERROR(engine_->CreateFile(caller.ns, request->path(), request->truncate(), &info));
    ToProto(info, response);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::WriteFile(grpc::ServerContext* context, const v1::WriteFileRequest* request,
                                          v1::FileInfo* response) {
  return Serve("WriteFile", context, [&](const Caller& caller) {
    FileInfo info;
    MEMSERVER_RETURN_IF_ERROR(
        engine_->WriteFile(caller.ns, request->path(), request->offset(), request->data(), &info));
    ToProto(info, response);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::ReadFile(grpc::ServerContext* context, const v1::ReadFileRequest* request,
                                         v1::ReadFileResponse* response) {
  return Serve("ReadFile", context, [&](const Caller& caller) {
    // The engine fills the response's bytes field directly (no extra copy).
    Status s = engine_->ReadFile(caller.ns, request->path(), request->offset(), request->length(),
                                 response->mutable_data());
    if (!s.ok()) response->clear_data();
    return s;
  });
}

grpc::Status MemoryServiceImpl::StatFile(grpc::ServerContext* context, const v1::StatFileRequest* request,
                                         v1::FileInfo* response) {
  return Serve("StatFile", context, [&](const Caller& caller) {
    FileInfo info;
    MEMSERVER_RETURN_IF_ERROR(engine_->StatFile(caller.ns, request->path(), &info));
    ToProto(info, response);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::TruncateFile(grpc::ServerContext* context, const v1::TruncateFileRequest* request,
                                             v1::TruncateFileResponse*) {
  return Serve("TruncateFile", context, [&](const Caller& caller) {
    return engine_->TruncateFile(caller.ns, request->path(), request->size());
  });
}

grpc::Status MemoryServiceImpl::DeleteFile(grpc::ServerContext* context, const v1::DeleteFileRequest* request,
                                           v1::DeleteFileResponse*) {
  return Serve("DeleteFile", context,
               [&](const Caller& caller) { return engine_->DeleteFile(caller.ns, request->path()); });
}

grpc::Status MemoryServiceImpl::ListFiles(grpc::ServerContext* context, const v1::ListFilesRequest* request,
                                          v1::ListFilesResponse* response) {
  return Serve("ListFiles", context, [&](const Caller& caller) {
    if (request->all_tenants() && !caller.admin) {
      return Status::PermissionDenied("only an admin tenant may list every tenant's files", nullptr);
    }
    for (const FileInfo& info : engine_->ListFiles(caller.ns, request->prefix(), request->all_tenants())) {
      ToProto(info, response->add_files());
    }
    return Status::OK();
  });
}

}  // namespace memserver::service
