// Batched access: the unary Access call and the AccessStream session. The
// batch rules (limits, per-op results) are in server/service/access_batch.h.
#include <spdlog/spdlog.h>

#include "server/engine/engine.h"
#include "server/service/access_batch.h"
#include "server/service/memory_service.h"

namespace memserver::service {

grpc::Status MemoryServiceImpl::Access(grpc::ServerContext*, const v1::AccessRequest* request,
                                       v1::AccessResponse* response) {
  response->set_tag(request->tag());
  Status s = RunAccessBatch(*engine_, *request, response);
  return Finish("Access", s);
}

// One request is read, run and answered at a time, so answers are in
// request order by construction. The loop ends when the client half-closes
// (Read fails with no cancellation: OK), or when the call is cancelled: by
// the client, by its deadline, or by Server::Shutdown once its grace has
// passed (a blocked Read or Write then returns false). A stream therefore
// delays a graceful shutdown by at most the grace period.
grpc::Status MemoryServiceImpl::AccessStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::AccessResponse, v1::AccessRequest>* stream) {
  {
    std::lock_guard<std::mutex> l(streams_mu_);
    if (streams_closed_) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down; reconnect and retry");
    }
    streams_.insert(context);
  }
  struct Unregister {
    MemoryServiceImpl* self;
    grpc::ServerContext* context;
    ~Unregister() {
      std::lock_guard<std::mutex> l(self->streams_mu_);
      self->streams_.erase(context);
    }
  } unregister{this, context};
  v1::AccessRequest request;
  v1::AccessResponse response;
  uint64_t batches = 0;
  while (!context->IsCancelled() && stream->Read(&request)) {
    response.Clear();
    response.set_tag(request.tag());
    Status s = RunAccessBatch(*engine_, request, &response);
    if (!s.ok()) {
      spdlog::debug("AccessStream: batch with tag {} rejected: {}", request.tag(), s.ToString());
      ToRpcStatus(s, response.mutable_status());
    }
    if (!stream->Write(response)) break;  // the client is gone
    ++batches;
  }
  if (context->IsCancelled()) {
    spdlog::debug("AccessStream: cancelled after {} batches", batches);
    return grpc::Status(grpc::StatusCode::CANCELLED, "the access stream was cancelled");
  }
  return grpc::Status::OK;
}

void MemoryServiceImpl::CancelStreams() {
  std::lock_guard<std::mutex> l(streams_mu_);
  streams_closed_ = true;
  for (grpc::ServerContext* context : streams_) context->TryCancel();
}

}  // namespace memserver::service
