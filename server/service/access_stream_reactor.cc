#include "server/service/access_stream_reactor.h"

#include <spdlog/spdlog.h>

#include "server/engine/engine.h"
#include "server/service/access_batch.h"
#include "server/service/memory_service.h"
#include "server/service/status_conversion.h"

namespace memserver::service {

AccessStreamReactor::AccessStreamReactor(MemoryServiceImpl* service, grpc::CallbackServerContext* context,
                                         Caller caller, CallLimiter::Ticket ticket, const Status& refused)
    : service_(service), context_(context), caller_(std::move(caller)), ticket_(std::move(ticket)) {
  if (!refused.ok()) {
    Finish(ToGrpcStatus(refused));
    return;
  }
  registered_ = service_->RegisterStream(this);
  if (!registered_) {
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down; reconnect and retry"));
    return;
  }
  StartRead(&request_);
}

void AccessStreamReactor::OnReadDone(bool ok) {
  if (!ok) return End();  // half-close (OK) or cancellation
  service_->PostStreamWork([this] { RunBatch(); });
}

void AccessStreamReactor::RunBatch() {
  // A tenant removed (SIGHUP) since the stream began loses it now.
  Status revoked = service_->auth_->Recheck(caller_);
  if (!revoked.ok()) return Finish(ToGrpcStatus(revoked));
  response_.Clear();
  response_.set_tag(request_.tag());
  Status s = ValidateAccessBatchShape(request_, service_->engine_->options().max_io_bytes);
  if (s.ok()) s = service_->CheckProcess(caller_, request_.pid());
  if (s.ok()) s = RunAccessBatch(*service_->engine_, request_, &response_);
  if (!s.ok()) {
    spdlog::debug("AccessStream: batch with tag {} rejected: {}", request_.tag(), s.ToString());
    response_.clear_results();
    ToRpcStatus(s, response_.mutable_status());
  }
  StartWrite(&response_);
}

void AccessStreamReactor::OnWriteDone(bool ok) {
  if (!ok) return End();  // the client is gone, or the call was cancelled
  ++batches_;
  StartRead(&request_);
}

void AccessStreamReactor::End() {
  if (context_->IsCancelled()) {
    spdlog::debug("AccessStream: cancelled after {} batches", batches_);
    Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the access stream was cancelled"));
    return;
  }
  Finish(grpc::Status::OK);
}

void AccessStreamReactor::OnDone() {
  if (registered_) service_->UnregisterStream(this);
  delete this;
}

}  // namespace memserver::service
