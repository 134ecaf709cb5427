#include "server/service/call_limits.h"

#include <fmt/format.h>

#include "server/service/auth.h"

namespace memserver::service {

CallLimiter::Ticket& CallLimiter::Ticket::operator=(Ticket&& o) noexcept {
  if (this != &o) {
    Reset();
    limiter_ = o.limiter_;
    stream_ = o.stream_;
    peer_ = std::move(o.peer_);
    tenant_ = std::move(o.tenant_);
    o.limiter_ = nullptr;
  }
  return *this;
}

void CallLimiter::Ticket::Reset() {
  if (limiter_ != nullptr) limiter_->Release(peer_, tenant_, stream_);
  limiter_ = nullptr;
}

Status CallLimiter::AdmitCall(const std::string& peer, const Caller& caller, Ticket* ticket) {
  return Admit(peer, caller, /*stream=*/false, ticket);
}

Status CallLimiter::AdmitStream(const std::string& peer, const Caller& caller, Ticket* ticket) {
  return Admit(peer, caller, /*stream=*/true, ticket);
}

Status CallLimiter::Admit(const std::string& peer, const Caller& caller, bool stream, Ticket* ticket) {
  const uint64_t tenant_max =
      caller.spec == nullptr ? ~0ull : (stream ? caller.spec->max_streams : caller.spec->max_calls);
  const uint64_t peer_max = stream ? limits_.max_streams_per_connection : limits_.max_calls_per_connection;
  const char* what = stream ? "AccessStreams open" : "calls in flight";
  {
    std::lock_guard<std::mutex> l(mu_);
    OpenCounts& on_peer = by_peer_[peer];
    OpenCounts& of_tenant = by_tenant_[caller.tenant];
    uint64_t& peer_n = stream ? on_peer.streams : on_peer.calls;
    uint64_t& tenant_n = stream ? of_tenant.streams : of_tenant.calls;
    Status refused;
    if (closed_) {
      refused = Status::Unavailable("the server is shutting down; reconnect and retry");
    } else if (peer_n >= peer_max) {
      refused = Status::ResourceExhausted(
          fmt::format("this connection already has {} {} (memserverd --max-{}-per-connection); "
                      "wait for some to end or open another connection",
                      peer_n, what, stream ? "streams" : "calls"),
          "EAGAIN");
    } else if (tenant_n >= tenant_max) {
      refused = Status::ResourceExhausted(
          fmt::format("tenant '{}' already has {} {} (its {} quota in the tenants file)", caller.tenant, tenant_n,
                      what, stream ? "max_streams" : "max_calls"),
          "EAGAIN");
    } else if (stream && streams_ >= limits_.max_streams) {
      refused = Status::ResourceExhausted(
          fmt::format("the server already has {} AccessStreams open (memserverd --max-streams); "
                      "retry later or use unary Access calls",
                      streams_),
          "EAGAIN");
    }
    if (!refused.ok()) {
      if (on_peer.calls == 0 && on_peer.streams == 0) by_peer_.erase(peer);
      if (of_tenant.calls == 0 && of_tenant.streams == 0) by_tenant_.erase(caller.tenant);
      return refused;
    }
    ++peer_n;
    ++tenant_n;
    ++open_;
    if (stream) ++streams_;
  }
  ticket->Reset();
  ticket->limiter_ = this;
  ticket->stream_ = stream;
  ticket->peer_ = peer;
  ticket->tenant_ = caller.tenant;
  return Status::OK();
}

void CallLimiter::Release(const std::string& peer, const std::string& tenant, bool stream) {
  std::lock_guard<std::mutex> l(mu_);
  auto drop = [stream](std::unordered_map<std::string, OpenCounts>& map, const std::string& key) {
    auto it = map.find(key);
    if (it == map.end()) return;
    uint64_t& n = stream ? it->second.streams : it->second.calls;
    if (n > 0) --n;
    if (it->second.calls == 0 && it->second.streams == 0) map.erase(it);
  };
  drop(by_peer_, peer);
  drop(by_tenant_, tenant);
  if (stream && streams_ > 0) --streams_;
  if (open_ > 0 && --open_ == 0) idle_cv_.notify_all();
}

void CallLimiter::Close() {
  std::lock_guard<std::mutex> l(mu_);
  closed_ = true;
}

bool CallLimiter::WaitUntilIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> l(mu_);
  return idle_cv_.wait_until(l, deadline, [this] { return open_ == 0; });
}

std::map<std::string, OpenCounts> CallLimiter::TenantCounts() const {
  std::lock_guard<std::mutex> l(mu_);
  return std::map<std::string, OpenCounts>(by_tenant_.begin(), by_tenant_.end());
}

uint64_t CallLimiter::open_streams() const {
  std::lock_guard<std::mutex> l(mu_);
  return streams_;
}

}  // namespace memserver::service
