// Client: fork and exec, mremap, brk, mlock, madvise, msync and limits.
#include <string>

#include "client/lib/client.h"
#include "client/lib/client_stub.h"
#include "client/lib/proto_conversion.h"

namespace memserver::client {

Process Client::Fork(uint64_t pid) {
  v1::ForkRequest request;
  request.set_pid(pid);
  v1::ForkResponse response;
  stub_->Call(&v1::Memory::Stub::Fork, request, &response);
  if (response.child_pid() == 0 || response.child_pid() == pid) {
    throw MalformedAnswer("Fork returned child pid " + std::to_string(response.child_pid()));
  }
  return Process(*this, response.child_pid());
}

ExecImage Client::Exec(uint64_t pid, std::string_view path) {
  v1::ExecRequest request;
  request.set_pid(pid);
  request.set_path(std::string(path));
  v1::ExecResponse response;
  stub_->Call(&v1::Memory::Stub::Exec, request, &response);
  if (response.stack_bottom() >= response.stack_top() || response.segments() == 0) {
    throw MalformedAnswer("Exec returned an empty stack or no segment");
  }
  return FromProto(response);
}

uint64_t Client::Mremap(uint64_t pid, uint64_t old_addr, uint64_t old_size, uint64_t new_size,
                        uint32_t flags, uint64_t new_addr) {
  v1::MremapRequest request;
  request.set_pid(pid);
  request.set_old_addr(old_addr);
  request.set_old_size(old_size);
  request.set_new_size(new_size);
  request.set_flags(flags);
  request.set_new_addr(new_addr);
  v1::MremapResponse response;
  stub_->Call(&v1::Memory::Stub::Mremap, request, &response);
  if ((flags & kMremapMayMove) == 0 && response.addr() != old_addr) {
    throw MalformedAnswer("Mremap without MREMAP_MAYMOVE moved the mapping");
  }
  if ((flags & kMremapFixed) != 0 && response.addr() != new_addr) {
    throw MalformedAnswer("Mremap with MREMAP_FIXED returned another address");
  }
  return response.addr();
}

uint64_t Client::Brk(uint64_t pid, uint64_t addr) {
  v1::BrkRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  v1::BrkResponse response;
  stub_->Call(&v1::Memory::Stub::Brk, request, &response);
  return response.brk();
}

uint64_t Client::Sbrk(uint64_t pid, int64_t increment) {
  v1::SbrkRequest request;
  request.set_pid(pid);
  request.set_increment(increment);
  v1::SbrkResponse response;
  stub_->Call(&v1::Memory::Stub::Sbrk, request, &response);
  return response.previous();
}

void Client::Mlock(uint64_t pid, uint64_t addr, uint64_t length) {
  v1::MlockRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_length(length);
  v1::MlockResponse response;
  stub_->Call(&v1::Memory::Stub::Mlock, request, &response);
}

void Client::Munlock(uint64_t pid, uint64_t addr, uint64_t length) {
  v1::MunlockRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_length(length);
  v1::MunlockResponse response;
  stub_->Call(&v1::Memory::Stub::Munlock, request, &response);
}

void Client::Mlockall(uint64_t pid, uint32_t flags) {
  v1::MlockallRequest request;
  request.set_pid(pid);
  request.set_flags(flags);
  v1::MlockallResponse response;
  stub_->Call(&v1::Memory::Stub::Mlockall, request, &response);
}

void Client::Munlockall(uint64_t pid) {
  v1::MunlockallRequest request;
  request.set_pid(pid);
  v1::MunlockallResponse response;
  stub_->Call(&v1::Memory::Stub::Munlockall, request, &response);
}

void Client::Madvise(uint64_t pid, uint64_t addr, uint64_t length, Advice advice) {
  v1::MadviseRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_length(length);
  // An Advice value outside the enum goes out as is: the server rejects it
  // (proto3 enums are open), so the client need not.
  request.set_advice(static_cast<v1::Advice>(advice));
  v1::MadviseResponse response;
  stub_->Call(&v1::Memory::Stub::Madvise, request, &response);
}

void Client::Msync(uint64_t pid, uint64_t addr, uint64_t length, uint32_t flags) {
  v1::MsyncRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_length(length);
  request.set_flags(flags);
  v1::MsyncResponse response;
  stub_->Call(&v1::Memory::Stub::Msync, request, &response);
}

Limits Client::GetLimits(uint64_t pid) {
  v1::GetLimitsRequest request;
  request.set_pid(pid);
  v1::GetLimitsResponse response;
  stub_->Call(&v1::Memory::Stub::GetLimits, request, &response);
  Limits limits = FromProto(response.limits());
  if (!limits.as || !limits.data || !limits.stack || !limits.memlock) {
    throw MalformedAnswer("GetLimits left a limit unset");
  }
  return limits;
}

void Client::SetLimits(uint64_t pid, const Limits& limits) {
  v1::SetLimitsRequest request;
  request.set_pid(pid);
  ToProto(limits, request.mutable_limits());
  v1::SetLimitsResponse response;
  stub_->Call(&v1::Memory::Stub::SetLimits, request, &response);
}

}  // namespace memserver::client
