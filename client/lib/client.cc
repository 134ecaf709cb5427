// Client: construction, processes, mappings, byte access, introspection.
// The other calls are in memory_calls.cc, heap_calls.cc and file_calls.cc.
#include "client/lib/client.h"

#include <utility>

#include "client/lib/client_stub.h"
#include "client/lib/proto_conversion.h"

namespace memserver::client {

// The client's constants are the wire's values.
static_assert(kProtRead == v1::PROT_READ && kProtWrite == v1::PROT_WRITE &&
              kProtExec == v1::PROT_EXEC && kProtNone == v1::PROT_NONE);
static_assert(kMapShared == v1::MAP_SHARED && kMapPrivate == v1::MAP_PRIVATE &&
              kMapFixed == v1::MAP_FIXED && kMapAnonymous == v1::MAP_ANONYMOUS &&
              kMapFixedNoreplace == v1::MAP_FIXED_NOREPLACE && kMapLocked == v1::MAP_LOCKED &&
              kMapPopulate == v1::MAP_POPULATE);
static_assert(kMremapMayMove == v1::MREMAP_MAYMOVE && kMremapFixed == v1::MREMAP_FIXED);
static_assert(kMsAsync == v1::MS_ASYNC && kMsInvalidate == v1::MS_INVALIDATE &&
              kMsSync == v1::MS_SYNC);
static_assert(kMclCurrent == v1::MCL_CURRENT && kMclFuture == v1::MCL_FUTURE);
static_assert(static_cast<int>(Advice::kNormal) == v1::MADV_NORMAL &&
              static_cast<int>(Advice::kRandom) == v1::MADV_RANDOM &&
              static_cast<int>(Advice::kSequential) == v1::MADV_SEQUENTIAL &&
              static_cast<int>(Advice::kWillNeed) == v1::MADV_WILLNEED &&
              static_cast<int>(Advice::kDontNeed) == v1::MADV_DONTNEED &&
              static_cast<int>(Advice::kFree) == v1::MADV_FREE &&
              static_cast<int>(Advice::kDontFork) == v1::MADV_DONTFORK &&
              static_cast<int>(Advice::kDoFork) == v1::MADV_DOFORK &&
              static_cast<int>(Advice::kWipeOnFork) == v1::MADV_WIPEONFORK &&
              static_cast<int>(Advice::kKeepOnFork) == v1::MADV_KEEPONFORK);

namespace {

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const ClientOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  return OpenChannel(address, options.connection, args);
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

Process Client::CreateProcess(std::string_view name, std::chrono::milliseconds lease) {
  if (lease.count() < 0) throw Error(grpc::StatusCode::INVALID_ARGUMENT, "a lease cannot be negative");
  v1::CreateProcessRequest request;
  request.set_name(std::string(name));
  request.set_lease_ms(static_cast<uint64_t>(lease.count()));
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

void Client::RenewLease(uint64_t pid) {
  v1::RenewLeaseRequest request;
  request.set_pid(pid);
  v1::RenewLeaseResponse response;
  stub_->Call(&v1::Memory::Stub::RenewLease, request, &response);
}

uint64_t Client::Mmap(uint64_t pid, uint64_t addr, uint64_t length, uint32_t prot, uint32_t flags) {
  MmapArgs args;
  args.addr = addr;
  args.length = length;
  args.prot = prot;
  args.flags = flags;
  return Mmap(pid, args);
}

uint64_t Client::Mmap(uint64_t pid, const MmapArgs& args) {
  v1::MmapRequest request;
  request.set_pid(pid);
  request.set_addr(args.addr);
  request.set_length(args.length);
  request.set_prot(args.prot);
  request.set_flags(args.flags);
  request.set_path(args.path);
  request.set_offset(args.offset);
  v1::MmapResponse response;
  stub_->Call(&v1::Memory::Stub::Mmap, request, &response);
  if ((args.flags & (kMapFixed | kMapFixedNoreplace)) != 0 && response.addr() != args.addr) {
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

SnapshotInfo Client::Snapshot() {
  v1::SnapshotRequest request;
  v1::SnapshotResponse response;
  stub_->Call(&v1::Memory::Stub::Snapshot, request, &response);
  SnapshotInfo info;
  info.generation = response.generation();
  info.taken_unix_ms = response.taken_unix_ms();
  info.skipped = response.skipped();
  info.processes = response.processes();
  info.pages_written = response.pages_written();
  info.records_written = response.records_written();
  info.record_bytes = response.record_bytes();
  info.capture_ms = response.capture_ms();
  info.total_ms = response.total_ms();
  return info;
}

RecoveryReport Client::GetRecovery() {
  v1::GetRecoveryRequest request;
  v1::RecoveryReport response;
  stub_->Call(&v1::Memory::Stub::GetRecovery, request, &response);
  RecoveryReport r;
  r.unclean = response.unclean();
  r.snapshot_generation = response.snapshot_generation();
  r.snapshot_unix_ms = response.snapshot_unix_ms();
  r.journal_records = response.journal_records();
  for (const v1::RecoveredProcess& p : response.restored()) {
    r.restored.push_back({p.pid(), p.name(), p.in_snapshot(), p.synced_ranges(), p.data_unix_ms()});
  }
  for (const v1::LostProcess& p : response.lost()) r.lost.emplace_back(p.pid(), p.name());
  for (const std::string& d : response.dropped()) r.dropped.push_back(d);
  r.restore_ms = response.restore_ms();
  return r;
}

std::vector<ProcessStats> Client::ListProcesses(bool all_tenants) {
  v1::ListProcessesRequest request;
  request.set_all_tenants(all_tenants);
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
