// AccessSession: one AccessStream held open for many batches, for clients that
// issue many small requests (one HTTP/2 stream instead of one per call).
//
//   memserver::client::AccessSession session(client);
//   Batch batch;
//   batch.Read(a, 64);
//   std::vector<OpResult> r = session.Call(pid, batch);  // write, then read
//   // ~AccessSession half-closes the stream and waits for the server's end.
//
// Guarantees:
//   - Call sends one AccessRequest and waits for its AccessResponse: its
//     results and errors are exactly those of Client::Access (batch.h),
//     including the whole-batch refusals, which throw Error and leave the
//     session open. A malformed answer (wrong result count or read length)
//     throws INTERNAL and also leaves it open.
//   - Each Call waits at most ClientOptions::deadline for its answer; past
//     that the stream is cancelled and Call throws DEADLINE_EXCEEDED. When the
//     stream itself fails (server gone or shutting down, cancelled, an
//     answer with another tag), Call throws that Error and the session is
//     broken: every later Call throws FAILED_PRECONDITION naming the first
//     failure. As with any call, a batch whose Call failed this way may or
//     may not have run. Open a new session to go on.
//   - Close() (and the destructor) half-closes the stream and waits, at most
//     ClientOptions::deadline, for the server to end it. The destructor never
//     throws.
//
// Thread safety: one Call at a time (not safe for concurrent use; open one
// session per thread). Borrows the Client, which must outlive the session.
// Not copyable or movable. Each open session has one watchdog thread that
// enforces the per-Call deadline.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "client/lib/batch.h"

namespace memserver::client {

class Client;

class AccessSession {
 public:
  // Opens the stream. Does not wait for the server: a server that cannot be
  // reached makes the first Call throw UNAVAILABLE.
  explicit AccessSession(Client& client);
  ~AccessSession();
  AccessSession(const AccessSession&) = delete;
  AccessSession& operator=(const AccessSession&) = delete;

  // Runs `batch` on process `pid` (see the guarantees above).
  std::vector<OpResult> Call(uint64_t pid, const Batch& batch);

  // Ends the session; throws Error when the server ended the stream with an
  // error (not when it had already failed a Call). Idempotent; a Call after
  // it throws FAILED_PRECONDITION.
  void Close();

  // Open and not broken: Call may succeed.
  bool usable() const;

 private:
  struct State;  // the gRPC stream and the watchdog, access_session.cc
  std::unique_ptr<State> state_;
};

}  // namespace memserver::client
