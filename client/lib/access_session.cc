#include "client/lib/access_session.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "client/lib/batch_wire.h"
#include "client/lib/client.h"
#include "client/lib/client_stub.h"

namespace memserver::client {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Cancels `context` when an armed deadline passes. One thread, armed around
// each blocking step of the stream.
//
// Lock order: mu_ only (TryCancel is called under it and takes no lock of
// ours).
class Watchdog {
 public:
  explicit Watchdog(grpc::ClientContext* context)
      : context_(context), thread_([this] { Run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void Arm(std::chrono::milliseconds timeout) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      armed_ = SteadyClock::now() + timeout;
    }
    cv_.notify_one();
  }
  // Returns whether the deadline had passed (and the context was cancelled).
  bool Disarm() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_.reset();
    return fired_;
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      if (!armed_) {
        cv_.wait(lock);
        continue;
      }
      const SteadyClock::time_point until = *armed_;
      if (SteadyClock::now() >= until) {
        fired_ = true;
        armed_.reset();
        context_->TryCancel();
        continue;
      }
      cv_.wait_until(lock, until);
    }
  }

  grpc::ClientContext* const context_;  // borrowed: outlives the watchdog
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<SteadyClock::time_point> armed_;  // GUARDED_BY(mu_)
  bool fired_ = false;                              // GUARDED_BY(mu_)
  bool stopping_ = false;                           // GUARDED_BY(mu_)
  std::thread thread_;  // last: starts once the fields above exist
};

}  // namespace

struct AccessSession::State {
  explicit State(Client::Stub& stub)
      : timeout(stub.deadline), stream(stub.stub->AccessStream(&context)) {}

  // Ends the stream (once) and returns how it ended. When `half_close`,
  // tells the server first that no request follows.
  grpc::Status Finish(bool half_close) {
    if (finished) return final_status;
    watchdog.Arm(timeout);
    if (half_close) stream->WritesDone();
    final_status = stream->Finish();
    watchdog.Disarm();
    finished = true;
    return final_status;
  }

  // Marks the session broken by `error` and returns it for throwing.
  Error Break(Error error) {
    Finish(/*half_close=*/false);
    broken = error.what();
    return error;
  }

  const std::chrono::milliseconds timeout;
  // Declaration order matters: the context outlives the stream and the
  // watchdog, which both use it.
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AccessRequest, v1::AccessResponse>> stream;
  Watchdog watchdog{&context};
  uint64_t next_tag = 1;
  bool finished = false;
  grpc::Status final_status;
  std::string broken;  // why the session broke; empty while usable
  v1::AccessRequest request;  // reused by every Call
  v1::AccessResponse response;
};

AccessSession::AccessSession(Client& client) : state_(std::make_unique<State>(*client.stub_)) {}

AccessSession::~AccessSession() {
  try {
    Close();
  } catch (const Error&) {
    // The destructor never throws; Close() reports the same error when
    // called explicitly.
  }
}

bool AccessSession::usable() const { return !state_->finished && state_->broken.empty(); }

std::vector<OpResult> AccessSession::Call(uint64_t pid, const Batch& batch) {
  State& s = *state_;
  if (!s.broken.empty()) {
    throw Error(grpc::StatusCode::FAILED_PRECONDITION,
                "the access session is broken (" + s.broken + "); open a new one");
  }
  if (s.finished) {
    throw Error(grpc::StatusCode::FAILED_PRECONDITION, "the access session is closed");
  }

  const uint64_t tag = s.next_tag++;
  BatchToProto(pid, batch, tag, &s.request);
  s.response.Clear();
  s.watchdog.Arm(s.timeout);
  const bool answered = s.stream->Write(s.request) && s.stream->Read(&s.response);
  const bool late = s.watchdog.Disarm();
  if (late) {
    throw s.Break(Error(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "no answer on the access stream within " +
                            std::to_string(s.timeout.count()) + " ms"));
  }
  if (!answered) {
    grpc::Status status = s.Finish(/*half_close=*/false);
    if (status.ok()) {
      throw s.Break(MalformedAnswer("the server ended the access stream without answering"));
    }
    throw s.Break(Error::FromStatus(status));
  }
  if (s.response.tag() != tag) {
    throw s.Break(MalformedAnswer("answer with tag " + std::to_string(s.response.tag()) +
                                  " to the request with tag " + std::to_string(tag)));
  }
  if (s.response.has_status() && s.response.status().code() != 0) {
    throw ErrorFromRpcStatus(s.response.status());
  }
  return ResultsFromProto(batch, &s.response);
}

void AccessSession::Close() {
  State& s = *state_;
  if (s.finished) return;
  grpc::Status status = s.Finish(/*half_close=*/true);
  if (!status.ok()) throw Error::FromStatus(status);
}

}  // namespace memserver::client
