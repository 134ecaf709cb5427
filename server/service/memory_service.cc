// Processes, mappings, byte access and the heap. Stats, listings and limits
// are in memory_service_stats.cc, the file store in memory_service_files.cc.
#include "server/service/memory_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <thread>

#include "server/engine/engine.h"
#include "server/service/call_control_conversion.h"
#include "server/service/proto_conversion.h"
#include "server/service/request_validation.h"
#include "server/service/status_conversion.h"

namespace memserver::service {

MemoryServiceImpl::MemoryServiceImpl(Engine* engine, const Authenticator* auth, CallLimiter* limiter,
                                     unsigned stream_threads)
    : engine_(engine),
      auth_(auth),
      limiter_(limiter),
      stream_pool_(std::make_unique<boost::asio::thread_pool>(std::max(1u, stream_threads))) {}

MemoryServiceImpl::MemoryServiceImpl(Engine* engine)
    : MemoryServiceImpl(engine, nullptr, nullptr, DefaultStreamThreads()) {
  own_auth_ = std::make_unique<Authenticator>();
  own_limiter_ = std::make_unique<CallLimiter>(CallLimits{});
  auth_ = own_auth_.get();
  limiter_ = own_limiter_.get();
}

MemoryServiceImpl::~MemoryServiceImpl() {
  CancelStreams();
  stream_pool_->join();
}

unsigned MemoryServiceImpl::DefaultStreamThreads() {
  return std::max(4u, 2 * std::max(1u, std::thread::hardware_concurrency()));
}

grpc::Status MemoryServiceImpl::Finish(const char* rpc, const Status& status) {
  if (!status.ok()) spdlog::debug("{}: {}", rpc, status.ToString());
  return ToGrpcStatus(status);
}

Status MemoryServiceImpl::Admit(const grpc::ServerContext& context, Caller* caller, CallLimiter::Ticket* ticket) {
  MEMSERVER_RETURN_IF_ERROR(auth_->Authenticate(context, caller));
  return limiter_->AdmitCall(context.peer(), *caller, ticket);
}

Status MemoryServiceImpl::CheckProcess(const Caller& caller, Pid pid) const {
  if (caller.admin) return Status::OK();  // the engine answers for a missing pid
  std::string owner;
  Status s = engine_->ProcessOwner(pid, &owner);
  // A process a crash lost is named as lost to its own tenant only.
  if (!s.ok()) return s.process_lost() && caller.MayUse(owner) ? s : Engine::NoSuchProcess(pid);
  return caller.MayUse(owner) ? Status::OK() : Engine::NoSuchProcess(pid);
}

// ---- Processes ----

grpc::Status MemoryServiceImpl::CreateProcess(grpc::ServerContext* context,
                                              const v1::CreateProcessRequest* request,
                                              v1::CreateProcessResponse* response) {
  return Serve("CreateProcess", context, [&](const Caller& caller) {
    MEMSERVER_RETURN_IF_ERROR(ValidateProcessName(request->name(), kMaxProcessNameBytes));
    if (request->lease_ms() > kMaxLeaseMs) {
      return Status::InvalidArgument(fmt::format("lease_ms {} is over the maximum of {} (30 days)",
                                                 request->lease_ms(), kMaxLeaseMs),
                                     "EINVAL");
    }
    Pid pid = 0;
    MEMSERVER_RETURN_IF_ERROR(engine_->CreateProcess(request->name(), &pid, request->lease_ms(), caller.ns));
    response->set_pid(pid);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::RenewLease(grpc::ServerContext* context, const v1::RenewLeaseRequest* request,
                                           v1::RenewLeaseResponse* response) {
  return ServeProcess("RenewLease", context, request->pid(), [&](const Caller&) {
    uint64_t lease_ms = 0;
    MEMSERVER_RETURN_IF_ERROR(engine_->RenewLease(request->pid(), &lease_ms));
    response->set_lease_ms(lease_ms);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::Exit(grpc::ServerContext* context, const v1::ExitRequest* request,
                                     v1::ExitResponse*) {
  return ServeProcess("Exit", context, request->pid(), [&](const Caller&) { return engine_->Exit(request->pid()); });
}

grpc::Status MemoryServiceImpl::Fork(grpc::ServerContext* context, const v1::ForkRequest* request,
                                     v1::ForkResponse* response) {
  return ServeProcess("Fork", context, request->pid(), [&](const Caller&) {
    Pid child = 0;
    MEMSERVER_RETURN_IF_ERROR(engine_->Fork(request->pid(), &child));
    response->set_child_pid(child);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::Exec(grpc::ServerContext* context, const v1::ExecRequest* request,
                                     v1::ExecResponse* response) {
  return ServeProcess("Exec", context, request->pid(), [&](const Caller&) {
    ExecImage image;
    MEMSERVER_RETURN_IF_ERROR(engine_->Exec(request->pid(), request->path(), &image));
    ToProto(image, response);
    return Status::OK();
  });
}

// ---- Mappings ----

grpc::Status MemoryServiceImpl::Mmap(grpc::ServerContext* context, const v1::MmapRequest* request,
                                     v1::MmapResponse* response) {
  return ServeProcess("Mmap", context, request->pid(), [&](const Caller&) {
    uint64_t addr = 0;
    MEMSERVER_RETURN_IF_ERROR(engine_->Mmap(request->pid(), FromProto(*request), &addr, CallControlFrom(*context)));
    response->set_addr(addr);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::Munmap(grpc::ServerContext* context, const v1::MunmapRequest* request,
                                       v1::MunmapResponse*) {
  return ServeProcess("Munmap", context, request->pid(), [&](const Caller&) {
    return engine_->Munmap(request->pid(), request->addr(), request->length());
  });
}

grpc::Status MemoryServiceImpl::Mprotect(grpc::ServerContext* context, const v1::MprotectRequest* request,
                                         v1::MprotectResponse*) {
  return ServeProcess("Mprotect", context, request->pid(), [&](const Caller&) {
    return engine_->Mprotect(request->pid(), request->addr(), request->length(), request->prot());
  });
}

grpc::Status MemoryServiceImpl::Mremap(grpc::ServerContext* context, const v1::MremapRequest* request,
                                       v1::MremapResponse* response) {
  return ServeProcess("Mremap", context, request->pid(), [&](const Caller&) {
    uint64_t addr = 0;
    MEMSERVER_RETURN_IF_ERROR(engine_->Mremap(request->pid(), request->old_addr(), request->old_size(),
                                              request->new_size(), request->flags(), request->new_addr(), &addr));
    response->set_addr(addr);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::Brk(grpc::ServerContext* context, const v1::BrkRequest* request,
                                    v1::BrkResponse* response) {
  return ServeProcess("Brk", context, request->pid(), [&](const Caller&) {
    uint64_t brk = 0;
    MEMSERVER_RETURN_IF_ERROR(engine_->Brk(request->pid(), request->addr(), &brk));
    response->set_brk(brk);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::Sbrk(grpc::ServerContext* context, const v1::SbrkRequest* request,
                                     v1::SbrkResponse* response) {
  return ServeProcess("Sbrk", context, request->pid(), [&](const Caller&) {
    uint64_t previous = 0;
    MEMSERVER_RETURN_IF_ERROR(engine_->Sbrk(request->pid(), request->increment(), &previous));
    response->set_previous(previous);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::Mlock(grpc::ServerContext* context, const v1::MlockRequest* request,
                                      v1::MlockResponse*) {
  return ServeProcess("Mlock", context, request->pid(), [&](const Caller&) {
    return engine_->Mlock(request->pid(), request->addr(), request->length());
  });
}

grpc::Status MemoryServiceImpl::Munlock(grpc::ServerContext* context, const v1::MunlockRequest* request,
                                        v1::MunlockResponse*) {
  return ServeProcess("Munlock", context, request->pid(), [&](const Caller&) {
    return engine_->Munlock(request->pid(), request->addr(), request->length());
  });
}

grpc::Status MemoryServiceImpl::Mlockall(grpc::ServerContext* context, const v1::MlockallRequest* request,
                                         v1::MlockallResponse*) {
  return ServeProcess("Mlockall", context, request->pid(),
                      [&](const Caller&) { return engine_->Mlockall(request->pid(), request->flags()); });
}

grpc::Status MemoryServiceImpl::Munlockall(grpc::ServerContext* context, const v1::MunlockallRequest* request,
                                           v1::MunlockallResponse*) {
  return ServeProcess("Munlockall", context, request->pid(),
                      [&](const Caller&) { return engine_->Munlockall(request->pid()); });
}

grpc::Status MemoryServiceImpl::Madvise(grpc::ServerContext* context, const v1::MadviseRequest* request,
                                        v1::MadviseResponse*) {
  // An open enum: unknown advice values arrive as their number, and the
  // engine answers EINVAL for them.
  return ServeProcess("Madvise", context, request->pid(), [&](const Caller&) {
    return engine_->Madvise(request->pid(), request->addr(), request->length(), static_cast<int>(request->advice()),
                            CallControlFrom(*context));
  });
}

grpc::Status MemoryServiceImpl::Msync(grpc::ServerContext* context, const v1::MsyncRequest* request,
                                      v1::MsyncResponse*) {
  return ServeProcess("Msync", context, request->pid(), [&](const Caller&) {
    return engine_->Msync(request->pid(), request->addr(), request->length(), request->flags());
  });
}

// ---- Byte access ----

grpc::Status MemoryServiceImpl::Read(grpc::ServerContext* context, const v1::ReadRequest* request,
                                     v1::ReadResponse* response) {
  return ServeProcess("Read", context, request->pid(), [&](const Caller&) {
    // Validated before the resize below: a hostile length never allocates.
    MEMSERVER_RETURN_IF_ERROR(ValidateReadLength(request->length(), engine_->options().max_io_bytes));
    std::string* data = response->mutable_data();
    data->resize(request->length());
    // The engine copies straight into the response's buffer: no extra copy.
    Status s = engine_->Read(request->pid(), request->addr(), request->length(), data->data());
    if (!s.ok()) response->clear_data();
    return s;
  });
}

grpc::Status MemoryServiceImpl::Write(grpc::ServerContext* context, const v1::WriteRequest* request,
                                      v1::WriteResponse*) {
  return ServeProcess("Write", context, request->pid(), [&](const Caller&) {
    return engine_->Write(request->pid(), request->addr(), request->data());
  });
}

// ---- The process heap ----

grpc::Status MemoryServiceImpl::Malloc(grpc::ServerContext* context, const v1::MallocRequest* request,
                                       v1::MallocResponse* response) {
  return ServeProcess("Malloc", context, request->pid(), [&](const Caller&) {
    uint64_t addr = 0;
    MEMSERVER_RETURN_IF_ERROR(engine_->Malloc(request->pid(), request->size(), &addr));
    response->set_addr(addr);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::Calloc(grpc::ServerContext* context, const v1::CallocRequest* request,
                                       v1::MallocResponse* response) {
  return ServeProcess("Calloc", context, request->pid(), [&](const Caller&) {
    uint64_t addr = 0;
    MEMSERVER_RETURN_IF_ERROR(engine_->Calloc(request->pid(), request->count(), request->size(), &addr));
    response->set_addr(addr);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::Realloc(grpc::ServerContext* context, const v1::ReallocRequest* request,
                                        v1::MallocResponse* response) {
  return ServeProcess("Realloc", context, request->pid(), [&](const Caller&) {
    uint64_t addr = 0;
    MEMSERVER_RETURN_IF_ERROR(engine_->Realloc(request->pid(), request->addr(), request->size(), &addr));
    response->set_addr(addr);
    return Status::OK();
  });
}

grpc::Status MemoryServiceImpl::Free(grpc::ServerContext* context, const v1::FreeRequest* request,
                                     v1::FreeResponse*) {
  return ServeProcess("Free", context, request->pid(),
                      [&](const Caller&) { return engine_->Free(request->pid(), request->addr()); });
}

}  // namespace memserver::service
