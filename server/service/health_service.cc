#include "server/service/health_service.h"

#include <fmt/format.h>

namespace memserver::service {

namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

std::set<std::string, std::less<>> WithServer(const std::vector<std::string>& services) {
  std::set<std::string, std::less<>> names(services.begin(), services.end());
  names.insert("");
  return names;
}

}  // namespace

HealthServiceImpl::HealthServiceImpl(const std::vector<std::string>& services)
    : services_(WithServer(services)) {}

grpc::Status HealthServiceImpl::Check(grpc::ServerContext* /*context*/,
                                      const HealthCheckRequest* request,
                                      HealthCheckResponse* response) {
  const std::string& service = request->service();
  if (service.size() > kMaxHealthServiceNameBytes) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        fmt::format("health check service name is {} bytes, over the limit of {}",
                                    service.size(), kMaxHealthServiceNameBytes));
  }
  if (!services_.contains(service)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        fmt::format("unknown service '{}': this server reports health only for "
                                    "'' (the whole server) and the services it serves",
                                    service));
  }
  response->set_status(serving() ? HealthCheckResponse::SERVING
                                 : HealthCheckResponse::NOT_SERVING);
  return grpc::Status::OK;
}

// One Watch stream. mu_ (a leaf) orders its state against BeginShutdown:
// at most one write is in flight, and a change that arrives during a write
// is sent when it completes. gRPC is never called with mu_ held (its
// reactions may run inline, see reactor_registry.h).
class HealthWatcher final : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  HealthWatcher(HealthServiceImpl* service, std::string name) : service_(service), name_(std::move(name)) {}

  void Start(const grpc::Status& refused) {
    if (!refused.ok()) return Finish(refused);
    if (!service_->watchers_.Add(this, kMaxHealthWatchers)) {
      return Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 fmt::format("this server already has {} health Watch streams open (its "
                                             "bound, or it is shutting down); poll Check instead",
                                             kMaxHealthWatchers)));
    }
    registered_ = true;
    Changed();
  }
  // The serving state may have changed: send it unless a write is in flight.
  void Changed() {
    std::unique_lock<std::mutex> l(mu_);
    if (writing_ || finished_) return;
    Act(PrepareWriteLocked(), &l);
  }
  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> l(mu_);
    writing_ = false;
    Action a = Action::kNone;
    if (!ok) {
      a = FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the watch was cancelled"));
    } else if (Current() != sent_) {
      a = PrepareWriteLocked();
    } else if (sent_ == HealthCheckResponse::NOT_SERVING && !service_->serving()) {
      a = FinishLocked(grpc::Status::OK);  // shutting down: the last word was said
    }
    Act(a, &l);
  }
  void OnCancel() override {
    std::unique_lock<std::mutex> l(mu_);
    if (writing_) return;  // its OnWriteDone(false) finishes
    Act(FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the watch was cancelled")), &l);
  }
  void OnDone() override {
    if (registered_) service_->watchers_.Remove(this);
    delete this;
  }

 private:
  enum class Action { kNone, kWrite, kFinish };
  HealthCheckResponse::ServingStatus Current() const {
    if (!service_->Known(name_)) return HealthCheckResponse::SERVICE_UNKNOWN;
    return service_->serving() ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  }
  Action PrepareWriteLocked() {
    sent_ = Current();
    response_.set_status(sent_);
    writing_ = true;
    return Action::kWrite;
  }
  Action FinishLocked(grpc::Status status) {
    if (finished_) return Action::kNone;
    finished_ = true;
    final_ = std::move(status);
    return Action::kFinish;
  }
  void Act(Action a, std::unique_lock<std::mutex>* l) {
    l->unlock();
    if (a == Action::kWrite) StartWrite(&response_);
    if (a == Action::kFinish) Finish(final_);
  }

  HealthServiceImpl* const service_;
  const std::string name_;
  bool registered_ = false;
  std::mutex mu_;
  bool writing_ = false;   // GUARDED_BY(mu_)
  bool finished_ = false;  // GUARDED_BY(mu_)
  HealthCheckResponse::ServingStatus sent_ = HealthCheckResponse::UNKNOWN;  // GUARDED_BY(mu_)
  HealthCheckResponse response_;  // written under mu_, read by gRPC while writing_
  grpc::Status final_;            // set once, under mu_
};

grpc::ServerWriteReactor<HealthCheckResponse>* HealthServiceImpl::Watch(grpc::CallbackServerContext*,
                                                                        const HealthCheckRequest* request) {
  const std::string& service = request->service();
  auto* watcher = new HealthWatcher(this, service.size() > kMaxHealthServiceNameBytes ? "" : service);
  grpc::Status refused;
  if (service.size() > kMaxHealthServiceNameBytes) {
    refused = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                           fmt::format("health check service name is {} bytes, over the limit of {}",
                                       service.size(), kMaxHealthServiceNameBytes));
  }
  watcher->Start(refused);
  return watcher;
}

void HealthServiceImpl::BeginShutdown() {
  serving_.store(false, std::memory_order_release);
  watchers_.ForEach([](HealthWatcher* w) { w->Changed(); }, /*close=*/true);
}

size_t HealthServiceImpl::watchers() { return watchers_.size(); }

}  // namespace memserver::service
