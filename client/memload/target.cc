#include "client/memload/target.h"

#include <fmt/format.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "client/memload/grpc_codes.h"

namespace memserver::memload {

namespace {

// Reads are at most 1 MiB here, but leave room for a server's 4 MiB bound.
constexpr int kMaxMessageBytes = 8 << 20;

}  // namespace

Status Target::Connect(const std::string& address, int channels,
                       std::chrono::milliseconds timeout, std::unique_ptr<Target>* target,
                       const client::ConnectionOptions& connection) {
  std::unique_ptr<Target> t(new Target());
  t->address_ = address;
  t->call_timeout_ = timeout;
  const auto deadline = std::chrono::system_clock::now() + timeout;
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    std::shared_ptr<grpc::Channel> channel;
    try {
      channel = client::OpenChannel(address, connection, args);
    } catch (const std::exception& e) {
      return Status::InvalidArgument(e.what());
    }
    if (!channel->WaitForConnected(deadline)) {
      return Status::Unavailable(fmt::format(
          "cannot connect to {} (channel {} of {}): is the server running?", address, i + 1,
          channels));
    }
    t->stubs_.push_back(v1::Memory::NewStub(channel));
    t->channels_.push_back(std::move(channel));
  }
  *target = std::move(t);
  return Status::OK();
}

Target::~Target() { ExitProcesses(); }

std::unique_ptr<grpc::ClientContext> Target::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + call_timeout_);
  return context;
}

Status Target::GetGlobalStats(v1::GlobalStats* stats) {
  v1::GetStatsRequest request;
  v1::GetStatsResponse response;
  auto context = NewContext();
  grpc::Status s = stubs_.front()->GetStats(context.get(), request, &response);
  if (!s.ok()) return FromGrpcStatus(s, fmt::format("GetStats on {}", address_));
  *stats = response.global();
  return Status::OK();
}

Status Target::CreateRegions(int count, uint64_t bytes, std::vector<Region>* regions) {
  regions->clear();
  v1::Memory::Stub& stub = *stubs_.front();
  for (int i = 0; i < count; ++i) {
    v1::CreateProcessRequest create;
    create.set_name(fmt::format("memload-{}", i));
    v1::CreateProcessResponse created;
    auto context = NewContext();
    grpc::Status s = stub.CreateProcess(context.get(), create, &created);
    if (!s.ok()) return FromGrpcStatus(s, fmt::format("CreateProcess on {}", address_));
    pids_.push_back(created.pid());

    v1::MmapRequest mmap;
    mmap.set_pid(created.pid());
    mmap.set_length(bytes);
    mmap.set_prot(v1::PROT_READ | v1::PROT_WRITE);
    mmap.set_flags(v1::MAP_PRIVATE | v1::MAP_ANONYMOUS);
    v1::MmapResponse mapped;
    context = NewContext();
    s = stub.Mmap(context.get(), mmap, &mapped);
    if (!s.ok()) {
      return FromGrpcStatus(s, fmt::format("Mmap of {} bytes in pid {} on {}", bytes,
                                           created.pid(), address_));
    }
    regions->push_back(Region{created.pid(), mapped.addr(), bytes});
  }
  return Status::OK();
}

Status Target::ExitProcesses() {
  Status first;
  for (uint64_t pid : pids_) {
    v1::ExitRequest request;
    request.set_pid(pid);
    v1::ExitResponse response;
    auto context = NewContext();
    grpc::Status s = stubs_.front()->Exit(context.get(), request, &response);
    if (!s.ok() && first.ok()) first = FromGrpcStatus(s, fmt::format("Exit of pid {}", pid));
  }
  pids_.clear();
  return first;
}

}  // namespace memserver::memload
