// RpcMetricsInterceptor: one per call, created by gRPC when the call
// arrives; records the call's latency and code when its status is sent.
// Hot path (prepared method, series already made): a lookup in a table
// frozen at construction, a shared_ptr copy, one acquire load, the
// counter's add, the histogram's Observe. No label map, no Family search.
#include "server/service/rpc_metrics.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/status.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "memserver/v1/memserver.grpc.pb.h"

namespace memserver::service {

namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr size_t kMaxMethodNameLength = 64;
constexpr const char* kOtherMethod = "other";

// Indexed by grpc::StatusCode; a code outside 0..16 is counted as UNKNOWN.
constexpr const char* kCodeNames[] = {
    "OK",           "CANCELLED",          "UNKNOWN",           "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",     "ALREADY_EXISTS",    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",    "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",       "DATA_LOSS",
    "UNAUTHENTICATED"};
constexpr size_t kNumCodes = std::size(kCodeNames);

size_t CodeIndex(grpc::StatusCode code) {
  const int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(kNumCodes) ? size_t(i) : size_t(grpc::StatusCode::UNKNOWN);
}

// "/memserver.v1.Memory/Read" -> "Read"; "" when the last component is not a
// plain identifier ([A-Za-z0-9_], 1..kMaxMethodNameLength characters).
std::string_view ShortMethodName(std::string_view name) {
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

// The two series of one (method, code) label set.
struct Series {
  prometheus::Counter* calls;
  prometheus::Histogram* durations;
};

// The series of one method label, one cell per code. A cell is null until
// the first call with that code (so a scrape lists only codes seen), then
// set once and never changed.
struct MethodSeries {
  std::string_view label;  // the key of RpcMetrics::by_label_, which outlives this
  std::array<std::atomic<const Series*>, kNumCodes> by_code{};
};

struct StringHash {  // lets the tables be searched by string_view
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// What the factory and every interceptor it made share; outlives them all.
class RpcMetrics {
 public:
  RpcMetrics(std::shared_ptr<prometheus::Registry> registry,
             const std::vector<std::string>& services)
      : registry_(std::move(registry)),
        calls_(prometheus::BuildCounter()
                   .Name("memserver_rpcs_total")
                   .Help("gRPC calls completed, by method and status code")
                   .Register(*registry_)),
        durations_(prometheus::BuildHistogram()
                       .Name("memserver_rpc_duration_seconds")
                       .Help("gRPC call latency from arrival to status, by method and code")
                       .Register(*registry_)),
        prepared_(Prepare(services)) {}

  // The series of calls to `full_name` (gRPC's "/package.Service/Method",
  // may be null), labelled as rpc_metrics.h says. Lock-free for a method of
  // a prepared service; otherwise takes mu_.
  MethodSeries* Resolve(const char* full_name) {
    const std::string_view name = full_name == nullptr ? std::string_view() : full_name;
    if (auto it = prepared_.find(name); it != prepared_.end()) return it->second;
    const std::string_view label = ShortMethodName(name);
    const bool declared = !label.empty() && IsDeclared(name);  // outside mu_: may load a file
    std::lock_guard<std::mutex> lock(mu_);
    if (label.empty() || declared) return MethodSeriesLocked(label.empty() ? kOtherMethod : label);
    if (undeclared_.count(label) == 0) {
      if (undeclared_.size() >= kMaxUndeclaredMethods) return MethodSeriesLocked(kOtherMethod);
      undeclared_.emplace(label);
    }
    return MethodSeriesLocked(label);
  }

  void Record(MethodSeries& method, grpc::StatusCode code, double seconds) {
    const size_t i = CodeIndex(code);
    const Series* series = method.by_code[i].load(std::memory_order_acquire);
    if (series == nullptr) series = CreateSeries(method, i);
    series->calls->Increment();
    series->durations->Observe(seconds);
  }

 private:
  using PreparedTable = std::unordered_map<std::string, MethodSeries*, StringHash, std::equal_to<>>;

  // Every method of `services` (full names; those not in the generated pool
  // are skipped), by its full gRPC name. Methods are declared by definition.
  PreparedTable Prepare(const std::vector<std::string>& services) {
    PreparedTable table;
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& service_name : services) {
      const google::protobuf::ServiceDescriptor* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
      if (service == nullptr) continue;
      for (int i = 0; i < service->method_count(); ++i) {
        std::string full = "/" + service->full_name() + "/" + service->method(i)->name();
        const std::string_view label = ShortMethodName(full);
        MethodSeries* series = MethodSeriesLocked(label.empty() ? kOtherMethod : label);
        table.emplace(std::move(full), series);
      }
    }
    return table;
  }

  MethodSeries* MethodSeriesLocked(std::string_view label) {
    const auto [it, inserted] = by_label_.try_emplace(std::string(label));
    if (inserted) it->second.label = it->first;
    return &it->second;
  }

  const Series* CreateSeries(MethodSeries& method, size_t code) {
    std::lock_guard<std::mutex> lock(mu_);
    const Series* existing = method.by_code[code].load(std::memory_order_relaxed);
    if (existing != nullptr) return existing;  // another call won the race
    const prometheus::Labels labels = {{"method", std::string(method.label)},
                                       {"code", kCodeNames[code]}};
    const Series* series =
        &series_.emplace_back(Series{&calls_.Add(labels), &durations_.Add(labels, buckets_)});
    method.by_code[code].store(series, std::memory_order_release);
    return series;
  }

  const std::shared_ptr<prometheus::Registry> registry_;  // owns the families
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& durations_;
  const prometheus::Histogram::BucketBoundaries buckets_ = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
  std::mutex mu_;
  // Every method label seen or prepared. GUARDED_BY(mu_); nodes never move
  // or go away, so MethodSeries* handed out stay valid.
  std::map<std::string, MethodSeries, std::less<>> by_label_;
  // Labels given to undeclared methods. GUARDED_BY(mu_); <= kMaxUndeclaredMethods
  std::unordered_set<std::string, StringHash, std::equal_to<>> undeclared_;
  std::deque<Series> series_;  // GUARDED_BY(mu_); what the cells point to
  const PreparedTable prepared_;  // immutable after construction: read without mu_
};

class RpcMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(std::shared_ptr<RpcMetrics> metrics, MethodSeries* method)
      : metrics_(std::move(metrics)), method_(method), start_(std::chrono::steady_clock::now()) {}

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
    metrics_->Record(*method_, code, elapsed.count());
  }

  // Shared, not borrowed: with the async API a call can outlive the server.
  const std::shared_ptr<RpcMetrics> metrics_;
  MethodSeries* const method_;  // owned by *metrics_
  const std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class RpcMetricsInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  RpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry,
                               const std::vector<std::string>& services)
      : metrics_(std::make_shared<RpcMetrics>(std::move(registry), services)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcMetricsInterceptor(metrics_, metrics_->Resolve(info->method()));
  }

 private:
  const std::shared_ptr<RpcMetrics> metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry,
                                const std::vector<std::string>& services) {
  return std::make_unique<RpcMetricsInterceptorFactory>(std::move(registry), services);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcMetricsInterceptorFactory(std::shared_ptr<prometheus::Registry> registry) {
  return NewRpcMetricsInterceptorFactory(std::move(registry), {v1::Memory::service_full_name()});
}

}  // namespace memserver::service
