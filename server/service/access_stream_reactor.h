// AccessStreamReactor: one AccessStream session on gRPC's callback API, so
// that an open stream costs no thread. Its states:
//
//   reading   a StartRead is pending (an idle stream: no thread, a few KiB)
//   running   a batch runs on the service's stream pool (a fixed set of
//             threads, MemoryServiceImpl's StreamPool), never on gRPC's
//   writing   its answer is being sent; then reading again
//   finished  Finish was called once; OnDone frees the reactor
//
// One request is read, run and answered at a time, so answers come in
// request order. The stream ends with OK when the client half-closes, and
// with CANCELLED when it is cancelled (by the client, its deadline, or
// Server::Shutdown through CancelStreams): a pending read or write then
// fails, and the reactor finishes. A batch that is rejected as a whole
// answers with its status in AccessResponse.status and the stream goes on,
// as before. A stream the Authenticator or the CallLimiter refuses ends at
// once with that status (UNAUTHENTICATED, RESOURCE_EXHAUSTED naming the
// bound). A batch that arrives after its tenant was removed from the
// tenants file (or its token changed) ends the stream with UNAUTHENTICATED.
#pragma once

#include <memory>

#include "memserver/v1/memserver.grpc.pb.h"
#include "server/service/auth.h"
#include "server/service/call_limits.h"

namespace memserver::service {

class MemoryServiceImpl;

class AccessStreamReactor final : public grpc::ServerBidiReactor<v1::AccessRequest, v1::AccessResponse> {
 public:
  // Starts the session, or finishes it at once with `refused` when that is
  // not OK. The reactor deletes itself in OnDone.
  AccessStreamReactor(MemoryServiceImpl* service, grpc::CallbackServerContext* context, Caller caller,
                      CallLimiter::Ticket ticket, const Status& refused);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override;

  // Asks gRPC to cancel the call (shutdown).
  void Cancel() { context_->TryCancel(); }

 private:
  void RunBatch();  // on the stream pool
  void End();

  MemoryServiceImpl* const service_;
  grpc::CallbackServerContext* const context_;
  const Caller caller_;
  CallLimiter::Ticket ticket_;
  v1::AccessRequest request_;
  v1::AccessResponse response_;
  uint64_t batches_ = 0;
  bool registered_ = false;
};

}  // namespace memserver::service
