// ReactorRegistry: the live callback reactors of one kind (AccessStreams,
// health watchers) that another thread must reach: to cancel them at
// shutdown, or to tell them the serving state changed.
//
// The difficulty it solves: a reactor deletes itself in OnDone, and gRPC may
// run reactions (OnCancel, OnReadDone, even OnDone) inline inside the call
// that started them (TryCancel, StartWrite, Finish), so neither holding a
// lock across such a call nor calling it after OnDone is safe. ForEach
// therefore calls `fn` with no lock held, and Remove (from OnDone) waits
// while a ForEach runs on another thread, so a reactor ForEach is about to
// reach is never freed under it. On the ForEach thread itself (an inline
// OnDone) Remove does not wait; the reactor is simply not reached again.
//
// Thread-safety: everything is thread-safe; mu_ is a leaf lock, never held
// while `fn` runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <limits>
#include <mutex>
#include <set>
#include <thread>

namespace memserver::service {

template <typename Reactor>
class ReactorRegistry {
 public:
  // Adds `r`; false once Close() ran, or when `max` are registered.
  bool Add(Reactor* r, size_t max = std::numeric_limits<size_t>::max()) {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_ || set_.size() >= max) return false;
    set_.insert(r);
    return true;
  }
  // From r's OnDone, before it is deleted.
  void Remove(Reactor* r) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !walking_ || walker_ == std::this_thread::get_id(); });
    set_.erase(r);
    if (set_.empty()) cv_.notify_all();
  }
  // Waits until no reactor is registered, or `deadline`. True when empty.
  bool WaitEmpty(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_until(l, deadline, [&] { return set_.empty(); });
  }
  // Calls fn(r) once for every reactor registered when it is reached, one at
  // a time, with no lock held. With `close`, later Adds fail.
  void ForEach(const std::function<void(Reactor*)>& fn, bool close = false) {
    std::unique_lock<std::mutex> l(mu_);
    if (close) closed_ = true;
    cv_.wait(l, [&] { return !walking_; });
    walking_ = true;
    walker_ = std::this_thread::get_id();
    Reactor* last = nullptr;
    for (;;) {
      auto it = last == nullptr ? set_.begin() : set_.upper_bound(last);
      if (it == set_.end()) break;
      last = *it;
      l.unlock();
      fn(last);
      l.lock();
    }
    walking_ = false;
    cv_.notify_all();
  }
  size_t size() const {
    std::lock_guard<std::mutex> l(mu_);
    return set_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<Reactor*> set_;  // GUARDED_BY(mu_)
  bool closed_ = false;     // GUARDED_BY(mu_)
  bool walking_ = false;    // GUARDED_BY(mu_)
  std::thread::id walker_;  // GUARDED_BY(mu_)
};

}  // namespace memserver::service
