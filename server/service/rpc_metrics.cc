// RpcMetricsInterceptor: one per call, created by gRPC when the call
// arrives; records the call's latency and code when its status is sent.
#include "server/service/rpc_metrics.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace memserver::service {

namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr size_t kMaxMethodNameLength = 64;
constexpr const char* kOtherMethod = "other";

const char* CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  const int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "UNKNOWN";
}

// "/memserver.v1.Memory/Read" -> "Read"; "" when the last component is not a
// plain identifier ([A-Za-z0-9_], 1..kMaxMethodNameLength characters).
std::string_view ShortMethodName(const char* full) {
  if (full == nullptr) return {};
  std::string_view name(full);
  const size_t slash = name.rfind('/');
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  if (name.empty() || name.size() > kMaxMethodNameLength) return {};
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_';
    if (!ok) return {};
  }
  return name;
}

// Whether "/package.Service/Method" is declared by a service in the
// process's generated descriptor pool (thread-safe lookups).
bool IsDeclared(std::string_view full_name) {
  if (full_name.size() < 4 || full_name[0] != '/') return false;
  std::string dotted(full_name.substr(1));
  const size_t slash = dotted.rfind('/');
  if (slash == std::string::npos) return false;
  dotted[slash] = '.';
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(dotted) != nullptr;
}

// What the factory and every interceptor it made share; outlives them all.
class RpcMetrics {
 public:
  explicit RpcMetrics(std::shared_ptr<prometheus::Registry> registry)
      : registry_(std::move(registry)),
        calls_(prometheus::BuildCounter()
                   .Name("memserver_rpcs_total")
                   .Help("gRPC calls completed, by method and status code")
                   .Register(*registry_)),
        durations_(prometheus::BuildHistogram()
                       .Name("memserver_rpc_duration_seconds")
                       .Help("gRPC call latency from arrival to status, by method and code")
                       .Register(*registry_)) {}

  // The method label for a call to `full_name`, bounded as rpc_metrics.h says.
  std::string MethodLabel(const char* full_name) {
    const std::string_view name = ShortMethodName(full_name);
    if (name.empty()) return kOtherMethod;
    std::string label(name);
    if (IsDeclared(full_name)) return label;
    std::lock_guard<std::mutex> lock(mu_);
    if (undeclared_.count(label) > 0) return label;
    if (undeclared_.size() >= kMaxUndeclaredMethods) return kOtherMethod;
    undeclared_.insert(label);
    return label;
  }

  void Record(const std::string& method, grpc::StatusCode code, double seconds) {
    const prometheus::Labels labels = {{"method", method}, {"code", CodeName(code)}};
    calls_.Add(labels).Increment();
    durations_.Add(labels, Buckets()).Observe(seconds);
  }

 private:
  static const prometheus::Histogram::BucketBoundaries& Buckets() {
    static const prometheus::Histogram::BucketBoundaries kBuckets = {
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
        0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
    return kBuckets;
  }

  const std::shared_ptr<prometheus::Registry> registry_;  // owns the families
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& durations_;
  std::mutex mu_;
  // Labels given to undeclared methods. GUARDED_BY(mu_); <= kMaxUndeclaredMethods
  std::unordered_set<std::string> undeclared_;
};

class RpcMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(std::shared_ptr<RpcMetrics> metrics, std::string method)
      : metrics_(std::move(metrics)),
        method_(std::move(method)),
        start_(std::chrono::steady_clock::now()) {}

  // A call destroyed without a status sent was abandoned by its client.
  ~RpcMetricsInterceptor() override {
    if (!recorded_) Record(grpc::StatusCode::CANCELLED);
  }

  // gRPC runs one call's hooks one at a time, never concurrently.
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!recorded_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      Record(methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

 private:
  void Record(grpc::StatusCode code) {
    recorded_ = true;
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
    metrics_->Record(method_, code, elapsed.count());
  }

  const std::shared_ptr<RpcMetrics> metrics_;
  const std::string method_;
  const std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class RpcMetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry)
      : metrics_(std::make_shared<RpcMetrics>(std::move(registry))) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcMetricsInterceptor(metrics_, metrics_->MethodLabel(info->method()));
  }

 private:
  const std::shared_ptr<RpcMetrics> metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry) {
  return std::make_unique<RpcMetricsInterceptorFactory>(std::move(registry));
}

}  // namespace memserver::service
