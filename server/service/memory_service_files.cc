// The file store calls. Paths and sizes are validated by the engine's file
// store (absolute, at most 4096 bytes; I/O at most max_io_bytes, checked
// before anything is allocated).
#include <vector>

#include "server/engine/engine.h"
#include "server/service/memory_service.h"
#include "server/service/proto_conversion.h"

namespace memserver::service {

grpc::Status MemoryServiceImpl::CreateFile(grpc::ServerContext*,
                                           const v1::CreateFileRequest* request,
                                           v1::FileInfo* response) {
  FileInfo info;
  Status s = engine_->CreateFile(request->path(), request->truncate(), &info);
  if (s.ok()) ToProto(info, response);
  return Finish("CreateFile", s);
}

grpc::Status MemoryServiceImpl::WriteFile(grpc::ServerContext*, const v1::WriteFileRequest* request,
                                          v1::FileInfo* response) {
  FileInfo info;
  Status s = engine_->WriteFile(request->path(), request->offset(), request->data(), &info);
  if (s.ok()) ToProto(info, response);
  return Finish("WriteFile", s);
}

grpc::Status MemoryServiceImpl::ReadFile(grpc::ServerContext*, const v1::ReadFileRequest* request,
                                         v1::ReadFileResponse* response) {
  // The engine fills the response's bytes field directly (no extra copy).
  Status s = engine_->ReadFile(request->path(), request->offset(), request->length(),
                               response->mutable_data());
  if (!s.ok()) response->clear_data();
  return Finish("ReadFile", s);
}

grpc::Status MemoryServiceImpl::StatFile(grpc::ServerContext*, const v1::StatFileRequest* request,
                                         v1::FileInfo* response) {
  FileInfo info;
  Status s = engine_->StatFile(request->path(), &info);
  if (s.ok()) ToProto(info, response);
  return Finish("StatFile", s);
}

grpc::Status MemoryServiceImpl::TruncateFile(grpc::ServerContext*,
                                             const v1::TruncateFileRequest* request,
                                             v1::TruncateFileResponse*) {
  return Finish("TruncateFile", engine_->TruncateFile(request->path(), request->size()));
}

grpc::Status MemoryServiceImpl::DeleteFile(grpc::ServerContext*,
                                           const v1::DeleteFileRequest* request,
                                           v1::DeleteFileResponse*) {
  return Finish("DeleteFile", engine_->DeleteFile(request->path()));
}

grpc::Status MemoryServiceImpl::ListFiles(grpc::ServerContext*, const v1::ListFilesRequest* request,
                                          v1::ListFilesResponse* response) {
  for (const FileInfo& info : engine_->ListFiles(request->prefix())) {
    ToProto(info, response->add_files());
  }
  return grpc::Status::OK;
}

}  // namespace memserver::service
