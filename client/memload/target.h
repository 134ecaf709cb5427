// Target: memload's connection to one server, and the processes it creates
// there.
//
//   std::unique_ptr<Target> target;
//   Status s = Target::Connect("127.0.0.1:7070", /*channels=*/4, timeout, &target);
//   s = target->CreateRegions(16, 16 << 20, &regions);  // 16 processes, one mmap each
//   ... workers use target->stub(i) ...
//   target->ExitProcesses();  // also done by the destructor
//
// Each channel has its own subchannel pool, hence its own TCP connection
// and HTTP/2 session, so workers spread over several connections.
// Thread-safety: stub() may be used by any number of threads; the other
// methods are called from one thread, with no worker running.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/memload/access_stream.h"
#include "client/lib/connection.h"
#include "memserver/v1/memserver.grpc.pb.h"
#include "server/common/status.h"

namespace memserver::memload {

class Target {
 public:
  // Unavailable when a channel is not connected within `timeout`, which is
  // also the deadline of every setup call (CreateProcess, Mmap, GetStats, Exit).
  // `connection`: TLS and token (client/lib/connection.h).
  static Status Connect(const std::string& address, int channels,
                        std::chrono::milliseconds timeout, std::unique_ptr<Target>* target,
                        const client::ConnectionOptions& connection = {});
  ~Target();  // ExitProcesses()
  Target(const Target&) = delete;
  Target& operator=(const Target&) = delete;

  const std::string& address() const { return address_; }
  int channels() const { return static_cast<int>(stubs_.size()); }
  // The stub of worker `worker`'s channel (workers are spread round-robin).
  v1::Memory::Stub& stub(int worker) { return *stubs_[static_cast<size_t>(worker) % stubs_.size()]; }

  // Global statistics (GetStats with pid 0).
  Status GetGlobalStats(v1::GlobalStats* stats);

  // Creates `count` processes named "memload-<i>" and mmaps `bytes`
  // (PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS) in each. On failure the
  // processes created so far stay recorded and are exited by ExitProcesses.
  Status CreateRegions(int count, uint64_t bytes, std::vector<Region>* regions);

  // Makes ExitProcesses exit `pid` too (a storm process whose Exit failed).
  void Adopt(uint64_t pid) { pids_.push_back(pid); }

  // Exits every process this target created or adopted, once; returns the
  // first error.
  Status ExitProcesses();

 private:
  Target() = default;
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  std::string address_;
  std::chrono::milliseconds call_timeout_{10000};
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::Memory::Stub>> stubs_;
  std::vector<uint64_t> pids_;  // created and not yet exited
};

}  // namespace memserver::memload
