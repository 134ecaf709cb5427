#include "client/lib/client.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "memserver/v1/memserver.grpc.pb.h"

namespace memserver::client {

namespace v1 = memserver::v1;

// The client's constants are the wire's values.
static_assert(kProtRead == v1::PROT_READ && kProtWrite == v1::PROT_WRITE &&
              kProtExec == v1::PROT_EXEC && kProtNone == v1::PROT_NONE);
static_assert(kMapShared == v1::MAP_SHARED && kMapPrivate == v1::MAP_PRIVATE &&
              kMapFixed == v1::MAP_FIXED && kMapAnonymous == v1::MAP_ANONYMOUS &&
              kMapFixedNoreplace == v1::MAP_FIXED_NOREPLACE);

struct Client::Stub {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Memory::Stub> stub;
  std::chrono::milliseconds deadline;

  // Runs one unary RPC `method` with a deadline `deadline` from now; throws
  // Error on a non-OK status.
  template <class Request, class Response>
  void Call(grpc::Status (v1::Memory::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
            const Request& request, Response* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + deadline);
    grpc::Status status = (stub.get()->*method)(&context, request, response);
    if (!status.ok()) throw Error::FromStatus(status);
  }
};

namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const ClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

ProcessStats FromProto(const v1::ProcessStats& p) {
  ProcessStats s;
  s.pid = p.pid();
  s.name = p.name();
  s.virtual_bytes = p.virtual_bytes();
  s.mappings = p.mappings();
  s.resident_pages = p.resident_pages();
  s.swapped_pages = p.swapped_pages();
  s.minor_faults = p.minor_faults();
  s.major_faults = p.major_faults();
  return s;
}

GlobalStats FromProto(const v1::GlobalStats& g) {
  GlobalStats s;
  s.page_size = g.page_size();
  s.frames_total = g.frames_total();
  s.frames_free = g.frames_free();
  s.processes = g.processes();
  s.pages = g.pages();
  s.zero_pages = g.zero_pages();
  s.swap_pages = g.swap_pages();
  s.minor_faults = g.minor_faults();
  s.major_faults = g.major_faults();
  s.page_ins = g.page_ins();
  s.page_outs = g.page_outs();
  s.evictions = g.evictions();
  s.clean_evictions = g.clean_evictions();
  s.zero_evictions = g.zero_evictions();
  s.policy = g.policy();
  return s;
}

Mapping FromProto(const v1::Mapping& m) {
  Mapping s;
  s.start = m.start();
  s.end = m.end();
  s.prot = m.prot();
  s.flags = m.flags();
  s.resident_pages = m.resident_pages();
  s.swapped_pages = m.swapped_pages();
  return s;
}

Error MalformedAnswer(const std::string& what) {
  return Error(grpc::StatusCode::INTERNAL, "malformed answer from the server: " + what);
}

}  // namespace

Client::Client(const std::string& address, ClientOptions options)
    : Client(MakeChannel(address, options), options) {}

Client::Client(std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : options_(options), stub_(std::make_unique<Stub>()) {
  stub_->stub = v1::Memory::NewStub(channel);
  stub_->deadline = options_.deadline;
  stub_->channel = std::move(channel);
}

Client::~Client() = default;


Process Client::CreateProcess(std::string_view name) {
  v1::CreateProcessRequest request;
  request.set_name(std::string(name));
  v1::CreateProcessResponse response;
  stub_->Call(&v1::Memory::Stub::CreateProcess, request, &response);
  if (response.pid() == 0) throw MalformedAnswer("CreateProcess returned pid 0");
  return Process(*this, response.pid());
}

void Client::Exit(uint64_t pid) {
  v1::ExitRequest request;
  request.set_pid(pid);
  v1::ExitResponse response;
  stub_->Call(&v1::Memory::Stub::Exit, request, &response);
}

uint64_t Client::Mmap(uint64_t pid, uint64_t addr, uint64_t length, uint32_t prot, uint32_t flags) {
  v1::MmapRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_length(length);
  request.set_prot(prot);
  request.set_flags(flags);
  v1::MmapResponse response;
  stub_->Call(&v1::Memory::Stub::Mmap, request, &response);
  if ((flags & (kMapFixed | kMapFixedNoreplace)) != 0 && response.addr() != addr) {
    throw MalformedAnswer("fixed Mmap returned another address");
  }
  return response.addr();
}

void Client::Munmap(uint64_t pid, uint64_t addr, uint64_t length) {
  v1::MunmapRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_length(length);
  v1::MunmapResponse response;
  stub_->Call(&v1::Memory::Stub::Munmap, request, &response);
}

void Client::Mprotect(uint64_t pid, uint64_t addr, uint64_t length, uint32_t prot) {
  v1::MprotectRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_length(length);
  request.set_prot(prot);
  v1::MprotectResponse response;
  stub_->Call(&v1::Memory::Stub::Mprotect, request, &response);
}

std::string Client::Read(uint64_t pid, uint64_t addr, uint64_t length) {
  v1::ReadRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_length(length);
  v1::ReadResponse response;
  stub_->Call(&v1::Memory::Stub::Read, request, &response);
  if (response.data().size() != length) {
    throw MalformedAnswer("Read returned " + std::to_string(response.data().size()) +
                          " bytes, asked for " + std::to_string(length));
  }
  return std::move(*response.mutable_data());
}

void Client::Write(uint64_t pid, uint64_t addr, std::string_view data) {
  v1::WriteRequest request;
  request.set_pid(pid);
  request.set_addr(addr);
  request.set_data(std::string(data));
  v1::WriteResponse response;
  stub_->Call(&v1::Memory::Stub::Write, request, &response);
}

Stats Client::GetStats(uint64_t pid) {
  v1::GetStatsRequest request;
  request.set_pid(pid);
  v1::GetStatsResponse response;
  stub_->Call(&v1::Memory::Stub::GetStats, request, &response);
  if (!response.has_process() || response.process().pid() != pid) {
    throw MalformedAnswer("GetStats did not return process " + std::to_string(pid));
  }
  return Stats{FromProto(response.process()), FromProto(response.global())};
}

GlobalStats Client::GetGlobalStats() {
  v1::GetStatsRequest request;  // pid 0: global stats only
  v1::GetStatsResponse response;
  stub_->Call(&v1::Memory::Stub::GetStats, request, &response);
  return FromProto(response.global());
}

std::vector<ProcessStats> Client::ListProcesses() {
  v1::ListProcessesRequest request;
  v1::ListProcessesResponse response;
  stub_->Call(&v1::Memory::Stub::ListProcesses, request, &response);
  std::vector<ProcessStats> processes;
  processes.reserve(response.processes_size());
  for (const v1::ProcessStats& p : response.processes()) processes.push_back(FromProto(p));
  return processes;
}

std::vector<Mapping> Client::ListMappings(uint64_t pid) {
  v1::ListMappingsRequest request;
  request.set_pid(pid);
  v1::ListMappingsResponse response;
  stub_->Call(&v1::Memory::Stub::ListMappings, request, &response);
  std::vector<Mapping> mappings;
  mappings.reserve(response.mappings_size());
  for (const v1::Mapping& m : response.mappings()) {
    if (m.end() <= m.start()) throw MalformedAnswer("mapping with end <= start");
    mappings.push_back(FromProto(m));
  }
  return mappings;
}

}  // namespace memserver::client
