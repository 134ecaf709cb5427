// Client: the server-side allocator (malloc, calloc, realloc, free).
#include "client/lib/client.h"
#include "client/lib/client_stub.h"

namespace memserver::client {

uint64_t Client::Malloc(uint64_t pid, uint64_t size) {
  v1::MallocRequest request;
  request.set_pid(pid);
  request.set_size(size);
  v1::MallocResponse response;
  stub_->Call(&v1::Memory::Stub::Malloc, request, &response);
  if (size != 0 && response.addr() == 0) throw MalformedAnswer("Malloc returned 0");
  return response.addr();
}

uint64_t Client::Calloc(uint64_t pid, uint64_t count, uint64_t size) {
  v1::CallocRequest request;
  request.set_pid(pid);
  request.set_count(count);
  request.set_size(size);
  v1::MallocResponse response;
  stub_->Call(&v1::Memory::Stub::Calloc, request, &response);
  if (count != 0 && size != 0 && response.addr() == 0) throw MalformedAnswer("Calloc returned 0");
  return response.addr();
}

uint64_t Client::Realloc(uint64_t pid, uint64_t addr, uint64_t size) {
  v1::ReallocRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_size(size);
  v1::MallocResponse response;
  stub_->Call(&v1::Memory::Stub::Realloc, request, &response);
  if (size != 0 && response.addr() == 0) throw MalformedAnswer("Realloc returned 0");
  return response.addr();
}

void Client::Free(uint64_t pid, uint64_t addr) {
  v1::FreeRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  v1::FreeResponse response;
  stub_->Call(&v1::Memory::Stub::Free, request, &response);
}

}  // namespace memserver::client
