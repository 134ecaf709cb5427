// Engine: the background threads of time: the lease reaper and the periodic
// snapshot.
#include <chrono>

#include "server/engine/engine.h"
#include "server/engine/process.h"

namespace memserver {

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void Engine::ReapExpiredLeases() {
  const int64_t now = NowMs();
  for (auto& p : ProcessList()) {
    const int64_t deadline = p->lease_deadline_ms();
    if (deadline != 0 && deadline <= now) {
      Status s = Exit(p->pid());
      (void)s;  // NotFound: the client exited it meanwhile
    }
  }
}

void Engine::LeaseLoop() {
  std::unique_lock<std::mutex> l(lease_mu_);
  while (!stopping_) {
    int64_t next = 0;
    for (auto& p : ProcessList()) {
      const int64_t d = p->lease_deadline_ms();
      if (d != 0 && (next == 0 || d < next)) next = d;
    }
    if (next == 0) {
      lease_cv_.wait(l);  // woken by a new lease or shutdown
    } else {
      lease_cv_.wait_for(l, std::chrono::milliseconds(std::max<int64_t>(0, next - NowMs())));
    }
    if (stopping_) break;
    l.unlock();
    ReapExpiredLeases();
    l.lock();
  }
}

void Engine::SnapshotLoop() {
  const auto interval = std::chrono::milliseconds(options_.snapshot_interval_ms);
  std::unique_lock<std::mutex> l(lease_mu_);
  while (!stopping_) {
    if (snapshot_cv_.wait_for(l, interval, [this] { return stopping_; })) break;
    l.unlock();
    Status s = Snapshot();  // on failure the previous snapshot stays; retried next interval
    (void)s;
    l.lock();
  }
}

}  // namespace memserver
