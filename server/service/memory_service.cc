// Processes, mappings, byte access and the heap. Stats, listings and limits
// are in memory_service_stats.cc, the file store in memory_service_files.cc.
#include "server/service/memory_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <string>

#include "server/engine/engine.h"
#include "server/service/call_control_conversion.h"
#include "server/service/proto_conversion.h"
#include "server/service/request_validation.h"
#include "server/service/status_conversion.h"

namespace memserver::service {

grpc::Status MemoryServiceImpl::Finish(const char* rpc, const Status& status) {
  if (!status.ok()) spdlog::debug("{}: {}", rpc, status.ToString());
  return ToGrpcStatus(status);
}

// ---- Processes ----

grpc::Status MemoryServiceImpl::CreateProcess(grpc::ServerContext*,
                                              const v1::CreateProcessRequest* request,
                                              v1::CreateProcessResponse* response) {
  Status s = ValidateProcessName(request->name(), kMaxProcessNameBytes);
  if (s.ok() && request->lease_ms() > kMaxLeaseMs) {
    s = Status::InvalidArgument(fmt::format("lease_ms {} is over the maximum of {} (30 days)",
                                            request->lease_ms(), kMaxLeaseMs),
                                "EINVAL");
  }
  Pid pid = 0;
  if (s.ok()) s = engine_->CreateProcess(request->name(), &pid, request->lease_ms());
  if (s.ok()) response->set_pid(pid);
  return Finish("CreateProcess", s);
}

grpc::Status MemoryServiceImpl::RenewLease(grpc::ServerContext*,
                                           const v1::RenewLeaseRequest* request,
                                           v1::RenewLeaseResponse* response) {
  uint64_t lease_ms = 0;
  Status s = engine_->RenewLease(request->pid(), &lease_ms);
  if (s.ok()) response->set_lease_ms(lease_ms);
  return Finish("RenewLease", s);
}

grpc::Status MemoryServiceImpl::Exit(grpc::ServerContext*, const v1::ExitRequest* request,
                                     v1::ExitResponse*) {
  return Finish("Exit", engine_->Exit(request->pid()));
}

grpc::Status MemoryServiceImpl::Fork(grpc::ServerContext*, const v1::ForkRequest* request,
                                     v1::ForkResponse* response) {
  Pid child = 0;
  Status s = engine_->Fork(request->pid(), &child);
  if (s.ok()) response->set_child_pid(child);
  return Finish("Fork", s);
}

grpc::Status MemoryServiceImpl::Exec(grpc::ServerContext*, const v1::ExecRequest* request,
                                     v1::ExecResponse* response) {
  ExecImage image;
  Status s = engine_->Exec(request->pid(), request->path(), &image);
  if (s.ok()) ToProto(image, response);
  return Finish("Exec", s);
}

// ---- Mappings ----

grpc::Status MemoryServiceImpl::Mmap(grpc::ServerContext* context, const v1::MmapRequest* request,
                                     v1::MmapResponse* response) {
  uint64_t addr = 0;
  Status s = engine_->Mmap(request->pid(), FromProto(*request), &addr, CallControlFrom(*context));
  if (s.ok()) response->set_addr(addr);
  return Finish("Mmap", s);
}

grpc::Status MemoryServiceImpl::Munmap(grpc::ServerContext*, const v1::MunmapRequest* request,
                                       v1::MunmapResponse*) {
  return Finish("Munmap", engine_->Munmap(request->pid(), request->addr(), request->length()));
}

grpc::Status MemoryServiceImpl::Mprotect(grpc::ServerContext*, const v1::MprotectRequest* request,
                                         v1::MprotectResponse*) {
  return Finish("Mprotect", engine_->Mprotect(request->pid(), request->addr(), request->length(),
                                              request->prot()));
}

grpc::Status MemoryServiceImpl::Mremap(grpc::ServerContext*, const v1::MremapRequest* request,
                                       v1::MremapResponse* response) {
  uint64_t addr = 0;
  Status s = engine_->Mremap(request->pid(), request->old_addr(), request->old_size(),
                             request->new_size(), request->flags(), request->new_addr(), &addr);
  if (s.ok()) response->set_addr(addr);
  return Finish("Mremap", s);
}

grpc::Status MemoryServiceImpl::Brk(grpc::ServerContext*, const v1::BrkRequest* request,
                                    v1::BrkResponse* response) {
  uint64_t brk = 0;
  Status s = engine_->Brk(request->pid(), request->addr(), &brk);
  if (s.ok()) response->set_brk(brk);
  return Finish("Brk", s);
}

grpc::Status MemoryServiceImpl::Sbrk(grpc::ServerContext*, const v1::SbrkRequest* request,
                                     v1::SbrkResponse* response) {
  uint64_t previous = 0;
  Status s = engine_->Sbrk(request->pid(), request->increment(), &previous);
  if (s.ok()) response->set_previous(previous);
  return Finish("Sbrk", s);
}

grpc::Status MemoryServiceImpl::Mlock(grpc::ServerContext*, const v1::MlockRequest* request,
                                      v1::MlockResponse*) {
  return Finish("Mlock", engine_->Mlock(request->pid(), request->addr(), request->length()));
}

grpc::Status MemoryServiceImpl::Munlock(grpc::ServerContext*, const v1::MunlockRequest* request,
                                        v1::MunlockResponse*) {
  return Finish("Munlock", engine_->Munlock(request->pid(), request->addr(), request->length()));
}

grpc::Status MemoryServiceImpl::Mlockall(grpc::ServerContext*, const v1::MlockallRequest* request,
                                         v1::MlockallResponse*) {
  return Finish("Mlockall", engine_->Mlockall(request->pid(), request->flags()));
}

grpc::Status MemoryServiceImpl::Munlockall(grpc::ServerContext*,
                                           const v1::MunlockallRequest* request,
                                           v1::MunlockallResponse*) {
  return Finish("Munlockall", engine_->Munlockall(request->pid()));
}

grpc::Status MemoryServiceImpl::Madvise(grpc::ServerContext* context, const v1::MadviseRequest* request,
                                        v1::MadviseResponse*) {
  // An open enum: unknown advice values arrive as their number, and the
  // engine answers EINVAL for them.
  return Finish("Madvise", engine_->Madvise(request->pid(), request->addr(), request->length(),
                                            static_cast<int>(request->advice()), CallControlFrom(*context)));
}

grpc::Status MemoryServiceImpl::Msync(grpc::ServerContext*, const v1::MsyncRequest* request,
                                      v1::MsyncResponse*) {
  return Finish("Msync", engine_->Msync(request->pid(), request->addr(), request->length(),
                                        request->flags()));
}

// ---- Byte access ----

grpc::Status MemoryServiceImpl::Read(grpc::ServerContext*, const v1::ReadRequest* request,
                                     v1::ReadResponse* response) {
  // Validated before the resize below: a hostile length never allocates.
  Status s = ValidateReadLength(request->length(), engine_->options().max_io_bytes);
  if (s.ok()) {
    std::string* data = response->mutable_data();
    data->resize(request->length());
    // The engine copies straight into the response's buffer: no extra copy.
    s = engine_->Read(request->pid(), request->addr(), request->length(), data->data());
    if (!s.ok()) response->clear_data();
  }
  return Finish("Read", s);
}

grpc::Status MemoryServiceImpl::Write(grpc::ServerContext*, const v1::WriteRequest* request,
                                      v1::WriteResponse*) {
  return Finish("Write", engine_->Write(request->pid(), request->addr(), request->data()));
}

// ---- The process heap ----

grpc::Status MemoryServiceImpl::Malloc(grpc::ServerContext*, const v1::MallocRequest* request,
                                       v1::MallocResponse* response) {
  uint64_t addr = 0;
  Status s = engine_->Malloc(request->pid(), request->size(), &addr);
  if (s.ok()) response->set_addr(addr);
  return Finish("Malloc", s);
}

grpc::Status MemoryServiceImpl::Calloc(grpc::ServerContext*, const v1::CallocRequest* request,
                                       v1::MallocResponse* response) {
  uint64_t addr = 0;
  Status s = engine_->Calloc(request->pid(), request->count(), request->size(), &addr);
  if (s.ok()) response->set_addr(addr);
  return Finish("Calloc", s);
}

grpc::Status MemoryServiceImpl::Realloc(grpc::ServerContext*, const v1::ReallocRequest* request,
                                        v1::MallocResponse* response) {
  uint64_t addr = 0;
  Status s = engine_->Realloc(request->pid(), request->addr(), request->size(), &addr);
  if (s.ok()) response->set_addr(addr);
  return Finish("Realloc", s);
}

grpc::Status MemoryServiceImpl::Free(grpc::ServerContext*, const v1::FreeRequest* request,
                                     v1::FreeResponse*) {
  return Finish("Free", engine_->Free(request->pid(), request->addr()));
}

}  // namespace memserver::service
