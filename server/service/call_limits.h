// CallLimiter: bounds on what one client can hold open at once, so that one
// connection or one tenant cannot take every server resource.
//
//   bound                         default  set by                          error
//   unary calls per connection    1024     --max-calls-per-connection      RESOURCE_EXHAUSTED [EAGAIN]
//   unary calls per tenant        none     the tenant's max_calls          RESOURCE_EXHAUSTED [EAGAIN]
//   AccessStreams per connection  1024     --max-streams-per-connection    RESOURCE_EXHAUSTED [EAGAIN]
//   AccessStreams per tenant      none     the tenant's max_streams        RESOURCE_EXHAUSTED [EAGAIN]
//   AccessStreams, whole server   4096     --max-streams                   RESOURCE_EXHAUSTED [EAGAIN]
//
// Each error names the bound and how to change it. A connection is known by
// its peer address (gRPC's ServerContext::peer(), "ipv4:10.0.0.7:51234"):
// every TCP connection has its own; all Unix-socket peers share one.
// HTTP/2 itself caps the streams of a connection at the sum of the two
// per-connection bounds (GRPC_ARG_MAX_CONCURRENT_STREAMS, set by Server), so
// a client past them queues instead of costing server memory.
//
// A Ticket holds one admitted call or stream and gives it back when
// destroyed. Counters of a peer or tenant with nothing in flight are
// erased: memory is proportional to what is open.
//
// Thread-safety: everything is thread-safe; mu_ is a leaf lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/common/status.h"

namespace memserver::service {

struct Caller;

struct CallLimits {
  // Unary calls in flight on one connection. Default: 1024.
  uint32_t max_calls_per_connection = 1024;
  // AccessStreams open on one connection. Default: 1024.
  uint32_t max_streams_per_connection = 1024;
  // AccessStreams open on the whole server. Default: 4096.
  uint32_t max_streams = 4096;
};

// What one tenant holds open now.
struct OpenCounts {
  uint64_t calls = 0;
  uint64_t streams = 0;
};

class CallLimiter {
 public:
  explicit CallLimiter(const CallLimits& limits) : limits_(limits) {}
  CallLimiter(const CallLimiter&) = delete;
  CallLimiter& operator=(const CallLimiter&) = delete;

  class Ticket {
   public:
    Ticket() = default;
    ~Ticket() { Reset(); }
    Ticket(Ticket&& o) noexcept { *this = std::move(o); }
    Ticket& operator=(Ticket&& o) noexcept;
    void Reset();

   private:
    friend class CallLimiter;
    CallLimiter* limiter_ = nullptr;
    bool stream_ = false;
    std::string peer_, tenant_;
  };

  // Admits one unary call (or one stream) of `caller` on connection `peer`,
  // or returns the error naming the bound it would pass.
  Status AdmitCall(const std::string& peer, const Caller& caller, Ticket* ticket);
  Status AdmitStream(const std::string& peer, const Caller& caller, Ticket* ticket);

  // Shutdown: from now on every Admit is UNAVAILABLE ("shutting down"), and
  // WaitUntilIdle returns once what was admitted has ended (or at
  // `deadline`; false then). Server::Shutdown uses it to let calls in flight
  // finish and then close every connection at once, idle ones included.
  void Close();
  bool WaitUntilIdle(std::chrono::steady_clock::time_point deadline);

  const CallLimits& limits() const { return limits_; }
  // Per tenant ("" without tenants), what is open now.
  std::map<std::string, OpenCounts> TenantCounts() const;
  uint64_t open_streams() const;

 private:
  Status Admit(const std::string& peer, const Caller& caller, bool stream, Ticket* ticket);
  void Release(const std::string& peer, const std::string& tenant, bool stream);

  const CallLimits limits_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, OpenCounts> by_peer_;    // GUARDED_BY(mu_)
  std::unordered_map<std::string, OpenCounts> by_tenant_;  // GUARDED_BY(mu_)
  uint64_t streams_ = 0;                                   // GUARDED_BY(mu_)
  uint64_t open_ = 0;                                      // GUARDED_BY(mu_): calls + streams
  bool closed_ = false;                                    // GUARDED_BY(mu_)
  std::condition_variable idle_cv_;                        // open_ reached 0
};

}  // namespace memserver::service
