// Batched access: the unary Access call and the AccessStream session
// (server/service/access_stream_reactor.h). The batch rules (limits, per-op
// results) are in server/service/access_batch.h.
#include <boost/asio/post.hpp>

#include "server/engine/engine.h"
#include "server/service/access_batch.h"
#include "server/service/access_stream_reactor.h"
#include "server/service/memory_service.h"

namespace memserver::service {

grpc::Status MemoryServiceImpl::Access(grpc::ServerContext* context, const v1::AccessRequest* request,
                                       v1::AccessResponse* response) {
  response->set_tag(request->tag());
  return Serve("Access", context, [&](const Caller& caller) {
    // The batch's shape is judged before its pid, as RunAccessBatch does.
    MEMSERVER_RETURN_IF_ERROR(ValidateAccessBatchShape(*request, engine_->options().max_io_bytes));
    MEMSERVER_RETURN_IF_ERROR(CheckProcess(caller, request->pid()));
    return RunAccessBatch(*engine_, *request, response);
  });
}

grpc::ServerBidiReactor<v1::AccessRequest, v1::AccessResponse>* MemoryServiceImpl::AccessStream(
    grpc::CallbackServerContext* context) {
  Caller caller;
  CallLimiter::Ticket ticket;
  Status s = auth_->Authenticate(*context, &caller);
  if (s.ok()) s = limiter_->AdmitStream(context->peer(), caller, &ticket);
  return new AccessStreamReactor(this, context, std::move(caller), std::move(ticket), s);
}

bool MemoryServiceImpl::RegisterStream(AccessStreamReactor* stream) { return streams_.Add(stream); }

void MemoryServiceImpl::UnregisterStream(AccessStreamReactor* stream) { streams_.Remove(stream); }

void MemoryServiceImpl::PostStreamWork(std::function<void()> work) {
  boost::asio::post(*stream_pool_, std::move(work));
}

void MemoryServiceImpl::CancelStreams() {
  streams_.ForEach([](AccessStreamReactor* stream) { stream->Cancel(); }, /*close=*/true);
}

size_t MemoryServiceImpl::open_streams() { return streams_.size(); }

}  // namespace memserver::service
